/*
 * kasp.xml: Key and Signature Policies in OpenDNSSEC 2.x layout, plus
 * Tandem's CDS/CDNSKEY publication switches in <Parent>.  Exports
 * tdm_kasp_load(), tdm_kasp_load_buffer(), tdm_kasp_free(),
 * tdm_kasp_policy() and the role / roll type names.
 *
 * The loader reads every element with precise messages, then validates the
 * document against schemas/kasp.rng.  Relations between fields (Refresh vs
 * Validity, algorithm vs key length, repositories) are not load errors:
 * they are tdm_kasp_check()'s business (confcheck.c), as in OpenDNSSEC
 * where ods-kaspcheck, not the parser, reports them.
 */
#include "common/conf.h"
#include "common/xml.h"

#include <stdlib.h>
#include <string.h>

/*- names ------------------------------------------------------------------*/

const char *tdm_key_role_name(enum tdm_key_role role)
{
	switch (role) {
	case TDM_ROLE_KSK: return "KSK";
	case TDM_ROLE_ZSK: return "ZSK";
	case TDM_ROLE_CSK: return "CSK";
	}
	return "?";
}

static const struct {
	const char *name;
	enum tdm_key_role role;
	unsigned minimize;
} roll_types[] = {
	[TDM_ROLL_KSK_DOUBLE_RRSET] = { "KskDoubleRRset", TDM_ROLE_KSK, 0 },
	[TDM_ROLL_KSK_DOUBLE_DS] = { "KskDoubleDS", TDM_ROLE_KSK, TDM_MINIMIZE_DNSKEY },
	[TDM_ROLL_KSK_DOUBLE_SIGNATURE] = { "KskDoubleSignature", TDM_ROLE_KSK, TDM_MINIMIZE_DS },
	[TDM_ROLL_ZSK_DOUBLE_SIGNATURE] = { "ZskDoubleSignature", TDM_ROLE_ZSK, 0 },
	[TDM_ROLL_ZSK_PRE_PUBLICATION] = { "ZskPrePublication", TDM_ROLE_ZSK, TDM_MINIMIZE_RRSIG },
	[TDM_ROLL_ZSK_DOUBLE_RRSIG] = { "ZskDoubleRRsig", TDM_ROLE_ZSK, TDM_MINIMIZE_DNSKEY },
	[TDM_ROLL_CSK_DOUBLE_RRSET] = { "CskDoubleRRset", TDM_ROLE_CSK, 0 },
	[TDM_ROLL_CSK_SINGLE_SIGNATURE] = { "CskSingleSignature", TDM_ROLE_CSK, TDM_MINIMIZE_RRSIG },
	[TDM_ROLL_CSK_DOUBLE_DS] = { "CskDoubleDS", TDM_ROLE_CSK, TDM_MINIMIZE_DNSKEY },
	[TDM_ROLL_CSK_DOUBLE_SIGNATURE] = { "CskDoubleSignature", TDM_ROLE_CSK, TDM_MINIMIZE_DS },
	[TDM_ROLL_CSK_PRE_PUBLICATION] = { "CskPrePublication", TDM_ROLE_CSK,
					   TDM_MINIMIZE_DS | TDM_MINIMIZE_RRSIG },
};
#define N_ROLL_TYPES (sizeof roll_types / sizeof roll_types[0])

unsigned tdm_roll_type_minimize(enum tdm_roll_type t)
{
	return (size_t)t < N_ROLL_TYPES ? roll_types[t].minimize : 0;
}

const char *tdm_roll_type_name(enum tdm_roll_type t)
{
	return (size_t)t < N_ROLL_TYPES ? roll_types[t].name : "?";
}

static enum tdm_roll_type default_roll_type(enum tdm_key_role role)
{
	switch (role) {
	case TDM_ROLE_KSK: return TDM_ROLL_KSK_DOUBLE_SIGNATURE;
	case TDM_ROLE_ZSK: return TDM_ROLL_ZSK_PRE_PUBLICATION;
	default: return TDM_ROLL_CSK_PRE_PUBLICATION;
	}
}

/* Key sizes that follow from the algorithm (RFC 6605, RFC 8080). */
static uint32_t implied_bits(uint8_t algorithm)
{
	switch (algorithm) {
	case 13: return 256;  /* ECDSAP256SHA256 */
	case 14: return 384;  /* ECDSAP384SHA384 */
	case 15: return 256;  /* ED25519 */
	case 16: return 456;  /* ED448 */
	default: return 0;
	}
}

