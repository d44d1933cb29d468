/*
 * RRSIG fields and signing input; see rrsig.h.
 */
#include "signer/rrsig.h"

#include "signer/codec.h"
#include "signer/name.h"
#include "signer/rdata.h"
#include "hsm/hsm.h"

#include <stdlib.h>

size_t signer_sig_max_len(const uint8_t *dnskey, size_t len)
{
	if (len < 4)
		return 0;
	switch (dnskey[3]) {
	case 5: case 7: case 8: case 10: {
		/* RFC 3110 §2: exponent length, exponent, modulus. */
		size_t el, off;
		if (len < 5)
			return 0;
		if (dnskey[4] == 0) {
			if (len < 7)
				return 0;
			el = (size_t)dnskey[5] << 8 | dnskey[6];
			off = 7;
		} else {
			el = dnskey[4];
			off = 5;
		}
		if (off + el >= len)
			return 0;
		return len - off - el;
	}
	case 13: return 64;
	case 14: return 96;
	case 15: return 64;
	case 16: return 114;
	default: return 512;
	}
}

void signer__sigctx_init(struct signer__sigctx *c, struct signer_zone *z,
			 const struct signer_params *p)
{
	memset(c, 0, sizeof *c);
	c->z = z;
	c->p = p;
	for (size_t i = 0; i < p->n_keys && i < 256; i++) {
		size_t m = signer_sig_max_len(p->keys[i].dnskey, p->keys[i].dnskey_len);
		c->tags[i] = hsm_keytag(p->keys[i].dnskey, p->keys[i].dnskey_len);
		z->key_tag[i] = c->tags[i];
		z->key_alg[i] = p->keys[i].algorithm;
		if (m > c->sig_max)
			c->sig_max = m;
	}
	c->signer_len = signer__name_lower(z->apex, c->signer);
	signer__name_lower(z->apex, c->apex_lower);
	z->signer_len = signer__name_lower(z->apex, z->signer_name);
}

void signer__target_get(const struct signer__sigctx *c, uint8_t kind, uint32_t index,
			struct signer__target *t)
{
	const struct signer_zone *z = c->z;
	if (kind == SIGNER_T_SET) {
		const struct signer__rrset *s = &z->sets[index];
		const uint8_t *nb = z->nodes[s->node].name;
		t->owner = signer__nb_wire(nb);
		t->owner_key = signer__nb_key(nb);
		t->owner_key_len = signer__nb_keylen(nb);
		t->type = s->type;
		t->ttl = s->ttl;
		t->role = signer__set_role(z, s);
		t->rrs = &z->rrs[s->first_rr];
		t->n_rr = s->n_rr;
	} else if (kind == SIGNER_T_NSEC) {
		const struct signer__node *n = &z->nodes[index];
		t->owner = signer__nb_wire(n->name);
		t->owner_key = signer__nb_key(n->name);
		t->owner_key_len = signer__nb_keylen(n->name);
		t->type = T_NSEC;
		t->ttl = z->denial_ttl;
		t->role = SIGNER_ROLE_ZSK;
		t->one = n->nsec;
		t->rrs = &t->one;
		t->n_rr = 1;
	} else {
		const struct signer__nsec3 *e = &z->nsec3[index];
		size_t al = signer__name_len(c->apex_lower);
		t->owner_buf[0] = 32;
		signer__b32hex_encode(e->hash, 20, (char *)t->owner_buf + 1);
		memcpy(t->owner_buf + 33, c->apex_lower, al);
		t->owner = t->owner_buf;
		t->owner_key_len = signer__name_key(t->owner_buf, t->key_buf);
		t->owner_key = t->key_buf;
		t->type = T_NSEC3;
		t->ttl = z->denial_ttl;
		t->role = SIGNER_ROLE_ZSK;
		t->one = e->rdata;
		t->rrs = &t->one;
		t->n_rr = 1;
	}
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

void signer__rrsig_times(const struct signer__sigctx *c, const struct signer__target *t,
			 size_t key, uint32_t *inception, uint32_t *expiration)
{
	const struct tdm_signconf *sc = c->p->sc;
	int64_t validity = sc->validity_default, exp;
	if (t->type == T_NSEC || t->type == T_NSEC3)
		validity = sc->validity_denial;
	else if (t->role == SIGNER_ROLE_KSK && sc->validity_keyset > 0)
		validity = sc->validity_keyset;
	exp = c->p->now + validity;
	if (sc->jitter > 0) {
		/* FNV-1a over owner, type and key tag, then a finaliser. */
		uint64_t h = 0xcbf29ce484222325ULL;
		for (size_t i = 0; i < t->owner_key_len; i++)
			h = (h ^ t->owner_key[i]) * 0x100000001b3ULL;
		h = (h ^ t->type) * 0x100000001b3ULL;
		h = (h ^ c->tags[key]) * 0x100000001b3ULL;
		h = mix(h);
		exp += (int64_t)(h % (uint64_t)(2 * sc->jitter + 1)) - sc->jitter;
	}
	*inception = (uint32_t)(c->p->now - sc->inception_offset);
	*expiration = (uint32_t)exp;
}

size_t signer__rrsig_fields(const struct signer_zone *z, uint16_t type, unsigned labels,
			    uint32_t ttl, size_t key, uint32_t inception, uint32_t expiration,
			    uint8_t *out)
{
	signer__put16(out, type);
	out[2] = z->key_alg[key];
	out[3] = (uint8_t)labels;
	signer__put32(out + 4, ttl);
	signer__put32(out + 8, expiration);
	signer__put32(out + 12, inception);
	signer__put16(out + 16, z->key_tag[key]);
	memcpy(out + 18, z->signer_name, z->signer_len);
	return 18 + z->signer_len;
}

size_t signer__rrsig_header(const struct signer__sigctx *c, const struct signer__target *t,
			    size_t key, uint8_t *out)
{
	uint32_t inc, exp;
	signer__rrsig_times(c, t, key, &inc, &exp);
	return signer__rrsig_fields(c->z, t->type, signer__name_rrsig_labels(t->owner), t->ttl,
				    key, inc, exp, out);
}

size_t signer__signing_input(const struct signer__target *t, size_t hl,
			     uint8_t **buf, size_t *cap)
{
	uint8_t owner[SIGNER_NAME_MAX];
	size_t ol = signer__name_lower(t->owner, owner);
	size_t need = hl, o = hl;
	bool names = signer__rdata_has_names(t->type);
	for (size_t i = 0; i < t->n_rr; i++)
		need += ol + 10 + signer__rb_len(t->rrs[i]);
	if (need > *cap) {
		*cap = need + 4096;
		*buf = tdm_realloc(*buf, *cap);
	}
	for (size_t i = 0; i < t->n_rr; i++) {
		uint8_t *b = *buf + o;
		size_t rl = signer__rb_len(t->rrs[i]);
		memcpy(b, owner, ol);
		b += ol;
		signer__put16(b, t->type);
		signer__put16(b + 2, 1);
		signer__put32(b + 4, t->ttl);
		signer__put16(b + 8, (uint32_t)rl);
		if (names)
			signer__rdata_canonical(t->type, signer__rb_data(t->rrs[i]), rl, b + 10);
		else
			memcpy(b + 10, signer__rb_data(t->rrs[i]), rl);
		o += ol + 10 + rl;
	}
	return o;
}
