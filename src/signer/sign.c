/*
 * One signing pass: signer_zone_sign().  This file holds the order of the
 * steps and the apex changes the signconf asks for; each step lives in its
 * own file.
 *
 *  1. DNSKEYs of the signconf's published keys and (NSEC3) the NSEC3PARAM
 *     join the apex; the input's own DNSKEYs stay and merge with them.
 *     The CDS and CDNSKEY RRsets the signconf owns replace the input's
 *     (cds.c).
 *  2. Canonical order, one TTL per RRset (zone.c), zone rules (rules.c).
 *  3. SOA TTL and MINIMUM from the signconf, DNSKEY TTL from <Keys><TTL>.
 *  4. NSEC or NSEC3 chain with TTL min(SOA TTL, SOA MINIMUM) (RFC 9077
 *     §3.3, which updates RFC 4034 §4 and RFC 5155 §3), unless the
 *     signconf gives an NSEC3 TTL.
 *  5. Signature slots (the KSKs for the apex DNSKEY, CDS and CDNSKEY, the
 *     ZSKs for the rest), then the previous output streamed past the zone
 *     (reuse.c), with the SOA serial provisionally the previous one: a zone
 *     whose every RRset and signature is unchanged keeps its serial and is
 *     signed with nothing new; otherwise the serial policy decides and the
 *     SOA is re-signed.
 *  6. The worker pool signs what is left.
 */
#include "signer/zone.h"

#include "common/log.h"
#include "signer/name.h"
#include "signer/pool.h"
#include "signer/progress.h"
#include "signer/rdata.h"
#include "signer/reuse.h"
#include "signer/rrsig.h"
#include "signer/serial.h"

#include <stdlib.h>

static uint8_t *soa_rdata(struct signer_zone *z, size_t *len)
{
	const struct signer__rrset *s = signer__node_set(z, 0, T_SOA);
	uint8_t *rb = (uint8_t *)z->rrs[s->first_rr];
	*len = signer__rb_len(rb);
	return rb + 2;
}

int signer_zone_prepare(struct signer_zone *z, const struct signer_params *p,
			struct tdm_err *err)
{
	const struct tdm_signconf *sc = p->sc;
	double t0 = signer__mono();
	struct signer__rrset *soa, *s;
	uint8_t *soa_rd;
	size_t soa_len;
	uint32_t soa_ttl, soa_min;
	char ab[SIGNER_NAME_STR_MAX];
	int rc;

	signer__name_format(z->apex, ab);
	if (z->finalized)
		return tdm_err_fail(err, TDM_EINVAL, "zone %s: already prepared", ab);
	if (p->n_keys == 0 || p->n_keys > 255)
		return tdm_err_fail(err, TDM_EINVAL, "zone %s: %zu keys (1 to 255 allowed)", ab,
				    p->n_keys);
	z->n_records_in = z->n_lrecs;
	if (z->n_dropped > 0)
		tdm_log_info("zone %s: %zu RRSIG, NSEC, NSEC3 and NSEC3PARAM records of the input replaced",
			     ab, z->n_dropped);

	/* 1. */
	for (size_t i = 0; i < p->n_keys; i++)
		if (p->keys[i].publish)
			signer__zone_add(z, z->apex, T_DNSKEY, (uint32_t)sc->dnskey_ttl,
					 p->keys[i].dnskey, p->keys[i].dnskey_len);
	if (sc->nsec3) {
		uint8_t rd[5 + 255];
		if (sc->nsec3_salt_len > 255)
			return tdm_err_fail(err, TDM_EINVAL, "zone %s: NSEC3 salt too long", ab);
		rd[0] = sc->nsec3_algorithm;
		rd[1] = 0; /* RFC 5155 §4.1.2: flags 0 in NSEC3PARAM */
		signer__put16(rd + 2, sc->nsec3_iterations);
		rd[4] = (uint8_t)sc->nsec3_salt_len;
		if (sc->nsec3_salt_len)
			memcpy(rd + 5, sc->nsec3_salt, sc->nsec3_salt_len);
		signer__zone_add(z, z->apex, T_NSEC3PARAM, 0, rd, 5 + sc->nsec3_salt_len);
	}
	if ((rc = signer__cds_add(z, p, err)) != 0)
		return rc;

	/* 2. */
	if ((rc = signer__zone_finalize(z, err)) != 0 || (rc = signer__rules_apply(z, err)) != 0) {
		tdm_err_wrap(err, "zone %s", ab);
		return rc;
	}

	/* 3. */
	soa = signer__node_set(z, 0, T_SOA);
	soa_rd = soa_rdata(z, &soa_len);
	if (sc->soa_ttl > 0)
		soa->ttl = (uint32_t)sc->soa_ttl;
	if (sc->soa_minimum > 0)
		signer__put32(soa_rd + soa_len - 4, (uint32_t)sc->soa_minimum);
	soa_ttl = soa->ttl;
	soa_min = signer__get32(soa_rd + soa_len - 4);
	if ((s = signer__node_set(z, 0, T_DNSKEY)) != NULL)
		s->ttl = (uint32_t)sc->dnskey_ttl;

