/*
 * The policy half of a plan: which keys a zone should have.  For each slot
 * of the policy (one <KSK>, <ZSK> or <CSK> element) the zone keeps one
 * active key and `Standby` standby keys.  A rollover starts when the slot
 * has no active key, when `key rollover` was asked for the role after the
 * active key began, or, unless ManualRollover, when the active key's
 * lifetime (less the zone's jitter) is over.  A rollover promotes the
 * oldest standby key, or adopts the newest shared key (ShareKeys), or asks
 * the daemon for a new key (KEY_NEW).  Every active key of a slot but the
 * youngest, and every key that fits no slot, is retired; the record state
 * machine (plan.c) then carries out the introduction and the retirement in
 * the order the slot's roll type (its "minimize" bits) and safety allow.
 *
 * Nothing here depends on anything but the inputs: the same zone, keys and
 * `now` give the same decisions, in slot order and then key order.
 */
#include "enforcer/enforcer_int.h"

#include <stdlib.h>
#include <string.h>

struct enforcer_action *enforcer__action(struct enforcer__work *w, enum enforcer_action_type t,
					 const char *key_id, const char *reason)
{
	struct enforcer_plan *p = w->plan;
	struct enforcer_action *a;
	if (p->n_actions == w->cap_actions) {
		w->cap_actions = w->cap_actions ? 2 * w->cap_actions : 16;
		p->actions = tdm_realloc(p->actions, w->cap_actions * sizeof *p->actions);
	}
	a = &p->actions[p->n_actions++];
	memset(a, 0, sizeof *a);
	a->type = t;
	a->key_id = key_id;
	a->reason = reason;
	return a;
}

void enforcer__due(struct enforcer__work *w, int64_t t)
{
	if (t < w->plan->next)
		w->plan->next = t;
}

static bool in_slot(const struct enforcer__work *w, const struct enforcer_key *k,
		    const struct enforcer_slot *s)
{
	return enforcer_policy_slot(w->p, k) == s;
}

/* Is a younger than b?  Ties go by creation, then by id, so the order is total. */
static bool younger(const struct enforcer_key *a, const struct enforcer_key *b)
{
	if (a->active_since != b->active_since)
		return a->active_since > b->active_since;
	if (a->created != b->created)
		return a->created > b->created;
	return strcmp(a->id, b->id) > 0;
}

static void set_goal(struct enforcer__work *w, struct enforcer_key *k, enum enforcer_goal g,
		     const char *reason)
{
	struct enforcer_action *a;
	if (k->goal == g)
		return;
	k->goal = g;
	if (g == ENFORCER_GOAL_ACTIVE)
		k->active_since = w->now;
	a = enforcer__action(w, ENFORCER_ACT_KEY_GOAL, k->id, reason);
	a->goal = g;
	a->role = k->role;
	a->algorithm = k->algorithm;
	a->bits = k->bits;
}

static void key_new(struct enforcer__work *w, const struct enforcer_slot *s, enum enforcer_goal g,
		    const char *reason)
{
	struct enforcer_action *a = enforcer__action(w, ENFORCER_ACT_KEY_NEW, NULL, reason);
	a->role = s->role;
	a->algorithm = s->algorithm;
	a->bits = s->bits;
	a->repository = s->conf->repository;
	a->goal = g;
	a->shared = w->p->share_keys;
	w->plan->keys_needed = true;
}

static bool zone_has(const struct enforcer__work *w, const char *id)
{
	for (size_t i = 0; i < w->plan->n_keys; i++)
		if (strcmp(w->plan->keys[i].id, id) == 0)
			return true;
	return false;
}

/*
 * ShareKeys: the newest key of the pool for slot s that this zone does not
 * use, created after `after`, and (automatic rollover) with life left.
 */
static const struct enforcer_key *pool_pick(const struct enforcer__work *w,
					    const struct enforcer_slot *s, int64_t after)
{
	const struct enforcer_key *best = NULL;
	for (size_t i = 0; i < w->z->n_shared_pool; i++) {
		const struct enforcer_key *k = &w->z->shared_pool[i];
		if (!in_slot(w, k, s) || k->created <= after || zone_has(w, k->id))
			continue;
		if (!s->manual_rollover && k->created + s->lifetime <= w->now)
			continue;
		if (best == NULL || k->created > best->created ||
		    (k->created == best->created && strcmp(k->id, best->id) > 0))
			best = k;
	}
	return best;
}

static struct enforcer_key *adopt(struct enforcer__work *w, const struct enforcer_key *pk,
				  enum enforcer_goal g, const char *reason)
{
	struct enforcer_plan *p = w->plan;
	struct enforcer_key *k;
	struct enforcer_action *a;
	if (p->n_keys == w->cap_keys) {
		w->cap_keys = 2 * w->cap_keys + 4;
		p->keys = tdm_realloc(p->keys, w->cap_keys * sizeof *p->keys);
	}
	k = &p->keys[p->n_keys++];
	enforcer_key_init(k, pk->id, pk->locator, pk->role, pk->algorithm, pk->bits,
			  pk->key_tag, g, true, w->now);
	k->repository = pk->repository;
	/* A shared key's lifetime runs from its creation, whichever zone
	 * adopts it, so the zones of a policy roll together. */
	k->created = pk->created;
	k->active_since = pk->created;
	a = enforcer__action(w, ENFORCER_ACT_KEY_ADOPT, k->id, reason);
	a->goal = g;
	a->role = k->role;
	a->algorithm = k->algorithm;
	a->bits = k->bits;
	a->shared = true;
	return k;
}

