/*
 * The safety predicate: enforcer_zone_is_safe(), enforcer_zone_is_secure()
 * and the failure sets the transition gate of plan.c compares.
 *
 * A validator caches three things independently: the parent's DS RRset,
 * the DNSKEY RRset with its RRSIGs, and any other signed RRset with its
 * RRSIGs.  Each cached copy is one published version.  From the record
 * states we know which versions may still be cached: a settled record
 * (omnipresent, hidden) is in every copy or in none; a rumoured record
 * changed at `since` is in the versions published from `since` on, an
 * unretentive one in those published before `since`.  All records of one
 * RRset that changed at the same time changed in the same version (one
 * enforcer run publishes one signconf), so the versions of an RRset are cut
 * at the distinct `since` times of its uncertain records: with m distinct
 * times there are m + 1 versions.  This is what makes a swap (old record
 * unretentive and new record rumoured at the same time) safe while a gap
 * between them is not, without OpenDNSSEC's successor-dependency table.
 *
 * For every combination of versions (DS, DNSKEY, signed data):
 *   C1  the DS RRset is not empty (the zone stays secure);
 *   C2  for every algorithm A with a DS: some key of algorithm A has its DS,
 *       its DNSKEY and its RRSIG over the DNSKEY RRset;
 *   C3  if the DS RRset is not empty, for every algorithm A with a DNSKEY:
 *       the DNSKEY RRset is signed by a published key of algorithm A and the
 *       data by a published key of algorithm A (RFC 4035 §2.2: "There MUST
 *       be an RRSIG for each RRset using at least one DNSKEY of each
 *       algorithm in the zone apex DNSKEY RRset").
 * These are OpenDNSSEC's rules 1-3 ("a DS, a DNSKEY and a signature chain
 * for every algorithm"), evaluated over the possible versions; C3 is the
 * strict (RFC 6781 §4.1.4 "conservative") reading for algorithm rollovers.
 */
#include "enforcer/enforcer_int.h"

#include <stdlib.h>
#include <string.h>

enum { G_DS, G_KEYSET, G_DATA, N_GROUPS };

struct cuts {
	int64_t *t;   /* sorted, distinct; room for every record of the zone */
	size_t n;
};

static int group_of(enum enforcer_record r)
{
	switch (r) {
	case ENFORCER_DS:
		return G_DS;
	case ENFORCER_DNSKEY:
	case ENFORCER_RRSIG_DNSKEY:
		return G_KEYSET;
	case ENFORCER_RRSIG:
		return G_DATA;
	}
	return G_DATA;
}

static void cut_add(struct cuts *c, int64_t t)
{
	size_t i = 0;
	while (i < c->n && c->t[i] < t)
		i++;
	if (i < c->n && c->t[i] == t)
		return;
	memmove(&c->t[i + 1], &c->t[i], (c->n - i) * sizeof c->t[0]);
	c->t[i] = t;
	c->n++;
}

/*
 * Presence of record r of key k in version v of its RRset: v == 0 is the
 * oldest version (before every cut), v == i the one published at cut i-1.
 */
struct view_ctx {
	const struct enforcer_policy *p;
	const struct enforcer_key *keys;
	size_t n;
	int64_t now;
	struct cuts cuts[N_GROUPS];
	uint8_t *fixed;  /* per key and record: 0 absent, 1 present, 2 depends on version */
};

static bool present(const struct view_ctx *c, size_t k, enum enforcer_record r, size_t v)
{
	uint8_t f = c->fixed[k * ENFORCER_NRECORDS + r];
	int64_t s, since;
	if (f != 2)
		return f == 1;
	if (v == 0)
		s = INT64_MIN;
	else
		s = c->cuts[group_of(r)].t[v - 1];
	since = c->keys[k].rec[r].since;
	if (c->keys[k].rec[r].state == ENFORCER_RUMOURED)
		return s >= since;
	return s < since; /* unretentive */
}

