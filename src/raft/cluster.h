/*
 * The cluster: Tandem's one wrapper around libraft 0.15 (Debian libraft-dev)
 * and libuv.  Nothing else in Tandem includes <raft.h>.
 *
 * What the wrapper promises (docs/cluster.md says why each rule exists;
 * notes/libraft-0.15.md has the measurements):
 *
 *  - every entry handed to libraft is a multiple of 8 bytes and at most
 *    CLUSTER_ENTRY_MAX bytes; other sizes are refused, never padded silently;
 *  - auto-recovery is off: a corrupt raft log stops the node with an alarm;
 *  - SIGPIPE is ignored process-wide (cluster_new does it);
 *  - after every election the new leader commits a barrier before it
 *    accepts writes or tells its owner "leader ready";
 *  - a node configured as witness never reports "leader ready": it hands
 *    leadership to a signing voter as soon as it has committed its barrier;
 *  - snapshot threshold and trailing are derived from a byte budget;
 *  - every TCP stream gets keepalive, TCP_USER_TIMEOUT and TCP_NODELAY;
 *  - only the loop thread calls libraft; worker threads use
 *    cluster_submit_threadsafe().
 *
 * Threads: every function here must be called on the thread running the
 * libuv loop given to cluster_new(), except cluster_submit_threadsafe().
 * Every callback runs on that thread too.
 *
 * Outcomes of a submission.  A submit callback's status is one of:
 *   0              committed and applied on this node; @result is the FSM's;
 *   TDM_ENOTLEADER the entry was never appended: safe to forward or retry;
 *   TDM_ECLUSTER   OUTCOME UNKNOWN: leadership was lost after the entry was
 *                  appended.  It may still be committed by the next leader.
 *   TDM_ESHUTDOWN  OUTCOME UNKNOWN: the node is closing.
 * After an unknown outcome the caller retries the SAME command (same
 * command id) through the current leader; the ledger ignores a command id
 * it has already applied, so the retry is safe (cluster_outcome_unknown()).
 */
#ifndef TDM_CLUSTER_H
#define TDM_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "common/conf.h"
#include "common/error.h"

/** Largest entry, header and padding included (larger commands are chunked by their producer). */
#define CLUSTER_ENTRY_MAX (1024u * 1024u)
/** Every entry length is a multiple of this (libraft 0.15 corrupts other sizes). */
#define CLUSTER_ENTRY_ALIGN 8u
/** Most nodes a configuration or status can hold. */
#define CLUSTER_MAX_NODES 16
/** Room for "a.b.c.d:port" and a NUL. */
#define CLUSTER_ADDR_MAX 64

struct cluster;

/*- the state machine --------------------------------------------------*/

/**
 * The replicated state machine the cluster drives (the ledger, or a test
 * FSM).  All callbacks run on the loop thread, in log order, on every node.
 */
struct cluster_fsm_ops {
	/**
	 * Apply the committed entry at Raft index @p index.  @p buf is borrowed
	 * for the call only.  Must be deterministic: rejections are results,
	 * not errors.  @param result (out) handed to the submitter's callback
	 * on the node that submitted the entry, then released with
	 * result_free (also when nobody waits for it).
	 * @return 0; non-zero only for a local failure (disk).  The cluster
	 *         retries at once a few times; if it still fails libraft 0.15
	 *         stops the node (events.fatal), and a restart applies the
	 *         entry again.
	 */
	int (*apply)(void *ctx, uint64_t index, const void *buf, size_t len, void **result);
	/** Release an apply result (may be NULL if results need no release). */
	void (*result_free)(void *ctx, void *result);
	/**
	 * Serialize the whole state into one buffer allocated with @p alloc,
	 * which the cluster releases.  @return 0, or non-zero to skip this
	 * snapshot (it is retried at a later threshold).  Used when the
	 * two-step snapshot below is absent.
	 */
	int (*snapshot)(void *ctx, void *(*alloc)(size_t), void **buf, size_t *len);
	/**
	 * Optional two-step snapshot, so that a large state is serialized off
	 * the loop thread (libraft's snapshot_async on the libuv threadpool)
	 * while apply goes on.  Give all three or none.
	 *
	 * snapshot_begin (loop thread, must be cheap): fix the state as of the
	 * last applied entry.  @param job (out) the FSM's job, opaque to the
	 * cluster.  @return 0, or non-zero to skip this snapshot (retried at a
	 * later threshold; nothing to end).
	 */
	int (*snapshot_begin)(void *ctx, void **job);
	/**
	 * snapshot_write (ANY thread, while apply runs on the loop): serialize
	 * the state fixed by begin into one buffer allocated with @p alloc.
	 * On 0 the cluster owns @p buf and frees it with the matching free;
	 * on failure nothing is returned.  Must not touch what apply touches
	 * except through the job.  Called at most once per job, possibly not
	 * at all (the cluster is closing).
	 * @return 0, or non-zero: the snapshot is dropped and retried at a
	 *         later threshold.
	 */
	int (*snapshot_write)(void *job, void *(*alloc)(size_t), void **buf, size_t *len);
	/**
	 * snapshot_end (loop thread): release @p job.  Called exactly once for
	 * every successful begin, after write has returned (or was skipped)
	 * and after libraft is done with the buffer.  It never frees the
	 * buffer write produced: the cluster does.
	 */
	void (*snapshot_end)(void *job);
	/**
	 * Replace the whole state with a snapshot taken at Raft index @p index.
	 * @p buf is borrowed.  @return 0, or non-zero (the state is untouched).
	 */
	int (*restore)(void *ctx, uint64_t index, const void *buf, size_t len);
	/**
	 * For a persistent FSM (state.db): the last index already in the
	 * state.  The cluster then skips entries at or below it when libraft
	 * replays the log at start, and skips a startup restore of a snapshot
	 * the state already covers.  NULL for an in-memory FSM.
	 */
	uint64_t (*applied_index)(void *ctx);
};

