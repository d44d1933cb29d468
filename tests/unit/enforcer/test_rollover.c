/*
 * Rollovers over simulated years: the enforcer driven at its own next due
 * times, the oracle of sim.c checking at every step and between steps that
 * every cache combination validates, and the cadence counted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enforcer_tests.h"
#include "sim.h"

#define YEARS2 (730 * (int64_t)SIM_DAY)

static const struct sim_policy_opts base = {
	.ksk_alg = 13, .zsk_alg = 13, .ksk_life = "P180D", .zsk_life = "P30D",
	.purge = "P14D",
};

static struct sim *sim_new(const struct sim_policy_opts *o, const char *zone)
{
	struct sim *s = calloc(1, sizeof *s);
	ck_assert(s != NULL);
	sim_init(s, o, zone);
	return s;
}

static void sim_delete(struct sim *s)
{
	sim_free(s);
	free(s);
}

/* Keys created for a role at exact multiples of the lifetime from t0. */
static void assert_cadence(const struct sim_zone *z, enum tdm_key_role role, int expect,
			   int64_t lifetime)
{
	ck_assert_msg(z->created[role] == expect, "%s: %d keys created, expected %d",
		      tdm_key_role_name(role), z->created[role], expect);
	for (int i = 0; i < expect && i < 64; i++)
		ck_assert_msg(z->created_at[role][i] == SIM_T0 + i * lifetime,
			      "%s key %d created at %+.3f d, expected %+d d", tdm_key_role_name(role),
			      i, (z->created_at[role][i] - SIM_T0) / 86400.0,
			      (int)(i * lifetime / SIM_DAY));
}

/* Every key that was ever created signs at some point, and at the end only
 * one key per role is active and the others are gone or going. */
static void assert_end_state(const struct sim *s, const struct sim_zone *z, int n_roles)
{
	int active = 0;
	for (size_t i = 0; i < z->n_keys; i++)
		if (z->keys[i].goal == ENFORCER_GOAL_ACTIVE)
			active++;
	ck_assert_int_eq(active, n_roles);
	ck_assert_msg(z->max_keys <= (size_t)(3 * n_roles + 1), "up to %zu keys at once",
		      z->max_keys);
	(void)s;
}

START_TEST(zsk30_ksk180_two_years)
{
	struct sim *s = sim_new(&base, "example.test");
	struct sim_zone *z = &s->zones[0];
	sim_run(s, SIM_T0 + YEARS2);
	/* Day 0, 30, ..., 720: 25 ZSKs; day 0, 180, ..., 720: 5 KSKs. */
	assert_cadence(z, TDM_ROLE_ZSK, 25, 30 * SIM_DAY);
	assert_cadence(z, TDM_ROLE_KSK, 5, 180 * SIM_DAY);
	assert_end_state(s, z, 2);
	/* Old keys were purged along the way (Purge P14D). */
	ck_assert_int_ge(z->purged, 24 + 4 - 2);
	/* The parent saw a DS for each KSK. */
	ck_assert_int_ge((int)z->n_dsv, 1 + 4 * 1);
	fprintf(stderr, "zsk30/ksk180: %d steps, %d oracle checks, %zu versions, %zu DS versions\n",
		s->steps, s->oracle_checks, z->n_vers, z->n_dsv);
	sim_delete(s);
}
END_TEST

START_TEST(csk_two_years)
{
	struct sim_policy_opts o = { .csk_alg = 13, .csk_life = "P90D", .purge = "P14D" };
	struct sim *s = sim_new(&o, "csk.test");
	struct sim_zone *z = &s->zones[0];
	sim_run(s, SIM_T0 + YEARS2);
	assert_cadence(z, TDM_ROLE_CSK, 9, 90 * SIM_DAY);
	assert_end_state(s, z, 1);
	sim_delete(s);
}
END_TEST

