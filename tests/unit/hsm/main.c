/*
 * The hsm unit suite (tests/unit/check_hsm): fixtures shared by its files
 * and main().  Each file adds one TCase.
 */
#include "hsmtest.h"

#include <stdlib.h>
#include <string.h>

char *t_dir;
struct hsm_ctx *t_ctx;
const uint8_t t_algs[T_N_ALGS] = { 8, 10, 13, 14, 15 };

struct hsm_ctx *t_open(void)
{
	struct hsm_ctx *ctx = NULL;
	struct tdm_err err = { "" };
	int rc;

	rc = hsm_ctx_open(&ctx, "test", tdm_test_softhsm_module(), T_LABEL,
			  T_PIN, &err);
	ck_assert_msg(rc == 0, "hsm_ctx_open: %s", err.msg);
	return ctx;
}

void t_setup(void)
{
	t_dir = tdm_test_tmpdir_new();
	ck_assert_int_eq(tdm_test_softhsm_token(t_dir, T_LABEL, T_PIN, T_SOPIN), 0);
	t_ctx = t_open();
}

void t_teardown(void)
{
	hsm_ctx_close(t_ctx);
	t_ctx = NULL;
	tdm_test_tmpdir_remove(t_dir);
	t_dir = NULL;
}

struct hsm_key *t_keygen(struct hsm_ctx *ctx, uint8_t alg, bool session,
			 bool extractable)
{
	struct hsm_keygen o = { .algorithm = alg, .bits = 1024,
				.session = session, .extractable = extractable };
	struct tdm_err err = { "" };
	struct hsm_key *k = NULL;
	int rc;

	rc = hsm_key_generate(ctx, &o, &k, &err);
	ck_assert_msg(rc == 0, "generate alg %u: %s", alg, err.msg);
	ck_assert_uint_eq(hsm_key_algorithm(k), alg);
	ck_assert_uint_eq(strlen(hsm_key_id(k)), 32);
	return k;
}

void t_sign_verify(struct hsm_ctx *ctx, struct hsm_key *key,
		   const uint8_t *dnskey, size_t dnskey_len)
{
	static const uint8_t data[] = "RRSIG RDATA and the canonical RRset";
	uint8_t sig[HSM_MAX_SIG_LEN];
	struct tdm_err err = { "" };
	size_t sig_len = 0;
	int rc;

	rc = hsm_sign(ctx, key, data, sizeof data, sig, &sig_len, &err);
	ck_assert_msg(rc == 0, "sign: %s", err.msg);
	ck_assert_int_eq(tdm_test_verify(dnskey, dnskey_len, data, sizeof data,
					 sig, sig_len), 1);
	/* The check above can fail: a changed byte must not verify. */
	sig[sig_len / 2] ^= 0x01;
	ck_assert_int_eq(tdm_test_verify(dnskey, dnskey_len, data, sizeof data,
					 sig, sig_len), 0);
}

/*
 * Under AddressSanitizer: unwind fully at every malloc, so that leaks made
 * inside SoftHSM2 (reached through libcrypto, built without frame
 * pointers) show the module in their stack and testlib's suppression
 * matches them.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

int main(void)
{
	Suite *s = suite_create("hsm");
	SRunner *sr;
	char *run_dir;
	int failed;

	suite_add_tcase(s, tcase_module());
	suite_add_tcase(s, tcase_keys());
	suite_add_tcase(s, tcase_sign());
	suite_add_tcase(s, tcase_dnskey());
	suite_add_tcase(s, tcase_fork());
	suite_add_tcase(s, tcase_threads());
	suite_add_tcase(s, tcase_fault());
	suite_add_tcase(s, tcase_fault_env());
	suite_add_tcase(s, tcase_wrap());
	run_dir = tdm_test_run_dir_begin();
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tdm_test_run_dir_end(run_dir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
