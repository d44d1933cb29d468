/*
 * The record state machine of one key: which records a role has, where the
 * key's goal wants each record, when an uncertain record (rumoured,
 * unretentive) may settle, and the DS commands an operator gives.
 *
 * A record moves hidden -> rumoured -> omnipresent -> unretentive -> hidden,
 * never backwards and never skipping a step, with one exception: a DS the
 * enforcer asked for but that was never submitted may be dropped
 * (rumoured -> hidden, plan.c).  Keeping to the cycle keeps a record's
 * `since` exact: a rumoured record was absent before `since` and present
 * after it, an unretentive one present before and absent after, which is
 * what safety.c relies on.
 *
 * Settling waits (RFC 7583 §3; OpenDNSSEC enforcer.c minTransitionTime):
 *   DNSKEY, RRSIG-DNSKEY  since + TTLkey + Dprp(zone) + PublishSafety (rumoured)
 *                         since + TTLkey + Dprp(zone) + RetireSafety (unretentive)
 *                         and, with RFC5011, a rumoured KSK DNSKEY also waits
 *                         the 30-day add hold-down (RFC 5011 §2.4.1)
 *   RRSIG                 since + TTLsig + Dprp(zone)
 *   DS                    max(since + Dreg, ds_since) + Dprp(parent) + TTLds,
 *                         once ds-seen (rumoured) or ds-gone (unretentive)
 */
#include "enforcer/enforcer_int.h"

#include <inttypes.h>

static const char *const record_names[] = { "DS", "DNSKEY", "RRSIG-DNSKEY", "RRSIG" };
static const char *const state_names[] = { "hidden", "rumoured", "omnipresent", "unretentive" };
static const char *const goal_names[] = { "active", "standby", "retire" };
static const char *const ds_names[] = { "unsubmitted", "submit", "submitted", "seen",
					"retract", "retracted" };

const char *enforcer_record_name(enum enforcer_record r)
{
	return (unsigned)r < ENFORCER_NRECORDS ? record_names[r] : "?";
}

const char *enforcer_state_name(enum enforcer_state s)
{
	return (unsigned)s <= ENFORCER_UNRETENTIVE ? state_names[s] : "?";
}

const char *enforcer_goal_name(enum enforcer_goal g)
{
	return (unsigned)g <= ENFORCER_GOAL_RETIRE ? goal_names[g] : "?";
}

const char *enforcer_ds_name(enum enforcer_ds d)
{
	return (unsigned)d <= ENFORCER_DS_RETRACTED ? ds_names[d] : "?";
}

bool enforcer__ksk_capable(enum tdm_key_role role)
{
	return role == TDM_ROLE_KSK || role == TDM_ROLE_CSK;
}

bool enforcer__zsk_capable(enum tdm_key_role role)
{
	return role == TDM_ROLE_ZSK || role == TDM_ROLE_CSK;
}

bool enforcer_record_applies(enum tdm_key_role role, enum enforcer_record r)
{
	switch (r) {
	case ENFORCER_DS:
	case ENFORCER_RRSIG_DNSKEY:
		return enforcer__ksk_capable(role);
	case ENFORCER_DNSKEY:
		return true;
	case ENFORCER_RRSIG:
		return enforcer__zsk_capable(role);
	}
	return false;
}

void enforcer_key_init(struct enforcer_key *k, const char *id, const char *locator,
		       enum tdm_key_role role, uint8_t algorithm, uint32_t bits,
		       uint16_t key_tag, enum enforcer_goal goal, bool shared,
		       int64_t created)
{
	*k = (struct enforcer_key){
		.id = id, .locator = locator, .role = role, .algorithm = algorithm,
		.bits = bits, .key_tag = key_tag, .shared = shared, .goal = goal,
		.created = created, .active_since = created,
		.ds = ENFORCER_DS_UNSUBMITTED, .ds_since = created,
	};
	for (int r = 0; r < ENFORCER_NRECORDS; r++)
		k->rec[r] = (struct enforcer_rec){ ENFORCER_HIDDEN, created };
}

uint8_t enforcer__target(const struct enforcer_key *k, enum enforcer_record r)
{
	if (!enforcer_record_applies(k->role, r))
		return ENFORCER_HIDDEN;
	switch (k->goal) {
	case ENFORCER_GOAL_ACTIVE:
		return ENFORCER_OMNIPRESENT;
	case ENFORCER_GOAL_STANDBY:
		/* Ready to take over: the DNSKEY everywhere, and for a key that
		 * signs the DNSKEY RRset also its DS (a double-DS standby, so
		 * promotion needs nothing from the parent). */
		return r == ENFORCER_DNSKEY || r == ENFORCER_DS ? ENFORCER_OMNIPRESENT
								 : ENFORCER_HIDDEN;
	case ENFORCER_GOAL_RETIRE:
		break;
	}
	return ENFORCER_HIDDEN;
}