static void slot_update(struct enforcer__work *w, const struct enforcer_slot *s)
{
	struct enforcer_plan *p = w->plan;
	const struct enforcer_zone *z = w->z;
	struct enforcer_key *newest = NULL, *standby = NULL;
	const char *reason = NULL;
	int64_t requested = z->roll_requested[s->role & 3];
	uint32_t n_standby = 0;

	for (size_t i = 0; i < p->n_keys; i++) {
		struct enforcer_key *k = &p->keys[i];
		if (k->goal != ENFORCER_GOAL_ACTIVE || !in_slot(w, k, s))
			continue;
		if (newest == NULL || younger(k, newest))
			newest = k;
	}
	for (size_t i = 0; i < p->n_keys; i++) {
		struct enforcer_key *k = &p->keys[i];
		if (k != newest && k->goal == ENFORCER_GOAL_ACTIVE && in_slot(w, k, s))
			set_goal(w, k, ENFORCER_GOAL_RETIRE, "superseded");
	}

	if (newest == NULL) {
		reason = "no active key";
	} else if (requested > newest->active_since) {
		reason = "rollover requested";
	} else if (!s->manual_rollover) {
		int64_t jitter = newest->shared ? 0 : z->roll_jitter;
		int64_t due;
		if (jitter < 0)
			jitter = 0;
		if (jitter > s->lifetime / 2)
			jitter = s->lifetime / 2;
		due = newest->active_since + s->lifetime - jitter;
		if (w->now >= due)
			reason = "lifetime expired";
		else
			enforcer__due(w, due);
	}

	if (reason != NULL) {
		/* The oldest standby key takes over: it is the readiest. */
		for (size_t i = 0; i < p->n_keys; i++) {
			struct enforcer_key *k = &p->keys[i];
			if (k->goal != ENFORCER_GOAL_STANDBY || !in_slot(w, k, s))
				continue;
			if (standby == NULL || younger(standby, k))
				standby = k;
		}
		if (standby != NULL) {
			set_goal(w, standby, ENFORCER_GOAL_ACTIVE, reason);
			if (newest != NULL)
				set_goal(w, newest, ENFORCER_GOAL_RETIRE, "superseded");
		} else {
			const struct enforcer_key *pk = NULL;
			if (w->p->share_keys) {
				int64_t after = newest != NULL ? newest->active_since : INT64_MIN;
				if (requested > after)
					after = requested - 1;
				pk = pool_pick(w, s, after);
			}
			if (pk != NULL) {
				/* adopt() may move p->keys: find newest again by id. */
				const char *old = newest != NULL ? newest->id : NULL;
				adopt(w, pk, ENFORCER_GOAL_ACTIVE, reason);
				for (size_t i = 0; old != NULL && i < p->n_keys; i++)
					if (strcmp(p->keys[i].id, old) == 0)
						set_goal(w, &p->keys[i], ENFORCER_GOAL_RETIRE,
							 "superseded");
			} else {
				/* The old key stays active until the new one exists;
				 * the next run retires it. */
				key_new(w, s, ENFORCER_GOAL_ACTIVE, reason);
			}
		}
	}

	for (size_t i = 0; i < p->n_keys; i++)
		if (p->keys[i].goal == ENFORCER_GOAL_STANDBY && in_slot(w, &p->keys[i], s))
			n_standby++;
	while (n_standby < s->standby) {
		const struct enforcer_key *pk = NULL;
		if (w->p->share_keys) {
			int64_t after = INT64_MIN;
			for (size_t i = 0; i < p->n_keys; i++)
				if (p->keys[i].goal == ENFORCER_GOAL_ACTIVE &&
				    in_slot(w, &p->keys[i], s) && p->keys[i].active_since > after)
					after = p->keys[i].active_since;
			pk = pool_pick(w, s, after);
		}
		if (pk != NULL)
			adopt(w, pk, ENFORCER_GOAL_STANDBY, "standby");
		else
			key_new(w, s, ENFORCER_GOAL_STANDBY, "standby");
		n_standby++;
	}
}

void enforcer__rollover(struct enforcer__work *w)
{
	struct enforcer_plan *p = w->plan;

	for (size_t i = 0; i < p->n_keys; i++) {
		struct enforcer_key *k = &p->keys[i];
		if (k->goal != ENFORCER_GOAL_RETIRE && enforcer_policy_slot(w->p, k) == NULL)
			set_goal(w, k, ENFORCER_GOAL_RETIRE, "not in the policy");
	}
	for (size_t s = 0; s < w->p->n_slots; s++)
		slot_update(w, &w->p->slots[s]);
}