START_TEST(roll_types_one_year)
{
	/* Every roll type keeps the zone valid and rolls on time. */
	static const char *const ksk_rolls[] = { "KskDoubleRRset", "KskDoubleDS", "KskDoubleSignature" };
	static const char *const zsk_rolls[] = { "ZskDoubleSignature", "ZskPrePublication", "ZskDoubleRRsig" };
	static const char *const csk_rolls[] = { "CskDoubleRRset", "CskSingleSignature", "CskDoubleDS",
						 "CskDoubleSignature", "CskPrePublication" };
	int i = _i;
	struct sim_policy_opts o = base;
	struct sim *s;
	if (i < 3) {
		o.ksk_roll = ksk_rolls[i];
		o.zsk_roll = zsk_rolls[i];
	} else {
		o = (struct sim_policy_opts){ .csk_alg = 13, .csk_life = "P60D", .purge = "P7D",
					      .csk_roll = csk_rolls[i - 3] };
	}
	s = sim_new(&o, "types.test");
	sim_run(s, SIM_T0 + 365 * (int64_t)SIM_DAY);
	if (i < 3) {
		assert_cadence(&s->zones[0], TDM_ROLE_ZSK, 13, 30 * SIM_DAY);
		assert_cadence(&s->zones[0], TDM_ROLE_KSK, 3, 180 * SIM_DAY);
		assert_end_state(s, &s->zones[0], 2);
	} else {
		assert_cadence(&s->zones[0], TDM_ROLE_CSK, 7, 60 * SIM_DAY);
		assert_end_state(s, &s->zones[0], 1);
	}
	sim_delete(s);
}
END_TEST

START_TEST(algorithm_rollover_8_to_13)
{
	struct sim_policy_opts rsa = base, ec = base;
	struct sim *s;
	struct sim_zone *z;
	rsa.ksk_alg = 8;
	rsa.ksk_bits = 2048;
	rsa.zsk_alg = 8;
	rsa.zsk_bits = 1024;
	s = sim_new(&rsa, "algroll.test");
	z = &s->zones[0];
	sim_run(s, SIM_T0 + 100 * (int64_t)SIM_DAY);
	ck_assert_int_eq(z->created[TDM_ROLE_ZSK], 4);
	sim_set_policy(s, &ec);
	sim_run(s, SIM_T0 + YEARS2);
	/* Every alg-8 key retired and purged; the parent holds only alg 13. */
	for (size_t i = 0; i < z->n_keys; i++)
		if (z->keys[i].algorithm != 13)
			fprintf(stderr, "%s alg %u goal %d DS %d/%d DNSKEY %d RRSIG-DNSKEY %d RRSIG %d\n",
				z->keys[i].id, z->keys[i].algorithm, z->keys[i].goal,
				z->keys[i].rec[0].state, z->keys[i].ds, z->keys[i].rec[1].state,
				z->keys[i].rec[2].state, z->keys[i].rec[3].state);
	for (size_t i = 0; i < z->n_keys; i++)
		ck_assert_msg(z->keys[i].algorithm == 13, "key %s of algorithm %u left", z->keys[i].id,
			      z->keys[i].algorithm);
	for (size_t i = 0; i < s->n_keys; i++)
		if (z->parent_ds & (1ull << i))
			ck_assert_int_eq(s->keys[i].algorithm, 13);
	ck_assert(z->parent_ds != 0);
	assert_end_state(s, z, 2);
	sim_delete(s);
}
END_TEST

