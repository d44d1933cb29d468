/*
 * Text codecs of the presentation format: Base64 (RFC 4648 §4), Base32hex
 * without padding (RFC 4648 §7, as NSEC3 uses it), hexadecimal, RRSIG
 * timestamps (RFC 4034 §3.2), decimal integers and TTLs with BIND-style
 * units ("1h30m").  All are allocation-free and return the number of
 * output bytes or a negative code.
 */
#ifndef SIGNER_CODEC_H
#define SIGNER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Encode; out needs 4*ceil(len/3) bytes.  Returns chars written. */
size_t signer__b64_encode(const uint8_t *in, size_t len, char *out);
/** Decode `len` chars (no whitespace) appending to out (room `cap`); -1 on bad input. */
long signer__b64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

size_t signer__b32hex_encode(const uint8_t *in, size_t len, char *out);
long signer__b32hex_decode(const char *in, size_t len, uint8_t *out, size_t cap);

size_t signer__hex_encode(const uint8_t *in, size_t len, char *out);
long signer__hex_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/** YYYYMMDDHHmmSS of a 32-bit timestamp (RFC 4034 §3.2); writes 14 chars. */
void signer__time_format(uint32_t t, char *out);
/** Parse YYYYMMDDHHmmSS or a plain decimal number of seconds. */
bool signer__time_parse(const char *s, size_t len, uint32_t *out);

/** Decimal number that fits in `max`. */
bool signer__uint_parse(const char *s, size_t len, uint32_t max, uint32_t *out);
/** TTL: decimal seconds or units w d h m s (RFC 2308 style, as BIND). */
bool signer__ttl_parse(const char *s, size_t len, uint32_t *out);

/** Writes the decimal form of v; returns the end. */
char *signer__u32_format(uint32_t v, char *out);

/** Days since 1970-01-01 of a civil date and back (proleptic Gregorian). */
int64_t signer__days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
