/*
 * Key custody objects of a node (DESIGN.md "Key custody"): the transport
 * key pair and the cluster KEK, and the hand-over of the KEK to a joining
 * node.
 *
 *   transport key  RSA-3072 token objects labelled "tandem-transport"; the
 *                  private half can only unwrap and never leaves the token.
 *   cluster KEK    AES-256 token secret key labelled "tandem-kek", with
 *                  CKA_WRAP and CKA_UNWRAP.  The first node creates it; a
 *                  joining node receives it wrapped under its transport
 *                  public key, so the KEK never exists outside a token in
 *                  the clear.
 *
 * The KEK travels with CKM_RSA_PKCS_OAEP (PKCS#1 v2.2 RSAES-OAEP).
 * SoftHSM2 2.6.1 accepts only SHA-1 with MGF1-SHA1 for OAEP (any other
 * hashAlg or mgf gives CKR_ARGUMENTS_BAD), so both ends use those; OAEP's
 * security does not rest on the collision resistance of its hash.
 */
#include "hsm/internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/param_build.h>

#define TRANSPORT_BITS 3072

static CK_RSA_PKCS_OAEP_PARAMS oaep_params = {
	CKM_SHA_1, CKG_MGF1_SHA1, CKZ_DATA_SPECIFIED, NULL, 0
};

int hsm__find_labelled(struct hsm_ctx *ctx, CK_OBJECT_CLASS cls,
		       const char *label, CK_OBJECT_HANDLE *out,
		       struct tdm_err *err)
{
	CK_ATTRIBUTE t[2] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_LABEL, (void *)label, strlen(label) },
	};
	CK_ULONG n = 0;
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	rv = ctx->p11->C_FindObjectsInit(ctx->admin, t, 2);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_FindObjectsInit", rv);
	rv = ctx->p11->C_FindObjects(ctx->admin, out, 1, &n);
	ctx->p11->C_FindObjectsFinal(ctx->admin);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_FindObjects", rv);
	if (n == 0)
		*out = CK_INVALID_HANDLE;
	return 0;
}

int hsm__kek(struct hsm_ctx *ctx, CK_OBJECT_HANDLE *out, struct tdm_err *err)
{
	int rc = 0;

	/* The daemon asks often; a search costs a scan of the token. */
	if (ctx->kek == CK_INVALID_HANDLE)
		rc = hsm__find_labelled(ctx, CKO_SECRET_KEY, HSM_KEK_LABEL,
					&ctx->kek, err);
	*out = ctx->kek;
	return rc;
}

static int wrapf(struct hsm_ctx *ctx, struct tdm_err *err, int rc,
		 const char *what)
{
	if (rc != 0)
		tdm_err_wrap(err, "repository %s: %s", ctx->name, what);
	return rc;
}

/*- transport key -*/

int hsm_transport_ensure(struct hsm_ctx *ctx, bool *created,
			 struct tdm_err *err)
{
	static const CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = TRANSPORT_BITS;
	CK_MECHANISM mech = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_HANDLE priv, pub;
	uint8_t id[HSM__ID_LEN];
	const char *label = HSM_TRANSPORT_LABEL;
	CK_RV rv;
	int rc;

	if (created != NULL)
		*created = false;
	pthread_mutex_lock(&ctx->lock);
	rc = hsm__find_labelled(ctx, CKO_PRIVATE_KEY, label, &priv, err);
	if (rc != 0 || priv != CK_INVALID_HANDLE) {
		pthread_mutex_unlock(&ctx->lock);
		return wrapf(ctx, err, rc, "transport key");
	}
	if (RAND_bytes(id, sizeof id) != 1) {
		pthread_mutex_unlock(&ctx->lock);
		return tdm_err_fail(err, TDM_EIO, "RAND_bytes failed");
	}
	{
		CK_ATTRIBUTE pt[] = {
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &no, sizeof no },
			{ CKA_MODULUS_BITS, &bits, sizeof bits },
			{ CKA_PUBLIC_EXPONENT, (void *)exponent, sizeof exponent },
			{ CKA_WRAP, &yes, sizeof yes },
			{ CKA_ENCRYPT, &no, sizeof no },
			{ CKA_VERIFY, &no, sizeof no },
			{ CKA_ID, id, sizeof id },
			{ CKA_LABEL, (void *)label, strlen(label) },
		};
		CK_ATTRIBUTE kt[] = {
			{ CKA_TOKEN, &yes, sizeof yes },
			{ CKA_PRIVATE, &yes, sizeof yes },
			{ CKA_SENSITIVE, &yes, sizeof yes },
			{ CKA_EXTRACTABLE, &no, sizeof no },
			{ CKA_UNWRAP, &yes, sizeof yes },
			{ CKA_DECRYPT, &no, sizeof no },
			{ CKA_SIGN, &no, sizeof no },
			{ CKA_ID, id, sizeof id },
			{ CKA_LABEL, (void *)label, strlen(label) },
		};
		rv = ctx->p11->C_GenerateKeyPair(ctx->admin, &mech, pt,
						 sizeof pt / sizeof pt[0], kt,
						 sizeof kt / sizeof kt[0],
						 &pub, &priv);
	}
	pthread_mutex_unlock(&ctx->lock);
	if (rv != CKR_OK)
		return wrapf(ctx, err, hsm__fail(err, "C_GenerateKeyPair", rv),
			     "creating the transport key");
	if (created != NULL)
		*created = true;
	return 0;
}

