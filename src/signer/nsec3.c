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

/* The low-level SHA-1 is several times faster than an EVP round trip per
 * name, and NSEC3 hashing is on the critical path of every re-sign. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdlib.h>

void signer__nsec3_hash(const uint8_t *wire, const uint8_t *salt, size_t salt_len,
			unsigned iterations, uint8_t out[20])
{
	uint8_t buf[SIGNER_NAME_MAX + 255];
	size_t l = signer__name_lower(wire, buf);
	SHA_CTX c;
	/* The low-level calls: OpenSSL 3's SHA1() goes through EVP_Q_digest,
	 * which fetches the algorithm under a global lock on every call. */
	if (salt_len)
		memcpy(buf + l, salt, salt_len);
	SHA1_Init(&c);
	SHA1_Update(&c, buf, l + salt_len);
	SHA1_Final(out, &c);
	for (unsigned i = 0; i < iterations; i++) {
		memcpy(buf, out, 20);
		if (salt_len)
			memcpy(buf + 20, salt, salt_len);
		SHA1_Init(&c);
		SHA1_Update(&c, buf, 20 + salt_len);
		SHA1_Final(out, &c);
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
static const uint8_t *nsec3_rdata(struct signer_zone *z, struct signer__arena *a, uint8_t *rd,
				  size_t hdr, size_t node)
{
	static __thread uint16_t types[65536];
	size_t nt = 0, l = hdr + 21;
	uint8_t *b;
	if (node != SIZE_MAX) {
		uint16_t f = z->nodes[node].flags;
		nt = signer__node_types(z, node, types);
		if (!(f & SIGNER_N_DELEG) || (f & SIGNER_N_DS))
			nt = signer__types_add(types, nt, T_RRSIG);
	}
	l += signer__bitmap_from_types(types, nt, rd + l);
	b = signer__arena_alloc(a, l + 2);
	signer__put16(b, (uint32_t)l);
	memcpy(b + 2, rd, l);
	return b;
}

/* The chain of the names [from, to), into its own array and arena. */
struct part {
	struct signer_zone *z;
	const struct tdm_signconf *sc;
	size_t from, to, hdr;
	const uint8_t *rd_hdr;
	struct signer__nsec3 *out;
	size_t n, cap;
	struct signer__arena arena;
};

static struct signer__nsec3 *slot(struct part *pt)
{
	if (pt->n == pt->cap) {
		pt->cap = pt->cap ? pt->cap * 2 : 1024;
		pt->out = tdm_realloc(pt->out, pt->cap * sizeof *pt->out);
	}
	return &pt->out[pt->n++];
}

/*
 * In name order, where the names and their RRsets lie in memory: the hash
 * and the RDATA (type bitmap) of each name and empty non-terminal.  Only
 * the next hashed owner waits for the sort.
 */
static void *build_part(void *arg)
{
	struct part *pt = arg;
	struct signer_zone *z = pt->z;
	const struct tdm_signconf *sc = pt->sc;
	const uint8_t *prev_key = NULL;
	size_t prev_kl = 0;
	uint8_t rd[5 + 255 + 1 + 20 + 8704];

	memcpy(rd, pt->rd_hdr, pt->hdr + 21);
	/* The chain name before this share decides its first ENTs. */
	for (size_t i = pt->from; i-- > 0;) {
		if (in_chain(z, i, sc->nsec3_optout)) {
			prev_key = signer__nb_key(z->nodes[i].name);
			prev_kl = signer__nb_keylen(z->nodes[i].name);
			break;
		}
	}
	for (size_t i = pt->from; i < pt->to; i++) {
		const uint8_t *k = signer__nb_key(z->nodes[i].name);
		size_t kl = signer__nb_keylen(z->nodes[i].name);
		const uint8_t *wire = signer__nb_wire(z->nodes[i].name);
		struct signer__nsec3 *e;
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
				e = slot(pt);
				signer__nsec3_hash(w, sc->nsec3_salt, sc->nsec3_salt_len,
						   sc->nsec3_iterations, e->hash);
				e->node = UINT32_MAX;
				e->rdata = nsec3_rdata(z, &pt->arena, rd, pt->hdr, SIZE_MAX);
			}
		}
		e = slot(pt);
		signer__nsec3_hash(wire, sc->nsec3_salt, sc->nsec3_salt_len, sc->nsec3_iterations,
				   e->hash);
		e->node = (uint32_t)i;
		e->rdata = nsec3_rdata(z, &pt->arena, rd, pt->hdr, i);
		z->nodes[i].flags |= SIGNER_N_INCHAIN;
		prev_key = k;
		prev_kl = kl;
	}
	return NULL;
}

int signer__nsec3_build(struct signer_zone *z, const struct tdm_signconf *sc,
			struct tdm_err *err)
{
	uint8_t rd[5 + 255 + 1 + 20];
	struct part pt;
	size_t hdr, n;

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

	/* (Two threads over two halves gained nothing measurable: the walk
	 * is bound by memory, and SHA-1 is cheap once it avoids EVP.) */
	memset(&pt, 0, sizeof pt);
	pt.z = z;
	pt.sc = sc;
	pt.hdr = hdr;
	pt.rd_hdr = rd;
	pt.to = z->n_nodes;
	signer__arena_init(&pt.arena);
	build_part(&pt);
	free(z->nsec3);
	z->nsec3 = pt.out;
	n = pt.n;
	signer__arena_adopt(&z->arena, &pt.arena);
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
