/*
 * fork(): a child opens the repository again and signs; a ctx inherited
 * from the parent refuses with a clear message instead of touching the
 * parent's sessions; the parent keeps signing.
 */
#include "config.h"

#include "hsmtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Child: 0 on success, a distinct code for each failure. */
static int child(const char *id, const uint8_t *rd, size_t len,
		 struct hsm_ctx *inherited, struct hsm_key *ikey)
{
	static const uint8_t data[] = "signed in the child";
	uint8_t sig[HSM_MAX_SIG_LEN];
	struct tdm_err err = { "" };
	struct hsm_ctx *ctx = NULL;
	struct hsm_key *k = NULL;
	size_t n;

	if (hsm_sign(inherited, ikey, data, sizeof data, sig, &n, &err) != TDM_EHSM ||
	    strstr(err.msg, "fork") == NULL)
		return 2;
	if (hsm_ctx_open(&ctx, "test", tdm_test_softhsm_module(), T_LABEL,
			 T_PIN, &err) != 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		return 3;
	}
	if (hsm_key_find(ctx, id, &k, &err) != 0)
		return 4;
	if (hsm_sign(ctx, k, data, sizeof data, sig, &n, &err) != 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		return 5;
	}
	if (tdm_test_verify(rd, len, data, sizeof data, sig, n) != 1)
		return 6;
	hsm_ctx_close(ctx);
	hsm_ctx_close(inherited);   /* frees memory, no PKCS#11 call */
	return 0;
}

START_TEST(test_fork_child_signs)
{
	struct hsm_key *k = t_keygen(t_ctx, 13, false, false);
	struct tdm_err err = { "" };
	uint8_t *rd;
	size_t len;
	pid_t pid;
	int status, i;

	ck_assert_int_eq(hsm_key_dnskey_rdata(t_ctx, k, 256, &rd, &len, &err), 0);
	/* The parent signs first, so this thread has a session to inherit. */
	t_sign_verify(t_ctx, k, rd, len);
	for (i = 0; i < 2; i++) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			_exit(child(hsm_key_id(k), rd, len, t_ctx, k));
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
		t_sign_verify(t_ctx, k, rd, len);
	}
	free(rd);
}
END_TEST

/* The same with SoftHSM2's library.reset_on_fork = true. */
START_TEST(test_fork_reset_on_fork)
{
	char *conf = NULL;
	FILE *f;

	hsm_ctx_close(t_ctx);
	t_ctx = NULL;
	ck_assert_int_ge(asprintf(&conf, "%s/softhsm2.conf", t_dir), 0);
	f = fopen(conf, "a");
	ck_assert_ptr_nonnull(f);
	fputs("library.reset_on_fork = true\n", f);
	fclose(f);
	free(conf);
	t_ctx = t_open();
	{
		struct hsm_key *k = t_keygen(t_ctx, 13, false, false);
		struct tdm_err err = { "" };
		uint8_t *rd;
		size_t len;
		pid_t pid;
		int status;

		ck_assert_int_eq(hsm_key_dnskey_rdata(t_ctx, k, 256, &rd, &len,
						      &err), 0);
		t_sign_verify(t_ctx, k, rd, len);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			_exit(child(hsm_key_id(k), rd, len, t_ctx, k));
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
		t_sign_verify(t_ctx, k, rd, len);
		free(rd);
	}
}
END_TEST

TCase *tcase_fork(void)
{
	TCase *tc = tcase_create("fork");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_fork_child_signs);
	tcase_add_test(tc, test_fork_reset_on_fork);
	return tc;
}
