/*
 * The FSM adapter: libraft's struct raft_fsm (version 1, or version 3 for
 * ops with a two-step snapshot) over a struct cluster_fsm_ops, so the ledger
 * never sees libraft.
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
 *    for this index, otherwise it is released at once;
 *  - snapshots off the loop thread.  With ops that have the two-step
 *    snapshot (begin/write/end) the adapter is a version-3 raft_fsm:
 *
 *      snapshot           loop     begin (fix the state) + the header
 *      snapshot_async     pool     write (serialize: the slow part)
 *      snapshot_finalize  loop     free header and payload, end
 *
 *    With snapshot_finalize set libraft owns none of the buffers, so
 *    finalize frees them.  libraft calls finalize after every successful
 *    snapshot(), whatever happened next (write failed, async_work or
 *    snapshot_put refused, put done), and never starts a second snapshot
 *    or accepts an InstallSnapshot while one is pending.  A failed or
 *    cancelled write step is dropped; libraft tries again at the next
 *    threshold.  raft_uv's close waits for queued async work, but a
 *    write that finished just before raft_close would have its put
 *    issued on a closing raft_uv; so cluster_close defers raft_close
 *    until finalize has run (cluster__snapshot_cancel).
 *    Ops without the two-step snapshot keep the version-1 path: one
 *    snapshot() on the loop, buffers owned and freed by libraft.
 */
#include "raft/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* Time spent on the loop thread in a snapshot callback: wall time (what
 * heartbeats feel) and the thread's CPU time (what the callback costs,
 * whatever else runs on the machine). */
struct loop_t0 {
	uint64_t wall, cpu;
};

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct loop_t0 loop_start(void)
{
	return (struct loop_t0){ uv_hrtime(), thread_cpu_ns() };
}

static void loop_time(struct cluster *c, struct loop_t0 t0)
{
	uint64_t wall = uv_hrtime() - t0.wall, cpu = thread_cpu_ns() - t0.cpu;
	if (wall > c->snap_loop_max_ns)
		c->snap_loop_max_ns = wall;
	if (cpu > c->snap_loop_cpu_max_ns)
		c->snap_loop_cpu_max_ns = cpu;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct cluster *c = fsm->data;
	uint64_t index = raft_last_applied(c->raft);
	struct raft_buffer *b;
	void *payload = NULL;
	size_t len = 0;
	struct loop_t0 t0 = loop_start();
	int rv;

	c->snap_sync++;
	rv = c->ops.snapshot(c->ctx, raft_alloc, &payload, &len);
	loop_time(c, t0);
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

/*- two-step snapshot (fsm version 3) -*/

static void fill_header(struct raft_buffer *b, uint64_t index, uint64_t len)
{
	memcpy(b->base, SNAP_MAGIC, 8);
	put64((uint8_t *)b->base + 8, index);
	put64((uint8_t *)b->base + 16, len);
}

/* The write step; on the libuv threadpool (or inline without async_work).
 * Touches only the job and c->snap, which the loop leaves alone until
 * finalize. */
static int snap_write(struct cluster *c)
{
	void *payload = NULL;
	size_t len = 0;
	uint64_t t0 = uv_hrtime();
	int rv;

	if (atomic_load(&c->snap.cancel)) {
		c->snap.write_rv = TDM_ESHUTDOWN;
		return RAFT_CANCELED;
	}
	rv = c->ops.snapshot_write(c->snap.job, raft_alloc, &payload, &len);
	c->snap.write_ns = uv_hrtime() - t0;
	c->snap.write_rv = rv;
	if (rv != 0)
		return RAFT_IOERR;
	c->snap.bufs[1].base = payload;
	c->snap.bufs[1].len = len;
	fill_header(&c->snap.bufs[0], c->snap.index, len);
	return 0;
}

/* Free the buffers and end the job (loop thread). */
static void snap_release(struct cluster *c)
{
	void *job = c->snap.job;
	raft_free(c->snap.bufs[0].base);
	raft_free(c->snap.bufs[1].base);
	memset(c->snap.bufs, 0, sizeof c->snap.bufs);
	c->snap.job = NULL;
	c->ops.snapshot_end(job);
}

static int snapshot_begin(struct raft_fsm *fsm, struct cluster *c, struct raft_buffer *bufs[],
			  unsigned *n_bufs);

/* raft_fsm.snapshot in version 3: begin, on the loop. */
static int fsm_snapshot_begin(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct cluster *c = fsm->data;
	struct loop_t0 t0 = loop_start();
	int rv = snapshot_begin(fsm, c, bufs, n_bufs);
	loop_time(c, t0);
	return rv;
}

static int snapshot_begin(struct raft_fsm *fsm, struct cluster *c, struct raft_buffer *bufs[],
			  unsigned *n_bufs)
{
	uint64_t index = raft_last_applied(c->raft);
	void *job = NULL;
	int rv;

	tdm_log_debug("cluster node %llu: snapshot at %llu requested%s", (unsigned long long)c->id,
		      (unsigned long long)index, c->snap.job != NULL ? " (one is out: busy)" : "");
	if (c->closing || c->snap.job != NULL)
		return RAFT_BUSY;
	if (index < c->skip_upto)
		return RAFT_BUSY; /* state is ahead of raft (replay): it is not snapshot(index) */
	c->snap.bufs[0].base = raft_malloc(SNAP_HEADER);
	if (c->snap.bufs[0].base == NULL)
		return RAFT_NOMEM;
	c->snap.bufs[0].len = SNAP_HEADER;
	rv = c->ops.snapshot_begin(c->ctx, &job);
	if (rv != 0) {
		raft_free(c->snap.bufs[0].base);
		c->snap.bufs[0].base = NULL;
		tdm_log_warn("cluster node %llu: snapshot at %llu skipped: %s",
			     (unsigned long long)c->id, (unsigned long long)index,
			     tdm_strerror(rv));
		return RAFT_BUSY; /* no finalize follows a failed snapshot() */
	}
	c->snap.job = job;
	c->snap.index = index;
	c->snap.write_rv = 0;
	c->snap.write_ns = 0;
	c->snap.t_begin = uv_hrtime();
	fill_header(&c->snap.bufs[0], index, 0);
	*bufs = c->snap.bufs;
	*n_bufs = 1;
	if (fsm->snapshot_async == NULL) {
		/* No async_work in this raft_io: write here, on the loop. */
		c->snap_sync++;
		if (snap_write(c) != 0) {
			snap_release(c);
			tdm_log_warn("cluster node %llu: snapshot at %llu skipped: %s",
				     (unsigned long long)c->id, (unsigned long long)index,
				     tdm_strerror(c->snap.write_rv));
			return RAFT_BUSY;
		}
		*n_bufs = 2;
	}
	return 0;
}

/* raft_fsm.snapshot_async: write, on the threadpool. */
static int fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct cluster *c = fsm->data;
	int rv = snap_write(c);
	if (rv == 0) {
		*bufs = c->snap.bufs;
		*n_bufs = 2;
	}
	return rv;
}

