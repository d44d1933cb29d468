/*
 * The safety predicate on hand-made key states, the DS commands, policy
 * checks, jitter and the first plans of a new zone.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "enforcer_tests.h"
#include "sim.h"

#define H ENFORCER_HIDDEN
#define R ENFORCER_RUMOURED
#define O ENFORCER_OMNIPRESENT
#define U ENFORCER_UNRETENTIVE
#define T 1000000000
/* after the DS is asked for, only the lifetimes (or ds-seen) are due */
#define ENFORCER_NEVER_TEST (T + 30 * 86400)

static struct tdm_kasp *kasp;
static struct enforcer_policy pol;

static void setup(void)
{
	struct sim_policy_opts o = { .ksk_alg = 13, .zsk_alg = 13, .ksk_life = "P180D",
				     .zsk_life = "P30D", .purge = "P14D" };
	struct tdm_err err = { { 0 } };
	char *xml = sim_kasp_xml(&o);
	ck_assert_msg(tdm_kasp_load_buffer("t.xml", xml, strlen(xml), &kasp, &err) == 0, "%s",
		      err.msg);
	free(xml);
	ck_assert_msg(enforcer_policy_init(&pol, &kasp->policies[0], &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
	enforcer_policy_close(&pol);
	tdm_kasp_free(kasp);
}

/* A key with states {DS, DNSKEY, RRSIG-DNSKEY, RRSIG}, all changed at `since`. */
static struct enforcer_key mk(const char *id, enum tdm_key_role role, int alg, uint8_t ds,
			      uint8_t dnskey, uint8_t rrsig_dnskey, uint8_t rrsig, int64_t since)
{
	struct enforcer_key k;
	enforcer_key_init(&k, id, "01", role, (uint8_t)alg, 256, 1, ENFORCER_GOAL_ACTIVE, false,
			  since);
	k.rec[ENFORCER_DS] = (struct enforcer_rec){ ds, since };
	k.rec[ENFORCER_DNSKEY] = (struct enforcer_rec){ dnskey, since };
	k.rec[ENFORCER_RRSIG_DNSKEY] = (struct enforcer_rec){ rrsig_dnskey, since };
	k.rec[ENFORCER_RRSIG] = (struct enforcer_rec){ rrsig, since };
	if (ds == O || ds == R)
		k.ds = ENFORCER_DS_SUBMITTED;
	return k;
}

static bool safe(const struct enforcer_key *keys, size_t n, int64_t now)
{
	struct enforcer_zone z = { .name = "t.test", .policy = &pol, .keys = keys, .n_keys = n };
	return enforcer_zone_is_safe(&z, now);
}

static bool secure(const struct enforcer_key *keys, size_t n, int64_t now)
{
	struct enforcer_zone z = { .name = "t.test", .policy = &pol, .keys = keys, .n_keys = n };
	return enforcer_zone_is_secure(&z, now);
}

START_TEST(stable_zone_is_safe)
{
	struct enforcer_key k[2] = { mk("ksk", TDM_ROLE_KSK, 13, O, O, O, H, T),
				     mk("zsk", TDM_ROLE_ZSK, 13, H, O, H, O, T) };
	ck_assert(safe(k, 2, T));
	ck_assert(secure(k, 2, T));
	/* No DS anywhere: insecure, and that is safe. */
	k[0].rec[ENFORCER_DS].state = H;
	ck_assert(safe(k, 2, T));
	ck_assert(!secure(k, 2, T));
}
END_TEST

START_TEST(removing_a_used_dnskey_is_unsafe)
{
	struct enforcer_key k[2] = { mk("ksk", TDM_ROLE_KSK, 13, O, O, O, H, T),
				     mk("zsk", TDM_ROLE_ZSK, 13, H, U, H, O, T) };
	ck_assert(!safe(k, 2, T));
	/* The DS points to a key that does not sign the DNSKEY RRset. */
	k[1].rec[ENFORCER_DNSKEY].state = O;
	k[0].rec[ENFORCER_RRSIG_DNSKEY].state = U;
	ck_assert(!safe(k, 2, T));
	/* ... or to a DNSKEY that is not there yet. */
	k[0].rec[ENFORCER_RRSIG_DNSKEY].state = O;
	k[0].rec[ENFORCER_DNSKEY].state = R;
	ck_assert(!safe(k, 2, T));
}
END_TEST

START_TEST(swaps_are_safe_gaps_are_not)
{
	/* ZSK pre-publication: old signatures out, new in, at the same time. */
	struct enforcer_key k[3] = { mk("ksk", TDM_ROLE_KSK, 13, O, O, O, H, T),
				     mk("old", TDM_ROLE_ZSK, 13, H, O, H, U, T + 100),
				     mk("new", TDM_ROLE_ZSK, 13, H, O, H, R, T + 100) };
	ck_assert(safe(k, 3, T + 100));
	/* Overlap (new in before old out) is safe too. */
	k[2].rec[ENFORCER_RRSIG].since = T + 50;
	ck_assert(safe(k, 3, T + 100));
	/* A gap (old out before new in) is not. */
	k[2].rec[ENFORCER_RRSIG].since = T + 150;
	ck_assert(!safe(k, 3, T + 150));
	/* ... until its waits are over: then both records have settled. */
	ck_assert(safe(k, 3, T + 150 + 10 * 86400));
	/* Signing with a key whose DNSKEY is not published yet: unsafe. */
	k[2].rec[ENFORCER_RRSIG].since = T + 100;
	k[2].rec[ENFORCER_DNSKEY] = (struct enforcer_rec){ R, T + 100 };
	ck_assert(!safe(k, 3, T + 100));
}
END_TEST

START_TEST(ds_swap)
{
	struct enforcer_key k[3] = { mk("old", TDM_ROLE_KSK, 13, U, O, O, H, T),
				     mk("new", TDM_ROLE_KSK, 13, R, O, O, H, T),
				     mk("zsk", TDM_ROLE_ZSK, 13, H, O, H, O, T) };
	k[0].ds = ENFORCER_DS_RETRACT;
	ck_assert(safe(k, 3, T));
	ck_assert(secure(k, 3, T));
	/* Retracting the only DS before the new one is asked for: not secure. */
	k[1].rec[ENFORCER_DS].since = T + 10;
	ck_assert(safe(k, 3, T + 10));
	ck_assert(!secure(k, 3, T + 10));
	/* Withdrawing the old DNSKEY while its DS may be cached: unsafe. */
	k[1].rec[ENFORCER_DS].since = T;
	k[0].rec[ENFORCER_DNSKEY].state = U;
	k[0].rec[ENFORCER_RRSIG_DNSKEY].state = U;
	ck_assert(!safe(k, 3, T));
}
END_TEST

START_TEST(every_algorithm_signs)
{
	/* A DNSKEY of a new algorithm before its signatures are everywhere. */
	struct enforcer_key k[4] = { mk("k8", TDM_ROLE_KSK, 8, O, O, O, H, T),
				     mk("z8", TDM_ROLE_ZSK, 8, H, O, H, O, T),
				     mk("k13", TDM_ROLE_KSK, 13, H, R, R, H, T + 10),
				     mk("z13", TDM_ROLE_ZSK, 13, H, R, H, R, T + 10) };
	ck_assert(!safe(k, 4, T + 10));
	/* Signatures first (omnipresent), then the keys: safe. */
	k[3].rec[ENFORCER_RRSIG] = (struct enforcer_rec){ O, T };
	ck_assert(safe(k, 4, T + 10));
	/* Keys of the new algorithm that do not sign their DNSKEY RRset. */
	k[2].rec[ENFORCER_RRSIG_DNSKEY].state = H;
	ck_assert(!safe(k, 4, T + 10));
	/* The old algorithm's data signatures leave while its DNSKEY stays. */
	k[2].rec[ENFORCER_RRSIG_DNSKEY].state = R;
	k[1].rec[ENFORCER_RRSIG] = (struct enforcer_rec){ U, T + 10 };
	ck_assert(!safe(k, 4, T + 10));
}
END_TEST

START_TEST(ds_commands)
{
	struct enforcer_key k = mk("ksk", TDM_ROLE_KSK, 13, H, O, O, H, T);
	struct enforcer_key z = mk("zsk", TDM_ROLE_ZSK, 13, H, O, H, O, T);
	struct tdm_err err = { { 0 } };
	k.ds = ENFORCER_DS_UNSUBMITTED;
	ck_assert_int_eq(enforcer_key_ds_seen(&k, T, &err), TDM_EINVAL);
	ck_assert(strstr(err.msg, "unsubmitted") != NULL);
	ck_assert_int_eq(enforcer_key_ds_seen(&z, T, &err), TDM_EINVAL);
	k.ds = ENFORCER_DS_SUBMIT;
	ck_assert_int_eq(enforcer_key_ds_submit(&k, T + 1, &err), 0);
	ck_assert_int_eq(k.ds, ENFORCER_DS_SUBMITTED);
	ck_assert_int_eq(enforcer_key_ds_gone(&k, T, &err), TDM_EINVAL);
	ck_assert_int_eq(enforcer_key_ds_seen(&k, T + 2, &err), 0);
	ck_assert_int_eq(k.ds, ENFORCER_DS_SEEN);
	ck_assert_int_eq(k.ds_since, T + 2);
	k.ds = ENFORCER_DS_RETRACT;
	ck_assert_int_eq(enforcer_key_ds_retract(&k, T + 3, &err), 0);
	ck_assert_int_eq(enforcer_key_ds_gone(&k, T + 4, &err), 0);
	ck_assert_int_eq(k.ds, ENFORCER_DS_UNSUBMITTED);
}
END_TEST

START_TEST(policy_checks)
{
	struct sim_policy_opts o = { .ksk_alg = 13, .zsk_alg = 13, .ksk_life = "P180D",
				     .zsk_life = "PT20H" };
	struct tdm_err err = { { 0 } };
	struct tdm_kasp *kp = NULL;
	struct enforcer_policy p;
	char *xml = sim_kasp_xml(&o);
	ck_assert(tdm_kasp_load_buffer("short.xml", xml, strlen(xml), &kp, &err) == 0);
	free(xml);
	ck_assert_int_eq(enforcer_policy_init(&p, &kp->policies[0], &err), TDM_EINVAL);
	ck_assert_msg(strstr(err.msg, "Lifetime") != NULL, "%s", err.msg);
	tdm_kasp_free(kp);
	/* RFC 5011 needs a KSK lifetime above the 30-day hold-down. */
	o.zsk_life = "P30D";
	o.ksk_life = "P20D";
	o.rfc5011 = true;
	xml = sim_kasp_xml(&o);
	ck_assert(tdm_kasp_load_buffer("5011.xml", xml, strlen(xml), &kp, &err) == 0);
	free(xml);
	ck_assert_int_eq(enforcer_policy_init(&p, &kp->policies[0], &err), TDM_EINVAL);
	tdm_kasp_free(kp);
	/* Two key elements that a key could not be told apart by. */
	{
		struct tdm_policy dup = kasp->policies[0];
		struct tdm_policy_key keys[2] = { kasp->policies[0].keys[1], kasp->policies[0].keys[1] };
		keys[1].line = 99;
		dup.keys = keys;
		dup.n_keys = 2;
		ck_assert_int_eq(enforcer_policy_init(&p, &dup, &err), TDM_EINVAL);
		ck_assert_msg(strstr(err.msg, "line 99") != NULL, "%s", err.msg);
	}
	/* Derived TTLs of the test policy. */
	ck_assert_int_eq(pol.ttl_dnskey, 3600);
	ck_assert_int_eq(pol.ttl_rrsig, 86400);
	ck_assert_int_eq(pol.ttl_ds, 10800); /* the parent's negative TTL is longer */
	ck_assert_int_eq(pol.n_slots, 2);
	ck_assert_uint_eq(pol.slots[1].minimize, TDM_MINIMIZE_RRSIG);
}
END_TEST

START_TEST(jitter)
{
	int64_t a = enforcer_roll_jitter("Example.TEST.", 86400);
	ck_assert_int_eq(a, enforcer_roll_jitter("example.test", 86400));
	ck_assert(a >= 0 && a < 86400);
	ck_assert_int_eq(enforcer_roll_jitter("example.test", 0), 0);
	ck_assert_int_ne(a, enforcer_roll_jitter("example2.test", 86400));
}
END_TEST

START_TEST(first_plans)
{
	struct enforcer_zone z = { .name = "new.test", .policy = &pol };
	struct enforcer_plan p;
	struct tdm_err err = { { 0 } };
	struct enforcer_key keys[2];
	ck_assert_int_eq(enforcer_zone_update(&z, T, &p, &err), 0);
	ck_assert(p.keys_needed);
	ck_assert_uint_eq(p.n_actions, 2);
	ck_assert_int_eq(p.actions[0].type, ENFORCER_ACT_KEY_NEW);
	ck_assert_int_eq(p.actions[0].role, TDM_ROLE_KSK);
	ck_assert_int_eq(p.actions[1].role, TDM_ROLE_ZSK);
	ck_assert_int_eq(p.actions[1].algorithm, 13);
	ck_assert_str_eq(p.actions[1].repository, "SoftHSM");
	enforcer_plan_clear(&p);

	enforcer_key_init(&keys[0], "k", "0a", TDM_ROLE_KSK, 13, 256, 1, ENFORCER_GOAL_ACTIVE, false, T);
	enforcer_key_init(&keys[1], "z", "0b", TDM_ROLE_ZSK, 13, 256, 2, ENFORCER_GOAL_ACTIVE, false, T);
	z.keys = keys;
	z.n_keys = 2;
	ck_assert_int_eq(enforcer_zone_update(&z, T, &p, &err), 0);
	ck_assert(!p.keys_needed);
	ck_assert(p.changed);
	/* Everything but the DS is published at once; the DS waits. */
	ck_assert_int_eq(p.keys[0].rec[ENFORCER_DNSKEY].state, R);
	ck_assert_int_eq(p.keys[0].rec[ENFORCER_RRSIG_DNSKEY].state, R);
	ck_assert_int_eq(p.keys[0].rec[ENFORCER_DS].state, H);
	ck_assert_int_eq(p.keys[1].rec[ENFORCER_DNSKEY].state, R);
	ck_assert_int_eq(p.keys[1].rec[ENFORCER_RRSIG].state, R);
	/* Next: the DNSKEY TTL + zone propagation + publish safety. */
	ck_assert_int_eq(p.next, T + 3600 + 43200 + 3600);
	/* Calling again at the same time changes nothing. */
	memcpy(keys, p.keys, sizeof keys);
	enforcer_plan_clear(&p);
	ck_assert_int_eq(enforcer_zone_update(&z, T, &p, &err), 0);
	ck_assert(!p.changed);
	ck_assert_uint_eq(p.n_actions, 0);
	enforcer_plan_clear(&p);
	/* At the due time the DNSKEYs settle; the DS waits until the data's
	 * signatures are everywhere (a cached unsigned RRset would be bogus). */
	ck_assert_int_eq(enforcer_zone_update(&z, T + 50400, &p, &err), 0);
	ck_assert_int_eq(p.keys[0].rec[ENFORCER_DNSKEY].state, O);
	ck_assert_int_eq(p.keys[0].rec[ENFORCER_DS].state, H);
	ck_assert_int_eq(p.next, T + 86400 + 43200);
	enforcer_plan_clear(&p);
	ck_assert_int_eq(enforcer_zone_update(&z, T + 86400 + 43200, &p, &err), 0);
	ck_assert_int_eq(p.keys[1].rec[ENFORCER_RRSIG].state, O);
	ck_assert_int_eq(p.keys[0].rec[ENFORCER_DS].state, R);
	ck_assert_int_eq(p.next, ENFORCER_NEVER_TEST);
	ck_assert_int_eq(p.keys[0].ds, ENFORCER_DS_SUBMIT);
	{
		bool submit = false;
		for (size_t i = 0; i < p.n_actions; i++)
			submit |= p.actions[i].type == ENFORCER_ACT_DS_SUBMIT;
		ck_assert(submit);
	}
	enforcer_plan_clear(&p);

	/* Bad input is refused. */
	keys[1].id = "k";
	ck_assert_int_eq(enforcer_zone_update(&z, T, &p, &err), TDM_EINVAL);
	ck_assert(strstr(err.msg, "twice") != NULL);
}
END_TEST

TCase *tcase_safety(void)
{
	TCase *tc = tcase_create("safety");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, stable_zone_is_safe);
	tcase_add_test(tc, removing_a_used_dnskey_is_unsafe);
	tcase_add_test(tc, swaps_are_safe_gaps_are_not);
	tcase_add_test(tc, ds_swap);
	tcase_add_test(tc, every_algorithm_signs);
	tcase_add_test(tc, ds_commands);
	tcase_add_test(tc, policy_checks);
	tcase_add_test(tc, jitter);
	tcase_add_test(tc, first_plans);
	return tc;
}
