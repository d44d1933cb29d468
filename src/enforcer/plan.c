/*
 * enforcer_zone_update(): one planning run for one zone.
 *
 * What it needs: the zone's policy, its keys with their goals, record
 * states and DS states (in ledger order: the order is part of the input),
 * the shared-key pool for ShareKeys policies, the rollover requests and
 * the leader's jitter, and `now`.  What it promises: a plan whose key list
 * is the zone's state after every decision it allows at `now`, the actions
 * that lead there, and the earliest time at which another run could decide
 * more.  Called early it decides nothing new; called late it only delays.
 * It needs new keys from the daemon (KEY_NEW) and then a second run.
 *
 * A run does, in order:
 *   1. rollover.c: goals, standby promotion, shared-key adoption, KEY_NEW;
 *   2. records: repeat until nothing moves
 *      a. settle every rumoured/unretentive record whose wait is over
 *         (these only remove uncertainty, so they are always safe);
 *      b. move records towards their goal (hidden -> rumoured,
 *         omnipresent -> unretentive) one at a time, each only when the
 *         roll type's order allows it (policy gate, as OpenDNSSEC's
 *         policyApproval) and when no validity condition that held before
 *         fails after it (safety.c, as OpenDNSSEC's dnssecApproval);
 *      c. if no single move was allowed, try the smallest set of moves of
 *         one algorithm that is safe together (try_groups());
 *   3. purge keys that are retired, hidden everywhere and dead for Purge;
 *   4. CDS/CDNSKEY wishes.
 * All changes of one run carry the same `since` = now: the daemon must
 * publish them in one signconf (one version of each RRset), which is what
 * safety.c assumes when it treats them as one change.
 */
#include "enforcer/enforcer_int.h"

#include <stdlib.h>
#include <string.h>

struct move {
	size_t key;
	enum enforcer_record rec;
	uint8_t to;
};

struct cand {
	struct move m[2];   /* a DNSKEY introduction takes its RRSIG-DNSKEY along */
	size_t n;
};

/*- private: policy gate -*/

static bool other_good(const struct enforcer_plan *p, size_t self, bool ksk_side)
{
	const struct enforcer_key *k = &p->keys[self];
	for (size_t i = 0; i < p->n_keys; i++) {
		const struct enforcer_key *o = &p->keys[i];
		if (i == self || o->algorithm != k->algorithm)
			continue;
		if (ksk_side && enforcer__ksk_capable(o->role) &&
		    o->rec[ENFORCER_DNSKEY].state != ENFORCER_HIDDEN &&
		    o->rec[ENFORCER_DS].state != ENFORCER_HIDDEN)
			return true;
		if (!ksk_side && enforcer__zsk_capable(o->role) &&
		    o->rec[ENFORCER_DNSKEY].state != ENFORCER_HIDDEN &&
		    o->rec[ENFORCER_RRSIG].state != ENFORCER_HIDDEN)
			return true;
	}
	return false;
}

/*
 * May record r of key `ki` be introduced now?  Only introductions are
 * ordered by the roll type (OpenDNSSEC: "once the record is introduced the
 * policy has no influence").  `bundled` says the DNSKEY comes in the same
 * change (for RRSIG-DNSKEY).
 */
static bool policy_allows(const struct enforcer__work *w, size_t ki, enum enforcer_record r,
			  bool bundled)
{
	const struct enforcer_plan *p = w->plan;
	const struct enforcer_key *k = &p->keys[ki];
	const struct enforcer_slot *s = enforcer_policy_slot(w->p, k);
	unsigned min = s != NULL ? s->minimize : 0;
	uint8_t dnskey = k->rec[ENFORCER_DNSKEY].state;

	switch (r) {
	case ENFORCER_DS:
		/* Minimize DS (double signature): the parent changes once the
		 * new key is everywhere and, when it is to sign, signs. */
		if (!(min & TDM_MINIMIZE_DS))
			return true;
		return dnskey == ENFORCER_OMNIPRESENT &&
		       (k->rec[ENFORCER_RRSIG_DNSKEY].state == ENFORCER_OMNIPRESENT ||
			enforcer__target(k, ENFORCER_RRSIG_DNSKEY) == ENFORCER_HIDDEN);
	case ENFORCER_DNSKEY:
		/* Minimize DNSKEY (double DS, double RRSIG): the DNSKEY swaps
		 * once the DS or the signatures are everywhere, unless no other
		 * key of the algorithm holds a chain (first key, new algorithm). */
		if (!(min & TDM_MINIMIZE_DNSKEY))
			return true;
		if (enforcer__zsk_capable(k->role) &&
		    (k->rec[ENFORCER_RRSIG].state == ENFORCER_OMNIPRESENT ||
		     enforcer__target(k, ENFORCER_RRSIG) == ENFORCER_HIDDEN))
			return true;
		if (enforcer__ksk_capable(k->role) &&
		    (k->rec[ENFORCER_DS].state == ENFORCER_OMNIPRESENT ||
		     enforcer__target(k, ENFORCER_DS) == ENFORCER_HIDDEN))
			return true;
		if (enforcer__ksk_capable(k->role) && other_good(p, ki, true))
			return false;
		if (enforcer__zsk_capable(k->role) && other_good(p, ki, false))
			return false;
		return true;
	case ENFORCER_RRSIG_DNSKEY:
		return bundled || dnskey != ENFORCER_HIDDEN;
	case ENFORCER_RRSIG:
		/* Minimize RRSIG (pre-publication): sign once the DNSKEY is
		 * everywhere, unless no other key of the algorithm signs. */
		if (!(min & TDM_MINIMIZE_RRSIG) || dnskey == ENFORCER_OMNIPRESENT)
			return true;
		return !other_good(p, ki, false);
	}
	return false;
}