/**
 * The ledger as the state machine: ctx is a struct ledger * (ledger.h);
 * an apply result is a struct ledger_result * (ledger_fsm.c).  Snapshots
 * take the two-step path (ledger_snapshot_begin/_write/_end).
 */
extern const struct cluster_fsm_ops cluster_ledger_ops;

/*- events for the owner (tandemd) --------------------------------------*/

struct cluster_events {
	void *data;
	/**
	 * This node is leader of @p term and its barrier has committed: it may
	 * now act as leader (sign, publish).  Never called on a witness.
	 */
	void (*leader_ready)(struct cluster *c, void *data, uint64_t term);
	/** Leadership announced by leader_ready is gone: stop signing and publishing now. */
	void (*leader_lost)(struct cluster *c, void *data);
	/**
	 * libraft stopped this node (state "unavailable" without a close):
	 * in 0.15 an apply that keeps failing does this.  The node no longer
	 * replicates; the owner should log @p msg and restart the process
	 * (state.db resumes from its applied index).  Called once.
	 */
	void (*fatal)(struct cluster *c, void *data, const char *msg);
};

/*- configuration -------------------------------------------------------*/

/** A peer of the static (bootstrap) list. */
struct cluster_peer {
	uint64_t id;          /* > 0, stable for the life of the node */
	const char *address;  /* numeric IPv4 "a.b.c.d:port" (libraft 0.15 takes no names) */
	bool witness;         /* a voter that never signs and hands leadership on */
};

/** Everything cluster_new() needs; 0 / NULL fields take the default shown. */
struct cluster_config {
	uint64_t id;                       /* this node, > 0 */
	const char *address;               /* this node's raft address "a.b.c.d:port" */
	const char *bind_address;          /* listen on this instead ("0.0.0.0:port"), optional */
	const char *data_dir;              /* DataDirectory; raft files live in <data_dir>/raft */
	const struct cluster_peer *peers;  /* static list; may include this node */
	size_t n_peers;
	bool witness;                      /* this node is a witness */
	bool join;                         /* never bootstrap: this node is added with cluster_add */
	unsigned election_timeout_ms;      /* 1000 */
	unsigned heartbeat_ms;             /* 100 */
	bool no_pre_vote;                  /* pre-vote is on unless this is set */
	unsigned install_snapshot_timeout_ms; /* 60000 */
	unsigned connect_retry_ms;         /* 250 */
	uint64_t snapshot_budget_bytes;    /* 256 MiB: (threshold + trailing) x entry_size_hint */
	size_t entry_size_hint;            /* CLUSTER_ENTRY_MAX: the size budgets assume */
	unsigned max_in_flight;            /* 16 entries handed to libraft at once */
	unsigned max_queued;               /* 1024 more waiting in the wrapper */
	unsigned tcp_user_timeout_ms;      /* 10000 */
	unsigned tcp_keepalive_s;          /* 5 */
	unsigned poll_ms;                  /* 5: leadership polling period */
	bool trace;                        /* libraft's tracer into the debug log (also LIBRAFT_TRACE=1) */
};

/**
 * Fill @p cfg from conf.xml's <Cluster>.  Pointers borrow from @p conf, and
 * @p peers (capacity CLUSTER_MAX_NODES) receives the peer list.
 * @return 0, or TDM_ERANGE if there are too many peers.
 */
int cluster_config_from_conf(struct cluster_config *cfg, struct cluster_peer *peers,
			     const struct tdm_cluster_conf *conf);

