/*
 * The zone model shared by the files of the signer (private to the module).
 *
 * Records are read one by one into a compact load list (owner and RDATA as
 * blobs in the zone's arena); signer__zone_finalize() sorts them into
 * canonical order (RFC 4034 §6) and builds three index arrays: nodes (one
 * per owner name), RRsets, and RDATA pointers.  No ldns object outlives the
 * parsing of one record.
 *
 * Blobs in the arena:
 *   name:  u32 node index | u16 key length | sort key | wire name (as read)
 *   rdata: u16 length | RDATA
 *   sig:   u32 inception | u32 expiration | u16 length | signature octets
 *
 * A signature is kept as a sig blob only: every other RRSIG field (type
 * covered, algorithm, labels, original TTL, key tag, signer) follows from
 * the slot it sits in and is rebuilt when the zone is written.  Slot i of
 * a signed target belongs to key role_keys[role][i]; the role is the KSK
 * set for the apex DNSKEY, CDS and CDNSKEY RRsets, the ZSK set otherwise.
 */
#ifndef SIGNER_ZONE_H
#define SIGNER_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "signer/arena.h"
#include "signer/name.h"
#include "signer/rdata.h"
#include "signer/signer.h"

/* Node flags. */
enum {
	SIGNER_N_APEX = 1,
	SIGNER_N_DELEG = 2,     /* a zone cut below the apex (NS) */
	SIGNER_N_OCCLUDED = 4,  /* below a zone cut or DNAME: glue or occluded */
	SIGNER_N_DS = 8,        /* delegation with DS: secure */
	SIGNER_N_INCHAIN = 16,  /* has an NSEC or NSEC3 */
	SIGNER_N_SIGNED = 32,   /* has at least one signed RRset */
	SIGNER_N_NSEC_SAME = 64,/* its NSEC is identical in the previous output */
};

/* Key roles: which key set signs a target. */
enum { SIGNER_ROLE_ZSK = 0, SIGNER_ROLE_KSK = 1 };

struct signer__lrec {
	const uint8_t *name;
	const uint8_t *rdata;
	uint32_t ttl;
	uint16_t type;
};

struct signer__node {
	const uint8_t *name;   /* name blob */
	uint32_t first_set;
	uint16_t n_sets;
	uint16_t flags;
	const uint8_t *nsec;   /* NSEC RDATA blob, NULL if none */
	uint32_t nsec_sig;     /* first sig slot of the NSEC */
	uint8_t nsec_nsig;
};

struct signer__rrset {
	uint32_t first_rr;
	uint32_t node;
	uint32_t ttl;
	uint32_t first_sig;    /* into zone->sigs */
	uint16_t type;
	uint16_t n_rr;
	uint8_t n_sig;         /* 0: not signed */
	bool same_as_prev;     /* identical RRset in the previous output */
};

struct signer__nsec3 {
	uint8_t hash[20];
	uint32_t node;         /* UINT32_MAX for an empty non-terminal */
	const uint8_t *rdata;  /* blob */
	uint32_t first_sig;
	uint8_t n_sig;
	bool same;             /* identical in the previous output */
};

/* What a signature covers: an RRset, a node's NSEC, or an NSEC3. */
enum { SIGNER_T_SET = 0, SIGNER_T_NSEC = 1, SIGNER_T_NSEC3 = 2 };

struct signer__work {
	uint32_t slot;         /* index into zone->sigs */
	uint32_t target;
	uint8_t kind;          /* SIGNER_T_* */
	uint8_t key;           /* index into the key array */
};

struct signer_zone {
	struct signer__arena arena;
	uint8_t apex[256];
	size_t apex_len;
	uint8_t apex_key[SIGNER_KEY_MAX];
	size_t apex_key_len;

	/* loading */
	struct signer__lrec *lrecs;
	size_t n_lrecs, cap_lrecs;
	const uint8_t *last_name;
	const uint8_t *last_wire;
	size_t n_dropped;      /* DNSSEC records of the input that were dropped */
	size_t n_dup;          /* duplicate records removed */
	bool finalized;
	bool prepared;         /* signer_zone_prepare() done */
	bool signed_;          /* signer_zone_sign() done */
	size_t n_records_in;
	double t_prepare;

	/* model */
	struct signer__node *nodes;
	size_t n_nodes;
	struct signer__rrset *sets;
	size_t n_sets;
	const uint8_t **rrs;
	size_t n_rrs;

	/* denial of existence */
	struct signer__nsec3 *nsec3;
	size_t n_nsec3;
	uint32_t denial_ttl;

	/* signatures: slots of sig blobs (reused ones in the arena, new ones
	 * in the shared map); NULL while empty */
	const uint8_t **sigs;
	size_t n_sigs;
	void *shm;             /* mapping holding new signatures */
	size_t shm_len;
	uint8_t role_keys[2][256]; /* active keys of each role, in key order */
	size_t n_role[2];
	uint16_t key_tag[256];  /* per key of the signconf */
	uint8_t key_alg[256];
	uint8_t signer_name[SIGNER_NAME_MAX]; /* the apex, lower case */
	size_t signer_len;
};