/*- private: applying moves -*/

static void apply_move(struct enforcer__work *w, const struct move *m, const char *reason)
{
	struct enforcer_key *k = &w->plan->keys[m->key];
	struct enforcer_rec *rec = &k->rec[m->rec];
	struct enforcer_action *a = enforcer__action(w, ENFORCER_ACT_RECORD, k->id, reason);
	a->record = m->rec;
	a->from = rec->state;
	a->to = m->to;
	a->role = k->role;
	a->algorithm = k->algorithm;

	if (m->rec == ENFORCER_DS) {
		if (m->to == ENFORCER_RUMOURED && k->ds == ENFORCER_DS_UNSUBMITTED) {
			k->ds = ENFORCER_DS_SUBMIT;
			k->ds_since = w->now;
			enforcer__action(w, ENFORCER_ACT_DS_SUBMIT, k->id, "DS rumoured");
		} else if (m->to == ENFORCER_UNRETENTIVE && (k->ds == ENFORCER_DS_SEEN ||
							     k->ds == ENFORCER_DS_SUBMITTED)) {
			k->ds = ENFORCER_DS_RETRACT;
			k->ds_since = w->now;
			enforcer__action(w, ENFORCER_ACT_DS_RETRACT, k->id, "DS unretentive");
		} else if (m->to == ENFORCER_HIDDEN && k->ds == ENFORCER_DS_SUBMIT) {
			k->ds = ENFORCER_DS_UNSUBMITTED;
			k->ds_since = w->now;
		}
	}
	rec->state = m->to;
	rec->since = w->now;
	w->plan->changed = true;
}

/* Would these moves leave every condition that holds now still holding? */
static bool safe_moves(struct enforcer__work *w, const struct enforcer__fails *before,
		       const struct move *m, size_t n, struct enforcer_key *scratch)
{
	struct enforcer__fails after;
	memcpy(scratch, w->plan->keys, w->plan->n_keys * sizeof *scratch);
	for (size_t i = 0; i < n; i++) {
		scratch[m[i].key].rec[m[i].rec].state = m[i].to;
		scratch[m[i].key].rec[m[i].rec].since = w->now;
	}
	enforcer__chains(w->p, scratch, w->plan->n_keys, w->now, &after);
	return enforcer__no_worse(before, &after, w->p->allow_unsigned);
}

static bool cand_allowed(const struct enforcer__work *w, const struct cand *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct move *m = &c->m[i];
		if (m->to == ENFORCER_RUMOURED && !policy_allows(w, m->key, m->rec, i > 0))
			return false;
	}
	return true;
}

/* The moves towards the goals that are possible in principle right now. */
static size_t candidates(const struct enforcer__work *w, struct cand *out)
{
	const struct enforcer_plan *p = w->plan;
	size_t n = 0;
	for (size_t ki = 0; ki < p->n_keys; ki++) {
		const struct enforcer_key *k = &p->keys[ki];
		bool bundled = false;
		for (int r = 0; r < ENFORCER_NRECORDS; r++) {
			uint8_t st = k->rec[r].state, tgt = enforcer__target(k, r);
			struct cand c = { .n = 0 };
			if (!enforcer_record_applies(k->role, r))
				continue;
			if (st == ENFORCER_HIDDEN && tgt == ENFORCER_OMNIPRESENT) {
				if (r == ENFORCER_RRSIG_DNSKEY && bundled)
					continue;
				c.m[c.n++] = (struct move){ ki, r, ENFORCER_RUMOURED };
				if (r == ENFORCER_DNSKEY && enforcer__ksk_capable(k->role) &&
				    k->rec[ENFORCER_RRSIG_DNSKEY].state == ENFORCER_HIDDEN &&
				    enforcer__target(k, ENFORCER_RRSIG_DNSKEY) == ENFORCER_OMNIPRESENT) {
					c.m[c.n++] = (struct move){ ki, ENFORCER_RRSIG_DNSKEY,
								    ENFORCER_RUMOURED };
					bundled = true;
				}
			} else if (st == ENFORCER_OMNIPRESENT && tgt == ENFORCER_HIDDEN) {
				c.m[c.n++] = (struct move){ ki, r, ENFORCER_UNRETENTIVE };
			} else {
				continue;
			}
			out[n++] = c;
		}
	}
	return n;
}

