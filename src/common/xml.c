/*
 * Safe libxml2 parsing, RelaxNG validation against the embedded schemas,
 * and the "first problem wins" reading helpers of xml.h.
 *
 * libxml2 reports problems through callbacks, often several for one cause
 * ("Expecting an element TokenLabel, got nothing", then "Invalid sequence
 * in interleave", then "Element Repository failed to validate content").
 * We collect them all and turn the most specific one into a single message
 * of Tandem's shape; nothing is printed on stderr.
 */
#include "common/xml.h"
#include "common/duration.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlerror.h>

/* Config files are small; refuse anything absurd before reading it. */
#define MAX_FILE_SIZE ((size_t)256 * 1024 * 1024)
#define MAX_COLLECTED 8

/*- private: collecting libxml2's diagnostics ---------------------------*/

struct diag {
	char msg[256];
	long line;
	xmlNodePtr node;
};

struct collector {
	struct diag d[MAX_COLLECTED];
	int n;
};

static void collect(void *data, xmlErrorPtr e)
{
	struct collector *c = data;
	struct diag *d;
	size_t len;
	if (c == NULL || e == NULL || c->n >= MAX_COLLECTED)
		return;
	if (e->level == XML_ERR_WARNING)
		return;
	d = &c->d[c->n++];
	snprintf(d->msg, sizeof d->msg, "%s", e->message ? e->message : "error");
	len = strlen(d->msg);
	while (len > 0 && isspace((unsigned char)d->msg[len - 1]))
		d->msg[--len] = '\0';
	d->node = e->node;
	d->line = e->line;
	if (d->node != NULL && d->line <= 0)
		d->line = tdm__xml_line(d->node);
}

/* libxml2 also has a "generic" channel for a few messages: silence it. */
static void silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

struct saved_handlers {
	xmlStructuredErrorFunc serror;
	void *sctx;
	xmlGenericErrorFunc generic;
	void *gctx;
};

static void capture_begin(struct saved_handlers *s, struct collector *c)
{
	s->serror = xmlStructuredError;
	s->sctx = xmlStructuredErrorContext;
	s->generic = xmlGenericError;
	s->gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(c, collect);
	xmlSetGenericErrorFunc(NULL, silent);
}

static void capture_end(const struct saved_handlers *s)
{
	xmlSetStructuredErrorFunc(s->sctx, s->serror);
	xmlSetGenericErrorFunc(s->gctx, s->generic);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
	xmlInitParser();
}

/*- private: describing an element ---------------------------------------*/

static const char *node_name(xmlNodePtr node)
{
	return node && node->name ? (const char *)node->name : "?";
}

/* "<Repository name=\"SoftHSM\">", "<Peer id=\"2\">" or "<Lifetime>". */
static void describe(char *buf, size_t len, xmlNodePtr node)
{
	static const char *const keys[] = { "name", "id", NULL };
	for (int i = 0; keys[i] != NULL; i++) {
		xmlChar *v = xmlGetProp(node, (const xmlChar *)keys[i]);
		if (v != NULL) {
			snprintf(buf, len, "<%s %s=\"%.64s\">", node_name(node),
				 keys[i], (const char *)v);
			xmlFree(v);
			return;
		}
	}
	snprintf(buf, len, "<%s>", node_name(node));
}

static bool has_name_attr(xmlNodePtr node)
{
	return node->type == XML_ELEMENT_NODE &&
	       xmlHasProp(node, (const xmlChar *)"name") != NULL;
}

/* The element plus, when it has no name of its own, the nearest named one. */
static void context(char *buf, size_t len, xmlNodePtr node)
{
	char self[160], outer[160];
	xmlNodePtr up;
	if (node == NULL || node->type != XML_ELEMENT_NODE) {
		buf[0] = '\0';
		return;
	}
	describe(self, sizeof self, node);
	if (has_name_attr(node)) {
		snprintf(buf, len, "%s", self);
		return;
	}
	for (up = node->parent; up && up->type == XML_ELEMENT_NODE; up = up->parent) {
		if (has_name_attr(up)) {
			describe(outer, sizeof outer, up);
			snprintf(buf, len, "%s: %s", outer, self);
			return;
		}
	}
	snprintf(buf, len, "%s", self);
}

