/*
 * Signature reuse; see reuse.h.  The new zone and the previous output are
 * both in canonical order, so they are matched with one merge walk over
 * their nodes (and one more for the NSEC3 owners), never with lookups.
 */
#include "signer/reuse.h"

#include "signer/codec.h"
#include "signer/name.h"
#include "signer/rdata.h"

#include <stdlib.h>

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

bool signer__rrsig_is_reusable(const struct signer__sigctx *c, const struct signer__target *t,
			       size_t k, const uint8_t *blob)
{
	const uint8_t *rd = signer__rb_data(blob);
	size_t len = signer__rb_len(blob), nl;
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

static bool same_rdata(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, signer__rb_len(a) + 2) == 0;
}

/* The previous RRSIGs at prev node pn covering `type`: [*first, *first + *n). */
static void prev_sigs(const struct signer_zone *prev, size_t pn, uint16_t type,
		      const uint8_t *const **first, size_t *n)
{
	const struct signer__rrset *s = signer__node_set(prev, pn, T_RRSIG);
	size_t i = 0, j;
	*n = 0;
	*first = NULL;
	if (s == NULL)
		return;
	while (i < s->n_rr && signer__get16(signer__rb_data(prev->rrs[s->first_rr + i])) < type)
		i++;
	j = i;
	while (j < s->n_rr && signer__get16(signer__rb_data(prev->rrs[s->first_rr + j])) == type)
		j++;
	*first = &prev->rrs[s->first_rr + i];
	*n = j - i;
}

/* Fill the slots of one target: reuse what can be reused, list the rest. */
static void plan_target(struct signer_zone *z, const struct signer__sigctx *c,
			struct signer__plan *plan, uint8_t kind, uint32_t index,
			uint32_t first_slot, const uint8_t *keys, size_t nk,
			const uint8_t *const *cand, size_t n_cand)
{
	struct signer__target t;
	bool have_t = false;
	for (size_t i = 0; i < nk; i++) {
		const uint8_t *found = NULL;
		if (n_cand > 0) {
			if (!have_t) {
				signer__target_get(c, kind, index, &t);
				have_t = true;
			}
			for (size_t j = 0; j < n_cand && !found; j++)
				if (signer__rrsig_is_reusable(c, &t, keys[i], cand[j]))
					found = cand[j];
		}
		if (found) {
			z->sigs[first_slot + i] = found;
			plan->reused++;
		} else {
			z->sigs[first_slot + i] = NULL;
			push(plan, (uint32_t)(first_slot + i), index, kind, keys[i]);
		}
	}
}

static bool same_set(const struct signer_zone *z, const struct signer__rrset *s,
		     const struct signer_zone *prev, const struct signer__rrset *ps)
{
	if (s->ttl != ps->ttl || s->n_rr != ps->n_rr)
		return false;
	for (size_t i = 0; i < s->n_rr; i++)
		if (!same_rdata(z->rrs[s->first_rr + i], prev->rrs[ps->first_rr + i]))
			return false;
	return true;
}

static int node_cmp(const struct signer_zone *a, size_t i, const struct signer_zone *b, size_t j)
{
	return signer__key_cmp(signer__nb_key(a->nodes[i].name), signer__nb_keylen(a->nodes[i].name),
			       signer__nb_key(b->nodes[j].name), signer__nb_keylen(b->nodes[j].name));
}

static int plan_all(struct signer_zone *z, const struct signer_zone *prev,
		    const struct signer__sigctx *c, struct signer__plan *plan,
		    struct tdm_err *err)
{
	const struct signer_params *p = c->p;
	uint8_t *zsk = plan->zsk, *ksk = plan->ksk;
	size_t nz = 0, nks = 0, slots = 0, j = 0;
	bool nsec3 = z->n_nsec3 > 0;

	for (size_t i = 0; i < p->n_keys && i < 256; i++) {
		if (!p->keys[i].active)
			continue;
		if (p->keys[i].zsk)
			zsk[nz++] = (uint8_t)i;
		if (p->keys[i].ksk)
			ksk[nks++] = (uint8_t)i;
	}
	if (nz == 0)
		return tdm_err_fail(err, TDM_ENOKEY, "the signconf has no active ZSK (or CSK)");
	if (nks == 0)
		return tdm_err_fail(err, TDM_ENOKEY, "the signconf has no active KSK (or CSK)");
	plan->nz = nz;
	plan->nks = nks;

