/*
 * The NSEC3 chain (RFC 5155).  Hashed owners are made for every
 * authoritative name, every delegation point (with opt-out: every secure
 * one) and every empty non-terminal on the way to them (RFC 5155 §7.1:
 * "Each empty non-terminal MUST have a corresponding NSEC3 RR, unless the
 * empty non-terminal is only derived from an insecure delegation covered
 * by an Opt-Out NSEC3 RR").  Glue and occluded names get none.
 *
 * Empty non-terminals are found without a search: walking the chain's
 * names in canonical order, the ancestors of a name N that lie strictly
 * below the deepest common ancestor of N and the previous chain name
 * cannot exist (they would sort between the two), so they are exactly the
 * new empty non-terminals.
 */
#include "signer/zone.h"

#include "signer/codec.h"
#include "signer/name.h"
#include "signer/rdata.h"

/* The one-shot SHA1() is several times faster than an EVP round trip per
 * name and NSEC3 hashing is on the critical path of every re-sign. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdlib.h>

void signer__nsec3_hash(const uint8_t *wire, const uint8_t *salt, size_t salt_len,
			unsigned iterations, uint8_t out[20])
{
	uint8_t buf[SIGNER_NAME_MAX + 255];
	size_t l = signer__name_lower(wire, buf);
	if (salt_len)
		memcpy(buf + l, salt, salt_len);
	SHA1(buf, l + salt_len, out);
	for (unsigned i = 0; i < iterations; i++) {
		memcpy(buf, out, 20);
		if (salt_len)
			memcpy(buf + 20, salt, salt_len);
		SHA1(buf, 20 + salt_len, out);
	}
}

/*
 * Sort by hash.  Hashes are uniform, so a counting sort on the first 16
 * bits leaves buckets of a few entries that insertion sort finishes.
 */
static void sort_hashes(struct signer__nsec3 **arr, size_t n)
{
	struct signer__nsec3 *in = *arr, *out = tdm_malloc((n + 1) * sizeof *out);
	size_t *count = tdm_calloc(65537, sizeof *count);
	for (size_t i = 0; i < n; i++)
		count[((size_t)in[i].hash[0] << 8 | in[i].hash[1]) + 1]++;
	for (size_t b = 1; b <= 65536; b++)
		count[b] += count[b - 1];
	for (size_t i = 0; i < n; i++)
		out[count[(size_t)in[i].hash[0] << 8 | in[i].hash[1]]++] = in[i];
	free(count);
	for (size_t i = 1; i < n; i++) {
		struct signer__nsec3 t;
		size_t j = i;
		if (memcmp(out[i - 1].hash, out[i].hash, 20) <= 0)
			continue;
		t = out[i];
		while (j > 0 && memcmp(out[j - 1].hash, t.hash, 20) > 0) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = t;
	}
	free(in);
	*arr = out;
}

static bool in_chain(const struct signer_zone *z, size_t i, bool optout)
{
	uint16_t f = z->nodes[i].flags;
	if (f & SIGNER_N_OCCLUDED)
		return false;
	if (optout && (f & SIGNER_N_DELEG) && !(f & SIGNER_N_DS))
		return false;
	return true;
}

static size_t count_zeros(const uint8_t *k, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += k[i] == 0;
	return c;
}

/* The RDATA blob of one NSEC3, the next hashed owner left for later. */
static const uint8_t *nsec3_rdata(struct signer_zone *z, uint8_t *rd, size_t hdr, size_t node)
{
	static __thread uint16_t types[65536];
	size_t nt = 0, l = hdr + 21;
	if (node != SIZE_MAX) {
		uint16_t f = z->nodes[node].flags;
		nt = signer__node_types(z, node, types);
		if (!(f & SIGNER_N_DELEG) || (f & SIGNER_N_DS))
			nt = signer__types_add(types, nt, T_RRSIG);
	}
	l += signer__bitmap_from_types(types, nt, rd + l);
	return signer__zone_rdata(z, rd, l);
}

int signer__nsec3_build(struct signer_zone *z, const struct tdm_signconf *sc,
			struct tdm_err *err)
{
	size_t cap = z->n_nodes + 16, n = 0;
	const uint8_t *prev_key = NULL;
	size_t prev_kl = 0;
	uint8_t rd[5 + 255 + 1 + 20 + 8704];
	size_t hdr;

