/*
 * Presentation-format codecs; see codec.h.
 */
#include "signer/codec.h"

#include <string.h>

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t signer__b64_encode(const uint8_t *in, size_t len, char *out)
{
	char *o = out;
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		o[0] = b64chars[v >> 18];
		o[1] = b64chars[(v >> 12) & 63];
		o[2] = b64chars[(v >> 6) & 63];
		o[3] = b64chars[v & 63];
		o += 4;
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		o[0] = b64chars[v >> 18];
		o[1] = b64chars[(v >> 12) & 63];
		o[2] = '=';
		o[3] = '=';
		o += 4;
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		o[0] = b64chars[v >> 18];
		o[1] = b64chars[(v >> 12) & 63];
		o[2] = b64chars[(v >> 6) & 63];
		o[3] = '=';
		o += 4;
	}
	return (size_t)(o - out);
}

/* 1 + the value of each Base64 character, 65 for '=', 0 for anything else. */
static const uint8_t b64dec1[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7,
	['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20,
	['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26,
	['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38,
	['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44,
	['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
	['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,
	['+'] = 63, ['/'] = 64, ['='] = 65,
};

long signer__b64_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0, i = 0;
	if (len % 4 != 0)
		return -1;
	/* Whole quadruples without padding: the common case. */
	for (; i + 4 < len || (i + 4 == len && s[i + 3] != '='); i += 4) {
		uint32_t a = b64dec1[s[i]] - 1u, b = b64dec1[s[i + 1]] - 1u,
			 c = b64dec1[s[i + 2]] - 1u, d = b64dec1[s[i + 3]] - 1u;
		if ((a | b | c | d) & ~(uint32_t)63)
			return -1;
		if (o + 3 > cap)
			return -1;
		a = a << 18 | b << 12 | c << 6 | d;
		out[o] = (uint8_t)(a >> 16);
		out[o + 1] = (uint8_t)(a >> 8);
		out[o + 2] = (uint8_t)a;
		o += 3;
	}
	if (i < len) {
		/* The last quadruple has one or two '='. */
		uint32_t a = b64dec1[s[i]] - 1u, b = b64dec1[s[i + 1]] - 1u,
			 c = b64dec1[s[i + 2]] - 1u;
		if ((a | b) >= 64)
			return -1;
		if (c == 64) {
			if (s[i + 3] != '=' || o + 1 > cap)
				return -1;
			out[o++] = (uint8_t)(a << 2 | b >> 4);
		} else {
			if (c >= 64 || o + 2 > cap)
				return -1;
			out[o++] = (uint8_t)(a << 2 | b >> 4);
			out[o++] = (uint8_t)(b << 4 | c >> 2);
		}
	}
	return (long)o;
}

static const char b32chars[] = "0123456789abcdefghijklmnopqrstuv";

size_t signer__b32hex_encode(const uint8_t *in, size_t len, char *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32chars[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = b32chars[(acc << (5 - bits)) & 31];
	return o;
}

/* 1 + the value of each Base32hex character (either case), 0 for anything else. */
static const uint8_t b32dec1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7,
	['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['g'] = 17,
	['h'] = 18, ['i'] = 19, ['j'] = 20, ['k'] = 21, ['l'] = 22, ['m'] = 23, ['n'] = 24,
	['o'] = 25, ['p'] = 26, ['q'] = 27, ['r'] = 28, ['s'] = 29, ['t'] = 30, ['u'] = 31,
	['v'] = 32,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16, ['G'] = 17,
	['H'] = 18, ['I'] = 19, ['J'] = 20, ['K'] = 21, ['L'] = 22, ['M'] = 23, ['N'] = 24,
	['O'] = 25, ['P'] = 26, ['Q'] = 27, ['R'] = 28, ['S'] = 29, ['T'] = 30, ['U'] = 31,
	['V'] = 32,
};

long signer__b32hex_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)in;
	uint64_t acc = 0;
	int bits = 0;
	size_t o = 0, i = 0;
	/* Whole groups of 8 characters (40 bits, 5 octets): an NSEC3 hash is 4. */
	for (; i + 8 <= len && o + 5 <= cap; i += 8) {
		uint64_t v = 0;
		unsigned bad = 0;
		for (int k = 0; k < 8; k++) {
			unsigned d = b32dec1[s[i + k]] - 1u;
			bad |= d;
			v = v << 5 | (d & 31);
		}
		if (bad & ~31u)
			return -1;
		out[o] = (uint8_t)(v >> 32);
		out[o + 1] = (uint8_t)(v >> 24);
		out[o + 2] = (uint8_t)(v >> 16);
		out[o + 3] = (uint8_t)(v >> 8);
		out[o + 4] = (uint8_t)v;
		o += 5;
	}
	for (; i < len; i++) {
		unsigned d = b32dec1[s[i]] - 1u;
		if (d > 31)
			return -1;
		acc = (acc << 5) | d;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

static const char hexchars[] = "0123456789abcdef";

size_t signer__hex_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hexchars[in[i] >> 4];
		out[2 * i + 1] = hexchars[in[i] & 15];
	}
	return 2 * len;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long signer__hex_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
	if (len % 2 != 0 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int h = hexval((unsigned char)in[i]), l = hexval((unsigned char)in[i + 1]);
		if (h < 0 || l < 0)
			return -1;
		out[i / 2] = (uint8_t)(h << 4 | l);
	}
	return (long)(len / 2);
}

/* Howard Hinnant's civil-from-days and days-from-civil. */
int64_t signer__days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

static void put2(char *o, unsigned v)
{
	o[0] = (char)('0' + v / 10);
	o[1] = (char)('0' + v % 10);
}

void signer__time_format(uint32_t t, char *out)
{
	int64_t y;
	unsigned m, d, s = t % 86400;
	civil_from_days(t / 86400, &y, &m, &d);
	put2(out, (unsigned)(y / 100));
	put2(out + 2, (unsigned)(y % 100));
	put2(out + 4, m);
	put2(out + 6, d);
	put2(out + 8, s / 3600);
	put2(out + 10, (s / 60) % 60);
	put2(out + 12, s % 60);
}

static bool digits(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

bool signer__time_parse(const char *s, size_t len, uint32_t *out)
{
	unsigned y, m, d, hh, mm, ss;
	int64_t t;
	if (len != 14)
		return signer__uint_parse(s, len, UINT32_MAX, out);
	if (!digits(s, 4, &y) || !digits(s + 4, 2, &m) || !digits(s + 6, 2, &d) ||
	    !digits(s + 8, 2, &hh) || !digits(s + 10, 2, &mm) ||
	    !digits(s + 12, 2, &ss))
		return false;
	if (m < 1 || m > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
		return false;
	t = signer__days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
	*out = (uint32_t)t; /* serial arithmetic, RFC 4034 §3.1.5 */
	return true;
}

bool signer__uint_parse(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool signer__ttl_parse(const char *s, size_t len, uint32_t *out)
{
	uint64_t total = 0, cur = 0;
	bool have = false, unit = false;
	if (len == 0)
		return false;
	if (s[0] < '0' || s[0] > '9')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		uint64_t mul;
		if (c >= '0' && c <= '9') {
			cur = cur * 10 + (uint64_t)(c - '0');
			if (cur > UINT32_MAX)
				return false;
			have = true;
			continue;
		}
		switch (c | 0x20) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: return false;
		}
		if (!have)
			return false;
		total += cur * mul;
		cur = 0;
		have = false;
		unit = true;
	}
	if (have)
		total += cur;
	(void)unit;
	if (total > UINT32_MAX)
		return false;
	*out = (uint32_t)total;
	return true;
}

char *signer__u32_format(uint32_t v, char *out)
{
	char tmp[10];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*out++ = tmp[--n];
	return out;
}