/*- private: sections -------------------------------------------------------*/

static void read_signatures(struct tdm__xml_ctx *ctx, xmlNodePtr s, struct tdm_policy *p)
{
	static const char *const allowed[] = { "Resign", "Refresh", "Validity",
		"Jitter", "InceptionOffset", "MaxZoneTTL", NULL };
	static const char *const v_allowed[] = { "Default", "Denial", "Keyset", NULL };
	xmlNodePtr v;
	p->signatures_line = tdm__xml_line(s);
	tdm__xml_allow(ctx, s, allowed);
	p->resign = tdm__xml_duration(ctx, s, "Resign", true, 0);
	p->refresh = tdm__xml_duration(ctx, s, "Refresh", true, 0);
	v = tdm__xml_req(ctx, s, "Validity");
	tdm__xml_allow(ctx, v, v_allowed);
	p->validity_default = tdm__xml_duration(ctx, v, "Default", true, 0);
	p->validity_denial = tdm__xml_duration(ctx, v, "Denial", true, 0);
	p->validity_keyset = tdm__xml_duration(ctx, v, "Keyset", false, 0);
	p->jitter = tdm__xml_duration(ctx, s, "Jitter", true, 0);
	p->inception_offset = tdm__xml_duration(ctx, s, "InceptionOffset", true, 0);
	p->max_zone_ttl = tdm__xml_duration(ctx, s, "MaxZoneTTL", false, 0);
}

static void read_denial(struct tdm__xml_ctx *ctx, xmlNodePtr d, struct tdm_policy *p)
{
	static const char *const salt_attrs[] = { "length", NULL };
	struct tdm__denial dn;
	xmlNodePtr salt;
	char *len;
	p->denial_line = tdm__xml_line(d);
	salt = tdm__xml_denial(ctx, d, true, &dn);
	if (!dn.nsec3)
		return;
	p->nsec3 = true;
	p->nsec3_ttl = dn.ttl;
	p->nsec3_optout = dn.optout;
	p->nsec3_resalt = dn.resalt;
	p->nsec3_algorithm = dn.algorithm;
	p->nsec3_iterations = dn.iterations;
	if (salt == NULL)
		return;
	tdm__xml_allow_attrs(ctx, salt, salt_attrs);
	len = tdm__xml_attr(ctx, salt, "length", true);
	p->nsec3_salt_length = (uint8_t)tdm__xml_uint_str(ctx, salt, "attribute length: ",
							 len, 0, 255);
	free(len);
	if (ctx->rc == 0 && tdm__xml_first(salt) != NULL)
		tdm__xml_fail(ctx, TDM_ESCHEMA, salt, "must be empty (the enforcer makes the salt)");
	if (ctx->rc == 0) {
		char *t = tdm__xml_text(ctx, salt, true);
		if (t != NULL && *t != '\0')
			tdm__xml_fail(ctx, TDM_ESCHEMA, salt,
				      "must be empty (the enforcer makes the salt)");
		free(t);
	}
}

static void read_key(struct tdm__xml_ctx *ctx, xmlNodePtr k, enum tdm_key_role role,
		     struct tdm_policy_key *key)
{
	static const char *const ksk_allowed[] = { "Algorithm", "Lifetime", "Repository",
		"Standby", "ManualRollover", "KskRollType", "RFC5011", NULL };
	static const char *const zsk_allowed[] = { "Algorithm", "Lifetime", "Repository",
		"Standby", "ManualRollover", "ZskRollType", NULL };
	static const char *const csk_allowed[] = { "Algorithm", "Lifetime", "Repository",
		"Standby", "ManualRollover", "CskRollType", "RFC5011", NULL };
	static const char *const alg_attrs[] = { "length", NULL };
	const char *roll_elem = role == TDM_ROLE_KSK ? "KskRollType"
			      : role == TDM_ROLE_ZSK ? "ZskRollType" : "CskRollType";
	xmlNodePtr alg, rt;
	char *len, *s;