long tdm__xml_line(xmlNodePtr node)
{
	long l;
	if (node == NULL)
		return 0;
	l = xmlGetLineNo(node);
	return l > 0 ? l : 0;
}

void tdm__xml_vformat(char *buf, size_t len, const char *path, xmlNodePtr node,
		      const char *fmt, va_list ap)
{
	char ctxbuf[400], msg[600];
	vsnprintf(msg, sizeof msg, fmt, ap);
	context(ctxbuf, sizeof ctxbuf, node);
	if (ctxbuf[0] != '\0')
		snprintf(buf, len, "%s:%ld: %s: %s", path, tdm__xml_line(node),
			 ctxbuf, msg);
	else
		snprintf(buf, len, "%s:%ld: %s", path, tdm__xml_line(node), msg);
}

/*
 * One message, one line: libxml2's messages and the operator's own text
 * (a value quoted back) may hold newlines or other control characters.
 */
static int oneline(struct tdm_err *err, int rc)
{
	if (err != NULL)
		for (char *p = err->msg; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = ' ';
	return rc;
}

/*- opening a document ---------------------------------------------------*/

static int read_file(const char *path, char **data, size_t *len,
		     struct tdm_err *err)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	size_t n = 0, cap;
	char *buf;
	if (f == NULL) {
		int e = errno;
		return tdm_err_fail(err, e == ENOENT ? TDM_ENOENT : TDM_EIO,
				    "%s: %s", path, strerror(e));
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return tdm_err_fail(err, TDM_EIO, "%s: not a regular file", path);
	}
	if ((size_t)st.st_size > MAX_FILE_SIZE) {
		fclose(f);
		return tdm_err_fail(err, TDM_EIO, "%s: file too large", path);
	}
	cap = (size_t)st.st_size + 1;
	buf = tdm_malloc(cap);
	for (;;) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap >= MAX_FILE_SIZE) {
			free(buf);
			fclose(f);
			return tdm_err_fail(err, TDM_EIO, "%s: file too large", path);
		}
		cap *= 2; /* the file grew while we read it */
		buf = tdm_realloc(buf, cap);
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		fclose(f);
		return tdm_err_fail(err, TDM_EIO, "%s: %s", path, strerror(e));
	}
	fclose(f);
	*data = buf;
	*len = n;
	return 0;
}

/* libxml2 keeps no line for the DOCTYPE node: find it in the text. */
static long find_doctype_line(const char *buf, size_t len)
{
	static const char tag[] = "<!DOCTYPE";
	long line = 1;
	for (size_t i = 0; i + sizeof tag - 1 <= len; i++) {
		if (buf[i] == '\n')
			line++;
		else if (buf[i] == '<' && memcmp(buf + i, tag, sizeof tag - 1) == 0)
			return line;
	}
	return 1;
}

