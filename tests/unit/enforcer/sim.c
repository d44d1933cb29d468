/*
 * The simulated world of sim.h: daemon, parent, zone versions and the
 * validator oracle.
 */
#include "sim.h"

#include <check.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*- kasp.xml -*/

struct sb {
	char *s;
	size_t len, cap;
};

static void sb_put(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_put(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + (size_t)n;
		b->s = realloc(b->s, b->cap);
	}
	b->len += (size_t)n;
}

static void key_xml(struct sb *b, const char *elem, int alg, int bits, const char *life,
		    const char *rolltype_elem, const char *roll, int standby, bool manual,
		    bool rfc5011)
{
	sb_put(b, "<%s>", elem);
	if (bits)
		sb_put(b, "<Algorithm length=\"%d\">%d</Algorithm>", bits, alg);
	else
		sb_put(b, "<Algorithm>%d</Algorithm>", alg);
	sb_put(b, "<Lifetime>%s</Lifetime><Repository>SoftHSM</Repository>", life);
	if (standby)
		sb_put(b, "<Standby>%d</Standby>", standby);
	if (manual)
		sb_put(b, "<ManualRollover/>");
	if (roll)
		sb_put(b, "<%s>%s</%s>", rolltype_elem, roll, rolltype_elem);
	if (rfc5011)
		sb_put(b, "<RFC5011/>");
	sb_put(b, "</%s>\n", elem);
}

char *sim_kasp_xml(const struct sim_policy_opts *o)
{
	struct sb b = { .s = malloc(256), .cap = 256 };
	sb_put(&b,
	       "<KASP><Policy name=\"p\"><Description>sim</Description>\n"
	       "<Signatures><Resign>PT2H</Resign><Refresh>P3D</Refresh>"
	       "<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>"
	       "<Jitter>PT12H</Jitter><InceptionOffset>PT3600S</InceptionOffset>"
	       "<MaxZoneTTL>P1D</MaxZoneTTL></Signatures>\n"
	       "<Denial><NSEC3><Resalt>P100D</Resalt><Hash><Algorithm>1</Algorithm>"
	       "<Iterations>0</Iterations><Salt length=\"0\"/></Hash></NSEC3></Denial>\n"
	       "<Keys><TTL>PT3600S</TTL><RetireSafety>PT3600S</RetireSafety>"
	       "<PublishSafety>PT3600S</PublishSafety>%s",
	       o->share ? "<ShareKeys/>" : "");
	if (o->purge)
		sb_put(&b, "<Purge>%s</Purge>", o->purge);
	sb_put(&b, "\n");
	if (o->ksk_alg)
		key_xml(&b, "KSK", o->ksk_alg, o->ksk_bits, o->ksk_life, "KskRollType", o->ksk_roll,
			o->ksk_standby, o->ksk_manual, o->rfc5011);
	if (o->zsk_alg)
		key_xml(&b, "ZSK", o->zsk_alg, o->zsk_bits, o->zsk_life, "ZskRollType", o->zsk_roll,
			o->zsk_standby, o->zsk_manual, false);
	if (o->csk_alg)
		key_xml(&b, "CSK", o->csk_alg, o->csk_bits, o->csk_life, "CskRollType", o->csk_roll,
			0, false, o->rfc5011);
	sb_put(&b,
	       "</Keys>\n"
	       "<Zone><PropagationDelay>PT12H</PropagationDelay><SOA><TTL>PT3600S</TTL>"
	       "<Minimum>PT300S</Minimum><Serial>unixtime</Serial></SOA></Zone>\n"
	       "<Parent><PropagationDelay>PT2H</PropagationDelay><DS><TTL>PT3600S</TTL></DS>"
	       "<SOA><TTL>PT172800S</TTL><Minimum>PT10800S</Minimum></SOA>"
	       "<RegistrationDelay>PT1H</RegistrationDelay>%s</Parent>\n"
	       "</Policy></KASP>\n",
	       o->cds ? "<PublishCDS><DigestType>2</DigestType></PublishCDS><PublishCDNSKEY/>" : "");
	return b.s;
}

