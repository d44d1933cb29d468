/*
 * tandemd, the node daemon, and cluster-ctl, its operator tool: the one
 * public header of src/daemon for the thin mains in src/cli.
 *
 * daemon_run() owns the process from configuration to exit: it loads
 * conf.xml, sets up logging, writes the pid file, opens state.db through
 * the ledger, starts the Raft node with the ledger as its state machine,
 * serves the control socket, the forward listener and HTTP, drops
 * privileges, and runs the libuv loop until SIGTERM/SIGINT.  Shutdown
 * loses nothing: it stops accepting, lets requests in flight finish (or
 * fails them, for a bounded time), closes Raft, then the ledger.  SIGHUP
 * re-reads conf.xml (docs/man/tandemd.8 lists what reloads).
 */
#ifndef TDM_DAEMON_H
#define TDM_DAEMON_H

#include <stdbool.h>

#define DAEMON_DEFAULT_CONF TDM_SYSCONFDIR "/tandem/conf.xml"

struct daemon_options {
	const char *conf_path;   /* conf.xml */
	const char *pid_file;    /* NULL: <DataDirectory>/tandemd.pid */
	bool join;               /* start empty and wait for `cluster-ctl add` */
	bool use_stderr;         /* log to stderr as well as syslog */
	bool no_syslog;          /* log to stderr only */
	int verbosity;           /* -1: <Logging><Verbosity> */
};

/**
 * Run tandemd until it is told to stop.
 * @return the process exit status: 0 after a clean shutdown, 1 when the
 *         node could not start or stopped on an error (logged).
 */
int daemon_run(const struct daemon_options *opt);

/**
 * cluster-ctl: parse the command line, talk to the local tandemd (or act
 * offline for `recover`), print, and return the exit status.
 */
int daemon_ctl_main(int argc, char **argv);

/**
 * tandem-enforcer: the ods-enforcer grammar sent to the local tandemd, with
 * the policy and zone list files read (and zonelist export written) here
 * (enforcer_ctl.c).  @return the exit status (0 done, 1 failed, 2 usage,
 * 3 unavailable).
 */
int daemon_enforcer_main(int argc, char **argv);

#endif