int tdm__xml_open(const char *path, const void *buf, size_t len,
		  const char *root, xmlDocPtr *out, struct tdm_err *err)
{
	struct collector c = { .n = 0 };
	struct saved_handlers saved;
	xmlParserCtxtPtr pctx;
	xmlDocPtr doc;
	xmlNodePtr top;
	char *owned = NULL;
	long doctype_line;
	int rc;

	pthread_once(&init_once, init_libxml);
	if (buf == NULL) {
		rc = read_file(path, &owned, &len, err);
		if (rc != 0)
			return oneline(err, rc);
		buf = owned;
	}
	if (len > (size_t)INT32_MAX) {
		free(owned);
		return oneline(err, tdm_err_fail(err, TDM_EIO, "%s: file too large", path));
	}

	capture_begin(&saved, &c);
	pctx = xmlNewParserCtxt();
	if (pctx == NULL) {
		capture_end(&saved);
		free(owned);
		return oneline(err, tdm_err_fail(err, TDM_ENOMEM, "%s: out of memory", path));
	}
	/* No XML_PARSE_NOENT (entities stay unexpanded), no DTDLOAD, no
	 * network.  Big line numbers so messages stay right past line 65535. */
	doc = xmlCtxtReadMemory(pctx, buf, (int)len, path, NULL,
				XML_PARSE_NONET | XML_PARSE_BIG_LINES |
				XML_PARSE_NOCDATA | XML_PARSE_NOXINCNODE);
	xmlFreeParserCtxt(pctx);
	capture_end(&saved);
	doctype_line = find_doctype_line(buf, len);
	free(owned);

	if (doc == NULL || c.n > 0) {
		char msg[300];
		long line = c.n > 0 ? c.d[0].line : 0;
		snprintf(msg, sizeof msg, "%s", c.n > 0 ? c.d[0].msg : "not an XML document");
		if (doc != NULL)
			xmlFreeDoc(doc);
		return oneline(err, tdm_err_fail(err, TDM_EPARSE, "%s:%ld: not well-formed XML: %s",
				    path, line, msg));
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return oneline(err, tdm_err_fail(err, TDM_EPARSE,
				    "%s:%ld: <!DOCTYPE> not allowed (no DTDs or entities)",
				    path, doctype_line));
	}
	top = xmlDocGetRootElement(doc);
	if (top == NULL || !tdm__xml_is(top, root)) {
		char what[160];
		if (top)
			describe(what, sizeof what, top);
		rc = tdm_err_fail(err, TDM_EPARSE, "%s:%ld: %s: expected <%s> as the document element",
				  path, top ? tdm__xml_line(top) : 1L,
				  top ? what : "no element", root);
		xmlFreeDoc(doc);
		return oneline(err, rc);
	}
	*out = doc;
	return 0;
}

/*- RelaxNG ------------------------------------------------------------------*/

static pthread_mutex_t schema_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const char *name;
	xmlRelaxNGPtr rng;
} schema_cache[16];

