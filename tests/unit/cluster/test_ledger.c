/*
 * The wrapper with the real ledger (cluster_ledger_ops over state.db files
 * in a temp directory): replication to equal digests, a retry after an
 * unknown outcome applied once (LEDGER_DUPLICATE), snapshot install (the
 * snapshot serialized by the async step: the fixture's io has async_work),
 * a write step that fails and is retried at the next threshold, and a
 * restart that neither re-applies nor re-restores what state.db holds
 * (with a close while a snapshot job is out).
 */
#define _GNU_SOURCE
#include <check.h>
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "ledger/ledger.h"

TCase *tcase_ledger(void);

struct lcluster {
	struct harness h;
	char dir[64];
	struct ledger *l[H_MAX];
};

static void l_setup(struct lcluster *lc, unsigned n, const struct cluster_config *cfg)
{
	void *ctx[H_MAX];
	struct tdm_err err = { "" };
	snprintf(lc->dir, sizeof lc->dir, "/tmp/tdm-cluster-ledger-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(lc->dir));
	for (unsigned i = 0; i < n; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/state%u.db", lc->dir, i + 1);
		ck_assert_msg(ledger_open(&lc->l[i], path, &err) == 0, "%s", err.msg);
		ctx[i] = lc->l[i];
	}
	h_setup_ops(&lc->h, n, cfg, 0, &cluster_ledger_ops, ctx);
	h_start(&lc->h);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void l_teardown(struct lcluster *lc)
{
	h_teardown(&lc->h);
	for (unsigned i = 0; i < lc->h.n; i++)
		ledger_close(lc->l[i]);
	nftw(lc->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Encode a TEST command (origin, seq) padded by the ledger codec. */
static uint8_t *cmd(uint64_t origin, uint64_t seq, size_t *len)
{
	struct ledger_cmd m;
	struct tdm_err err = { "" };
	uint8_t *buf = NULL;
	char payload[64];
	memset(&m, 0, sizeof m);
	m.type = LEDGER_CMD_TEST;
	m.id.origin = origin;
	m.id.seq = seq;
	snprintf(payload, sizeof payload, "entry %llu of origin %llu",
		 (unsigned long long)seq, (unsigned long long)origin);
	m.test.payload = ledger_str(payload);
	ck_assert_msg(ledger_cmd_encode(&m, &buf, len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(*len % 8, 0);
	return buf;
}

struct outcome {
	int status;
	bool done;
	enum ledger_status lstatus;
	unsigned ok;
};

static void on_outcome(void *data, int status, uint64_t index, void *result)
{
	struct outcome *o = data;
	(void)index;
	o->status = status;
	o->done = true;
	if (status == 0) {
		o->lstatus = ((struct ledger_result *)result)->status;
		if (o->lstatus == LEDGER_OK)
			o->ok++;
	}
}

static void submit_range(struct lcluster *lc, unsigned i, uint64_t origin, uint64_t first,
			 unsigned n, struct outcome *o)
{
	for (unsigned k = 0; k < n; k++) {
		size_t len;
		uint8_t *buf = cmd(origin, first + k, &len);
		int rv;
		while ((rv = cluster_submit(lc->h.c[i], buf, len, on_outcome, o, NULL)) == TDM_EAGAIN)
			raft_fixture_step(&lc->h.f);
		ck_assert_int_eq(rv, 0);
		free(buf);
	}
}

static void assert_same_digest(struct lcluster *lc)
{
	uint8_t d0[32], d[32];
	uint64_t i0, i1;
	struct tdm_err err = { "" };
	ck_assert_int_eq(ledger_digest(lc->l[0], d0, &i0, &err), 0);
	for (unsigned i = 1; i < lc->h.n; i++) {
		if (!raft_fixture_alive(&lc->h.f, i))
			continue;
		ck_assert_int_eq(ledger_digest(lc->l[i], d, &i1, &err), 0);
		ck_assert_uint_eq(i1, i0);
		ck_assert_int_eq(memcmp(d, d0, 32), 0);
	}
}

static uint64_t applied_tests(struct ledger *l)
{
	uint64_t seq = 0;
	struct tdm_err err = { "" };
	ck_assert_int_eq(ledger_origin_last_seq(l, 7, &seq, &err), 0);
	return seq;
}

START_TEST(ledger_replicate)
{
	struct lcluster lc;
	struct outcome o = { 0 };
	unsigned l;

	l_setup(&lc, 3, NULL);
	l = h_wait_ready(&lc.h, 10000);
	ck_assert_uint_lt(l, 3);
	submit_range(&lc, l, 7, 1, 300, &o);
	ck_assert(h_wait_converged(&lc.h, 60000));
	ck_assert_uint_eq(o.ok, 300);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(applied_tests(lc.l[i]), 300);
	assert_same_digest(&lc);
	l_teardown(&lc);
}
END_TEST

struct appended {
	unsigned l;
	raft_index index;
};

static bool p_appended(struct harness *h, void *arg)
{
	struct appended *a = arg;
	for (unsigned i = 0; i < h->n; i++)
		if (i != a->l && raft_last_index(raft_fixture_get(&h->f, i)) < a->index)
			return false;
	return true;
}

static bool p_done(struct harness *h, void *arg)
{
	(void)h;
	return ((struct outcome *)arg)->done;
}

START_TEST(ledger_retry_after_leadership_lost)
{
	struct lcluster lc;
	struct outcome o1 = { 0 }, o2 = { 0 };
	struct appended a;
	uint8_t *buf;
	size_t len;
	unsigned l, l2;

	l_setup(&lc, 3, NULL);
	l = h_wait_ready(&lc.h, 10000);
	ck_assert_uint_lt(l, 3);
	ck_assert(h_wait_converged(&lc.h, 5000));
	for (unsigned i = 0; i < 3; i++)
		if (i != l)
			raft_fixture_saturate(&lc.h.f, i, l);
	buf = cmd(7, 1, &len);
	ck_assert_int_eq(cluster_submit(lc.h.c[l], buf, len, on_outcome, &o1, NULL), 0);
	a.l = l;
	a.index = raft_last_index(raft_fixture_get(&lc.h.f, l));
	ck_assert(h_step_until(&lc.h, p_appended, &a, 5000));
	ck_assert(h_step_until(&lc.h, p_done, &o1, 10000));
	ck_assert(cluster_outcome_unknown(o1.status));
	for (unsigned i = 0; i < 3; i++)
		if (i != l)
			raft_fixture_desaturate(&lc.h.f, i, l);
	l2 = h_wait_ready(&lc.h, 20000);
	ck_assert_uint_lt(l2, 3);
	/* Retry the same command id through the new leader. */
	ck_assert_int_eq(cluster_submit(lc.h.c[l2], buf, len, on_outcome, &o2, NULL), 0);
	ck_assert(h_step_until(&lc.h, p_done, &o2, 10000));
	ck_assert_int_eq(o2.status, 0);
	ck_assert_int_eq(o2.lstatus, LEDGER_DUPLICATE);
	ck_assert(h_wait_converged(&lc.h, 5000));
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(applied_tests(lc.l[i]), 1);
	assert_same_digest(&lc);
	free(buf);
	l_teardown(&lc);
}
END_TEST

static unsigned lc_leader;

static bool p_snapshot_past_60(struct harness *h, void *arg)
{
	(void)arg;
	return raft_fixture_get(&h->f, lc_leader)->log.snapshot.last_index > 60 &&
	       !cluster__snapshot_busy(h->c[lc_leader]);
}

START_TEST(ledger_snapshot_install)
{
	struct lcluster lc;
	struct cluster_config cfg = { 0 };
	struct outcome o = { 0 };
	unsigned l, f;

	cfg.snapshot_budget_bytes = 64 * 1024; /* threshold 32, trailing 16 */
	cfg.entry_size_hint = 1024;
	l_setup(&lc, 3, &cfg);
	l = h_wait_ready(&lc.h, 10000);
	ck_assert_uint_lt(l, 3);
	f = (l + 1) % 3;
	submit_range(&lc, l, 7, 1, 5, &o);
	ck_assert(h_wait_converged(&lc.h, 10000));
	raft_fixture_kill(&lc.h.f, f);
	submit_range(&lc, l, 7, 6, 150, &o);
	ck_assert(h_wait_converged(&lc.h, 60000));
	/* The write step completes after the fixture's work duration. */
	lc_leader = l;
	ck_assert(h_step_until(&lc.h, p_snapshot_past_60, NULL, 10000));
	ck_assert_uint_ge(lc.h.c[l]->snap_async_ok, 2);
	ck_assert_uint_eq(lc.h.c[l]->snap_sync, 0);
	ck_assert_uint_eq(applied_tests(lc.l[f]), 5);
	raft_fixture_revive(&lc.h.f, f);
	ck_assert(h_wait_converged(&lc.h, 60000));
	ck_assert_uint_eq(o.ok, 155);
	ck_assert_uint_eq(applied_tests(lc.l[f]), 155);
	assert_same_digest(&lc);
	l_teardown(&lc);
}
END_TEST

/* The write step fails for the first snapshots: they are dropped (no
 * leak, the job ended), apply never stops, and a later threshold takes
 * one that installs on a follower that was down. */
static unsigned write_failures;

static int failing_write(void *job, void *(*alloc)(size_t), void **buf, size_t *len)
{
	if (write_failures > 0) {
		write_failures--;
		return TDM_EIO;
	}
	return cluster_ledger_ops.snapshot_write(job, alloc, buf, len);
}

START_TEST(ledger_snapshot_write_fails)
{
	struct cluster_fsm_ops ops = cluster_ledger_ops;
	struct lcluster lc;
	struct cluster_config cfg = { 0 };
	struct outcome o = { 0 };
	void *ctx[H_MAX];
	struct tdm_err err = { "" };
	unsigned l, f, n_more = 0;

	ops.snapshot_write = failing_write;
	write_failures = 4; /* two rounds on the two live nodes */
	cfg.snapshot_budget_bytes = 64 * 1024; /* threshold 32, trailing 16 */
	cfg.entry_size_hint = 1024;
	snprintf(lc.dir, sizeof lc.dir, "/tmp/tdm-cluster-ledger-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(lc.dir));
	for (unsigned i = 0; i < 3; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/state%u.db", lc.dir, i + 1);
		ck_assert_msg(ledger_open(&lc.l[i], path, &err) == 0, "%s", err.msg);
		ctx[i] = lc.l[i];
	}
	h_setup_ops(&lc.h, 3, &cfg, 0, &ops, ctx);
	h_start(&lc.h);
	l = h_wait_ready(&lc.h, 10000);
	ck_assert_uint_lt(l, 3);
	f = (l + 1) % 3;
	submit_range(&lc, l, 7, 1, 5, &o);
	ck_assert(h_wait_converged(&lc.h, 10000));
	raft_fixture_kill(&lc.h.f, f);
	submit_range(&lc, l, 7, 6, 100, &o);
	ck_assert(h_wait_converged(&lc.h, 60000));
	/* libraft tries again at the next apply past the threshold. */
	lc_leader = l;
	for (unsigned r = 0; r < 20 && (write_failures > 0 ||
					!h_step_until(&lc.h, p_snapshot_past_60, NULL, 2000)); r++) {
		submit_range(&lc, l, 7, 106 + 5 * r, 5, &o);
		ck_assert(h_wait_converged(&lc.h, 60000));
		n_more += 5;
	}
	ck_assert_uint_eq(write_failures, 0);
	ck_assert(p_snapshot_past_60(&lc.h, NULL));
	ck_assert_uint_ge(lc.h.c[l]->snap_async_failed + lc.h.c[(l + 2) % 3]->snap_async_failed, 1);
	ck_assert_uint_ge(lc.h.c[l]->snap_async_ok, 1);
	ck_assert_uint_eq(o.ok, 105 + n_more);
	raft_fixture_revive(&lc.h.f, f);
	ck_assert(h_wait_converged(&lc.h, 60000));
	ck_assert_uint_eq(applied_tests(lc.l[f]), 105 + n_more);
	assert_same_digest(&lc);
	l_teardown(&lc);
}
END_TEST

/* A real single-node cluster over a ledger, restarted: the replay of the
 * log and the startup restore are skipped because state.db has them. */
static unsigned n_apply, n_restore;

static int c_apply(void *ctx, uint64_t index, const void *buf, size_t len, void **result)
{
	n_apply++;
	return cluster_ledger_ops.apply(ctx, index, buf, len, result);
}

static int c_restore(void *ctx, uint64_t index, const void *buf, size_t len)
{
	n_restore++;
	return cluster_ledger_ops.restore(ctx, index, buf, len);
}

static const char *free_addr(void)
{
	static char addr[32];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(sa.sin_port));
	return addr;
}

struct single {
	uv_loop_t loop;
	struct cluster *c;
	bool ready, closed;
	struct outcome o;
};

static void s_ready(struct cluster *c, void *data, uint64_t term)
{
	(void)c;
	(void)term;
	((struct single *)data)->ready = true;
}

static void s_closed(void *data)
{
	((struct single *)data)->closed = true;
}

static void run_single(struct single *s, const char *dir, struct ledger *l, unsigned from,
		       unsigned n)
{
	struct cluster_fsm_ops ops = cluster_ledger_ops;
	struct cluster_config cfg = { 0 };
	struct cluster_events ev = { s, s_ready, NULL, NULL };
	struct tdm_err err = { "" };
	unsigned long spins = 0;

	ops.apply = c_apply;
	ops.restore = c_restore;
	cfg.id = 1;
	cfg.address = free_addr(); /* a cluster of one: nobody dials it */
	cfg.data_dir = dir;
	cfg.snapshot_budget_bytes = 32 * 1024; /* threshold 16, trailing 8 */
	cfg.entry_size_hint = 1024;
	memset(s, 0, sizeof *s);
	uv_loop_init(&s->loop);
	ck_assert_msg(cluster_new(&s->c, &s->loop, &cfg, &ops, l, &ev, &err) == 0, "%s", err.msg);
	while (!s->ready && spins++ < 100000)
		uv_run(&s->loop, UV_RUN_ONCE);
	ck_assert(s->ready);
	for (unsigned k = 0; k < n; k++) {
		size_t len;
		uint8_t *buf = cmd(7, from + k, &len);
		ck_assert_int_eq(cluster_submit(s->c, buf, len, on_outcome, &s->o, NULL), 0);
		free(buf);
		while (s->o.ok < k + 1 && spins++ < 1000000)
			uv_run(&s->loop, UV_RUN_ONCE);
	}
	ck_assert_uint_eq(s->o.ok, n);
	cluster_close(s->c, s_closed, s);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	ck_assert(s->closed);
	ck_assert_int_eq(uv_loop_close(&s->loop), 0);
}

START_TEST(ledger_restart_skips)
{
	char dir[] = "/tmp/tdm-cluster-ledger-XXXXXX", path[128];
	struct tdm_err err = { "" };
	struct ledger *l;
	struct single s;
	uint8_t d1[32], d2[32];
	uint64_t i1, i2;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state.db", dir);
	ck_assert_int_eq(ledger_open(&l, path, &err), 0);
	n_apply = n_restore = 0;
	run_single(&s, dir, l, 1, 40); /* snapshots taken along the way */
	ck_assert_uint_eq(n_apply, 40);
	ck_assert_uint_eq(applied_tests(l), 40);
	ck_assert_int_eq(ledger_digest(l, d1, &i1, &err), 0);
	ledger_close(l);

	/* Restart: raft loads the newest snapshot and replays the log tail;
	 * state.db is already there, so neither reaches the ledger. */
	ck_assert_int_eq(ledger_open(&l, path, &err), 0);
	n_apply = n_restore = 0;
	run_single(&s, dir, l, 41, 5);
	ck_assert_uint_eq(n_restore, 0);
	ck_assert_uint_eq(n_apply, 5);
	ck_assert_uint_eq(applied_tests(l), 45);
	ck_assert_int_eq(ledger_digest(l, d2, &i2, &err), 0);
	ck_assert_uint_gt(i2, i1);
	ledger_close(l);

	/* A state.db that is ahead of the raft log does not belong to it. */
	{
		char raftdir[160];
		struct cluster *c;
		struct cluster_config cfg = { 0 };
		uv_loop_t loop;
		snprintf(raftdir, sizeof raftdir, "rm -rf %s/raft", dir);
		ck_assert_int_eq(system(raftdir), 0);
		ck_assert_int_eq(ledger_open(&l, path, &err), 0);
		cfg.id = 1;
		cfg.address = free_addr();
		cfg.data_dir = dir;
		uv_loop_init(&loop);
		ck_assert_int_eq(cluster_new(&c, &loop, &cfg, &cluster_ledger_ops, l, NULL, &err),
				 TDM_ECLUSTER);
		ck_assert_msg(strstr(err.msg, "do not belong together") != NULL, "%s", err.msg);
		ck_assert_int_eq(uv_loop_close(&loop), 0);
		ledger_close(l);
	}
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}
END_TEST

/* A single real node whose write step is slow (200 ms on the threadpool):
 * apply goes on meanwhile, and a close while the job is out waits for
 * snapshot_end before its callback. */
static _Atomic int writing;
static unsigned n_begin, n_end, n_apply_while_writing, n_end_at_close, n_begin_at_close;

static int slow_begin(void *ctx, void **job)
{
	int rv = cluster_ledger_ops.snapshot_begin(ctx, job);
	if (rv == 0)
		n_begin++;
	return rv;
}

static int slow_write(void *job, void *(*alloc)(size_t), void **buf, size_t *len)
{
	int rv;
	writing = 1;
	usleep(200000);
	rv = cluster_ledger_ops.snapshot_write(job, alloc, buf, len);
	writing = 0;
	return rv;
}

static void slow_end(void *job)
{
	n_end++;
	cluster_ledger_ops.snapshot_end(job);
}

static int slow_apply(void *ctx, uint64_t index, const void *buf, size_t len, void **result)
{
	if (writing)
		n_apply_while_writing++;
	return cluster_ledger_ops.apply(ctx, index, buf, len, result);
}

static void slow_closed(void *data)
{
	n_begin_at_close = n_begin;
	n_end_at_close = n_end;
	((struct single *)data)->closed = true;
}

START_TEST(ledger_close_during_snapshot)
{
	char dir[] = "/tmp/tdm-cluster-ledger-XXXXXX", path[128];
	struct cluster_fsm_ops ops = cluster_ledger_ops;
	struct cluster_config cfg = { 0 };
	struct single s;
	struct cluster_events ev = { &s, s_ready, NULL, NULL };
	struct tdm_err err = { "" };
	struct ledger *l;
	unsigned long spins = 0;
	unsigned k = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state.db", dir);
	ck_assert_int_eq(ledger_open(&l, path, &err), 0);
	ops.apply = slow_apply;
	ops.snapshot_begin = slow_begin;
	ops.snapshot_write = slow_write;
	ops.snapshot_end = slow_end;
	cfg.id = 1;
	cfg.address = free_addr();
	cfg.data_dir = dir;
	cfg.snapshot_budget_bytes = 32 * 1024; /* threshold 16 */
	cfg.entry_size_hint = 1024;
	memset(&s, 0, sizeof s);
	uv_loop_init(&s.loop);
	ck_assert_msg(cluster_new(&s.c, &s.loop, &cfg, &ops, l, &ev, &err) == 0, "%s", err.msg);
	while (!s.ready && spins++ < 100000)
		uv_run(&s.loop, UV_RUN_ONCE);
	ck_assert(s.ready);
	/* Submit one at a time until a write step is running and a few
	 * entries were applied while it ran. */
	while (k < 200 && !(writing && n_apply_while_writing >= 3)) {
		size_t len;
		uint8_t *buf = cmd(7, ++k, &len);
		ck_assert_int_eq(cluster_submit(s.c, buf, len, on_outcome, &s.o, NULL), 0);
		free(buf);
		while (s.o.ok < k && spins++ < 10000000)
			uv_run(&s.loop, UV_RUN_ONCE);
	}
	ck_assert_msg(writing && n_apply_while_writing >= 3,
		      "no apply while a write step ran (%u entries)", k);
	ck_assert(cluster__snapshot_busy(s.c));
	cluster_close(s.c, slow_closed, &s);
	uv_run(&s.loop, UV_RUN_DEFAULT);
	ck_assert(s.closed);
	ck_assert_uint_ge(n_begin_at_close, 1);
	ck_assert_uint_eq(n_end_at_close, n_begin_at_close); /* every job ended first */
	ck_assert_int_eq(uv_loop_close(&s.loop), 0);
	ck_assert_uint_eq(applied_tests(l), k);
	ledger_close(l);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}
END_TEST

TCase *tcase_ledger(void)
{
	TCase *tc = tcase_create("ledger");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ledger_replicate);
	tcase_add_test(tc, ledger_retry_after_leadership_lost);
	tcase_add_test(tc, ledger_snapshot_install);
	tcase_add_test(tc, ledger_snapshot_write_fails);
	tcase_add_test(tc, ledger_restart_skips);
	tcase_add_test(tc, ledger_close_during_snapshot);
	return tc;
}
