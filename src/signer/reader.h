/*
 * The zone file reader: RFC 1035 §5 master files with $ORIGIN, $TTL,
 * $INCLUDE (relative to the including file's directory), multi-line
 * records in parentheses, comments, quoted strings and RFC 3597 unknown
 * types.  Records of common types are converted by the fast parser in
 * rdata.c; every other type goes through ldns (ldns_rr_new_frm_str), so
 * the reader accepts whatever ldns accepts.
 *
 * The file is read in chunks (never mapped or slurped whole), each record
 * is handed to a callback in wire form and forgotten, so the reader holds
 * only the current record.  Errors name the file and the line where the
 * record starts: "zone.db:12: www.example. AAAA: bad IPv6 address".
 */
#ifndef SIGNER_READER_H
#define SIGNER_READER_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/**
 * Receives one record.  Everything is borrowed for the call only.  A
 * non-zero return stops the reader, which returns that code (the callback
 * sets err; the reader prefixes "file:line: ").
 */
typedef int (*signer__rr_fn)(void *arg, const uint8_t *owner, uint16_t type,
			     uint32_t ttl, const uint8_t *rdata, size_t rdlen,
			     struct tdm_err *err);

/**
 * Read the zone file `path`, relative names against `origin` (wire form,
 * required).  @return 0, TDM_EIO (cannot open or read: errno text), or
 * TDM_EPARSE / the callback's code, with err naming file and line.
 */
int signer__read_file(const char *path, const uint8_t *origin,
		      signer__rr_fn fn, void *arg, struct tdm_err *err);

/**
 * The same for `len` bytes of the file from offset `off`, which must start
 * a line outside parentheses; line numbers in messages count from there.
 * For reading parts of one file in parallel.
 */
int signer__read_file_range(const char *path, const uint8_t *origin, uint64_t off,
			    uint64_t len, signer__rr_fn fn, void *arg, struct tdm_err *err);

/** Same for a zone held in memory (fuzzing, tests); `name` is used in messages.
 *  $INCLUDE is refused here. */
int signer__read_mem(const char *buf, size_t len, const char *name,
		     const uint8_t *origin, signer__rr_fn fn, void *arg,
		     struct tdm_err *err);

#endif
