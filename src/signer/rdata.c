/*
 * RR types and RDATA conversion; see rdata.h.  The fast paths are written
 * for the presentation form Tandem itself writes and the common forms of
 * hand-written zone files; whatever they do not recognise goes to ldns.
 */
#include "signer/rdata.h"

#include "common/error.h"
#include "signer/codec.h"
#include "signer/name.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/*- types ------------------------------------------------------------------*/

struct tname {
	uint16_t type;
	const char *name;
};

/* The fast table: lookups by the commonest names never reach ldns. */
static const struct tname types[] = {
	{ T_A, "A" }, { T_NS, "NS" }, { T_CNAME, "CNAME" }, { T_SOA, "SOA" },
	{ T_PTR, "PTR" }, { T_MX, "MX" }, { T_TXT, "TXT" }, { T_AAAA, "AAAA" },
	{ T_SRV, "SRV" }, { T_DS, "DS" }, { T_RRSIG, "RRSIG" }, { T_NSEC, "NSEC" },
	{ T_DNSKEY, "DNSKEY" }, { T_NSEC3, "NSEC3" }, { T_NSEC3PARAM, "NSEC3PARAM" },
	{ T_DNAME, "DNAME" }, { T_CDS, "CDS" }, { T_CDNSKEY, "CDNSKEY" },
	{ T_SPF, "SPF" }, { T_KX, "KX" }, { T_HINFO, "HINFO" }, { T_NAPTR, "NAPTR" },
	{ 257, "CAA" }, { 52, "TLSA" }, { 44, "SSHFP" }, { 64, "SVCB" }, { 65, "HTTPS" },
};

