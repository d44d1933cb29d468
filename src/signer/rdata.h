/*
 * RR types and RDATA: mnemonics, the fast presentation <-> wire converters
 * for the types a zone is mostly made of, the canonical form of RDATA
 * (RFC 4034 §6.2 as amended by RFC 6840 §5.1), and the ldns fallback for
 * every other type.
 *
 * The fast parser handles A, AAAA, NS, CNAME, PTR, DNAME, MX, KX, SRV, TXT,
 * SPF, SOA, DS, CDS, DNSKEY, CDNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM and
 * the RFC 3597 generic form of any type; it answers SIGNER_RDATA_OTHER for
 * anything else and the reader asks ldns.
 */
#ifndef SIGNER_RDATA_H
#define SIGNER_RDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	T_A = 1, T_NS = 2, T_MD = 3, T_MF = 4, T_CNAME = 5, T_SOA = 6, T_MB = 7,
	T_MG = 8, T_MR = 9, T_PTR = 12, T_HINFO = 13, T_MINFO = 14, T_MX = 15,
	T_TXT = 16, T_RP = 17, T_AFSDB = 18, T_SIG = 24, T_PX = 26, T_AAAA = 28,
	T_NXT = 30, T_SRV = 33, T_NAPTR = 35, T_KX = 36, T_A6 = 38, T_DNAME = 39,
	T_DS = 43, T_RRSIG = 46, T_NSEC = 47, T_DNSKEY = 48, T_NSEC3 = 50,
	T_NSEC3PARAM = 51, T_CDS = 59, T_CDNSKEY = 60, T_SPF = 99, T_RT = 21,
};

/** A token of a record in presentation form (quotes removed, escapes kept). */
struct signer__tok {
	const char *p;
	uint32_t len;
	bool quoted;
};

#define SIGNER_RDATA_OTHER 1

/**
 * Convert the RDATA tokens of a record of `type` to wire form into out
 * (room for 65535 bytes).  Names may be relative to `origin`.
 * @return 0; SIGNER_RDATA_OTHER when the fast path does not know the type;
 * TDM_EPARSE with a reason in *why.
 */
int signer__rdata_parse(uint16_t type, const struct signer__tok *t, size_t n,
			const uint8_t *origin, uint8_t *out, size_t *len,
			const char **why);

/** Is `type` one the fast parser and formatter handle? */
bool signer__rdata_is_fast(uint16_t type);

/** Check wire RDATA of a fast type for structure (used after RFC 3597 input). */
bool signer__rdata_valid(uint16_t type, const uint8_t *rd, size_t len);

/** Parse a type mnemonic or TYPEnnn.  False if `s` is not a type. */
bool signer__type_parse(const char *s, size_t len, uint16_t *type);

/** Mnemonic or "TYPEnnn" into buf (at least 16 bytes); returns buf. */
const char *signer__type_name(uint16_t type, char *buf);

/**
 * Presentation form of wire RDATA into out, which has room for at least
 * 4 * len + 1024 bytes.  @return the end of what was written.
 */
char *signer__rdata_format(uint16_t type, const uint8_t *rd, size_t len,
			   char *out);

/** Does the canonical form of this type's RDATA lower-case embedded names? */
bool signer__rdata_has_names(uint16_t type);

/** Canonical form (RFC 4034 §6.2) of rd into out (same length). */
void signer__rdata_canonical(uint16_t type, const uint8_t *rd, size_t len,
			     uint8_t *out);

/**
 * RFC 4034 §4.1.2 type bitmap of `n` sorted, distinct types into out (room
 * for 8704 bytes).  @return its length.
 */
size_t signer__bitmap_from_types(const uint16_t *types, size_t n, uint8_t *out);

/** Is the type bitmap at rd (len octets) well-formed? */
bool signer__bitmap_valid(const uint8_t *rd, size_t len);

/** Is a wire name at rd (at most len octets) well-formed?  *nlen gets its length. */
bool signer__wire_name_valid(const uint8_t *rd, size_t len, size_t *nlen);

#endif
