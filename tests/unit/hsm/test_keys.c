/*
 * Keys: generation for each algorithm, lookup by CKA_ID (and its cache),
 * listing, removal, session objects, algorithm choice for RSA keys.
 */
#include "hsmtest.h"

#include <stdlib.h>
#include <string.h>

START_TEST(test_generate_find)
{
	uint8_t alg = t_algs[_i];
	struct hsm_key *k = t_keygen(t_ctx, alg, false, false), *f = NULL;
	struct tdm_err err = { "" };
	struct hsm_ctx *b;
	char id[65];

	strcpy(id, hsm_key_id(k));
	/* Same ctx: the cache gives the same key back. */
	ck_assert_int_eq(hsm_key_find(t_ctx, id, &f, &err), 0);
	ck_assert_ptr_eq(f, k);
	/* Another ctx searches the token (and then caches). */
	b = t_open();
	ck_assert_msg(hsm_key_find(b, id, &f, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(hsm_key_id(f), id);
	ck_assert_uint_eq(hsm_key_algorithm(f), alg == 10 ? 8 : alg);
	{
		struct hsm_key *g = NULL;
		ck_assert_int_eq(hsm_key_find(b, id, &g, &err), 0);
		ck_assert_ptr_eq(g, f);
	}
	/* Upper-case hex names the same key. */
	{
		char up[65];
		size_t i;
		struct hsm_key *g = NULL;
		for (i = 0; id[i]; i++)
			up[i] = (char)(id[i] >= 'a' ? id[i] - 32 : id[i]);
		up[i] = '\0';
		ck_assert_int_eq(hsm_key_find(b, up, &g, &err), 0);
		ck_assert_ptr_eq(g, f);
	}
	hsm_ctx_close(b);
}
END_TEST

START_TEST(test_find_missing)
{
	struct hsm_key *k = NULL;
	struct tdm_err err = { "" };

	ck_assert_int_eq(hsm_key_find(t_ctx, "00112233445566778899aabbccddeeff",
				      &k, &err), TDM_ENOKEY);
	ck_assert_msg(strstr(err.msg, "00112233445566778899aabbccddeeff"), "%s",
		      err.msg);
	ck_assert_int_eq(hsm_key_find(t_ctx, "xyz", &k, &err), TDM_EINVAL);
	ck_assert_int_eq(hsm_key_find(t_ctx, "abc", &k, &err), TDM_EINVAL);
	ck_assert_int_eq(hsm_key_find(t_ctx, "", &k, &err), TDM_EINVAL);
}
END_TEST

static bool listed(const char *id, bool *priv, bool *pub, uint8_t *alg,
		   unsigned *bits, char *label)
{
	struct hsm_key_info *l = NULL;
	struct tdm_err err = { "" };
	size_t n = 0, i;
	bool found = false;

	ck_assert_msg(hsm_key_list(t_ctx, &l, &n, &err) == 0, "%s", err.msg);
	for (i = 0; i < n; i++) {
		if (strcmp(l[i].cka_id, id) != 0)
			continue;
		found = true;
		*priv = l[i].has_private;
		*pub = l[i].has_public;
		*alg = l[i].algorithm;
		*bits = l[i].bits;
		strcpy(label, l[i].label);
	}
	free(l);
	return found;
}

START_TEST(test_list_remove)
{
	struct hsm_key *a = t_keygen(t_ctx, 13, false, false);
	struct hsm_key *r = t_keygen(t_ctx, 8, false, false);
	struct hsm_keygen o = { .algorithm = 14, .label = "my label" };
	struct hsm_key *c = NULL, *f = NULL;
	struct tdm_err err = { "" };
	char ida[65], idr[65], idc[65], label[65];
	bool priv, pub;
	uint8_t alg;
	unsigned bits;

	ck_assert_int_eq(hsm_key_generate(t_ctx, &o, &c, &err), 0);
	strcpy(ida, hsm_key_id(a));
	strcpy(idr, hsm_key_id(r));
	strcpy(idc, hsm_key_id(c));
	ck_assert(listed(ida, &priv, &pub, &alg, &bits, label));
	ck_assert(priv && pub);
	ck_assert_uint_eq(alg, 13);
	ck_assert_uint_eq(bits, 256);
	ck_assert_str_eq(label, ida);
	ck_assert(listed(idr, &priv, &pub, &alg, &bits, label));
	ck_assert_uint_eq(alg, 8);
	ck_assert_uint_eq(bits, 1024);
	ck_assert(listed(idc, &priv, &pub, &alg, &bits, label));
	ck_assert_str_eq(label, "my label");
	ck_assert_uint_eq(bits, 384);

	ck_assert_int_eq(hsm_key_remove(t_ctx, a, &err), 0);
	ck_assert(!listed(ida, &priv, &pub, &alg, &bits, label));
	ck_assert_int_eq(hsm_key_find(t_ctx, ida, &f, &err), TDM_ENOKEY);
	ck_assert(listed(idr, &priv, &pub, &alg, &bits, label));
}
END_TEST

START_TEST(test_session_key)
{
	struct hsm_key *k = t_keygen(t_ctx, 13, true, false), *f = NULL;
	struct tdm_err err = { "" };
	struct hsm_ctx *b;
	char id[65];

	strcpy(id, hsm_key_id(k));
	hsm_ctx_close(t_ctx);
	t_ctx = NULL;
	/* A session object dies with the ctx that made it. */
	b = t_open();
	ck_assert_int_eq(hsm_key_find(b, id, &f, &err), TDM_ENOKEY);
	hsm_ctx_close(b);
}
END_TEST

START_TEST(test_rsa_algorithm)
{
	struct hsm_key *k = t_keygen(t_ctx, 8, false, false);
	struct tdm_err err = { "" };
	uint8_t *rd;
	size_t len;

	ck_assert_int_eq(hsm_key_set_algorithm(t_ctx, k, 10, &err), 0);
	ck_assert_uint_eq(hsm_key_algorithm(k), 10);
	ck_assert_int_eq(hsm_key_dnskey_rdata(t_ctx, k, 256, &rd, &len, &err), 0);
	ck_assert_uint_eq(rd[3], 10);
	t_sign_verify(t_ctx, k, rd, len);
	free(rd);
	ck_assert_int_eq(hsm_key_set_algorithm(t_ctx, k, 13, &err), TDM_EALGO);
	ck_assert_int_eq(hsm_key_set_algorithm(t_ctx, k, 7, &err), TDM_EALGO);
}
END_TEST

START_TEST(test_generate_bad)
{
	struct hsm_keygen o = { .algorithm = 5 };
	struct hsm_key *k = NULL;
	struct tdm_err err = { "" };

	ck_assert_int_eq(hsm_key_generate(t_ctx, &o, &k, &err), TDM_EALGO);
	ck_assert_msg(strstr(err.msg, "algorithm 5"), "%s", err.msg);
	o.algorithm = 8;
	o.bits = 512;
	ck_assert_int_eq(hsm_key_generate(t_ctx, &o, &k, &err), TDM_EINVAL);
}
END_TEST

TCase *tcase_keys(void)
{
	TCase *tc = tcase_create("keys");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_loop_test(tc, test_generate_find, 0, T_N_ALGS);
	tcase_add_test(tc, test_find_missing);
	tcase_add_test(tc, test_list_remove);
	tcase_add_test(tc, test_session_key);
	tcase_add_test(tc, test_rsa_algorithm);
	tcase_add_test(tc, test_generate_bad);
	return tc;
}
