/*
 * The signconf: one zone's signing parameters and keys, as OpenDNSSEC's
 * enforcer writes them for its signer (root <SignerConfiguration>).
 * Exports tdm_signconf_load(), tdm_signconf_load_buffer(),
 * tdm_signconf_free() and the serial policy names.
 *
 * Conventions kept from OpenDNSSEC: the NSEC3 <Salt> is hex, and "-" or an
 * empty element means no salt; a <Locator> is the key's CKA_ID in hex; an
 * absent NSEC3 <TTL> means "use the SOA minimum" (RFC 5155 §5), stored -1.
 *
 * Tandem extension (RFC 7344, RFC 8078), all inside <Keys>:
 *   <CDS><DigestType>2</DigestType>...[<Delete/>]</CDS>
 *   <CDNSKEY>[<Delete/>]</CDNSKEY>
 *   <Key>... <CDS/> <CDNSKEY/></Key>
 * A section present means the signconf owns that apex RRset: the keys
 * marked in it make the RRset (none: no RRset), or <Delete/> asks for the
 * RFC 8078 §4 delete form, which stands alone.  A key marked <CDS/> needs
 * the <CDS> section and a digest type; OpenDNSSEC's signer knows none of
 * these elements.
 */
#include "common/conf.h"
#include "common/hex.h"
#include "common/xml.h"

#include <stdlib.h>
#include <string.h>

static const char *const serial_names[] = {
	[TDM_SERIAL_COUNTER] = "counter",
	[TDM_SERIAL_DATECOUNTER] = "datecounter",
	[TDM_SERIAL_UNIXTIME] = "unixtime",
	[TDM_SERIAL_KEEP] = "keep",
};

int tdm_serial_policy_parse(const char *s, enum tdm_serial_policy *out)
{
	for (size_t i = 0; i < sizeof serial_names / sizeof serial_names[0]; i++) {
		if (strcmp(s, serial_names[i]) == 0) {
			*out = (enum tdm_serial_policy)i;
			return 0;
		}
	}
	return TDM_EPARSE;
}

const char *tdm_serial_policy_name(enum tdm_serial_policy p)
{
	if ((size_t)p < sizeof serial_names / sizeof serial_names[0])
		return serial_names[p];
	return "unknown";
}

/*- private: sections -------------------------------------------------------*/

static void read_signatures(struct tdm__xml_ctx *ctx, xmlNodePtr s,
			    struct tdm_signconf *sc)
{
	static const char *const allowed[] = { "Resign", "Refresh", "Validity",
		"Jitter", "InceptionOffset", "MaxZoneTTL", NULL };
	static const char *const v_allowed[] = { "Default", "Denial", "Keyset", NULL };
	xmlNodePtr v;
	tdm__xml_allow(ctx, s, allowed);
	sc->resign = tdm__xml_duration(ctx, s, "Resign", true, 0);
	sc->refresh = tdm__xml_duration(ctx, s, "Refresh", true, 0);
	v = tdm__xml_req(ctx, s, "Validity");
	tdm__xml_allow(ctx, v, v_allowed);
	sc->validity_default = tdm__xml_duration(ctx, v, "Default", true, 0);
	sc->validity_denial = tdm__xml_duration(ctx, v, "Denial", true, 0);
	sc->validity_keyset = tdm__xml_duration(ctx, v, "Keyset", false, 0);
	sc->jitter = tdm__xml_duration(ctx, s, "Jitter", true, 0);
	sc->inception_offset = tdm__xml_duration(ctx, s, "InceptionOffset", true, 0);
	sc->max_zone_ttl = tdm__xml_duration(ctx, s, "MaxZoneTTL", false, 0);
}