static bool settle(struct enforcer__work *w)
{
	struct enforcer_plan *p = w->plan;
	bool moved = false;
	for (size_t ki = 0; ki < p->n_keys; ki++) {
		struct enforcer_key *k = &p->keys[ki];
		for (int r = 0; r < ENFORCER_NRECORDS; r++) {
			uint8_t st = k->rec[r].state;
			struct move m = { ki, r, 0 };
			if (st != ENFORCER_RUMOURED && st != ENFORCER_UNRETENTIVE)
				continue;
			if (r == ENFORCER_DS && st == ENFORCER_RUMOURED &&
			    k->ds == ENFORCER_DS_SUBMIT &&
			    enforcer__target(k, r) == ENFORCER_HIDDEN) {
				/* Asked for but never submitted: nothing to wait for. */
				m.to = ENFORCER_HIDDEN;
				apply_move(w, &m, "DS never submitted");
				moved = true;
				continue;
			}
			if (enforcer__settle_time(w->p, k, r) > w->now)
				continue;
			m.to = st == ENFORCER_RUMOURED ? ENFORCER_OMNIPRESENT : ENFORCER_HIDDEN;
			apply_move(w, &m, "propagated");
			moved = true;
		}
	}
	return moved;
}

/*
 * When no single move is safe, look for the smallest set of moves of one
 * algorithm that is: an algorithm rollover introduces a KSK and a ZSK that
 * are only valid together, and withdraws the old algorithm's DNSKEY RRset
 * (both DNSKEYs and the signature over them) in one change while its data
 * signatures stay.  Sets are tried by size, then in candidate order, so the
 * choice is deterministic; at most GROUP_MAX moves of an algorithm are
 * considered (2^GROUP_MAX sets).
 */
#define GROUP_MAX 12

static bool try_groups(struct enforcer__work *w, const struct cand *cands, size_t n, uint8_t alg,
		       const struct enforcer__fails *before, struct move *group,
		       struct enforcer_key *scratch)
{
	const struct enforcer_plan *p = w->plan;
	size_t idx[GROUP_MAX], m = 0;
	for (size_t j = 0; j < n && m < GROUP_MAX; j++)
		if (p->keys[cands[j].m[0].key].algorithm == alg && cand_allowed(w, &cands[j]))
			idx[m++] = j;
	for (unsigned size = 2; size <= m; size++) {
		for (unsigned mask = 1; mask < (1u << m); mask++) {
			size_t ng = 0;
			if ((unsigned)__builtin_popcount(mask) != size)
				continue;
			for (size_t b = 0; b < m; b++)
				if (mask & (1u << b))
					for (size_t l = 0; l < cands[idx[b]].n; l++)
						group[ng++] = cands[idx[b]].m[l];
			if (!safe_moves(w, before, group, ng, scratch))
				continue;
			for (size_t l = 0; l < ng; l++)
				apply_move(w, &group[l], "towards goal, with its algorithm");
			return true;
		}
	}
	return false;
}

static void records(struct enforcer__work *w)
{
	struct enforcer_plan *p = w->plan;
	size_t cap = p->n_keys * ENFORCER_NRECORDS + 1;
	struct cand *cands = tdm_malloc(cap * sizeof *cands);
	struct move *group = tdm_malloc(2 * cap * sizeof *group);
	struct enforcer_key *scratch = tdm_malloc((p->n_keys + 1) * sizeof *scratch);
	bool progress = true;

	while (progress) {
		struct enforcer__fails before;
		size_t n;
		progress = settle(w);
		n = candidates(w, cands);
		enforcer__chains(w->p, p->keys, p->n_keys, w->now, &before);
		for (size_t i = 0; i < n; i++) {
			if (!cand_allowed(w, &cands[i]) ||
			    !safe_moves(w, &before, cands[i].m, cands[i].n, scratch))
				continue;
			for (size_t j = 0; j < cands[i].n; j++)
				apply_move(w, &cands[i].m[j], "towards goal");
			enforcer__chains(w->p, p->keys, p->n_keys, w->now, &before);
			progress = true;
		}
		if (progress)
			continue;
		/* Moves of one algorithm that are only safe together. */
		for (size_t i = 0; i < n && !progress; i++) {
			uint8_t alg = p->keys[cands[i].m[0].key].algorithm;
			bool first = true;
			for (size_t j = 0; j < i && first; j++)
				if (p->keys[cands[j].m[0].key].algorithm == alg)
					first = false;
			if (first)
				progress = try_groups(w, cands, n, alg, &before, group, scratch);
		}
	}

	for (size_t ki = 0; ki < p->n_keys; ki++)
		for (int r = 0; r < ENFORCER_NRECORDS; r++) {
			int64_t t = enforcer__settle_time(w->p, &p->keys[ki], r);
			if (t != ENFORCER_NEVER)
				enforcer__due(w, t);
		}
	free(scratch);
	free(group);
	free(cands);
}