const char *tdm__schema_text(const char *name)
{
	for (const struct tdm__schema_src *s = tdm__schema_srcs; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s->text;
	return NULL;
}

/* Compile once; caller holds schema_lock. */
static xmlRelaxNGPtr schema_get(const char *name, struct tdm_err *err)
{
	struct collector c = { .n = 0 };
	struct saved_handlers saved;
	xmlRelaxNGParserCtxtPtr pctx;
	xmlRelaxNGPtr rng;
	const char *text;
	size_t i;

	for (i = 0; i < sizeof schema_cache / sizeof schema_cache[0]; i++) {
		if (schema_cache[i].name == NULL)
			break;
		if (strcmp(schema_cache[i].name, name) == 0)
			return schema_cache[i].rng;
	}
	if (i == sizeof schema_cache / sizeof schema_cache[0]) {
		tdm_err_set(err, "schema %s: too many schemas", name);
		return NULL;
	}
	text = tdm__schema_text(name);
	if (text == NULL) {
		tdm_err_set(err, "schema %s: not built into this program", name);
		return NULL;
	}
	capture_begin(&saved, &c);
	pctx = xmlRelaxNGNewMemParserCtxt(text, (int)strlen(text));
	xmlRelaxNGSetParserStructuredErrors(pctx, collect, &c);
	rng = xmlRelaxNGParse(pctx);
	xmlRelaxNGFreeParserCtxt(pctx);
	capture_end(&saved);
	if (rng == NULL) {
		tdm_err_set(err, "schema %s:%ld: %s", name, c.n ? c.d[0].line : 0L,
			    c.n ? c.d[0].msg : "cannot compile");
		return NULL;
	}
	schema_cache[i].name = name;
	schema_cache[i].rng = rng;
	return rng;
}

/*
 * Turn one of libxml2's RelaxNG messages into Tandem's wording.  Returns a
 * rank: 2 for a message that names the actual cause, 1 for a generic one,
 * 0 for the cascade that follows ("Element X failed to validate content").
 */
static int rewrite(const struct diag *d, char *out, size_t len, xmlNodePtr *at)
{
	char a[128], b[128];
	*at = d->node;
	if (sscanf(d->msg, "Expecting an element %127s got nothing", a) == 1) {
		size_t n = strlen(a);
		if (n > 0 && a[n - 1] == ',')
			a[n - 1] = '\0';
		snprintf(out, len, "element %s missing", a);
		return 2;
	}
	if (sscanf(d->msg, "Expecting element %127[^,], got %127s", a, b) == 2) {
		snprintf(out, len, "element %s expected, found %s", a, b);
		if (d->node && d->node->parent && d->node->parent->type == XML_ELEMENT_NODE &&
		    tdm__xml_is(d->node, b))
			*at = d->node->parent;
		return 2;
	}
	if (sscanf(d->msg, "Element %127s has extra content: %127s", a, b) == 2) {
		/* The node is the extra child; report it from its parent. */
		snprintf(out, len, "element %s not expected here", b);
		if (d->node && d->node->parent && d->node->parent->type == XML_ELEMENT_NODE)
			*at = d->node->parent;
		return 2;
	}
	if (sscanf(d->msg, "Invalid attribute %127s for element %127s", a, b) == 2) {
		snprintf(out, len, "attribute %s not expected", a);
		return 2;
	}
	if (sscanf(d->msg, "Element %127s failed to validate attributes", a) == 1) {
		snprintf(out, len, "attributes not valid");
		return 1;
	}
	if (strncmp(d->msg, "Error validating datatype", 25) == 0 ||
	    strstr(d->msg, "doesn't allow value") != NULL) {
		snprintf(out, len, "value not valid (%s)", d->msg);
		return 2;
	}
	if (sscanf(d->msg, "Extra element %127s in interleave", a) == 1) {
		snprintf(out, len, "element %s not valid here", a);
		return 1;
	}
	if (strstr(d->msg, "failed to validate content") != NULL ||
	    strstr(d->msg, "Invalid sequence in interleave") != NULL) {
		snprintf(out, len, "content not valid");
		return 0;
	}
	snprintf(out, len, "%s", d->msg);
	return 1;
}

int tdm__xml_validate(xmlDocPtr doc, const char *path, const char *schema,
		      struct tdm_err *err)
{
	struct collector c = { .n = 0 };
	struct saved_handlers saved;
	xmlRelaxNGValidCtxtPtr vctx;
	xmlRelaxNGPtr rng;
	int ret;

	pthread_once(&init_once, init_libxml);
	/* Validation reads the compiled schema; one at a time keeps us off
	 * libxml2's thread-safety corner cases (config loads are rare). */
	pthread_mutex_lock(&schema_lock);
	rng = schema_get(schema, err);
	if (rng == NULL) {
		pthread_mutex_unlock(&schema_lock);
		return TDM_ESCHEMA;
	}
	capture_begin(&saved, &c);
	vctx = xmlRelaxNGNewValidCtxt(rng);
	if (vctx == NULL) {
		capture_end(&saved);
		pthread_mutex_unlock(&schema_lock);
		return tdm_err_fail(err, TDM_ENOMEM, "%s: out of memory", path);
	}
	xmlRelaxNGSetValidStructuredErrors(vctx, collect, &c);
	ret = xmlRelaxNGValidateDoc(vctx, doc);
	xmlRelaxNGFreeValidCtxt(vctx);
	capture_end(&saved);
	pthread_mutex_unlock(&schema_lock);

	if (ret == 0)
		return 0;
	{
		int best = -1, best_rank = -1;
		char msg[300], best_msg[300] = "does not match the schema";
		xmlNodePtr at, best_at = NULL;
		long best_line = 0;
		for (int i = 0; i < c.n; i++) {
			int r = rewrite(&c.d[i], msg, sizeof msg, &at);
			/* Prefer a message with a node over one without. */
			if (at != NULL)
				r += 3;
			if (r > best_rank) {
				best_rank = r;
				best = i;
				memcpy(best_msg, msg, sizeof msg);
				best_at = at;
				best_line = c.d[i].line;
			}
		}
		(void)best;
		if (best_at != NULL) {
			struct tdm__xml_ctx ctx;
			tdm__xml_ctx_init(&ctx, path, err);
			tdm__xml_fail(&ctx, TDM_ESCHEMA, best_at, "%s", best_msg);
		} else {
			tdm_err_set(err, "%s:%ld: %s", path, best_line, best_msg);
		}
	}
	return oneline(err, TDM_ESCHEMA);
}

/*- reading helpers ----------------------------------------------------------*/

void tdm__xml_ctx_init(struct tdm__xml_ctx *ctx, const char *path,
		       struct tdm_err *err)
{
	ctx->path = path;
	ctx->err = err;
	ctx->rc = 0;
}

int tdm__xml_fail(struct tdm__xml_ctx *ctx, int code, xmlNodePtr node,
		  const char *fmt, ...)
{
	va_list ap;
	if (ctx->rc != 0)
		return ctx->rc;
	ctx->rc = code;
	if (ctx->err != NULL) {
		va_start(ap, fmt);
		tdm__xml_vformat(ctx->err->msg, sizeof ctx->err->msg, ctx->path,
				 node, fmt, ap);
		va_end(ap);
		oneline(ctx->err, code);
	}
	return code;
}

bool tdm__xml_is(xmlNodePtr node, const char *name)
{
	return node != NULL && node->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)node->name, name) == 0;
}

