/*
 * Domain names: parsing, printing, canonical sort keys.  See name.h.
 */
#include "signer/name.h"

#include "common/error.h"

#include <string.h>

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int signer__name_parse(const char *s, size_t len, const uint8_t *origin,
		       uint8_t *out, size_t *out_len, const char **why)
{
	size_t o = 0, lab = 0, i = 0;
	bool absolute = false;

	if (len == 1 && s[0] == '@') {
		if (origin == NULL) {
			*why = "\"@\" without an origin";
			return TDM_EPARSE;
		}
		*out_len = signer__name_len(origin);
		memcpy(out, origin, *out_len);
		return 0;
	}
	if (len == 1 && s[0] == '.') {
		out[0] = 0;
		*out_len = 1;
		return 0;
	}
	if (len == 0) {
		*why = "empty name";
		return TDM_EPARSE;
	}
	out[0] = 0;
	lab = 0; /* position of the current label's length octet */
	o = 1;
	while (i < len) {
		unsigned c = (unsigned char)s[i];
		if (c == '.') {
			if (o == lab + 1) {
				*why = "empty label";
				return TDM_EPARSE;
			}
			i++;
			if (i == len) {
				absolute = true;
				break;
			}
			lab = o;
			if (o >= SIGNER_NAME_MAX) {
				*why = "name longer than 255 octets";
				return TDM_EPARSE;
			}
			out[o++] = 0;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= len) {
				*why = "dangling backslash";
				return TDM_EPARSE;
			}
			if (s[i + 1] >= '0' && s[i + 1] <= '9') {
				unsigned v;
				if (i + 3 >= len || s[i + 2] < '0' || s[i + 2] > '9' ||
				    s[i + 3] < '0' || s[i + 3] > '9') {
					*why = "bad \\DDD escape";
					return TDM_EPARSE;
				}
				v = (unsigned)(s[i + 1] - '0') * 100 +
				    (unsigned)(s[i + 2] - '0') * 10 +
				    (unsigned)(s[i + 3] - '0');
				if (v > 255) {
					*why = "\\DDD escape above 255";
					return TDM_EPARSE;
				}
				c = v;
				i += 4;
			} else {
				c = (unsigned char)s[i + 1];
				i += 2;
			}
		} else {
			i++;
		}
		if (o - lab - 1 >= 63) {
			*why = "label longer than 63 octets";
			return TDM_EPARSE;
		}
		if (o >= SIGNER_NAME_MAX) {
			*why = "name longer than 255 octets";
			return TDM_EPARSE;
		}
		out[o++] = (uint8_t)c;
		out[lab]++;
	}
	if (absolute || origin == NULL) {
		if (!absolute) {
			*why = "relative name without an origin";
			return TDM_EPARSE;
		}
		out[o++] = 0;
	} else {
		size_t ol = signer__name_len(origin);
		if (o + ol > SIGNER_NAME_MAX) {
			*why = "name longer than 255 octets";
			return TDM_EPARSE;
		}
		memcpy(out + o, origin, ol);
		o += ol;
	}
	if (o > SIGNER_NAME_MAX) {
		*why = "name longer than 255 octets";
		return TDM_EPARSE;
	}
	*out_len = o;
	return 0;
}

size_t signer__name_len(const uint8_t *wire)
{
	const uint8_t *p = wire;
	while (*p)
		p += *p + 1;
	return (size_t)(p - wire) + 1;
}

size_t signer__name_key(const uint8_t *wire, uint8_t *key)
{
	const uint8_t *labels[128];
	int n = 0;
	size_t k = 0;
	const uint8_t *p = wire;
	while (*p && n < 128) {
		labels[n++] = p;
		p += *p + 1;
	}
	while (n-- > 0) {
		const uint8_t *l = labels[n];
		unsigned len = l[0];
		for (unsigned i = 1; i <= len; i++) {
			uint8_t c = l[i];
			if (c <= 1) {
				key[k++] = 1;
				key[k++] = (uint8_t)(c + 1);
			} else {
				key[k++] = lower(c);
			}
		}
		key[k++] = 0;
	}
	return k;
}

size_t signer__name_lower(const uint8_t *wire, uint8_t *out)
{
	size_t i = 0;
	for (;;) {
		unsigned len = wire[i];
		out[i] = (uint8_t)len;
		i++;
		if (len == 0)
			return i;
		for (unsigned j = 0; j < len; j++, i++)
			out[i] = lower(wire[i]);
	}
}

unsigned signer__name_labels(const uint8_t *wire)
{
	unsigned n = 0;
	while (*wire) {
		n++;
		wire += *wire + 1;
	}
	return n;
}

unsigned signer__name_rrsig_labels(const uint8_t *wire)
{
	unsigned n = signer__name_labels(wire);
	if (wire[0] == 1 && wire[1] == '*')
		n--;
	return n;
}

char *signer__name_format(const uint8_t *wire, char *out)
{
	const uint8_t *p = wire;
	if (*p == 0) {
		*out++ = '.';
		*out = '\0';
		return out;
	}
	while (*p) {
		unsigned len = *p++;
		for (unsigned i = 0; i < len; i++) {
			uint8_t c = *p++;
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			    c == '*' || c == '/') {
				*out++ = (char)c;
			} else if (c > 0x20 && c < 0x7f) {
				*out++ = '\\';
				*out++ = (char)c;
			} else {
				*out++ = '\\';
				*out++ = (char)('0' + c / 100);
				*out++ = (char)('0' + (c / 10) % 10);
				*out++ = (char)('0' + c % 10);
			}
		}
		*out++ = '.';
	}
	*out = '\0';
	return out;
}

bool signer__name_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		unsigned len = *a;
		if (*b != len)
			return false;
		if (len == 0)
			return true;
		for (unsigned i = 1; i <= len; i++)
			if (lower(a[i]) != lower(b[i]))
				return false;
		a += len + 1;
		b += len + 1;
	}
}
