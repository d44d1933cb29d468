/*
 * DNSKEY RDATA from the public half in the token: hsm_key_dnskey_rdata().
 *
 * RDATA (RFC 4034 §2.1): flags (2 octets), protocol 3, algorithm, then the
 * public key in the algorithm's form:
 *   RSA (RFC 3110 §2): exponent length (1 octet, or 0 and 2 octets when the
 *     exponent is longer than 255 octets), exponent, modulus; both taken
 *     from CKA_PUBLIC_EXPONENT and CKA_MODULUS without leading zeros.
 *   ECDSA (RFC 6605 §4): X || Y, 64 or 96 octets.  CKA_EC_POINT holds the
 *     point as a DER OCTET STRING (PKCS#11 v2.40 §2.3.3) around the
 *     uncompressed SEC1 form 0x04 || X || Y; both layers are removed.  Some
 *     tokens return the bare point; both are accepted, told apart by size.
 *   Ed25519 (RFC 8080 §3): the 32-octet public key, from CKA_EC_POINT with
 *     or without its OCTET STRING wrapper.
 */
#include "hsm/internal.h"

#include <stdlib.h>
#include <string.h>

static void strip_zeros(const uint8_t **p, size_t *n)
{
	while (*n > 0 && **p == 0) {
		(*p)++;
		(*n)--;
	}
}

/* The raw key from CKA_EC_POINT, which is `raw_len` octets unwrapped. */
static int ec_point(const uint8_t *v, size_t n, size_t raw_len,
		    const uint8_t **raw)
{
	if (n == raw_len) {
		*raw = v;
		return 0;
	}
	if (raw_len < 128 && n == raw_len + 2 && v[0] == 0x04 &&
	    v[1] == raw_len) {
		*raw = v + 2;
		return 0;
	}
	if (raw_len >= 128 && raw_len < 256 && n == raw_len + 3 &&
	    v[0] == 0x04 && v[1] == 0x81 && v[2] == raw_len) {
		*raw = v + 3;
		return 0;
	}
	return -1;
}

int hsm_key_dnskey_rdata(struct hsm_ctx *ctx, struct hsm_key *key,
			 uint16_t flags, uint8_t **out, size_t *len,
			 struct tdm_err *err)
{
	uint8_t *a = NULL, *b = NULL, *rd = NULL;
	size_t alen = 0, blen = 0, n = 0, klen;
	const uint8_t *e, *m, *raw;
	int rc = 0;

	if (key->pub == CK_INVALID_HANDLE)
		return tdm_err_fail(err, TDM_ENOKEY,
				    "repository %s: key %s: no public key object in the token",
				    ctx->name, key->id_hex);
	pthread_mutex_lock(&ctx->lock);
	if (key->type == CKK_RSA) {
		rc = hsm__get_attr(ctx, key->pub, CKA_PUBLIC_EXPONENT, &a, &alen, err);
		if (rc == 0)
			rc = hsm__get_attr(ctx, key->pub, CKA_MODULUS, &b, &blen, err);
	} else {
		rc = hsm__get_attr(ctx, key->pub, CKA_EC_POINT, &a, &alen, err);
	}
	pthread_mutex_unlock(&ctx->lock);
	if (rc != 0)
		goto out;

	if (key->type == CKK_RSA) {
		e = a;
		m = b;
		strip_zeros(&e, &alen);
		strip_zeros(&m, &blen);
		if (alen == 0 || alen > 0xffff || blen == 0) {
			rc = tdm_err_fail(err, TDM_EHSM, "RSA public key is empty");
			goto out;
		}
		rd = tdm_malloc(4 + 3 + alen + blen);
		n = 4;
		if (alen <= 255) {
			rd[n++] = (uint8_t)alen;
		} else {
			rd[n++] = 0;
			rd[n++] = (uint8_t)(alen >> 8);
			rd[n++] = (uint8_t)alen;
		}
		memcpy(rd + n, e, alen);
		n += alen;
		memcpy(rd + n, m, blen);
		n += blen;
	} else {
		klen = key->algorithm == HSM_ALG_ED25519 ? 32 :
		       key->algorithm == HSM_ALG_ECDSAP384SHA384 ? 97 : 65;
		if (ec_point(a, alen, klen, &raw) != 0 ||
		    (klen != 32 && raw[0] != 0x04)) {
			rc = tdm_err_fail(err, TDM_EHSM,
					  "CKA_EC_POINT of %zu octets is not a %s point",
					  alen, klen == 32 ? "Ed25519" :
					  "uncompressed EC");
			goto out;
		}
		if (klen != 32) {      /* drop the SEC1 0x04 prefix */
			raw++;
			klen--;
		}
		rd = tdm_malloc(4 + klen);
		memcpy(rd + 4, raw, klen);
		n = 4 + klen;
	}
	rd[0] = (uint8_t)(flags >> 8);
	rd[1] = (uint8_t)flags;
	rd[2] = 3;                     /* RFC 4034 §2.1.2 */
	rd[3] = key->algorithm;
	*out = rd;
	*len = n;
out:
	free(a);
	free(b);
	if (rc != 0)
		tdm_err_wrap(err, "repository %s: key %s: DNSKEY", ctx->name,
			     key->id_hex);
	return rc;
}
