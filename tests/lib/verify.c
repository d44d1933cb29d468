/*
 * Independent verification of DNSSEC signatures with OpenSSL, for tests:
 * the public key comes from a DNSKEY RDATA, the signature in DNSSEC wire
 * form (RSA PKCS#1 v1.5, ECDSA r||s, Ed25519).
 */
#include "testlib.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *b)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	if (params != NULL && c != NULL && EVP_PKEY_fromdata_init(c) == 1)
		EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(c);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return pk;
}

EVP_PKEY *tdm_test_pkey_from_dnskey(const uint8_t *rd, size_t len)
{
	const uint8_t *k = rd + 4;
	size_t klen = len - 4, elen, off;
	OSSL_PARAM_BLD *b;
	uint8_t pt[97];
	BIGNUM *n, *e;
	EVP_PKEY *pk;

	if (len < 5)
		return NULL;
	switch (rd[3]) {
	case 8:
	case 10:
		elen = k[0];
		off = 1;
		if (elen == 0) {
			elen = (size_t)k[1] << 8 | k[2];
			off = 3;
		}
		if (off + elen >= klen)
			return NULL;
		e = BN_bin2bn(k + off, (int)elen, NULL);
		n = BN_bin2bn(k + off + elen, (int)(klen - off - elen), NULL);
		b = OSSL_PARAM_BLD_new();
		OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n);
		OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e);
		pk = from_params("RSA", b);
		BN_free(n);
		BN_free(e);
		return pk;
	case 13:
	case 14:
		if (klen != (rd[3] == 13 ? 64u : 96u))
			return NULL;
		pt[0] = 0x04;
		memcpy(pt + 1, k, klen);
		b = OSSL_PARAM_BLD_new();
		OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
						rd[3] == 13 ? "P-256" : "P-384", 0);
		OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt,
						 klen + 1);
		return from_params("EC", b);
	case 15:
		if (klen != 32)
			return NULL;
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k, 32);
	default:
		return NULL;
	}
}

int tdm_test_verify(const uint8_t *dnskey, size_t dnskey_len,
		    const uint8_t *data, size_t len,
		    const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pk = tdm_test_pkey_from_dnskey(dnskey, dnskey_len);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	const EVP_MD *md = NULL;
	uint8_t der[128];
	unsigned char *p = der;
	ECDSA_SIG *es = NULL;
	int ok = -1, dlen;
	size_t half;

	if (pk == NULL || c == NULL)
		goto out;
	switch (dnskey[3]) {
	case 8: md = EVP_sha256(); break;
	case 10: md = EVP_sha512(); break;
	case 13: md = EVP_sha256(); break;
	case 14: md = EVP_sha384(); break;
	default: break;
	}
	if (dnskey[3] == 13 || dnskey[3] == 14) {
		/* r||s -> DER ECDSA-Sig-Value for OpenSSL. */
		half = sig_len / 2;
		es = ECDSA_SIG_new();
		ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL),
			       BN_bin2bn(sig + half, (int)half, NULL));
		dlen = i2d_ECDSA_SIG(es, &p);
		if (dlen <= 0)
			goto out;
		sig = der;
		sig_len = (size_t)dlen;
	}
	if (EVP_DigestVerifyInit(c, NULL, md, NULL, pk) != 1)
		goto out;
	ok = EVP_DigestVerify(c, sig, sig_len, data, len) == 1 ? 1 : 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(pk);
	return ok;
}
