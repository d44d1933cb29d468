/*
 * Private to src/raft: struct cluster and the functions its files share
 * (cluster__ prefix).  The unit tests include it to drive the wrapper over
 * libraft's in-memory fixture (raft/fixture.h) in virtual time: there the
 * fixture owns struct raft and its raft_io, and the test calls
 * cluster__tick() from a fixture hook instead of the uv poll timer.
 *
 * Do not name a file in this folder uv.h or fixture.h: -I src would make
 * <raft/uv.h> resolve here.
 */
#ifndef TDM_CLUSTER_INTERNAL_H
#define TDM_CLUSTER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <raft.h>
#include <raft/uv.h>

#include "raft/cluster.h"

/* One submission, from cluster_submit() to its callback. */
struct cluster_sub {
	struct raft_apply req;     /* req.data = the sub */
	struct cluster *c;
	struct raft_buffer buf;    /* raft_malloc'd; owned by raft after raft_apply() == 0 */
	cluster_submit_cb cb;
	void *data;
	void *result;              /* FSM result stashed by the adapter for this index */
	bool has_result;
	bool in_raft;              /* handed to raft_apply */
	struct cluster_sub *next;  /* pending queue / in-flight list */
	struct cluster_sub *prev;
};

struct cluster_list {
	struct cluster_sub *head, *tail;
	unsigned n;
};

/* The keepalive wrapper around raft_uv_tcp (transport.c). */
struct cluster_transport {
	struct raft_uv_transport iface;  /* what raft_uv sees; must be first */
	struct raft_uv_transport tcp;    /* the real one */
	raft_uv_accept_cb accept_cb;
	raft_uv_transport_close_cb close_cb;
	unsigned user_timeout_ms;
	unsigned keepalive_s;
	unsigned n_streams;              /* streams tuned so far (tests read it) */
	unsigned n_tune_failures;
};

enum cluster_change_kind { CHANGE_NONE, CHANGE_ADD, CHANGE_ASSIGN, CHANGE_REMOVE };

struct cluster {
	struct raft *raft;               /* &own_raft, or a fixture server's */
	uv_loop_t *loop;                 /* NULL when bound to a fixture */
	bool fixture;

	/* Owned raft objects (loop mode). */
	struct raft own_raft;
	struct raft_io io;
	struct cluster_transport transport;
	struct raft_tracer tracer;
	bool raft_inited, io_inited, tcp_inited;

	struct raft_fsm fsm;             /* the adapter (fsm.c) */
	struct cluster_fsm_ops ops;
	void *ctx;
	struct cluster_events events;
	uint64_t skip_upto;              /* persistent FSM: entries <= this are in state already */
	uint64_t last_fsm_index;         /* last index the adapter passed to apply */
	uint64_t apply_errors;
	char fatal_msg[256];             /* why libraft stopped the node, if known */
	bool fatal_reported;

	/* Two-step snapshot in progress (fsm.c): from snapshot_begin (raft's
	 * snapshot) to snapshot_end (raft's snapshot_finalize). */
	struct {
		void *job;                   /* NULL: none out */
		uint64_t index;
		struct raft_buffer bufs[2];  /* header, payload: ours, not raft's (fsm v3) */
		uint64_t t_begin;            /* uv_hrtime() at begin */
		uint64_t write_ns;           /* duration of the write step */
		int write_rv;                /* 0, or the FSM's code (written on the worker) */
		_Atomic bool cancel;         /* closing: skip the write step */
		bool close_deferred;         /* cluster_close waits for snapshot_end */
	} snap;
	bool two_step;                   /* ops have snapshot_begin/_write/_end */
	uint64_t snap_async_ok;          /* snapshots serialized off the loop (tests, status) */
	uint64_t snap_async_failed;      /* write steps that failed or were cancelled */
	uint64_t snap_sync;              /* snapshots taken on the loop */
	uint64_t snap_loop_max_ns;       /* longest single stay of a snapshot callback on the loop */
	uint64_t snap_loop_cpu_max_ns;   /* the same in the loop thread's CPU time (not preempted) */

	/* Configuration (copied). */
	uint64_t id;
	char address[CLUSTER_ADDR_MAX];
	char *data_dir;
	bool witness;
	unsigned election_timeout_ms, heartbeat_ms, poll_ms;
	unsigned threshold, trailing;
	unsigned max_in_flight, max_queued;
	uint64_t witness_ids[CLUSTER_MAX_NODES];
	size_t n_witness;

	/* Submission (apply.c). */
	struct cluster_list pending;     /* waiting for a slot, in order */
	struct cluster_list in_flight;   /* handed to raft_apply */
	unsigned cb_depth;               /* > 0 inside a libraft callback: queue, do not call raft_* */

	/* Hand-off from worker threads (apply.c). */
	pthread_mutex_t lock;
	pthread_cond_t room;
	struct cluster_list handoff;     /* under lock */
	bool handoff_closed;             /* under lock */
	bool lock_inited;
	uv_async_t async;
	bool async_inited;

	/* Leadership (leadership.c). */
	uv_timer_t poll;
	bool poll_inited;
	int last_state;
	uint64_t leader_term;            /* term in which we are / were leader */
	bool ready;                      /* barrier committed in leader_term */
	bool announced;                  /* leader_ready was reported */
	struct raft_barrier barrier;
	bool barrier_pending;
	uint64_t barrier_term;
	struct raft_transfer transfer;
	bool transfer_pending;
	bool transfer_by_user;
	uint64_t transfer_target;
	cluster_change_cb transfer_cb;
	void *transfer_data;
	uint64_t next_witness_transfer;  /* raft time (ms) */
	uint64_t peer_seen[CLUSTER_MAX_NODES]; /* raft time a peer was last known in contact */
	uint64_t peer_seen_id[CLUSTER_MAX_NODES];