bool signer__type_parse(const char *s, size_t len, uint16_t *type)
{
	char buf[32];
	ldns_rr_type t;
	if (len <= 10) {
		char up[11];
		for (size_t i = 0; i < len; i++)
			up[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (types[i].name[0] == up[0] && strlen(types[i].name) == len &&
			    memcmp(types[i].name, up, len) == 0) {
				*type = types[i].type;
				return true;
			}
	}
	if (len > 4 && len < 10 && strncasecmp(s, "TYPE", 4) == 0) {
		uint32_t v;
		if (!signer__uint_parse(s + 4, len - 4, 65535, &v))
			return false;
		*type = (uint16_t)v;
		return true;
	}
	if (len == 0 || len >= sizeof buf || s[0] < 'A' || (s[0] > 'Z' && s[0] < 'a') || s[0] > 'z')
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	t = ldns_get_rr_type_by_name(buf);
	if (t == 0)
		return false;
	/* ldns also maps the class-like and meta names; those are not types here. */
	if (t == LDNS_RR_TYPE_ANY || t == LDNS_RR_TYPE_AXFR || t == LDNS_RR_TYPE_IXFR ||
	    t == LDNS_RR_TYPE_MAILA || t == LDNS_RR_TYPE_MAILB || t == LDNS_RR_TYPE_OPT)
		return false;
	*type = (uint16_t)t;
	return true;
}

const char *signer__type_name(uint16_t type, char *buf)
{
	const ldns_rr_descriptor *d;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (types[i].type == type)
			return types[i].name;
	d = ldns_rr_descript(type);
	if (d != NULL && d->_name != NULL && strncmp(d->_name, "TYPE", 4) != 0) {
		snprintf(buf, 16, "%s", d->_name);
		return buf;
	}
	snprintf(buf, 16, "TYPE%u", (unsigned)type);
	return buf;
}

bool signer__rdata_is_fast(uint16_t type)
{
	switch (type) {
	case T_A: case T_AAAA: case T_NS: case T_CNAME: case T_PTR: case T_DNAME:
	case T_MX: case T_KX: case T_SRV: case T_TXT: case T_SPF: case T_SOA:
	case T_DS: case T_CDS: case T_DNSKEY: case T_CDNSKEY: case T_RRSIG:
	case T_NSEC: case T_NSEC3: case T_NSEC3PARAM:
		return true;
	default:
		return false;
	}
}

/*- wire validation --------------------------------------------------------*/

bool signer__wire_name_valid(const uint8_t *rd, size_t len, size_t *nlen)
{
	size_t i = 0;
	for (;;) {
		if (i >= len || i >= SIGNER_NAME_MAX)
			return false;
		if (rd[i] == 0) {
			*nlen = i + 1;
			return true;
		}
		if (rd[i] > 63)
			return false;
		i += rd[i] + 1u;
	}
}

bool signer__bitmap_valid(const uint8_t *rd, size_t len)
{
	size_t i = 0;
	int last = -1;
	while (i < len) {
		unsigned w, l;
		if (i + 2 > len)
			return false;
		w = rd[i];
		l = rd[i + 1];
		if ((int)w <= last || l == 0 || l > 32 || i + 2 + l > len)
			return false;
		last = (int)w;
		i += 2 + l;
	}
	return true;
}

static bool strings_valid(const uint8_t *rd, size_t len)
{
	size_t i = 0;
	if (len == 0)
		return false;
	while (i < len)
		i += rd[i] + 1u;
	return i == len;
}

bool signer__rdata_valid(uint16_t type, const uint8_t *rd, size_t len)
{
	size_t n, m;
	switch (type) {
	case T_A: return len == 4;
	case T_AAAA: return len == 16;
	case T_NS: case T_CNAME: case T_PTR: case T_DNAME:
		return signer__wire_name_valid(rd, len, &n) && n == len;
	case T_MX: case T_KX:
		return len > 2 && signer__wire_name_valid(rd + 2, len - 2, &n) && n + 2 == len;
	case T_SRV:
		return len > 6 && signer__wire_name_valid(rd + 6, len - 6, &n) && n + 6 == len;
	case T_TXT: case T_SPF:
		return strings_valid(rd, len);
	case T_SOA:
		return signer__wire_name_valid(rd, len, &n) &&
		       signer__wire_name_valid(rd + n, len - n, &m) && n + m + 20 == len;
	case T_DS: case T_CDS: case T_DNSKEY: case T_CDNSKEY:
		return len >= 4;
	case T_RRSIG:
		return len > 18 && signer__wire_name_valid(rd + 18, len - 18, &n);
	case T_NSEC:
		return signer__wire_name_valid(rd, len, &n) &&
		       signer__bitmap_valid(rd + n, len - n);
	case T_NSEC3:
		if (len < 5 || 5u + rd[4] + 1 > len)
			return false;
		n = 5u + rd[4];
		m = rd[n];
		if (m == 0 || n + 1 + m > len)
			return false;
		return signer__bitmap_valid(rd + n + 1 + m, len - n - 1 - m);
	case T_NSEC3PARAM:
		return len >= 5 && 5u + rd[4] == len;
	default:
		return true;
	}
}

/*- presentation -> wire ---------------------------------------------------*/

#define RD_MAX 65535

static int fail(const char **why, const char *msg)
{
	*why = msg;
	return TDM_EPARSE;
}

/* The last name parsed, with its origin: a signed zone names the same
 * signer in every RRSIG and the same few hosts in NS and MX records. */
struct name_cache {
	char text[64];
	size_t text_len;
	uint8_t origin[SIGNER_NAME_MAX];
	size_t origin_len;
	uint8_t wire[SIGNER_NAME_MAX];
	size_t wire_len;
};

static int pname(const struct signer__tok *t, const uint8_t *origin,
		 uint8_t *out, size_t *o, const char **why)
{
	static __thread struct name_cache nc;
	size_t l, ol = origin ? signer__name_len(origin) : 0;
	int rc;
	if (*o + SIGNER_NAME_MAX > RD_MAX)
		return fail(why, "RDATA too long");
	if (nc.text_len != 0 && t->len == nc.text_len && ol == nc.origin_len &&
	    memcmp(t->p, nc.text, t->len) == 0 && (ol == 0 || memcmp(origin, nc.origin, ol) == 0)) {
		memcpy(out + *o, nc.wire, nc.wire_len);
		*o += nc.wire_len;
		return 0;
	}
	rc = signer__name_parse(t->p, t->len, origin, out + *o, &l, why);
	if (rc != 0)
		return rc;
	if (t->len < sizeof nc.text) {
		memcpy(nc.text, t->p, t->len);
		nc.text_len = t->len;
		if (ol)
			memcpy(nc.origin, origin, ol);
		nc.origin_len = ol;
		memcpy(nc.wire, out + *o, l);
		nc.wire_len = l;
	}
	*o += l;
	return 0;
}

static bool u(const struct signer__tok *t, uint32_t max, uint32_t *v)
{
	return signer__uint_parse(t->p, t->len, max, v);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static bool ipv4(const char *s, size_t len, uint8_t *out)
{
	unsigned part = 0, v = 0, ndig = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (ndig == 0 || part > 3)
				return false;
			out[part++] = (uint8_t)v;
			v = 0;
			ndig = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || ++ndig > 3)
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > 255)
			return false;
	}
	return part == 4;
}

