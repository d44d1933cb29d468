/*
 * zonelist.xml: the zones to sign, each with its policy, signconf path and
 * input/output adapters (OpenDNSSEC 2.x layout).  Exports
 * tdm_zonelist_load(), tdm_zonelist_load_buffer(), tdm_zonelist_free() and
 * tdm_zonelist_zone().
 *
 * Zone lists reach tens of thousands of entries, so duplicate names are
 * found by sorting, not by comparing every pair.
 */
#include "common/conf.h"
#include "common/xml.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Compare zone names as DNS does for our purpose: no case, no final dot. */
static int zone_name_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t n;
	int c;
	if (la > 1 && a[la - 1] == '.')
		la--;
	if (lb > 1 && b[lb - 1] == '.')
		lb--;
	n = la < lb ? la : lb;
	c = strncasecmp(a, b, n);
	if (c != 0)
		return c;
	return la < lb ? -1 : la > lb ? 1 : 0;
}

static void read_adapter(struct tdm__xml_ctx *ctx, xmlNodePtr io, struct tdm_adapter *a)
{
	static const char *const allowed[] = { "File", "Adapter", NULL };
	static const char *const attrs[] = { "type", NULL };
	xmlNodePtr file, adapter;
	tdm__xml_allow(ctx, io, allowed);
	file = tdm__xml_opt(ctx, io, "File");
	adapter = tdm__xml_opt(ctx, io, "Adapter");
	if (ctx->rc != 0)
		return;
	if ((file == NULL) == (adapter == NULL)) {
		tdm__xml_fail(ctx, TDM_ESCHEMA, io, file ? "File and Adapter both given"
						       : "element File or Adapter missing");
		return;
	}
	if (file != NULL) {
		a->type = TDM_ADAPTER_FILE;
		a->type_name = tdm_strdup("File");
		a->config = tdm__xml_text(ctx, file, false);
		return;
	}
	tdm__xml_allow_attrs(ctx, adapter, attrs);
	a->type_name = tdm__xml_attr(ctx, adapter, "type", true);
	a->config = tdm__xml_text(ctx, adapter, false);
	if (a->type_name == NULL)
		return;
	if (strcasecmp(a->type_name, "File") == 0)
		a->type = TDM_ADAPTER_FILE;
	else if (strcasecmp(a->type_name, "DNS") == 0)
		a->type = TDM_ADAPTER_DNS;
	else
		a->type = TDM_ADAPTER_OTHER;
}

static void read_zone(struct tdm__xml_ctx *ctx, xmlNodePtr node, struct tdm_zonelist_zone *z)
{
	static const char *const allowed[] = { "Policy", "SignerConfiguration", "Adapters", NULL };
	static const char *const ad_allowed[] = { "Input", "Output", NULL };
	static const char *const attrs[] = { "name", NULL };
	xmlNodePtr ad, n;
	z->line = tdm__xml_line(node);
	tdm__xml_allow_attrs(ctx, node, attrs);
	z->name = tdm__xml_attr(ctx, node, "name", true);
	tdm__xml_allow(ctx, node, allowed);
	z->policy = tdm__xml_child_text(ctx, node, "Policy", true);
	z->signconf = tdm__xml_child_text(ctx, node, "SignerConfiguration", true);
	ad = tdm__xml_req(ctx, node, "Adapters");
	tdm__xml_allow(ctx, ad, ad_allowed);
	if ((n = tdm__xml_req(ctx, ad, "Input")) != NULL)
		read_adapter(ctx, n, &z->input);
	if ((n = tdm__xml_req(ctx, ad, "Output")) != NULL)
		read_adapter(ctx, n, &z->output);
}

static int by_name(const void *a, const void *b)
{
	const struct tdm_zonelist_zone *const *za = a, *const *zb = b;
	int c = zone_name_cmp((*za)->name, (*zb)->name);
	if (c != 0)
		return c;
	return (*za)->line < (*zb)->line ? -1 : (*za)->line > (*zb)->line;
}

/*
 * Report the first duplicate in document order: the earliest zone element
 * whose name already appeared.  nodes[i] is the element of zl->zones[i].
 */
