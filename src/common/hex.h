/*
 * Hexadecimal, as CKA_IDs, salts and forwarded entries are written: one
 * encoder (lower case) and one strict decoder (either case, even length)
 * for every module.
 */
#ifndef TDM_HEX_H
#define TDM_HEX_H

#include <stddef.h>
#include <stdint.h>

/** Write 2n lower-case digits and a NUL into out (room for 2n + 1). */
void tdm_hex_encode(const uint8_t *bytes, size_t n, char *out);

/** The value of one hex digit, or -1. */
int tdm_hex_digit(char c);

/**
 * Decode `hex` (even length, digits only) into out (capacity cap).
 * @param n (out) bytes written.  @return 0, TDM_EPARSE (odd length or not
 * a digit), TDM_ERANGE (more than cap bytes).
 */
int tdm_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *n);

/**
 * Decode into a new buffer: *out is malloc'd (caller frees with free()),
 * NULL when hex is empty.  @return 0 or TDM_EPARSE.
 */
int tdm_hex_decode_alloc(const char *hex, uint8_t **out, size_t *len);

#endif