int hsm_transport_public_der(struct hsm_ctx *ctx, uint8_t **out, size_t *len,
			     struct tdm_err *err)
{
	CK_OBJECT_HANDLE pub;
	uint8_t *n = NULL, *e = NULL;
	size_t nlen = 0, elen = 0;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *b = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *pk = NULL;
	unsigned char *der = NULL;
	int rc, dlen;

	pthread_mutex_lock(&ctx->lock);
	rc = hsm__find_labelled(ctx, CKO_PUBLIC_KEY, HSM_TRANSPORT_LABEL, &pub,
				err);
	if (rc == 0 && pub == CK_INVALID_HANDLE)
		rc = tdm_err_fail(err, TDM_ENOKEY, "no public key labelled \"%s\"",
				  HSM_TRANSPORT_LABEL);
	if (rc == 0)
		rc = hsm__get_attr(ctx, pub, CKA_MODULUS, &n, &nlen, err);
	if (rc == 0)
		rc = hsm__get_attr(ctx, pub, CKA_PUBLIC_EXPONENT, &e, &elen, err);
	pthread_mutex_unlock(&ctx->lock);
	if (rc != 0)
		return wrapf(ctx, err, rc, "transport key");

	bn = BN_bin2bn(n, (int)nlen, NULL);
	be = BN_bin2bn(e, (int)elen, NULL);
	b = OSSL_PARAM_BLD_new();
	if (bn != NULL && be != NULL && b != NULL &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be))
		params = OSSL_PARAM_BLD_to_param(b);
	pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (params != NULL && pc != NULL && EVP_PKEY_fromdata_init(pc) == 1)
		EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, params);
	dlen = pk != NULL ? i2d_PUBKEY(pk, &der) : -1;
	if (dlen > 0) {
		*out = tdm_malloc((size_t)dlen);
		memcpy(*out, der, (size_t)dlen);
		*len = (size_t)dlen;
	} else {
		rc = tdm_err_fail(err, TDM_EIO,
				  "repository %s: transport key: OpenSSL cannot encode it",
				  ctx->name);
	}
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(pc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return rc;
}

/*- KEK -*/

bool hsm_kek_exists(struct hsm_ctx *ctx)
{
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	struct tdm_err err;

	pthread_mutex_lock(&ctx->lock);
	hsm__kek(ctx, &h, &err);
	pthread_mutex_unlock(&ctx->lock);
	return h != CK_INVALID_HANDLE;
}

/* The attributes of a KEK in the token, generated or unwrapped. */
#define KEK_TEMPLATE(cls, type, yes, no, label)              \
	{ CKA_CLASS, &cls, sizeof cls },                               \
	{ CKA_KEY_TYPE, &type, sizeof type },                          \
	{ CKA_TOKEN, &yes, sizeof yes },                               \
	{ CKA_PRIVATE, &yes, sizeof yes },                             \
	{ CKA_SENSITIVE, &yes, sizeof yes },                           \
	{ CKA_EXTRACTABLE, &yes, sizeof yes },                         \
	{ CKA_WRAP, &yes, sizeof yes },                                \
	{ CKA_UNWRAP, &yes, sizeof yes },                              \
	{ CKA_ENCRYPT, &no, sizeof no },                               \
	{ CKA_DECRYPT, &no, sizeof no },                               \
	{ CKA_LABEL, (void *)label, strlen(label) }

int hsm_kek_create(struct hsm_ctx *ctx, struct tdm_err *err)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE type = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG value_len = 32;
	const char *label = HSM_KEK_LABEL;
	CK_MECHANISM mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_ATTRIBUTE t[] = {
		KEK_TEMPLATE(cls, type, yes, no, label),
		{ CKA_VALUE_LEN, &value_len, sizeof value_len },
	};
	CK_OBJECT_HANDLE h;
	CK_RV rv;
	int rc;

	pthread_mutex_lock(&ctx->lock);
	rc = hsm__kek(ctx, &h, err);
	if (rc == 0 && h != CK_INVALID_HANDLE)
		rc = tdm_err_fail(err, TDM_EEXIST, "the token has a KEK already");
	if (rc == 0) {
		rv = ctx->p11->C_GenerateKey(ctx->admin, &mech, t,
					     sizeof t / sizeof t[0], &h);
		if (rv != CKR_OK)
			rc = hsm__fail(err, "C_GenerateKey", rv);
		else
			ctx->kek = h;
	}
	pthread_mutex_unlock(&ctx->lock);
	return wrapf(ctx, err, rc, "creating the KEK");
}

