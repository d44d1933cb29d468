/*
 * kasp.xml: the OpenDNSSEC default policy and a policy using every element
 * load into struct tdm_policy with durations in seconds and roll types
 * mapped to OpenDNSSEC's minimize bits.
 */
#include <string.h>

#include "common/conf.h"
#include "common_tests.h"

START_TEST(ods_default_policy)
{
	struct tdm_kasp *k = NULL;
	struct tdm_err err = { "" };
	const struct tdm_policy *p;
	int rc = tdm_kasp_load(data_path("kasp.xml"), &k, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(k->n_policies, 2);
	p = tdm_kasp_policy(k, "default");
	ck_assert_ptr_eq(p, &k->policies[0]);
	ck_assert_ptr_null(tdm_kasp_policy(k, "Default"));
	ck_assert_str_eq(p->description, "A default policy that will amaze you and your friends");
	ck_assert(!p->passthrough);
	ck_assert_int_eq(p->line, 5);
	ck_assert_int_eq(p->resign, 7200);
	ck_assert_int_eq(p->refresh, 3 * 86400);
	ck_assert_int_eq(p->validity_default, 14 * 86400);
	ck_assert_int_eq(p->validity_denial, 14 * 86400);
	ck_assert_int_eq(p->validity_keyset, 0);
	ck_assert_int_eq(p->jitter, 43200);
	ck_assert_int_eq(p->inception_offset, 3600);
	ck_assert_int_eq(p->max_zone_ttl, 86400);
	ck_assert(p->nsec3);
	ck_assert(!p->nsec3_optout);
	ck_assert_int_eq(p->nsec3_ttl, -1);
	ck_assert_int_eq(p->nsec3_resalt, 100 * 86400);
	ck_assert_uint_eq(p->nsec3_algorithm, 1);
	ck_assert_uint_eq(p->nsec3_iterations, 5);
	ck_assert_uint_eq(p->nsec3_salt_length, 8);
	ck_assert_int_eq(p->keys_ttl, 3600);
	ck_assert_int_eq(p->retire_safety, 3600);
	ck_assert_int_eq(p->publish_safety, 3600);
	ck_assert(!p->share_keys);
	ck_assert_int_eq(p->purge, 14 * 86400);
	ck_assert_uint_eq(p->n_keys, 2);
	ck_assert_int_eq(p->keys[0].role, TDM_ROLE_KSK);
	ck_assert_uint_eq(p->keys[0].algorithm, 8);
	ck_assert_uint_eq(p->keys[0].bits, 2048);
	ck_assert_int_eq(p->keys[0].lifetime, 365 * 86400);
	ck_assert_str_eq(p->keys[0].repository, "SoftHSM");
	ck_assert_uint_eq(p->keys[0].standby, 0);
	ck_assert(!p->keys[0].manual_rollover && !p->keys[0].rfc5011);
	ck_assert_int_eq(p->keys[0].roll_type, TDM_ROLL_KSK_DOUBLE_SIGNATURE);
	ck_assert_uint_eq(p->keys[0].minimize, TDM_MINIMIZE_DS);
	ck_assert_int_eq(p->keys[1].role, TDM_ROLE_ZSK);
	ck_assert_uint_eq(p->keys[1].bits, 1024);
	ck_assert_int_eq(p->keys[1].lifetime, 90 * 86400);
	ck_assert_int_eq(p->keys[1].roll_type, TDM_ROLL_ZSK_PRE_PUBLICATION);
	ck_assert_uint_eq(p->keys[1].minimize, TDM_MINIMIZE_RRSIG);
	ck_assert_int_eq(p->zone_propagation_delay, 43200);
	ck_assert_int_eq(p->zone_soa_ttl, 3600);
	ck_assert_int_eq(p->zone_soa_minimum, 3600);
	ck_assert_int_eq(p->zone_serial, TDM_SERIAL_UNIXTIME);
	ck_assert_int_eq(p->parent_propagation_delay, 9999);
	ck_assert_int_eq(p->parent_ds_ttl, 3600);
	ck_assert_int_eq(p->parent_soa_ttl, 172800);
	ck_assert_int_eq(p->parent_soa_minimum, 10800);
	ck_assert_int_eq(p->parent_registration_delay, 0);
	ck_assert(!p->publish_cds && !p->publish_cdnskey);
	ck_assert_uint_eq(p->n_cds_digests, 0);
	tdm_kasp_free(k);
}
END_TEST

START_TEST(every_element)
{
	struct tdm_kasp *k = NULL;
	struct tdm_err err = { "" };
	const struct tdm_policy *p;
	int rc = tdm_kasp_load(data_path("kasp.xml"), &k, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	p = tdm_kasp_policy(k, "lab");
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->description, "");
	ck_assert(p->passthrough);
	ck_assert_int_eq(p->validity_keyset, 9 * 86400);
	ck_assert_int_eq(p->max_zone_ttl, 0);
	ck_assert(!p->nsec3);
	ck_assert(p->share_keys);
	ck_assert_int_eq(p->purge, -1);
	ck_assert_uint_eq(p->n_keys, 3);
	ck_assert_int_eq(p->keys[0].role, TDM_ROLE_KSK);
	ck_assert_uint_eq(p->keys[0].algorithm, 13);
	ck_assert_uint_eq(p->keys[0].bits, 256); /* implied by ECDSAP256SHA256 */
	ck_assert_int_eq(p->keys[0].lifetime, 31 * 86400);
	ck_assert_uint_eq(p->keys[0].standby, 1);
	ck_assert(p->keys[0].manual_rollover && p->keys[0].rfc5011);
	ck_assert_int_eq(p->keys[0].roll_type, TDM_ROLL_KSK_DOUBLE_RRSET);
	ck_assert_uint_eq(p->keys[0].minimize, 0);
	ck_assert_int_eq(p->keys[1].role, TDM_ROLE_ZSK);
	ck_assert_int_eq(p->keys[1].lifetime, 7 * 86400);
	ck_assert_int_eq(p->keys[1].roll_type, TDM_ROLL_ZSK_DOUBLE_RRSIG);
	ck_assert_uint_eq(p->keys[1].minimize, TDM_MINIMIZE_DNSKEY);
	ck_assert_int_eq(p->keys[2].role, TDM_ROLE_CSK);
	ck_assert_uint_eq(p->keys[2].bits, 256);
	ck_assert_int_eq(p->keys[2].roll_type, TDM_ROLL_CSK_DOUBLE_DS);
	ck_assert_str_eq(tdm_roll_type_name(p->keys[2].roll_type), "CskDoubleDS");
	ck_assert_int_eq(p->zone_serial, TDM_SERIAL_DATECOUNTER);
	ck_assert_int_eq(p->parent_registration_delay, 86400);
	ck_assert(p->publish_cds && p->publish_cdnskey);
	ck_assert_uint_eq(p->n_cds_digests, 2);
	ck_assert_uint_eq(p->cds_digests[0], 2);
	ck_assert_uint_eq(p->cds_digests[1], 4);
	tdm_kasp_free(k);
}
END_TEST

START_TEST(roll_type_table)
{
	ck_assert_uint_eq(tdm_roll_type_minimize(TDM_ROLL_CSK_PRE_PUBLICATION),
			  TDM_MINIMIZE_DS | TDM_MINIMIZE_RRSIG);
	ck_assert_uint_eq(tdm_roll_type_minimize(TDM_ROLL_CSK_SINGLE_SIGNATURE),
			  TDM_MINIMIZE_RRSIG);
	ck_assert_uint_eq(tdm_roll_type_minimize(TDM_ROLL_CSK_DOUBLE_SIGNATURE), TDM_MINIMIZE_DS);
	ck_assert_uint_eq(tdm_roll_type_minimize(TDM_ROLL_KSK_DOUBLE_DS), TDM_MINIMIZE_DNSKEY);
	ck_assert_uint_eq(tdm_roll_type_minimize(TDM_ROLL_ZSK_DOUBLE_SIGNATURE), 0);
	ck_assert_str_eq(tdm_roll_type_name(TDM_ROLL_ZSK_PRE_PUBLICATION), "ZskPrePublication");
	ck_assert_str_eq(tdm_key_role_name(TDM_ROLE_CSK), "CSK");
}
END_TEST

/* <PublishCDS/> alone means SHA-256 CDS records. */
START_TEST(cds_default_digest)
{
	static const char doc[] =
		"<KASP><Policy name='p'><Signatures><Resign>PT1H</Resign><Refresh>P1D</Refresh>"
		"<Validity><Default>P7D</Default><Denial>P7D</Denial></Validity>"
		"<Jitter>PT1H</Jitter><InceptionOffset>PT1H</InceptionOffset></Signatures>"
		"<Denial><NSEC3><OptOut/><TTL>PT10M</TTL><Resalt>P30D</Resalt><Hash><Algorithm>1"
		"</Algorithm><Iterations>0</Iterations><Salt length='0'/></Hash></NSEC3></Denial>"
		"<Keys><TTL>PT1H</TTL><RetireSafety>PT1H</RetireSafety>"
		"<PublishSafety>PT1H</PublishSafety><CSK><Algorithm>13</Algorithm>"
		"<Lifetime>P1Y</Lifetime><Repository>r</Repository></CSK></Keys>"
		"<Zone><PropagationDelay>PT1H</PropagationDelay><SOA><TTL>PT1H</TTL>"
		"<Minimum>PT1H</Minimum><Serial>keep</Serial></SOA></Zone>"
		"<Parent><PropagationDelay>PT1H</PropagationDelay><DS><TTL>PT1H</TTL></DS>"
		"<SOA><TTL>PT1H</TTL><Minimum>PT1H</Minimum></SOA><PublishCDS/></Parent>"
		"</Policy></KASP>";
	struct tdm_kasp *k = NULL;
	struct tdm_err err = { "" };
	int rc = tdm_kasp_load_buffer("k.xml", doc, strlen(doc), &k, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert(k->policies[0].publish_cds);
	ck_assert(!k->policies[0].publish_cdnskey);
	ck_assert_uint_eq(k->policies[0].n_cds_digests, 1);
	ck_assert_uint_eq(k->policies[0].cds_digests[0], 2);
	ck_assert(k->policies[0].nsec3_optout);
	ck_assert_int_eq(k->policies[0].nsec3_ttl, 600);
	ck_assert_uint_eq(k->policies[0].nsec3_salt_length, 0);
	ck_assert_int_eq(k->policies[0].keys[0].roll_type, TDM_ROLL_CSK_PRE_PUBLICATION);
	ck_assert_int_eq(k->policies[0].zone_serial, TDM_SERIAL_KEEP);
	tdm_kasp_free(k);
}
END_TEST

START_TEST(empty_kasp)
{
	struct tdm_kasp *k = NULL;
	struct tdm_err err = { "" };
	ck_assert_int_eq(tdm_kasp_load_buffer("k.xml", "<KASP/>", 7, &k, &err), 0);
	ck_assert_uint_eq(k->n_policies, 0);
	tdm_kasp_free(k);
	tdm_kasp_free(NULL);
}
END_TEST

TCase *tcase_kasp(void)
{
	TCase *tc = tcase_create("kasp");
	tcase_add_test(tc, ods_default_policy);
	tcase_add_test(tc, every_element);
	tcase_add_test(tc, roll_type_table);
	tcase_add_test(tc, cds_default_digest);
	tcase_add_test(tc, empty_kasp);
	return tc;
}
