/*
 * Error names and message buffers: set, wrap (prefixing, truncation),
 * fail, clear, and the log level filter.
 */
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common_tests.h"

START_TEST(names)
{
	ck_assert_str_eq(tdm_strerror(0), "success");
	ck_assert_str_eq(tdm_strerror(TDM_ENOTLEADER), "not the leader");
	ck_assert_str_eq(tdm_strerror(TDM_ESCHEMA), "schema validation failed");
	ck_assert_str_eq(tdm_strerror(TDM_ENOENT), strerror(ENOENT));
	ck_assert_str_eq(tdm_strerror(-5000), "unknown error");
	ck_assert_str_eq(tdm_strerror(7), "unknown error");
}
END_TEST

START_TEST(wrap)
{
	struct tdm_err err;
	tdm_err_clear(&err);
	ck_assert_str_eq(err.msg, "");
	tdm_err_wrap(&err, "outer");
	ck_assert_str_eq(err.msg, "outer");
	tdm_err_set(&err, "not a duration: %s", "P1X");
	tdm_err_wrap(&err, "<Lifetime>");
	tdm_err_wrap(&err, "kasp.xml:%d", 41);
	ck_assert_str_eq(err.msg, "kasp.xml:41: <Lifetime>: not a duration: P1X");
	ck_assert_int_eq(tdm_err_fail(&err, TDM_EPARSE, "x%d", 1), TDM_EPARSE);
	ck_assert_str_eq(err.msg, "x1");
	ck_assert_int_eq(tdm_err_fail(NULL, TDM_EIO, "ignored"), TDM_EIO);
	tdm_err_set(NULL, "ignored");
	tdm_err_wrap(NULL, "ignored");
}
END_TEST

START_TEST(wrap_truncates)
{
	struct tdm_err err;
	char big[2 * TDM_ERRMSG_SIZE];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	tdm_err_set(&err, "%s", "cause");
	tdm_err_wrap(&err, "%s", big);
	ck_assert_uint_eq(strlen(err.msg), TDM_ERRMSG_SIZE - 1);
	tdm_err_set(&err, "%s", big);
	ck_assert_uint_eq(strlen(err.msg), TDM_ERRMSG_SIZE - 1);
	tdm_err_wrap(&err, "prefix");
	ck_assert_uint_eq(strlen(err.msg), TDM_ERRMSG_SIZE - 1);
	ck_assert(strncmp(err.msg, "prefix: aaa", 11) == 0);
}
END_TEST

START_TEST(log_levels)
{
	tdm_log_init("check_common", false, 0, false, TDM_LOG_WARN);
	ck_assert(tdm_log_enabled(TDM_LOG_ERR));
	ck_assert(tdm_log_enabled(TDM_LOG_WARN));
	ck_assert(!tdm_log_enabled(TDM_LOG_NOTICE));
	tdm_log_set_verbosity(TDM_LOG_DEBUG);
	ck_assert(tdm_log_enabled(TDM_LOG_DEBUG));
	tdm_log_info("printed nowhere: stderr and syslog are off");
}
END_TEST

TCase *tcase_error(void)
{
	TCase *tc = tcase_create("error");
	tcase_add_test(tc, names);
	tcase_add_test(tc, wrap);
	tcase_add_test(tc, wrap_truncates);
	tcase_add_test(tc, log_levels);
	return tc;
}