	/* Membership (membership.c). */
	struct raft_change change;
	enum cluster_change_kind change_kind;
	uint64_t change_id;
	bool change_witness;
	cluster_change_cb change_cb;
	void *change_data;

	/* Closing (node.c). */
	bool closing;
	unsigned handles_open;
	cluster_close_cb close_cb;
	void *close_data;
	int lock_fd;
};

/*- fsm.c -*/
/** Fill c->fsm with the adapter over c->ops (version 3 if the ops are two-step). */
void cluster__fsm_init(struct cluster *c);
/** Is a two-step snapshot job out (begin done, end not yet)? */
bool cluster__snapshot_busy(const struct cluster *c);
/**
 * Closing: make a write step that has not started skip its work.  If a job
 * is out, its snapshot_end runs raft_close through cluster__close_raft().
 */
void cluster__snapshot_cancel(struct cluster *c);
/**
 * Match the adapter to @p io: snapshot_async on (and io->version raised to
 * 2) if the io has async_work, off otherwise.  Before raft_init in loop
 * mode; after raft_fixture_grow in fixture mode (raft_init would refuse).
 */
void cluster__fsm_bind_io(struct cluster *c, struct raft_io *io);
/** End a job libraft will never finalize (fixture torn down mid-snapshot). */
void cluster__snapshot_abandon(struct cluster *c);

/*- node.c (close) -*/
/** raft_close() and the rest of cluster_close(), once no snapshot job is out. */
void cluster__close_raft(struct cluster *c);

/*- apply.c -*/
void cluster__list_push(struct cluster_list *l, struct cluster_sub *s);
void cluster__list_remove(struct cluster_list *l, struct cluster_sub *s);
struct cluster_sub *cluster__list_pop(struct cluster_list *l);
/** Hand queued submissions to raft while there is room; refuse them if not leader. */
void cluster__pump(struct cluster *c);
/** Fail every queued (not yet appended) submission with @p status. */
void cluster__fail_pending(struct cluster *c, int status);
/** The in-flight submission whose entry has @p index, or NULL. */
struct cluster_sub *cluster__find_in_flight(struct cluster *c, uint64_t index);
/** Move hand-off items to the pending queue (loop thread). */
void cluster__drain_handoff(struct cluster *c);
/** Close the hand-off: wake blocked workers, fail what is left. */
void cluster__close_handoff(struct cluster *c);
/** Ask the loop to run cluster__tick soon (no-op in fixture mode). */
void cluster__kick(struct cluster *c);

/*- leadership.c -*/
/** One poll: detect leadership changes, barrier, witness hand-off, pump. */
void cluster__tick(struct cluster *c);
bool cluster__is_witness(const struct cluster *c, uint64_t id);
/** Best non-witness voter other than us (by progress), or 0. */
uint64_t cluster__pick_signer(struct cluster *c);
/** Report leadership loss to the owner if it had been announced. */
void cluster__lost(struct cluster *c);
/** Raft time in ms (the io's clock: virtual in the fixture). */
uint64_t cluster__now(struct cluster *c);

/** Start a leadership transfer to @p target (0 = libraft's pick). @return 0 or a TDM code. */
int cluster__transfer_start(struct cluster *c, uint64_t target, cluster_change_cb cb, void *data);

/*- transport.c -*/
int cluster__transport_init(struct cluster_transport *t, uv_loop_t *loop,
			    unsigned user_timeout_ms, unsigned keepalive_s);
/** Release the inner transport's memory (after raft_close completed). */
void cluster__transport_close(struct cluster_transport *t);
/** Set keepalive, TCP_USER_TIMEOUT and TCP_NODELAY on a stream. @return 0 or -errno. */
int cluster__tune_stream(uv_stream_t *stream, unsigned user_timeout_ms, unsigned keepalive_s);

/*- node.c -*/
/** Apply timeouts, pre-vote and snapshot sizing to c->raft. */
void cluster__apply_settings(struct cluster *c, bool pre_vote);
/** Map a libraft code to ours. */
int cluster__code(int raft_rv);
/** Is @p address "a.b.c.d:port"? */
bool cluster__numeric_ipv4(const char *address);
/** flock <data_dir>/cluster.lock.  @return 0, TDM_EEXIST (held), TDM_EIO. */
int cluster__lock_data_dir(const char *data_dir, int *fd, struct tdm_err *err);

/*- fixture binding (tests) -*/
/**
 * A cluster object not bound to any raft yet: fixture mode.  @p cfg gives
 * id, witness, timing and sizing (addresses and directories are ignored).
 * Give cluster__fsm(c) to raft_fixture_grow(), then cluster__bind().
 */
int cluster__new_detached(struct cluster **out, const struct cluster_config *cfg,
			  const struct cluster_fsm_ops *ops, void *ctx,
			  const struct cluster_events *events);
struct raft_fsm *cluster__fsm(struct cluster *c);
/** Bind to the fixture's raft instance (after raft_fixture_grow). */
void cluster__bind(struct cluster *c, struct raft *r);
/** Free a detached cluster (after raft_fixture_close). */
void cluster__free_detached(struct cluster *c);

#endif
