/*
 * Durations with OpenDNSSEC's meaning: a month is 31 days, a year 365
 * days; fractions only on seconds and only through the _ms parser.
 */
#include <stdint.h>

#include "common/duration.h"
#include "common/error.h"
#include "common_tests.h"

static const struct {
	const char *text;
	int64_t seconds;
} good[] = {
	{ "P1M", 31 * 86400 },
	{ "P1Y", 365 * 86400 },
	{ "P1W", 7 * 86400 },
	{ "P1D", 86400 },
	{ "PT1H", 3600 },
	{ "PT1M", 60 },
	{ "PT1S", 1 },
	{ "PT0S", 0 },
	{ "P0D", 0 },
	{ "PT3600S", 3600 },
	{ "P14D", 14 * 86400 },
	{ "P1DT12H", 86400 + 12 * 3600 },
	{ "P1Y2M3W4DT5H6M7S", 365 * 86400 + 62 * 86400 + 21 * 86400 + 4 * 86400 +
			      5 * 3600 + 6 * 60 + 7 },
	{ "PT1.000S", 1 },
};

static const char *const bad[] = {
	"", "P", "PT", "1D", "D", "P1", "PT1", "P1H", "PT1D", "PT1Y", "P1DT",
	"P1D1Y", "PT1S1M", "P1M1M", "P-1D", "P+1D", "P 1D", "P1D ", " P1D", "p1d",
	"P1.5D", "PT1.5M", "PT.5S", "PT1.S", "PTT1S", "P1DT1HT1M", "P1Dx", "P1W1Y",
	"PT0.1S", /* whole seconds only in tdm_duration_parse */
};

START_TEST(parse_good)
{
	int64_t s = -1;
	ck_assert_msg(tdm_duration_parse(good[_i].text, &s) == 0, "%s", good[_i].text);
	ck_assert_int_eq(s, good[_i].seconds);
}
END_TEST

START_TEST(parse_bad)
{
	int64_t s = 42;
	ck_assert_msg(tdm_duration_parse(bad[_i], &s) == TDM_EPARSE, "'%s' accepted", bad[_i]);
	ck_assert_int_eq(s, 42); /* untouched */
}
END_TEST

START_TEST(parse_null)
{
	int64_t s;
	ck_assert_int_eq(tdm_duration_parse(NULL, &s), TDM_EPARSE);
}
END_TEST

START_TEST(milliseconds)
{
	int64_t ms = 0;
	ck_assert_int_eq(tdm_duration_parse_ms("PT0.1S", &ms), 0);
	ck_assert_int_eq(ms, 100);
	ck_assert_int_eq(tdm_duration_parse_ms("PT1.5S", &ms), 0);
	ck_assert_int_eq(ms, 1500);
	ck_assert_int_eq(tdm_duration_parse_ms("PT0,25S", &ms), 0);
	ck_assert_int_eq(ms, 250);
	ck_assert_int_eq(tdm_duration_parse_ms("PT1M0.001S", &ms), 0);
	ck_assert_int_eq(ms, 60001);
	ck_assert_int_eq(tdm_duration_parse_ms("PT2S", &ms), 0);
	ck_assert_int_eq(ms, 2000);
	ck_assert_int_eq(tdm_duration_parse_ms("P1M", &ms), 0);
	ck_assert_int_eq(ms, (int64_t)31 * 86400 * 1000);
	ck_assert_int_eq(tdm_duration_parse_ms("PT0.1M", &ms), TDM_EPARSE);
	ck_assert_int_eq(tdm_duration_parse_ms("P0.1D", &ms), TDM_EPARSE);
}
END_TEST

START_TEST(overflow)
{
	int64_t s;
	ck_assert_int_eq(tdm_duration_parse("P99999999999999999999Y", &s), TDM_ERANGE);
	ck_assert_int_eq(tdm_duration_parse("P300000000000Y", &s), TDM_ERANGE);
	ck_assert_int_eq(tdm_duration_parse_ms("PT9223372036854775S", &s), 0);
	ck_assert_int_eq(s, INT64_C(9223372036854775000));
	ck_assert_int_eq(tdm_duration_parse_ms("PT9223372036854775.807S", &s), 0);
	ck_assert_int_eq(s, INT64_MAX);
	ck_assert_int_eq(tdm_duration_parse_ms("PT9223372036854775.808S", &s), TDM_ERANGE);
	ck_assert_int_eq(tdm_duration_parse_ms("PT9223372036854776S", &s), TDM_ERANGE);
	ck_assert_int_eq(tdm_duration_parse_ms("P1DT9223372036854775.999S", &s), TDM_ERANGE);
}
END_TEST

START_TEST(format)
{
	static const struct {
		int64_t s;
		const char *text;
	} cases[] = {
		{ 0, "PT0S" }, { 1, "PT1S" }, { 60, "PT1M" }, { 3600, "PT1H" },
		{ 86400, "P1D" }, { 93784, "P1DT2H3M4S" }, { 31 * 86400, "P31D" },
		{ -3600, "-PT1H" },
	};
	char buf[64];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t back;
		tdm_duration_format(cases[i].s, buf, sizeof buf);
		ck_assert_str_eq(buf, cases[i].text);
		if (cases[i].s >= 0) {
			ck_assert_int_eq(tdm_duration_parse(buf, &back), 0);
			ck_assert_int_eq(back, cases[i].s);
		}
	}
	tdm_duration_format(INT64_MIN, buf, sizeof buf);
	ck_assert_str_eq(buf, "-P106751991167300DT15H30M8S");
	tdm_duration_format(93784, buf, 4);
	ck_assert_str_eq(buf, "P1D");
}
END_TEST

TCase *tcase_duration(void)
{
	TCase *tc = tcase_create("duration");
	tcase_add_loop_test(tc, parse_good, 0, (int)(sizeof good / sizeof good[0]));
	tcase_add_loop_test(tc, parse_bad, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, parse_null);
	tcase_add_test(tc, milliseconds);
	tcase_add_test(tc, overflow);
	tcase_add_test(tc, format);
	return tc;
}