	if (sc->nsec3_algorithm != 1)
		return tdm_err_fail(err, TDM_EALGO, "NSEC3 hash algorithm %u not supported (only 1, SHA-1)",
				    (unsigned)sc->nsec3_algorithm);
	if (sc->nsec3_salt_len > 255)
		return tdm_err_fail(err, TDM_EINVAL, "NSEC3 salt longer than 255 octets");
	rd[0] = 1;
	rd[1] = sc->nsec3_optout ? 1 : 0;
	signer__put16(rd + 2, sc->nsec3_iterations);
	rd[4] = (uint8_t)sc->nsec3_salt_len;
	if (sc->nsec3_salt_len)
		memcpy(rd + 5, sc->nsec3_salt, sc->nsec3_salt_len);
	hdr = 5 + sc->nsec3_salt_len;
	rd[hdr] = 20;
	memset(rd + hdr + 1, 0, 20);

	/* In name order, where the names and their RRsets lie in memory: the
	 * hash and the RDATA (type bitmap) of each.  Only the next hashed
	 * owner waits for the sort. */
	free(z->nsec3);
	z->nsec3 = tdm_malloc(cap * sizeof *z->nsec3);
	for (size_t i = 0; i < z->n_nodes; i++) {
		const uint8_t *k = signer__nb_key(z->nodes[i].name);
		size_t kl = signer__nb_keylen(z->nodes[i].name);
		const uint8_t *wire = signer__nb_wire(z->nodes[i].name);
		if (!in_chain(z, i, sc->nsec3_optout))
			continue;
		if (prev_key != NULL) {
			size_t c = 0, common, labels;
			while (c < kl && c < prev_kl && k[c] == prev_key[c])
				c++;
			common = count_zeros(k, c);
			labels = count_zeros(k, kl);
			/* Ancestors with common+1 .. labels-1 labels are ENTs. */
			for (size_t m = common + 1; m < labels; m++) {
				const uint8_t *w = wire;
				for (size_t s = 0; s < labels - m; s++)
					w += *w + 1;
				if (n == cap) {
					cap *= 2;
					z->nsec3 = tdm_realloc(z->nsec3, cap * sizeof *z->nsec3);
				}
				signer__nsec3_hash(w, sc->nsec3_salt, sc->nsec3_salt_len,
						   sc->nsec3_iterations, z->nsec3[n].hash);
				z->nsec3[n].node = UINT32_MAX;
				z->nsec3[n].rdata = nsec3_rdata(z, rd, hdr, SIZE_MAX);
				n++;
			}
		}
		if (n == cap) {
			cap *= 2;
			z->nsec3 = tdm_realloc(z->nsec3, cap * sizeof *z->nsec3);
		}
		signer__nsec3_hash(wire, sc->nsec3_salt, sc->nsec3_salt_len,
				   sc->nsec3_iterations, z->nsec3[n].hash);
		z->nsec3[n].node = (uint32_t)i;
		z->nsec3[n].rdata = nsec3_rdata(z, rd, hdr, i);
		z->nodes[i].flags |= SIGNER_N_INCHAIN;
		n++;
		prev_key = k;
		prev_kl = kl;
	}
	z->n_nsec3 = n;
	sort_hashes(&z->nsec3, n);
	for (size_t i = 1; i < n; i++)
		if (memcmp(z->nsec3[i].hash, z->nsec3[i - 1].hash, 20) == 0) {
			char h[40];
			h[signer__b32hex_encode(z->nsec3[i].hash, 20, h)] = '\0';
			return tdm_err_fail(err, TDM_EZONE,
					    "NSEC3 hash collision on %s: choose another salt", h);
		}
	for (size_t i = 0; i < n; i++) {
		struct signer__nsec3 *e = &z->nsec3[i];
		/* The blob is the zone's own (arena): written once here. */
		memcpy((uint8_t *)e->rdata + 2 + hdr + 1, z->nsec3[(i + 1) % n].hash, 20);
		e->n_sig = 0;
		e->same = false;
	}
	return 0;
}
