/*
 * The time source: real and fake clocks, set/leap, the environment switch,
 * and the timestamp formats of ods-enforcer's time leap.
 */
#include <stdlib.h>
#include <time.h>

#include "common/clock.h"
#include "common/error.h"
#include "common_tests.h"

START_TEST(real_clock)
{
	struct tdm_clock c;
	int64_t before = (int64_t)time(NULL), now;
	tdm_clock_init_real(&c);
	now = tdm_clock_now(&c);
	ck_assert(!c.fake);
	ck_assert(now >= before && now <= (int64_t)time(NULL));
	/* Setting a real clock shifts it: it keeps running from the new time. */
	tdm_clock_set(&c, 2000000000);
	now = tdm_clock_now(&c);
	ck_assert(now >= 2000000000 && now <= 2000000002);
	tdm_clock_set(&c, 1000);
	ck_assert(tdm_clock_now(&c) >= 1000 && tdm_clock_now(&c) <= 1002);
}
END_TEST

START_TEST(fake_clock)
{
	struct tdm_clock c;
	tdm_clock_init_fake(&c, 1700000000);
	ck_assert(c.fake);
	ck_assert_int_eq(tdm_clock_now(&c), 1700000000);
	ck_assert_int_eq(tdm_clock_now(&c), 1700000000); /* stands still */
	tdm_clock_set(&c, 1800000000);
	ck_assert_int_eq(tdm_clock_now(&c), 1800000000);
	/* Two simulated years in no time at all. */
	tdm_clock_set(&c, tdm_clock_now(&c) + 2 * 365 * 86400);
	ck_assert_int_eq(tdm_clock_now(&c), 1800000000 + 2 * 365 * 86400);
}
END_TEST

START_TEST(env_clock)
{
	struct tdm_clock c;
	unsetenv("TANDEM_FAKE_TIME");
	ck_assert_int_eq(tdm_clock_init_env(&c), 0);
	ck_assert(!c.fake);
	setenv("TANDEM_FAKE_TIME", "", 1);
	ck_assert_int_eq(tdm_clock_init_env(&c), 0);
	ck_assert(!c.fake);
	setenv("TANDEM_FAKE_TIME", "2024-02-29-12:00:00", 1);
	ck_assert_int_eq(tdm_clock_init_env(&c), 0);
	ck_assert(c.fake);
	ck_assert_int_eq(tdm_clock_now(&c), 1709208000);
	setenv("TANDEM_FAKE_TIME", "86400", 1);
	ck_assert_int_eq(tdm_clock_init_env(&c), 0);
	ck_assert_int_eq(tdm_clock_now(&c), 86400);
	setenv("TANDEM_FAKE_TIME", "yesterday", 1);
	ck_assert_int_eq(tdm_clock_init_env(&c), TDM_EPARSE);
	ck_assert(!c.fake);
	unsetenv("TANDEM_FAKE_TIME");
}
END_TEST

static const struct {
	const char *text;
	int64_t t;
} good_times[] = {
	{ "1970-01-01-00:00:00", 0 },
	{ "2024-02-29-12:00:00", 1709208000 },
	{ "2024-02-29T12:00:00Z", 1709208000 },
	{ "2024-02-29T12:00:00", 1709208000 },
	{ "2024-02-29 12:00:00", 1709208000 },
	{ "2038-01-19-03:14:08", 2147483648 },
	{ "2016-12-31-23:59:60", 1483228800 },
	{ "0", 0 },
	{ "1709208000", 1709208000 },
};

static const char *const bad_times[] = {
	"", "yesterday", "2024-02-30-12:00:00", "2023-02-29-00:00:00",
	"2024-04-31-00:00:00", "2024-13-01-00:00:00", "2024-00-01-00:00:00",
	"2024-01-00-00:00:00", "2024-01-01-24:00:00", "2024-01-01-00:60:00",
	"1969-12-31-23:59:59", "2024-01-01/00:00:00", "2024-1-01-00:00:00",
	"2024-01-01-00:00:00+01", "2024-01-01-00:00:00ZZ", "2024-01-01- 0:00:00",
	"-5", "1234567890123", "2024-01-01",
};

START_TEST(parse_good_time)
{
	int64_t t = -1;
	ck_assert_msg(tdm_time_parse(good_times[_i].text, &t) == 0, "%s", good_times[_i].text);
	ck_assert_int_eq(t, good_times[_i].t);
}
END_TEST

START_TEST(parse_bad_time)
{
	int64_t t = 7;
	ck_assert_msg(tdm_time_parse(bad_times[_i], &t) == TDM_EPARSE, "'%s' accepted",
		      bad_times[_i]);
	ck_assert_int_eq(t, 7);
}
END_TEST

START_TEST(format_time)
{
	char buf[32];
	int64_t back;
	tdm_time_format(1709208000, buf, sizeof buf);
	ck_assert_str_eq(buf, "2024-02-29T12:00:00Z");
	ck_assert_int_eq(tdm_time_parse(buf, &back), 0);
	ck_assert_int_eq(back, 1709208000);
	tdm_time_format(0, buf, sizeof buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
}
END_TEST

TCase *tcase_clock(void)
{
	TCase *tc = tcase_create("clock");
	tcase_add_test(tc, real_clock);
	tcase_add_test(tc, fake_clock);
	tcase_add_test(tc, env_clock);
	tcase_add_loop_test(tc, parse_good_time, 0,
			    (int)(sizeof good_times / sizeof good_times[0]));
	tcase_add_loop_test(tc, parse_bad_time, 0,
			    (int)(sizeof bad_times / sizeof bad_times[0]));
	tcase_add_test(tc, format_time);
	return tc;
}
