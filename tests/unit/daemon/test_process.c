/* Pid file: written, refused while the holder lives, replaced when stale. */
#include "daemon/process.h"

#include <check.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

TCase *tcase_process(void);

START_TEST(pidfile_cycle)
{
	char dir[] = "/tmp/tdm-pid-XXXXXX", path[256];
	struct tdm_err err = { "" };
	FILE *f;
	pid_t child;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/tandemd.pid", dir);
	ck_assert_int_eq(daemon_pidfile_write(path, &err), 0);
	ck_assert_int_eq(daemon_pidfile_write(path, &err), 0); /* our own: fine */

	/* A live other process holds it: refused, named. */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	f = fopen(path, "w");
	fprintf(f, "%ld\n", (long)child);
	fclose(f);
	ck_assert_int_eq(daemon_pidfile_write(path, &err), TDM_EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "is running"));
	daemon_pidfile_remove(path); /* not ours: stays */
	ck_assert_int_eq(access(path, F_OK), 0);

	/* Stale: the holder died. */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ck_assert_int_eq(daemon_pidfile_write(path, &err), 0);
	daemon_pidfile_remove(path);
	ck_assert_int_ne(access(path, F_OK), 0);
	rmdir(dir);
}
END_TEST

START_TEST(unknown_user)
{
	struct tdm_err err = { "" };
	if (geteuid() != 0)
		return; /* a no-op for non-root by design */
	ck_assert_int_eq(daemon_drop_privileges("no-such-user-tandem", NULL, &err), TDM_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no-such-user-tandem"));
}
END_TEST

START_TEST(chown_tree)
{
	struct tdm_err err = { "" };
	char dir[] = "/tmp/tdm-chown-XXXXXX", sub[64], file[80];
	struct passwd *pw = getpwnam("nobody");
	struct stat sb;
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/raft", dir);
	snprintf(file, sizeof file, "%s/segment", sub);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	close(open(file, O_CREAT | O_WRONLY, 0600));
	ck_assert_int_eq(daemon_chown_tree(dir, NULL, NULL, &err), 0); /* nothing asked */
	if (geteuid() == 0 && pw != NULL) {
		ck_assert_int_eq(daemon_chown_tree(dir, "nobody", NULL, &err), 0);
		ck_assert_int_eq(stat(file, &sb), 0);
		ck_assert_uint_eq(sb.st_uid, pw->pw_uid);
		ck_assert_int_eq(stat(dir, &sb), 0);
		ck_assert_uint_eq(sb.st_uid, pw->pw_uid);
		ck_assert_int_eq(daemon_chown_tree(dir, "no-such-user-tandem", NULL, &err), TDM_ENOENT);
	}
	unlink(file);
	rmdir(sub);
	rmdir(dir);
}
END_TEST

TCase *tcase_process(void)
{
	TCase *tc = tcase_create("process");
	tcase_add_test(tc, pidfile_cycle);
	tcase_add_test(tc, unknown_user);
	tcase_add_test(tc, chown_tree);
	return tc;
}
