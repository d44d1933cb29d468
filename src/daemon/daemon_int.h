/*
 * Private to src/daemon: struct daemon, the state of one tandemd process,
 * and the functions its files share (daemon__ prefix).  Everything here
 * belongs to the loop thread, except `box`, the published status that the
 * HTTP thread reads.
 */
#ifndef TDM_DAEMON_INT_H
#define TDM_DAEMON_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/clock.h"
#include "common/conf.h"
#include "daemon/settings.h"
#include "daemon/control_server.h"
#include "daemon/daemon.h"
#include "daemon/status.h"
#include "ledger/ledger.h"
#include "raft/cluster.h"

struct daemon_http;
struct peer_client;
struct writer;
struct custody;
struct peer_cache;
struct enforce;

struct daemon {
	uv_loop_t loop;
	const struct daemon_options *opt;
	struct tdm_conf *conf;
	struct daemon_config *cfg;
	struct tdm_clock clock;            /* the leader's time for commands (DESIGN "Time") */

	struct ledger *ledger;
	struct cluster *cluster;
	struct writer *writer;
	struct peer_client *peers;
	struct custody *custody;
	struct peer_cache *pcache;         /* other nodes' status rows (cmd_status.c) */
	struct enforce *enforce;           /* the enforcer service (leader only runs it) */

	struct control_server *ctl_unix;   /* the CLIs */
	struct control_server *ctl_tcp;    /* forward listener: other nodes */
	struct daemon_http *http;
	struct daemon_status_box box;

	uv_timer_t status_timer;           /* refreshes the published status */
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t stop_timer;             /* shutdown grace period */

	/* Measurements for status. */
	uint64_t started_ms;               /* uv_now at start */
	uint64_t rate_applied, rate_ms;    /* last sample */
	double apply_rate;
	uint64_t snapshot_ms;              /* uv_now of the last snapshot taken/restored, 0 none */
	uint64_t forwarded;

	unsigned requests;                 /* control requests being served */
	bool stopping;
	uint64_t stopping_since;
	int exit_code;
};

/*- node.c: the ledger as the cluster's FSM, start and status ------------*/

/** Open state.db, start the cluster node.  0 or a code with a message. */
int daemon__node_start(struct daemon *d, struct tdm_err *err);
/** Fill a fresh status (loop thread). */
void daemon__status_fill(struct daemon *d, struct daemon_status *st);
/** Refresh the published status now. */
void daemon__status_publish(struct daemon *d);

/*- commands.c: the control dispatcher ------------------------------------*/

/** control_dispatch_fn for both listeners; ctx is the struct daemon. */
void daemon__dispatch(void *ctx, struct control_conn *conn, const struct control_request *req);

/** Reply and account for the end of a request (every command ends here). */
void daemon__reply(struct daemon *d, struct control_conn *conn, int status, const char *body);

/** printf into a malloc'd string. */
char *daemon__sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*- command handlers (cmd_*.c) ------------------------------------------------
 * Each gets the request (borrowed until it replies) and must end with
 * daemon__reply() exactly once, now or later.  Arguments are req->argv
 * from `argi` on (after the command words).
 */
typedef void (*daemon_cmd_fn)(struct daemon *d, struct control_conn *conn,
			      const struct control_request *req, int argi);

void daemon__cmd_status(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_node_info(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_verify(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_digest(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_barrier(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_add(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_remove(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_transfer(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_bench(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_test_submit(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_entry_submit(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_key_generate(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_key_list(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_key_sign(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_key_verify(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
void daemon__cmd_custody_pubkey(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);

/* The ods-enforcer grammar (cmd_enforcer.c, cmd_zonelist.c, cmd_keys.c). */
#define DAEMON_ENFORCER_CMDS(X) \
	X(policy_list) X(policy_export) X(policy_import) X(policy_purge) X(policy_resalt) \
	X(zone_list) X(zone_add) X(zone_delete) X(zone_set_policy) \
	X(zonelist_export) X(zonelist_import) X(update) \
	X(key_ds) X(key_rollover) X(enforce) X(signconf) X(queue) X(flush) X(time_leap) \
	X(repository_list) X(running) X(pool_fill) \
	X(ek_key_list) X(ek_key_export) X(ek_key_purge) X(ek_key_generate) X(ek_pool_list) \
	X(ek_backup) X(ek_rollover_list) X(ek_key_import)
#define DAEMON_DECLARE_CMD(name) \
	void daemon__cmd_##name(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
DAEMON_ENFORCER_CMDS(DAEMON_DECLARE_CMD)

/**
 * Parse "--name VALUE" pairs from argv[argi..]: `names` NULL-terminated,
 * values[k] set for names[k] when given.  On error `msg` holds a line for
 * the client.  @return 0 or TDM_EINVAL.
 */
int daemon__opt_uint(const struct control_request *req, int argi, const char *const *names,
		     uint64_t *values, char *msg, size_t cap);

/**
 * Commit a NOOP without a command id (a barrier: its index tells what is
 * committed; the state, dedupe table included, does not change).
 * @return as writer_submit_raw().
 */
int daemon__submit_noop(struct daemon *d, void (*cb)(void *, int, const struct ledger_result *,
						     const char *), void *data, struct tdm_err *err);

/** Payload length that makes a TEST entry `size` bytes long in all. */
size_t daemon__test_payload_len(size_t size);

/** Keep the other nodes' status rows warm (cmd_status.c); stop before peer_client_close(). */
void daemon__peer_cache_start(struct daemon *d);
void daemon__peer_cache_stop(struct daemon *d);

/** An option of the ods-enforcer grammar: -s / --long, with or without a value. */
struct cmd_opt {
	char shrt;
	const char *lng;
	bool has_arg;
	const char *val;   /* (out) the value, borrowed from the request */
	bool set;          /* (out) given */
};

/**
 * Parse argv[argi..] up to the end or a "--content" marker.  @return 0, or
 * TDM_EINVAL with an "error: ..." line in @p msg.
 */
int daemon__args(const struct control_request *req, int argi, struct cmd_opt *opts, size_t n,
		 char *msg, size_t cap);

/**
 * The file content tandem-enforcer appended after @p marker ("--content").
 * @param buf (out) malloc'd, NUL-terminated.  @return 0 or TDM_ENOENT.
 */
int daemon__content(const struct control_request *req, int argi, const char *marker,
		    char **buf, size_t *len);

/** Zone names are kept as written, without a trailing dot (as OpenDNSSEC); in place. */
void daemon__zone_name_trim(char *name);

/** Is JSON asked for? */
bool daemon__json(const struct control_conn *conn);

/**
 * A leader-only command found this node is not (or no longer) a ready
 * leader: forward it, or refuse with CONTROL_EXIT_UNAVAILABLE if it was
 * forwarded already.
 */
void daemon__not_leader(struct daemon *d, struct control_conn *conn, const struct control_request *req);

/** Parse a node id (1 .. 2^63).  0 on success, TDM_EINVAL. */
int daemon__parse_id(const char *s, uint64_t *id);

/*- forward.c -----------------------------------------------------------*/

/** Send the request to the leader and relay its answer to `conn`. */
void daemon__forward(struct daemon *d, struct control_conn *conn, const struct control_request *req);

/*- lifecycle (daemon.c) ----------------------------------------------------*/

/** Begin a clean shutdown (SIGTERM, `stop`). */
void daemon__stop(struct daemon *d);
/** Re-read conf.xml and apply what can change at run time (SIGHUP, `reload`). */
int daemon__reload(struct daemon *d, char *msg, size_t cap);

#endif
