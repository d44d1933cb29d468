/*
 * Zone rules: which names are authoritative, which are zone cuts, which
 * are glue or occluded (RFC 4035 §2.2: "the NS RRset ... at a delegation
 * point ... and glue ... MUST NOT be signed"; RFC 6672 §2.4 for names below
 * a DNAME).  In canonical order every descendant of a name follows it
 * directly, so one pass with "the current cut" classifies the whole zone.
 *
 * Also refuses zones a signer must not sign: no SOA at the apex, more
 * than one SOA, CNAME next to other data (RFC 2181 §10.1), DS where there
 * is no delegation (RFC 4035 §2.4).
 */
#include "signer/zone.h"

#include "signer/name.h"
#include "signer/rdata.h"

static bool has_prefix(const uint8_t *nb, const uint8_t *key, size_t kl)
{
	return signer__nb_keylen(nb) > kl && memcmp(signer__nb_key(nb), key, kl) == 0;
}

static int zone_error(struct tdm_err *err, const struct signer__node *n, const char *what)
{
	char ob[SIGNER_NAME_STR_MAX];
	signer__name_format(signer__nb_wire(n->name), ob);
	return tdm_err_fail(err, TDM_EZONE, "%s: %s", ob, what);
}

int signer__rules_apply(struct signer_zone *z, struct tdm_err *err)
{
	const uint8_t *cut = NULL;
	size_t cut_len = 0;
	struct signer__rrset *soa;
	char ab[SIGNER_NAME_STR_MAX];

	if (z->n_nodes == 0 || !(z->nodes[0].flags & SIGNER_N_APEX)) {
		signer__name_format(z->apex, ab);
		return tdm_err_fail(err, TDM_EZONE, "%s: no records at the zone apex (no SOA)", ab);
	}
	soa = signer__node_set(z, 0, T_SOA);
	if (soa == NULL)
		return zone_error(err, &z->nodes[0], "no SOA record at the zone apex");
	if (soa->n_rr != 1)
		return zone_error(err, &z->nodes[0], "more than one SOA record");
	if (signer__node_set(z, 0, T_DNAME) != NULL) {
		cut = signer__nb_key(z->nodes[0].name);
		cut_len = signer__nb_keylen(z->nodes[0].name);
	}
	for (size_t i = 0; i < z->n_nodes; i++) {
		struct signer__node *n = &z->nodes[i];
		bool ns, ds;
		if (cut != NULL && has_prefix(n->name, cut, cut_len)) {
			n->flags |= SIGNER_N_OCCLUDED;
			continue;
		}
		cut = NULL;
		if (n->n_sets > 1 && signer__node_set(z, i, T_CNAME) != NULL)
			return zone_error(err, n, "CNAME and other data (RFC 2181 §10.1)");
		if (i > 0 && signer__node_set(z, i, T_SOA) != NULL)
			return zone_error(err, n, "SOA record below the zone apex and not below a zone cut");
		if (i == 0)
			continue;
		ns = signer__node_set(z, i, T_NS) != NULL;
		ds = signer__node_set(z, i, T_DS) != NULL;
		if (ns) {
			n->flags |= SIGNER_N_DELEG;
			if (ds)
				n->flags |= SIGNER_N_DS;
			cut = signer__nb_key(n->name);
			cut_len = signer__nb_keylen(n->name);
		} else {
			if (ds)
				return zone_error(err, n, "DS record without a delegation (no NS)");
			if (signer__node_set(z, i, T_DNAME) != NULL) {
				cut = signer__nb_key(n->name);
				cut_len = signer__nb_keylen(n->name);
			}
		}
	}
	return 0;
}

bool signer__set_is_signed(const struct signer_zone *z, const struct signer__rrset *s)
{
	uint16_t f = z->nodes[s->node].flags;
	if (f & SIGNER_N_OCCLUDED)
		return false;
	if (s->type == T_RRSIG)
		return false;
	if (f & SIGNER_N_DELEG)
		return s->type == T_DS;
	return true;
}

size_t signer__node_types(const struct signer_zone *z, size_t n, uint16_t *out)
{
	const struct signer__node *node = &z->nodes[n];
	size_t k = 0;
	for (size_t i = 0; i < node->n_sets; i++) {
		uint16_t t = z->sets[node->first_set + i].type;
		if ((node->flags & SIGNER_N_DELEG) && t != T_NS && t != T_DS)
			continue;
		if (t == T_RRSIG || t == T_NSEC || t == T_NSEC3)
			continue;
		out[k++] = t;
	}
	return k;
}