static void read_denial(struct tdm__xml_ctx *ctx, xmlNodePtr d,
			struct tdm_signconf *sc)
{
	struct tdm__denial dn;
	xmlNodePtr salt;
	char *hex;
	/* Resalt is the enforcer's business: read (and checked) only. */
	salt = tdm__xml_denial(ctx, d, false, &dn);
	if (!dn.nsec3)
		return;
	sc->nsec3 = true;
	sc->nsec3_ttl = dn.ttl;
	sc->nsec3_optout = dn.optout;
	sc->nsec3_algorithm = dn.algorithm;
	sc->nsec3_iterations = dn.iterations;
	if (salt == NULL)
		return;
	hex = tdm__xml_text(ctx, salt, true);
	if (hex == NULL)
		return;
	if (strcmp(hex, "-") != 0 &&
	    tdm_hex_decode_alloc(hex, &sc->nsec3_salt, &sc->nsec3_salt_len) != 0)
		tdm__xml_fail(ctx, TDM_ESCHEMA, salt, "not a hex salt: \"%.40s\"", hex);
	else if (sc->nsec3_salt_len > 255)
		tdm__xml_fail(ctx, TDM_ESCHEMA, salt, "salt longer than 255 bytes");
	free(hex);
}

static void read_key(struct tdm__xml_ctx *ctx, xmlNodePtr k, struct tdm_signconf_key *key)
{
	static const char *const allowed[] = { "Flags", "Algorithm", "Locator",
		"ResourceRecord", "KSK", "ZSK", "Publish", "Deactivate", "CDS", "CDNSKEY", NULL };
	xmlNodePtr loc;
	tdm__xml_allow(ctx, k, allowed);
	key->flags = (uint16_t)tdm__xml_uint(ctx, k, "Flags", true, 0, 65535, 0);
	key->algorithm = (uint8_t)tdm__xml_uint(ctx, k, "Algorithm", true, 1, 255, 0);
	loc = tdm__xml_opt(ctx, k, "Locator");
	key->locator = tdm__xml_text(ctx, loc, false);
	key->resource_record = tdm__xml_child_text(ctx, k, "ResourceRecord", false);
	key->ksk = tdm__xml_flag(ctx, k, "KSK");
	key->zsk = tdm__xml_flag(ctx, k, "ZSK");
	key->publish = tdm__xml_flag(ctx, k, "Publish");
	key->deactivate = tdm__xml_flag(ctx, k, "Deactivate");
	key->cds = tdm__xml_flag(ctx, k, "CDS");
	key->cdnskey = tdm__xml_flag(ctx, k, "CDNSKEY");
	if (ctx->rc != 0)
		return;
	if (key->locator != NULL) {
		for (const char *p = key->locator; *p; p++) {
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
			      (*p >= 'A' && *p <= 'F'))) {
				tdm__xml_fail(ctx, TDM_ESCHEMA, loc, "not a hex CKA_ID: \"%.60s\"",
					      key->locator);
				return;
			}
		}
	}
	if (!(key->flags & 0x0100))
		tdm__xml_fail(ctx, TDM_ESCHEMA, k,
			      "Flags %u lack the Zone Key bit (256)", key->flags);
	else if ((key->ksk || key->zsk) && key->locator == NULL)
		tdm__xml_fail(ctx, TDM_ESCHEMA, k, "element Locator missing (a signing key "
			      "needs its CKA_ID)");
	else if (key->locator == NULL && key->resource_record == NULL)
		tdm__xml_fail(ctx, TDM_ESCHEMA, k, "element Locator or ResourceRecord missing");
}

/* <Keys><CDS> and <Keys><CDNSKEY>: see the top of the file. */
static void read_cds(struct tdm__xml_ctx *ctx, xmlNodePtr ks, struct tdm_signconf *sc)
{
	static const char *const cds_allowed[] = { "DigestType", "Delete", NULL };
	static const char *const cdnskey_allowed[] = { "Delete", NULL };
	xmlNodePtr c = tdm__xml_opt(ctx, ks, "CDS");
	xmlNodePtr n = tdm__xml_opt(ctx, ks, "CDNSKEY");
	if (c != NULL) {
		sc->cds_managed = true;
		tdm__xml_allow(ctx, c, cds_allowed);
		sc->cds_delete = tdm__xml_flag(ctx, c, "Delete");
		for (xmlNodePtr d = tdm__xml_first(c); d && ctx->rc == 0; d = tdm__xml_next(d)) {
			char *s;
			uint8_t v;
			if (!tdm__xml_is(d, "DigestType"))
				continue;
			s = tdm__xml_text(ctx, d, false);
			v = (uint8_t)tdm__xml_uint_str(ctx, d, "", s, 1, 255);
			free(s);
			if (ctx->rc != 0)
				break;
			for (size_t i = 0; i < sc->n_cds_digests; i++)
				if (sc->cds_digests[i] == v)
					tdm__xml_fail(ctx, TDM_ESCHEMA, d, "digest type %u repeated", v);
			if (ctx->rc == 0 && sc->n_cds_digests == sizeof sc->cds_digests)
				tdm__xml_fail(ctx, TDM_ESCHEMA, d, "at most %zu digest types",
					      sizeof sc->cds_digests);
			if (ctx->rc == 0)
				sc->cds_digests[sc->n_cds_digests++] = v;
		}
	}
	if (n != NULL) {
		sc->cdnskey_managed = true;
		tdm__xml_allow(ctx, n, cdnskey_allowed);
		sc->cdnskey_delete = tdm__xml_flag(ctx, n, "Delete");
	}
}