/* Concatenate the remaining tokens and decode them (base64 or hex): the
 * data may be split into tokens at any character. */
static int blob(const struct signer__tok *t, size_t n, bool b64, uint8_t *out,
		size_t *o, const char **why)
{
	long r;
	if (n == 1) {
		r = b64 ? signer__b64_decode(t[0].p, t[0].len, out + *o, RD_MAX - *o)
			: signer__hex_decode(t[0].p, t[0].len, out + *o, RD_MAX - *o);
	} else {
		static __thread char tmp[RD_MAX * 2 + 4];
		size_t tl = 0;
		for (size_t j = 0; j < n; j++) {
			if (tl + t[j].len > sizeof tmp)
				return fail(why, "data too long");
			memcpy(tmp + tl, t[j].p, t[j].len);
			tl += t[j].len;
		}
		r = b64 ? signer__b64_decode(tmp, tl, out + *o, RD_MAX - *o)
			: signer__hex_decode(tmp, tl, out + *o, RD_MAX - *o);
	}
	if (r < 0)
		return fail(why, b64 ? "bad base64" : "bad hexadecimal");
	*o += (size_t)r;
	return 0;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

size_t signer__bitmap_from_types(const uint16_t *types_, size_t n, uint8_t *out)
{
	size_t o = 0, i = 0;
	while (i < n) {
		unsigned win = types_[i] >> 8;
		uint8_t bits[32];
		unsigned maxb = 0;
		memset(bits, 0, sizeof bits);
		for (; i < n && (types_[i] >> 8) == win; i++) {
			unsigned lo = types_[i] & 255;
			bits[lo >> 3] |= (uint8_t)(0x80 >> (lo & 7));
			if ((lo >> 3) + 1 > maxb)
				maxb = (lo >> 3) + 1;
		}
		out[o++] = (uint8_t)win;
		out[o++] = (uint8_t)maxb;
		memcpy(out + o, bits, maxb);
		o += maxb;
	}
	return o;
}

static int bitmap_parse(const struct signer__tok *t, size_t n, uint8_t *out,
			size_t *o, const char **why)
{
	uint16_t tl[512];
	size_t k = 0, d = 0;
	if (n > sizeof tl / sizeof tl[0])
		return SIGNER_RDATA_OTHER;
	for (size_t i = 0; i < n; i++)
		if (!signer__type_parse(t[i].p, t[i].len, &tl[k++]))
			return fail(why, "unknown type in type bitmap");
	qsort(tl, k, sizeof tl[0], cmp_u16);
	for (size_t i = 0; i < k; i++)
		if (d == 0 || tl[d - 1] != tl[i])
			tl[d++] = tl[i];
	if (*o + 8704 > RD_MAX)
		return fail(why, "RDATA too long");
	*o += signer__bitmap_from_types(tl, d, out + *o);
	return 0;
}

/* One <character-string>: unescape into out with its length octet. */
static int cstring(const struct signer__tok *t, uint8_t *out, size_t *o,
		   const char **why)
{
	size_t lenpos = *o, l = 0;
	if (*o + 1 + t->len > RD_MAX)
		return fail(why, "RDATA too long");
	(*o)++;
	for (uint32_t i = 0; i < t->len;) {
		unsigned c = (unsigned char)t->p[i];
		if (c == '\\') {
			if (i + 1 >= t->len)
				return fail(why, "dangling backslash");
			if (t->p[i + 1] >= '0' && t->p[i + 1] <= '9') {
				if (i + 3 >= t->len || t->p[i + 2] < '0' || t->p[i + 2] > '9' ||
				    t->p[i + 3] < '0' || t->p[i + 3] > '9')
					return fail(why, "bad \\DDD escape");
				c = (unsigned)(t->p[i + 1] - '0') * 100 +
				    (unsigned)(t->p[i + 2] - '0') * 10 +
				    (unsigned)(t->p[i + 3] - '0');
				if (c > 255)
					return fail(why, "\\DDD escape above 255");
				i += 4;
			} else {
				c = (unsigned char)t->p[i + 1];
				i += 2;
			}
		} else {
			i++;
		}
		if (++l > 255)
			return fail(why, "character string longer than 255 octets");
		out[(*o)++] = (uint8_t)c;
	}
	out[lenpos] = (uint8_t)l;
	return 0;
}

static int salt_parse(const struct signer__tok *t, uint8_t *out, size_t *o,
		      const char **why)
{
	long r;
	if (t->len == 1 && t->p[0] == '-') {
		out[(*o)++] = 0;
		return 0;
	}
	if (t->len > 510)
		return fail(why, "salt too long");
	r = signer__hex_decode(t->p, t->len, out + *o + 1, 255);
	if (r < 0)
		return fail(why, "bad salt");
	out[*o] = (uint8_t)r;
	*o += 1 + (size_t)r;
	return 0;
}

static int generic(const struct signer__tok *t, size_t n, uint8_t *out,
		   size_t *len, const char **why)
{
	uint32_t l;
	size_t o = 0;
	if (n < 2 || !u(&t[1], RD_MAX, &l))
		return fail(why, "bad RFC 3597 length");
	for (size_t i = 2; i < n; i++) {
		long r = signer__hex_decode(t[i].p, t[i].len, out + o, RD_MAX - o);
		if (r < 0)
			return fail(why, "bad RFC 3597 hexadecimal");
		o += (size_t)r;
	}
	if (o != l)
		return fail(why, "RFC 3597 length does not match the data");
	*len = o;
	return 0;
}

int signer__rdata_parse(uint16_t type, const struct signer__tok *t, size_t n,
			const uint8_t *origin, uint8_t *out, size_t *len,
			const char **why)
{
	size_t o = 0;
	uint32_t v;
	int rc;

	if (n >= 1 && !t[0].quoted && t[0].len == 2 && t[0].p[0] == '\\' && t[0].p[1] == '#') {
		rc = generic(t, n, out, len, why);
		if (rc == 0 && signer__rdata_is_fast(type) && !signer__rdata_valid(type, out, *len))
			return fail(why, "RFC 3597 data does not match the type");
		return rc;
	}
	switch (type) {
	case T_A:
		if (n != 1 || !ipv4(t[0].p, t[0].len, out))
			return fail(why, "bad IPv4 address");
		*len = 4;
		return 0;
	case T_AAAA: {
		char buf[64];
		if (n != 1 || t[0].len >= sizeof buf)
			return fail(why, "bad IPv6 address");
		memcpy(buf, t[0].p, t[0].len);
		buf[t[0].len] = '\0';
		if (inet_pton(AF_INET6, buf, out) != 1)
			return fail(why, "bad IPv6 address");
		*len = 16;
		return 0;
	}
	case T_NS: case T_CNAME: case T_PTR: case T_DNAME:
		if (n != 1)
			return fail(why, "expected one name");
		if ((rc = pname(&t[0], origin, out, &o, why)) != 0)
			return rc;
		*len = o;
		return 0;
	case T_MX: case T_KX:
		if (n != 2 || !u(&t[0], 65535, &v))
			return fail(why, "expected preference and name");
		put16(out, v);
		o = 2;
		if ((rc = pname(&t[1], origin, out, &o, why)) != 0)
			return rc;
		*len = o;
		return 0;
	case T_SRV:
		if (n != 4)
			return fail(why, "expected priority, weight, port and target");
		for (int i = 0; i < 3; i++) {
			if (!u(&t[i], 65535, &v))
				return fail(why, "bad SRV number");
			put16(out + 2 * i, v);
		}
		o = 6;
		if ((rc = pname(&t[3], origin, out, &o, why)) != 0)
			return rc;
		*len = o;
		return 0;
	case T_TXT: case T_SPF:
		if (n == 0)
			return fail(why, "no character string");
		for (size_t i = 0; i < n; i++)
			if ((rc = cstring(&t[i], out, &o, why)) != 0)
				return rc;
		*len = o;
		return 0;
	case T_SOA:
		if (n != 7)
			return fail(why, "SOA needs 7 fields");
		if ((rc = pname(&t[0], origin, out, &o, why)) != 0 ||
		    (rc = pname(&t[1], origin, out, &o, why)) != 0)
			return rc;
		if (!u(&t[2], UINT32_MAX, &v))
			return fail(why, "bad SOA serial");
		put32(out + o, v);
		o += 4;
		for (int i = 3; i < 7; i++) {
			if (!signer__ttl_parse(t[i].p, t[i].len, &v))
				return fail(why, "bad SOA timer");
			put32(out + o, v);
			o += 4;
		}
		*len = o;
		return 0;
	case T_DS: case T_CDS:
		if (n < 3)
			return fail(why, "DS needs key tag, algorithm, digest type and digest");
		if (!u(&t[0], 65535, &v))
			return fail(why, "bad key tag");
		put16(out, v);
		if (!u(&t[1], 255, &v))
			return SIGNER_RDATA_OTHER; /* algorithm mnemonic: ldns */
		out[2] = (uint8_t)v;
		if (!u(&t[2], 255, &v))
			return fail(why, "bad digest type");
		out[3] = (uint8_t)v;
		o = 4;
		if ((rc = blob(t + 3, n - 3, false, out, &o, why)) != 0)
			return rc;
		*len = o;
		return 0;
	case T_DNSKEY: case T_CDNSKEY:
		if (n < 3)
			return fail(why, "DNSKEY needs flags, protocol, algorithm and key");
		if (!u(&t[0], 65535, &v))
			return fail(why, "bad flags");
		put16(out, v);
		if (!u(&t[1], 255, &v))
			return fail(why, "bad protocol");
		out[2] = (uint8_t)v;
		if (!u(&t[2], 255, &v))
			return SIGNER_RDATA_OTHER;
		out[3] = (uint8_t)v;
		o = 4;
		if ((rc = blob(t + 3, n - 3, true, out, &o, why)) != 0)
			return rc;
		*len = o;
		return 0;
	case T_RRSIG: {
		uint16_t ct;
		if (n < 9)
			return fail(why, "RRSIG needs 9 fields");
		if (!signer__type_parse(t[0].p, t[0].len, &ct))
			return fail(why, "bad type covered");
		put16(out, ct);
		if (!u(&t[1], 255, &v))
			return SIGNER_RDATA_OTHER;
		out[2] = (uint8_t)v;
		if (!u(&t[2], 255, &v))
			return fail(why, "bad labels");
		out[3] = (uint8_t)v;
		if (!signer__ttl_parse(t[3].p, t[3].len, &v))
			return fail(why, "bad original TTL");
		put32(out + 4, v);
		if (!signer__time_parse(t[4].p, t[4].len, &v))
			return fail(why, "bad expiration");
		put32(out + 8, v);
		if (!signer__time_parse(t[5].p, t[5].len, &v))
			return fail(why, "bad inception");
		put32(out + 12, v);
		if (!u(&t[6], 65535, &v))
			return fail(why, "bad key tag");
		put16(out + 16, v);
		o = 18;
		if ((rc = pname(&t[7], origin, out, &o, why)) != 0)
			return rc;
		if ((rc = blob(t + 8, n - 8, true, out, &o, why)) != 0)
			return rc;
		*len = o;
		return 0;
	}
	case T_NSEC:
		if (n < 1)
			return fail(why, "NSEC needs a next name");
		if ((rc = pname(&t[0], origin, out, &o, why)) != 0)
			return rc;
		if ((rc = bitmap_parse(t + 1, n - 1, out, &o, why)) != 0)
			return rc;
		*len = o;
		return 0;
	case T_NSEC3: {
		long r;
		size_t hl;
		if (n < 5)
			return fail(why, "NSEC3 needs 5 fields and types");
		if (!u(&t[0], 255, &v))
			return fail(why, "bad hash algorithm");
		out[0] = (uint8_t)v;
		if (!u(&t[1], 255, &v))
			return fail(why, "bad flags");
		out[1] = (uint8_t)v;
		if (!u(&t[2], 65535, &v))
			return fail(why, "bad iterations");
		put16(out + 2, v);
		o = 4;
		if ((rc = salt_parse(&t[3], out, &o, why)) != 0)
			return rc;
		hl = o++;
		r = signer__b32hex_decode(t[4].p, t[4].len, out + o, 255);
		if (r <= 0)
			return fail(why, "bad next hashed owner");
		out[hl] = (uint8_t)r;
		o += (size_t)r;
		if ((rc = bitmap_parse(t + 5, n - 5, out, &o, why)) != 0)
			return rc;
		*len = o;
		return 0;
	}
	case T_NSEC3PARAM:
		if (n != 4)
			return fail(why, "NSEC3PARAM needs 4 fields");
		if (!u(&t[0], 255, &v))
			return fail(why, "bad hash algorithm");
		out[0] = (uint8_t)v;
		if (!u(&t[1], 255, &v))
			return fail(why, "bad flags");
		out[1] = (uint8_t)v;
		if (!u(&t[2], 65535, &v))
			return fail(why, "bad iterations");
		put16(out + 2, v);
		o = 4;
		if ((rc = salt_parse(&t[3], out, &o, why)) != 0)
			return rc;
		*len = o;
		return 0;
	default:
		return SIGNER_RDATA_OTHER;
	}
}

/*- wire -> presentation ---------------------------------------------------*/

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static char *fmt_bitmap(const uint8_t *rd, size_t len, char *o)
{
	size_t i = 0;
	char tb[16];
	while (i + 2 <= len) {
		unsigned w = rd[i], l = rd[i + 1];
		for (unsigned b = 0; b < l * 8 && i + 2 + b / 8 < len; b++) {
			if (rd[i + 2 + b / 8] & (0x80 >> (b & 7))) {
				const char *nm = signer__type_name((uint16_t)(w * 256 + b), tb);
				*o++ = ' ';
				size_t nl = strlen(nm);
				memcpy(o, nm, nl);
				o += nl;
			}
		}
		i += 2 + l;
	}
	return o;
}

static char *fmt_cstring(const uint8_t *s, char *o)
{
	unsigned l = s[0];
	*o++ = '"';
	for (unsigned i = 1; i <= l; i++) {
		uint8_t c = s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			*o++ = (char)c;
		} else {
			*o++ = '\\';
			*o++ = (char)('0' + c / 100);
			*o++ = (char)('0' + (c / 10) % 10);
			*o++ = (char)('0' + c % 10);
		}
	}
	*o++ = '"';
	return o;
}