/** Snapshot threshold and trailing (entries) that cluster_new() derives from @p cfg. */
void cluster_snapshot_sizing(const struct cluster_config *cfg, unsigned *threshold,
			     unsigned *trailing);

/*- life cycle ------------------------------------------------------------*/

/**
 * Open the node on @p loop and start it: creates <data_dir>/raft, takes
 * the lock <data_dir>/cluster.lock, loads the log (restoring the newest
 * snapshot through @p ops), bootstraps a new cluster from the static peer
 * list when the log is empty (unless cfg->join), and starts the
 * leadership poll.  @p cfg, @p ops and @p events are copied; string
 * pointers in @p cfg are copied too.
 * @param out (out) the node; release with cluster_close().
 * @return 0; TDM_EINVAL (bad configuration), TDM_EEXIST (data directory
 *         locked by another process), TDM_EIO (data directory), TDM_ECLUSTER
 *         (libraft refused to start; a corrupt log is an alarm naming the
 *         recovery), with a message in @p err.  Nothing is left running on
 *         failure.  Call it before uv_run() on @p loop: to undo a start
 *         that failed half-way it runs the loop until libraft has closed.
 */
int cluster_new(struct cluster **out, uv_loop_t *loop, const struct cluster_config *cfg,
		const struct cluster_fsm_ops *ops, void *ctx,
		const struct cluster_events *events, struct tdm_err *err);

typedef void (*cluster_close_cb)(void *data);

/**
 * Stop the node.  Pending submissions complete with TDM_ESHUTDOWN (outcome
 * unknown) or TDM_ENOTLEADER (never appended); leader_lost fires if
 * leader_ready had.  @p cb runs once every handle is closed and the node
 * is freed; the loop can then be closed.  Call once.
 */
void cluster_close(struct cluster *c, cluster_close_cb cb, void *data);

/*- submission ------------------------------------------------------------*/

/** Round @p len up to a multiple of CLUSTER_ENTRY_ALIGN. */
static inline size_t cluster_padded_len(size_t len)
{
	return (len + CLUSTER_ENTRY_ALIGN - 1) & ~(size_t)(CLUSTER_ENTRY_ALIGN - 1);
}

/** True if a submit status means "maybe applied": retry with the same command id. */
static inline bool cluster_outcome_unknown(int status)
{
	return status == TDM_ECLUSTER || status == TDM_ESHUTDOWN;
}

/** Where writes go: the current leader as this node knows it. */
struct cluster_leader {
	uint64_t id;                     /* 0 = unknown (election in progress) */
	char address[CLUSTER_ADDR_MAX];
};

/**
 * Called once per accepted submission, on the loop thread.  @p status as
 * in the file comment; @p index the entry's Raft index (0 if never
 * appended); @p result the FSM's apply result, borrowed for the call.
 */
typedef void (*cluster_submit_cb)(void *data, int status, uint64_t index, void *result);

/**
 * Submit one command (already padded by its encoder).  @p buf is copied.
 * At most max_in_flight entries are in libraft at once; up to max_queued
 * more wait in the wrapper, in order.
 * @param leader (out, may be NULL) filled when TDM_ENOTLEADER is returned.
 * @return 0 (@p cb will run exactly once); otherwise @p cb never runs:
 *         TDM_EINVAL (empty, or length not a multiple of 8),
 *         TDM_ERANGE (longer than CLUSTER_ENTRY_MAX: chunk it),
 *         TDM_ENOTLEADER (forward to @p leader),
 *         TDM_EAGAIN (leader whose barrier has not committed yet, or the
 *         queue is full: retry shortly), TDM_ESHUTDOWN.
 */
int cluster_submit(struct cluster *c, const void *buf, size_t len, cluster_submit_cb cb,
		   void *data, struct cluster_leader *leader);

/**
 * cluster_submit() for any thread.  Checks length and alignment at once,
 * copies @p buf, and blocks while max_queued submissions are already
 * waiting.  @p cb runs later on the loop thread, also for refusals
 * (TDM_ENOTLEADER, TDM_EAGAIN is never given: it waits instead).
 * Worker threads must have returned from this call before cluster_close()
 * completes (a blocked worker is woken with TDM_ESHUTDOWN by the close).
 * @return 0 (@p cb will run); TDM_EINVAL, TDM_ERANGE, TDM_ESHUTDOWN (cb never runs).
 */
int cluster_submit_threadsafe(struct cluster *c, const void *buf, size_t len,
			      cluster_submit_cb cb, void *data);

/*- leadership --------------------------------------------------------------*/

/** True once this node's post-election barrier has committed (and it is still leader). */
bool cluster_is_leader_ready(const struct cluster *c);