/* The per-key marks against the sections, once every <Key> is read. */
static void check_cds(struct tdm__xml_ctx *ctx, xmlNodePtr ks, struct tdm_signconf *sc)
{
	size_t i = 0;
	bool any_cds = false, any_cdnskey = false;
	for (xmlNodePtr n = tdm__xml_first(ks); n && ctx->rc == 0; n = tdm__xml_next(n)) {
		const struct tdm_signconf_key *k;
		if (!tdm__xml_is(n, "Key"))
			continue;
		k = &sc->keys[i++];
		any_cds |= k->cds;
		any_cdnskey |= k->cdnskey;
		if (k->cds && !sc->cds_managed)
			tdm__xml_fail(ctx, TDM_ESCHEMA, n, "<CDS/> without a <Keys><CDS> section");
		else if (k->cds && sc->n_cds_digests == 0)
			tdm__xml_fail(ctx, TDM_ESCHEMA, n, "<CDS/> but <Keys><CDS> has no "
				      "<DigestType>");
		else if (k->cdnskey && !sc->cdnskey_managed)
			tdm__xml_fail(ctx, TDM_ESCHEMA, n, "<CDNSKEY/> without a <Keys><CDNSKEY> "
				      "section");
	}
	/* RFC 8078 §4: the delete record is the RRset's only record. */
	if (ctx->rc == 0 && sc->cds_delete && any_cds)
		tdm__xml_fail(ctx, TDM_ESCHEMA, tdm__xml_opt(ctx, ks, "CDS"),
			      "<Delete/> and keys marked <CDS/>: the delete form stands alone");
	if (ctx->rc == 0 && sc->cdnskey_delete && any_cdnskey)
		tdm__xml_fail(ctx, TDM_ESCHEMA, tdm__xml_opt(ctx, ks, "CDNSKEY"),
			      "<Delete/> and keys marked <CDNSKEY/>: the delete form stands alone");
}

static void read_keys(struct tdm__xml_ctx *ctx, xmlNodePtr ks, struct tdm_signconf *sc)
{
	static const char *const allowed[] = { "TTL", "Key", "SignatureResourceRecord",
		"CDS", "CDNSKEY", NULL };
	size_t nk, nr;
	tdm__xml_allow(ctx, ks, allowed);
	sc->dnskey_ttl = tdm__xml_duration(ctx, ks, "TTL", true, 0);
	read_cds(ctx, ks, sc);
	nk = tdm__xml_count(ks, "Key");
	nr = tdm__xml_count(ks, "SignatureResourceRecord");
	if (ctx->rc != 0)
		return;
	if (nk > 0)
		sc->keys = tdm_calloc(nk, sizeof *sc->keys);
	if (nr > 0)
		sc->signature_rrs = tdm_calloc(nr, sizeof *sc->signature_rrs);
	for (xmlNodePtr n = tdm__xml_first(ks); n && ctx->rc == 0; n = tdm__xml_next(n)) {
		if (tdm__xml_is(n, "Key"))
			read_key(ctx, n, &sc->keys[sc->n_keys++]);
		else if (tdm__xml_is(n, "SignatureResourceRecord"))
			sc->signature_rrs[sc->n_signature_rrs++] = tdm__xml_text(ctx, n, false);
	}
	/* A failed text read leaves a NULL slot; keep the count honest for free(). */
	if (ctx->rc == 0)
		check_cds(ctx, ks, sc);
}

