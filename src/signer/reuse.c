/*
 * Signature reuse; see reuse.h.
 *
 * The merge takes the previous output's records from the zone reader one
 * by one and gathers those of one owner (a group).  At the end of a group
 * it finds the owner in the new zone: among the names (sorted by canonical
 * key) and, for an owner "<32 base32hex>.<apex>" of an NSEC3 zone, among
 * the NSEC3 hashes (sorted).  Both searches start at a cursor just past
 * the previous hit, so a file in canonical order (Tandem's, ldns's, BIND's)
 * costs one or two key comparisons per owner; any other order falls back
 * to binary search.  Each RRset of the group is compared with the new one
 * (TTL and RDATA octets; in order first, as any multiset if that fails),
 * then each RRSIG of the group over an identical RRset is offered to that
 * RRset's empty slots.  Nothing of the previous output is kept but the
 * reused signatures.
 *
 * A large file is merged by two threads, each reading one half (split
 * where the owner changes between two lines that start with an owner).
 * Slots are filled with compare-and-swap and the marks set atomically, so
 * even a file that scatters one owner over both halves is merged safely;
 * the apex SOA is compared by whichever thread claims it first (it is
 * rewritten with the previous serial meanwhile), once.  The counts of reused signatures and identical RRsets
 * are taken afterwards from the slots and marks.  If a half fails to
 * parse (a split inside a multi-line record of another signer's file),
 * the whole file is merged again by one thread.
 */
#include "signer/reuse.h"

#include "signer/codec.h"
#include "signer/name.h"
#include "signer/rdata.h"
#include "signer/reader.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

size_t signer__merge_split_min = (size_t)4 << 20;

/*- work list --------------------------------------------------------------*/

static void push(struct signer__plan *plan, uint32_t slot, uint32_t target, uint8_t kind,
		 uint8_t key)
{
	struct signer__work *w;
	if (plan->n_items == plan->cap_items) {
		plan->cap_items = plan->cap_items ? plan->cap_items * 2 : 4096;
		plan->items = tdm_realloc(plan->items, plan->cap_items * sizeof *plan->items);
	}
	w = &plan->items[plan->n_items++];
	w->slot = slot;
	w->target = target;
	w->kind = kind;
	w->key = key;
}

static void list_target(struct signer_zone *z, struct signer__plan *plan, uint8_t kind,
			uint32_t index, uint32_t first, size_t n, int role)
{
	for (size_t i = 0; i < n; i++)
		if (z->sigs[first + i] == NULL)
			push(plan, (uint32_t)(first + i), index, kind, z->role_keys[role][i]);
}

void signer__reuse_list(struct signer_zone *z, struct signer__plan *plan)
{
	size_t empty = 0;
	/* Exactly the size needed: at 1M names, doubling would waste 25 MB. */
	for (size_t i = 0; i < z->n_sigs; i++)
		empty += z->sigs[i] == NULL;
	free(plan->items);
	plan->cap_items = empty ? empty : 1;
	plan->items = tdm_malloc(plan->cap_items * sizeof *plan->items);
	plan->n_items = 0;
	for (size_t i = 0; i < z->n_nodes; i++) {
		const struct signer__node *n = &z->nodes[i];
		for (size_t k = 0; k < n->n_sets; k++) {
			const struct signer__rrset *s = &z->sets[n->first_set + k];
			if (s->n_sig)
				list_target(z, plan, SIGNER_T_SET, n->first_set + (uint32_t)k,
					    s->first_sig, s->n_sig, signer__set_role(z, s));
		}
		if (n->nsec != NULL)
			list_target(z, plan, SIGNER_T_NSEC, (uint32_t)i, n->nsec_sig, n->nsec_nsig,
				    SIGNER_ROLE_ZSK);
	}
	for (size_t i = 0; i < z->n_nsec3; i++)
		list_target(z, plan, SIGNER_T_NSEC3, (uint32_t)i, z->nsec3[i].first_sig,
			    z->nsec3[i].n_sig, SIGNER_ROLE_ZSK);
}

void signer__reuse_drop_set(struct signer_zone *z, struct signer__plan *plan, size_t set)
{
	const struct signer__rrset *s = &z->sets[set];
	for (size_t i = 0; i < s->n_sig; i++) {
		if (z->sigs[s->first_sig + i] != NULL) {
			z->sigs[s->first_sig + i] = NULL;
			plan->reused--;
		}
	}
}

