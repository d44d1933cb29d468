/*
 * Opening a repository: module loading, token lookup by label, login, PIN
 * from the environment, two contexts on one module, CKR_ names.
 */
#include "hsmtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(test_open_close)
{
	ck_assert_str_eq(hsm_ctx_name(t_ctx), "test");
}
END_TEST

START_TEST(test_bad_pin)
{
	struct hsm_ctx *ctx = NULL;
	struct tdm_err err = { "" };
	int rc;

	/* Login state is per process in PKCS#11: while t_ctx is open the
	 * token answers CKR_USER_ALREADY_LOGGED_IN to any PIN. */
	hsm_ctx_close(t_ctx);
	t_ctx = NULL;
	rc = hsm_ctx_open(&ctx, "test", tdm_test_softhsm_module(), T_LABEL,
			  "0000", &err);
	ck_assert_int_eq(rc, TDM_EHSM);
	ck_assert_ptr_null(ctx);
	ck_assert_msg(strstr(err.msg, "C_Login: CKR_PIN_INCORRECT") != NULL,
		      "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "repository test") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_unknown_label)
{
	struct hsm_ctx *ctx = NULL;
	struct tdm_err err = { "" };
	int rc;

	rc = hsm_ctx_open(&ctx, "test", tdm_test_softhsm_module(), "nosuch",
			  T_PIN, &err);
	ck_assert_int_eq(rc, TDM_ENOENT);
	ck_assert_msg(strstr(err.msg, "no token labelled \"nosuch\"") != NULL,
		      "%s", err.msg);
	/* A label that is a prefix of the real one must not match. */
	rc = hsm_ctx_open(&ctx, "test", tdm_test_softhsm_module(), "tandem",
			  T_PIN, &err);
	ck_assert_int_eq(rc, TDM_ENOENT);
}
END_TEST

START_TEST(test_unknown_module)
{
	struct hsm_ctx *ctx = NULL;
	struct tdm_err err = { "" };
	int rc;

	rc = hsm_ctx_open(&ctx, "test", "/nonexistent/libpkcs11.so", T_LABEL,
			  T_PIN, &err);
	ck_assert_int_eq(rc, TDM_ENOENT);
	ck_assert_msg(strstr(err.msg, "/nonexistent/libpkcs11.so") != NULL,
		      "%s", err.msg);
	/* A library that is not a PKCS#11 module. */
	rc = hsm_ctx_open(&ctx, "test", "libm.so.6", T_LABEL, T_PIN, &err);
	ck_assert_int_eq(rc, TDM_EHSM);
	ck_assert_msg(strstr(err.msg, "not a PKCS#11 module") != NULL, "%s",
		      err.msg);
}
END_TEST

START_TEST(test_pin_from_env)
{
	struct hsm_ctx *ctx = NULL;
	struct tdm_err err = { "" };
	int rc;

	unsetenv("TANDEM_PIN_MY_REPO");
	rc = hsm_ctx_open(&ctx, "my-repo", tdm_test_softhsm_module(), T_LABEL,
			  NULL, &err);
	ck_assert_int_eq(rc, TDM_EINVAL);
	ck_assert_msg(strstr(err.msg, "no PIN") != NULL, "%s", err.msg);
	setenv("TANDEM_PIN_MY_REPO", T_PIN, 1);
	rc = hsm_ctx_open(&ctx, "my-repo", tdm_test_softhsm_module(), T_LABEL,
			  NULL, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	hsm_ctx_close(ctx);
}
END_TEST

/* Closing one ctx must not C_Finalize the module under the other. */
START_TEST(test_two_contexts)
{
	struct hsm_ctx *b = t_open();
	struct hsm_key *k = t_keygen(b, 13, false, false);
	char id[65];
	uint8_t *rd;
	size_t len;
	struct tdm_err err = { "" };

	strcpy(id, hsm_key_id(k));
	hsm_ctx_close(b);
	ck_assert_int_eq(hsm_key_find(t_ctx, id, &k, &err), 0);
	ck_assert_int_eq(hsm_key_dnskey_rdata(t_ctx, k, 256, &rd, &len, &err), 0);
	t_sign_verify(t_ctx, k, rd, len);
	free(rd);
}
END_TEST

START_TEST(test_algorithms)
{
	int i;

	for (i = 0; i < T_N_ALGS; i++)
		ck_assert_msg(hsm_algorithm_supported(t_ctx, t_algs[i]),
			      "alg %u", t_algs[i]);
	ck_assert(!hsm_algorithm_supported(t_ctx, 5));
	ck_assert(!hsm_algorithm_supported(t_ctx, 16));
}
END_TEST

START_TEST(test_ckr_names)
{
	ck_assert_str_eq(hsm_ckr_name(0x30), "CKR_DEVICE_ERROR");
	ck_assert_str_eq(hsm_ckr_name(0xa0), "CKR_PIN_INCORRECT");
	ck_assert_str_eq(hsm_ckr_name(0), "CKR_OK");
	ck_assert_str_eq(hsm_ckr_name(0x80000001UL), "CKR_VENDOR_DEFINED+0x1");
}
END_TEST

/*
 * A token made after the module's C_Initialize: a fresh process sees it;
 * here a child drops the parent's ctx, so its own open is the module's
 * only user, finds the stale slot list (SoftHSM2 keeps the parent's state
 * across fork) and makes the module look again.
 */
START_TEST(test_token_after_init)
{
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct hsm_ctx *ctx = NULL;
		struct tdm_err err = { "" };

		hsm_ctx_close(t_ctx);
		if (tdm_test_softhsm_token(t_dir, "late", T_PIN, T_SOPIN) != 0)
			_exit(2);
		if (hsm_ctx_open(&ctx, "late", tdm_test_softhsm_module(), "late",
				 T_PIN, &err) != 0) {
			fprintf(stderr, "child: %s\n", err.msg);
			_exit(3);
		}
		hsm_ctx_close(ctx);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

TCase *tcase_module(void)
{
	TCase *tc = tcase_create("module");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_open_close);
	tcase_add_test(tc, test_bad_pin);
	tcase_add_test(tc, test_unknown_label);
	tcase_add_test(tc, test_unknown_module);
	tcase_add_test(tc, test_pin_from_env);
	tcase_add_test(tc, test_two_contexts);
	tcase_add_test(tc, test_algorithms);
	tcase_add_test(tc, test_ckr_names);
	tcase_add_test(tc, test_token_after_init);
	return tc;
}
