/*
 * DS RDATA (RFC 4034 §5.1): key tag, algorithm, digest type, digest.
 * The digest is over the owner name in canonical (lower-case, uncompressed)
 * wire form followed by the DNSKEY RDATA (§5.1.4):
 *   "digest = digest_algorithm( DNSKEY owner name | DNSKEY RDATA)".
 * Digest types: 2 SHA-256 (RFC 4509), 4 SHA-384 (RFC 6605 §2).
 */
#include "hsm/hsm.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* A valid uncompressed wire name: labels of 1..63 octets ending at the
 * root, 255 octets at most (RFC 1035 §3.1). */
static int wire_name_ok(const uint8_t *w, size_t n)
{
	size_t i = 0;

	if (n == 0 || n > 255)
		return 0;
	while (i < n) {
		if (w[i] == 0)
			return i + 1 == n;
		if (w[i] > 63)
			return 0;
		i += 1 + (size_t)w[i];
	}
	return 0;
}

int hsm_ds_rdata(const uint8_t *owner_wire, size_t owner_len,
		 const uint8_t *dnskey_rdata, size_t dnskey_len,
		 uint8_t digest_type, uint8_t **out, size_t *len,
		 struct tdm_err *err)
{
	uint8_t owner[255];
	const EVP_MD *md;
	EVP_MD_CTX *c;
	unsigned int dlen = 0;
	uint16_t tag;
	uint8_t *rd;
	size_t i;
	int ok;

	if (digest_type == 2)
		md = EVP_sha256();
	else if (digest_type == 4)
		md = EVP_sha384();
	else
		return tdm_err_fail(err, TDM_EALGO,
				    "DS digest type %u: use 2 (SHA-256) or 4 (SHA-384)",
				    digest_type);
	if (!wire_name_ok(owner_wire, owner_len))
		return tdm_err_fail(err, TDM_EINVAL, "DS: owner is not a wire-format name");
	if (dnskey_len < 4)
		return tdm_err_fail(err, TDM_EINVAL, "DS: DNSKEY RDATA too short");
	/* Lower-case only the label octets, never the length octets. */
	for (i = 0; i < owner_len; i++) {
		size_t l = owner_wire[i], j;
		owner[i] = (uint8_t)l;
		for (j = 1; j <= l; j++) {
			uint8_t ch = owner_wire[i + j];
			owner[i + j] = (ch >= 'A' && ch <= 'Z') ? ch + 32 : ch;
		}
		i += l;
	}
	tag = hsm_keytag(dnskey_rdata, dnskey_len);
	rd = tdm_malloc(4 + EVP_MAX_MD_SIZE);
	c = EVP_MD_CTX_new();
	ok = c != NULL && EVP_DigestInit_ex(c, md, NULL) &&
	     EVP_DigestUpdate(c, owner, owner_len) &&
	     EVP_DigestUpdate(c, dnskey_rdata, dnskey_len) &&
	     EVP_DigestFinal_ex(c, rd + 4, &dlen);
	EVP_MD_CTX_free(c);
	if (!ok) {
		free(rd);
		return tdm_err_fail(err, TDM_EIO, "DS: digest failed in OpenSSL");
	}
	rd[0] = (uint8_t)(tag >> 8);
	rd[1] = (uint8_t)tag;
	rd[2] = dnskey_rdata[3];
	rd[3] = digest_type;
	*out = rd;
	*len = 4 + dlen;
	return 0;
}
