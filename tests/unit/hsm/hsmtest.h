/*
 * Shared by the files of the hsm unit suite: one TCase per file, and a
 * fixture that gives each test (run in its own process: CK_FORK) a fresh
 * private SoftHSM2 token and an open ctx on it.
 */
#ifndef TDM_HSMTEST_H
#define TDM_HSMTEST_H

#include <check.h>

#include "hsm/hsm.h"
#include "testlib.h"

#define T_LABEL "tandem-test"
#define T_PIN "1234"
#define T_SOPIN "5678"

extern char *t_dir;            /* the token's temporary directory */
extern struct hsm_ctx *t_ctx;  /* open on T_LABEL */

void t_setup(void);            /* checked fixture: token + ctx */
void t_teardown(void);
/** Open another ctx on T_LABEL (asserts success). */
struct hsm_ctx *t_open(void);

/** The algorithms of tcase_add_loop_test(..., 0, T_N_ALGS). */
extern const uint8_t t_algs[];
#define T_N_ALGS 5

/** Generate a key of `alg` (session object if `session`), asserting. */
struct hsm_key *t_keygen(struct hsm_ctx *ctx, uint8_t alg, bool session,
			 bool extractable);
/** Sign `data` with key, check with OpenSSL against its DNSKEY. */
void t_sign_verify(struct hsm_ctx *ctx, struct hsm_key *key,
		   const uint8_t *dnskey, size_t dnskey_len);

TCase *tcase_module(void);
TCase *tcase_keys(void);
TCase *tcase_sign(void);
TCase *tcase_dnskey(void);
TCase *tcase_fork(void);
TCase *tcase_threads(void);
TCase *tcase_fault(void);
TCase *tcase_fault_env(void);
TCase *tcase_wrap(void);

#endif