/*- slots ------------------------------------------------------------------*/

static void clear_marks(struct signer_zone *z)
{
	for (size_t i = 0; i < z->n_sets; i++)
		z->sets[i].same_as_prev = false;
	for (size_t i = 0; i < z->n_nodes; i++)
		z->nodes[i].flags &= (uint16_t)~SIGNER_N_NSEC_SAME;
	for (size_t i = 0; i < z->n_nsec3; i++)
		z->nsec3[i].same = false;
}

int signer__reuse_slots(struct signer_zone *z, const struct signer__sigctx *c,
			struct signer__plan *plan, struct tdm_err *err)
{
	const struct signer_params *p = c->p;
	size_t nz = 0, nks = 0, slots = 0;

	for (size_t i = 0; i < p->n_keys && i < 256; i++) {
		if (!p->keys[i].active)
			continue;
		if (p->keys[i].zsk)
			z->role_keys[SIGNER_ROLE_ZSK][nz++] = (uint8_t)i;
		if (p->keys[i].ksk)
			z->role_keys[SIGNER_ROLE_KSK][nks++] = (uint8_t)i;
	}
	if (nz == 0)
		return tdm_err_fail(err, TDM_ENOKEY, "the signconf has no active ZSK (or CSK)");
	if (nks == 0)
		return tdm_err_fail(err, TDM_ENOKEY, "the signconf has no active KSK (or CSK)");
	z->n_role[SIGNER_ROLE_ZSK] = nz;
	z->n_role[SIGNER_ROLE_KSK] = nks;

	for (size_t i = 0; i < z->n_sets; i++) {
		struct signer__rrset *s = &z->sets[i];
		s->n_sig = 0;
		if (s->type == T_SOA && (z->nodes[s->node].flags & SIGNER_N_APEX))
			plan->soa_set = i;
		if (!signer__set_is_signed(z, s))
			continue;
		s->first_sig = (uint32_t)slots;
		s->n_sig = (uint8_t)z->n_role[signer__set_role(z, s)];
		slots += s->n_sig;
		z->nodes[s->node].flags |= SIGNER_N_SIGNED;
	}
	for (size_t i = 0; i < z->n_nodes; i++) {
		struct signer__node *n = &z->nodes[i];
		n->nsec_nsig = 0;
		if (n->nsec == NULL)
			continue;
		n->nsec_sig = (uint32_t)slots;
		n->nsec_nsig = (uint8_t)nz;
		slots += nz;
	}
	for (size_t i = 0; i < z->n_nsec3; i++) {
		z->nsec3[i].first_sig = (uint32_t)slots;
		z->nsec3[i].n_sig = (uint8_t)nz;
		slots += nz;
	}
	free(z->sigs);
	z->sigs = tdm_calloc(slots ? slots : 1, sizeof *z->sigs);
	z->n_sigs = slots;
	clear_marks(z);
	plan->new_sets = z->n_sets + z->n_nsec3;
	for (size_t i = 0; i < z->n_nodes; i++)
		plan->new_sets += z->nodes[i].nsec != NULL;
	return 0;
}

void signer__reuse_forget(struct signer_zone *z, struct signer__plan *plan)
{
	/* The blobs stay in the arena until the zone is freed: a failed
	 * merge is rare and costs no more than the merge itself did. */
	memset(z->sigs, 0, (z->n_sigs ? z->n_sigs : 1) * sizeof *z->sigs);
	clear_marks(z);
	plan->reused = plan->prev_sigs = plan->identical = plan->prev_sets = 0;
	plan->have_prev_serial = false;
}

/*- reusability ------------------------------------------------------------*/