/*- private: purge and CDS -*/

static void purge(struct enforcer__work *w)
{
	struct enforcer_plan *p = w->plan;
	size_t out = 0;
	for (size_t i = 0; i < p->n_keys; i++) {
		struct enforcer_key *k = &p->keys[i];
		bool dead = k->goal == ENFORCER_GOAL_RETIRE && w->p->purge >= 0;
		int64_t since = k->ds_since;
		for (int r = 0; r < ENFORCER_NRECORDS && dead; r++) {
			dead = k->rec[r].state == ENFORCER_HIDDEN;
			if (k->rec[r].since > since)
				since = k->rec[r].since;
		}
		if (dead && since + w->p->purge <= w->now) {
			enforcer__action(w, ENFORCER_ACT_KEY_PURGE, k->id, "dead");
			p->changed = true;
			continue;
		}
		if (dead)
			enforcer__due(w, since + w->p->purge);
		p->keys[out++] = *k;
	}
	p->n_keys = out;
}

static void cds(struct enforcer__work *w)
{
	struct enforcer_plan *p = w->plan;
	bool pending = false;
	if (!w->p->publish_cds && !w->p->publish_cdnskey)
		return;
	for (size_t i = 0; i < p->n_keys; i++) {
		uint8_t s = p->keys[i].rec[ENFORCER_DS].state;
		if (enforcer__ksk_capable(p->keys[i].role) &&
		    (s == ENFORCER_RUMOURED || s == ENFORCER_UNRETENTIVE))
			pending = true;
	}
	if (!pending)
		return;
	p->cds_publish = true;
	p->cds = tdm_malloc((p->n_keys + 1) * sizeof *p->cds);
	for (size_t i = 0; i < p->n_keys; i++) {
		uint8_t s = p->keys[i].rec[ENFORCER_DS].state;
		if (enforcer__ksk_capable(p->keys[i].role) &&
		    (s == ENFORCER_RUMOURED || s == ENFORCER_OMNIPRESENT))
			p->cds[p->n_cds++] = i;
	}
	p->cds_delete = p->n_cds == 0;
}

/*- public -*/

void enforcer_plan_clear(struct enforcer_plan *p)
{
	free(p->keys);
	free(p->actions);
	free(p->cds);
	memset(p, 0, sizeof *p);
}

int enforcer_zone_update(const struct enforcer_zone *z, int64_t now,
			 struct enforcer_plan *out, struct tdm_err *err)
{
	struct enforcer__work w = { .z = z, .p = z->policy, .now = now, .plan = out };

	memset(out, 0, sizeof *out);
	out->next = ENFORCER_NEVER;
	for (size_t i = 0; i < z->n_keys; i++) {
		const struct enforcer_key *k = &z->keys[i];
		if (k->role != TDM_ROLE_KSK && k->role != TDM_ROLE_ZSK && k->role != TDM_ROLE_CSK)
			return tdm_err_fail(err, TDM_EINVAL, "zone %s: key %s: unknown role %d",
					    z->name, k->id, (int)k->role);
		if (k->goal > ENFORCER_GOAL_RETIRE || k->ds > ENFORCER_DS_RETRACTED)
			return tdm_err_fail(err, TDM_EINVAL, "zone %s: key %s: bad goal or DS state",
					    z->name, k->id);
		for (int r = 0; r < ENFORCER_NRECORDS; r++)
			if (k->rec[r].state > ENFORCER_UNRETENTIVE)
				return tdm_err_fail(err, TDM_EINVAL,
						    "zone %s: key %s: %s: bad state %u", z->name,
						    k->id, enforcer_record_name(r), k->rec[r].state);
		for (size_t j = 0; j < i; j++)
			if (strcmp(z->keys[j].id, k->id) == 0)
				return tdm_err_fail(err, TDM_EINVAL, "zone %s: key %s listed twice",
						    z->name, k->id);
	}

	w.cap_keys = z->n_keys + z->n_shared_pool + 4;
	out->keys = tdm_malloc(w.cap_keys * sizeof *out->keys);
	if (z->n_keys)
		memcpy(out->keys, z->keys, z->n_keys * sizeof *out->keys);
	out->n_keys = z->n_keys;

	enforcer__rollover(&w);
	records(&w);
	purge(&w);
	cds(&w);
	return 0;
}
