/*
 * The signconf writer: what it writes loads back with tdm_signconf_load()
 * and says what the key states and the policy say.  Also the CDS/CDNSKEY
 * extension (<Keys><CDS>, <Keys><CDNSKEY>, <Key><CDS/>/<CDNSKEY/>): render,
 * parse, the delete form, and what the parser and tdm_signconf_check refuse.
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

/* A KSK roll with PublishCDS (SHA-256 and SHA-384) and PublishCDNSKEY: the
 * plan's CDS set marks its keys, a key of the set that is not in the zone
 * yet is listed all the same, and an empty set is the delete form. */
START_TEST(cds_round_trip)
{
	struct sim_policy_opts o = { .ksk_alg = 13, .ksk_bits = 256, .zsk_alg = 13, .zsk_bits = 256,
				     .ksk_life = "P1Y", .zsk_life = "P90D", .cds = true };
	struct tdm_kasp *kasp = load_policy(&o);
	struct tdm_policy *pol = &kasp->policies[0];
	struct enforcer_key k[4];
	struct tdm_err err = { { 0 } };
	struct tdm_signconf *sc = NULL;
	size_t cds[2] = { 0, 3 };
	char *text;
	size_t len;
	struct enforcer_signconf_params prm = { .zone = "cds.test", .policy = pol, .keys = k,
						.n_keys = 4, .cds = cds, .n_cds = 2 };

	ck_assert(pol->publish_cds && pol->publish_cdnskey);
	pol->cds_digests[1] = 4;
	pol->n_cds_digests = 2;
	enforcer_key_init(&k[0], "ksk-old", "b001", TDM_ROLE_KSK, 13, 256, 1, ENFORCER_GOAL_RETIRE, false, 0);
	enforcer_key_init(&k[1], "zsk", "b002", TDM_ROLE_ZSK, 13, 256, 2, ENFORCER_GOAL_ACTIVE, false, 0);
	enforcer_key_init(&k[2], "ksk-gone", "b003", TDM_ROLE_KSK, 13, 256, 3, ENFORCER_GOAL_RETIRE, false, 0);
	enforcer_key_init(&k[3], "ksk-new", "b004", TDM_ROLE_KSK, 13, 256, 4, ENFORCER_GOAL_ACTIVE, false, 0);
	set(&k[0], ENFORCER_OMNIPRESENT, ENFORCER_OMNIPRESENT, ENFORCER_OMNIPRESENT, ENFORCER_HIDDEN);
	set(&k[1], ENFORCER_HIDDEN, ENFORCER_OMNIPRESENT, ENFORCER_HIDDEN, ENFORCER_OMNIPRESENT);
	set(&k[2], ENFORCER_HIDDEN, ENFORCER_HIDDEN, ENFORCER_HIDDEN, ENFORCER_HIDDEN);
	/* Double-DS: the new DS goes to the parent before the DNSKEY is in;
	 * its CDS waits until the DNSKEY is published (parents refuse a CDS
	 * that matches no DNSKEY of the zone). */
	set(&k[3], ENFORCER_RUMOURED, ENFORCER_HIDDEN, ENFORCER_HIDDEN, ENFORCER_HIDDEN);

	ck_assert_msg(enforcer_signconf_render(&prm, &text, &len, &err) == 0, "%s", err.msg);
	ck_assert_msg(tdm_signconf_load_buffer("cds.xml", text, len, &sc, &err) == 0, "%s\n%s",
		      err.msg, text);
	free(text);
	ck_assert(sc->cds_managed && sc->cdnskey_managed);
	ck_assert(!sc->cds_delete && !sc->cdnskey_delete);
	ck_assert_uint_eq(sc->n_cds_digests, 2);
	ck_assert_uint_eq(sc->cds_digests[0], 2);
	ck_assert_uint_eq(sc->cds_digests[1], 4);
	ck_assert_uint_eq(sc->n_keys, 2);
	ck_assert_str_eq(sc->keys[0].locator, "b001");
	ck_assert(sc->keys[0].cds && sc->keys[0].cdnskey && sc->keys[0].ksk);
	ck_assert_str_eq(sc->keys[1].locator, "b002");
	ck_assert(!sc->keys[1].cds && !sc->keys[1].cdnskey);
	{
		struct tdm_check_report r = { 0 };
		tdm_signconf_check(sc, &r);
		ck_assert_uint_eq(r.n_errors, 0);
		tdm_check_report_clear(&r);
	}
	tdm_signconf_free(sc);

	/* No DS change pending: the sections stay (the signconf owns the
	 * RRsets, which are then empty), no key is marked. */
	prm.cds = NULL;
	prm.n_cds = 0;
	ck_assert_int_eq(enforcer_signconf_render(&prm, &text, &len, &err), 0);
	ck_assert_msg(tdm_signconf_load_buffer("cds.xml", text, len, &sc, &err) == 0, "%s", err.msg);
	free(text);
	ck_assert(sc->cds_managed && sc->cdnskey_managed && !sc->cds_delete);
	ck_assert_uint_eq(sc->n_keys, 2);
	for (size_t i = 0; i < sc->n_keys; i++)
		ck_assert(!sc->keys[i].cds && !sc->keys[i].cdnskey);
	tdm_signconf_free(sc);

	/* RFC 8078 §4: the parent should drop every DS. */
	prm.cds_delete = true;
	ck_assert_int_eq(enforcer_signconf_render(&prm, &text, &len, &err), 0);
	ck_assert_ptr_nonnull(strstr(text, "<Delete/>"));
	ck_assert_msg(tdm_signconf_load_buffer("cds.xml", text, len, &sc, &err) == 0, "%s", err.msg);
	free(text);
	ck_assert(sc->cds_delete && sc->cdnskey_delete);
	tdm_signconf_free(sc);

	/* SHA-1 (which the signer does not make) is left out; with nothing
	 * else there is no <CDS> section at all. */
	prm.cds_delete = false;
	prm.cds = cds;
	prm.n_cds = 1;
	pol->cds_digests[0] = 1;
	ck_assert_int_eq(enforcer_signconf_render(&prm, &text, &len, &err), 0);
	ck_assert_msg(tdm_signconf_load_buffer("cds.xml", text, len, &sc, &err) == 0, "%s", err.msg);
	free(text);
	ck_assert(sc->cds_managed && sc->n_cds_digests == 1 && sc->cds_digests[0] == 4);
	tdm_signconf_free(sc);
	pol->n_cds_digests = 1;
	ck_assert_int_eq(enforcer_signconf_render(&prm, &text, &len, &err), 0);
	ck_assert_msg(tdm_signconf_load_buffer("cds.xml", text, len, &sc, &err) == 0, "%s", err.msg);
	free(text);
	ck_assert(!sc->cds_managed && sc->cdnskey_managed);
	ck_assert(!sc->keys[0].cds && sc->keys[0].cdnskey);
	tdm_signconf_free(sc);
	pol->cds_digests[0] = 2;

	/* Only PublishCDNSKEY: no <CDS> section, keys marked CDNSKEY only. */
	prm.cds_delete = false;
	prm.cds = cds;
	prm.n_cds = 1;
	pol->publish_cds = false;
	ck_assert_int_eq(enforcer_signconf_render(&prm, &text, &len, &err), 0);
	ck_assert_msg(tdm_signconf_load_buffer("cds.xml", text, len, &sc, &err) == 0, "%s", err.msg);
	free(text);
	ck_assert(!sc->cds_managed && sc->cdnskey_managed);
	ck_assert(!sc->keys[0].cds && sc->keys[0].cdnskey);
	tdm_signconf_free(sc);

	/* Neither: an OpenDNSSEC signconf, whatever the plan says. */
	pol->publish_cdnskey = false;
	ck_assert_int_eq(enforcer_signconf_render(&prm, &text, &len, &err), 0);
	ck_assert_ptr_null(strstr(text, "CDS"));
	free(text);

	/* A CDS index outside the keys. */
	pol->publish_cds = true;
	cds[0] = 4;
	ck_assert_int_eq(enforcer_signconf_render(&prm, &text, &len, &err), TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "cds.test"));
	tdm_kasp_free(kasp);
}
END_TEST