static char *fmt_generic(const uint8_t *rd, size_t len, char *o)
{
	*o++ = '\\';
	*o++ = '#';
	*o++ = ' ';
	o = signer__u32_format((uint32_t)len, o);
	if (len) {
		*o++ = ' ';
		o += signer__hex_encode(rd, len, o);
	}
	return o;
}

static char *fmt_ldns(uint16_t type, const uint8_t *rd, size_t len, char *o)
{
	uint8_t wire[65535 + 11];
	ldns_rr *rr = NULL;
	size_t pos = 0;
	ldns_buffer *buf;
	const ldns_rr_descriptor *d = ldns_rr_descript(type);

	if (d == NULL || d->_name == NULL || len > 65535)
		return fmt_generic(rd, len, o);
	wire[0] = 0;
	put16(wire + 1, type);
	put16(wire + 3, 1);
	put32(wire + 5, 0);
	put16(wire + 9, (uint32_t)len);
	memcpy(wire + 11, rd, len);
	if (ldns_wire2rr(&rr, wire, 11 + len, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK ||
	    pos != 11 + len) {
		ldns_rr_free(rr);
		return fmt_generic(rd, len, o);
	}
	buf = ldns_buffer_new(len * 4 + 64);
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		if (i > 0)
			ldns_buffer_printf(buf, " ");
		if (ldns_rdf2buffer_str(buf, ldns_rr_rdf(rr, i)) != LDNS_STATUS_OK) {
			ldns_buffer_free(buf);
			ldns_rr_free(rr);
			return fmt_generic(rd, len, o);
		}
	}
	memcpy(o, ldns_buffer_begin(buf), ldns_buffer_position(buf));
	o += ldns_buffer_position(buf);
	ldns_buffer_free(buf);
	ldns_rr_free(rr);
	return o;
}

