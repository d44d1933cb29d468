/*
 * Real-network cluster nodes for the tests and the benchmark: each node is
 * a forked process with its own uv loop, a struct testfsm and a cluster on
 * 127.0.0.1, reporting what happens as text lines on a pipe:
 *
 *   STARTED id                      cluster_new succeeded
 *   READY id term t_ns              leader_ready (CLOCK_MONOTONIC ns)
 *   LOST id t_ns                    leader_lost
 *   DONE id count hash streams      its FSM reached the workload's count;
 *                                   streams = TCP streams tuned so far
 *   BENCH id n size secs p50_us p99_us   the submitter finished its workload
 *   FATAL id message
 *   FAILED id message               cluster_new failed
 *   STATS id max_stall_us async_ok async_failed sync lost apply_us begin_us end_us snap_us snap_cpu_us
 *                                   on SIGTERM, before closing: the loop's
 *                                   longest stall (lateness of a 10 ms uv
 *                                   timer), snapshots serialized off / on
 *                                   the loop, leadership losses seen; in
 *                                   ledger mode the longest apply,
 *                                   snapshot_begin and snapshot_end; the
 *                                   longest stay of the cluster's snapshot
 *                                   callbacks on the loop, in wall and in
 *                                   the loop thread's CPU time
 *
 * With `ledger` set the FSM is the real ledger (cluster_ledger_ops over
 * <dir>/state.db) and each workload entry is a POLICY_PUT of `size` bytes
 * of incompressible blob under its own name, so state.db grows by about
 * count x size; DONE then gives ledger_origin_last_seq and the first 8
 * bytes of ledger_digest.  `snapshot_v1` drops the two-step snapshot ops
 * (the loop-thread path, for comparison).
 *
 * Whichever node becomes leader runs the workload: entries (origin 1000,
 * seq 1..count) with a window in flight.  A later leader starts again
 * from seq 1; the FSM ignores ids it has applied, so counts stay exact.
 * SIGTERM closes the node cleanly (exit 0 if the loop closed cleanly).
 */
#ifndef TDM_TEST_NETNODE_H
#define TDM_TEST_NETNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NET_MAX 5

struct netnode_args {
	unsigned id;                /* 1..n */
	unsigned n;
	char dir[256];              /* this node's DataDirectory */
	unsigned ports[NET_MAX];
	int report_fd;
	unsigned election_ms, heartbeat_ms;
	unsigned count;             /* workload: entries */
	size_t size;                /* bytes each (multiple of 8, >= 16) */
	unsigned window;            /* in flight */
	size_t entry_hint;          /* cluster_config.entry_size_hint (0 = default 1 MiB) */
	uint64_t snapshot_budget;   /* cluster_config.snapshot_budget_bytes (0 = default) */
	bool ledger;                /* the real ledger as FSM (see above) */
	bool snapshot_v1;           /* ledger: one-step snapshots on the loop */
	int verbosity;
};

struct netcluster {
	unsigned n;
	char root[128];
	pid_t pid[NET_MAX];
	int rfd[NET_MAX];
	char buf[NET_MAX][8192];
	size_t len[NET_MAX];
	struct netnode_args args[NET_MAX];
};

/** Node main, in a child. @return the exit code. */
int netnode_run(const struct netnode_args *a);

/** Make a temp root, pick ports, fork @p n nodes from @p tmpl. @return 0 or -1. */
int netcluster_start(struct netcluster *nc, unsigned n, const struct netnode_args *tmpl);
/** (Re)start node index @p i with nc->args[i]. */
int netcluster_spawn(struct netcluster *nc, unsigned i);
/**
 * Wait for a line starting with @p prefix from any node (or from node
 * index @p only if >= 0).  @param from (out) node index.
 * @return 0, or -1 on timeout.  Other lines are consumed and dropped.
 */
int netcluster_wait_line(struct netcluster *nc, const char *prefix, int only, unsigned timeout_ms,
			 char *out, size_t cap, int *from);
/** SIGKILL node index @p i and reap it. */
void netcluster_kill(struct netcluster *nc, unsigned i);
/** SIGTERM every live node; @return number that did not exit 0 (SIGKILLed after 10 s). */
int netcluster_stop(struct netcluster *nc);
/** Stop (if needed) and remove the temp root. */
void netcluster_destroy(struct netcluster *nc);

long long netnode_now_ns(void);

#endif
