/*
 * Zone file reader; see reader.h.
 *
 * The lexer works on a buffer that holds at least the current record.  When
 * a record runs past the end of the buffer, the lexer answers NEED_MORE;
 * the unread tail moves to the front, more is read (the buffer doubles if
 * one record fills it) and the record is scanned again from its start.
 * Line numbers are only committed when a record is complete, so a rescan
 * counts no line twice.
 */
#include "signer/reader.h"

#include "signer/codec.h"
#include "signer/name.h"
#include "signer/rdata.h"

#include <fcntl.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NEED_MORE 2
#define MAX_INCLUDE_DEPTH 16
#define BUF_INITIAL ((size_t)1 << 20)

struct src {
	int fd;              /* -1 for a memory source */
	const char *name;    /* file name for messages */
	char *buf;
	size_t cap, pos, end;
	bool eof, owned;
	uint64_t left;       /* bytes the source may still read (UINT64_MAX: all) */
	unsigned long line;  /* line number at buf[pos] */
	uint8_t origin[SIGNER_NAME_MAX];
	ldns_rdf *ldns_origin; /* made on first use by the ldns fallback */
};

struct state {
	signer__rr_fn fn;
	void *arg;
	uint8_t owner[SIGNER_NAME_MAX];
	bool have_owner;
	/* The owner token st->owner was parsed from, against the current
	 * origin: a signed zone repeats owners line after line. */
	char owner_tok[SIGNER_NAME_STR_MAX];
	size_t owner_tok_len;
	uint32_t default_ttl, last_ttl;
	bool have_default_ttl, have_last_ttl;
	int depth;
	bool allow_include;
	struct signer__tok *toks;
	size_t ntoks_cap;
	uint8_t rdata[65536];
};

/*- lexer ------------------------------------------------------------------*/

/* Characters that end an unquoted token (and the backslash, handled apart). */
static const uint8_t stop[256] = {
	[' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, [';'] = 1, ['('] = 1, [')'] = 1,
	['"'] = 1, ['\\'] = 2,
};

/*
 * The end of a run of octets that certainly end no token, 16 at a time
 * (most of a signed zone is Base64 and names).  It may stop early, at any
 * control character: the caller's table decides about that octet.
 */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline const char *plain_run(const char *q, const char *end)
{
	const __m128i ctl = _mm_set1_epi8(0x20), semi = _mm_set1_epi8(';'),
		      open = _mm_set1_epi8('('), close = _mm_set1_epi8(')'),
		      quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	while (end - q >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)q);
		__m128i m = _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v); /* v <= 0x20 */
		int mask;
		m = _mm_or_si128(m, _mm_cmpeq_epi8(v, semi));
		m = _mm_or_si128(m, _mm_cmpeq_epi8(v, open));
		m = _mm_or_si128(m, _mm_cmpeq_epi8(v, close));
		m = _mm_or_si128(m, _mm_cmpeq_epi8(v, quote));
		m = _mm_or_si128(m, _mm_cmpeq_epi8(v, bs));
		mask = _mm_movemask_epi8(m);
		if (mask != 0)
			return q + __builtin_ctz((unsigned)mask);
		q += 16;
	}
	while (q < end && stop[(uint8_t)*q] == 0 && (uint8_t)*q > 0x20)
		q++;
	return q;
}
#else
static inline const char *plain_run(const char *q, const char *end)
{
	while (q < end && stop[(uint8_t)*q] == 0)
		q++;
	return q;
}
#endif

static int push_tok(struct state *st, size_t *n, const char *p, size_t len, bool quoted)
{
	if (*n == st->ntoks_cap) {
		st->ntoks_cap = st->ntoks_cap ? st->ntoks_cap * 2 : 64;
		st->toks = tdm_realloc(st->toks, st->ntoks_cap * sizeof *st->toks);
	}
	st->toks[*n].p = p;
	st->toks[*n].len = (uint32_t)len;
	st->toks[*n].quoted = quoted;
	(*n)++;
	return 0;
}

/*
 * Scan one record starting at s->pos.  @return 1 (record in st->toks, n
 * tokens, starting on *first_line), 0 (end of input), NEED_MORE, or
 * TDM_EPARSE with err set.
 */