static const char *sc_head =
	"<SignerConfiguration><Zone name=\"x.test\">"
	"<Signatures><Resign>PT2H</Resign><Refresh>P3D</Refresh>"
	"<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>"
	"<Jitter>PT12H</Jitter><InceptionOffset>PT1H</InceptionOffset></Signatures>"
	"<Denial><NSEC/></Denial><Keys><TTL>PT1H</TTL>"
	"<Key><Flags>257</Flags><Algorithm>13</Algorithm><Locator>ab</Locator>"
	"<KSK/><ZSK/><Publish/>";
static const char *sc_tail =
	"<SOA><TTL>PT1H</TTL><Minimum>PT5M</Minimum><Serial>counter</Serial></SOA>"
	"</Zone></SignerConfiguration>";

/* Load head + key_extra + "</Key>" + keys_extra + "</Keys>" + tail. */
static int load_ext(const char *key_extra, const char *keys_extra, struct tdm_signconf **sc,
		    struct tdm_err *err)
{
	char buf[4096];
	int n = snprintf(buf, sizeof buf, "%s%s</Key>%s</Keys>%s", sc_head, key_extra,
			 keys_extra, sc_tail);
	ck_assert(n > 0 && (size_t)n < sizeof buf);
	return tdm_signconf_load_buffer("ext.xml", buf, (size_t)n, sc, err);
}