	key->role = role;
	key->line = tdm__xml_line(k);
	tdm__xml_allow(ctx, k, role == TDM_ROLE_KSK ? ksk_allowed
			       : role == TDM_ROLE_ZSK ? zsk_allowed : csk_allowed);
	key->algorithm = (uint8_t)tdm__xml_uint(ctx, k, "Algorithm", true, 1, 255, 0);
	alg = tdm__xml_opt(ctx, k, "Algorithm");
	tdm__xml_allow_attrs(ctx, alg, alg_attrs);
	len = tdm__xml_attr(ctx, alg, "length", false);
	if (len != NULL)
		key->bits = (uint32_t)tdm__xml_uint_str(ctx, alg, "attribute length: ", len,
							0, 65535);
	else
		key->bits = implied_bits(key->algorithm);
	free(len);
	key->lifetime = tdm__xml_duration(ctx, k, "Lifetime", true, 0);
	key->repository = tdm__xml_child_text(ctx, k, "Repository", true);
	key->standby = (uint32_t)tdm__xml_uint(ctx, k, "Standby", false, 0, 1000, 0);
	key->manual_rollover = tdm__xml_flag(ctx, k, "ManualRollover");
	key->rfc5011 = role != TDM_ROLE_ZSK && tdm__xml_flag(ctx, k, "RFC5011");
	key->roll_type = default_roll_type(role);
	rt = tdm__xml_opt(ctx, k, roll_elem);
	s = tdm__xml_text(ctx, rt, false);
	if (s != NULL) {
		size_t i;
		for (i = 0; i < N_ROLL_TYPES; i++)
			if (roll_types[i].role == role && strcmp(roll_types[i].name, s) == 0)
				break;
		if (i < N_ROLL_TYPES) {
			key->roll_type = (enum tdm_roll_type)i;
		} else {
			char choices[160] = "";
			for (size_t j = 0; j < N_ROLL_TYPES; j++) {
				if (roll_types[j].role != role)
					continue;
				if (choices[0])
					strcat(choices, ", ");
				strcat(choices, roll_types[j].name);
			}
			tdm__xml_fail(ctx, TDM_ESCHEMA, rt, "\"%.40s\" is not one of %s", s, choices);
		}
		free(s);
	}
	key->minimize = tdm_roll_type_minimize(key->roll_type);
}

static void read_keys(struct tdm__xml_ctx *ctx, xmlNodePtr ks, struct tdm_policy *p)
{
	static const char *const allowed[] = { "TTL", "RetireSafety", "PublishSafety",
		"ShareKeys", "Purge", "KSK", "ZSK", "CSK", NULL };
	size_t n;
	p->keys_line = tdm__xml_line(ks);
	tdm__xml_allow(ctx, ks, allowed);
	p->keys_ttl = tdm__xml_duration(ctx, ks, "TTL", true, 0);
	p->retire_safety = tdm__xml_duration(ctx, ks, "RetireSafety", true, 0);
	p->publish_safety = tdm__xml_duration(ctx, ks, "PublishSafety", true, 0);
	p->share_keys = tdm__xml_flag(ctx, ks, "ShareKeys");
	p->purge = tdm__xml_duration(ctx, ks, "Purge", false, -1);
	n = tdm__xml_count(ks, "KSK") + tdm__xml_count(ks, "ZSK") + tdm__xml_count(ks, "CSK");
	if (ctx->rc != 0 || n == 0)
		return;
	p->keys = tdm_calloc(n, sizeof *p->keys);
	for (xmlNodePtr k = tdm__xml_first(ks); k && ctx->rc == 0; k = tdm__xml_next(k)) {
		enum tdm_key_role role;
		if (tdm__xml_is(k, "KSK"))
			role = TDM_ROLE_KSK;
		else if (tdm__xml_is(k, "ZSK"))
			role = TDM_ROLE_ZSK;
		else if (tdm__xml_is(k, "CSK"))
			role = TDM_ROLE_CSK;
		else
			continue;
		read_key(ctx, k, role, &p->keys[p->n_keys++]);
	}
}

static void read_soa_timers(struct tdm__xml_ctx *ctx, xmlNodePtr soa,
			    int64_t *ttl, int64_t *minimum)
{
	*ttl = tdm__xml_duration(ctx, soa, "TTL", true, 0);
	*minimum = tdm__xml_duration(ctx, soa, "Minimum", true, 0);
}