/*- setup -*/

void sim_set_policy(struct sim *s, const struct sim_policy_opts *o)
{
	struct tdm_err err = { { 0 } };
	char *xml = sim_kasp_xml(o);
	struct tdm_kasp *kasp = NULL;
	int rc = tdm_kasp_load_buffer("sim-kasp.xml", xml, strlen(xml), &kasp, &err);
	ck_assert_msg(rc == 0, "kasp: %s\n%s", err.msg, xml);
	free(xml);
	if (s->kasp) {
		enforcer_policy_close(&s->pol);
		tdm_kasp_free(s->kasp);
	}
	s->kasp = kasp;
	rc = enforcer_policy_init(&s->pol, &kasp->policies[0], &err);
	ck_assert_msg(rc == 0, "policy: %s", err.msg);
}

struct sim_zone *sim_add_zone(struct sim *s, const char *name)
{
	struct sim_zone *z;
	ck_assert(s->n_zones < SIM_MAX_ZONES);
	z = &s->zones[s->n_zones++];
	memset(z, 0, sizeof *z);
	snprintf(z->name, sizeof z->name, "%s", name);
	z->present = true;
	/* Before the enforcer's first signconf the zone is unsigned, and the
	 * parent has no DS. */
	z->vers[z->n_vers++] = (struct sim_ver){ s->now, 0, 0, 0 };
	z->dsv[z->n_dsv++] = (struct sim_dsver){ s->now, 0 };
	z->first_secure = -1;
	z->last_step = s->now;
	return z;
}

void sim_init(struct sim *s, const struct sim_policy_opts *o, const char *zone)
{
	memset(s, 0, sizeof *s);
	s->now = SIM_T0;
	sim_set_policy(s, o);
	if (zone)
		sim_add_zone(s, zone);
}

void sim_free(struct sim *s)
{
	if (s->kasp) {
		enforcer_policy_close(&s->pol);
		tdm_kasp_free(s->kasp);
	}
	s->kasp = NULL;
}

void sim_roll(struct sim *s, struct sim_zone *z, enum tdm_key_role role)
{
	z->roll_requested[role] = s->now;
}

static int key_index(const struct sim *s, const char *id)
{
	for (size_t i = 0; i < s->n_keys; i++)
		if (strcmp(s->keys[i].id, id) == 0)
			return (int)i;
	ck_abort_msg("unknown key %s", id);
	return -1;
}

const struct sim_key *sim_key_of(const struct sim *s, const struct enforcer_key *k)
{
	return &s->keys[key_index(s, k->id)];
}

int sim_count(const struct sim_zone *z, enum tdm_key_role role, enum enforcer_goal g)
{
	int n = 0;
	for (size_t i = 0; i < z->n_keys; i++)
		if (z->keys[i].role == role && z->keys[i].goal == g)
			n++;
	return n;
}

/*- parent -*/

static void pev_add(struct sim *s, int64_t t, int zone, int key, int kind)
{
	ck_assert(s->n_pev < sizeof s->pev / sizeof s->pev[0]);
	s->pev[s->n_pev++] = (struct sim_pev){ t, zone, key, kind };
}

static struct enforcer_key *zone_key(struct sim_zone *z, const char *id)
{
	for (size_t i = 0; i < z->n_keys; i++)
		if (strcmp(z->keys[i].id, id) == 0)
			return &z->keys[i];
	return NULL;
}

