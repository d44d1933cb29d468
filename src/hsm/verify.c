/*
 * Software verification of DNSSEC signatures with OpenSSL: hsm_verify().
 * Used as a self-check (tandem-hsmutil test) independent of the token: the
 * public key comes from the DNSKEY RDATA, the signature is in DNSSEC wire
 * form (RFC 5702 §3 RSA PKCS#1 v1.5; RFC 6605 §4 ECDSA r||s; RFC 8080 §3
 * Ed25519).
 */
#include "hsm/hsm.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *b)
{
	OSSL_PARAM *params = b ? OSSL_PARAM_BLD_to_param(b) : NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	if (params != NULL && c != NULL && EVP_PKEY_fromdata_init(c) == 1)
		EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(c);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return pk;
}

/* RFC 3110 §2 exponent length, exponent, modulus. */
static EVP_PKEY *rsa_key(const uint8_t *k, size_t klen)
{
	size_t elen, off = 1;
	OSSL_PARAM_BLD *b;
	BIGNUM *n, *e;
	EVP_PKEY *pk;

	if (klen < 3)
		return NULL;
	elen = k[0];
	if (elen == 0) {
		elen = (size_t)k[1] << 8 | k[2];
		off = 3;
	}
	if (elen == 0 || off + elen >= klen)
		return NULL;
	e = BN_bin2bn(k + off, (int)elen, NULL);
	n = BN_bin2bn(k + off + elen, (int)(klen - off - elen), NULL);
	b = OSSL_PARAM_BLD_new();
	if (b != NULL && n != NULL && e != NULL) {
		OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n);
		OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e);
	}
	pk = from_params("RSA", b);
	BN_free(n);
	BN_free(e);
	return pk;
}

int hsm_verify(const uint8_t *rd, size_t rdlen, const uint8_t *data,
	       size_t len, const uint8_t *sig, size_t sig_len,
	       struct tdm_err *err)
{
	const uint8_t *k = rd + 4;
	size_t klen = rdlen - 4;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *c = NULL;
	const EVP_MD *md = NULL;
	OSSL_PARAM_BLD *b;
	ECDSA_SIG *es = NULL;
	uint8_t pt[97], der[128];
	unsigned char *p = der;
	int rc = 0, dlen;

	if (rdlen < 5)
		return tdm_err_fail(err, TDM_EINVAL, "DNSKEY RDATA too short");
	switch (rd[3]) {
	case HSM_ALG_RSASHA256:
	case HSM_ALG_RSASHA512:
		md = rd[3] == HSM_ALG_RSASHA256 ? EVP_sha256() : EVP_sha512();
		pk = rsa_key(k, klen);
		break;
	case HSM_ALG_ECDSAP256SHA256:
	case HSM_ALG_ECDSAP384SHA384:
		md = rd[3] == HSM_ALG_ECDSAP256SHA256 ? EVP_sha256() : EVP_sha384();
		if (klen != (rd[3] == HSM_ALG_ECDSAP256SHA256 ? 64u : 96u) ||
		    sig_len != klen)
			break;
		pt[0] = 0x04;
		memcpy(pt + 1, k, klen);
		b = OSSL_PARAM_BLD_new();
		if (b != NULL) {
			OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
				rd[3] == HSM_ALG_ECDSAP256SHA256 ? "P-256" : "P-384", 0);
			OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY,
							 pt, klen + 1);
		}
		pk = from_params("EC", b);
		/* r||s -> DER ECDSA-Sig-Value, which OpenSSL verifies. */
		es = ECDSA_SIG_new();
		if (es == NULL || !ECDSA_SIG_set0(es,
				BN_bin2bn(sig, (int)(sig_len / 2), NULL),
				BN_bin2bn(sig + sig_len / 2, (int)(sig_len / 2), NULL)))
			break;
		dlen = i2d_ECDSA_SIG(es, &p);
		if (dlen <= 0)
			break;
		sig = der;
		sig_len = (size_t)dlen;
		break;
	case HSM_ALG_ED25519:
		if (klen == 32)
			pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k, 32);
		break;
	default:
		return tdm_err_fail(err, TDM_EALGO, "algorithm %u: cannot verify",
				    rd[3]);
	}
	if (pk == NULL) {
		rc = tdm_err_fail(err, TDM_EINVAL,
				  "algorithm %u: malformed public key or signature",
				  rd[3]);
		goto out;
	}
	c = EVP_MD_CTX_new();
	if (c == NULL || EVP_DigestVerifyInit(c, NULL, md, NULL, pk) != 1) {
		rc = tdm_err_fail(err, TDM_EALGO, "algorithm %u: OpenSSL cannot verify",
				  rd[3]);
		goto out;
	}
	if (EVP_DigestVerify(c, sig, sig_len, data, len) != 1)
		rc = tdm_err_fail(err, TDM_EINVAL, "signature does not verify");
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(pk);
	return rc;
}
