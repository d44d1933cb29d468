/*
 * Hexadecimal encoding and strict decoding (see hex.h).
 */
#include "common/hex.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

void tdm_hex_encode(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

int tdm_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tdm_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *n)
{
	size_t len = strlen(hex), i;
	if (len % 2 != 0)
		return TDM_EPARSE;
	if (len / 2 > cap)
		return TDM_ERANGE;
	for (i = 0; i < len / 2; i++) {
		int hi = tdm_hex_digit(hex[2 * i]), lo = tdm_hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return TDM_EPARSE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = len / 2;
	return 0;
}

int tdm_hex_decode_alloc(const char *hex, uint8_t **out, size_t *len)
{
	size_t n = strlen(hex) / 2, got;
	uint8_t *buf;
	int rc;
	if (hex[0] == '\0') {
		*out = NULL;
		*len = 0;
		return 0;
	}
	buf = tdm_malloc(n);
	rc = tdm_hex_decode(hex, buf, n, &got);
	if (rc != 0) {
		free(buf);
		return TDM_EPARSE;
	}
	*out = buf;
	*len = got;
	return 0;
}