static void parent_events(struct sim *s)
{
	const struct tdm_policy *pol = s->pol.conf;
	bool again = true;
	while (again) {
		again = false;
		for (size_t i = 0; i < s->n_pev; i++) {
			struct sim_pev e = s->pev[i];
			struct sim_zone *z = &s->zones[e.zone];
			struct enforcer_key *k;
			struct tdm_err err = { { 0 } };
			if (e.t > s->now)
				continue;
			ck_assert_msg(e.t == s->now, "parent event missed");
			s->pev[i] = s->pev[--s->n_pev];
			again = true;
			k = zone_key(z, s->keys[e.key].id);
			switch (e.kind) {
			case 1:
				z->parent_ds |= 1ull << e.key;
				pev_add(s, s->now + pol->parent_propagation_delay, e.zone, e.key, 2);
				break;
			case 2:
				if (k)
					ck_assert_msg(enforcer_key_ds_seen(k, s->now, &err) == 0, "%s", err.msg);
				break;
			case 3:
				z->parent_ds &= ~(1ull << e.key);
				pev_add(s, s->now + pol->parent_propagation_delay, e.zone, e.key, 4);
				break;
			case 4:
				if (k)
					ck_assert_msg(enforcer_key_ds_gone(k, s->now, &err) == 0, "%s", err.msg);
				break;
			}
			break;
		}
	}
	for (size_t zi = 0; zi < s->n_zones; zi++) {
		struct sim_zone *z = &s->zones[zi];
		if (z->dsv[z->n_dsv - 1].ds == z->parent_ds)
			continue;
		ck_assert(z->n_dsv < sizeof z->dsv / sizeof z->dsv[0]);
		if (z->dsv[z->n_dsv - 1].t == s->now)
			z->dsv[z->n_dsv - 1].ds = z->parent_ds;
		else
			z->dsv[z->n_dsv++] = (struct sim_dsver){ s->now, z->parent_ds };
		if (z->parent_ds && z->first_secure < 0)
			z->first_secure = s->now;
	}
}

/*- the oracle -*/

static bool possible(int64_t t, int64_t next_t, bool last, int64_t prop_ttl, int64_t q)
{
	return t <= q && (last || next_t + prop_ttl > q);
}

static void oracle(struct sim *s, struct sim_zone *z, int64_t q)
{
	const struct tdm_policy *pol = s->pol.conf;
	int64_t key_pt = pol->zone_propagation_delay + pol->keys_ttl;
	int64_t sig_pt = pol->zone_propagation_delay + pol->max_zone_ttl;
	int64_t ds_pt = pol->parent_propagation_delay + pol->parent_ds_ttl;
	int64_t neg_pt = pol->parent_propagation_delay +
			 (pol->parent_soa_ttl < pol->parent_soa_minimum ? pol->parent_soa_ttl
									: pol->parent_soa_minimum);
	s->oracle_checks++;
	for (size_t d = 0; d < z->n_dsv; d++) {
		bool dlast = d + 1 == z->n_dsv;
		uint64_t ds = z->dsv[d].ds;
		if (!possible(z->dsv[d].t, dlast ? 0 : z->dsv[d + 1].t, dlast, ds ? ds_pt : neg_pt, q))
			continue;
		if (ds == 0) {
			ck_assert_msg(z->first_secure < 0 || z->first_secure > q ||
					      z->dsv[d].t < z->first_secure,
				      "zone %s at %+.2f d: the parent's DS RRset may be empty again",
				      z->name, (q - SIM_T0) / 86400.0);
			continue;
		}
		for (size_t k = 0; k < z->n_vers; k++) {
			bool klast = k + 1 == z->n_vers;
			const struct sim_ver *kv = &z->vers[k];
			if (!possible(kv->t, klast ? 0 : z->vers[k + 1].t, klast, key_pt, q))
				continue;
			for (size_t v = 0; v < z->n_vers; v++) {
				bool vlast = v + 1 == z->n_vers;
				const struct sim_ver *sv = &z->vers[v];
				if (!possible(sv->t, vlast ? 0 : z->vers[v + 1].t, vlast, sig_pt, q))
					continue;
				for (int a = 0; a < 256; a++) {
					bool has_ds = false, has_key = false, chain = false;
					bool ksig = false, zsig = false;
					for (size_t i = 0; i < s->n_keys; i++) {
						uint64_t bit = 1ull << i;
						if (s->keys[i].algorithm != a)
							continue;
						has_ds |= (ds & bit) != 0;
						has_key |= (kv->pub & bit) != 0;
						if ((ds & bit) && (kv->pub & bit) && (kv->ksign & bit))
							chain = true;
						if ((kv->pub & bit) && (kv->ksign & bit))
							ksig = true;
						if ((kv->pub & bit) && (sv->zsign & bit))
							zsig = true;
					}
					if (!has_ds && !has_key)
						continue;
					/* ck_assert costs a write(2) when it passes: test first. */
					if (!(!has_ds || chain))
						ck_abort_msg(
						      "zone %s at %+.2f d: DS of algorithm %d leads to no "
						      "signed DNSKEY RRset (DS %" PRIx64 " @%+.2f, DNSKEY %" PRIx64
						      "/%" PRIx64 " @%+.2f)",
						      z->name, (q - SIM_T0) / 86400.0, a, ds,
						      (z->dsv[d].t - SIM_T0) / 86400.0, kv->pub, kv->ksign,
						      (kv->t - SIM_T0) / 86400.0);
					if (!(!has_key || (ksig && zsig)))
						ck_abort_msg(
						      "zone %s at %+.2f d: algorithm %d of the DNSKEY RRset "
						      "does not sign (DNSKEY %" PRIx64 "/%" PRIx64
						      " @%+.2f, data %" PRIx64 " @%+.2f)",
						      z->name, (q - SIM_T0) / 86400.0, a, kv->pub, kv->ksign,
						      (kv->t - SIM_T0) / 86400.0, sv->zsign,
						      (sv->t - SIM_T0) / 86400.0);
				}
			}
		}
	}
}