bool signer__rrsig_is_reusable(const struct signer__sigctx *c, const struct signer__target *t,
			       size_t k, const uint8_t *rd, size_t len)
{
	size_t nl;
	uint32_t now = (uint32_t)c->p->now, inc, exp;
	if (len < 19 || signer__get16(rd) != t->type || rd[2] != c->p->keys[k].algorithm ||
	    signer__get16(rd + 16) != c->tags[k] || signer__get32(rd + 4) != t->ttl ||
	    rd[3] != signer__name_rrsig_labels(t->owner))
		return false;
	if (!signer__wire_name_valid(rd + 18, len - 18, &nl) || nl != c->signer_len ||
	    !signer__name_equal(rd + 18, c->signer) || len == 18 + nl)
		return false;
	exp = signer__get32(rd + 8);
	inc = signer__get32(rd + 12);
	if ((int32_t)(now - inc) < 0)
		return false;
	return (int64_t)(int32_t)(exp - now) > c->p->sc->refresh;
}

/*- merge ------------------------------------------------------------------*/

struct grec {
	uint32_t off;          /* into merge.data */
	uint32_t ttl;
	uint16_t type;
	uint16_t len;
};

struct merge {
	struct signer_zone *z;
	const struct signer__sigctx *c;
	struct signer__arena arena;  /* reused sig blobs, adopted by z at the end */
	size_t prev_sigs, prev_sets;
	bool have_prev_serial;
	int *soa_claim;              /* shared: set by the one merge that takes the apex SOA */
	uint32_t prev_serial;
	const char *path;
	uint64_t off, len;
	struct tdm_err err;
	int rc;
	uint8_t owner[SIGNER_NAME_MAX];
	size_t owner_len;
	struct grec *recs;
	size_t n, cap;
	uint8_t *data;
	size_t dlen, dcap;
	size_t node_cur, nsec3_cur;
};

/* Marks and slots may be touched by both merge threads (see the top). */
static bool mark_get(const bool *b)
{
	return __atomic_load_n(b, __ATOMIC_RELAXED);
}

static void mark_set(bool *b)
{
	__atomic_store_n(b, true, __ATOMIC_RELAXED);
}

static bool nsec_same(const struct signer__node *n)
{
	return __atomic_load_n(&n->flags, __ATOMIC_RELAXED) & SIGNER_N_NSEC_SAME;
}

static int key_vs_node(const struct signer_zone *z, const uint8_t *key, size_t kl, size_t i)
{
	return signer__key_cmp(key, kl, signer__nb_key(z->nodes[i].name),
			       signer__nb_keylen(z->nodes[i].name));
}