/* Import a DER SPKI as a session RSA public key that can wrap. */
static int import_spki(struct hsm_ctx *ctx, const uint8_t *spki, size_t len,
		       CK_OBJECT_HANDLE *out, struct tdm_err *err)
{
	const unsigned char *p = spki;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)len);
	BIGNUM *n = NULL, *e = NULL;
	uint8_t nb[1024], eb[16];
	int nl, el, rc = 0;
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE type = CKK_RSA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_RV rv;

	if (pk == NULL || p != spki + len || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) ||
	    BN_num_bytes(n) > (int)sizeof nb || BN_num_bytes(e) > (int)sizeof eb ||
	    BN_num_bits(n) < 2048) {
		rc = tdm_err_fail(err, TDM_EINVAL,
				  "peer transport key: not a DER RSA SubjectPublicKeyInfo of 2048 bits or more");
		goto out;
	}
	nl = BN_bn2bin(n, nb);
	el = BN_bn2bin(e, eb);
	{
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls, sizeof cls },
			{ CKA_KEY_TYPE, &type, sizeof type },
			{ CKA_TOKEN, &no, sizeof no },
			{ CKA_WRAP, &yes, sizeof yes },
			{ CKA_MODULUS, nb, (CK_ULONG)nl },
			{ CKA_PUBLIC_EXPONENT, eb, (CK_ULONG)el },
		};
		rv = ctx->p11->C_CreateObject(ctx->admin, t, sizeof t / sizeof t[0],
					      out);
		if (rv != CKR_OK)
			rc = hsm__fail(err, "C_CreateObject", rv);
	}
out:
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
	return rc;
}

int hsm_kek_wrap_for_peer(struct hsm_ctx *ctx, const uint8_t *peer_spki,
			  size_t spki_len, uint8_t **out, size_t *len,
			  struct tdm_err *err)
{
	CK_MECHANISM mech = { CKM_RSA_PKCS_OAEP, &oaep_params, sizeof oaep_params };
	CK_OBJECT_HANDLE kek, peer = CK_INVALID_HANDLE;
	CK_ULONG n = 0;
	uint8_t *blob = NULL;
	CK_RV rv;
	int rc;

	pthread_mutex_lock(&ctx->lock);
	rc = hsm__kek(ctx, &kek, err);
	if (rc == 0 && kek == CK_INVALID_HANDLE)
		rc = tdm_err_fail(err, TDM_ENOKEY, "no KEK in the token");
	if (rc == 0)
		rc = import_spki(ctx, peer_spki, spki_len, &peer, err);
	if (rc == 0) {
		rv = ctx->p11->C_WrapKey(ctx->admin, &mech, peer, kek, NULL, &n);
		if (rv == CKR_OK) {
			blob = tdm_malloc(n);
			rv = ctx->p11->C_WrapKey(ctx->admin, &mech, peer, kek,
						 blob, &n);
		}
		if (rv != CKR_OK)
			rc = hsm__fail(err, "C_WrapKey", rv);
	}
	if (peer != CK_INVALID_HANDLE)
		ctx->p11->C_DestroyObject(ctx->admin, peer);
	pthread_mutex_unlock(&ctx->lock);
	if (rc != 0) {
		free(blob);
		return wrapf(ctx, err, rc, "wrapping the KEK for a peer");
	}
	*out = blob;
	*len = n;
	return 0;
}

int hsm_kek_unwrap(struct hsm_ctx *ctx, const uint8_t *blob, size_t len,
		   struct tdm_err *err)
{
	CK_MECHANISM mech = { CKM_RSA_PKCS_OAEP, &oaep_params, sizeof oaep_params };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE type = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	const char *label = HSM_KEK_LABEL;
	CK_ATTRIBUTE t[] = { KEK_TEMPLATE(cls, type, yes, no, label) };
	CK_OBJECT_HANDLE transport, h;
	CK_RV rv;
	int rc;

	pthread_mutex_lock(&ctx->lock);
	rc = hsm__kek(ctx, &h, err);
	if (rc == 0 && h != CK_INVALID_HANDLE)
		rc = tdm_err_fail(err, TDM_EEXIST, "the token has a KEK already");
	if (rc == 0)
		rc = hsm__find_labelled(ctx, CKO_PRIVATE_KEY, HSM_TRANSPORT_LABEL,
					&transport, err);
	if (rc == 0 && transport == CK_INVALID_HANDLE)
		rc = tdm_err_fail(err, TDM_ENOKEY, "no transport key in the token");
	if (rc == 0) {
		rv = ctx->p11->C_UnwrapKey(ctx->admin, &mech, transport,
					   (CK_BYTE_PTR)blob, len, t,
					   sizeof t / sizeof t[0], &h);
		if (rv != CKR_OK)
			rc = hsm__fail(err, "C_UnwrapKey", rv);
		else
			ctx->kek = h;
	}
	pthread_mutex_unlock(&ctx->lock);
	return wrapf(ctx, err, rc, "unwrapping the KEK");
}
