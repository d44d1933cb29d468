/* The fixture harness of harness.h. */
#include "harness.h"

#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static struct harness *of(struct raft_fixture *f)
{
	return (struct harness *)((char *)f - offsetof(struct harness, f));
}

static void hook(struct raft_fixture *f, struct raft_fixture_event *ev)
{
	struct harness *h = of(f);
	(void)ev;
	for (unsigned i = 0; i < h->n; i++)
		if (raft_fixture_alive(f, i))
			cluster__tick(h->c[i]);
}

static void ev_ready(struct cluster *c, void *data, uint64_t term)
{
	struct harness *h = data;
	for (unsigned i = 0; i < h->n; i++)
		if (h->c[i] == c) {
			h->ready[i]++;
			h->ready_term[i] = term;
		}
}

static void ev_lost(struct cluster *c, void *data)
{
	struct harness *h = data;
	for (unsigned i = 0; i < h->n; i++)
		if (h->c[i] == c)
			h->lost[i]++;
}

static void ev_fatal(struct cluster *c, void *data, const char *msg)
{
	struct harness *h = data;
	(void)msg;
	for (unsigned i = 0; i < h->n; i++)
		if (h->c[i] == c)
			h->fatal[i]++;
}

static void add_node(struct harness *h, unsigned i, bool witness)
{
	struct cluster_config cfg = h->cfg;
	struct cluster_events ev = { h, ev_ready, ev_lost, ev_fatal };
	int rv;

	cfg.id = i + 1;
	cfg.witness = witness;
	if (h->ops == &testfsm_ops) {
		testfsm_init(&h->fsm[i]);
		h->ctx[i] = &h->fsm[i];
	}
	rv = cluster__new_detached(&h->c[i], &cfg, h->ops, h->ctx[i], &ev);
	ck_assert_int_eq(rv, 0);
	for (unsigned k = 0; k < H_MAX; k++)
		if (h->witness_mask & (1ull << k))
			cluster_set_witness(h->c[i], k + 1, true);
	rv = raft_fixture_grow(&h->f, cluster__fsm(h->c[i]));
	ck_assert_int_eq(rv, 0);
	cluster__bind(h->c[i], raft_fixture_get(&h->f, i));
}

void h_setup_ops(struct harness *h, unsigned n, const struct cluster_config *cfg,
		 uint64_t witness_mask, const struct cluster_fsm_ops *ops, void **ctx)
{
	memset(h, 0, sizeof *h);
	if (cfg != NULL)
		h->cfg = *cfg;
	h->witness_mask = witness_mask;
	h->ops = ops;
	ck_assert_int_eq(raft_fixture_initialize(&h->f), 0);
	h->n = n;
	for (unsigned i = 0; i < n; i++) {
		if (ctx != NULL)
			h->ctx[i] = ctx[i];
		add_node(h, i, (witness_mask >> i) & 1);
	}
	raft_fixture_hook(&h->f, hook);
}

void h_setup(struct harness *h, unsigned n, const struct cluster_config *cfg,
	     uint64_t witness_mask)
{
	h_setup_ops(h, n, cfg, witness_mask, &testfsm_ops, NULL);
}

void h_start(struct harness *h)
{
	struct raft_configuration conf;
	ck_assert_int_eq(raft_fixture_configuration(&h->f, h->n, &conf), 0);
	ck_assert_int_eq(raft_fixture_bootstrap(&h->f, &conf), 0);
	raft_configuration_close(&conf);
	ck_assert_int_eq(raft_fixture_start(&h->f), 0);
}

unsigned h_grow(struct harness *h, bool witness)
{
	unsigned i = h->n;
	ck_assert_uint_lt(i, H_MAX);
	h->n++;
	add_node(h, i, witness);
	ck_assert_int_eq(raft_start(raft_fixture_get(&h->f, i)), 0);
	return i;
}

void h_teardown(struct harness *h)
{
	raft_fixture_close(&h->f);
	for (unsigned i = 0; i < h->n; i++) {
		cluster__free_detached(h->c[i]);
		if (h->ops == &testfsm_ops)
			testfsm_free(&h->fsm[i]);
	}
}

struct pred_ctx {
	struct harness *h;
	bool (*pred)(struct harness *h, void *arg);
	void *arg;
};

static bool pred_tramp(struct raft_fixture *f, void *arg)
{
	struct pred_ctx *p = arg;
	(void)f;
	return p->pred(p->h, p->arg);
}

bool h_step_until(struct harness *h, bool (*pred)(struct harness *h, void *arg), void *arg,
		  unsigned max_ms)
{
	struct pred_ctx p = { h, pred, arg };
	if (pred(h, arg))
		return true;
	return raft_fixture_step_until(&h->f, pred_tramp, &p, max_ms);
}

unsigned h_ready_index(struct harness *h)
{
	for (unsigned i = 0; i < h->n; i++)
		if (raft_fixture_alive(&h->f, i) && cluster_is_leader_ready(h->c[i]) &&
		    !h->c[i]->witness)
			return i;
	return h->n;
}

static bool p_ready(struct harness *h, void *arg)
{
	(void)arg;
	return h_ready_index(h) < h->n;
}

unsigned h_wait_ready(struct harness *h, unsigned max_ms)
{
	h_step_until(h, p_ready, NULL, max_ms);
	return h_ready_index(h);
}

static bool p_count(struct harness *h, void *arg)
{
	uint64_t count = *(uint64_t *)arg;
	for (unsigned i = 0; i < h->n; i++)
		if (raft_fixture_alive(&h->f, i) && h->fsm[i].count < count)
			return false;
	return true;
}

bool h_wait_count(struct harness *h, uint64_t count, unsigned max_ms)
{
	return h_step_until(h, p_count, &count, max_ms);
}

static bool p_converged(struct harness *h, void *arg)
{
	unsigned l = raft_fixture_leader_index(&h->f);
	(void)arg;
	if (l >= h->n)
		return false;
	/* Everything the leader has is committed... */
	if (raft_fixture_get(&h->f, l)->commit_index != raft_last_index(raft_fixture_get(&h->f, l)))
		return false;
	/* ... and applied everywhere. */
	for (unsigned i = 0; i < h->n; i++) {
		struct raft *r = raft_fixture_get(&h->f, i);
		if (!raft_fixture_alive(&h->f, i))
			continue;
		if (raft_last_applied(r) != raft_fixture_get(&h->f, l)->commit_index)
			return false;
	}
	return true;
}

bool h_wait_converged(struct harness *h, unsigned max_ms)
{
	return h_step_until(h, p_converged, NULL, max_ms);
}

static void count_ok(void *data, int status, uint64_t index, void *result)
{
	unsigned *ok = data;
	(void)index;
	(void)result;
	if (status == 0)
		(*ok)++;
}

void h_submit_many(struct harness *h, unsigned i, uint64_t origin, uint64_t first_seq,
		   unsigned n, size_t size, unsigned *ok)
{
	uint8_t *buf = tdm_malloc(size);
	for (unsigned k = 0; k < n; k++) {
		int rv;
		testfsm_entry(buf, size, origin, first_seq + k);
		while ((rv = cluster_submit(h->c[i], buf, size, count_ok, ok, NULL)) == TDM_EAGAIN)
			raft_fixture_step(&h->f);
		ck_assert_int_eq(rv, 0);
	}
	free(buf);
}
