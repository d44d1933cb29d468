/*
 * signconf: NSEC and NSEC3 samples fill struct tdm_signconf exactly, and
 * the serial policy names round-trip.
 */
#include <stdio.h>
#include <string.h>

#include "common/conf.h"
#include "common_tests.h"

START_TEST(nsec_signconf)
{
	struct tdm_signconf *sc = NULL;
	struct tdm_err err = { "" };
	int rc = tdm_signconf_load(data_path("signconf-nsec.xml"), &sc, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(sc->zone, "example.com");
	ck_assert(!sc->passthrough);
	ck_assert_int_eq(sc->resign, 7200);
	ck_assert_int_eq(sc->refresh, 3 * 86400);
	ck_assert_int_eq(sc->validity_default, 14 * 86400);
	ck_assert_int_eq(sc->validity_denial, 14 * 86400);
	ck_assert_int_eq(sc->validity_keyset, 0);
	ck_assert_int_eq(sc->jitter, 12 * 3600);
	ck_assert_int_eq(sc->inception_offset, 3600);
	ck_assert_int_eq(sc->max_zone_ttl, 86400);
	ck_assert(!sc->nsec3);
	ck_assert_ptr_null(sc->nsec3_salt);
	ck_assert_int_eq(sc->dnskey_ttl, 3600);
	ck_assert_uint_eq(sc->n_keys, 3);
	ck_assert_uint_eq(sc->keys[0].flags, 257);
	ck_assert_uint_eq(sc->keys[0].algorithm, 8);
	ck_assert_str_eq(sc->keys[0].locator, "6a2bf7ed14c7e1d5b2eac0e7a5e18c61");
	ck_assert(sc->keys[0].ksk && !sc->keys[0].zsk && sc->keys[0].publish &&
		  !sc->keys[0].deactivate);
	ck_assert_ptr_null(sc->keys[0].resource_record);
	ck_assert_uint_eq(sc->keys[1].flags, 256);
	ck_assert(!sc->keys[1].ksk && sc->keys[1].zsk && sc->keys[1].publish);
	ck_assert(!sc->keys[2].ksk && !sc->keys[2].zsk && sc->keys[2].publish &&
		  sc->keys[2].deactivate);
	ck_assert_uint_eq(sc->n_signature_rrs, 0);
	ck_assert_int_eq(sc->soa_ttl, 3600);
	ck_assert_int_eq(sc->soa_minimum, 3600);
	ck_assert_int_eq(sc->serial, TDM_SERIAL_UNIXTIME);
	tdm_signconf_free(sc);
}
END_TEST

START_TEST(nsec3_signconf)
{
	static const uint8_t salt[] = { 0xde, 0xad, 0xbe, 0xef, 0x0b, 0xad, 0xc0, 0xde };
	struct tdm_signconf *sc = NULL;
	struct tdm_err err = { "" };
	int rc = tdm_signconf_load(data_path("signconf-nsec3.xml"), &sc, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(sc->zone, "example.net");
	ck_assert(sc->passthrough);
	ck_assert_int_eq(sc->refresh, 6 * 86400);
	ck_assert_int_eq(sc->validity_default, 21 * 86400);
	ck_assert_int_eq(sc->validity_denial, 28 * 86400);
	ck_assert_int_eq(sc->validity_keyset, 7 * 86400);
	ck_assert_int_eq(sc->max_zone_ttl, 0);
	ck_assert(sc->nsec3);
	ck_assert(sc->nsec3_optout);
	ck_assert_int_eq(sc->nsec3_ttl, 300);
	ck_assert_uint_eq(sc->nsec3_algorithm, 1);
	ck_assert_uint_eq(sc->nsec3_iterations, 5);
	ck_assert_uint_eq(sc->nsec3_salt_len, 8);
	ck_assert_mem_eq(sc->nsec3_salt, salt, 8);
	ck_assert_uint_eq(sc->n_keys, 2);
	ck_assert(sc->keys[0].ksk && sc->keys[0].zsk);
	ck_assert_uint_eq(sc->keys[0].algorithm, 13);
	ck_assert_ptr_null(sc->keys[1].locator);
	ck_assert_ptr_nonnull(strstr(sc->keys[1].resource_record, "DNSKEY 257 3 13 mdss"));
	ck_assert_uint_eq(sc->n_signature_rrs, 1);
	ck_assert_ptr_nonnull(strstr(sc->signature_rrs[0], "RRSIG DNSKEY 13"));
	ck_assert_int_eq(sc->soa_minimum, 300);
	ck_assert_int_eq(sc->serial, TDM_SERIAL_DATECOUNTER);
	tdm_signconf_free(sc);
}
END_TEST

/* "-", an empty <Salt> and an absent NSEC3 <TTL>. */
static const char *salt_doc(const char *salt)
{
	static char buf[2048];
	snprintf(buf, sizeof buf,
		"<SignerConfiguration><Zone name='z.example'>"
		"<Signatures><Resign>PT2H</Resign><Refresh>P3D</Refresh>"
		"<Validity><Default>P14D</Default><Denial>P14D</Denial></Validity>"
		"<Jitter>PT12H</Jitter><InceptionOffset>PT1H</InceptionOffset></Signatures>"
		"<Denial><NSEC3><Hash><Algorithm>1</Algorithm><Iterations>0</Iterations>"
		"%s</Hash></NSEC3></Denial>"
		"<Keys><TTL>PT1H</TTL></Keys>"
		"<SOA><TTL>PT1H</TTL><Minimum>PT1H</Minimum><Serial>keep</Serial></SOA>"
		"</Zone></SignerConfiguration>", salt);
	return buf;
}

START_TEST(nsec3_no_salt)
{
	static const char *const salts[] = { "<Salt>-</Salt>", "<Salt></Salt>", "<Salt/>",
		"<Salt> - </Salt>" };
	for (size_t i = 0; i < sizeof salts / sizeof salts[0]; i++) {
		struct tdm_signconf *sc = NULL;
		struct tdm_err err = { "" };
		const char *doc = salt_doc(salts[i]);
		int rc = tdm_signconf_load_buffer("s.xml", doc, strlen(doc), &sc, &err);
		ck_assert_msg(rc == 0, "%s: %s", salts[i], err.msg);
		ck_assert(sc->nsec3);
		ck_assert_ptr_null(sc->nsec3_salt);
		ck_assert_uint_eq(sc->nsec3_salt_len, 0);
		ck_assert_int_eq(sc->nsec3_ttl, -1);
		ck_assert_uint_eq(sc->nsec3_iterations, 0);
		ck_assert_int_eq(sc->serial, TDM_SERIAL_KEEP);
		ck_assert_uint_eq(sc->n_keys, 0);
		tdm_signconf_free(sc);
	}
}
END_TEST

START_TEST(serial_names)
{
	enum tdm_serial_policy p;
	static const char *const names[] = { "counter", "datecounter", "unixtime", "keep" };
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(tdm_serial_policy_parse(names[i], &p), 0);
		ck_assert_int_eq(p, i);
		ck_assert_str_eq(tdm_serial_policy_name(p), names[i]);
	}
	ck_assert_int_eq(tdm_serial_policy_parse("Counter", &p), TDM_EPARSE);
	ck_assert_int_eq(tdm_serial_policy_parse("", &p), TDM_EPARSE);
}
END_TEST

TCase *tcase_signconf(void)
{
	TCase *tc = tcase_create("signconf");
	tcase_add_test(tc, nsec_signconf);
	tcase_add_test(tc, nsec3_signconf);
	tcase_add_test(tc, nsec3_no_salt);
	tcase_add_test(tc, serial_names);
	return tc;
}
