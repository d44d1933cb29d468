/*
 * A kasp.xml policy (struct tdm_policy, loaded by tdm_kasp_load()) seen by
 * the enforcer: one slot per <KSK>/<ZSK>/<CSK>, the TTLs the waits use and
 * the checks OpenDNSSEC makes before it creates keys.  Also the rollover
 * jitter hash the leader uses.
 *
 * TTLs used for waiting (OpenDNSSEC enforcer.c getZoneTTL/track_ttls, made
 * time-independent by always taking the larger value):
 *   TTLkey = max(<Keys><TTL>, min(<Zone><SOA><TTL>, <Minimum>))
 *   TTLsig = max(MaxZoneTTL (1 day when absent), NSEC3 TTL, min(SOA TTL, Minimum))
 *   TTLds  = max(<Parent><DS><TTL>, min(<Parent><SOA><TTL>, <Minimum>))
 * The second terms cover negative answers cached before a record existed.
 */
#include "enforcer/enforcer_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_ZONE_TTL 86400
#define RFC5011_ADD_HOLD_DOWN (30 * 86400)

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static bool same_repo(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return true;
	return strcmp(a, b) == 0;
}

int enforcer_policy_init(struct enforcer_policy *p, const struct tdm_policy *conf,
			 struct tdm_err *err)
{
	int64_t intro_ksk, intro_zsk;

	memset(p, 0, sizeof *p);
	p->conf = conf;
	p->ttl_dnskey = max64(conf->keys_ttl, min64(conf->zone_soa_ttl, conf->zone_soa_minimum));
	p->ttl_rrsig = conf->max_zone_ttl > 0 ? conf->max_zone_ttl : DEFAULT_MAX_ZONE_TTL;
	if (conf->nsec3)
		p->ttl_rrsig = max64(p->ttl_rrsig, conf->nsec3_ttl >= 0 ? conf->nsec3_ttl
								 : conf->zone_soa_minimum);
	p->ttl_rrsig = max64(p->ttl_rrsig, min64(conf->zone_soa_ttl, conf->zone_soa_minimum));
	p->ttl_ds = max64(conf->parent_ds_ttl,
			  min64(conf->parent_soa_ttl, conf->parent_soa_minimum));
	p->zone_propagation = conf->zone_propagation_delay;
	p->parent_propagation = conf->parent_propagation_delay;
	p->registration_delay = conf->parent_registration_delay;
	p->publish_safety = conf->publish_safety;
	p->retire_safety = conf->retire_safety;
	p->purge = conf->purge;
	p->rfc5011_hold_down = RFC5011_ADD_HOLD_DOWN;
	p->share_keys = conf->share_keys;
	p->allow_unsigned = conf->n_keys == 0;
	p->publish_cds = conf->publish_cds;
	p->publish_cdnskey = conf->publish_cdnskey;

	/* The time a new key needs before its successor may follow it. */
	intro_zsk = p->ttl_dnskey + p->zone_propagation + p->publish_safety +
		    p->ttl_rrsig + p->zone_propagation;
	intro_ksk = p->ttl_dnskey + p->zone_propagation + p->publish_safety +
		    p->registration_delay + p->parent_propagation + p->ttl_ds;

	p->slots = conf->n_keys ? tdm_calloc(conf->n_keys, sizeof *p->slots) : NULL;
	for (size_t i = 0; i < conf->n_keys; i++) {
		const struct tdm_policy_key *pk = &conf->keys[i];
		struct enforcer_slot *s = &p->slots[i];
		int64_t need = 0;
		if (pk->role != TDM_ROLE_KSK && pk->role != TDM_ROLE_ZSK && pk->role != TDM_ROLE_CSK) {
			enforcer_policy_close(p);
			return tdm_err_fail(err, TDM_EINVAL, "policy %s: key at line %ld: unknown role %d",
					    conf->name, pk->line, (int)pk->role);
		}
		*s = (struct enforcer_slot){
			.conf = pk, .role = pk->role, .algorithm = pk->algorithm, .bits = pk->bits,
			.lifetime = pk->lifetime, .standby = pk->standby,
			.manual_rollover = pk->manual_rollover, .minimize = pk->minimize,
			.rfc5011 = pk->rfc5011 && enforcer__ksk_capable(pk->role),
		};
		if (enforcer__zsk_capable(pk->role))
			need = intro_zsk;
		if (enforcer__ksk_capable(pk->role))
			need = max64(need, intro_ksk);
		if (s->rfc5011)
			need = max64(need, p->rfc5011_hold_down);
		if (pk->lifetime <= need) {
			enforcer_policy_close(p);
			return tdm_err_fail(err, TDM_EINVAL,
					    "policy %s: %s at line %ld: <Lifetime> of %lld s is not longer "
					    "than the %lld s a new key needs to be introduced",
					    conf->name, tdm_key_role_name(pk->role), pk->line,
					    (long long)pk->lifetime, (long long)need);
		}
		for (size_t j = 0; j < i; j++) {
			const struct enforcer_slot *o = &p->slots[j];
			if (o->role == s->role && o->algorithm == s->algorithm &&
			    o->bits == s->bits &&
			    same_repo(o->conf->repository, pk->repository)) {
				long other = o->conf->line;
				enforcer_policy_close(p);
				return tdm_err_fail(err, TDM_EINVAL,
						    "policy %s: %s at line %ld: same role, algorithm, "
						    "length and repository as line %ld",
						    conf->name, tdm_key_role_name(pk->role), pk->line,
						    other);
			}
		}
		p->n_slots = i + 1;
	}
	return 0;
}

void enforcer_policy_close(struct enforcer_policy *p)
{
	free(p->slots);
	memset(p, 0, sizeof *p);
}

const struct enforcer_slot *enforcer_policy_slot(const struct enforcer_policy *p,
						 const struct enforcer_key *k)
{
	for (size_t i = 0; i < p->n_slots; i++) {
		const struct enforcer_slot *s = &p->slots[i];
		if (s->role == k->role && s->algorithm == k->algorithm &&
		    (s->bits == 0 || k->bits == 0 || s->bits == k->bits) &&
		    same_repo(s->conf->repository, k->repository))
			return s;
	}
	return NULL;
}

int64_t enforcer_roll_jitter(const char *zone, int64_t window)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a, 64 bits */
	size_t len = strlen(zone);
	if (window <= 0)
		return 0;
	if (len > 1 && zone[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)tolower((unsigned char)zone[i]);
		h *= 1099511628211ull;
	}
	return (int64_t)(h % (uint64_t)window);
}