	/* 4. */
	z->denial_ttl = soa_ttl < soa_min ? soa_ttl : soa_min;
	if (sc->nsec3 && sc->nsec3_ttl >= 0)
		z->denial_ttl = (uint32_t)sc->nsec3_ttl;
	if (sc->nsec3) {
		if ((s = signer__node_set(z, 0, T_NSEC3PARAM)) != NULL)
			s->ttl = z->denial_ttl;
		rc = signer__nsec3_build(z, sc, err);
	} else {
		rc = signer__nsec_build(z, err);
	}
	if (rc != 0) {
		tdm_err_wrap(err, "zone %s", ab);
		return rc;
	}
	z->prepared = true;
	z->t_prepare = signer__mono() - t0;
	return 0;
}

int signer_zone_sign(struct signer_zone *z, const char *prev_path,
		     const struct signer_params *p, struct signer_stats *st,
		     struct tdm_err *err)
{
	const struct tdm_signconf *sc = p->sc;
	double t0, t1;
	struct signer__sigctx *c = NULL;
	struct signer__plan plan;
	uint8_t *soa_rd;
	size_t soa_len;
	uint32_t input_serial, serial = 0;
	char ab[SIGNER_NAME_STR_MAX];
	bool unchanged = false, have_prev = false;
	int rc;

	memset(st, 0, sizeof *st);
	memset(&plan, 0, sizeof plan);
	signer__name_format(z->apex, ab);
	if (!z->prepared && (rc = signer_zone_prepare(z, p, err)) != 0)
		return rc;
	if (z->signed_)
		return tdm_err_fail(err, TDM_EINVAL, "zone %s: already signed", ab);
	t0 = signer__mono();
	st->records_in = z->n_records_in;
	soa_rd = soa_rdata(z, &soa_len);
	input_serial = signer__get32(soa_rd + soa_len - 20);

	/* 5. */
	c = tdm_malloc(sizeof *c);
	signer__sigctx_init(c, z, p);
	if ((rc = signer__reuse_slots(z, c, &plan, err)) != 0)
		goto out;
	if (prev_path != NULL) {
		struct tdm_err e2;
		tdm_err_clear(&e2);
		rc = signer__reuse_merge(z, prev_path, c, &plan, &e2);
		if (rc == 0 && !plan.have_prev_serial) {
			rc = TDM_EZONE;
			tdm_err_set(&e2, "%s: no SOA record at the zone apex", prev_path);
		}
		if (rc != 0) {
			/* An unusable previous output costs a full signing, nothing
			 * more; but "keep" cannot be checked against it. */
			signer__reuse_forget(z, &plan);
			if (sc->serial == TDM_SERIAL_KEEP) {
				memcpy(err, &e2, sizeof e2);
				tdm_err_wrap(err, "serial policy keep needs the previous output");
				goto out;
			}
			tdm_log_warn("zone %s: previous output not usable, signing everything: %s", ab,
				     e2.msg);
			rc = 0;
		} else {
			have_prev = true;
		}
	}
	unchanged = have_prev && plan.reused == z->n_sigs && plan.identical == plan.new_sets &&
		    plan.new_sets == plan.prev_sets && plan.reused == plan.prev_sigs;
	if (unchanged && !((sc->serial == TDM_SERIAL_KEEP || sc->serial == TDM_SERIAL_COUNTER) &&
			   signer__serial_gt(input_serial, plan.prev_serial))) {
		serial = plan.prev_serial;
	} else {
		unchanged = false;
		rc = signer__serial_next(sc->serial, input_serial, have_prev, plan.prev_serial,
					 p->now, &serial, err);
		if (rc != 0)
			goto out;
		if (!have_prev || serial != plan.prev_serial)
			signer__reuse_drop_set(z, &plan, plan.soa_set);
	}
	signer__put32(soa_rd + soa_len - 20, serial);
	signer__reuse_list(z, &plan);
	t1 = signer__mono();
	st->t_prepare = z->t_prepare + (t1 - t0);

	/* 6. */
	if (plan.n_items > 0) {
		uint8_t *area;
		size_t area_len, slot_size;
		rc = signer__pool_run(c, plan.items, plan.n_items, &area, &area_len, &slot_size, err);
		if (rc != 0)
			goto out;
		z->shm = area;
		z->shm_len = area_len;
		for (size_t i = 0; i < plan.n_items; i++)
			z->sigs[plan.items[i].slot] =
				area + (area_len - plan.n_items * slot_size) + i * slot_size;
	}
	st->t_sign = signer__mono() - t1;
	z->signed_ = true;

	st->names = z->n_nodes;
	st->rrsets = plan.new_sets;
	st->sigs_made = plan.n_items;
	st->sigs_reused = plan.reused;
	st->sigs_dropped = plan.prev_sigs > plan.reused ? plan.prev_sigs - plan.reused : 0;
	st->serial = serial;
	st->unchanged = unchanged;
out:
	if (rc != 0)
		tdm_err_wrap(err, "zone %s", ab);
	free(plan.items);
	free(c);
	return rc;
}
