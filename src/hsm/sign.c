/*
 * Signing: hsm_sign(), the hot path (the signer makes tens of thousands of
 * signatures a second through it), and the choice of mechanism per key.
 *
 * The mechanism is chosen once per key (hsm__key_set_algorithm), so a
 * signature costs: one pthread_getspecific for the thread's session, the
 * pre-hash into a stack buffer when the token signs a digest, C_SignInit
 * and C_Sign.  No lock, no malloc, no C_FindObjects.
 *
 *   ECDSA (13, 14): SoftHSM2 2.6.1 has no CKM_ECDSA_SHA256, so the digest
 *     is made here (RFC 6605 §4: SHA-256 / SHA-384) and signed with
 *     CKM_ECDSA; the token returns r||s, which is the DNSSEC form.
 *   RSA (8, 10): CKM_SHA256_RSA_PKCS / CKM_SHA512_RSA_PKCS if the token has
 *     them, else the DigestInfo (RFC 8017 §9.2) is built here and signed
 *     with CKM_RSA_PKCS.  RFC 5702 §3: the signature is the PKCS#1 v1.5
 *     block, as the token returns it.
 *   Ed25519 (15): CKM_EDDSA over the whole data (RFC 8080 §4).
 */
#include "hsm/internal.h"

#include <string.h>

/* RFC 8017 §9.2 note 1: DER prefixes of DigestInfo. */
static const uint8_t di_sha256[19] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };
static const uint8_t di_sha512[19] = {
	0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 };

/* Digests fetched once: EVP_sha256() would fetch on every init. */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256, *md_sha384, *md_sha512;

static void md_fetch(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	md_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
}

int hsm__key_set_algorithm(struct hsm_ctx *ctx, struct hsm_key *key,
			   uint8_t alg, struct tdm_err *err)
{
	bool ok;

	pthread_once(&md_once, md_fetch);
	key->md = NULL;
	key->digestinfo = NULL;
	key->digestinfo_len = 0;
	switch (alg) {
	case HSM_ALG_RSASHA256:
	case HSM_ALG_RSASHA512:
		ok = key->type == CKK_RSA;
		if (!ok)
			break;
		if (hsm__has_mech(ctx, alg == HSM_ALG_RSASHA256 ?
				  CKM_SHA256_RSA_PKCS : CKM_SHA512_RSA_PKCS)) {
			key->mech = alg == HSM_ALG_RSASHA256 ?
				    CKM_SHA256_RSA_PKCS : CKM_SHA512_RSA_PKCS;
		} else if (hsm__has_mech(ctx, CKM_RSA_PKCS)) {
			key->mech = CKM_RSA_PKCS;
			key->md = alg == HSM_ALG_RSASHA256 ? md_sha256 : md_sha512;
			key->digestinfo = alg == HSM_ALG_RSASHA256 ?
					  di_sha256 : di_sha512;
			key->digestinfo_len = sizeof di_sha256;
		} else {
			return tdm_err_fail(err, TDM_EALGO,
					    "algorithm %u: token has neither CKM_SHA%s_RSA_PKCS nor CKM_RSA_PKCS",
					    alg, alg == 8 ? "256" : "512");
		}
		break;
	case HSM_ALG_ECDSAP256SHA256:
	case HSM_ALG_ECDSAP384SHA384:
		ok = key->type == CKK_EC && key->algorithm == alg;
		key->mech = CKM_ECDSA;
		key->md = alg == HSM_ALG_ECDSAP256SHA256 ? md_sha256 : md_sha384;
		if (ok && !hsm__has_mech(ctx, CKM_ECDSA))
			return tdm_err_fail(err, TDM_EALGO,
					    "algorithm %u: token has no CKM_ECDSA", alg);
		break;
	case HSM_ALG_ED25519:
		ok = key->type == CKK_EC_EDWARDS;
		key->mech = CKM_EDDSA;
		if (ok && !hsm__has_mech(ctx, CKM_EDDSA))
			return tdm_err_fail(err, TDM_EALGO,
					    "algorithm 15: token has no CKM_EDDSA");
		break;
	default:
		return tdm_err_fail(err, TDM_EALGO,
				    "algorithm %u is not supported", alg);
	}
	if (!ok)
		return tdm_err_fail(err, TDM_EALGO,
				    "algorithm %u does not fit this key (%s %u bits)",
				    alg, key->type == CKK_RSA ? "RSA" :
				    key->type == CKK_EC ? "EC" : "EdDSA", key->bits);
	if (key->md == NULL && key->mech == CKM_ECDSA)
		return tdm_err_fail(err, TDM_EALGO, "OpenSSL lacks the digest");
	key->algorithm = alg;
	return 0;
}

int hsm_key_set_algorithm(struct hsm_ctx *ctx, struct hsm_key *key,
			  uint8_t algorithm, struct tdm_err *err)
{
	int rc = hsm__key_set_algorithm(ctx, key, algorithm, err);

	if (rc != 0)
		tdm_err_wrap(err, "repository %s: key %s", ctx->name,
			     key->id_hex);
	return rc;
}

int hsm_sign(struct hsm_ctx *ctx, struct hsm_key *key, const uint8_t *data,
	     size_t len, uint8_t *sig, size_t *sig_len, struct tdm_err *err)
{
	struct hsm__thread *t;
	CK_MECHANISM mech = { key->mech, NULL, 0 };
	uint8_t buf[sizeof di_sha512 + EVP_MAX_MD_SIZE];
	CK_BYTE_PTR in = (CK_BYTE_PTR)data;
	CK_ULONG in_len = len, out_len = HSM_MAX_SIG_LEN;
	const char *fn = "C_SignInit";
	unsigned int dlen;
	CK_RV rv;
	int rc;

	rc = hsm__thread_get(ctx, &t, err);
	if (rc != 0)
		return rc;
	if (key->md != NULL) {
		if (key->digestinfo_len > 0)
			memcpy(buf, key->digestinfo, key->digestinfo_len);
		if (!EVP_DigestInit_ex(t->md, key->md, NULL) ||
		    !EVP_DigestUpdate(t->md, data, len) ||
		    !EVP_DigestFinal_ex(t->md, buf + key->digestinfo_len, &dlen))
			return tdm_err_fail(err, TDM_EHSM,
					    "repository %s: key %s: digest failed in OpenSSL",
					    ctx->name, key->id_hex);
		in = buf;
		in_len = key->digestinfo_len + dlen;
	}
	rv = ctx->p11->C_SignInit(t->session, &mech,
				  key->sign_copy != CK_INVALID_HANDLE ? key->sign_copy : key->priv);
	if (rv == CKR_OK) {
		fn = "C_Sign";
		rv = ctx->p11->C_Sign(t->session, in, in_len, sig, &out_len);
	}
	if (__builtin_expect(rv != CKR_OK, 0)) {
		if (rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
		    rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT)
			hsm__thread_drop(ctx, t);
		hsm__fail(err, fn, rv);
		tdm_err_wrap(err, "repository %s: key %s", ctx->name,
			     key->id_hex);
		return TDM_EHSM;
	}
	*sig_len = out_len;
	return 0;
}
