/*
 * Domain names in uncompressed wire form (RFC 1035 §3.1) and their
 * canonical sort key.
 *
 * The sort key turns RFC 4034 §6.1 canonical order into memcmp order: the
 * labels from the root down, each lower-cased (US-ASCII only, RFC 4034
 * §6.2) and followed by a 0x00 terminator; inside a label the octets 0x00
 * and 0x01 become 0x01 0x01 and 0x01 0x02 so that no label octet collides
 * with the terminator.  Then a shorter label (absent octets) sorts before a
 * longer one with the same prefix, an ancestor sorts before its
 * descendants, and "is X at or below Y" is "is Y's key a prefix of X's".
 */
#ifndef SIGNER_NAME_H
#define SIGNER_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIGNER_NAME_MAX 255
#define SIGNER_KEY_MAX 512
/* Longest presentation form: 255 octets as \DDD plus dots. */
#define SIGNER_NAME_STR_MAX 1100

/**
 * Parse a presentation-form name of `len` chars (escapes \X and \DDD, "@"
 * for the origin); a name without a trailing dot is relative to `origin`
 * (wire form, NULL when there is none).  Writes at most 255 octets to out.
 * @return 0, or a negative code with a short reason in *why.
 */
int signer__name_parse(const char *s, size_t len, const uint8_t *origin,
		       uint8_t *out, size_t *out_len, const char **why);

/** Length of a wire-form name including the root label. */
size_t signer__name_len(const uint8_t *wire);

/** Canonical sort key of `wire` into key (SIGNER_KEY_MAX bytes); returns its length. */
size_t signer__name_key(const uint8_t *wire, uint8_t *key);

/** Lower-case copy (RFC 4034 §6.2) into out; returns the length. */
size_t signer__name_lower(const uint8_t *wire, uint8_t *out);

/** Number of labels, not counting the root or a leading "*" (RFC 4034 §3.1.3). */
unsigned signer__name_rrsig_labels(const uint8_t *wire);

/** Number of labels, not counting the root. */
unsigned signer__name_labels(const uint8_t *wire);

/** Presentation form with a trailing dot; returns the end of the string written. */
char *signer__name_format(const uint8_t *wire, char *out);

/** Do the two wire names compare equal, ignoring ASCII case? */
bool signer__name_equal(const uint8_t *a, const uint8_t *b);

#endif