	/* Slots. */
	for (size_t i = 0; i < z->n_sets; i++) {
		struct signer__rrset *s = &z->sets[i];
		s->n_sig = 0;
		if (!signer__set_is_signed(z, s))
			continue;
		s->first_sig = (uint32_t)slots;
		s->n_sig = (uint8_t)(s->type == T_DNSKEY ? nks : nz);
		slots += s->n_sig;
		z->nodes[s->node].flags |= SIGNER_N_SIGNED;
		if (s->type == T_SOA)
			plan->soa_set = i;
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
	plan->new_sets = z->n_sets + z->n_nsec3;
	for (size_t i = 0; i < z->n_nodes; i++)
		plan->new_sets += z->nodes[i].nsec != NULL;

	if (prev != NULL) {
		for (size_t i = 0; i < prev->n_sets; i++) {
			if (prev->sets[i].type == T_RRSIG)
				plan->prev_sigs += prev->sets[i].n_rr;
			else
				plan->prev_sets++;
		}
	}

	/* Nodes, merged with the previous output's. */
	for (size_t i = 0; i < z->n_nodes; i++) {
		struct signer__node *n = &z->nodes[i];
		bool matched = false;
		size_t pk = 0;
		if (prev != NULL) {
			int cmp = 1;
			while (j < prev->n_nodes && (cmp = node_cmp(z, i, prev, j)) > 0)
				j++;
			matched = j < prev->n_nodes && cmp == 0;
		}
		if (matched) {
			const struct signer__node *pn = &prev->nodes[j];
			for (size_t si = 0; si < n->n_sets; si++) {
				struct signer__rrset *s = &z->sets[n->first_set + si];
				const struct signer__rrset *ps = NULL;
				for (; pk < pn->n_sets; pk++) {
					if (prev->sets[pn->first_set + pk].type >= s->type) {
						if (prev->sets[pn->first_set + pk].type == s->type)
							ps = &prev->sets[pn->first_set + pk];
						break;
					}
				}
				s->same_as_prev = ps != NULL && same_set(z, s, prev, ps);
				if (s->same_as_prev)
					plan->identical++;
				if (s->n_sig == 0)
					continue;
				if (s->same_as_prev) {
					const uint8_t *const *cand;
					size_t nc;
					prev_sigs(prev, j, s->type, &cand, &nc);
					plan_target(z, c, plan, SIGNER_T_SET, (uint32_t)(s - z->sets),
						    s->first_sig, s->type == T_DNSKEY ? ksk : zsk,
						    s->n_sig, cand, nc);
				} else {
					plan_target(z, c, plan, SIGNER_T_SET, (uint32_t)(s - z->sets),
						    s->first_sig, s->type == T_DNSKEY ? ksk : zsk,
						    s->n_sig, NULL, 0);
				}
			}
			if (n->nsec != NULL) {
				const struct signer__rrset *ps = signer__node_set(prev, j, T_NSEC);
				const uint8_t *const *cand = NULL;
				size_t nc = 0;
				if (ps != NULL && ps->n_rr == 1 && ps->ttl == z->denial_ttl &&
				    same_rdata(n->nsec, prev->rrs[ps->first_rr])) {
					plan->identical++;
					prev_sigs(prev, j, T_NSEC, &cand, &nc);
				}
				plan_target(z, c, plan, SIGNER_T_NSEC, (uint32_t)i, n->nsec_sig, zsk,
					    n->nsec_nsig, cand, nc);
			}
		} else {
			for (size_t si = 0; si < n->n_sets; si++) {
				struct signer__rrset *s = &z->sets[n->first_set + si];
				s->same_as_prev = false;
				if (s->n_sig)
					plan_target(z, c, plan, SIGNER_T_SET, (uint32_t)(s - z->sets),
						    s->first_sig, s->type == T_DNSKEY ? ksk : zsk,
						    s->n_sig, NULL, 0);
			}
			if (n->nsec != NULL)
				plan_target(z, c, plan, SIGNER_T_NSEC, (uint32_t)i, n->nsec_sig, zsk,
					    n->nsec_nsig, NULL, 0);
		}
	}

	/* NSEC3 owners, merged with the previous output's nodes. */
	if (nsec3) {
		uint8_t key[SIGNER_KEY_MAX];
		size_t kl = z->apex_key_len;
		memcpy(key, z->apex_key, kl);
		key[kl + 32] = 0;
		j = 0;
		for (size_t i = 0; i < z->n_nsec3; i++) {
			struct signer__nsec3 *e = &z->nsec3[i];
			const uint8_t *const *cand = NULL;
			size_t nc = 0;
			if (prev != NULL) {
				int cmp = 1;
				signer__b32hex_encode(e->hash, 20, (char *)key + kl);
				while (j < prev->n_nodes &&
				       (cmp = signer__key_cmp(key, kl + 33,
							      signer__nb_key(prev->nodes[j].name),
							      signer__nb_keylen(prev->nodes[j].name))) > 0)
					j++;
				if (j < prev->n_nodes && cmp == 0) {
					const struct signer__rrset *ps = signer__node_set(prev, j, T_NSEC3);
					if (ps != NULL && ps->n_rr == 1 && ps->ttl == z->denial_ttl &&
					    same_rdata(e->rdata, prev->rrs[ps->first_rr])) {
						plan->identical++;
						prev_sigs(prev, j, T_NSEC3, &cand, &nc);
					}
				}
			}
			plan_target(z, c, plan, SIGNER_T_NSEC3, (uint32_t)i, e->first_sig, zsk,
				    e->n_sig, cand, nc);
		}
	}
	return 0;
}

int signer__reuse_plan(struct signer_zone *z, const struct signer_zone *prev,
		       const struct signer__sigctx *c, struct signer__plan *plan,
		       struct tdm_err *err)
{
	memset(plan, 0, sizeof *plan);
	return plan_all(z, prev, c, plan, err);
}

void signer__plan_resign_set(struct signer_zone *z, struct signer__plan *plan, size_t set)
{
	struct signer__rrset *s = &z->sets[set];
	size_t w = 0;
	/* Drop the set's queued items, then queue every slot again. */
	for (size_t i = 0; i < plan->n_items; i++) {
		const struct signer__work *it = &plan->items[i];
		if (it->kind == SIGNER_T_SET && it->target == set)
			continue;
		plan->items[w++] = *it;
	}
	plan->n_items = w;
	for (size_t i = 0; i < s->n_sig; i++) {
		if (z->sigs[s->first_sig + i] != NULL) {
			z->sigs[s->first_sig + i] = NULL;
			plan->reused--;
		}
	}
	for (size_t i = 0; i < s->n_sig; i++)
		push(plan, (uint32_t)(s->first_sig + i), (uint32_t)set, SIGNER_T_SET,
		     s->type == T_DNSKEY ? plan->ksk[i] : plan->zsk[i]);
}