static int scan(struct src *s, struct state *st, size_t *n, unsigned long *first_line,
		bool *leading_ws, struct tdm_err *err)
{
	const char *buf = s->buf, *end = s->buf + s->end;
	const char *p = buf + s->pos;
	unsigned long ln = s->line;

	for (;;) { /* one physical line start per iteration until a record */
		int depth = 0;
		*n = 0;
		if (p == end)
			return s->eof ? 0 : NEED_MORE;
		*leading_ws = (*p == ' ' || *p == '\t');
		*first_line = ln;
		for (;;) {
			char c;
			if (p == end) {
				if (!s->eof)
					return NEED_MORE;
				if (depth > 0)
					return tdm_err_fail(err, TDM_EPARSE,
							    "%s:%lu: unbalanced parentheses at end of file",
							    s->name, *first_line);
				break;
			}
			c = *p;
			if (c == '\n') {
				ln++;
				p++;
				if (depth == 0)
					break;
				continue;
			}
			if (c == ' ' || c == '\t' || c == '\r') {
				p++;
				continue;
			}
			if (c == ';') {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				if (nl == NULL) {
					if (!s->eof)
						return NEED_MORE;
					p = end;
				} else {
					p = nl;
				}
				continue;
			}
			if (c == '(') {
				depth++;
				p++;
				continue;
			}
			if (c == ')') {
				if (depth == 0)
					return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: unbalanced \")\"",
							    s->name, ln);
				depth--;
				p++;
				continue;
			}
			if (*n == 0)
				*first_line = ln;
			if (c == '"') {
				const char *q = p + 1;
				unsigned long extra = 0;
				while (q < end && *q != '"') {
					if (*q == '\\' && q + 1 < end)
						q++;
					if (*q == '\n')
						extra++;
					q++;
				}
				if (q >= end) {
					if (!s->eof)
						return NEED_MORE;
					return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: unterminated quoted string",
							    s->name, ln);
				}
				push_tok(st, n, p + 1, (size_t)(q - p - 1), true);
				ln += extra;
				p = q + 1;
				continue;
			}
			{
				const char *q = p;
				while (q < end) {
					uint8_t k;
					q = plain_run(q, end);
					if (q == end)
						break;
					k = stop[(uint8_t)*q];
					if (k == 0) {
						q++;
						continue;
					}
					if (k == 1)
						break;
					if (q + 1 >= end) {
						if (!s->eof)
							return NEED_MORE;
						q++;
						break;
					}
					if (q[1] == '\n')
						ln++;
					q += 2;
				}
				if (q >= end && !s->eof)
					return NEED_MORE;
				if (q > end)
					q = end;
				push_tok(st, n, p, (size_t)(q - p), false);
				p = q;
			}
		}
		s->pos = (size_t)(p - buf);
		s->line = ln;
		if (*n > 0)
			return 1;
	}
}

static int fill(struct src *s, struct tdm_err *err)
{
	ssize_t r;
	if (s->pos > 0) {
		memmove(s->buf, s->buf + s->pos, s->end - s->pos);
		s->end -= s->pos;
		s->pos = 0;
	}
	if (s->end == s->cap) {
		s->cap *= 2;
		s->buf = tdm_realloc(s->buf, s->cap);
	}
	do
		r = read(s->fd, s->buf + s->end,
			 s->cap - s->end < s->left ? s->cap - s->end : (size_t)s->left);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return tdm_err_fail(err, TDM_EIO, "%s: %s", s->name, strerror(errno));
	if (r == 0)
		s->eof = true;
	s->end += (size_t)r;
	s->left -= (uint64_t)r;
	return 0;
}

/*- records ----------------------------------------------------------------*/

static inline bool tok_is(const struct signer__tok *t, const char *word)
{
	/* Inline and by hand: "IN" is asked of every record. */
	size_t i = 0;
	if (t->quoted)
		return false;
	for (; i < t->len && word[i] != '\0'; i++) {
		char c = t->p[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c != word[i]) /* the words are upper case */
			return false;
	}
	return i == t->len && word[i] == '\0';
}

static int read_src(struct src *s, struct state *st, struct tdm_err *err);

static int include(struct src *s, struct state *st, size_t n, unsigned long line,
		   struct tdm_err *err)
{
	struct signer__tok *t = st->toks;
	char path[4096];
	struct src inc;
	int rc;
	const char *why = NULL;
	size_t l;