static void read_zone(struct tdm__xml_ctx *ctx, xmlNodePtr z, struct tdm_policy *p)
{
	static const char *const allowed[] = { "PropagationDelay", "SOA", NULL };
	static const char *const soa_allowed[] = { "TTL", "Minimum", "Serial", NULL };
	xmlNodePtr soa, sn;
	char *s;
	p->zone_line = tdm__xml_line(z);
	tdm__xml_allow(ctx, z, allowed);
	p->zone_propagation_delay = tdm__xml_duration(ctx, z, "PropagationDelay", true, 0);
	soa = tdm__xml_req(ctx, z, "SOA");
	tdm__xml_allow(ctx, soa, soa_allowed);
	read_soa_timers(ctx, soa, &p->zone_soa_ttl, &p->zone_soa_minimum);
	sn = tdm__xml_req(ctx, soa, "Serial");
	s = tdm__xml_text(ctx, sn, false);
	if (s != NULL && tdm_serial_policy_parse(s, &p->zone_serial) != 0)
		tdm__xml_fail(ctx, TDM_ESCHEMA, sn, "serial must be counter, datecounter, "
			      "unixtime or keep, not \"%.40s\"", s);
	free(s);
}

static void read_parent(struct tdm__xml_ctx *ctx, xmlNodePtr par, struct tdm_policy *p)
{
	static const char *const allowed[] = { "PropagationDelay", "DS", "SOA",
		"RegistrationDelay", "PublishCDS", "PublishCDNSKEY", NULL };
	static const char *const ds_allowed[] = { "TTL", NULL };
	static const char *const soa_allowed[] = { "TTL", "Minimum", NULL };
	static const char *const cds_allowed[] = { "DigestType", NULL };
	xmlNodePtr ds, soa, cds;
	p->parent_line = tdm__xml_line(par);
	tdm__xml_allow(ctx, par, allowed);
	p->parent_propagation_delay = tdm__xml_duration(ctx, par, "PropagationDelay", true, 0);
	ds = tdm__xml_req(ctx, par, "DS");
	tdm__xml_allow(ctx, ds, ds_allowed);
	p->parent_ds_ttl = tdm__xml_duration(ctx, ds, "TTL", true, 0);
	soa = tdm__xml_req(ctx, par, "SOA");
	tdm__xml_allow(ctx, soa, soa_allowed);
	read_soa_timers(ctx, soa, &p->parent_soa_ttl, &p->parent_soa_minimum);
	p->parent_registration_delay = tdm__xml_duration(ctx, par, "RegistrationDelay",
							 false, 0);
	cds = tdm__xml_opt(ctx, par, "PublishCDS");
	if (cds != NULL) {
		p->publish_cds = true;
		tdm__xml_allow(ctx, cds, cds_allowed);
		for (xmlNodePtr d = tdm__xml_first(cds); d && ctx->rc == 0; d = tdm__xml_next(d)) {
			char *s = tdm__xml_text(ctx, d, false);
			uint8_t v = (uint8_t)tdm__xml_uint_str(ctx, d, "", s, 1, 255);
			free(s);
			if (ctx->rc != 0)
				break;
			for (size_t i = 0; i < p->n_cds_digests; i++)
				if (p->cds_digests[i] == v)
					tdm__xml_fail(ctx, TDM_ESCHEMA, d, "digest type %u repeated", v);
			if (ctx->rc == 0 && p->n_cds_digests == sizeof p->cds_digests)
				tdm__xml_fail(ctx, TDM_ESCHEMA, d, "at most %zu digest types",
					      sizeof p->cds_digests);
			if (ctx->rc == 0)
				p->cds_digests[p->n_cds_digests++] = v;
		}
		if (ctx->rc == 0 && p->n_cds_digests == 0)
			p->cds_digests[p->n_cds_digests++] = 2; /* SHA-256, RFC 4509 */
	}
	p->publish_cdnskey = tdm__xml_flag(ctx, par, "PublishCDNSKEY");
}

