/*
 * Private to src/common: reading Tandem's XML configuration files with
 * libxml2.  Used by conf.c, kasp.c, zonelist.c and signconf.c only.
 *
 * tdm__xml_open() parses a file (or a buffer) safely: no network, no
 * entity substitution, no DTD (a document with a DOCTYPE is refused), and
 * libxml2's own diagnostics are captured instead of printed.
 * tdm__xml_validate() checks the document against one of the RelaxNG
 * schemas compiled into the library from the .rng files in src/common/schemas/.
 *
 * The reading helpers work on a struct tdm__xml_ctx and record only the
 * FIRST problem they meet, as one message of the form
 *   "path:line: <Repository name=\"SoftHSM\">: element TokenLabel missing"
 * Once a problem is recorded, every helper still returns a harmless value
 * (NULL, the default) so a loader can read a whole section and check
 * ctx->rc once at the end.
 */
#ifndef TDM_COMMON_XML_H
#define TDM_COMMON_XML_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "common/error.h"

/** One schema source embedded at build time (generated schemas.c). */
struct tdm__schema_src {
	const char *name; /* "conf.rng" */
	const char *text;
};
extern const struct tdm__schema_src tdm__schema_srcs[]; /* NULL-terminated */

/** The source of the embedded schema `name` ("kasp.rng"), or NULL. */
const char *tdm__schema_text(const char *name);

/**
 * Parse `path`, or the `len` bytes at `buf` when buf is not NULL (path then
 * only names the data in messages), and check that the root element is
 * `root`.  @param out the document, freed by the caller with xmlFreeDoc().
 * @return 0, TDM_ENOENT/TDM_EIO (cannot read), TDM_EPARSE (not well-formed,
 *         DOCTYPE present, wrong root), with one message in err.
 */
int tdm__xml_open(const char *path, const void *buf, size_t len,
		  const char *root, xmlDocPtr *out, struct tdm_err *err);

/**
 * Validate doc against the embedded schema `schema` ("conf.rng").
 * @return 0 or TDM_ESCHEMA with one message naming file, line, element.
 */
int tdm__xml_validate(xmlDocPtr doc, const char *path, const char *schema,
		      struct tdm_err *err);

/** Reading state: the first problem wins. */
struct tdm__xml_ctx {
	const char *path;      /* file name used in messages (borrowed) */
	struct tdm_err *err;   /* receives the first message; may be NULL */
	int rc;                /* 0, or the code of the first problem */
};

void tdm__xml_ctx_init(struct tdm__xml_ctx *ctx, const char *path,
		       struct tdm_err *err);

/** Record a problem at `node` (first one wins).  Returns ctx->rc. */
int tdm__xml_fail(struct tdm__xml_ctx *ctx, int code, xmlNodePtr node,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** Format "path:line: <context>: message" for node into buf (no recording). */
void tdm__xml_vformat(char *buf, size_t len, const char *path, xmlNodePtr node,
		      const char *fmt, va_list ap);

/** Line of node (1-based), 0 if unknown. */
long tdm__xml_line(xmlNodePtr node);

/** True when node is an element called name. */
bool tdm__xml_is(xmlNodePtr node, const char *name);

/** First element child of parent, any name; NULL if none. */
xmlNodePtr tdm__xml_first(xmlNodePtr parent);
/** Next element sibling of node, any name; NULL if none. */
xmlNodePtr tdm__xml_next(xmlNodePtr node);

/** Number of element children of parent called name. */
size_t tdm__xml_count(xmlNodePtr parent, const char *name);

/**
 * Optional single child: the child element `name` of parent or NULL;
 * records "element NAME repeated" when there are two.
 */
xmlNodePtr tdm__xml_opt(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			const char *name);

/** Required single child: as _opt, and records "element NAME missing". */
xmlNodePtr tdm__xml_req(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			const char *name);

/**
 * Check that every child element of node is one of `names` (NULL-ended)
 * and that there is no text between them: records "element X not expected"
 * or "unexpected text".
 */
void tdm__xml_allow(struct tdm__xml_ctx *ctx, xmlNodePtr node,
		    const char *const *names);

/**
 * Text of a simple element, whitespace-trimmed; records a problem when it
 * holds elements, or is empty and !allow_empty.
 * @return a tdm_strdup'ed string the caller frees, or NULL (node NULL or
 *         problem).
 */
char *tdm__xml_text(struct tdm__xml_ctx *ctx, xmlNodePtr node, bool allow_empty);

/** _text of the optional child `name`; NULL when absent. */
char *tdm__xml_child_text(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			  const char *name, bool required);

/** A present-or-absent flag child (<SkipPublicKey/>); it must be empty. */
bool tdm__xml_flag(struct tdm__xml_ctx *ctx, xmlNodePtr parent, const char *name);

/**
 * Unsigned decimal of child `name` within [min, max]; `dflt` when absent
 * (and !required).
 */
uint64_t tdm__xml_uint(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
		       const char *name, bool required, uint64_t min,
		       uint64_t max, uint64_t dflt);

/** Unsigned decimal in a string (an attribute); records problems at node. */
uint64_t tdm__xml_uint_str(struct tdm__xml_ctx *ctx, xmlNodePtr node,
			   const char *what, const char *s, uint64_t min,
			   uint64_t max);

/** Duration (OpenDNSSEC meaning) of child `name` in seconds; dflt when absent. */
int64_t tdm__xml_duration(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			  const char *name, bool required, int64_t dflt);

/** The same in milliseconds (fractions of a second allowed). */
int64_t tdm__xml_duration_ms(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			     const char *name, bool required, int64_t dflt);

/**
 * Attribute `name` of node, trimmed, tdm_strdup'ed (caller frees); NULL
 * when absent (recording "attribute NAME missing" when required).
 */
char *tdm__xml_attr(struct tdm__xml_ctx *ctx, xmlNodePtr node,
		    const char *name, bool required);

/** Check that node carries no attributes other than `names` (NULL-ended). */
void tdm__xml_allow_attrs(struct tdm__xml_ctx *ctx, xmlNodePtr node,
			  const char *const *names);

/** What kasp.xml and the signconf share of <Denial>. */
struct tdm__denial {
	bool nsec3;
	bool optout;          /* <OptOut/> */
	int64_t ttl;          /* <TTL>, -1 when absent */
	int64_t resalt;       /* <Resalt>, 0 when absent */
	uint8_t algorithm;    /* <Hash><Algorithm> */
	uint16_t iterations;  /* <Hash><Iterations> */
};

/**
 * Read <Denial>: exactly one of NSEC and NSEC3, and for NSEC3 its TTL,
 * OptOut, Resalt (required when `resalt_required`) and Hash.  The <Salt>
 * means different things in the two files (a length in kasp.xml, the salt
 * itself in a signconf), so it is returned for the caller: NULL for NSEC
 * or after an error (ctx->rc says which).
 */
xmlNodePtr tdm__xml_denial(struct tdm__xml_ctx *ctx, xmlNodePtr d, bool resalt_required,
			   struct tdm__denial *out);

/** Free a NULL-terminated or counted array of strings. */
void tdm__strv_free(char **v, size_t n);

#endif
