/*
 * Keys as the signer sees them: DNSKEY RDATA from a signconf's
 * <ResourceRecord> (read with the zone reader), key tags and signature
 * sizes live in rrsig.c.
 */
#include "signer/signer.h"

#include "signer/rdata.h"
#include "signer/reader.h"

#include <stdlib.h>
#include <string.h>

struct capture {
	uint8_t *rdata;
	size_t len;
	int n;
};

static int on_rr(void *arg, const uint8_t *owner, uint16_t type, uint32_t ttl,
		 const uint8_t *rdata, size_t rdlen, struct tdm_err *err)
{
	struct capture *c = arg;
	(void)owner;
	(void)ttl;
	if (type != T_DNSKEY)
		return tdm_err_fail(err, TDM_EPARSE, "not a DNSKEY record");
	if (c->n++ > 0)
		return tdm_err_fail(err, TDM_EPARSE, "more than one record");
	c->rdata = tdm_malloc(rdlen + 1);
	memcpy(c->rdata, rdata, rdlen);
	c->len = rdlen;
	return 0;
}

int signer_dnskey_from_text(const char *text, uint8_t **out, size_t *len,
			    struct tdm_err *err)
{
	static const uint8_t root[1] = { 0 };
	struct capture c = { NULL, 0, 0 };
	int rc = signer__read_mem(text, strlen(text), "<ResourceRecord>", root, on_rr, &c, err);
	if (rc == 0 && c.n != 1)
		rc = tdm_err_fail(err, TDM_EPARSE, "<ResourceRecord>: no DNSKEY record");
	if (rc != 0) {
		free(c.rdata);
		return rc;
	}
	*out = c.rdata;
	*len = c.len;
	return 0;
}
