/*
 * RRSIG records (RFC 4034 §3): the RDATA fields a signature gets, and the
 * signing input a worker hashes and signs (§3.1.8.1: RRSIG RDATA without
 * the signature, then each RR of the RRset in canonical form and order).
 *
 * Validity: inception = now - InceptionOffset; expiration = now +
 * Validity (Denial for NSEC/NSEC3, Keyset when set for the RRsets the KSKs
 * sign: the apex DNSKEY, CDS and CDNSKEY; else Default) + a jitter in [-Jitter, +Jitter] derived from a hash of the
 * owner, type and key tag, so that the same input at the same time gives
 * the same signatures' times, while expirations still spread out.
 */
#ifndef SIGNER_RRSIG_H
#define SIGNER_RRSIG_H

#include <stddef.h>
#include <stdint.h>

#include "signer/zone.h"

/** Per-pass constants every worker needs (computed once, read-only). */
struct signer__sigctx {
	const struct signer_zone *z;
	const struct signer_params *p;
	uint16_t tags[256];          /* key tags of p->keys */
	size_t sig_max;              /* largest signature of any key */
	uint8_t signer[SIGNER_NAME_MAX]; /* apex, lower case */
	size_t signer_len;
	uint8_t apex_lower[SIGNER_NAME_MAX];
};

/** Fill c, and z's key tags, algorithms and signer name (for the writer). */
void signer__sigctx_init(struct signer__sigctx *c, struct signer_zone *z,
			 const struct signer_params *p);

/** Owner, type, TTL and records of a signature target. */
struct signer__target {
	const uint8_t *owner;        /* wire, any case */
	uint8_t owner_buf[SIGNER_NAME_MAX];
	const uint8_t *owner_key;    /* sort key (for the jitter hash) */
	size_t owner_key_len;
	uint8_t key_buf[SIGNER_KEY_MAX];
	uint16_t type;
	uint32_t ttl;
	int role;                    /* SIGNER_ROLE_*: which keys sign it */
	const uint8_t *const *rrs;   /* RDATA blobs */
	const uint8_t *one;          /* storage when there is one blob */
	size_t n_rr;
};

void signer__target_get(const struct signer__sigctx *c, uint8_t kind, uint32_t index,
			struct signer__target *t);

/** Inception and expiration of a signature by key `key` over t. */
void signer__rrsig_times(const struct signer__sigctx *c, const struct signer__target *t,
			 size_t key, uint32_t *inception, uint32_t *expiration);

/**
 * RRSIG RDATA without the signature into out (18 + signer name octets),
 * with the times of a new signature.  @return its length.
 */
size_t signer__rrsig_header(const struct signer__sigctx *c, const struct signer__target *t,
			    size_t key, uint8_t *out);

/**
 * The same from the zone alone, with given times (the writer, for new and
 * reused signatures alike).  @return its length.
 */
size_t signer__rrsig_fields(const struct signer_zone *z, uint16_t type, unsigned labels,
			    uint32_t ttl, size_t key, uint32_t inception, uint32_t expiration,
			    uint8_t *out);

/**
 * Signing input for t into *buf (grown with tdm_realloc as needed; the
 * caller frees).  The header must already be at the start of *buf with
 * length hl.  @return the total length.
 */
size_t signer__signing_input(const struct signer__target *t, size_t hl,
			     uint8_t **buf, size_t *cap);

#endif
