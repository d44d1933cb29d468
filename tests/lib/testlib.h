/*
 * Helpers shared by the unit tests (tests/lib/libtdm_test.a): temporary
 * directories and private SoftHSM2 tokens.  Tests never touch the system
 * token directory: tdm_test_softhsm_token() writes its own softhsm2.conf
 * in a temporary directory and points SOFTHSM2_CONF at it.
 *
 * These helpers are for tests: on an unexpected failure they print why and
 * abort(), which `check` reports as a failed test.
 */
#ifndef TDM_TESTLIB_H
#define TDM_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/**
 * Create an empty directory under $TMPDIR (default /tmp).
 * @return its path; the caller removes it with tdm_test_tmpdir_remove().
 */
char *tdm_test_tmpdir_new(void);

/** Remove `path` and everything under it, then free(path).  NULL is fine. */
void tdm_test_tmpdir_remove(char *path);

/**
 * For main(), around srunner_run_all(): make one directory for the whole
 * run and point TMPDIR at it, so every tdm_test_tmpdir_new() of the tests
 * lands inside.  A failing check assertion ends the test process with
 * _exit() (CK_FORK), skipping its teardown; tdm_test_run_dir_end() then
 * still removes what it left.
 * @return the directory; pass it to tdm_test_run_dir_end(), which frees it.
 */
char *tdm_test_run_dir_begin(void);
void tdm_test_run_dir_end(char *dir);

/**
 * Initialise a SoftHSM2 token labelled `label` in `dir`: writes
 * dir/softhsm2.conf (token directory dir/tokens) unless it is there, sets
 * SOFTHSM2_CONF to it, and runs
 *   softhsm2-util --init-token --free --label LABEL --pin PIN --so-pin SO_PIN
 * Several tokens can share one `dir`.  Create every token before the
 * first hsm_ctx_open() of the process: SoftHSM2 reads its configuration
 * and finds its tokens at C_Initialize, and does not see later ones.
 * @return 0, or -1 (the reason is printed on stderr).
 */
int tdm_test_softhsm_token(const char *dir, const char *label,
			   const char *pin, const char *so_pin);

/** The SoftHSM2 module: $TDM_SOFTHSM_MODULE, else configure's default. */
const char *tdm_test_softhsm_module(void);

/** Write `text` to dir/name; returns the malloc'ed path (caller frees). */
char *tdm_test_write_file(const char *dir, const char *name, const char *text);

/*- verify.c: DNSSEC signatures checked with OpenSSL -*/

/** The public key of a DNSKEY RDATA (alg 8, 10, 13, 14, 15); EVP_PKEY_free. */
EVP_PKEY *tdm_test_pkey_from_dnskey(const uint8_t *rdata, size_t len);

/**
 * Verify a signature in DNSSEC wire form over `data` with the key of a
 * DNSKEY RDATA.  @return 1 valid, 0 invalid, -1 could not check.
 */
int tdm_test_verify(const uint8_t *dnskey, size_t dnskey_len,
		    const uint8_t *data, size_t len,
		    const uint8_t *sig, size_t sig_len);

#endif