static void read_soa(struct tdm__xml_ctx *ctx, xmlNodePtr soa, struct tdm_signconf *sc)
{
	static const char *const allowed[] = { "TTL", "Minimum", "Serial", NULL };
	xmlNodePtr sn;
	char *s;
	tdm__xml_allow(ctx, soa, allowed);
	sc->soa_ttl = tdm__xml_duration(ctx, soa, "TTL", true, 0);
	sc->soa_minimum = tdm__xml_duration(ctx, soa, "Minimum", true, 0);
	sn = tdm__xml_req(ctx, soa, "Serial");
	s = tdm__xml_text(ctx, sn, false);
	if (s != NULL && tdm_serial_policy_parse(s, &sc->serial) != 0)
		tdm__xml_fail(ctx, TDM_ESCHEMA, sn, "serial must be counter, datecounter, "
			      "unixtime or keep, not \"%.40s\"", s);
	free(s);
}

/*- public ------------------------------------------------------------------*/

static int load(const char *name, const void *buf, size_t len,
		struct tdm_signconf **out, struct tdm_err *err)
{
	static const char *const root_allowed[] = { "Zone", NULL };
	static const char *const zone_allowed[] = { "Passthrough", "Signatures",
		"Denial", "Keys", "SOA", NULL };
	static const char *const zone_attrs[] = { "name", NULL };
	struct tdm__xml_ctx ctx;
	struct tdm_signconf *sc;
	xmlDocPtr doc;
	xmlNodePtr root, zone, node;
	int rc;

	rc = tdm__xml_open(name, buf, len, "SignerConfiguration", &doc, err);
	if (rc != 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	sc = tdm_calloc(1, sizeof *sc);
	sc->path = tdm_strdup(name);
	sc->nsec3_ttl = -1;
	tdm__xml_ctx_init(&ctx, name, err);
	tdm__xml_allow(&ctx, root, root_allowed);
	zone = tdm__xml_req(&ctx, root, "Zone");
	tdm__xml_allow_attrs(&ctx, zone, zone_attrs);
	sc->zone = tdm__xml_attr(&ctx, zone, "name", true);
	tdm__xml_allow(&ctx, zone, zone_allowed);
	sc->passthrough = tdm__xml_flag(&ctx, zone, "Passthrough");
	if ((node = tdm__xml_req(&ctx, zone, "Signatures")) != NULL)
		read_signatures(&ctx, node, sc);
	if ((node = tdm__xml_req(&ctx, zone, "Denial")) != NULL)
		read_denial(&ctx, node, sc);
	if ((node = tdm__xml_req(&ctx, zone, "Keys")) != NULL)
		read_keys(&ctx, node, sc);
	if ((node = tdm__xml_req(&ctx, zone, "SOA")) != NULL)
		read_soa(&ctx, node, sc);
	rc = ctx.rc;
	if (rc == 0)
		rc = tdm__xml_validate(doc, name, "signconf.rng", err);
	xmlFreeDoc(doc);
	if (rc != 0) {
		tdm_signconf_free(sc);
		return rc;
	}
	*out = sc;
	return 0;
}

int tdm_signconf_load(const char *path, struct tdm_signconf **out,
		      struct tdm_err *err)
{
	return load(path, NULL, 0, out, err);
}

int tdm_signconf_load_buffer(const char *name, const void *buf, size_t len,
			     struct tdm_signconf **out, struct tdm_err *err)
{
	return load(name, buf ? buf : "", len, out, err);
}

void tdm_signconf_free(struct tdm_signconf *sc)
{
	if (sc == NULL)
		return;
	for (size_t i = 0; i < sc->n_keys; i++) {
		free(sc->keys[i].locator);
		free(sc->keys[i].resource_record);
	}
	free(sc->keys);
	tdm__strv_free(sc->signature_rrs, sc->n_signature_rrs);
	free(sc->nsec3_salt);
	free(sc->zone);
	free(sc->path);
	free(sc);
}
