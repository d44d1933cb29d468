/*
 * Private to src/enforcer: what the files of the module share.  Other
 * modules include only enforcer.h.
 */
#ifndef ENFORCER_ENFORCER_INT_H
#define ENFORCER_ENFORCER_INT_H

#include "enforcer/enforcer.h"

#define ENFORCER_NEVER INT64_MAX

/*- key_state.c -*/

/** Is the role able to sign the DNSKEY RRset (KSK, CSK)? the zone (ZSK, CSK)? */
bool enforcer__ksk_capable(enum tdm_key_role role);
bool enforcer__zsk_capable(enum tdm_key_role role);

/** Where the key's goal wants record r: HIDDEN or OMNIPRESENT. */
uint8_t enforcer__target(const struct enforcer_key *k, enum enforcer_record r);

/**
 * When may record r of k leave its uncertain state (rumoured -> omnipresent,
 * unretentive -> hidden)?  ENFORCER_NEVER when it is not uncertain or waits
 * for the operator (ds-seen, ds-gone).
 */
int64_t enforcer__settle_time(const struct enforcer_policy *p, const struct enforcer_key *k,
			      enum enforcer_record r);

/** Present in every cached copy (settled rumoured counts) / in none (settled unretentive). */
bool enforcer__surely_present(const struct enforcer_policy *p, const struct enforcer_key *k,
			      enum enforcer_record r, int64_t now);
bool enforcer__surely_absent(const struct enforcer_policy *p, const struct enforcer_key *k,
			     enum enforcer_record r, int64_t now);

/*- safety.c -*/

/** Which of the validity conditions fail: C1 (secure) and per algorithm C2 (DS
 *  chain to a signed DNSKEY RRset) and C3 (signatures of every algorithm). */
struct enforcer__fails {
	bool insecure;            /* C1: some cached DS RRset may be empty */
	uint8_t alg[256];         /* bit 1: C2 fails, bit 2: C3 fails */
};

#define ENFORCER__C2 1u
#define ENFORCER__C3 2u

void enforcer__chains(const struct enforcer_policy *p, const struct enforcer_key *keys,
		      size_t n, int64_t now, struct enforcer__fails *out);

/** Does `after` fail nothing that `before` did not (C1 ignored when ignore_c1)? */
bool enforcer__no_worse(const struct enforcer__fails *before, const struct enforcer__fails *after,
			bool ignore_c1);

/*- rollover.c -*/

struct enforcer__work {
	const struct enforcer_zone *z;
	const struct enforcer_policy *p;
	int64_t now;
	struct enforcer_plan *plan;
	size_t cap_keys, cap_actions;
};

/** Append an action to the plan; returns it zeroed apart from type, key and reason. */
struct enforcer_action *enforcer__action(struct enforcer__work *w, enum enforcer_action_type t,
					 const char *key_id, const char *reason);
/** Lower plan->next to t. */
void enforcer__due(struct enforcer__work *w, int64_t t);

/** The policy part of a plan: goals, new keys, adoption of shared keys. */
void enforcer__rollover(struct enforcer__work *w);

#endif
