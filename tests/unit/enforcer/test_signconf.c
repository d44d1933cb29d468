/*
 * The signconf writer: what it writes loads back with tdm_signconf_load()
 * and says what the key states and the policy say.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>

#include "enforcer_tests.h"
#include "lib/testlib.h"
#include "sim.h"

static struct tdm_kasp *load_policy(const struct sim_policy_opts *o)
{
	struct tdm_err err = { { 0 } };
	struct tdm_kasp *k = NULL;
	char *xml = sim_kasp_xml(o);
	ck_assert_msg(tdm_kasp_load_buffer("t.xml", xml, strlen(xml), &k, &err) == 0, "%s", err.msg);
	free(xml);
	return k;
}

static void set(struct enforcer_key *k, uint8_t ds, uint8_t dnskey, uint8_t rd, uint8_t rs)
{
	k->rec[ENFORCER_DS].state = ds;
	k->rec[ENFORCER_DNSKEY].state = dnskey;
	k->rec[ENFORCER_RRSIG_DNSKEY].state = rd;
	k->rec[ENFORCER_RRSIG].state = rs;
}

START_TEST(round_trip)
{
	struct sim_policy_opts o = { .ksk_alg = 8, .ksk_bits = 2048, .zsk_alg = 8, .zsk_bits = 1024,
				     .ksk_life = "P1Y", .zsk_life = "P90D" };
	struct tdm_kasp *kasp = load_policy(&o);
	struct enforcer_key k[5];
	struct tdm_err err = { { 0 } };
	struct tdm_signconf *sc = NULL;
	char *dir = tdm_test_tmpdir_new(), path[512];
	struct enforcer_signconf_params prm = { .zone = "rt.test", .policy = &kasp->policies[0],
						.keys = k, .n_keys = 5, .nsec3_salt = "c0ffee" };

	enforcer_key_init(&k[0], "ksk", "aa01", TDM_ROLE_KSK, 8, 2048, 1, ENFORCER_GOAL_ACTIVE, false, 0);
	enforcer_key_init(&k[1], "zsk-old", "aa02", TDM_ROLE_ZSK, 8, 1024, 2, ENFORCER_GOAL_RETIRE, false, 0);
	enforcer_key_init(&k[2], "zsk-new", "aa03", TDM_ROLE_ZSK, 8, 1024, 3, ENFORCER_GOAL_ACTIVE, false, 0);
	enforcer_key_init(&k[3], "dead", "aa04", TDM_ROLE_ZSK, 8, 1024, 4, ENFORCER_GOAL_RETIRE, false, 0);
	enforcer_key_init(&k[4], "csk", "aa05", TDM_ROLE_CSK, 13, 256, 5, ENFORCER_GOAL_ACTIVE, false, 0);
	set(&k[0], ENFORCER_OMNIPRESENT, ENFORCER_OMNIPRESENT, ENFORCER_OMNIPRESENT, ENFORCER_HIDDEN);
	set(&k[1], ENFORCER_HIDDEN, ENFORCER_OMNIPRESENT, ENFORCER_HIDDEN, ENFORCER_UNRETENTIVE);
	set(&k[2], ENFORCER_HIDDEN, ENFORCER_OMNIPRESENT, ENFORCER_HIDDEN, ENFORCER_RUMOURED);
	set(&k[3], ENFORCER_HIDDEN, ENFORCER_UNRETENTIVE, ENFORCER_HIDDEN, ENFORCER_HIDDEN);
	set(&k[4], ENFORCER_HIDDEN, ENFORCER_RUMOURED, ENFORCER_RUMOURED, ENFORCER_OMNIPRESENT);

	snprintf(path, sizeof path, "%s/rt.test.xml", dir);
	ck_assert_msg(enforcer_signconf_write(&prm, path, &err) == 0, "%s", err.msg);
	ck_assert_msg(tdm_signconf_load(path, &sc, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(sc->zone, "rt.test");
	ck_assert(sc->nsec3);
	ck_assert_uint_eq(sc->nsec3_salt_len, 3);
	ck_assert_uint_eq(sc->nsec3_salt[0], 0xc0);
	ck_assert_int_eq(sc->resign, 2 * 3600);
	ck_assert_int_eq(sc->refresh, 3 * 86400);
	ck_assert_int_eq(sc->validity_default, 14 * 86400);
	ck_assert_int_eq(sc->max_zone_ttl, 86400);
	ck_assert_int_eq(sc->dnskey_ttl, 3600);
	ck_assert_int_eq(sc->soa_minimum, 300);
	ck_assert_int_eq(sc->serial, TDM_SERIAL_UNIXTIME);
	/* "dead" (DNSKEY unretentive, nothing else) is not listed. */
	ck_assert_uint_eq(sc->n_keys, 4);
	ck_assert_str_eq(sc->keys[0].locator, "aa01");
	ck_assert_uint_eq(sc->keys[0].flags, 257);
	ck_assert(sc->keys[0].ksk && !sc->keys[0].zsk && sc->keys[0].publish);
	ck_assert_str_eq(sc->keys[1].locator, "aa02");
	ck_assert_uint_eq(sc->keys[1].flags, 256);
	ck_assert(!sc->keys[1].ksk && !sc->keys[1].zsk && sc->keys[1].publish);
	ck_assert(sc->keys[2].zsk && sc->keys[2].publish);
	ck_assert_uint_eq(sc->keys[3].algorithm, 13);
	ck_assert(sc->keys[3].ksk && sc->keys[3].zsk && sc->keys[3].publish);
	tdm_signconf_free(sc);

	/* Rewriting replaces the file atomically and leaves no temporary. */
	k[1].rec[ENFORCER_DNSKEY].state = ENFORCER_UNRETENTIVE;
	k[1].rec[ENFORCER_RRSIG].state = ENFORCER_HIDDEN;
	prm.nsec3_salt = NULL;
	ck_assert_msg(enforcer_signconf_write(&prm, path, &err) == 0, "%s", err.msg);
	ck_assert_msg(tdm_signconf_load(path, &sc, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(sc->n_keys, 3);
	ck_assert_uint_eq(sc->nsec3_salt_len, 0);
	tdm_signconf_free(sc);
	{
		DIR *d = opendir(dir);
		struct dirent *e;
		int n = 0;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		ck_assert_int_eq(n, 1);
	}

	/* Errors: bad salt, unwritable place. */
	prm.nsec3_salt = "xyz";
	ck_assert_int_eq(enforcer_signconf_write(&prm, path, &err), TDM_EINVAL);
	prm.nsec3_salt = "";
	snprintf(path, sizeof path, "%s/missing/rt.test.xml", dir);
	ck_assert_int_eq(enforcer_signconf_write(&prm, path, &err), TDM_EIO);
	ck_assert(strstr(err.msg, "missing") != NULL);

	tdm_test_tmpdir_remove(dir);
	tdm_kasp_free(kasp);
}
END_TEST

START_TEST(nsec_and_escaping)
{
	struct sim_policy_opts o = { .csk_alg = 13, .csk_life = "P90D" };
	struct tdm_kasp *kasp = load_policy(&o);
	struct tdm_err err = { { 0 } };
	struct tdm_signconf *sc = NULL;
	struct enforcer_key k;
	char *text;
	size_t len;
	struct enforcer_signconf_params prm = { .zone = "a&b.test", .policy = &kasp->policies[0],
						.keys = &k, .n_keys = 1 };
	kasp->policies[0].nsec3 = false;
	enforcer_key_init(&k, "c", "0c", TDM_ROLE_CSK, 13, 256, 1, ENFORCER_GOAL_ACTIVE, false, 0);
	set(&k, ENFORCER_OMNIPRESENT, ENFORCER_OMNIPRESENT, ENFORCER_OMNIPRESENT, ENFORCER_OMNIPRESENT);
	ck_assert_int_eq(enforcer_signconf_render(&prm, &text, &len, &err), 0);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_msg(tdm_signconf_load_buffer("x", text, len, &sc, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(sc->zone, "a&b.test");
	ck_assert(!sc->nsec3);
	ck_assert_uint_eq(sc->n_keys, 1);
	tdm_signconf_free(sc);
	free(text);
	tdm_kasp_free(kasp);
}
END_TEST

TCase *tcase_signconf(void)
{
	TCase *tc = tcase_create("signconf");
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, nsec_and_escaping);
	return tc;
}