static int64_t add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

int64_t enforcer__settle_time(const struct enforcer_policy *p, const struct enforcer_key *k,
			      enum enforcer_record r)
{
	const struct enforcer_rec *rec = &k->rec[r];
	bool in = rec->state == ENFORCER_RUMOURED;
	int64_t t;

	if (rec->state != ENFORCER_RUMOURED && rec->state != ENFORCER_UNRETENTIVE)
		return ENFORCER_NEVER;
	switch (r) {
	case ENFORCER_DS:
		if (in ? k->ds != ENFORCER_DS_SEEN : k->ds != ENFORCER_DS_UNSUBMITTED)
			return ENFORCER_NEVER;
		t = max64(add(rec->since, p->registration_delay), k->ds_since);
		return add(t, p->parent_propagation + p->ttl_ds);
	case ENFORCER_DNSKEY:
	case ENFORCER_RRSIG_DNSKEY:
		t = add(rec->since, p->ttl_dnskey + p->zone_propagation +
			(in ? p->publish_safety : p->retire_safety));
		if (in && r == ENFORCER_DNSKEY && enforcer__ksk_capable(k->role)) {
			const struct enforcer_slot *s = enforcer_policy_slot(p, k);
			if (s != NULL && s->rfc5011)
				t = max64(t, add(rec->since, p->rfc5011_hold_down));
		}
		return t;
	case ENFORCER_RRSIG:
		return add(rec->since, p->ttl_rrsig + p->zone_propagation);
	}
	return ENFORCER_NEVER;
}

bool enforcer__surely_present(const struct enforcer_policy *p, const struct enforcer_key *k,
			      enum enforcer_record r, int64_t now)
{
	if (!enforcer_record_applies(k->role, r))
		return false;
	if (k->rec[r].state == ENFORCER_OMNIPRESENT)
		return true;
	return k->rec[r].state == ENFORCER_RUMOURED && enforcer__settle_time(p, k, r) <= now;
}

bool enforcer__surely_absent(const struct enforcer_policy *p, const struct enforcer_key *k,
			     enum enforcer_record r, int64_t now)
{
	if (!enforcer_record_applies(k->role, r) || k->rec[r].state == ENFORCER_HIDDEN)
		return true;
	return k->rec[r].state == ENFORCER_UNRETENTIVE && enforcer__settle_time(p, k, r) <= now;
}

/*- DS commands -*/

static int ds_move(struct enforcer_key *k, int64_t now, const char *cmd, uint8_t from1,
		   uint8_t from2, uint8_t to, struct tdm_err *err)
{
	if (!enforcer__ksk_capable(k->role))
		return tdm_err_fail(err, TDM_EINVAL, "key %s (tag %u): %s: a %s has no DS",
				    k->id, k->key_tag, cmd, tdm_key_role_name(k->role));
	if (k->ds != from1 && k->ds != from2)
		return tdm_err_fail(err, TDM_EINVAL, "key %s (tag %u): %s: its DS is %s",
				    k->id, k->key_tag, cmd, enforcer_ds_name(k->ds));
	k->ds = to;
	k->ds_since = now;
	return 0;
}

int enforcer_key_ds_submit(struct enforcer_key *k, int64_t now, struct tdm_err *err)
{
	return ds_move(k, now, "ds-submit", ENFORCER_DS_SUBMIT, ENFORCER_DS_SUBMIT,
		       ENFORCER_DS_SUBMITTED, err);
}

int enforcer_key_ds_seen(struct enforcer_key *k, int64_t now, struct tdm_err *err)
{
	return ds_move(k, now, "ds-seen", ENFORCER_DS_SUBMIT, ENFORCER_DS_SUBMITTED,
		       ENFORCER_DS_SEEN, err);
}

int enforcer_key_ds_retract(struct enforcer_key *k, int64_t now, struct tdm_err *err)
{
	return ds_move(k, now, "ds-retract", ENFORCER_DS_RETRACT, ENFORCER_DS_RETRACT,
		       ENFORCER_DS_RETRACTED, err);
}

int enforcer_key_ds_gone(struct enforcer_key *k, int64_t now, struct tdm_err *err)
{
	return ds_move(k, now, "ds-gone", ENFORCER_DS_RETRACT, ENFORCER_DS_RETRACTED,
		       ENFORCER_DS_UNSUBMITTED, err);
}
