/*
 * DNSSEC private keys under the cluster KEK: hsm_key_wrap() on the node
 * that generated the key (the leader), hsm_key_unwrap() on every node that
 * signs with it, into a session object (faster to sign with in SoftHSM2,
 * and the token stays small: the ledger is the key store).
 *
 * The mechanism is AES key wrap with padding, RFC 5649, over the PKCS#8
 * encoding of the private key.  SoftHSM2 2.6.1 numbers it
 * CKM_AES_KEY_WRAP_PAD (0x210a); PKCS#11 3.0 renamed it
 * CKM_AES_KEY_WRAP_KWP (0x210b), so the number is a setting of the ctx.
 * SoftHSM2 2.6.1 wraps RSA and EC private keys but answers
 * CKR_KEY_NOT_WRAPPABLE for Ed25519: reported as TDM_EALGO so that the
 * cluster can refuse algorithm 15 clearly (DESIGN.md).
 */
#include "hsm/internal.h"

#include <stdlib.h>
#include <string.h>

void hsm_ctx_set_kwp_mechanism(struct hsm_ctx *ctx, unsigned long mechanism)
{
	ctx->kwp_mech = mechanism;
}

static int find_kek(struct hsm_ctx *ctx, CK_OBJECT_HANDLE *kek,
		    struct tdm_err *err)
{
	int rc = hsm__kek(ctx, kek, err);

	if (rc == 0 && *kek == CK_INVALID_HANDLE)
		rc = tdm_err_fail(err, TDM_ENOKEY,
				  "no cluster KEK (\"%s\") in the token",
				  HSM_KEK_LABEL);
	return rc;
}

int hsm_key_wrap(struct hsm_ctx *ctx, struct hsm_key *key, uint8_t **out,
		 size_t *len, struct tdm_err *err)
{
	CK_MECHANISM mech = { ctx->kwp_mech, NULL, 0 };
	CK_OBJECT_HANDLE kek;
	CK_ULONG n = 0;
	uint8_t *blob = NULL;
	CK_RV rv = CKR_OK;
	int rc;

	pthread_mutex_lock(&ctx->lock);
	rc = find_kek(ctx, &kek, err);
	if (rc == 0) {
		rv = ctx->p11->C_WrapKey(ctx->admin, &mech, kek, key->priv,
					 NULL, &n);
		if (rv == CKR_OK) {
			blob = tdm_malloc(n ? n : 1);
			rv = ctx->p11->C_WrapKey(ctx->admin, &mech, kek,
						 key->priv, blob, &n);
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	if (rc == 0 && rv == CKR_KEY_NOT_WRAPPABLE)
		rc = tdm_err_fail(err, TDM_EALGO,
				  "the token cannot wrap algorithm %u private keys "
				  "(C_WrapKey: CKR_KEY_NOT_WRAPPABLE)",
				  key->algorithm);
	else if (rc == 0 && rv != CKR_OK)
		rc = hsm__fail(err, "C_WrapKey", rv);
	if (rc != 0) {
		free(blob);
		tdm_err_wrap(err, "repository %s: key %s: wrapping", ctx->name,
			     key->id_hex);
		return rc;
	}
	*out = blob;
	*len = n;
	return 0;
}

int hsm_key_unwrap(struct hsm_ctx *ctx, const uint8_t *blob, size_t len,
		   uint8_t algorithm, const char *cka_id_hex,
		   struct hsm_key **out, struct tdm_err *err)
{
	CK_MECHANISM mech = { ctx->kwp_mech, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE type;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE kek, h = CK_INVALID_HANDLE;
	uint8_t id[HSM__MAX_ID_LEN];
	size_t id_len;
	struct hsm_key *k = NULL;
	CK_RV rv;
	int rc;

	switch (algorithm) {
	case HSM_ALG_RSASHA256:
	case HSM_ALG_RSASHA512:
		type = CKK_RSA;
		break;
	case HSM_ALG_ECDSAP256SHA256:
	case HSM_ALG_ECDSAP384SHA384:
		type = CKK_EC;
		break;
	case HSM_ALG_ED25519:
		type = CKK_EC_EDWARDS;
		break;
	default:
		return tdm_err_fail(err, TDM_EALGO,
				    "repository %s: key %s: algorithm %u is not supported",
				    ctx->name, cka_id_hex, algorithm);
	}
	if (cka_id_hex[0] == '\0' || tdm_hex_decode(cka_id_hex, id, sizeof id, &id_len) != 0)
		return tdm_err_fail(err, TDM_EINVAL,
				    "key \"%s\": not a CKA_ID (1 to %d hex bytes)",
				    cka_id_hex, HSM__MAX_ID_LEN);

	pthread_mutex_lock(&ctx->lock);
	k = hsm__key_cache_get(ctx, id, id_len);
	if (k != NULL) {
		pthread_mutex_unlock(&ctx->lock);
		*out = k;
		return 0;
	}
	rc = find_kek(ctx, &kek, err);
	if (rc == 0) {
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_KEY_TYPE, &type, sizeof type },
			{ CKA_TOKEN, &no, sizeof no },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_SENSITIVE, &yes, sizeof yes },
			{ CKA_EXTRACTABLE, &no, sizeof no },
			{ CKA_SIGN, &yes, sizeof yes },
			{ CKA_DECRYPT, &no, sizeof no },
			{ CKA_ID, id, id_len },
			{ CKA_LABEL, (void *)cka_id_hex, strlen(cka_id_hex) },
		};
		rv = ctx->p11->C_UnwrapKey(ctx->admin, &mech, kek,
					   (CK_BYTE_PTR)blob, len, t,
					   sizeof t / sizeof t[0], &h);
		if (rv != CKR_OK)
			rc = hsm__fail(err, "C_UnwrapKey", rv);
	}
	if (rc == 0)
		rc = hsm__key_load(ctx, h, CK_INVALID_HANDLE, &k, err);
	if (rc == 0 && k->algorithm != algorithm)
		rc = hsm__key_set_algorithm(ctx, k, algorithm, err);
	if (rc == 0) {
		hsm__key_cache_add(ctx, k);
	} else {
		if (h != CK_INVALID_HANDLE)
			ctx->p11->C_DestroyObject(ctx->admin, h);
		free(k);
	}
	pthread_mutex_unlock(&ctx->lock);
	if (rc != 0) {
		tdm_err_wrap(err, "repository %s: key %s: unwrapping", ctx->name,
			     cka_id_hex);
		return rc;
	}
	*out = k;
	return 0;
}
