/*
 * The zone model: loading records into the arena and sorting them into
 * canonical order (RFC 4034 §6.1 for names, §6.3 for RDATA within an
 * RRset).  See zone.h for the layout.
 *
 * Sorting is done on distinct owner names only (with an 8-octet integer
 * prefix of the sort key, taken after the apex, so most comparisons never
 * reach memcmp); records are then bucketed by node and each node's few
 * records are sorted by type and canonical RDATA.
 */
#include "signer/zone.h"

#include "common/log.h"
#include "signer/codec.h"
#include "signer/name.h"
#include "signer/rdata.h"
#include "signer/reader.h"

#include <stdlib.h>
#include <string.h>

/*- loading ----------------------------------------------------------------*/

const uint8_t *signer__zone_rdata(struct signer_zone *z, const uint8_t *rd, size_t len)
{
	uint8_t *b = signer__arena_alloc(&z->arena, len + 2);
	signer__put16(b, (uint32_t)len);
	memcpy(b + 2, rd, len);
	return b;
}

static const uint8_t *name_blob(struct signer_zone *z, const uint8_t *owner, size_t wl)
{
	uint8_t key[SIGNER_KEY_MAX];
	size_t kl = signer__name_key(owner, key);
	uint8_t *b = signer__arena_alloc(&z->arena, 6 + kl + wl);
	memset(b, 0, 4);
	b[4] = (uint8_t)kl;
	b[5] = (uint8_t)(kl >> 8);
	memcpy(b + 6, key, kl);
	memcpy(b + 6 + kl, owner, wl);
	return b;
}

void signer__zone_add(struct signer_zone *z, const uint8_t *owner, uint16_t type,
		      uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct signer__lrec *r;
	size_t wl = signer__name_len(owner);
	if (z->last_name == NULL || memcmp(z->last_wire, owner, wl) != 0) {
		z->last_name = name_blob(z, owner, wl);
		z->last_wire = signer__nb_wire(z->last_name);
	}
	if (z->n_lrecs == z->cap_lrecs) {
		z->cap_lrecs = z->cap_lrecs ? z->cap_lrecs * 2 : 4096;
		z->lrecs = tdm_realloc(z->lrecs, z->cap_lrecs * sizeof *z->lrecs);
	}
	r = &z->lrecs[z->n_lrecs++];
	r->name = z->last_name;
	r->rdata = signer__zone_rdata(z, rdata, rdlen);
	r->ttl = ttl;
	r->type = type;
}

static bool in_zone(const struct signer_zone *z, const uint8_t *owner)
{
	size_t ol = signer__name_len(owner), al = z->apex_len;
	const uint8_t *p = owner;
	/* The record before had the same owner: checked already. */
	if (z->last_wire != NULL && memcmp(z->last_wire, owner, ol) == 0)
		return true;
	if (ol < al)
		return false;
	/* Walk to the label where the apex would start, then compare. */
	while ((size_t)(p - owner) < ol - al)
		p += *p + 1;
	return (size_t)(p - owner) == ol - al && signer__name_equal(p, z->apex);
}

static int on_rr(void *arg, const uint8_t *owner, uint16_t type, uint32_t ttl,
		 const uint8_t *rdata, size_t rdlen, struct tdm_err *err)
{
	struct signer_zone *z = arg;
	if (!in_zone(z, owner)) {
		char ob[SIGNER_NAME_STR_MAX];
		signer__name_format(owner, ob);
		return tdm_err_fail(err, TDM_EZONE, "%s is outside the zone", ob);
	}
	if (type == T_RRSIG || type == T_NSEC || type == T_NSEC3 || type == T_NSEC3PARAM) {
		z->n_dropped++;
		return 0;
	}
	signer__zone_add(z, owner, type, ttl, rdata, rdlen);
	return 0;
}

static int zone_new(struct signer_zone **out, const char *origin, struct tdm_err *err)
{
	struct signer_zone *z = tdm_calloc(1, sizeof *z);
	const char *why = NULL;
	size_t ol = strlen(origin);
	/* The zone name is absolute whether or not it ends in a dot. */
	char *o = tdm_malloc(ol + 2);
	memcpy(o, origin, ol);
	if (ol == 0 || origin[ol - 1] != '.')
		o[ol++] = '.';
	o[ol] = '\0';
	if (signer__name_parse(o, ol, NULL, z->apex, &z->apex_len, &why) != 0) {
		free(o);
		free(z);
		return tdm_err_fail(err, TDM_EINVAL, "zone name %s: %s", origin, why);
	}
	free(o);
	z->apex_key_len = signer__name_key(z->apex, z->apex_key);
	signer__arena_init(&z->arena);
	*out = z;
	return 0;
}