START_TEST(emergency_zsk_rollover)
{
	struct sim *s = sim_new(&base, "emergency.test");
	struct sim_zone *z = &s->zones[0];
	sim_run(s, SIM_T0 + 10 * (int64_t)SIM_DAY);
	ck_assert_int_eq(z->created[TDM_ROLE_ZSK], 1);
	sim_roll(s, z, TDM_ROLE_ZSK);
	sim_run(s, SIM_T0 + 95 * (int64_t)SIM_DAY);
	/* Day 0, the forced roll on day 10, then every 30 days from there. */
	ck_assert_int_eq(z->created[TDM_ROLE_ZSK], 4);
	ck_assert_int_eq(z->created_at[TDM_ROLE_ZSK][1], SIM_T0 + 10 * SIM_DAY);
	ck_assert_int_eq(z->created_at[TDM_ROLE_ZSK][2], SIM_T0 + 40 * SIM_DAY);
	ck_assert_int_eq(z->created_at[TDM_ROLE_ZSK][3], SIM_T0 + 70 * SIM_DAY);
	/* A forced KSK roll in the middle of a ZSK roll. */
	sim_roll(s, z, TDM_ROLE_KSK);
	sim_run(s, SIM_T0 + 200 * (int64_t)SIM_DAY);
	ck_assert_int_eq(z->created_at[TDM_ROLE_KSK][1], SIM_T0 + 95 * SIM_DAY);
	assert_end_state(s, z, 2);
	sim_delete(s);
}
END_TEST

START_TEST(manual_rollover_waits)
{
	struct sim_policy_opts o = base;
	struct sim *s;
	struct sim_zone *z;
	o.zsk_manual = true;
	o.ksk_manual = true;
	s = sim_new(&o, "manual.test");
	z = &s->zones[0];
	sim_run(s, SIM_T0 + 400 * (int64_t)SIM_DAY);
	ck_assert_int_eq(z->created[TDM_ROLE_ZSK], 1);
	ck_assert_int_eq(z->created[TDM_ROLE_KSK], 1);
	sim_roll(s, z, TDM_ROLE_ZSK);
	sim_run(s, SIM_T0 + 500 * (int64_t)SIM_DAY);
	ck_assert_int_eq(z->created[TDM_ROLE_ZSK], 2);
	ck_assert_int_eq(z->created_at[TDM_ROLE_ZSK][1], SIM_T0 + 400 * SIM_DAY);
	ck_assert_int_eq(z->created[TDM_ROLE_KSK], 1);
	assert_end_state(s, z, 2);
	sim_delete(s);
}
END_TEST

/* Standby: the promoted ZSK starts signing at the very moment of the roll,
 * because its DNSKEY is already everywhere. */
static int64_t standby_roll_sign_at[64];
static int n_standby_rolls;

static void standby_hook(struct sim *s, struct sim_zone *z, const struct enforcer_plan *p)
{
	(void)z;
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct enforcer_action *a = &p->actions[i];
		if (a->type == ENFORCER_ACT_KEY_GOAL && a->goal == ENFORCER_GOAL_ACTIVE &&
		    a->role == TDM_ROLE_ZSK) {
			bool signs = false;
			for (size_t j = 0; j < p->n_actions; j++)
				if (p->actions[j].type == ENFORCER_ACT_RECORD &&
				    strcmp(p->actions[j].key_id, a->key_id) == 0 &&
				    p->actions[j].record == ENFORCER_RRSIG &&
				    p->actions[j].to == ENFORCER_RUMOURED)
					signs = true;
			ck_assert_msg(signs, "promoted standby %s does not sign at once", a->key_id);
			standby_roll_sign_at[n_standby_rolls++ & 63] = s->now;
		}
	}
}