static void check_between(struct sim *s, struct sim_zone *z, int64_t from, int64_t to)
{
	struct enforcer_zone ez = { .name = z->name, .policy = &s->pol, .keys = z->keys,
				    .n_keys = z->n_keys };
	int64_t mid = from + (to - from) / 2;
	ck_assert_msg(enforcer_zone_is_safe(&ez, from), "zone %s: unsafe at %+.2f d", z->name,
		      (from - SIM_T0) / 86400.0);
	ck_assert_msg(enforcer_zone_is_safe(&ez, mid), "zone %s: unsafe at %+.2f d", z->name,
		      (mid - SIM_T0) / 86400.0);
	if (to > from + 1)
		ck_assert_msg(enforcer_zone_is_safe(&ez, to - 1), "zone %s: unsafe at %+.2f d",
			      z->name, (to - 1 - SIM_T0) / 86400.0);
	oracle(s, z, mid);
	if (to > from + 1)
		oracle(s, z, to - 1);
}

/*- signconf -*/

static void publish(struct sim *s, struct sim_zone *z)
{
	struct enforcer_signconf_params prm = { .zone = z->name, .policy = s->pol.conf,
						.keys = z->keys, .n_keys = z->n_keys,
						.nsec3_salt = "" };
	struct tdm_err err = { { 0 } };
	struct tdm_signconf *sc = NULL;
	struct sim_ver v = { .t = s->now };
	char *text;
	size_t len;
	size_t listed = 0;

	ck_assert_msg(enforcer_signconf_render(&prm, &text, &len, &err) == 0, "%s", err.msg);
	ck_assert_msg(tdm_signconf_load_buffer("sim-signconf.xml", text, len, &sc, &err) == 0,
		      "signconf does not load back: %s\n%s", err.msg, text);
	free(text);
	z->signconfs++;
	ck_assert_str_eq(sc->zone, z->name);
	for (size_t i = 0; i < z->n_keys; i++) {
		const struct enforcer_key *k = &z->keys[i];
		bool pub = k->rec[ENFORCER_DNSKEY].state == ENFORCER_RUMOURED ||
			   k->rec[ENFORCER_DNSKEY].state == ENFORCER_OMNIPRESENT;
		bool ksk = k->role != TDM_ROLE_ZSK &&
			   (k->rec[ENFORCER_RRSIG_DNSKEY].state == ENFORCER_RUMOURED ||
			    k->rec[ENFORCER_RRSIG_DNSKEY].state == ENFORCER_OMNIPRESENT);
		bool zsk = k->role != TDM_ROLE_KSK &&
			   (k->rec[ENFORCER_RRSIG].state == ENFORCER_RUMOURED ||
			    k->rec[ENFORCER_RRSIG].state == ENFORCER_OMNIPRESENT);
		const struct tdm_signconf_key *found = NULL;
		for (size_t j = 0; j < sc->n_keys; j++)
			if (sc->keys[j].locator && strcmp(sc->keys[j].locator, k->locator) == 0)
				found = &sc->keys[j];
		if (!pub && !ksk && !zsk) {
			ck_assert_msg(found == NULL, "key %s listed without a role", k->id);
			continue;
		}
		ck_assert_msg(found != NULL, "key %s missing from the signconf", k->id);
		listed++;
		ck_assert_uint_eq(found->flags, k->role == TDM_ROLE_ZSK ? 256 : 257);
		ck_assert_uint_eq(found->algorithm, k->algorithm);
		ck_assert_msg(found->publish == pub && found->ksk == ksk && found->zsk == zsk,
			      "key %s: signconf flags publish %d ksk %d zsk %d, states say %d %d %d",
			      k->id, found->publish, found->ksk, found->zsk, pub, ksk, zsk);
	}
	ck_assert_uint_eq(listed, sc->n_keys);
	/* The published version is what the signer got from the file. */
	for (size_t j = 0; j < sc->n_keys; j++) {
		uint64_t bit = 0;
		for (size_t i = 0; i < s->n_keys; i++)
			if (strcmp(s->keys[i].locator, sc->keys[j].locator) == 0)
				bit = 1ull << i;
		ck_assert(bit != 0);
		if (sc->keys[j].publish)
			v.pub |= bit;
		if (sc->keys[j].ksk)
			v.ksign |= bit;
		if (sc->keys[j].zsk)
			v.zsign |= bit;
	}
	tdm_signconf_free(sc);
	{
		struct sim_ver *last = &z->vers[z->n_vers - 1];
		if (last->pub == v.pub && last->ksign == v.ksign && last->zsign == v.zsign)
			return;
		ck_assert(z->n_vers < sizeof z->vers / sizeof z->vers[0]);
		if (last->t == v.t)
			*last = v;
		else
			z->vers[z->n_vers++] = v;
	}
}

