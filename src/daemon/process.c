/*
 * Pid file and privilege drop (see process.h).
 */
#define _GNU_SOURCE /* setresuid, setresgid */
#include "daemon/process.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

int daemon_pidfile_write(const char *path, struct tdm_err *err)
{
	char tmp[4096];
	pid_t old = read_pid(path);
	int fd;
	if (old > 0 && old != getpid() && (kill(old, 0) == 0 || errno == EPERM))
		return tdm_err_fail(err, TDM_EEXIST,
				    "pid file %s: process %ld is running (another tandemd?)",
				    path, (long)old);
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return tdm_err_fail(err, TDM_EIO, "pid file %s: %s", tmp, strerror(errno));
	dprintf(fd, "%ld\n", (long)getpid());
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return tdm_err_fail(err, TDM_EIO, "pid file %s: %s", path, strerror(e));
	}
	return 0;
}

void daemon_pidfile_remove(const char *path)
{
	if (path != NULL && read_pid(path) == getpid())
		unlink(path);
}

/* Look up the ids of <Privileges>; (uid_t)-1 / (gid_t)-1 when not given. */
static int lookup_ids(const char *user, const char *group, uid_t *uid, gid_t *gid,
		      struct tdm_err *err)
{
	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (user != NULL) {
		struct passwd *pw = getpwnam(user);
		if (pw == NULL)
			return tdm_err_fail(err, TDM_ENOENT, "<Privileges><User>: no user %s", user);
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (group != NULL) {
		struct group *gr = getgrnam(group);
		if (gr == NULL)
			return tdm_err_fail(err, TDM_ENOENT, "<Privileges><Group>: no group %s", group);
		*gid = gr->gr_gid;
	}
	return 0;
}

static uid_t chown_uid;
static gid_t chown_gid;
static int chown_errno;

static int chown_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (lchown(path, chown_uid, chown_gid) != 0 && chown_errno == 0)
		chown_errno = errno;
	return 0;
}

int daemon_chown_tree(const char *path, const char *user, const char *group,
		      struct tdm_err *err)
{
	int rc;
	if (geteuid() != 0 || (user == NULL && group == NULL) || path == NULL)
		return 0;
	rc = lookup_ids(user, group, &chown_uid, &chown_gid, err);
	if (rc != 0)
		return rc;
	chown_errno = 0;
	if (nftw(path, chown_one, 16, FTW_PHYS) != 0 && chown_errno == 0)
		chown_errno = errno;
	if (chown_errno != 0)
		return tdm_err_fail(err, TDM_EIO, "%s: cannot give it to %s%s%s: %s", path,
				    user ? user : "", group ? ":" : "", group ? group : "",
				    strerror(chown_errno));
	return 0;
}

int daemon_drop_privileges(const char *user, const char *group,
			   struct tdm_err *err)
{
	int rc;
	uid_t uid;
	gid_t gid;
	if (geteuid() != 0 || (user == NULL && group == NULL))
		return 0;
	rc = lookup_ids(user, group, &uid, &gid, err);
	if (rc != 0)
		return rc;
	if (gid != (gid_t)-1 && (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0))
		return tdm_err_fail(err, TDM_EIO, "cannot switch to group %ld: %s",
				    (long)gid, strerror(errno));
	if (uid != (uid_t)-1 && setresuid(uid, uid, uid) != 0)
		return tdm_err_fail(err, TDM_EIO, "cannot switch to user %s: %s", user,
				    strerror(errno));
	return 0;
}