/** The leader as known here (id 0 if none). */
void cluster_leader_get(struct cluster *c, struct cluster_leader *leader);

/** Mark node @p id as witness or not (the ledger's NODE_ADD carries the role). */
int cluster_set_witness(struct cluster *c, uint64_t id, bool witness);

/*- membership (leader only, one change at a time) ------------------------------*/

/** @p status 0 or a TDM_ code; @p msg says what happened, borrowed for the call. */
typedef void (*cluster_change_cb)(void *data, int status, const char *msg);

/**
 * Add node @p id at @p address as a voter: raft_add (as spare), then
 * raft_assign VOTER once it has caught up.  The new node starts with an
 * empty data directory and cfg->join set.
 * @return 0 (@p cb runs once); TDM_ENOTLEADER, TDM_EAGAIN (another change is
 *         in progress), TDM_EINVAL (id 0, address not numeric IPv4:port),
 *         TDM_EEXIST (id or address already a member), with @p err set.
 */
int cluster_add(struct cluster *c, uint64_t id, const char *address, bool witness,
		cluster_change_cb cb, void *data, struct tdm_err *err);

/** Remove node @p id from the configuration.  Returns and calls back as cluster_add(). */
int cluster_remove(struct cluster *c, uint64_t id, cluster_change_cb cb, void *data,
		   struct tdm_err *err);

/**
 * Hand leadership to @p id, or with 0 to the best signing voter (never a
 * witness).  @p cb gets 0 if the target leads afterwards, TDM_ETIMEOUT if
 * not (after one election timeout).
 * @return 0; TDM_ENOTLEADER, TDM_EAGAIN (a transfer is running), TDM_ENOENT
 *         (no such voter / no eligible voter), TDM_EINVAL (target is a witness or self).
 */
int cluster_transfer(struct cluster *c, uint64_t id, cluster_change_cb cb, void *data,
		     struct tdm_err *err);

/**
 * Offline recovery after losing quorum: with the node STOPPED, force a
 * configuration in which this node is the only voter (raft_recover).  At
 * its next start it elects itself and commits a barrier.  Every other
 * node must then be wiped and re-added (docs/cluster.md, "Recover"); the
 * warning is logged and returned by cluster_recover_warning().
 * @return 0; TDM_EEXIST (the node is running: data directory locked),
 *         TDM_ECLUSTER, TDM_EIO, with @p err set.
 */
int cluster_recover(const struct cluster_config *cfg, struct tdm_err *err);

/** The operator warning printed after cluster_recover(). */
const char *cluster_recover_warning(void);

/*- status --------------------------------------------------------------------*/

enum cluster_role {
	CLUSTER_UNAVAILABLE = 0,
	CLUSTER_FOLLOWER,
	CLUSTER_CANDIDATE,
	CLUSTER_LEADER,
};

/** Membership role in the Raft configuration. */
enum cluster_member_role {
	CLUSTER_VOTER = 0,
	CLUSTER_STANDBY,   /* replicates, does not vote */
	CLUSTER_SPARE,     /* neither (a node being added) */
};

struct cluster_peer_status {
	uint64_t id;
	char address[CLUSTER_ADDR_MAX];
	enum cluster_member_role member;
	bool witness;
	bool progress_known;      /* true only on the leader */
	uint64_t match_index;     /* highest index known replicated there */
	uint64_t next_index;
	int64_t last_contact_ms;  /* ms since it was last heard from, -1 unknown (leader: to
				   * within one election timeout) */
};

struct cluster_status {
	uint64_t id;
	char address[CLUSTER_ADDR_MAX];
	enum cluster_role role;
	bool witness;
	bool leader_ready;
	uint64_t term;
	uint64_t commit_index;
	uint64_t last_applied;
	uint64_t last_index;
	uint64_t snapshot_index;  /* last index covered by the newest snapshot */
	uint64_t leader_id;       /* 0 = unknown */
	char leader_address[CLUSTER_ADDR_MAX];
	int64_t leader_contact_ms; /* follower: ms since the leader was last heard, -1 otherwise */
	unsigned election_timeout_ms, heartbeat_ms;
	unsigned snapshot_threshold, snapshot_trailing;
	unsigned in_flight, queued;
	size_t n_peers;           /* members of the configuration, this node included */
	struct cluster_peer_status peers[CLUSTER_MAX_NODES];
};

/** Fill @p st (loop thread). */
void cluster_status_get(struct cluster *c, struct cluster_status *st);

/** "leader", "follower", "candidate", "unavailable". */
const char *cluster_role_name(enum cluster_role role);

/** "voter", "standby", "spare". */
const char *cluster_member_role_name(enum cluster_member_role role);

#endif
