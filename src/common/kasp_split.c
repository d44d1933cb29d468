/*
 * kasp.xml as the ledger keeps it: one standalone <KASP> document per
 * policy (the POLICY_PUT blob), so that each policy can be replaced,
 * exported and loaded on its own with tdm_kasp_load_buffer().
 *
 * tdm_kasp_split() validates the whole file first (the same loader as
 * tdm_kasp_load_buffer), so an import either takes every policy or none.
 * The documents it makes have a fixed frame (XML declaration, "<KASP>",
 * the policy element as written, "</KASP>") which tdm_kasp_join() strips
 * again to rebuild one kasp.xml.
 */
#include "common/conf.h"
#include "common/xml.h"

#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

static const char frame_head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<KASP>\n";
static const char frame_tail[] = "\n</KASP>\n";

int tdm_kasp_split(const char *name, const void *buf, size_t len, struct tdm_kasp_doc **out,
		   size_t *n, struct tdm_err *err)
{
	struct tdm_kasp *kasp = NULL;
	xmlDocPtr doc = NULL;
	struct tdm_kasp_doc *docs = NULL;
	size_t count = 0;
	int rc = tdm_kasp_load_buffer(name, buf, len, &kasp, err);
	if (rc != 0)
		return rc;
	rc = tdm__xml_open(name, buf, len, "KASP", &doc, err);
	if (rc != 0) {
		tdm_kasp_free(kasp);
		return rc;
	}
	docs = tdm_calloc(kasp->n_policies ? kasp->n_policies : 1, sizeof *docs);
	for (xmlNodePtr p = xmlDocGetRootElement(doc)->children; p != NULL; p = p->next) {
		if (p->type != XML_ELEMENT_NODE || strcmp((const char *)p->name, "Policy") != 0)
			continue;
		xmlChar *pname = xmlGetProp(p, (const xmlChar *)"name");
		xmlBufferPtr b = xmlBufferCreate();
		xmlNodeDump(b, doc, p, 0, 0);
		size_t blen = (size_t)xmlBufferLength(b);
		size_t total = sizeof frame_head - 1 + blen + sizeof frame_tail - 1;
		char *x = tdm_malloc(total + 1);
		memcpy(x, frame_head, sizeof frame_head - 1);
		memcpy(x + sizeof frame_head - 1, xmlBufferContent(b), blen);
		memcpy(x + sizeof frame_head - 1 + blen, frame_tail, sizeof frame_tail);
		xmlBufferFree(b);
		if (count < kasp->n_policies) {
			docs[count].name = tdm_strdup(pname ? (const char *)pname : "");
			docs[count].xml = x;
			docs[count].len = total;
			count++;
		} else {
			free(x);
		}
		xmlFree(pname);
	}
	xmlFreeDoc(doc);
	tdm_kasp_free(kasp);
	*out = docs;
	*n = count;
	return 0;
}

void tdm_kasp_docs_free(struct tdm_kasp_doc *docs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(docs[i].name);
		free(docs[i].xml);
	}
	free(docs);
}

char *tdm_kasp_join(const char *const *docs, const size_t *lens, size_t n)
{
	size_t cap = sizeof frame_head + sizeof frame_tail + 1, len = 0;
	for (size_t i = 0; i < n; i++)
		cap += lens[i] + 1;
	char *out = tdm_malloc(cap);
	memcpy(out, frame_head, sizeof frame_head - 1);
	len = sizeof frame_head - 1;
	for (size_t i = 0; i < n; i++) {
		const char *s = docs[i];
		size_t l = lens[i];
		/* Strip our own frame; a blob of another shape is kept whole. */
		if (l >= sizeof frame_head - 1 + sizeof frame_tail - 1 &&
		    memcmp(s, frame_head, sizeof frame_head - 1) == 0 &&
		    memcmp(s + l - (sizeof frame_tail - 1), frame_tail, sizeof frame_tail - 1) == 0) {
			s += sizeof frame_head - 1;
			l -= sizeof frame_head - 1 + sizeof frame_tail - 1;
		}
		memcpy(out + len, s, l);
		len += l;
		out[len++] = '\n';
	}
	memcpy(out + len, frame_tail + 1, sizeof frame_tail - 1);
	return out;
}
