/*
 * JSON writer (see json.h).
 */
#include "common/json.h"
#include "common/error.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(struct tdm_json *j, const char *s, size_t n)
{
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		while (j->len + n + 1 > cap)
			cap *= 2;
		j->buf = tdm_realloc(j->buf, cap);
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(struct tdm_json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Write the separator a new value needs at the current level. */
static void value_prefix(struct tdm_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (!j->first[j->depth])
			put(j, ",", 1);
		j->first[j->depth] = false;
	}
}

void tdm_json_init(struct tdm_json *j)
{
	memset(j, 0, sizeof *j);
	put(j, "", 0);
}

void tdm_json_free(struct tdm_json *j)
{
	free(j->buf);
	memset(j, 0, sizeof *j);
}

const char *tdm_json_text(const struct tdm_json *j)
{
	return j->buf ? j->buf : "";
}

char *tdm_json_take(struct tdm_json *j, size_t *len)
{
	char *b = j->buf;
	if (len)
		*len = j->len;
	memset(j, 0, sizeof *j);
	return b;
}

static void open_(struct tdm_json *j, const char *c)
{
	value_prefix(j);
	puts_(j, c);
	if (j->depth + 1 < TDM_JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct tdm_json *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	puts_(j, c);
}

void tdm_json_object_begin(struct tdm_json *j) { open_(j, "{"); }
void tdm_json_object_end(struct tdm_json *j) { close_(j, "}"); }
void tdm_json_array_begin(struct tdm_json *j) { open_(j, "["); }
void tdm_json_array_end(struct tdm_json *j) { close_(j, "]"); }

static void quoted(struct tdm_json *j, const char *s)
{
	const unsigned char *p;
	put(j, "\"", 1);
	for (p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		switch (*p) {
		case '"': puts_(j, "\\\""); break;
		case '\\': puts_(j, "\\\\"); break;
		case '\n': puts_(j, "\\n"); break;
		case '\r': puts_(j, "\\r"); break;
		case '\t': puts_(j, "\\t"); break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof esc, "\\u%04x", *p);
				puts_(j, esc);
			} else {
				put(j, (const char *)p, 1);
			}
		}
	}
	put(j, "\"", 1);
}

void tdm_json_key(struct tdm_json *j, const char *key)
{
	value_prefix(j);
	quoted(j, key);
	put(j, ":", 1);
	j->after_key = true;
}

void tdm_json_string(struct tdm_json *j, const char *s)
{
	value_prefix(j);
	if (s == NULL)
		puts_(j, "null");
	else
		quoted(j, s);
}

void tdm_json_int(struct tdm_json *j, int64_t v)
{
	char b[32];
	value_prefix(j);
	snprintf(b, sizeof b, "%" PRId64, v);
	puts_(j, b);
}

void tdm_json_uint(struct tdm_json *j, uint64_t v)
{
	char b[32];
	value_prefix(j);
	snprintf(b, sizeof b, "%" PRIu64, v);
	puts_(j, b);
}

void tdm_json_double(struct tdm_json *j, double v)
{
	char b[64];
	value_prefix(j);
	if (!isfinite(v)) {
		puts_(j, "null");
		return;
	}
	snprintf(b, sizeof b, "%.6g", v);
	puts_(j, b);
}

void tdm_json_bool(struct tdm_json *j, bool v)
{
	value_prefix(j);
	puts_(j, v ? "true" : "false");
}

void tdm_json_null(struct tdm_json *j)
{
	value_prefix(j);
	puts_(j, "null");
}

void tdm_json_kv_string(struct tdm_json *j, const char *k, const char *s) { tdm_json_key(j, k); tdm_json_string(j, s); }
void tdm_json_kv_int(struct tdm_json *j, const char *k, int64_t v) { tdm_json_key(j, k); tdm_json_int(j, v); }
void tdm_json_kv_uint(struct tdm_json *j, const char *k, uint64_t v) { tdm_json_key(j, k); tdm_json_uint(j, v); }
void tdm_json_kv_double(struct tdm_json *j, const char *k, double v) { tdm_json_key(j, k); tdm_json_double(j, v); }
void tdm_json_kv_bool(struct tdm_json *j, const char *k, bool v) { tdm_json_key(j, k); tdm_json_bool(j, v); }