void enforcer__chains(const struct enforcer_policy *p, const struct enforcer_key *keys,
		      size_t n, int64_t now, struct enforcer__fails *out)
{
	struct view_ctx c = { .p = p, .keys = keys, .n = n, .now = now };
	uint8_t fixed_small[16 * ENFORCER_NRECORDS];
	int64_t cuts_small[N_GROUPS][16 * ENFORCER_NRECORDS], *cuts_big = NULL;
	bool alg_ds[256], alg_key[256];

	memset(out, 0, sizeof *out);
	if (n <= 16) {
		c.fixed = fixed_small;
		for (int g = 0; g < N_GROUPS; g++)
			c.cuts[g].t = cuts_small[g];
	} else {
		c.fixed = tdm_malloc(n * ENFORCER_NRECORDS);
		cuts_big = tdm_malloc(N_GROUPS * n * ENFORCER_NRECORDS * sizeof *cuts_big);
		for (int g = 0; g < N_GROUPS; g++)
			c.cuts[g].t = cuts_big + (size_t)g * n * ENFORCER_NRECORDS;
	}
	for (size_t k = 0; k < n; k++) {
		for (int r = 0; r < ENFORCER_NRECORDS; r++) {
			uint8_t *f = &c.fixed[k * ENFORCER_NRECORDS + r];
			if (enforcer__surely_present(p, &keys[k], r, now))
				*f = 1;
			else if (enforcer__surely_absent(p, &keys[k], r, now))
				*f = 0;
			else {
				*f = 2;
				cut_add(&c.cuts[group_of(r)], keys[k].rec[r].since);
			}
		}
	}

	for (size_t vd = 0; vd <= c.cuts[G_DS].n; vd++) {
		bool any_ds = false;
		memset(alg_ds, 0, sizeof alg_ds);
		for (size_t k = 0; k < n; k++)
			if (present(&c, k, ENFORCER_DS, vd)) {
				any_ds = true;
				alg_ds[keys[k].algorithm] = true;
			}
		if (!any_ds)
			out->insecure = true;
		for (size_t vk = 0; vk <= c.cuts[G_KEYSET].n; vk++) {
			/* C2: every DS algorithm leads to a signed DNSKEY RRset. */
			memset(alg_key, 0, sizeof alg_key);
			for (size_t k = 0; k < n; k++)
				if (present(&c, k, ENFORCER_DNSKEY, vk))
					alg_key[keys[k].algorithm] = true;
			for (int a = 0; a < 256; a++) {
				bool ok = false;
				if (!alg_ds[a])
					continue;
				for (size_t k = 0; k < n && !ok; k++)
					ok = keys[k].algorithm == a &&
					     present(&c, k, ENFORCER_DS, vd) &&
					     present(&c, k, ENFORCER_DNSKEY, vk) &&
					     present(&c, k, ENFORCER_RRSIG_DNSKEY, vk);
				if (!ok)
					out->alg[a] |= ENFORCER__C2;
			}
			if (!any_ds)
				continue; /* insecure: validators check nothing further */
			/* C3: every algorithm of the DNSKEY RRset signs it and the data. */
			for (size_t vs = 0; vs <= c.cuts[G_DATA].n; vs++) {
				for (int a = 0; a < 256; a++) {
					bool ks = false, zs = false;
					if (!alg_key[a])
						continue;
					for (size_t k = 0; k < n; k++) {
						if (keys[k].algorithm != a ||
						    !present(&c, k, ENFORCER_DNSKEY, vk))
							continue;
						ks = ks || present(&c, k, ENFORCER_RRSIG_DNSKEY, vk);
						zs = zs || present(&c, k, ENFORCER_RRSIG, vs);
					}
					if (!ks || !zs)
						out->alg[a] |= ENFORCER__C3;
				}
			}
		}
	}
	if (c.fixed != fixed_small) {
		free(c.fixed);
		free(cuts_big);
	}
}

bool enforcer__no_worse(const struct enforcer__fails *before, const struct enforcer__fails *after,
			bool ignore_c1)
{
	if (!ignore_c1 && after->insecure && !before->insecure)
		return false;
	for (int a = 0; a < 256; a++)
		if (after->alg[a] & ~before->alg[a])
			return false;
	return true;
}

bool enforcer_zone_is_safe(const struct enforcer_zone *z, int64_t now)
{
	struct enforcer__fails f;
	enforcer__chains(z->policy, z->keys, z->n_keys, now, &f);
	for (int a = 0; a < 256; a++)
		if (f.alg[a])
			return false;
	return true;
}

bool enforcer_zone_is_secure(const struct enforcer_zone *z, int64_t now)
{
	struct enforcer__fails f;
	enforcer__chains(z->policy, z->keys, z->n_keys, now, &f);
	return !f.insecure;
}