int signer_zone_read(struct signer_zone **out, const char *origin,
		     const char *path, struct tdm_err *err)
{
	struct signer_zone *z;
	int rc = zone_new(&z, origin, err);
	if (rc != 0)
		return rc;
	rc = signer__read_file(path, z->apex, on_rr, z, err);
	if (rc != 0) {
		signer_zone_free(z);
		return rc;
	}
	*out = z;
	return 0;
}

int signer_zone_read_mem(struct signer_zone **out, const char *origin,
			 const char *buf, size_t len, const char *name,
			 struct tdm_err *err)
{
	struct signer_zone *z;
	int rc = zone_new(&z, origin, err);
	if (rc != 0)
		return rc;
	rc = signer__read_mem(buf, len, name, z->apex, on_rr, z, err);
	if (rc != 0) {
		signer_zone_free(z);
		return rc;
	}
	*out = z;
	return 0;
}

void signer_zone_free(struct signer_zone *z)
{
	if (z == NULL)
		return;
	signer__arena_close(&z->arena);
	free(z->lrecs);
	free(z->nodes);
	free(z->sets);
	free(z->rrs);
	free(z->nsec3);
	free(z->sigs);
	if (z->shm)
		signer__shm_free(z->shm, z->shm_len);
	free(z);
}

uint32_t signer_zone_serial(const struct signer_zone *z)
{
	const struct signer__rrset *s;
	const uint8_t *rb;
	if (!z->finalized || z->n_nodes == 0 || !(z->nodes[0].flags & SIGNER_N_APEX))
		return 0;
	s = signer__node_set(z, 0, T_SOA);
	if (s == NULL)
		return 0;
	rb = z->rrs[s->first_rr];
	return signer__get32(signer__rb_data(rb) + signer__rb_len(rb) - 20);
}

/*- sorting ----------------------------------------------------------------*/

struct occ {
	uint64_t pfx;
	const uint8_t *nb;
	size_t idx;
};

static uint64_t key_prefix(const uint8_t *nb, size_t skip)
{
	const uint8_t *k = signer__nb_key(nb);
	size_t kl = signer__nb_keylen(nb);
	uint64_t v = 0;
	for (size_t i = 0; i < 8; i++)
		v = v << 8 | (skip + i < kl ? k[skip + i] : 0);
	return v;
}