/*- the daemon -*/

static struct enforcer_key *new_key(struct sim *s, struct sim_zone *z,
				    const struct enforcer_action *a)
{
	struct sim_key *sk;
	struct enforcer_key *k;
	size_t i = s->n_keys;
	ck_assert(s->n_keys < SIM_MAX_KEYS && z->n_keys < SIM_MAX_KEYS);
	sk = &s->keys[s->n_keys++];
	snprintf(sk->id, sizeof sk->id, "k%02zu", i);
	snprintf(sk->locator, sizeof sk->locator, "%08zx", i + 0xa0);
	sk->role = a->role;
	sk->algorithm = a->algorithm;
	sk->bits = a->bits;
	sk->created = s->now;
	sk->shared = a->shared;
	k = &z->keys[z->n_keys++];
	enforcer_key_init(k, sk->id, sk->locator, a->role, a->algorithm, a->bits,
			  (uint16_t)(1000 + i), a->goal, a->shared, s->now);
	if (a->shared) {
		s->pool[s->n_pool] = *k;
		s->n_pool++;
	}
	z->created[a->role]++;
	z->created_at[a->role][(z->created[a->role] - 1) & 63] = s->now;
	s->key_new_actions[a->role]++;
	return k;
}

static void apply(struct sim *s, struct sim_zone *z, const struct enforcer_plan *p)
{
	const struct tdm_policy *pol = s->pol.conf;
	int zi = (int)(z - s->zones);
	struct tdm_err err = { { 0 } };

	ck_assert(p->n_keys <= SIM_MAX_KEYS);
	memcpy(z->keys, p->keys, p->n_keys * sizeof *p->keys);
	z->n_keys = p->n_keys;
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct enforcer_action *a = &p->actions[i];
		struct enforcer_key *k = a->key_id ? zone_key(z, a->key_id) : NULL;
		switch (a->type) {
		case ENFORCER_ACT_KEY_NEW:
			new_key(s, z, a);
			break;
		case ENFORCER_ACT_KEY_ADOPT:
			z->created[a->role]++;
			z->created_at[a->role][(z->created[a->role] - 1) & 63] = s->now;
			z->adopted++;
			break;
		case ENFORCER_ACT_DS_SUBMIT:
			ck_assert(k != NULL);
			ck_assert_msg(enforcer_key_ds_submit(k, s->now, &err) == 0, "%s", err.msg);
			pev_add(s, s->now + pol->parent_registration_delay, zi, key_index(s, k->id), 1);
			break;
		case ENFORCER_ACT_DS_RETRACT:
			ck_assert(k != NULL);
			ck_assert_msg(enforcer_key_ds_retract(k, s->now, &err) == 0, "%s", err.msg);
			pev_add(s, s->now + pol->parent_registration_delay, zi, key_index(s, k->id), 3);
			break;
		case ENFORCER_ACT_KEY_PURGE:
			z->purged++;
			break;
		default:
			break;
		}
	}
	if (z->n_keys > z->max_keys)
		z->max_keys = z->n_keys;
}

