/*
 * zonelist.xml: zones with File and Adapter inputs and outputs, lookup by
 * name without case or final dot, and a large list loading quickly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "common_tests.h"

START_TEST(ods_zonelist)
{
	struct tdm_zonelist *zl = NULL;
	struct tdm_err err = { "" };
	const struct tdm_zonelist_zone *z;
	int rc = tdm_zonelist_load(data_path("zonelist.xml"), &zl, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(zl->n_zones, 2);
	z = &zl->zones[0];
	ck_assert_str_eq(z->name, "example.com");
	ck_assert_str_eq(z->policy, "default");
	ck_assert_str_eq(z->signconf, "/var/lib/opendnssec/signconf/example.com.xml");
	ck_assert_int_eq(z->input.type, TDM_ADAPTER_FILE);
	ck_assert_str_eq(z->input.type_name, "File");
	ck_assert_str_eq(z->input.config, "/var/lib/opendnssec/unsigned/example.com");
	ck_assert_int_eq(z->output.type, TDM_ADAPTER_FILE);
	ck_assert_str_eq(z->output.config, "/var/lib/opendnssec/signed/example.com");
	ck_assert_int_eq(z->line, 4);
	z = &zl->zones[1];
	ck_assert_str_eq(z->name, "example.net.");
	ck_assert_int_eq(z->input.type, TDM_ADAPTER_DNS);
	ck_assert_str_eq(z->input.type_name, "DNS");
	ck_assert_str_eq(z->input.config, "/etc/opendnssec/addns.xml");
	ck_assert_int_eq(z->output.type, TDM_ADAPTER_FILE);
	ck_assert_str_eq(z->output.type_name, "File");
	ck_assert_ptr_eq(tdm_zonelist_zone(zl, "EXAMPLE.net"), z);
	ck_assert_ptr_eq(tdm_zonelist_zone(zl, "example.com."), &zl->zones[0]);
	ck_assert_ptr_null(tdm_zonelist_zone(zl, "example.org"));
	ck_assert_ptr_null(tdm_zonelist_zone(zl, "com"));
	tdm_zonelist_free(zl);
}
END_TEST

START_TEST(other_adapter_kept)
{
	static const char doc[] =
		"<ZoneList><Zone name='a.example'><Policy>p</Policy>"
		"<SignerConfiguration>s</SignerConfiguration><Adapters>"
		"<Input><Adapter type='Pipe'>cmd</Adapter></Input>"
		"<Output><File>o</File></Output></Adapters></Zone></ZoneList>";
	struct tdm_zonelist *zl = NULL;
	struct tdm_err err = { "" };
	ck_assert_int_eq(tdm_zonelist_load_buffer("z.xml", doc, strlen(doc), &zl, &err), 0);
	ck_assert_int_eq(zl->zones[0].input.type, TDM_ADAPTER_OTHER);
	ck_assert_str_eq(zl->zones[0].input.type_name, "Pipe");
	tdm_zonelist_free(zl);
}
END_TEST

/*
 * 50,000 zones, the scale of pain point 2.  Only correctness is asserted:
 * timing belongs in bench/, not in a unit test (sanitizer builds are 3x slower).
 */
START_TEST(large_zonelist)
{
	const size_t n = 50000;
	size_t cap = n * 260 + 64, len = 0;
	char *doc = malloc(cap);
	struct tdm_zonelist *zl = NULL;
	struct tdm_err err = { "" };
	ck_assert_ptr_nonnull(doc);
	len += (size_t)snprintf(doc + len, cap - len, "<ZoneList>\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(doc + len, cap - len,
			"<Zone name=\"z%zu.example\"><Policy>default</Policy>"
			"<SignerConfiguration>/s/z%zu.xml</SignerConfiguration><Adapters>"
			"<Input><File>/u/z%zu</File></Input><Output><File>/o/z%zu</File>"
			"</Output></Adapters></Zone>\n", i, i, i, i);
	len += (size_t)snprintf(doc + len, cap - len, "</ZoneList>\n");
	ck_assert_int_eq(tdm_zonelist_load_buffer("big.xml", doc, len, &zl, &err), 0);
	ck_assert_uint_eq(zl->n_zones, n);
	ck_assert_str_eq(zl->zones[n - 1].name, "z49999.example");
	ck_assert_int_eq(zl->zones[n - 1].line, (long)n + 1);
	tdm_zonelist_free(zl);

	/* The same list with one name repeated far apart (case and dot differ). */
	{
		char *p = strstr(doc, "\"z40000.example\"");
		ck_assert_ptr_nonnull(p);
		memcpy(p, "\"Z7.EXAMPLE.\"   ", 16);
		ck_assert_int_eq(tdm_zonelist_load_buffer("big.xml", doc, len, &zl, &err),
				 TDM_ESCHEMA);
		ck_assert_str_eq(err.msg, "big.xml:40002: <Zone name=\"Z7.EXAMPLE.\">: "
				 "zone listed twice (first on line 9)");
	}
	free(doc);
}
END_TEST

TCase *tcase_zonelist(void)
{
	TCase *tc = tcase_create("zonelist");
	tcase_add_test(tc, ods_zonelist);
	tcase_add_test(tc, other_adapter_kept);
	tcase_add_test(tc, large_zonelist);
	tcase_set_timeout(tc, 120);
	return tc;
}