START_TEST(standby_keys)
{
	struct sim_policy_opts o = base;
	struct sim *s;
	struct sim_zone *z;
	o.zsk_standby = 1;
	o.ksk_standby = 1;
	s = sim_new(&o, "standby.test");
	z = &s->zones[0];
	s->on_plan = standby_hook;
	n_standby_rolls = 0;
	sim_run(s, SIM_T0 + 365 * (int64_t)SIM_DAY);
	/* 12 ZSK rolls, each by promotion at the lifetime. */
	ck_assert_int_eq(n_standby_rolls, 12);
	for (int i = 0; i < 12; i++)
		ck_assert_int_eq(standby_roll_sign_at[i], SIM_T0 + (i + 1) * 30 * SIM_DAY);
	ck_assert_int_eq(sim_count(z, TDM_ROLE_ZSK, ENFORCER_GOAL_STANDBY), 1);
	ck_assert_int_eq(sim_count(z, TDM_ROLE_KSK, ENFORCER_GOAL_STANDBY), 1);
	/* Standby keys are published, not signing. */
	for (size_t i = 0; i < z->n_keys; i++) {
		const struct enforcer_key *k = &z->keys[i];
		if (k->goal != ENFORCER_GOAL_STANDBY)
			continue;
		ck_assert_int_eq(k->rec[ENFORCER_DNSKEY].state, ENFORCER_OMNIPRESENT);
		ck_assert_int_eq(k->rec[ENFORCER_RRSIG].state, ENFORCER_HIDDEN);
		ck_assert_int_eq(k->rec[ENFORCER_RRSIG_DNSKEY].state, ENFORCER_HIDDEN);
		if (k->role == TDM_ROLE_KSK)
			ck_assert_int_eq(k->rec[ENFORCER_DS].state, ENFORCER_OMNIPRESENT);
	}
	sim_delete(s);
}
END_TEST

START_TEST(shared_keys_two_zones)
{
	struct sim_policy_opts o = base;
	struct sim *s;
	struct sim_zone *a, *b;
	o.share = true;
	s = sim_new(&o, "a.test");
	sim_run(s, SIM_T0 + 5 * (int64_t)SIM_DAY);
	b = sim_add_zone(s, "b.test");
	sim_run(s, SIM_T0 + 400 * (int64_t)SIM_DAY);
	a = &s->zones[0];
	/* One set of keys for both zones: 14 ZSKs and 3 KSKs made in all. */
	ck_assert_int_eq(s->key_new_actions[TDM_ROLE_ZSK], 14);
	ck_assert_int_eq(s->key_new_actions[TDM_ROLE_KSK], 3);
	assert_cadence(a, TDM_ROLE_ZSK, 14, 30 * SIM_DAY);
	/* b.test made none of its own: it adopted every key a.test made. */
	ck_assert_int_eq(b->created[TDM_ROLE_ZSK], 14);
	ck_assert_int_eq(b->created[TDM_ROLE_KSK], 3);
	ck_assert_int_eq(b->adopted, 14 + 3);
	/* Both zones sign with the same active keys. */
	for (size_t i = 0; i < a->n_keys; i++) {
		bool found = false;
		if (a->keys[i].goal != ENFORCER_GOAL_ACTIVE)
			continue;
		for (size_t j = 0; j < b->n_keys; j++)
			if (strcmp(a->keys[i].id, b->keys[j].id) == 0 &&
			    b->keys[j].goal == ENFORCER_GOAL_ACTIVE)
				found = true;
		ck_assert_msg(found, "active key %s of a.test not active in b.test", a->keys[i].id);
	}
	assert_end_state(s, a, 2);
	assert_end_state(s, b, 2);
	sim_delete(s);
}
END_TEST

/* RFC 5011: a new KSK's DS goes to the parent only after the 30-day add
 * hold-down, so trust anchors that follow RFC 5011 have taken it. */
static int64_t ksk_created[16], ksk_submitted[16];

static void rfc5011_hook(struct sim *s, struct sim_zone *z, const struct enforcer_plan *p)
{
	(void)z;
	for (size_t i = 0; i < p->n_actions; i++) {
		const struct enforcer_action *a = &p->actions[i];
		if (a->type == ENFORCER_ACT_DS_SUBMIT) {
			int n = atoi(a->key_id + 1);
			ck_assert(n < 16);
			ksk_submitted[n] = s->now;
			ksk_created[n] = s->keys[n].created;
		}
	}
}