char *signer__rdata_format(uint16_t type, const uint8_t *rd, size_t len,
			   char *o)
{
	size_t n;
	char tb[16];
	if (signer__rdata_is_fast(type) && !signer__rdata_valid(type, rd, len))
		return fmt_generic(rd, len, o);
	/* An empty key, digest or signature has no presentation form. */
	if (((type == T_DS || type == T_CDS || type == T_DNSKEY || type == T_CDNSKEY) && len == 4) ||
	    (type == T_RRSIG && len == 18 + signer__name_len(rd + 18)))
		return fmt_generic(rd, len, o);
	switch (type) {
	case T_A:
		for (int i = 0; i < 4; i++) {
			if (i)
				*o++ = '.';
			o = signer__u32_format(rd[i], o);
		}
		return o;
	case T_AAAA:
		inet_ntop(AF_INET6, rd, o, 64);
		return o + strlen(o);
	case T_NS: case T_CNAME: case T_PTR: case T_DNAME:
		return signer__name_format(rd, o);
	case T_MX: case T_KX:
		o = signer__u32_format(get16(rd), o);
		*o++ = ' ';
		return signer__name_format(rd + 2, o);
	case T_SRV:
		for (int i = 0; i < 3; i++) {
			o = signer__u32_format(get16(rd + 2 * i), o);
			*o++ = ' ';
		}
		return signer__name_format(rd + 6, o);
	case T_TXT: case T_SPF:
		for (size_t i = 0; i < len; i += rd[i] + 1u) {
			if (i)
				*o++ = ' ';
			o = fmt_cstring(rd + i, o);
		}
		return o;
	case T_SOA:
		o = signer__name_format(rd, o);
		*o++ = ' ';
		n = signer__name_len(rd);
		o = signer__name_format(rd + n, o);
		n += signer__name_len(rd + n);
		for (int i = 0; i < 5; i++) {
			*o++ = ' ';
			o = signer__u32_format(get32(rd + n + 4 * i), o);
		}
		return o;
	case T_DS: case T_CDS:
		o = signer__u32_format(get16(rd), o);
		*o++ = ' ';
		o = signer__u32_format(rd[2], o);
		*o++ = ' ';
		o = signer__u32_format(rd[3], o);
		*o++ = ' ';
		return o + signer__hex_encode(rd + 4, len - 4, o);
	case T_DNSKEY: case T_CDNSKEY:
		o = signer__u32_format(get16(rd), o);
		*o++ = ' ';
		o = signer__u32_format(rd[2], o);
		*o++ = ' ';
		o = signer__u32_format(rd[3], o);
		*o++ = ' ';
		return o + signer__b64_encode(rd + 4, len - 4, o);
	case T_RRSIG: {
		const char *tn = signer__type_name(get16(rd), tb);
		n = strlen(tn);
		memcpy(o, tn, n);
		o += n;
		*o++ = ' ';
		o = signer__u32_format(rd[2], o);
		*o++ = ' ';
		o = signer__u32_format(rd[3], o);
		*o++ = ' ';
		o = signer__u32_format(get32(rd + 4), o);
		*o++ = ' ';
		signer__time_format(get32(rd + 8), o);
		o += 14;
		*o++ = ' ';
		signer__time_format(get32(rd + 12), o);
		o += 14;
		*o++ = ' ';
		o = signer__u32_format(get16(rd + 16), o);
		*o++ = ' ';
		o = signer__name_format(rd + 18, o);
		*o++ = ' ';
		n = 18 + signer__name_len(rd + 18);
		return o + signer__b64_encode(rd + n, len - n, o);
	}
	case T_NSEC:
		o = signer__name_format(rd, o);
		n = signer__name_len(rd);
		return fmt_bitmap(rd + n, len - n, o);
	case T_NSEC3:
	case T_NSEC3PARAM:
		o = signer__u32_format(rd[0], o);
		*o++ = ' ';
		o = signer__u32_format(rd[1], o);
		*o++ = ' ';
		o = signer__u32_format(get16(rd + 2), o);
		*o++ = ' ';
		if (rd[4] == 0)
			*o++ = '-';
		else
			o += signer__hex_encode(rd + 5, rd[4], o);
		if (type == T_NSEC3PARAM)
			return o;
		n = 5u + rd[4];
		*o++ = ' ';
		o += signer__b32hex_encode(rd + n + 1, rd[n], o);
		n += 1u + rd[n];
		return fmt_bitmap(rd + n, len - n, o);
	default:
		return fmt_ldns(type, rd, len, o);
	}
}