static void check_duplicates(struct tdm__xml_ctx *ctx, xmlNodePtr *nodes,
			     struct tdm_zonelist *zl)
{
	struct tdm_zonelist_zone **v, *dup = NULL, *first = NULL;
	if (zl->n_zones < 2)
		return;
	v = tdm_malloc(zl->n_zones * sizeof *v);
	for (size_t i = 0; i < zl->n_zones; i++)
		v[i] = &zl->zones[i];
	/* Sorted by name, then line: each group of equal names starts with
	 * its first occurrence, and its second entry is the first repeat. */
	qsort(v, zl->n_zones, sizeof *v, by_name);
	for (size_t i = 1; i < zl->n_zones; i++) {
		bool head = i == 1 || zone_name_cmp(v[i - 2]->name, v[i - 1]->name) != 0;
		if (head && zone_name_cmp(v[i - 1]->name, v[i]->name) == 0 &&
		    (dup == NULL || v[i]->line < dup->line)) {
			dup = v[i];
			first = v[i - 1];
		}
	}
	if (dup != NULL)
		tdm__xml_fail(ctx, TDM_ESCHEMA, nodes[dup - zl->zones],
			      "zone listed twice (first on line %ld)", first->line);
	free(v);
}

/*- public ------------------------------------------------------------------*/

static void adapter_clear(struct tdm_adapter *a)
{
	free(a->type_name);
	free(a->config);
}

static int load(const char *name, const void *buf, size_t len,
		struct tdm_zonelist **out, struct tdm_err *err)
{
	static const char *const allowed[] = { "Zone", NULL };
	struct tdm__xml_ctx ctx;
	struct tdm_zonelist *zl;
	xmlDocPtr doc;
	xmlNodePtr root;
	size_t n;
	int rc;

	rc = tdm__xml_open(name, buf, len, "ZoneList", &doc, err);
	if (rc != 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	zl = tdm_calloc(1, sizeof *zl);
	zl->path = tdm_strdup(name);
	tdm__xml_ctx_init(&ctx, name, err);
	tdm__xml_allow(&ctx, root, allowed);
	n = tdm__xml_count(root, "Zone");
	if (ctx.rc == 0 && n > 0) {
		xmlNodePtr *nodes = tdm_calloc(n, sizeof *nodes);
		zl->zones = tdm_calloc(n, sizeof *zl->zones);
		for (xmlNodePtr z = tdm__xml_first(root); z && ctx.rc == 0; z = tdm__xml_next(z)) {
			nodes[zl->n_zones] = z;
			read_zone(&ctx, z, &zl->zones[zl->n_zones++]);
		}
		if (ctx.rc == 0)
			check_duplicates(&ctx, nodes, zl);
		free(nodes);
	}
	rc = ctx.rc;
	if (rc == 0)
		rc = tdm__xml_validate(doc, name, "zonelist.rng", err);
	xmlFreeDoc(doc);
	if (rc != 0) {
		tdm_zonelist_free(zl);
		return rc;
	}
	*out = zl;
	return 0;
}

int tdm_zonelist_load(const char *path, struct tdm_zonelist **out, struct tdm_err *err)
{
	return load(path, NULL, 0, out, err);
}

int tdm_zonelist_load_buffer(const char *name, const void *buf, size_t len,
			     struct tdm_zonelist **out, struct tdm_err *err)
{
	return load(name, buf ? buf : "", len, out, err);
}

void tdm_zonelist_free(struct tdm_zonelist *zl)
{
	if (zl == NULL)
		return;
	for (size_t i = 0; i < zl->n_zones; i++) {
		struct tdm_zonelist_zone *z = &zl->zones[i];
		free(z->name);
		free(z->policy);
		free(z->signconf);
		adapter_clear(&z->input);
		adapter_clear(&z->output);
	}
	free(zl->zones);
	free(zl->path);
	free(zl);
}

const struct tdm_zonelist_zone *tdm_zonelist_zone(const struct tdm_zonelist *zl,
						  const char *name)
{
	for (size_t i = 0; i < zl->n_zones; i++)
		if (zone_name_cmp(zl->zones[i].name, name) == 0)
			return &zl->zones[i];
	return NULL;
}
