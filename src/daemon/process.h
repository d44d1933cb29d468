/*
 * Process housekeeping for tandemd: the pid file and the privilege drop.
 */
#ifndef TDM_DAEMON_PROCESS_H
#define TDM_DAEMON_PROCESS_H

#include <sys/types.h>

#include "common/error.h"

/**
 * Write our pid to `path`, refusing when it names a live process (another
 * tandemd on the same data) and replacing a stale file.  The file is
 * written atomically (temp + rename).
 * @return 0, TDM_EEXIST (a live process holds it), TDM_EIO.
 */
int daemon_pidfile_write(const char *path, struct tdm_err *err);

/** Remove the pid file if it still holds our pid. */
void daemon_pidfile_remove(const char *path);

/**
 * Give `path` and everything below it to `user` / `group` (names; either
 * may be NULL), so that the daemon can still write there after dropping
 * privileges.  A no-op when not root or when neither is given.
 * @return 0, TDM_ENOENT (unknown user/group), TDM_EIO (a chown failed).
 */
int daemon_chown_tree(const char *path, const char *user, const char *group,
		      struct tdm_err *err);

/**
 * Drop to `user` and `group` (names; either may be NULL).  A no-op when not
 * root.  Supplementary groups are reset.
 * @return 0, TDM_ENOENT (unknown user/group), TDM_EIO (the calls failed).
 */
int daemon_drop_privileges(const char *user, const char *group,
			   struct tdm_err *err);

#endif
