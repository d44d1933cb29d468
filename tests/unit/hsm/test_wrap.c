/*
 * Key custody across two tokens, as two nodes of a cluster do it: A makes
 * the KEK, B makes its transport key, A wraps the KEK for B's transport
 * public key and B unwraps it; A generates an extractable session key and
 * wraps it under the KEK; B unwraps it into a session object and signs;
 * A's DNSKEY verifies B's signature (OpenSSL).  Plus the refusals: Ed25519
 * (CKR_KEY_NOT_WRAPPABLE), unextractable keys, a second KEK, a blob for
 * another node, a KWP mechanism the token lacks.
 */
#include "hsmtest.h"

#include <stdlib.h>
#include <string.h>

static struct hsm_ctx *a, *b;

static struct hsm_ctx *open_label(const char *label)
{
	struct hsm_ctx *ctx = NULL;
	struct tdm_err err = { "" };

	ck_assert_msg(hsm_ctx_open(&ctx, label, tdm_test_softhsm_module(),
				   label, T_PIN, &err) == 0, "%s", err.msg);
	return ctx;
}

/* Two nodes with a shared KEK. */
static void setup_pair(void)
{
	struct tdm_err err = { "" };
	uint8_t *spki, *blob;
	size_t spki_len, blob_len;
	bool created;

	/* SoftHSM2 sees only the tokens that exist at C_Initialize: make
	 * all three before the first open. */
	t_dir = tdm_test_tmpdir_new();
	ck_assert_int_eq(tdm_test_softhsm_token(t_dir, "node-a", T_PIN, T_SOPIN), 0);
	ck_assert_int_eq(tdm_test_softhsm_token(t_dir, "node-b", T_PIN, T_SOPIN), 0);
	ck_assert_int_eq(tdm_test_softhsm_token(t_dir, "node-c", T_PIN, T_SOPIN), 0);
	a = open_label("node-a");
	b = open_label("node-b");
	ck_assert(!hsm_kek_exists(a));
	ck_assert_msg(hsm_kek_create(a, &err) == 0, "%s", err.msg);
	ck_assert(hsm_kek_exists(a));
	ck_assert_msg(hsm_transport_ensure(b, &created, &err) == 0, "%s", err.msg);
	ck_assert(created);
	ck_assert_int_eq(hsm_transport_ensure(b, &created, &err), 0);
	ck_assert(!created);
	ck_assert_msg(hsm_transport_public_der(b, &spki, &spki_len, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(hsm_kek_wrap_for_peer(a, spki, spki_len, &blob, &blob_len,
					    &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(blob_len, 384);          /* RSA-3072 */
	ck_assert(!hsm_kek_exists(b));
	ck_assert_msg(hsm_kek_unwrap(b, blob, blob_len, &err) == 0, "%s", err.msg);
	ck_assert(hsm_kek_exists(b));
	free(spki);
	free(blob);
}

static void teardown_pair(void)
{
	hsm_ctx_close(a);
	hsm_ctx_close(b);
	a = b = NULL;
	t_teardown();
}

static const uint8_t wrap_algs[] = { 8, 10, 13, 14 };

START_TEST(test_wrap_sign_on_other_node)
{
	uint8_t alg = wrap_algs[_i];
	struct hsm_key *ka = t_keygen(a, alg, true, true), *kb = NULL, *kb2;
	struct tdm_err err = { "" };
	uint8_t *blob, *rd, *rdb;
	size_t blob_len, len, lenb;
	char id[65];

	strcpy(id, hsm_key_id(ka));
	ck_assert_int_eq(hsm_key_dnskey_rdata(a, ka, 256, &rd, &len, &err), 0);
	ck_assert_msg(hsm_key_wrap(a, ka, &blob, &blob_len, &err) == 0, "%s",
		      err.msg);
	if (alg == 13)
		ck_assert_uint_eq(blob_len, 80);   /* ANCHORS.md */
	ck_assert_msg(hsm_key_unwrap(b, blob, blob_len, alg, id, &kb, &err) == 0,
		      "%s", err.msg);
	ck_assert_str_eq(hsm_key_id(kb), id);
	ck_assert_uint_eq(hsm_key_algorithm(kb), alg);
	/* B signs; A's public key verifies. */
	t_sign_verify(b, kb, rd, len);
	/* Lazy unwrap again: the known key comes back, nothing new made. */
	ck_assert_int_eq(hsm_key_unwrap(b, blob, blob_len, alg, id, &kb2, &err), 0);
	ck_assert_ptr_eq(kb2, kb);
	ck_assert_int_eq(hsm_key_find(b, id, &kb2, &err), 0);
	ck_assert_ptr_eq(kb2, kb);
	/* No public half on B: the DNSKEY comes from the ledger. */
	ck_assert_int_eq(hsm_key_dnskey_rdata(b, kb, 256, &rdb, &lenb, &err),
			 TDM_ENOKEY);
	free(blob);
	free(rd);
}
END_TEST

START_TEST(test_ed25519_not_wrappable)
{
	struct hsm_key *k = t_keygen(a, 15, true, true);
	struct tdm_err err = { "" };
	uint8_t *blob = NULL;
	size_t n;

	ck_assert_int_eq(hsm_key_wrap(a, k, &blob, &n, &err), TDM_EALGO);
	ck_assert_msg(strstr(err.msg, "CKR_KEY_NOT_WRAPPABLE") != NULL &&
		      strstr(err.msg, "algorithm 15") != NULL, "%s", err.msg);
	ck_assert_ptr_null(blob);
}
END_TEST

START_TEST(test_unextractable)
{
	struct hsm_key *k = t_keygen(a, 13, true, false);
	struct tdm_err err = { "" };
	uint8_t *blob;
	size_t n;

	ck_assert_int_eq(hsm_key_wrap(a, k, &blob, &n, &err), TDM_EHSM);
	ck_assert_msg(strstr(err.msg, "C_WrapKey: CKR_KEY_UNEXTRACTABLE"), "%s",
		      err.msg);
}
END_TEST

START_TEST(test_refusals)
{
	struct tdm_err err = { "" };
	struct hsm_ctx *c = open_label("node-c");
	struct hsm_key *k = t_keygen(a, 13, true, true), *kc;
	uint8_t *spki, *blob, *kblob;
	size_t spki_len, blob_len, klen;

	/* One KEK per token. */
	ck_assert_int_eq(hsm_kek_create(a, &err), TDM_EEXIST);
	/* No KEK on C yet: nothing to wrap or unwrap with. */
	ck_assert_int_eq(hsm_key_wrap(c, k, &kblob, &klen, &err), TDM_ENOKEY);
	ck_assert_int_eq(hsm_key_wrap(a, k, &kblob, &klen, &err), 0);
	ck_assert_int_eq(hsm_key_unwrap(c, kblob, klen, 13, hsm_key_id(k), &kc,
					&err), TDM_ENOKEY);
	/* No transport key on C: it cannot receive a KEK. */
	ck_assert_int_eq(hsm_transport_public_der(c, &spki, &spki_len, &err),
			 TDM_ENOKEY);
	/* A blob wrapped for B does not open on C. */
	ck_assert_int_eq(hsm_transport_public_der(b, &spki, &spki_len, &err), 0);
	ck_assert_int_eq(hsm_kek_wrap_for_peer(a, spki, spki_len, &blob,
					       &blob_len, &err), 0);
	ck_assert_int_eq(hsm_transport_ensure(c, NULL, &err), 0);
	ck_assert_int_eq(hsm_kek_unwrap(c, blob, blob_len, &err), TDM_EHSM);
	ck_assert_msg(strstr(err.msg, "C_UnwrapKey: CKR_"), "%s", err.msg);
	ck_assert(!hsm_kek_exists(c));
	/* B has its KEK already. */
	ck_assert_int_eq(hsm_kek_unwrap(b, blob, blob_len, &err), TDM_EEXIST);
	/* Garbage is not an SPKI. */
	ck_assert_int_eq(hsm_kek_wrap_for_peer(a, blob, 10, &spki, &spki_len,
					       &err), TDM_EINVAL);
	free(blob);
	free(spki);
	/* C gets its own KEK: A's key blob does not unwrap under it. */
	ck_assert_int_eq(hsm_kek_create(c, &err), 0);
	ck_assert_int_eq(hsm_key_unwrap(c, kblob, klen, 13, hsm_key_id(k), &kc,
					&err), TDM_EHSM);
	ck_assert_msg(strstr(err.msg, "C_UnwrapKey: CKR_"), "%s", err.msg);
	/* The PKCS#11 3.0 number is unknown to SoftHSM2 2.6.1. */
	hsm_ctx_set_kwp_mechanism(a, 0x210b);
	ck_assert_int_eq(hsm_key_wrap(a, k, &blob, &blob_len, &err), TDM_EHSM);
	ck_assert_msg(strstr(err.msg, "CKR_MECHANISM_INVALID"), "%s", err.msg);
	free(kblob);
	hsm_ctx_close(c);
}
END_TEST

/* The KEK that B received wraps keys that A unwraps: it is the same key. */
START_TEST(test_kek_is_shared)
{
	struct hsm_key *kb = t_keygen(b, 14, true, true), *ka;
	struct tdm_err err = { "" };
	uint8_t *blob, *rd;
	size_t n, len;
	char id[65];

	strcpy(id, hsm_key_id(kb));
	ck_assert_int_eq(hsm_key_dnskey_rdata(b, kb, 257, &rd, &len, &err), 0);
	ck_assert_int_eq(hsm_key_wrap(b, kb, &blob, &n, &err), 0);
	ck_assert_msg(hsm_key_unwrap(a, blob, n, 14, id, &ka, &err) == 0, "%s",
		      err.msg);
	t_sign_verify(a, ka, rd, len);
	free(blob);
	free(rd);
}
END_TEST

TCase *tcase_wrap(void)
{
	TCase *tc = tcase_create("wrap");

	tcase_add_checked_fixture(tc, setup_pair, teardown_pair);
	tcase_add_loop_test(tc, test_wrap_sign_on_other_node, 0,
			    sizeof wrap_algs);
	tcase_add_test(tc, test_ed25519_not_wrappable);
	tcase_add_test(tc, test_unextractable);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_kek_is_shared);
	return tc;
}