/* raft_fsm.snapshot_finalize: free and end, on the loop. */
static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
				 unsigned *n_bufs)
{
	struct cluster *c = fsm->data;
	uint64_t index = c->snap.index;
	size_t len = c->snap.bufs[1].len;
	int write_rv = c->snap.write_rv;
	bool written = c->snap.bufs[1].base != NULL;
	struct loop_t0 t0;

	if (c->snap.job == NULL)
		return 0;
	if (fsm->snapshot_async != NULL) {
		if (written) {
			c->snap_async_ok++;
			tdm_log_info("cluster node %llu: snapshot at index %llu, %zu bytes "
				     "(serialized off the loop in %llu ms, done in %llu ms)",
				     (unsigned long long)c->id, (unsigned long long)index, len,
				     (unsigned long long)(c->snap.write_ns / 1000000),
				     (unsigned long long)((uv_hrtime() - c->snap.t_begin) / 1000000));
		} else {
			c->snap_async_failed++;
			tdm_log_warn("cluster node %llu: snapshot at %llu dropped: %s; "
				     "the next threshold tries again",
				     (unsigned long long)c->id, (unsigned long long)index,
				     write_rv != 0 ? tdm_strerror(write_rv) : "libraft did not run the write step");
		}
	} else {
		tdm_log_info("cluster node %llu: snapshot at index %llu, %zu bytes",
			     (unsigned long long)c->id, (unsigned long long)index, len);
	}
	t0 = loop_start();
	snap_release(c);
	loop_time(c, t0);
	*bufs = NULL;
	*n_bufs = 0;
	if (c->snap.close_deferred) {
		c->snap.close_deferred = false;
		cluster__close_raft(c);
	}
	return 0;
}

bool cluster__snapshot_busy(const struct cluster *c)
{
	return c->snap.job != NULL;
}

void cluster__snapshot_cancel(struct cluster *c)
{
	atomic_store(&c->snap.cancel, true);
	if (c->snap.job != NULL)
		c->snap.close_deferred = true;
}

void cluster__snapshot_abandon(struct cluster *c)
{
	if (c->snap.job != NULL)
		snap_release(c);
}

/*- restore -*/

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
	c->fsm.data = c;
	c->fsm.apply = fsm_apply;
	c->fsm.restore = fsm_restore;
	c->two_step = c->ops.snapshot_begin != NULL && c->ops.snapshot_write != NULL &&
		      c->ops.snapshot_end != NULL;
	if (c->two_step) {
		c->fsm.version = 3;
		c->fsm.snapshot = fsm_snapshot_begin;
		c->fsm.snapshot_finalize = fsm_snapshot_finalize;
		c->fsm.snapshot_async = fsm_snapshot_async;
	} else {
		c->fsm.version = 1;
		c->fsm.snapshot = fsm_snapshot;
	}
}

void cluster__fsm_bind_io(struct cluster *c, struct raft_io *io)
{
	/* raft_init refuses a version-3 FSM with snapshot_async unless
	 * io->version > 1 and io->async_work is set.  libraft 0.15's raft_uv
	 * implements async_work (uv_queue_work; its close waits for queued
	 * work) but still says version 1, and the fixture's io says 0; the
	 * version is only checked there, so raise it.  Without async_work the
	 * two steps run back to back on the loop (fsm_snapshot_begin). */
	if (!c->two_step)
		return;
	if (io->async_work == NULL) {
		c->fsm.snapshot_async = NULL;
		return;
	}
	if (io->version < 2)
		io->version = 2;
	c->fsm.snapshot_async = fsm_snapshot_async;
}
