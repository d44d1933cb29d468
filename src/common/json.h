/*
 * A small JSON writer for --json output and HTTP bodies.  It builds text
 * into a growing buffer, inserts commas itself and escapes strings per
 * RFC 8259 §7.  Tandem never parses JSON, so there is no reader.
 *
 *   struct tdm_json j;
 *   tdm_json_init(&j);
 *   tdm_json_object_begin(&j);
 *   tdm_json_key(&j, "role"); tdm_json_string(&j, "leader");
 *   tdm_json_object_end(&j);
 *   puts(tdm_json_text(&j));
 *   tdm_json_free(&j);
 */
#ifndef TDM_JSON_H
#define TDM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TDM_JSON_MAX_DEPTH 32

struct tdm_json {
	char *buf;
	size_t len, cap;
	int depth;
	bool first[TDM_JSON_MAX_DEPTH]; /* no value written yet at this level */
	bool after_key;                 /* a key was just written: no comma */
};

void tdm_json_init(struct tdm_json *j);
void tdm_json_free(struct tdm_json *j);
/** The text so far, NUL-terminated (borrowed; valid until the next call). */
const char *tdm_json_text(const struct tdm_json *j);
/** Take the buffer: caller frees with free(); j is reset. */
char *tdm_json_take(struct tdm_json *j, size_t *len);

void tdm_json_object_begin(struct tdm_json *j);
void tdm_json_object_end(struct tdm_json *j);
void tdm_json_array_begin(struct tdm_json *j);
void tdm_json_array_end(struct tdm_json *j);
void tdm_json_key(struct tdm_json *j, const char *key);
void tdm_json_string(struct tdm_json *j, const char *s); /* NULL -> null */
void tdm_json_int(struct tdm_json *j, int64_t v);
void tdm_json_uint(struct tdm_json *j, uint64_t v);
void tdm_json_double(struct tdm_json *j, double v);
void tdm_json_bool(struct tdm_json *j, bool v);
void tdm_json_null(struct tdm_json *j);

/* Shorthands for "key": value inside an object. */
void tdm_json_kv_string(struct tdm_json *j, const char *key, const char *s);
void tdm_json_kv_int(struct tdm_json *j, const char *key, int64_t v);
void tdm_json_kv_uint(struct tdm_json *j, const char *key, uint64_t v);
void tdm_json_kv_double(struct tdm_json *j, const char *key, double v);
void tdm_json_kv_bool(struct tdm_json *j, const char *key, bool v);

#endif