static int64_t step_zone(struct sim *s, struct sim_zone *z)
{
	struct enforcer_plan p;
	struct tdm_err err = { { 0 } };
	int64_t next = INT64_MAX;
	bool changed = false;

	for (int round = 0; round < 4; round++) {
		struct enforcer_zone ez = {
			.name = z->name, .policy = &s->pol, .keys = z->keys, .n_keys = z->n_keys,
			.shared_pool = s->pool, .n_shared_pool = s->n_pool,
			.roll_jitter = z->roll_jitter,
		};
		bool again;
		memcpy(ez.roll_requested, z->roll_requested, sizeof ez.roll_requested);
		ck_assert_msg(enforcer_zone_update(&ez, s->now, &p, &err) == 0, "%s", err.msg);
		ck_assert_msg(p.next > s->now, "zone %s: next %" PRId64 " not after now", z->name,
			      p.next - s->now);
		apply(s, z, &p);
		if (s->on_plan)
			s->on_plan(s, z, &p);
		changed = changed || p.changed || p.n_actions > 0;
		again = p.keys_needed;
		next = p.next;
		enforcer_plan_clear(&p);
		if (!again)
			break;
		ck_assert_msg(round < 3, "zone %s: keys still needed after 3 rounds", z->name);
	}
	if (changed || z->signconfs == 0)
		publish(s, z);
	return next;
}

void sim_run(struct sim *s, int64_t until)
{
	while (s->now <= until) {
		int64_t next = INT64_MAX;
		parent_events(s);
		for (size_t zi = 0; zi < s->n_zones; zi++) {
			int64_t n = step_zone(s, &s->zones[zi]);
			if (n < next)
				next = n;
		}
		parent_events(s); /* versions of the DS RRset changed at this instant */
		for (size_t zi = 0; zi < s->n_zones; zi++)
			oracle(s, &s->zones[zi], s->now);
		for (size_t i = 0; i < s->n_pev; i++)
			if (s->pev[i].t < next)
				next = s->pev[i].t;
		s->steps++;
		if (next > until) {
			for (size_t zi = 0; zi < s->n_zones; zi++)
				check_between(s, &s->zones[zi], s->now, until);
			s->now = until + 1;
			break;
		}
		for (size_t zi = 0; zi < s->n_zones; zi++)
			check_between(s, &s->zones[zi], s->now, next);
		s->now = next;
	}
	s->now--;
}