static void read_policy(struct tdm__xml_ctx *ctx, xmlNodePtr node, struct tdm_policy *p)
{
	static const char *const allowed[] = { "Passthrough", "Description", "Signatures",
		"Denial", "Keys", "Zone", "Parent", NULL };
	static const char *const attrs[] = { "name", NULL };
	xmlNodePtr n;
	p->line = tdm__xml_line(node);
	p->nsec3_ttl = -1;
	p->purge = -1;
	tdm__xml_allow_attrs(ctx, node, attrs);
	p->name = tdm__xml_attr(ctx, node, "name", true);
	tdm__xml_allow(ctx, node, allowed);
	p->passthrough = tdm__xml_flag(ctx, node, "Passthrough");
	if (ctx->rc == 0) {
		p->description = tdm__xml_text(ctx, tdm__xml_opt(ctx, node, "Description"), true);
		if (p->description == NULL && ctx->rc == 0)
			p->description = tdm_strdup("");
	}
	if ((n = tdm__xml_req(ctx, node, "Signatures")) != NULL)
		read_signatures(ctx, n, p);
	if ((n = tdm__xml_req(ctx, node, "Denial")) != NULL)
		read_denial(ctx, n, p);
	if ((n = tdm__xml_req(ctx, node, "Keys")) != NULL)
		read_keys(ctx, n, p);
	if ((n = tdm__xml_req(ctx, node, "Zone")) != NULL)
		read_zone(ctx, n, p);
	if ((n = tdm__xml_req(ctx, node, "Parent")) != NULL)
		read_parent(ctx, n, p);
}

/*- public ------------------------------------------------------------------*/

static void policy_clear(struct tdm_policy *p)
{
	for (size_t i = 0; i < p->n_keys; i++)
		free(p->keys[i].repository);
	free(p->keys);
	free(p->name);
	free(p->description);
}

static int load(const char *name, const void *buf, size_t len,
		struct tdm_kasp **out, struct tdm_err *err)
{
	static const char *const allowed[] = { "Policy", NULL };
	struct tdm__xml_ctx ctx;
	struct tdm_kasp *kasp;
	xmlDocPtr doc;
	xmlNodePtr root;
	size_t n;
	int rc;

	rc = tdm__xml_open(name, buf, len, "KASP", &doc, err);
	if (rc != 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	kasp = tdm_calloc(1, sizeof *kasp);
	kasp->path = tdm_strdup(name);
	tdm__xml_ctx_init(&ctx, name, err);
	tdm__xml_allow(&ctx, root, allowed);
	n = tdm__xml_count(root, "Policy");
	if (ctx.rc == 0 && n > 0) {
		kasp->policies = tdm_calloc(n, sizeof *kasp->policies);
		for (xmlNodePtr p = tdm__xml_first(root); p && ctx.rc == 0; p = tdm__xml_next(p)) {
			struct tdm_policy *pol = &kasp->policies[kasp->n_policies++];
			read_policy(&ctx, p, pol);
			for (size_t i = 0; ctx.rc == 0 && i + 1 < kasp->n_policies; i++)
				if (strcmp(kasp->policies[i].name, pol->name) == 0)
					tdm__xml_fail(&ctx, TDM_ESCHEMA, p,
						      "policy name used twice (first on line %ld)",
						      kasp->policies[i].line);
		}
	}
	rc = ctx.rc;
	if (rc == 0)
		rc = tdm__xml_validate(doc, name, "kasp.rng", err);
	xmlFreeDoc(doc);
	if (rc != 0) {
		tdm_kasp_free(kasp);
		return rc;
	}
	*out = kasp;
	return 0;
}

int tdm_kasp_load(const char *path, struct tdm_kasp **out, struct tdm_err *err)
{
	return load(path, NULL, 0, out, err);
}

int tdm_kasp_load_buffer(const char *name, const void *buf, size_t len,
			 struct tdm_kasp **out, struct tdm_err *err)
{
	return load(name, buf ? buf : "", len, out, err);
}

void tdm_kasp_free(struct tdm_kasp *kasp)
{
	if (kasp == NULL)
		return;
	for (size_t i = 0; i < kasp->n_policies; i++)
		policy_clear(&kasp->policies[i]);
	free(kasp->policies);
	free(kasp->path);
	free(kasp);
}

const struct tdm_policy *tdm_kasp_policy(const struct tdm_kasp *kasp, const char *name)
{
	for (size_t i = 0; i < kasp->n_policies; i++)
		if (strcmp(kasp->policies[i].name, name) == 0)
			return &kasp->policies[i];
	return NULL;
}