	if (!st->allow_include)
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: $INCLUDE not allowed here",
				    s->name, line);
	if (n < 2 || n > 3)
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: $INCLUDE needs a file name",
				    s->name, line);
	if (st->depth >= MAX_INCLUDE_DEPTH)
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: $INCLUDE nested too deep",
				    s->name, line);
	if (t[1].p[0] == '/' || strchr(s->name, '/') == NULL) {
		if (t[1].len >= sizeof path)
			return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: $INCLUDE path too long",
					    s->name, line);
		snprintf(path, sizeof path, "%.*s", (int)t[1].len, t[1].p);
	} else {
		/* Relative to the directory of the including file. */
		const char *slash = strrchr(s->name, '/');
		int dl = (int)(slash - s->name);
		if ((size_t)dl + t[1].len + 2 >= sizeof path)
			return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: $INCLUDE path too long",
					    s->name, line);
		snprintf(path, sizeof path, "%.*s/%.*s", dl, s->name, (int)t[1].len, t[1].p);
	}
	memset(&inc, 0, sizeof inc);
	if (n == 3) {
		if (signer__name_parse(t[2].p, t[2].len, s->origin, inc.origin, &l, &why) != 0)
			return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: $INCLUDE origin: %s",
					    s->name, line, why);
	} else {
		memcpy(inc.origin, s->origin, signer__name_len(s->origin));
	}
	inc.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (inc.fd < 0)
		return tdm_err_fail(err, TDM_EIO, "%s:%lu: $INCLUDE %s: %s", s->name, line,
				    path, strerror(errno));
	inc.name = path;
	inc.cap = BUF_INITIAL;
	inc.buf = tdm_malloc(inc.cap);
	inc.owned = true;
	inc.left = UINT64_MAX;
	inc.line = 1;
	st->depth++;
	st->owner_tok_len = 0;
	rc = read_src(&inc, st, err);
	st->depth--;
	st->owner_tok_len = 0;
	close(inc.fd);
	free(inc.buf);
	if (inc.ldns_origin)
		ldns_rdf_deep_free(inc.ldns_origin);
	return rc;
}

static int directive(struct src *s, struct state *st, size_t n, unsigned long line,
		     struct tdm_err *err)
{
	struct signer__tok *t = st->toks;
	const char *why = NULL;
	size_t l;

	if (tok_is(&t[0], "$ORIGIN")) {
		uint8_t o[SIGNER_NAME_MAX];
		if (n != 2)
			return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: $ORIGIN needs one name",
					    s->name, line);
		if (signer__name_parse(t[1].p, t[1].len, s->origin, o, &l, &why) != 0)
			return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: $ORIGIN: %s", s->name, line, why);
		memcpy(s->origin, o, l);
		st->owner_tok_len = 0;
		if (s->ldns_origin) {
			ldns_rdf_deep_free(s->ldns_origin);
			s->ldns_origin = NULL;
		}
		return 0;
	}
	if (tok_is(&t[0], "$TTL")) {
		if (n != 2 || !signer__ttl_parse(t[1].p, t[1].len, &st->default_ttl))
			return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: $TTL needs one TTL",
					    s->name, line);
		st->have_default_ttl = true;
		return 0;
	}
	if (tok_is(&t[0], "$INCLUDE"))
		return include(s, st, n, line, err);
	return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: unsupported directive %.*s", s->name,
			    line, (int)t[0].len, t[0].p);
}