START_TEST(rfc5011_hold_down)
{
	struct sim_policy_opts o = base;
	struct sim *s;
	o.rfc5011 = true;
	o.zsk_life = "P90D";
	s = sim_new(&o, "rfc5011.test");
	memset(ksk_submitted, 0, sizeof ksk_submitted);
	s->on_plan = rfc5011_hook;
	sim_run(s, SIM_T0 + 365 * (int64_t)SIM_DAY);
	for (int i = 0; i < 16; i++)
		if (ksk_submitted[i])
			ck_assert_msg(ksk_submitted[i] - ksk_created[i] >= 30 * SIM_DAY,
				      "KSK k%02d: DS submitted %.2f days after creation", i,
				      (ksk_submitted[i] - ksk_created[i]) / 86400.0);
	ck_assert_int_eq(s->zones[0].created[TDM_ROLE_KSK], 3);
	sim_delete(s);
}
END_TEST

/* CDS/CDNSKEY: while a DS change is pending the plan names the keys whose
 * DS the parent should hold. */
static int cds_seen, cds_two;

static void cds_hook(struct sim *s, struct sim_zone *z, const struct enforcer_plan *p)
{
	(void)s;
	(void)z;
	if (!p->cds_publish)
		return;
	cds_seen++;
	ck_assert(!p->cds_delete);
	for (size_t i = 0; i < p->n_cds; i++) {
		const struct enforcer_key *k = &p->keys[p->cds[i]];
		ck_assert(k->role != TDM_ROLE_ZSK);
		ck_assert(k->rec[ENFORCER_DS].state == ENFORCER_RUMOURED ||
			  k->rec[ENFORCER_DS].state == ENFORCER_OMNIPRESENT);
	}
	if (p->n_cds >= 2)
		cds_two++;
}

START_TEST(cds_publication)
{
	struct sim_policy_opts o = base;
	struct sim *s;
	o.cds = true;
	o.ksk_roll = "KskDoubleRRset";
	s = sim_new(&o, "cds.test");
	s->on_plan = cds_hook;
	cds_seen = cds_two = 0;
	sim_run(s, SIM_T0 + 200 * (int64_t)SIM_DAY);
	ck_assert_int_gt(cds_seen, 0);
	/* Double RRset: both DS wanted during the KSK roll. */
	ck_assert_int_gt(cds_two, 0);
	sim_delete(s);
}
END_TEST

START_TEST(jitter_spreads_rollovers)
{
	struct sim *s = sim_new(&base, "jitter.test");
	struct sim_zone *z = &s->zones[0];
	z->roll_jitter = enforcer_roll_jitter(z->name, 2 * SIM_DAY);
	ck_assert_int_gt(z->roll_jitter, 0);
	sim_run(s, SIM_T0 + 100 * (int64_t)SIM_DAY);
	ck_assert_int_eq(z->created_at[TDM_ROLE_ZSK][1], SIM_T0 + 30 * SIM_DAY - z->roll_jitter);
	ck_assert_int_eq(z->created_at[TDM_ROLE_ZSK][2],
			 SIM_T0 + 60 * SIM_DAY - 2 * z->roll_jitter);
	sim_delete(s);
}
END_TEST

TCase *tcase_rollover(void)
{
	TCase *tc = tcase_create("rollover");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, zsk30_ksk180_two_years);
	tcase_add_test(tc, csk_two_years);
	tcase_add_loop_test(tc, roll_types_one_year, 0, 8);
	tcase_add_test(tc, algorithm_rollover_8_to_13);
	tcase_add_test(tc, emergency_zsk_rollover);
	tcase_add_test(tc, manual_rollover_waits);
	tcase_add_test(tc, standby_keys);
	tcase_add_test(tc, shared_keys_two_zones);
	tcase_add_test(tc, rfc5011_hold_down);
	tcase_add_test(tc, cds_publication);
	tcase_add_test(tc, jitter_spreads_rollovers);
	return tc;
}