xmlNodePtr tdm__xml_first(xmlNodePtr parent)
{
	xmlNodePtr n;
	if (parent == NULL)
		return NULL;
	for (n = parent->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

xmlNodePtr tdm__xml_next(xmlNodePtr node)
{
	xmlNodePtr n;
	if (node == NULL)
		return NULL;
	for (n = node->next; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

size_t tdm__xml_count(xmlNodePtr parent, const char *name)
{
	size_t k = 0;
	for (xmlNodePtr n = tdm__xml_first(parent); n; n = tdm__xml_next(n))
		if (tdm__xml_is(n, name))
			k++;
	return k;
}

xmlNodePtr tdm__xml_opt(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			const char *name)
{
	xmlNodePtr found = NULL;
	for (xmlNodePtr n = tdm__xml_first(parent); n; n = tdm__xml_next(n)) {
		if (!tdm__xml_is(n, name))
			continue;
		if (found != NULL) {
			tdm__xml_fail(ctx, TDM_ESCHEMA, n, "element %s repeated (first on line %ld)",
				      name, tdm__xml_line(found));
			return found;
		}
		found = n;
	}
	return found;
}

xmlNodePtr tdm__xml_req(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			const char *name)
{
	xmlNodePtr n;
	if (parent == NULL)
		return NULL;
	n = tdm__xml_opt(ctx, parent, name);
	if (n == NULL)
		tdm__xml_fail(ctx, TDM_ESCHEMA, parent, "element %s missing", name);
	return n;
}

static bool only_space(const xmlChar *s)
{
	if (s == NULL)
		return true;
	for (; *s; s++)
		if (!isspace(*s))
			return false;
	return true;
}

void tdm__xml_allow(struct tdm__xml_ctx *ctx, xmlNodePtr node,
		    const char *const *names)
{
	if (node == NULL)
		return;
	for (xmlNodePtr n = node->children; n != NULL; n = n->next) {
		bool ok = false;
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (!only_space(n->content)) {
				tdm__xml_fail(ctx, TDM_ESCHEMA, node, "unexpected text in element");
				return;
			}
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue; /* comments, processing instructions */
		for (size_t i = 0; names[i] != NULL; i++)
			if (strcmp((const char *)n->name, names[i]) == 0)
				ok = true;
		if (!ok) {
			tdm__xml_fail(ctx, TDM_ESCHEMA, node, "element %s not expected here",
				      (const char *)n->name);
			return;
		}
	}
}

char *tdm__xml_text(struct tdm__xml_ctx *ctx, xmlNodePtr node, bool allow_empty)
{
	xmlChar *raw;
	const char *s, *e;
	char *out;
	if (node == NULL || ctx->rc != 0)
		return NULL;
	if (tdm__xml_first(node) != NULL) {
		tdm__xml_fail(ctx, TDM_ESCHEMA, node, "element %s not expected here",
			      (const char *)tdm__xml_first(node)->name);
		return NULL;
	}
	raw = xmlNodeGetContent(node);
	s = raw ? (const char *)raw : "";
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (e == s && !allow_empty) {
		xmlFree(raw);
		tdm__xml_fail(ctx, TDM_ESCHEMA, node, "empty value");
		return NULL;
	}
	out = tdm_malloc((size_t)(e - s) + 1);
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	xmlFree(raw);
	return out;
}

char *tdm__xml_child_text(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			  const char *name, bool required)
{
	xmlNodePtr n = required ? tdm__xml_req(ctx, parent, name)
				: tdm__xml_opt(ctx, parent, name);
	return tdm__xml_text(ctx, n, false);
}

bool tdm__xml_flag(struct tdm__xml_ctx *ctx, xmlNodePtr parent, const char *name)
{
	xmlNodePtr n = tdm__xml_opt(ctx, parent, name);
	if (n == NULL)
		return false;
	for (xmlNodePtr k = n->children; k != NULL; k = k->next) {
		if (k->type == XML_ELEMENT_NODE ||
		    ((k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) &&
		     !only_space(k->content))) {
			tdm__xml_fail(ctx, TDM_ESCHEMA, n, "must be empty");
			break;
		}
	}
	return true;
}

uint64_t tdm__xml_uint_str(struct tdm__xml_ctx *ctx, xmlNodePtr node,
			   const char *what, const char *s, uint64_t min,
			   uint64_t max)
{
	uint64_t v = 0;
	const char *p = s;
	if (ctx->rc != 0 || s == NULL)
		return min;
	if (*p == '\0')
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (v > (UINT64_MAX - 9) / 10)
			goto range;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		goto range;
	return v;
bad:
	tdm__xml_fail(ctx, TDM_ESCHEMA, node, "%snot a number: \"%.40s\"", what, s);
	return min;
range:
	tdm__xml_fail(ctx, TDM_ESCHEMA, node, "%s%.40s out of range %llu..%llu", what, s,
		      (unsigned long long)min, (unsigned long long)max);
	return min;
}

uint64_t tdm__xml_uint(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
		       const char *name, bool required, uint64_t min,
		       uint64_t max, uint64_t dflt)
{
	xmlNodePtr n = required ? tdm__xml_req(ctx, parent, name)
				: tdm__xml_opt(ctx, parent, name);
	char *s;
	uint64_t v;
	if (n == NULL)
		return dflt;
	s = tdm__xml_text(ctx, n, false);
	if (s == NULL)
		return dflt;
	v = tdm__xml_uint_str(ctx, n, "", s, min, max);
	free(s);
	return ctx->rc ? dflt : v;
}

static int64_t duration_common(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			       const char *name, bool required, int64_t dflt,
			       bool ms)
{
	xmlNodePtr n = required ? tdm__xml_req(ctx, parent, name)
				: tdm__xml_opt(ctx, parent, name);
	char *s;
	int64_t v = 0;
	int rc;
	if (n == NULL)
		return dflt;
	s = tdm__xml_text(ctx, n, false);
	if (s == NULL)
		return dflt;
	rc = ms ? tdm_duration_parse_ms(s, &v) : tdm_duration_parse(s, &v);
	if (rc == TDM_ERANGE)
		tdm__xml_fail(ctx, TDM_ESCHEMA, n, "duration too long: \"%.40s\"", s);
	else if (rc != 0)
		tdm__xml_fail(ctx, TDM_ESCHEMA, n, "not a duration: \"%.40s\"", s);
	free(s);
	return rc ? dflt : v;
}

int64_t tdm__xml_duration(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			  const char *name, bool required, int64_t dflt)
{
	return duration_common(ctx, parent, name, required, dflt, false);
}

int64_t tdm__xml_duration_ms(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			     const char *name, bool required, int64_t dflt)
{
	return duration_common(ctx, parent, name, required, dflt, true);
}

char *tdm__xml_attr(struct tdm__xml_ctx *ctx, xmlNodePtr node,
		    const char *name, bool required)
{
	xmlChar *raw;
	const char *s, *e;
	char *out;
	if (node == NULL || ctx->rc != 0)
		return NULL;
	raw = xmlGetNoNsProp(node, (const xmlChar *)name);
	if (raw == NULL) {
		if (required)
			tdm__xml_fail(ctx, TDM_ESCHEMA, node, "attribute %s missing", name);
		return NULL;
	}
	s = (const char *)raw;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (e == s) {
		xmlFree(raw);
		tdm__xml_fail(ctx, TDM_ESCHEMA, node, "attribute %s empty", name);
		return NULL;
	}
	out = tdm_malloc((size_t)(e - s) + 1);
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	xmlFree(raw);
	return out;
}

void tdm__xml_allow_attrs(struct tdm__xml_ctx *ctx, xmlNodePtr node,
			  const char *const *names)
{
	if (node == NULL)
		return;
	for (xmlAttrPtr a = node->properties; a != NULL; a = a->next) {
		bool ok = false;
		for (size_t i = 0; names[i] != NULL; i++)
			if (strcmp((const char *)a->name, names[i]) == 0)
				ok = true;
		if (!ok) {
			tdm__xml_fail(ctx, TDM_ESCHEMA, node, "attribute %s not expected",
				      (const char *)a->name);
			return;
		}
	}
}

void tdm__strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*- <Denial> of kasp.xml and signconf ---------------------------------------*/

xmlNodePtr tdm__xml_denial(struct tdm__xml_ctx *ctx, xmlNodePtr d, bool resalt_required,
			   struct tdm__denial *out)
{
	static const char *const allowed[] = { "NSEC", "NSEC3", NULL };
	static const char *const n3_allowed[] = { "TTL", "OptOut", "Resalt", "Hash", NULL };
	static const char *const h_allowed[] = { "Algorithm", "Iterations", "Salt", NULL };
	xmlNodePtr nsec, nsec3, hash;
	memset(out, 0, sizeof *out);
	out->ttl = -1;
	tdm__xml_allow(ctx, d, allowed);
	nsec = tdm__xml_opt(ctx, d, "NSEC");
	nsec3 = tdm__xml_opt(ctx, d, "NSEC3");
	if (ctx->rc != 0)
		return NULL;
	if ((nsec == NULL) == (nsec3 == NULL)) {
		tdm__xml_fail(ctx, TDM_ESCHEMA, d, nsec ? "NSEC and NSEC3 both given"
						       : "element NSEC or NSEC3 missing");
		return NULL;
	}
	if (nsec != NULL) {
		tdm__xml_flag(ctx, d, "NSEC");
		return NULL;
	}
	out->nsec3 = true;
	tdm__xml_allow(ctx, nsec3, n3_allowed);
	out->ttl = tdm__xml_duration(ctx, nsec3, "TTL", false, -1);
	out->optout = tdm__xml_flag(ctx, nsec3, "OptOut");
	out->resalt = tdm__xml_duration(ctx, nsec3, "Resalt", resalt_required, 0);
	hash = tdm__xml_req(ctx, nsec3, "Hash");
	tdm__xml_allow(ctx, hash, h_allowed);
	out->algorithm = (uint8_t)tdm__xml_uint(ctx, hash, "Algorithm", true, 1, 255, 1);
	out->iterations = (uint16_t)tdm__xml_uint(ctx, hash, "Iterations", true, 0, 65535, 0);
	return tdm__xml_req(ctx, hash, "Salt");
}
