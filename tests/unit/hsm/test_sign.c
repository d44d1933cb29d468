/*
 * Signing with each algorithm, token and session keys, checked with
 * OpenSSL against the key's DNSKEY; signature sizes of the DNSSEC forms.
 */
#include "hsmtest.h"

#include <stdio.h>
#include <stdlib.h>

START_TEST(test_sign_verify)
{
	uint8_t alg = t_algs[_i / 2];
	bool session = _i % 2;
	struct hsm_key *k = t_keygen(t_ctx, alg, session, false);
	struct tdm_err err = { "" };
	uint8_t *rd;
	size_t len;

	ck_assert_msg(hsm_key_dnskey_rdata(t_ctx, k, 257, &rd, &len, &err) == 0,
		      "%s", err.msg);
	t_sign_verify(t_ctx, k, rd, len);
	free(rd);
}
END_TEST

START_TEST(test_sig_sizes)
{
	static const struct { uint8_t alg; size_t len; } want[] = {
		{ 8, 128 }, { 10, 128 }, { 13, 64 }, { 14, 96 }, { 15, 64 },
	};
	uint8_t sig[HSM_MAX_SIG_LEN];
	struct tdm_err err = { "" };
	size_t i, n;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct hsm_key *k = t_keygen(t_ctx, want[i].alg, true, false);
		ck_assert_int_eq(hsm_sign(t_ctx, k, (const uint8_t *)"x", 1, sig,
					  &n, &err), 0);
		ck_assert_uint_eq(n, want[i].len);
	}
}
END_TEST

/* Empty data is legal input for every mechanism. */
START_TEST(test_sign_empty)
{
	struct hsm_key *k = t_keygen(t_ctx, 13, true, false);
	uint8_t sig[HSM_MAX_SIG_LEN];
	struct tdm_err err = { "" };
	size_t n;

	ck_assert_int_eq(hsm_sign(t_ctx, k, (const uint8_t *)"", 0, sig, &n,
				  &err), 0);
	ck_assert_uint_eq(n, 64);
}
END_TEST

/* A token key signs through a session copy; removing it removes both. */
START_TEST(test_sign_with_session_copy)
{
	uint8_t alg = t_algs[_i];
	struct hsm_key *k = t_keygen(t_ctx, alg, false, false), *again;
	struct tdm_err err = { "" };
	char id[65];
	uint8_t *rd;
	size_t len;

	ck_assert_msg(hsm_key_sign_with_session_copy(t_ctx, k, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hsm_key_sign_with_session_copy(t_ctx, k, &err), 0); /* no-op */
	ck_assert_msg(hsm_key_dnskey_rdata(t_ctx, k, 256, &rd, &len, &err) == 0,
		      "%s", err.msg);
	t_sign_verify(t_ctx, k, rd, len);
	free(rd);
	snprintf(id, sizeof id, "%s", hsm_key_id(k));
	ck_assert_int_eq(hsm_key_remove(t_ctx, k, &err), 0);
	ck_assert_int_eq(hsm_key_find(t_ctx, id, &again, &err), TDM_ENOKEY);
}
END_TEST

TCase *tcase_sign(void)
{
	TCase *tc = tcase_create("sign");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_loop_test(tc, test_sign_verify, 0, 2 * T_N_ALGS);
	tcase_add_test(tc, test_sig_sizes);
	tcase_add_test(tc, test_sign_empty);
	tcase_add_loop_test(tc, test_sign_with_session_copy, 0, T_N_ALGS);
	return tc;
}