START_TEST(cds_refusals)
{
	struct tdm_err err = { { 0 } };
	struct tdm_signconf *sc = NULL;
	struct tdm_check_report r = { 0 };

	/* Accepted: the delete forms alone, digest types in any order. */
	ck_assert_msg(load_ext("", "<CDS><Delete/></CDS><CDNSKEY><Delete/></CDNSKEY>", &sc,
			       &err) == 0, "%s", err.msg);
	ck_assert(sc->cds_delete && sc->cdnskey_delete && sc->n_cds_digests == 0);
	tdm_signconf_free(sc);
	ck_assert_msg(load_ext("<CDS/>", "<CDS><DigestType>4</DigestType>"
			       "<DigestType>1</DigestType></CDS>", &sc, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(sc->n_cds_digests, 2);
	/* The signer cannot make SHA-1 digests, and RFC 8624 forbids them. */
	tdm_signconf_check(sc, &r);
	ck_assert_uint_eq(r.n_errors, 1);
	ck_assert_ptr_nonnull(strstr(r.errors[0].message, "digest type 1"));
	tdm_check_report_clear(&r);
	tdm_signconf_free(sc);

	ck_assert_int_eq(load_ext("<CDS/>", "", &sc, &err), TDM_ESCHEMA);
	ck_assert_msg(strstr(err.msg, "without a <Keys><CDS>") != NULL, "%s", err.msg);
	ck_assert_int_eq(load_ext("<CDNSKEY/>", "<CDS><DigestType>2</DigestType></CDS>", &sc, &err),
			 TDM_ESCHEMA);
	ck_assert_msg(strstr(err.msg, "CDNSKEY") != NULL, "%s", err.msg);
	ck_assert_int_eq(load_ext("<CDS/>", "<CDS/>", &sc, &err), TDM_ESCHEMA);
	ck_assert_msg(strstr(err.msg, "DigestType") != NULL, "%s", err.msg);
	ck_assert_int_eq(load_ext("<CDS/>", "<CDS><DigestType>2</DigestType><Delete/></CDS>", &sc,
				  &err), TDM_ESCHEMA);
	ck_assert_msg(strstr(err.msg, "stands alone") != NULL, "%s", err.msg);
	ck_assert_int_eq(load_ext("<CDNSKEY/>", "<CDNSKEY><Delete/></CDNSKEY>", &sc, &err),
			 TDM_ESCHEMA);
	ck_assert_int_eq(load_ext("", "<CDS><DigestType>2</DigestType><DigestType>2</DigestType>"
				  "</CDS>", &sc, &err), TDM_ESCHEMA);
	ck_assert_msg(strstr(err.msg, "repeated") != NULL, "%s", err.msg);
	ck_assert_int_eq(load_ext("", "<CDS><DigestType>0</DigestType></CDS>", &sc, &err),
			 TDM_ESCHEMA);
	ck_assert_int_eq(load_ext("", "<CDNSKEY><DigestType>2</DigestType></CDNSKEY>", &sc, &err),
			 TDM_ESCHEMA);
	ck_assert_int_eq(load_ext("<CDS>x</CDS>", "<CDS><DigestType>2</DigestType></CDS>", &sc,
				  &err), TDM_ESCHEMA);
	ck_assert_int_eq(load_ext("", "<CDS/><CDS/>", &sc, &err), TDM_ESCHEMA);
}
END_TEST

TCase *tcase_signconf(void)
{
	TCase *tc = tcase_create("signconf");
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, nsec_and_escaping);
	tcase_add_test(tc, cds_round_trip);
	tcase_add_test(tc, cds_refusals);
	return tc;
}
