/*
 * The FSM adapter: libraft's struct raft_fsm (version 1) over a struct
 * cluster_fsm_ops, so the ledger never sees libraft.
 *
 * What it adds to the plain callbacks:
 *
 *  - the Raft index of each entry.  libraft 0.15 passes none to apply; it
 *    sets last_applied after each entry, so inside apply the entry's index
 *    is raft_last_applied() + 1 (undocumented but true of 0.15's
 *    replicationApply; barrier and configuration entries leave gaps, so we
 *    only check that it never goes backwards);
 *  - a 24-byte snapshot header ("TDMCSNP1", index, length) so restore
 *    knows which index a snapshot covers: libraft hands restore a bare
 *    buffer;
 *  - for a persistent FSM, skipping what state.db already holds: at start
 *    libraft restores the newest snapshot and replays every entry after
 *    it, although state.db is already further on;
 *  - result ownership: the result goes to the local submitter if one waits
 *    for this index, otherwise it is released at once.
 */
#include "raft/internal.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

#define SNAP_MAGIC "TDMCSNP1"
#define SNAP_HEADER 24
#define APPLY_ATTEMPTS 3

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
	struct cluster *c = fsm->data;
	uint64_t index = raft_last_applied(c->raft) + 1;
	struct cluster_sub *sub;
	void *res = NULL;
	int rv;

	*result = NULL;
	/* Barrier and configuration entries leave gaps; going back never. */
	if (index <= c->last_fsm_index)
		tdm_log_err("cluster node %llu: apply index %llu after %llu: "
			    "libraft's applied index went backwards",
			    (unsigned long long)c->id, (unsigned long long)index,
			    (unsigned long long)c->last_fsm_index);
	c->last_fsm_index = index;

	if (index <= c->skip_upto)
		return 0; /* state.db has it already (replay after restart) */

	/* A failed apply changed nothing (the FSM's contract).  libraft 0.15
	 * does not retry it: it turns the node UNAVAILABLE for good.  So try
	 * a few times here, then let it stop and tell the owner (tick). */
	for (int attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
		rv = c->ops.apply(c->ctx, index, buf->base, buf->len, &res);
		if (rv == 0)
			break;
		c->apply_errors++;
		tdm_log_err("cluster node %llu: apply of entry %llu failed (%s), attempt %d of %d",
			    (unsigned long long)c->id, (unsigned long long)index,
			    tdm_strerror(rv), attempt + 1, APPLY_ATTEMPTS);
	}
	if (rv != 0) {
		c->last_fsm_index = index - 1;
		snprintf(c->fatal_msg, sizeof c->fatal_msg,
			 "apply of entry %llu failed %d times (%s): libraft stopped this node; "
			 "restart it to apply the entry again",
			 (unsigned long long)index, APPLY_ATTEMPTS, tdm_strerror(rv));
		return RAFT_IOERR;
	}

	sub = c->raft->state == RAFT_LEADER ? cluster__find_in_flight(c, index) : NULL;
	if (sub != NULL) {
		sub->result = res;
		sub->has_result = true;
		*result = res;
	} else if (res != NULL && c->ops.result_free != NULL) {
		c->ops.result_free(c->ctx, res);
	}
	return 0;
}

static void *raft_alloc(size_t n)
{
	return raft_malloc(n);
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct cluster *c = fsm->data;
	uint64_t index = raft_last_applied(c->raft);
	struct raft_buffer *b;
	void *payload = NULL;
	size_t len = 0;
	int rv;

	rv = c->ops.snapshot(c->ctx, raft_alloc, &payload, &len);
	if (rv != 0) {
		tdm_log_warn("cluster node %llu: snapshot at %llu skipped: %s",
			     (unsigned long long)c->id, (unsigned long long)index,
			     tdm_strerror(rv));
		return RAFT_BUSY; /* "not now": libraft tries again later */
	}
	b = raft_calloc(2, sizeof *b);
	if (b == NULL) {
		raft_free(payload);
		return RAFT_NOMEM;
	}
	b[0].base = raft_malloc(SNAP_HEADER);
	if (b[0].base == NULL) {
		raft_free(payload);
		raft_free(b);
		return RAFT_NOMEM;
	}
	memcpy(b[0].base, SNAP_MAGIC, 8);
	put64((uint8_t *)b[0].base + 8, index);
	put64((uint8_t *)b[0].base + 16, len);
	b[0].len = SNAP_HEADER;
	b[1].base = payload;
	b[1].len = len;
	*bufs = b;
	*n_bufs = 2;
	tdm_log_info("cluster node %llu: snapshot at index %llu, %zu bytes",
		     (unsigned long long)c->id, (unsigned long long)index, len);
	return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct cluster *c = fsm->data;
	const uint8_t *p = buf->base;
	uint64_t index, len, have;
	int rv;

	if (buf->len < SNAP_HEADER || memcmp(p, SNAP_MAGIC, 8) != 0) {
		tdm_log_err("cluster node %llu: snapshot of %zu bytes has no Tandem header: "
			    "refusing to restore it", (unsigned long long)c->id, buf->len);
		return RAFT_CORRUPT;
	}
	index = get64(p + 8);
	len = get64(p + 16);
	if (len != buf->len - SNAP_HEADER) {
		tdm_log_err("cluster node %llu: snapshot at index %llu says %llu bytes, has %zu",
			    (unsigned long long)c->id, (unsigned long long)index,
			    (unsigned long long)len, buf->len - SNAP_HEADER);
		return RAFT_CORRUPT;
	}

	have = c->ops.applied_index != NULL ? c->ops.applied_index(c->ctx) : 0;
	if (c->ops.applied_index != NULL && have >= index) {
		/* Committed entries never change, so a state at index `have`
		 * equals snapshot(index) + entries index+1..have: keep it and
		 * skip the replay up to `have`. */
		tdm_log_info("cluster node %llu: state already at index %llu, "
			     "keeping it instead of snapshot %llu",
			     (unsigned long long)c->id, (unsigned long long)have,
			     (unsigned long long)index);
		c->skip_upto = have;
	} else {
		rv = c->ops.restore(c->ctx, index, p + SNAP_HEADER, (size_t)len);
		if (rv != 0) {
			tdm_log_err("cluster node %llu: restore of snapshot at index %llu failed: %s",
				    (unsigned long long)c->id, (unsigned long long)index,
				    tdm_strerror(rv));
			return RAFT_IOERR;
		}
		c->skip_upto = 0;
		tdm_log_info("cluster node %llu: restored snapshot at index %llu (%llu bytes)",
			     (unsigned long long)c->id, (unsigned long long)index,
			     (unsigned long long)len);
	}
	c->last_fsm_index = index;
	/* On success the FSM owns the buffer (raft.h, struct raft_fsm). */
	raft_free(buf->base);
	return 0;
}

void cluster__fsm_init(struct cluster *c)
{
	memset(&c->fsm, 0, sizeof c->fsm);
	c->fsm.version = 1;
	c->fsm.data = c;
	c->fsm.apply = fsm_apply;
	c->fsm.snapshot = fsm_snapshot;
	c->fsm.restore = fsm_restore;
}
