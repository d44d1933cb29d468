/*
 * cluster_ledger_ops: the ledger (src/ledger, state.db) as the cluster's
 * state machine, through ledger.h only.  ctx is the struct ledger *.
 *
 *  - apply: ledger_apply() in one transaction with the applied index; the
 *    result is a malloc'd struct ledger_result (status LEDGER_DUPLICATE for
 *    a command id already applied: the retry after an unknown outcome);
 *  - snapshot: two steps, so the loop never serializes state.db itself:
 *    ledger_snapshot_begin() pins a read transaction on a second
 *    connection (loop thread, cheap), ledger_snapshot_write() copies the
 *    pages into libraft's allocator on the threadpool while apply goes
 *    on, ledger_snapshot_end() closes that connection (loop thread).
 *    ledger_snapshot() stays as the one-step op for a raft_io without
 *    async work;
 *  - restore: ledger_restore(), after checking the snapshot's own index
 *    against the one the cluster recorded;
 *  - applied_index: ledger_applied_index(), so a restart does not re-apply
 *    (or re-restore) what state.db already holds.
 */
#include "raft/cluster.h"

#include <stdlib.h>

#include "common/log.h"
#include "ledger/ledger.h"

static int l_apply(void *ctx, uint64_t index, const void *buf, size_t len, void **result)
{
	struct ledger_result *res = tdm_calloc(1, sizeof *res);
	struct tdm_err err = { "" };
	int rv = ledger_apply(ctx, index, buf, len, res, &err);
	if (rv != 0) {
		tdm_log_err("ledger %s: entry %llu: %s", ledger_path(ctx),
			    (unsigned long long)index, err.msg);
		free(res);
		return rv;
	}
	*result = res;
	return 0;
}

static void l_result_free(void *ctx, void *result)
{
	(void)ctx;
	free(result);
}

static int l_snapshot(void *ctx, void *(*alloc)(size_t), void **buf, size_t *len)
{
	struct tdm_err err = { "" };
	int rv = ledger_snapshot(ctx, alloc, buf, len, &err);
	if (rv != 0)
		tdm_log_err("ledger %s: snapshot: %s", ledger_path(ctx), err.msg);
	return rv;
}

static int l_snapshot_begin(void *ctx, void **job)
{
	struct tdm_err err = { "" };
	struct ledger_snapshot_job *j = NULL;
	int rv = ledger_snapshot_begin(ctx, &j, &err);
	if (rv != 0) {
		tdm_log_err("ledger %s: snapshot: %s", ledger_path(ctx), err.msg);
		return rv;
	}
	*job = j;
	return 0;
}

/* On a threadpool thread: logging is thread-safe (common/log.h). */
static int l_snapshot_write(void *job, void *(*alloc)(size_t), void **buf, size_t *len)
{
	struct tdm_err err = { "" };
	int rv = ledger_snapshot_write(job, alloc, buf, len, &err);
	if (rv != 0)
		tdm_log_err("snapshot: %s", err.msg);
	return rv;
}

static void l_snapshot_end(void *job)
{
	ledger_snapshot_end(job);
}

static int l_restore(void *ctx, uint64_t index, const void *buf, size_t len)
{
	struct tdm_err err = { "" };
	uint64_t snap_index = 0;
	int rv = ledger_snapshot_index(buf, len, &snap_index, &err);
	if (rv == 0 && snap_index > index)
		rv = tdm_err_fail(&err, TDM_ECODEC,
				  "snapshot holds index %llu, raft says it was taken at %llu",
				  (unsigned long long)snap_index, (unsigned long long)index);
	if (rv == 0)
		rv = ledger_restore(ctx, buf, len, &err);
	if (rv != 0)
		tdm_log_err("ledger %s: restore of snapshot at %llu: %s", ledger_path(ctx),
			    (unsigned long long)index, err.msg);
	return rv;
}

static uint64_t l_applied_index(void *ctx)
{
	return ledger_applied_index(ctx);
}

const struct cluster_fsm_ops cluster_ledger_ops = {
	.apply = l_apply,
	.result_free = l_result_free,
	.snapshot = l_snapshot,
	.snapshot_begin = l_snapshot_begin,
	.snapshot_write = l_snapshot_write,
	.snapshot_end = l_snapshot_end,
	.restore = l_restore,
	.applied_index = l_applied_index,
};