/* The ldns fallback: rebuild the record as one line and let ldns parse it. */
static int via_ldns(struct src *s, struct state *st, uint16_t type, uint32_t ttl,
		    const struct signer__tok *rd, size_t n, size_t *rdlen,
		    unsigned long line, struct tdm_err *err)
{
	char tb[16], *str, *o;
	size_t cap = 64 + SIGNER_NAME_STR_MAX;
	ldns_rr *rr = NULL;
	ldns_status ls;
	ldns_buffer *buf;
	char origin_str[SIGNER_NAME_STR_MAX];
	size_t origin_len;
	int rc = 0;

	signer__name_format(s->origin, origin_str);
	origin_len = strlen(origin_str);
	for (size_t i = 0; i < n; i++)
		cap += rd[i].len + 3 + origin_len;
	str = tdm_malloc(cap);
	o = signer__name_format(st->owner, str);
	o += sprintf(o, " %u IN %s", (unsigned)ttl, signer__type_name(type, tb));
	for (size_t i = 0; i < n; i++) {
		*o++ = ' ';
		if (rd[i].quoted)
			*o++ = '"';
		if (!rd[i].quoted && rd[i].len == 1 && rd[i].p[0] == '@') {
			memcpy(o, origin_str, origin_len);
			o += origin_len;
		} else {
			memcpy(o, rd[i].p, rd[i].len);
			o += rd[i].len;
		}
		if (rd[i].quoted)
			*o++ = '"';
	}
	*o = '\0';
	if (s->ldns_origin == NULL)
		s->ldns_origin = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME,
						       signer__name_len(s->origin), s->origin);
	ls = ldns_rr_new_frm_str(&rr, str, ttl, s->ldns_origin, NULL);
	free(str);
	if (ls != LDNS_STATUS_OK)
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: %s: %s", s->name, line,
				    signer__type_name(type, tb), ldns_get_errorstr_by_id(ls));
	if (ldns_rr_get_type(rr) != type) {
		ldns_rr_free(rr);
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: %s: type not understood", s->name,
				    line, signer__type_name(type, tb));
	}
	buf = ldns_buffer_new(65536);
	if (ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK ||
	    ldns_buffer_position(buf) > 65535) {
		rc = tdm_err_fail(err, TDM_EPARSE, "%s:%lu: %s: RDATA too long", s->name, line,
				  signer__type_name(type, tb));
	} else {
		*rdlen = ldns_buffer_position(buf);
		memcpy(st->rdata, ldns_buffer_begin(buf), *rdlen);
	}
	ldns_buffer_free(buf);
	ldns_rr_free(rr);
	return rc;
}

static int record(struct src *s, struct state *st, size_t n, unsigned long line,
		  bool leading_ws, struct tdm_err *err)
{
	struct signer__tok *t = st->toks;
	size_t i = 0, l, rdlen = 0;
	const char *why = NULL;
	uint32_t ttl = 0;
	bool have_ttl = false, have_class = false;
	uint16_t type;
	char tb[16], ob[SIGNER_NAME_STR_MAX];
	int rc;

	if (!leading_ws) {
		if (t[0].quoted)
			return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: quoted owner name", s->name, line);
		if (!st->have_owner || t[0].len != st->owner_tok_len ||
		    memcmp(t[0].p, st->owner_tok, t[0].len) != 0) {
			if (signer__name_parse(t[0].p, t[0].len, s->origin, st->owner, &l, &why) != 0)
				return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: owner %.*s: %s", s->name,
						    line, (int)t[0].len, t[0].p, why);
			st->have_owner = true;
			if (t[0].len < sizeof st->owner_tok) {
				memcpy(st->owner_tok, t[0].p, t[0].len);
				st->owner_tok_len = t[0].len;
			} else {
				st->owner_tok_len = 0;
			}
		}
		i = 1;
	} else if (!st->have_owner) {
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: record without an owner name",
				    s->name, line);
	}
	for (int k = 0; k < 2 && i < n; k++) {
		if (t[i].quoted)
			break;
		if (!have_class && (tok_is(&t[i], "IN") || tok_is(&t[i], "CLASS1"))) {
			have_class = true;
			i++;
		} else if (!have_class && (tok_is(&t[i], "CH") || tok_is(&t[i], "HS") ||
					   tok_is(&t[i], "CS") || tok_is(&t[i], "NONE") ||
					   (t[i].len > 5 && strncasecmp(t[i].p, "CLASS", 5) == 0))) {
			return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: class %.*s not supported (only IN)",
					    s->name, line, (int)t[i].len, t[i].p);
		} else if (!have_ttl && t[i].p[0] >= '0' && t[i].p[0] <= '9') {
			if (!signer__ttl_parse(t[i].p, t[i].len, &ttl))
				return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: bad TTL %.*s", s->name,
						    line, (int)t[i].len, t[i].p);
			have_ttl = true;
			i++;
		} else {
			break;
		}
	}
	if (i >= n)
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: missing type", s->name, line);
	if (t[i].quoted || !signer__type_parse(t[i].p, t[i].len, &type))
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: unknown type %.*s", s->name, line,
				    (int)t[i].len, t[i].p);
	i++;
	if (have_ttl) {
		st->last_ttl = ttl;
		st->have_last_ttl = true;
	} else if (st->have_default_ttl) {
		ttl = st->default_ttl;
	} else if (st->have_last_ttl) {
		ttl = st->last_ttl;
	} else {
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: no TTL and no $TTL before it",
				    s->name, line);
	}
	rc = signer__rdata_parse(type, t + i, n - i, s->origin, st->rdata, &rdlen, &why);
	if (rc == SIGNER_RDATA_OTHER)
		rc = via_ldns(s, st, type, ttl, t + i, n - i, &rdlen, line, err);
	else if (rc != 0) {
		signer__name_format(st->owner, ob);
		return tdm_err_fail(err, TDM_EPARSE, "%s:%lu: %s %s: %s", s->name, line, ob,
				    signer__type_name(type, tb), why);
	}
	if (rc != 0)
		return rc;
	rc = st->fn(st->arg, st->owner, type, ttl, st->rdata, rdlen, err);
	if (rc != 0)
		tdm_err_wrap(err, "%s:%lu", s->name, line);
	return rc;
}

