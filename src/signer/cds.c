/*
 * The apex CDS and CDNSKEY RRsets the signconf asks for (RFC 7344 §3,
 * RFC 8078 §4): signer__cds_add(), called by signer_zone_prepare() before
 * the zone is put in canonical order.
 *
 * A signconf that holds a <Keys><CDS> (or <CDNSKEY>) section owns that
 * RRset: the input's records of the type at the apex are dropped and the
 * RRset becomes one CDS per marked key and digest type (the DS algorithm
 * of RFC 4034 §5.1.4: "digest = digest_algorithm( DNSKEY owner name |
 * DNSKEY RDATA)", made by hsm_ds_rdata()) and one CDNSKEY per marked key
 * (its DNSKEY RDATA), or, with <Delete/>, the single delete record
 * "CDS 0 0 0 00" / "CDNSKEY 0 3 0 AA==".  No key marked and no <Delete/>:
 * no RRset.  Without the section the input's records stay as they are.
 * The TTL is the DNSKEY TTL of the signconf; the KSKs sign both RRsets
 * (signer__set_role(), RFC 7344 §4.1), and signature reuse treats them as
 * any other RRset.
 */
#include "signer/zone.h"

#include "common/log.h"
#include "hsm/hsm.h"
#include "signer/name.h"

#include <stdlib.h>

/* RFC 8078 §4: "CDS 0 0 0 00" and "CDNSKEY 0 3 0 AA==" (AA== is one zero octet). */
static const uint8_t cds_delete_rd[5] = { 0, 0, 0, 0, 0 };
static const uint8_t cdnskey_delete_rd[5] = { 0, 0, 3, 0, 0 };

/* Drop the input's apex records of the types the signconf owns; the count. */
static size_t drop_input(struct signer_zone *z, bool cds, bool cdnskey)
{
	size_t out = 0, n = z->n_lrecs;
	for (size_t i = 0; i < n; i++) {
		const struct signer__lrec *r = &z->lrecs[i];
		bool owned = (r->type == T_CDS && cds) || (r->type == T_CDNSKEY && cdnskey);
		if (owned && signer__name_equal(signer__nb_wire(r->name), z->apex))
			continue;
		z->lrecs[out++] = *r;
	}
	z->n_lrecs = out;
	return n - out;
}

int signer__cds_add(struct signer_zone *z, const struct signer_params *p, struct tdm_err *err)
{
	const struct tdm_signconf *sc = p->sc;
	uint32_t ttl = (uint32_t)sc->dnskey_ttl;
	char ab[SIGNER_NAME_STR_MAX];
	size_t dropped;

	signer__name_format(z->apex, ab);
	for (size_t i = 0; i < p->n_keys; i++) {
		const struct signer_key *k = &p->keys[i];
		const char *who = k->locator ? k->locator : "-";
		if (k->cds && (!sc->cds_managed || sc->n_cds_digests == 0 || sc->cds_delete))
			return tdm_err_fail(err, TDM_EINVAL, "zone %s: key %s: marked CDS, but the "
					    "signconf has no <CDS> digest type or asks for the "
					    "delete form", ab, who);
		if (k->cdnskey && (!sc->cdnskey_managed || sc->cdnskey_delete))
			return tdm_err_fail(err, TDM_EINVAL, "zone %s: key %s: marked CDNSKEY, but "
					    "the signconf has no <CDNSKEY> or asks for the "
					    "delete form", ab, who);
	}
	if (!sc->cds_managed && !sc->cdnskey_managed)
		return 0;

	dropped = drop_input(z, sc->cds_managed, sc->cdnskey_managed);
	if (dropped > 0)
		tdm_log_info("zone %s: %zu CDS/CDNSKEY records of the input replaced by the "
			     "signconf's", ab, dropped);

	if (sc->cds_delete)
		signer__zone_add(z, z->apex, T_CDS, ttl, cds_delete_rd, sizeof cds_delete_rd);
	if (sc->cdnskey_delete)
		signer__zone_add(z, z->apex, T_CDNSKEY, ttl, cdnskey_delete_rd,
				 sizeof cdnskey_delete_rd);
	for (size_t i = 0; i < p->n_keys; i++) {
		const struct signer_key *k = &p->keys[i];
		if (k->cdnskey)
			signer__zone_add(z, z->apex, T_CDNSKEY, ttl, k->dnskey, k->dnskey_len);
		for (size_t d = 0; k->cds && d < sc->n_cds_digests; d++) {
			uint8_t *rd;
			size_t len;
			int rc = hsm_ds_rdata(z->apex, z->apex_len, k->dnskey, k->dnskey_len,
					      sc->cds_digests[d], &rd, &len, err);
			if (rc != 0) {
				tdm_err_wrap(err, "zone %s: key %s: CDS", ab,
					     k->locator ? k->locator : "-");
				return rc;
			}
			signer__zone_add(z, z->apex, T_CDS, ttl, rd, len);
			free(rd);
		}
	}
	return 0;
}
