/*
 * Key pair generation: hsm_key_generate().
 *
 * CKA_ID is 16 random bytes from OpenSSL's RAND_bytes, as OpenDNSSEC
 * does; CKA_LABEL defaults to the CKA_ID in hex.  The private half is
 * always CKA_PRIVATE and CKA_SENSITIVE; CKA_EXTRACTABLE only on request
 * (key custody wraps it under the cluster KEK).  Session objects are made
 * in the ctx's admin session so they live as long as the ctx, not as long
 * as some worker thread.
 *
 * Curves go in CKA_EC_PARAMS as DER: P-256 and P-384 by OID (RFC 5480
 * §2.1.1.1); Ed25519 by the OID 1.3.101.112 (RFC 8410 §3), which is what
 * SoftHSM2 2.6.1 understands.  Tokens that only know the PKCS#11 3.0
 * PrintableString "edwards25519" get that on a second attempt.
 */
#include "hsm/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

static int check_opts(struct hsm_ctx *ctx, const struct hsm_keygen *o,
		      unsigned *bits, struct tdm_err *err)
{
	switch (o->algorithm) {
	case HSM_ALG_RSASHA256:
	case HSM_ALG_RSASHA512:
		*bits = o->bits ? o->bits : 2048;
		if (*bits < 1024 || *bits > 4096 || *bits % 8 != 0)
			return tdm_err_fail(err, TDM_EINVAL,
					    "RSA modulus of %u bits: use 1024 to 4096, a multiple of 8",
					    *bits);
		break;
	case HSM_ALG_ECDSAP256SHA256:
	case HSM_ALG_ED25519:
		*bits = 256;
		break;
	case HSM_ALG_ECDSAP384SHA384:
		*bits = 384;
		break;
	default:
		return tdm_err_fail(err, TDM_EALGO,
				    "algorithm %u: Tandem generates 8, 10, 13, 14 and 15 only",
				    o->algorithm);
	}
	if (!hsm_algorithm_supported(ctx, o->algorithm))
		return tdm_err_fail(err, TDM_EALGO,
				    "algorithm %u: the token lacks the mechanisms to generate or sign",
				    o->algorithm);
	return 0;
}

int hsm_key_generate(struct hsm_ctx *ctx, const struct hsm_keygen *opts,
		     struct hsm_key **out, struct tdm_err *err)
{
	static const CK_BYTE exponent[] = { 0x01, 0x00, 0x01 }; /* 65537 */
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL token = opts->session ? CK_FALSE : CK_TRUE;
	CK_BBOOL extractable = opts->extractable ? CK_TRUE : CK_FALSE;
	CK_ULONG modulus_bits;
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv;
	CK_ATTRIBUTE pt[9], kt[9];
	CK_ULONG np = 0, nk = 0;
	struct hsm_key *k;
	char label[65];
	const void *params = NULL;
	size_t params_len = 0;
	unsigned bits = 0;
	CK_RV rv;
	int rc;

	rc = check_opts(ctx, opts, &bits, err);
	if (rc != 0) {
		tdm_err_wrap(err, "repository %s", ctx->name);
		return rc;
	}
	k = tdm_calloc(1, sizeof *k);
	k->id_len = HSM__ID_LEN;
	if (RAND_bytes(k->id, (int)k->id_len) != 1) {
		free(k);
		return tdm_err_fail(err, TDM_EIO, "RAND_bytes failed");
	}
	tdm_hex_encode(k->id, k->id_len, k->id_hex);
	snprintf(label, sizeof label, "%s", opts->label ? opts->label : k->id_hex);
	k->bits = bits;
	k->session_object = opts->session;

	switch (opts->algorithm) {
	case HSM_ALG_RSASHA256:
	case HSM_ALG_RSASHA512:
		k->type = CKK_RSA;
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		modulus_bits = bits;
		pt[np++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &modulus_bits,
					   sizeof modulus_bits };
		pt[np++] = (CK_ATTRIBUTE){ CKA_PUBLIC_EXPONENT, (void *)exponent,
					   sizeof exponent };
		break;
	case HSM_ALG_ECDSAP256SHA256:
		k->type = CKK_EC;
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		params = hsm__oid_p256;
		params_len = sizeof hsm__oid_p256;
		break;
	case HSM_ALG_ECDSAP384SHA384:
		k->type = CKK_EC;
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		params = hsm__oid_p384;
		params_len = sizeof hsm__oid_p384;
		break;
	case HSM_ALG_ED25519:
		k->type = CKK_EC_EDWARDS;
		mech.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
		params = hsm__oid_ed25519;
		params_len = sizeof hsm__oid_ed25519;
		break;
	}
	k->algorithm = opts->algorithm;
	if (params != NULL)
		pt[np++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)params,
					   params_len };
	pt[np++] = (CK_ATTRIBUTE){ CKA_TOKEN, &token, sizeof token };
	pt[np++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &no, sizeof no };
	pt[np++] = (CK_ATTRIBUTE){ CKA_VERIFY, &yes, sizeof yes };
	pt[np++] = (CK_ATTRIBUTE){ CKA_ID, k->id, k->id_len };
	pt[np++] = (CK_ATTRIBUTE){ CKA_LABEL, label, strlen(label) };

	kt[nk++] = (CK_ATTRIBUTE){ CKA_TOKEN, &token, sizeof token };
	kt[nk++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &yes, sizeof yes };
	kt[nk++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &yes, sizeof yes };
	kt[nk++] = (CK_ATTRIBUTE){ CKA_SIGN, &yes, sizeof yes };
	kt[nk++] = (CK_ATTRIBUTE){ CKA_EXTRACTABLE, &extractable,
				   sizeof extractable };
	kt[nk++] = (CK_ATTRIBUTE){ CKA_ID, k->id, k->id_len };
	kt[nk++] = (CK_ATTRIBUTE){ CKA_LABEL, label, strlen(label) };

	pthread_mutex_lock(&ctx->lock);
	rv = ctx->p11->C_GenerateKeyPair(ctx->admin, &mech, pt, np, kt, nk,
					 &pub, &priv);
	if ((rv == CKR_CURVE_NOT_SUPPORTED || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
	     rv == CKR_DOMAIN_PARAMS_INVALID) &&
	    opts->algorithm == HSM_ALG_ED25519) {
		pt[0].pValue = (void *)hsm__str_ed25519;
		pt[0].ulValueLen = sizeof hsm__str_ed25519;
		rv = ctx->p11->C_GenerateKeyPair(ctx->admin, &mech, pt, np,
						 kt, nk, &pub, &priv);
	}
	if (rv != CKR_OK) {
		pthread_mutex_unlock(&ctx->lock);
		free(k);
		hsm__fail(err, "C_GenerateKeyPair", rv);
		tdm_err_wrap(err, "repository %s: generating algorithm %u",
			     ctx->name, opts->algorithm);
		return TDM_EHSM;
	}
	k->pub = pub;
	k->priv = priv;
	rc = hsm__key_set_algorithm(ctx, k, opts->algorithm, err);
	if (rc == 0)
		hsm__key_cache_add(ctx, k);
	else {
		ctx->p11->C_DestroyObject(ctx->admin, pub);
		ctx->p11->C_DestroyObject(ctx->admin, priv);
	}
	pthread_mutex_unlock(&ctx->lock);
	if (rc != 0) {
		free(k);
		tdm_err_wrap(err, "repository %s", ctx->name);
		return rc;
	}
	*out = k;
	return 0;
}
