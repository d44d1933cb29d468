/*
 * Signature reuse and the work list.
 *
 * A signature of the previous output is reused, never remade, when the
 * RRset it covers is unchanged (same owner, type, TTL and RDATA set), its
 * key is still an active signing key of the right role, its inception is
 * not in the future and it expires more than Refresh after now.  Every
 * other signature goes on the work list.
 *
 * The previous output is never loaded as a zone: it is streamed through
 * the zone reader once, owner by owner, and each owner's records are
 * compared with the new zone's where they stand (the new zone is sorted,
 * so an owner is found by a cursor that moves forward while the file is in
 * canonical order, and by binary search when it is not: another signer's
 * output, with NSEC3 records after their names, works too).  What survives
 * of it is the reused signatures, as sig blobs (zone.h) in the new zone's
 * arena: 10 octets plus the signature each.
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
	bool have_prev_serial;     /* the previous output has an apex SOA */
	uint32_t prev_serial;
};

/**
 * Give every signed RRset, NSEC and NSEC3 its (empty) signature slots and
 * its role's keys.  @return 0 or TDM_ENOKEY (no active key for a role).
 */
int signer__reuse_slots(struct signer_zone *z, const struct signer__sigctx *c,
			struct signer__plan *plan, struct tdm_err *err);

/**
 * Stream the previous output at `path` and fill the slots whose signature
 * can be reused.  While comparing the apex SOA it gives the new SOA the
 * previous serial (plan->prev_serial).  @return 0, or the reader's code
 * (TDM_EIO, TDM_EPARSE) with err naming file and line; then call
 * signer__reuse_forget().
 */
int signer__reuse_merge(struct signer_zone *z, const char *path, const struct signer__sigctx *c,
			struct signer__plan *plan, struct tdm_err *err);

/** Files at least this large are merged by two threads (tests lower it). */
extern size_t signer__merge_split_min;

/** Forget what a failed merge filled in: no signature is reused. */
void signer__reuse_forget(struct signer_zone *z, struct signer__plan *plan);

/** Empty the slots of RRset `set` (e.g. the SOA after a serial change). */
void signer__reuse_drop_set(struct signer_zone *z, struct signer__plan *plan, size_t set);

/** List every empty slot in plan->items, in zone order. */
void signer__reuse_list(struct signer_zone *z, struct signer__plan *plan);

/** Is this previous signature (RRSIG RDATA rd, len octets) usable for key k over t? */
bool signer__rrsig_is_reusable(const struct signer__sigctx *c, const struct signer__target *t,
			       size_t k, const uint8_t *rd, size_t len);

#endif