/*- canonical form ---------------------------------------------------------*/

bool signer__rdata_has_names(uint16_t type)
{
	switch (type) {
	case T_NS: case T_MD: case T_MF: case T_CNAME: case T_SOA: case T_MB:
	case T_MG: case T_MR: case T_PTR: case T_MINFO: case T_MX: case T_RP:
	case T_AFSDB: case T_RT: case T_SIG: case T_PX: case T_NXT: case T_NAPTR:
	case T_KX: case T_SRV: case T_DNAME: case T_RRSIG:
		return true;
	default:
		return false;
	}
}

/* Lower-case the name at out[*i] (bounded by len); advance *i. */
static bool lower_name(uint8_t *out, size_t len, size_t *i)
{
	size_t p = *i;
	for (;;) {
		unsigned l;
		if (p >= len)
			return false;
		l = out[p];
		if (l == 0) {
			*i = p + 1;
			return true;
		}
		if (l > 63 || p + 1 + l > len)
			return false;
		for (unsigned k = 1; k <= l; k++)
			if (out[p + k] >= 'A' && out[p + k] <= 'Z')
				out[p + k] += 32;
		p += 1 + l;
	}
}

void signer__rdata_canonical(uint16_t type, const uint8_t *rd, size_t len,
			     uint8_t *out)
{
	size_t i = 0;
	memcpy(out, rd, len);
	switch (type) {
	case T_NS: case T_MD: case T_MF: case T_CNAME: case T_MB: case T_MG:
	case T_MR: case T_PTR: case T_DNAME: case T_NXT:
		lower_name(out, len, &i);
		return;
	case T_SOA: case T_MINFO: case T_RP:
		if (lower_name(out, len, &i))
			lower_name(out, len, &i);
		return;
	case T_MX: case T_AFSDB: case T_RT: case T_KX:
		i = 2;
		lower_name(out, len, &i);
		return;
	case T_PX:
		i = 2;
		if (lower_name(out, len, &i))
			lower_name(out, len, &i);
		return;
	case T_SRV:
		i = 6;
		lower_name(out, len, &i);
		return;
	case T_SIG: case T_RRSIG:
		i = 18;
		lower_name(out, len, &i);
		return;
	case T_NAPTR:
		i = 4;
		for (int k = 0; k < 3; k++) {
			if (i >= len)
				return;
			i += out[i] + 1u;
		}
		lower_name(out, len, &i);
		return;
	default:
		return;
	}
}