static int read_src(struct src *s, struct state *st, struct tdm_err *err)
{
	for (;;) {
		size_t n;
		unsigned long line;
		bool lead;
		int rc = scan(s, st, &n, &line, &lead, err);
		if (rc == 0)
			return 0;
		if (rc == NEED_MORE) {
			if (s->fd < 0) {
				s->eof = true;
				continue;
			}
			if ((rc = fill(s, err)) != 0)
				return rc;
			continue;
		}
		if (rc < 0)
			return rc;
		if (!lead && !st->toks[0].quoted && st->toks[0].p[0] == '$')
			rc = directive(s, st, n, line, err);
		else
			rc = record(s, st, n, line, lead, err);
		if (rc != 0)
			return rc;
	}
}

static void state_init(struct state *st, signer__rr_fn fn, void *arg)
{
	memset(st, 0, offsetof(struct state, rdata));
	st->fn = fn;
	st->arg = arg;
}

int signer__read_file(const char *path, const uint8_t *origin,
		      signer__rr_fn fn, void *arg, struct tdm_err *err)
{
	return signer__read_file_range(path, origin, 0, UINT64_MAX, fn, arg, err);
}

int signer__read_file_range(const char *path, const uint8_t *origin, uint64_t off,
			    uint64_t len, signer__rr_fn fn, void *arg, struct tdm_err *err)
{
	struct state *st = tdm_malloc(sizeof *st);
	struct src s;
	int rc;

	memset(&s, 0, sizeof s);
	state_init(st, fn, arg);
	st->allow_include = true;
	s.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0) {
		free(st);
		return tdm_err_fail(err, TDM_EIO, "%s: %s", path, strerror(errno));
	}
	if (off > 0 && lseek(s.fd, (off_t)off, SEEK_SET) < 0) {
		rc = tdm_err_fail(err, TDM_EIO, "%s: %s", path, strerror(errno));
		close(s.fd);
		free(st);
		return rc;
	}
	s.name = path;
	s.cap = BUF_INITIAL;
	s.buf = tdm_malloc(s.cap);
	s.left = len;
	s.line = 1;
	memcpy(s.origin, origin, signer__name_len(origin));
	rc = read_src(&s, st, err);
	close(s.fd);
	free(s.buf);
	if (s.ldns_origin)
		ldns_rdf_deep_free(s.ldns_origin);
	free(st->toks);
	free(st);
	return rc;
}

int signer__read_mem(const char *buf, size_t len, const char *name,
		     const uint8_t *origin, signer__rr_fn fn, void *arg,
		     struct tdm_err *err)
{
	struct state *st = tdm_malloc(sizeof *st);
	struct src s;
	int rc;

	memset(&s, 0, sizeof s);
	state_init(st, fn, arg);
	s.fd = -1;
	s.name = name;
	s.buf = (char *)buf;
	s.cap = s.end = len;
	s.eof = true;
	s.line = 1;
	memcpy(s.origin, origin, signer__name_len(origin));
	rc = read_src(&s, st, err);
	if (s.ldns_origin)
		ldns_rdf_deep_free(s.ldns_origin);
	free(st->toks);
	free(st);
	return rc;
}
