/*
 * tandemd's view of conf.xml: what the node needs from <Cluster>,
 * <Common><Logging> and <Enforcer>/<Signer><Privileges>, with Tandem's
 * defaults filled in and the derived values computed once (the forward
 * listener of every node, the pid file).
 *
 * Forward listeners.  A follower forwards write commands to the leader's
 * forward listener, a TCP port speaking the control protocol.  conf.xml
 * has no element for it yet, so every node's forward address is its Raft
 * address with the port plus one (<Listen>127.0.0.1:5400</Listen> ->
 * 127.0.0.1:5401), for this node and for every <Peer>.
 */
#ifndef TDM_DAEMON_SETTINGS_H
#define TDM_DAEMON_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/error.h"

#define DAEMON_ADDR_MAX 64

struct daemon_peer {
	uint64_t id;
	char raft[DAEMON_ADDR_MAX];     /* "a.b.c.d:port" */
	char forward[DAEMON_ADDR_MAX];  /* control frames from other nodes */
	bool witness;
};

struct daemon_config {
	const struct tdm_conf *conf;    /* borrowed; outlives this struct */
	uint64_t node_id;
	const char *data_dir;           /* borrowed from conf */
	char state_db[4096];            /* <data_dir>/state.db */
	char pid_file[4096];            /* <data_dir>/tandemd.pid unless overridden */
	char raft[DAEMON_ADDR_MAX];
	char forward[DAEMON_ADDR_MAX];
	const char *control_socket;     /* borrowed */
	const char *http;               /* borrowed, NULL = off */
	unsigned election_timeout_ms, heartbeat_ms;
	bool witness;
	const char *user, *group;       /* <Privileges>, NULL = stay */
	struct daemon_peer *peers;      /* the other nodes (this one excluded) */
	size_t n_peers;
};

/**
 * Build the daemon's configuration from a loaded conf.xml.
 * @param pid_file NULL for the default.
 * @param out (out) caller frees with daemon_config_free(); borrows `conf`.
 * @return 0, TDM_EINVAL (an address that cannot take a forward port, a
 *         peer with this node's id twice...), with a message naming the element.
 */
int daemon_config_build(const struct tdm_conf *conf, const char *pid_file,
			struct daemon_config **out, struct tdm_err *err);

void daemon_config_free(struct daemon_config *cfg);

/** The peer with id `id`, or NULL.  Borrowed. */
const struct daemon_peer *daemon_config_peer(const struct daemon_config *cfg, uint64_t id);

/**
 * The forward address of node `id` whose Raft address is `raft` (either
 * may be unknown: 0 / NULL): configured peers first, else Raft port + 1.
 * @return 0 or TDM_ENOENT.
 */
int daemon_config_forward_of(const struct daemon_config *cfg, uint64_t id,
			     const char *raft, char out[DAEMON_ADDR_MAX]);

/**
 * Which settings differ between two configurations and need a restart
 * (everything except logging verbosity and syslog facility, which SIGHUP
 * applies).  Writes a comma-separated list of element names into `out`.
 * @return true if anything needing a restart changed.
 */
bool daemon_config_needs_restart(const struct daemon_config *a, const struct daemon_config *b,
				 char *out, size_t cap);

#endif