static int occ_cmp(const void *pa, const void *pb)
{
	const struct occ *a = pa, *b = pb;
	int c;
	if (a->pfx != b->pfx)
		return a->pfx < b->pfx ? -1 : 1;
	c = signer__key_cmp(signer__nb_key(a->nb), signer__nb_keylen(a->nb),
			    signer__nb_key(b->nb), signer__nb_keylen(b->nb));
	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * Sort by the 8-octet prefix with a least-significant-digit radix sort (four
 * passes of 16 bits: linear, where qsort's comparisons were a third of
 * reading a large zone), then finish runs of equal prefixes by comparing
 * whole keys.  Stable, so equal names keep their input order.
 */
static void sort_occ(struct occ *a, size_t n)
{
	struct occ *tmp, *src = a, *dst;
	size_t *count;
	if (n < 4096) {
		qsort(a, n, sizeof *a, occ_cmp);
		return;
	}
	tmp = tdm_malloc(n * sizeof *tmp);
	count = tdm_malloc(65536 * sizeof *count);
	dst = tmp;
	for (unsigned pass = 0; pass < 4; pass++) {
		unsigned shift = 16 * pass;
		size_t sum = 0;
		struct occ *t;
		memset(count, 0, 65536 * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[(src[i].pfx >> shift) & 0xffff]++;
		for (size_t b = 0; b < 65536; b++) {
			size_t c = count[b];
			count[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i].pfx >> shift) & 0xffff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	/* Four passes: the result is back in a. */
	free(tmp);
	free(count);
	for (size_t i = 0, j; i < n; i = j) {
		j = i + 1;
		while (j < n && a[j].pfx == a[i].pfx)
			j++;
		if (j - i > 1)
			qsort(a + i, j - i, sizeof *a, occ_cmp);
	}
}

static int rdata_cmp(uint16_t type, const uint8_t *ra, const uint8_t *rb)
{
	size_t al = signer__rb_len(ra), bl = signer__rb_len(rb);
	const uint8_t *a = signer__rb_data(ra), *b = signer__rb_data(rb);
	int c;
	if (signer__rdata_has_names(type)) {
		static __thread uint8_t ca[65536], cb[65536];
		signer__rdata_canonical(type, a, al, ca);
		signer__rdata_canonical(type, b, bl, cb);
		a = ca;
		b = cb;
	}
	c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

static int lrec_cmp(const void *pa, const void *pb)
{
	const struct signer__lrec *a = pa, *b = pb;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return rdata_cmp(a->type, a->rdata, b->rdata);
}

static void sort_node(struct signer__lrec *r, size_t n)
{
	if (n <= 1)
		return;
	if (n <= 8) {
		for (size_t i = 1; i < n; i++) {
			struct signer__lrec t = r[i];
			size_t j = i;
			while (j > 0 && lrec_cmp(&r[j - 1], &t) > 0) {
				r[j] = r[j - 1];
				j--;
			}
			r[j] = t;
		}
		return;
	}
	qsort(r, n, sizeof *r, lrec_cmp);
}

/*
 * Copy every name and RDATA blob into a new arena in canonical order and
 * drop the old one (and with it the duplicates).  Everything after this
 * walks the zone in that order (rules, chain, reuse, the writer), and with
 * the blobs in input order most of that time went to cache misses.
 */
static void repack(struct signer_zone *z)
{
	struct signer__arena na;
	signer__arena_init(&na);
	for (size_t nd = 0; nd < z->n_nodes; nd++) {
		struct signer__node *node = &z->nodes[nd];
		const uint8_t *nb = node->name;
		size_t nl = 6 + signer__nb_keylen(nb) + signer__name_len(signer__nb_wire(nb));
		uint8_t *b = signer__arena_alloc(&na, nl);
		memcpy(b, nb, nl);
		node->name = b;
		for (size_t k = 0; k < node->n_sets; k++) {
			const struct signer__rrset *set = &z->sets[node->first_set + k];
			for (size_t r = 0; r < set->n_rr; r++) {
				const uint8_t *rb = z->rrs[set->first_rr + r];
				size_t rl = signer__rb_len(rb) + 2;
				uint8_t *c = signer__arena_alloc(&na, rl);
				memcpy(c, rb, rl);
				z->rrs[set->first_rr + r] = c;
			}
		}
	}
	signer__arena_close(&z->arena);
	z->arena = na;
	z->last_name = z->last_wire = NULL;
}

int signer__zone_finalize(struct signer_zone *z, struct tdm_err *err)
{
	struct occ *occ;
	size_t n_occ = 0, n_nodes = 0;
	uint32_t *count;
	struct signer__lrec *sorted;
	size_t *pos;

	occ = tdm_malloc((z->n_lrecs + 1) * sizeof *occ);
	for (size_t i = 0; i < z->n_lrecs; i++) {
		if (n_occ > 0 && occ[n_occ - 1].nb == z->lrecs[i].name)
			continue;
		occ[n_occ].nb = z->lrecs[i].name;
		occ[n_occ].pfx = key_prefix(z->lrecs[i].name, z->apex_key_len);
		occ[n_occ].idx = n_occ;
		n_occ++;
	}
	/* A zone file in canonical order needs no sort: check first. */
	{
		size_t k = 1;
		while (k < n_occ && occ_cmp(&occ[k - 1], &occ[k]) < 0)
			k++;
		if (k < n_occ)
			sort_occ(occ, n_occ);
	}

	z->nodes = tdm_calloc(n_occ ? n_occ : 1, sizeof *z->nodes);
	for (size_t i = 0; i < n_occ; i++) {
		uint32_t id;
		if (n_nodes == 0 ||
		    signer__key_cmp(signer__nb_key(occ[i].nb), signer__nb_keylen(occ[i].nb),
				    signer__nb_key(z->nodes[n_nodes - 1].name),
				    signer__nb_keylen(z->nodes[n_nodes - 1].name)) != 0) {
			z->nodes[n_nodes].name = occ[i].nb;
			n_nodes++;
		}
		id = (uint32_t)(n_nodes - 1);
		memcpy((uint8_t *)occ[i].nb, &id, 4);
	}
	free(occ);
	z->n_nodes = n_nodes;

	/* Bucket the records by node, keeping input order within a node. */
	count = tdm_calloc(n_nodes + 1, sizeof *count);
	for (size_t i = 0; i < z->n_lrecs; i++)
		count[signer__nb_node(z->lrecs[i].name) + 1]++;
	for (size_t i = 1; i <= n_nodes; i++)
		count[i] += count[i - 1];
	pos = tdm_malloc((n_nodes + 1) * sizeof *pos);
	for (size_t i = 0; i <= n_nodes; i++)
		pos[i] = count[i];
	sorted = tdm_malloc((z->n_lrecs + 1) * sizeof *sorted);
	for (size_t i = 0; i < z->n_lrecs; i++)
		sorted[pos[signer__nb_node(z->lrecs[i].name)]++] = z->lrecs[i];
	free(pos);
	free(z->lrecs);
	z->lrecs = NULL;
	z->cap_lrecs = 0;

	z->rrs = tdm_malloc((z->n_lrecs + 1) * sizeof *z->rrs);
	z->sets = tdm_malloc((z->n_lrecs + 1) * sizeof *z->sets);
	z->n_rrs = z->n_sets = 0;
	for (size_t nd = 0; nd < n_nodes; nd++) {
		struct signer__lrec *r = sorted + count[nd];
		size_t n = count[nd + 1] - count[nd];
		struct signer__node *node = &z->nodes[nd];
		sort_node(r, n);
		node->first_set = (uint32_t)z->n_sets;
		for (size_t i = 0; i < n; i++) {
			struct signer__rrset *s;
			if (i > 0 && r[i].type == r[i - 1].type &&
			    rdata_cmp(r[i].type, r[i].rdata, r[i - 1].rdata) == 0) {
				z->n_dup++;
				continue;
			}
			if (i == 0 || r[i].type != r[i - 1].type) {
				s = &z->sets[z->n_sets++];
				memset(s, 0, sizeof *s);
				s->first_rr = (uint32_t)z->n_rrs;
				s->node = (uint32_t)nd;
				s->type = r[i].type;
				s->ttl = r[i].ttl;
			} else {
				s = &z->sets[z->n_sets - 1];
				if (r[i].ttl != s->ttl) {
					char ob[SIGNER_NAME_STR_MAX], tb[16];
					signer__name_format(signer__nb_wire(node->name), ob);
					tdm_log_warn("%s %s: records with TTLs %u and %u; using %u (RFC 2181 §5.2)",
						     ob, signer__type_name(s->type, tb),
						     (unsigned)s->ttl, (unsigned)r[i].ttl,
						     (unsigned)(r[i].ttl < s->ttl ? r[i].ttl : s->ttl));
				}
				if (r[i].ttl < s->ttl)
					s->ttl = r[i].ttl;
			}
			if (s->n_rr == UINT16_MAX) {
				free(sorted);
				free(count);
				return tdm_err_fail(err, TDM_EZONE, "RRset with more than 65535 records");
			}
			s->n_rr++;
			z->rrs[z->n_rrs++] = r[i].rdata;
		}
		node->n_sets = (uint16_t)(z->n_sets - node->first_set);
	}
	free(sorted);
	free(count);
	/* Both were sized for one RRset per record. */
	z->sets = tdm_realloc(z->sets, (z->n_sets + 1) * sizeof *z->sets);
	z->rrs = tdm_realloc(z->rrs, (z->n_rrs + 1) * sizeof *z->rrs);
	repack(z);
	z->finalized = true;
	if (n_nodes > 0 && signer__key_cmp(signer__nb_key(z->nodes[0].name),
					   signer__nb_keylen(z->nodes[0].name), z->apex_key,
					   z->apex_key_len) == 0)
		z->nodes[0].flags |= SIGNER_N_APEX;
	if (z->n_dup > 0)
		tdm_log_notice("%zu duplicate records removed", z->n_dup);
	return 0;
}

struct signer__rrset *signer__node_set(const struct signer_zone *z, size_t n, uint16_t type)
{
	const struct signer__node *node = &z->nodes[n];
	for (size_t i = 0; i < node->n_sets; i++) {
		struct signer__rrset *s = &z->sets[node->first_set + i];
		if (s->type == type)
			return s;
		if (s->type > type)
			break;
	}
	return NULL;
}
