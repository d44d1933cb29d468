/* The test FSM of testfsm.h. */
#include "testfsm.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

unsigned long testfsm_results_freed;

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

void testfsm_init(struct testfsm *f)
{
	memset(f, 0, sizeof *f);
	f->hash = 1469598103934665603ull;
}

void testfsm_free(struct testfsm *f)
{
	free(f->ids);
	memset(f, 0, sizeof *f);
}

void testfsm_entry(void *buf, size_t size, uint64_t origin, uint64_t seq)
{
	uint8_t *p = buf;
	uint64_t x = seq * 0x9e3779b97f4a7c15ull + origin;
	put64(p, origin);
	put64(p + 8, seq);
	for (size_t i = 16; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static bool seen(struct testfsm *f, uint64_t origin, uint64_t seq)
{
	for (size_t i = 0; i < f->n_ids; i++)
		if (f->ids[2 * i] == origin && f->ids[2 * i + 1] == seq)
			return true;
	return false;
}

static void remember(struct testfsm *f, uint64_t origin, uint64_t seq)
{
	if (f->n_ids == f->cap_ids) {
		f->cap_ids = f->cap_ids ? 2 * f->cap_ids : 256;
		f->ids = tdm_realloc(f->ids, f->cap_ids * 2 * sizeof *f->ids);
	}
	f->ids[2 * f->n_ids] = origin;
	f->ids[2 * f->n_ids + 1] = seq;
	f->n_ids++;
}

static int t_apply(void *ctx, uint64_t index, const void *buf, size_t len, void **result)
{
	struct testfsm *f = ctx;
	const uint8_t *p = buf;
	struct testfsm_result *r;
	uint64_t origin, seq;

	if (f->fail_next_apply > 0) {
		f->fail_next_apply--;
		return TDM_EIO;
	}
	r = tdm_calloc(1, sizeof *r);
	r->index = index;
	f->last_index = index;
	if (len >= 16) {
		origin = get64(p);
		seq = get64(p + 8);
		if (origin != 0 && seen(f, origin, seq)) {
			f->dups++;
			r->dup = true;
			r->count = f->count;
			*result = r;
			return 0;
		}
		if (origin != 0)
			remember(f, origin, seq);
	}
	for (size_t i = 0; i < len; i++) {
		f->hash ^= p[i];
		f->hash *= 1099511628211ull;
	}
	f->count++;
	r->count = f->count;
	*result = r;
	return 0;
}

static void t_result_free(void *ctx, void *result)
{
	(void)ctx;
	testfsm_results_freed++;
	free(result);
}

static int t_snapshot(void *ctx, void *(*alloc)(size_t), void **buf, size_t *len)
{
	struct testfsm *f = ctx;
	size_t n = 5 * 8 + f->n_ids * 16;
	uint8_t *p = alloc(n);
	if (p == NULL)
		return TDM_ENOMEM;
	put64(p, f->count);
	put64(p + 8, f->dups);
	put64(p + 16, f->hash);
	put64(p + 24, f->last_index);
	put64(p + 32, f->n_ids);
	for (size_t i = 0; i < 2 * f->n_ids; i++)
		put64(p + 40 + 8 * i, f->ids[i]);
	f->snapshots++;
	*buf = p;
	*len = n;
	return 0;
}

static int t_restore(void *ctx, uint64_t index, const void *buf, size_t len)
{
	struct testfsm *f = ctx;
	const uint8_t *p = buf;
	uint64_t n;
	if (len < 40)
		return TDM_ECODEC;
	n = get64(p + 32);
	if (len != 40 + n * 16)
		return TDM_ECODEC;
	f->count = get64(p);
	f->dups = get64(p + 8);
	f->hash = get64(p + 16);
	f->last_index = get64(p + 24);
	if (f->last_index > index)
		return TDM_ECODEC;
	f->last_index = index;
	f->n_ids = 0;
	for (uint64_t i = 0; i < n; i++)
		remember(f, get64(p + 40 + 16 * i), get64(p + 48 + 16 * i));
	f->restores++;
	return 0;
}

const struct cluster_fsm_ops testfsm_ops = {
	.apply = t_apply,
	.result_free = t_result_free,
	.snapshot = t_snapshot,
	.restore = t_restore,
	.applied_index = NULL,
};
