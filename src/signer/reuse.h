/*
 * Signature reuse and the work list.
 *
 * A signature of the previous output is reused, never remade, when the
 * RRset it covers is unchanged (same owner, type, TTL and RDATA set), its
 * key is still an active signing key of the right role, its inception is
 * not in the future and it expires more than Refresh after now.  Every
 * other signature goes on the work list.
 */
#ifndef SIGNER_REUSE_H
#define SIGNER_REUSE_H

#include "signer/rrsig.h"

struct signer__plan {
	struct signer__work *items;
	size_t n_items, cap_items;
	size_t reused;
	size_t prev_sigs;          /* RRSIGs in the previous output */
	size_t identical;          /* RRsets identical to the previous output's */
	size_t new_sets, prev_sets;/* RRsets (DNSSEC ones included, RRSIG not) */
	size_t soa_set;            /* index of the SOA RRset */
	uint8_t zsk[256], ksk[256];/* signing keys of each role, in key order */
	size_t nz, nks;
};

/**
 * Give every signed RRset, NSEC and NSEC3 its signature slots (z->sigs),
 * fill those that can be reused from prev (may be NULL) and list the rest
 * in plan->items.  @return 0 or TDM_ENOKEY (no active key for a role).
 */
int signer__reuse_plan(struct signer_zone *z, const struct signer_zone *prev,
		       const struct signer__sigctx *c, struct signer__plan *plan,
		       struct tdm_err *err);

/** Put the signatures of RRset `set` back on the work list (e.g. the SOA after a serial change). */
void signer__plan_resign_set(struct signer_zone *z, struct signer__plan *plan, size_t set);

/** Is this previous signature usable for key k over t? */
bool signer__rrsig_is_reusable(const struct signer__sigctx *c, const struct signer__target *t,
			       size_t k, const uint8_t *rrsig_blob);

#endif