static inline uint16_t signer__get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t signer__get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void signer__put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void signer__put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Sig blob accessors. */
#define SIGNER_SB_HDR 10
static inline uint32_t signer__sb_inception(const uint8_t *sb)
{
	return signer__get32(sb);
}
static inline uint32_t signer__sb_expiration(const uint8_t *sb)
{
	return signer__get32(sb + 4);
}
static inline size_t signer__sb_len(const uint8_t *sb)
{
	return signer__get16(sb + 8);
}

/* Name blob accessors. */
static inline uint32_t signer__nb_node(const uint8_t *nb)
{
	uint32_t v;
	memcpy(&v, nb, 4);
	return v;
}
static inline size_t signer__nb_keylen(const uint8_t *nb)
{
	return (size_t)nb[4] | (size_t)nb[5] << 8;
}
static inline const uint8_t *signer__nb_key(const uint8_t *nb)
{
	return nb + 6;
}
static inline const uint8_t *signer__nb_wire(const uint8_t *nb)
{
	return nb + 6 + signer__nb_keylen(nb);
}

/* RDATA blob accessors. */
static inline size_t signer__rb_len(const uint8_t *rb)
{
	return (size_t)rb[0] << 8 | rb[1];
}
static inline const uint8_t *signer__rb_data(const uint8_t *rb)
{
	return rb + 2;
}

/** Compare two sort keys (memcmp order, shorter first). */
static inline int signer__key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	if (c)
		return c;
	return al < bl ? -1 : al > bl;
}

/** Add a record to the load list (copies owner and RDATA into the arena). */
void signer__zone_add(struct signer_zone *z, const uint8_t *owner, uint16_t type,
		      uint32_t ttl, const uint8_t *rdata, size_t rdlen);

/** Copy an RDATA blob into the arena. */
const uint8_t *signer__zone_rdata(struct signer_zone *z, const uint8_t *rd, size_t len);

/** Sort into canonical order and build the index arrays (see above). */
int signer__zone_finalize(struct signer_zone *z, struct tdm_err *err);

/** Classify nodes: apex, delegations, occluded names (rules.c). */
int signer__rules_apply(struct signer_zone *z, struct tdm_err *err);

/** The RRset of `type` at node n, or NULL. */
struct signer__rrset *signer__node_set(const struct signer_zone *z, size_t n, uint16_t type);

/**
 * Which key set signs RRset s: the KSKs for the apex DNSKEY, CDS and CDNSKEY
 * RRsets (RFC 7344 §4.1: CDS/CDNSKEY are "signed with a key that is
 * represented in both the current DNSKEY and DS RRsets"), the ZSKs for
 * everything else, a DNSKEY below the apex included (ordinary data there).
 */
static inline int signer__set_role(const struct signer_zone *z, const struct signer__rrset *s)
{
	if ((s->type == T_DNSKEY || s->type == T_CDS || s->type == T_CDNSKEY) &&
	    (z->nodes[s->node].flags & SIGNER_N_APEX))
		return SIGNER_ROLE_KSK;
	return SIGNER_ROLE_ZSK;
}

/** Is this RRset signed under the rules (not glue, not occluded, not NS at a cut)? */
bool signer__set_is_signed(const struct signer_zone *z, const struct signer__rrset *s);

/**
 * The apex CDS and CDNSKEY RRsets the signconf owns (cds.c): drop the
 * input's, add the marked keys' records or the RFC 8078 §4 delete form,
 * TTL the DNSKEY TTL.  Before signer__zone_finalize().
 * @return 0; TDM_EINVAL (a key marked without the signconf section),
 *         TDM_EALGO (a digest type other than 2 or 4).
 */
int signer__cds_add(struct signer_zone *z, const struct signer_params *p, struct tdm_err *err);

/** Build the NSEC chain (nsec.c). */
int signer__nsec_build(struct signer_zone *z, struct tdm_err *err);

/** Build the NSEC3 chain (nsec3.c). */
int signer__nsec3_build(struct signer_zone *z, const struct tdm_signconf *sc,
			struct tdm_err *err);

/** SHA-1 NSEC3 hash of a wire name (RFC 5155 §5). */
void signer__nsec3_hash(const uint8_t *wire, const uint8_t *salt, size_t salt_len,
			unsigned iterations, uint8_t out[20]);

/** Insert t into the sorted list types[0..n) unless present; returns the new n. */
size_t signer__types_add(uint16_t *types, size_t n, uint16_t t);

/** Unmap the shared signature area (pool.c). */
void signer__shm_free(void *p, size_t len);

/** Types present at a node, for a type bitmap (sorted).  Returns the count. */
size_t signer__node_types(const struct signer_zone *z, size_t n, uint16_t *out);

#endif
