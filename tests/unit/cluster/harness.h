/*
 * An in-process cluster for the tests: libraft's fixture (raft/fixture.h,
 * in-memory I/O, virtual time) with one cluster wrapper per server, bound
 * in fixture mode, over a struct testfsm each (or any FSM).  A fixture hook
 * calls cluster__tick() on every live server after every event, as the uv
 * poll timer does in tandemd.
 */
#ifndef TDM_TEST_HARNESS_H
#define TDM_TEST_HARNESS_H

#include <raft.h>
#include <raft/fixture.h>

#include "raft/internal.h"
#include "testfsm.h"

#define H_MAX 6

struct harness {
	struct raft_fixture f;
	unsigned n;
	struct cluster *c[H_MAX];
	struct testfsm fsm[H_MAX];
	void *ctx[H_MAX];                /* the FSM context given to each node */
	struct cluster_config cfg;       /* template: id and witness set per node */
	uint64_t witness_mask;           /* bit i: node i+1 is a witness */
	unsigned ready[H_MAX], lost[H_MAX], fatal[H_MAX];
	uint64_t ready_term[H_MAX];
	const struct cluster_fsm_ops *ops;
};

/** Prepare @p n servers (not started).  cfg may be NULL for defaults. */
void h_setup(struct harness *h, unsigned n, const struct cluster_config *cfg,
	     uint64_t witness_mask);
/** Prepare with a caller-supplied FSM: ctx[i] per node. */
void h_setup_ops(struct harness *h, unsigned n, const struct cluster_config *cfg,
		 uint64_t witness_mask, const struct cluster_fsm_ops *ops, void **ctx);
/** Bootstrap all n as voters and start them. */
void h_start(struct harness *h);
/** Add one more (empty, unbootstrapped, started) server; returns its index. */
unsigned h_grow(struct harness *h, bool witness);
void h_teardown(struct harness *h);

/** Step until a leader is ready; returns its index or h->n on timeout. */
unsigned h_wait_ready(struct harness *h, unsigned max_ms);
/** Index of the node whose leader is ready, or h->n. */
unsigned h_ready_index(struct harness *h);
/** Step until every live server's FSM has count >= @p count. */
bool h_wait_count(struct harness *h, uint64_t count, unsigned max_ms);
/** Step until every live node's last_applied equals the leader's commit index. */
bool h_wait_converged(struct harness *h, unsigned max_ms);

/** Submit @p n entries of @p size bytes (origin, seq from first_seq) on node i;
 *  counts callbacks with status 0 in *ok. */
void h_submit_many(struct harness *h, unsigned i, uint64_t origin, uint64_t first_seq,
		   unsigned n, size_t size, unsigned *ok);

bool h_step_until(struct harness *h, bool (*pred)(struct harness *h, void *arg), void *arg,
		  unsigned max_ms);

#endif
