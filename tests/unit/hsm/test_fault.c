/*
 * The fault-injecting wrapper: the Nth C_Sign fails once or for good, and
 * the message names the call and the CKR_ value.
 */
#include "hsmtest.h"

#include <stdlib.h>
#include <string.h>

static int sign_once(struct hsm_ctx *ctx, struct hsm_key *k,
		     struct tdm_err *err)
{
	uint8_t sig[HSM_MAX_SIG_LEN];
	size_t n;

	return hsm_sign(ctx, k, (const uint8_t *)"data", 4, sig, &n, err);
}

START_TEST(test_fault_once)
{
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx;
	struct hsm_key *k;
	uint8_t *rd;
	size_t len;

	hsm_test_fault_sign(3, false, 0x30 /* CKR_DEVICE_ERROR */);
	ctx = t_open();
	k = t_keygen(ctx, 13, false, false);
	ck_assert_int_eq(sign_once(ctx, k, &err), 0);
	ck_assert_int_eq(sign_once(ctx, k, &err), 0);
	ck_assert_int_eq(sign_once(ctx, k, &err), TDM_EHSM);
	ck_assert_msg(strstr(err.msg, "C_Sign: CKR_DEVICE_ERROR") != NULL, "%s",
		      err.msg);
	ck_assert_msg(strstr(err.msg, hsm_key_id(k)) != NULL, "%s", err.msg);
	/* Once: the next signature is good again, and verifies. */
	ck_assert_int_eq(hsm_key_dnskey_rdata(ctx, k, 256, &rd, &len, &err), 0);
	t_sign_verify(ctx, k, rd, len);
	free(rd);
	/* A ctx opened before arming is not wrapped. */
	k = t_keygen(t_ctx, 13, false, false);
	hsm_test_fault_sign(1, true, 0x30);
	ck_assert_int_eq(sign_once(t_ctx, k, &err), 0);
	hsm_test_fault_sign(0, false, 0);
	hsm_ctx_close(ctx);
}
END_TEST

START_TEST(test_fault_persistent)
{
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx;
	struct hsm_key *k;
	int i;

	hsm_test_fault_sign(2, true, 0x30);
	ctx = t_open();
	k = t_keygen(ctx, 15, true, false);
	ck_assert_int_eq(sign_once(ctx, k, &err), 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(sign_once(ctx, k, &err), TDM_EHSM);
		ck_assert_msg(strstr(err.msg, "C_Sign: CKR_DEVICE_ERROR"), "%s",
			      err.msg);
	}
	/* Disarmed: the same wrapped ctx signs again. */
	hsm_test_fault_sign(0, false, 0);
	ck_assert_int_eq(sign_once(ctx, k, &err), 0);
	hsm_ctx_close(ctx);
}
END_TEST

/* A session the token calls invalid is replaced on the next call. */
START_TEST(test_fault_session_invalid)
{
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx;
	struct hsm_key *k;

	hsm_test_fault_sign(1, false, 0xb3 /* CKR_SESSION_HANDLE_INVALID */);
	ctx = t_open();
	k = t_keygen(ctx, 13, true, false);
	ck_assert_int_eq(sign_once(ctx, k, &err), TDM_EHSM);
	ck_assert_msg(strstr(err.msg, "C_Sign: CKR_SESSION_HANDLE_INVALID"),
		      "%s", err.msg);
	ck_assert_int_eq(sign_once(ctx, k, &err), 0);
	ck_assert_int_eq(sign_once(ctx, k, &err), 0);
	hsm_test_fault_sign(0, false, 0);
	hsm_ctx_close(ctx);
}
END_TEST

/* TANDEM_HSM_FAULT is read at the first hsm_ctx_open() of the process,
 * so this test runs in a fresh process with no fixture. */
START_TEST(test_fault_env)
{
	struct tdm_err err = { "" };
	struct hsm_key *k;

	t_dir = tdm_test_tmpdir_new();
	ck_assert_int_eq(tdm_test_softhsm_token(t_dir, T_LABEL, T_PIN, T_SOPIN), 0);
	setenv("TANDEM_HSM_FAULT", "C_Sign:1", 1);
	t_ctx = t_open();
	k = t_keygen(t_ctx, 13, false, false);
	ck_assert_int_eq(sign_once(t_ctx, k, &err), TDM_EHSM);
	ck_assert_msg(strstr(err.msg, "C_Sign: CKR_DEVICE_ERROR"), "%s", err.msg);
	ck_assert_int_eq(sign_once(t_ctx, k, &err), 0);
	hsm_ctx_close(t_ctx);
	t_ctx = NULL;
	tdm_test_tmpdir_remove(t_dir);
	t_dir = NULL;
}
END_TEST

TCase *tcase_fault(void)
{
	TCase *tc = tcase_create("fault");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_fault_once);
	tcase_add_test(tc, test_fault_persistent);
	tcase_add_test(tc, test_fault_session_invalid);
	return tc;
}

/* Its own TCase: the fixture's hsm_ctx_open() would read the variable
 * before the test sets it. */
TCase *tcase_fault_env(void)
{
	TCase *tc = tcase_create("fault-env");

	tcase_add_test(tc, test_fault_env);
	return tc;
}
