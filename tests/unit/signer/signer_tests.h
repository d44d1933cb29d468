/*
 * The TCases of check_signer and the helpers they share: an OpenSSL
 * signing backend (ECDSA P-256 keys made per test, no HSM), a default
 * signconf, and "sign this zone text, give me the output text".
 */
#ifndef TDM_TESTS_SIGNER_H
#define TDM_TESTS_SIGNER_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "signer/signer.h"

TCase *tcase_names(void);
TCase *tcase_reader(void);
TCase *tcase_chain(void);
TCase *tcase_serial(void);
TCase *tcase_ttl(void);
TCase *tcase_reuse(void);
TCase *tcase_output(void);
TCase *tcase_roles(void);
TCase *tcase_cds(void);

/* The time every test signs at unless it says otherwise. */
#define T_NOW 1700000000

/** Test keys: KSK (257) and ZSK (256), ECDSA P-256, made once per process. */
struct tkeys {
	struct signer_key keys[4];
	size_t n;
	struct signer_backend backend;
};
void tkeys_init(struct tkeys *k, bool csk);
/** Make the backend fail on the Nth signature (0 = never). */
void tkeys_fail_after(unsigned n);
/** Number of signatures the backend made in this process (thread mode). */
unsigned tkeys_signed(void);

/** A signconf with test defaults (caller frees with tdm_signconf_free). */
struct tdm_signconf *tsc_new(const char *zone, bool nsec3, bool optout);

struct tresult {
	int rc;
	char *out;              /* output text (NUL-terminated), caller frees */
	struct signer_stats st;
	char msg[1024];
};

/**
 * Sign `zone_text` for `origin` at `now` with previous output `prev_text`
 * (NULL for none), in thread mode with one worker.
 */
struct tresult tsign(const char *origin, const char *zone_text, const char *prev_text,
		     const struct tdm_signconf *sc, const struct tkeys *k, int64_t now);

/** Lines of `out` whose owner, type (and optionally covered type) match; count. */
int tcount(const char *out, const char *owner, const char *type);

/** Write text to a new temporary file; returns its path (static buffer per call slot). */
char *twrite_tmp(const char *dir, const char *name, const char *text);

/** A new temporary directory (mkdtemp); remove with trmdir. */
char *tmkdtemp(void);
void trmdir(char *dir);

#endif