/* Index of the node with this key, or -1.  See the file comment. */
static long find_node(struct merge *m, const uint8_t *key, size_t kl)
{
	const struct signer_zone *z = m->z;
	size_t lo = 0, hi = z->n_nodes, cur = m->node_cur;
	if (cur < hi) {
		int r = key_vs_node(z, key, kl, cur);
		if (r == 0) {
			m->node_cur = cur + 1;
			return (long)cur;
		}
		if (r < 0) {
			if (cur == 0 || key_vs_node(z, key, kl, cur - 1) > 0)
				return -1; /* between two neighbours: not in the new zone */
			hi = cur;
		} else {
			lo = cur + 1;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = key_vs_node(z, key, kl, mid);
		if (r == 0) {
			m->node_cur = mid + 1;
			return (long)mid;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	m->node_cur = lo;
	return -1;
}

/* Index of the NSEC3 whose owner this is, or -1. */
static long find_nsec3(struct merge *m)
{
	const struct signer_zone *z = m->z;
	uint8_t h[20];
	size_t lo = 0, hi = z->n_nsec3, cur = m->nsec3_cur;
	if (m->owner[0] != 32 || !signer__name_equal(m->owner + 33, z->apex) ||
	    signer__b32hex_decode((const char *)m->owner + 1, 32, h, sizeof h) != 20)
		return -1;
	if (cur < hi) {
		int r = memcmp(h, z->nsec3[cur].hash, 20);
		if (r == 0) {
			m->nsec3_cur = cur + 1;
			return (long)cur;
		}
		if (r < 0)
			hi = cur;
		else
			lo = cur + 1;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = memcmp(h, z->nsec3[mid].hash, 20);
		if (r == 0) {
			m->nsec3_cur = mid + 1;
			return (long)mid;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int grec_type_cmp(const void *pa, const void *pb)
{
	const struct grec *a = pa, *b = pb;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

/* Do the group's records r[0..n) equal the RDATA blobs rrs[0..n_rr), all with TTL ttl? */
static bool same_records(const struct merge *m, const struct grec *r, size_t n,
			 const uint8_t *const *rrs, size_t n_rr, uint32_t ttl)
{
	uint8_t used[256];
	bool in_order = true;
	if (n != n_rr)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (r[i].ttl != ttl)
			return false;
		if (in_order && (r[i].len != signer__rb_len(rrs[i]) ||
				 memcmp(m->data + r[i].off, signer__rb_data(rrs[i]), r[i].len) != 0))
			in_order = false;
	}
	if (in_order)
		return true;
	/* Another signer's order: match as sets (each new record once). */
	if (n > sizeof used)
		return false;
	memset(used, 0, n);
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		for (; j < n; j++)
			if (!used[j] && r[i].len == signer__rb_len(rrs[j]) &&
			    memcmp(m->data + r[i].off, signer__rb_data(rrs[j]), r[i].len) == 0)
				break;
		if (j == n)
			return false;
		used[j] = 1;
	}
	return true;
}

/* Offer previous RRSIG rd (len octets) to the empty slots of target t. */
static void offer(struct merge *m, const struct signer__target *t, uint32_t first, size_t n,
		  const uint8_t *rd, size_t len)
{
	struct signer_zone *z = m->z;
	for (size_t i = 0; i < n; i++) {
		size_t k = z->role_keys[t->role][i], sl;
		const uint8_t *expected = NULL;
		uint8_t *b;
		if (__atomic_load_n(&z->sigs[first + i], __ATOMIC_RELAXED) != NULL ||
		    !signer__rrsig_is_reusable(m->c, t, k, rd, len))
			continue;
		sl = len - 18 - m->c->signer_len;
		b = signer__arena_alloc(&m->arena, SIGNER_SB_HDR + sl);
		signer__put32(b, signer__get32(rd + 12));
		signer__put32(b + 4, signer__get32(rd + 8));
		signer__put16(b + 8, (uint32_t)sl);
		memcpy(b + SIGNER_SB_HDR, rd + 18 + m->c->signer_len, sl);
		/* Lost to the other thread: the blob is wasted, nothing else. */
		__atomic_compare_exchange_n(&z->sigs[first + i], &expected, b, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
		return;
	}
}

static void flush(struct merge *m)
{
	struct signer_zone *z = m->z;
	uint8_t key[SIGNER_KEY_MAX];
	size_t kl, n = m->n;
	long ni, hi = -1;
	struct grec *r = m->recs;
	bool sorted = true;

	if (n == 0)
		return;
	m->n = 0;
	kl = signer__name_key(m->owner, key);
	ni = find_node(m, key, kl);
	if (z->n_nsec3 > 0)
		hi = find_nsec3(m);
	for (size_t i = 1; i < n && sorted; i++)
		sorted = r[i - 1].type <= r[i].type;
	if (!sorted)
		qsort(r, n, sizeof *r, grec_type_cmp);

	/* The RRsets. */
	for (size_t a = 0, b; a < n; a = b) {
		uint16_t type = r[a].type;
		b = a + 1;
		while (b < n && r[b].type == type)
			b++;
		if (type == T_RRSIG)
			continue;
		m->prev_sets++;
		if (type == T_NSEC3) {
			struct signer__nsec3 *e;
			if (hi < 0)
				continue;
			e = &z->nsec3[hi];
			if (!mark_get(&e->same) &&
			    same_records(m, r + a, b - a, &e->rdata, 1, z->denial_ttl))
				mark_set(&e->same);
		} else if (type == T_NSEC) {
			struct signer__node *nd;
			if (ni < 0)
				continue;
			nd = &z->nodes[ni];
			if (nd->nsec != NULL && !nsec_same(nd) &&
			    same_records(m, r + a, b - a, &nd->nsec, 1, z->denial_ttl))
				__atomic_fetch_or(&nd->flags, (uint16_t)SIGNER_N_NSEC_SAME,
						  __ATOMIC_RELAXED);
		} else if (ni >= 0) {
			struct signer__rrset *s = signer__node_set(z, (size_t)ni, type);
			if (s == NULL || mark_get(&s->same_as_prev))
				continue;
			if (type == T_SOA && ni == 0) {
				/* Compare with the previous serial in the new SOA; the
				 * serial policy decides later (sign.c). */
				uint8_t *rb = (uint8_t *)z->rrs[s->first_rr];
				size_t l = signer__rb_len(rb);
				int free_ = 0;
				if (b - a != 1 || r[a].len < 22 || l < 22 ||
				    !__atomic_compare_exchange_n(m->soa_claim, &free_, 1, false,
								 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
					continue;
				m->prev_serial = signer__get32(m->data + r[a].off + r[a].len - 20);
				m->have_prev_serial = true;
				signer__put32(rb + 2 + l - 20, m->prev_serial);
			}
			if (same_records(m, r + a, b - a, &z->rrs[s->first_rr], s->n_rr, s->ttl))
				mark_set(&s->same_as_prev);
		}
	}

	/* The signatures over the RRsets found identical. */
	for (size_t i = 0; i < n; i++) {
		const uint8_t *rd = m->data + r[i].off;
		struct signer__target t;
		uint16_t covered;
		if (r[i].type != T_RRSIG)
			continue;
		m->prev_sigs++;
		if (r[i].len < 19)
			continue;
		covered = signer__get16(rd);
		if (covered == T_NSEC3) {
			const struct signer__nsec3 *e;
			if (hi < 0 || !mark_get(&(e = &z->nsec3[hi])->same) || e->n_sig == 0)
				continue;
			signer__target_get(m->c, SIGNER_T_NSEC3, (uint32_t)hi, &t);
			offer(m, &t, e->first_sig, e->n_sig, rd, r[i].len);
		} else if (covered == T_NSEC) {
			const struct signer__node *nd;
			if (ni < 0 || !nsec_same(nd = &z->nodes[ni]) || nd->nsec_nsig == 0)
				continue;
			signer__target_get(m->c, SIGNER_T_NSEC, (uint32_t)ni, &t);
			offer(m, &t, nd->nsec_sig, nd->nsec_nsig, rd, r[i].len);
		} else if (ni >= 0) {
			const struct signer__rrset *s = signer__node_set(z, (size_t)ni, covered);
			if (s == NULL || !mark_get(&s->same_as_prev) || s->n_sig == 0)
				continue;
			signer__target_get(m->c, SIGNER_T_SET, (uint32_t)(s - z->sets), &t);
			offer(m, &t, s->first_sig, s->n_sig, rd, r[i].len);
		}
	}
	m->dlen = 0;
}

static int on_rr(void *arg, const uint8_t *owner, uint16_t type, uint32_t ttl,
		 const uint8_t *rdata, size_t rdlen, struct tdm_err *err)
{
	struct merge *m = arg;
	struct grec *g;
	size_t ol = signer__name_len(owner);
	(void)err;
	if (m->n > 0 && !(ol == m->owner_len && memcmp(owner, m->owner, ol) == 0) &&
	    !signer__name_equal(owner, m->owner))
		flush(m);
	if (m->n == 0) {
		memcpy(m->owner, owner, ol);
		m->owner_len = ol;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->recs = tdm_realloc(m->recs, m->cap * sizeof *m->recs);
	}
	if (m->dlen + rdlen > m->dcap) {
		m->dcap = (m->dlen + rdlen) * 2 + 4096;
		m->data = tdm_realloc(m->data, m->dcap);
	}
	g = &m->recs[m->n++];
	g->off = (uint32_t)m->dlen;
	g->len = (uint16_t)rdlen;
	g->ttl = ttl;
	g->type = type;
	memcpy(m->data + m->dlen, rdata, rdlen);
	m->dlen += rdlen;
	return 0;
}

static void *merge_range(void *arg)
{
	struct merge *m = arg;
	tdm_err_clear(&m->err);
	m->rc = signer__read_file_range(m->path, m->z->apex, m->off, m->len, on_rr, m, &m->err);
	if (m->rc == 0)
		flush(m);
	return NULL;
}

static void merge_init(struct merge *m, struct signer_zone *z, const struct signer__sigctx *c,
		       const char *path, uint64_t off, uint64_t len, int *soa_claim)
{
	memset(m, 0, sizeof *m);
	m->z = z;
	m->c = c;
	m->path = path;
	m->off = off;
	m->len = len;
	m->soa_claim = soa_claim;
	signer__arena_init(&m->arena);
}

static void merge_done(struct merge *m)
{
	signer__arena_adopt(&m->z->arena, &m->arena);
	free(m->recs);
	free(m->data);
}

static bool owner_line(const char *p, size_t n)
{
	return n > 0 && p[0] != ' ' && p[0] != '\t' && p[0] != ';' && p[0] != '$' &&
	       p[0] != '(' && p[0] != ')' && p[0] != '\r' && p[0] != '\n';
}

static size_t tok_len(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
		i++;
	return i;
}

/*
 * An offset near the middle of the file where a line starts whose owner
 * differs from the owner of the line before it, both written out; 0 if
 * there is none in a window there.
 */
static uint64_t split_point(const char *path, uint64_t size)
{
	enum { WIN = 256 << 10 };
	char *w = tdm_malloc(WIN);
	uint64_t start = size / 2, found = 0;
	const char *prev = NULL;
	size_t prev_len = 0;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(w);
		return 0;
	}
	got = pread(fd, w, WIN, (off_t)start);
	close(fd);
	if (got > 0) {
		const char *p = memchr(w, '\n', (size_t)got), *end = w + got;
		while (p != NULL && p + 1 < end && found == 0) {
			const char *l = p + 1, *nl = memchr(l, '\n', (size_t)(end - l));
			size_t ll;
			if (nl == NULL)
				break;
			ll = (size_t)(nl - l);
			if (!owner_line(l, ll)) {
				prev = NULL;
			} else {
				size_t tl = tok_len(l, ll);
				if (prev != NULL && (tl != prev_len || memcmp(l, prev, tl) != 0))
					found = start + (uint64_t)(l - w);
				prev = l;
				prev_len = tl;
			}
			p = nl;
		}
	}
	free(w);
	return found;
}

int signer__reuse_merge(struct signer_zone *z, const char *path, const struct signer__sigctx *c,
			struct signer__plan *plan, struct tdm_err *err)
{
	struct merge m[2];
	struct stat sb;
	uint64_t split = 0;
	size_t parts = 1;
	int rc = 0, soa_claim = 0;

	if (stat(path, &sb) == 0 && (uint64_t)sb.st_size >= signer__merge_split_min &&
	    sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		split = split_point(path, (uint64_t)sb.st_size);
	if (split > 0) {
		pthread_t th;
		merge_init(&m[0], z, c, path, 0, split, &soa_claim);
		merge_init(&m[1], z, c, path, split, UINT64_MAX, &soa_claim);
		parts = 2;
		if (pthread_create(&th, NULL, merge_range, &m[0]) == 0) {
			merge_range(&m[1]);
			pthread_join(th, NULL);
		} else {
			merge_range(&m[0]);
			merge_range(&m[1]);
		}
		if (m[0].rc != 0 || m[1].rc != 0) {
			/* Perhaps split inside a record: once more, whole. */
			merge_done(&m[0]);
			merge_done(&m[1]);
			signer__reuse_forget(z, plan);
			soa_claim = 0;
			split = 0;
		}
	}
	if (split == 0) {
		parts = 1;
		merge_init(&m[0], z, c, path, 0, UINT64_MAX, &soa_claim);
		merge_range(&m[0]);
		rc = m[0].rc;
		if (rc != 0)
			memcpy(err, &m[0].err, sizeof *err);
	}
	for (size_t i = 0; i < parts; i++) {
		plan->prev_sigs += m[i].prev_sigs;
		plan->prev_sets += m[i].prev_sets;
		if (m[i].have_prev_serial) {
			plan->have_prev_serial = true;
			plan->prev_serial = m[i].prev_serial;
		}
		merge_done(&m[i]);
	}
	/* What the threads filled and marked. */
	plan->reused = 0;
	for (size_t i = 0; i < z->n_sigs; i++)
		plan->reused += z->sigs[i] != NULL;
	plan->identical = 0;
	for (size_t i = 0; i < z->n_sets; i++)
		plan->identical += z->sets[i].same_as_prev;
	for (size_t i = 0; i < z->n_nodes; i++)
		plan->identical += (z->nodes[i].flags & SIGNER_N_NSEC_SAME) != 0;
	for (size_t i = 0; i < z->n_nsec3; i++)
		plan->identical += z->nsec3[i].same;
	return rc;
}
