/* Control protocol: round trips, and every malformed frame refused. */
#include "daemon/control.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

TCase *tcase_control(void);

static const char *words[] = { "zone", "add", "-z", "example.org", "", NULL };

START_TEST(request_round_trip)
{
	struct control_request req = { CONTROL_F_JSON, 5, (char **)words }, got;
	struct tdm_err err = { "" };
	enum control_kind kind;
	uint32_t plen;
	uint8_t *buf;
	size_t len;
	int i;
	ck_assert_int_eq(control_request_encode(&req, &buf, &len, &err), 0);
	ck_assert_int_eq(control_header_decode(buf, &kind, &plen, &err), 0);
	ck_assert_int_eq(kind, CONTROL_REQUEST);
	ck_assert_uint_eq(plen, len - CONTROL_HEADER_LEN);
	ck_assert_int_eq(control_request_decode(buf + CONTROL_HEADER_LEN, plen, &got, &err), 0);
	ck_assert_int_eq(got.argc, 5);
	ck_assert_uint_eq(got.flags, CONTROL_F_JSON);
	for (i = 0; i < 5; i++)
		ck_assert_str_eq(got.argv[i], words[i]);
	ck_assert_ptr_null(got.argv[5]);
	control_request_clear(&got);
	free(buf);
}
END_TEST

START_TEST(request_every_truncation_refused)
{
	struct control_request req = { 0, 4, (char **)words }, got;
	struct tdm_err err = { "" };
	uint8_t *buf;
	size_t len, cut;
	ck_assert_int_eq(control_request_encode(&req, &buf, &len, &err), 0);
	for (cut = 0; cut < len - CONTROL_HEADER_LEN; cut++) {
		err.msg[0] = '\0';
		ck_assert_int_eq(control_request_decode(buf + CONTROL_HEADER_LEN, cut, &got, &err),
				 TDM_EPROTO);
		ck_assert_msg(strstr(err.msg, "offset") != NULL, "message names no offset: %s", err.msg);
	}
	free(buf);
}
END_TEST

START_TEST(request_trailing_and_nul_refused)
{
	/* flags 0, argc 1, "a\0" with length 2, then one byte of garbage. */
	uint8_t nul[] = { 0, 0, 0, 0, 0, 1, 0, 2, 'a', 0 };
	uint8_t trailing[] = { 0, 0, 0, 0, 0, 1, 0, 1, 'a', 'x' };
	uint8_t many[] = { 0, 0, 0, 0, 0xff, 0xff };
	struct control_request got;
	struct tdm_err err = { "" };
	ck_assert_int_eq(control_request_decode(nul, sizeof nul, &got, &err), TDM_EPROTO);
	ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
	ck_assert_int_eq(control_request_decode(trailing, sizeof trailing, &got, &err), TDM_EPROTO);
	ck_assert_ptr_nonnull(strstr(err.msg, "trailing"));
	ck_assert_int_eq(control_request_decode(many, sizeof many, &got, &err), TDM_EPROTO);
	ck_assert_ptr_nonnull(strstr(err.msg, "argc"));
}
END_TEST

START_TEST(header_refusals)
{
	uint8_t hdr[CONTROL_HEADER_LEN] = { 'T', 'D', 'M', 'C', 0, 1, 0, 1, 0, 0, 0, 0 };
	struct tdm_err err = { "" };
	enum control_kind kind;
	uint32_t len;
	ck_assert_int_eq(control_header_decode(hdr, &kind, &len, &err), 0);
	hdr[5] = 2;
	ck_assert_int_eq(control_header_decode(hdr, &kind, &len, &err), TDM_EPROTO);
	ck_assert_ptr_nonnull(strstr(err.msg, "version"));
	hdr[5] = 1;
	hdr[7] = 9;
	ck_assert_int_eq(control_header_decode(hdr, &kind, &len, &err), TDM_EPROTO);
	hdr[7] = 1;
	hdr[8] = 0x7f;
	ck_assert_int_eq(control_header_decode(hdr, &kind, &len, &err), TDM_EPROTO);
	ck_assert_ptr_nonnull(strstr(err.msg, "exceeds"));
	hdr[0] = 'X';
	ck_assert_int_eq(control_header_decode(hdr, &kind, &len, &err), TDM_EPROTO);
	ck_assert_ptr_nonnull(strstr(err.msg, "magic"));
}
END_TEST

START_TEST(response_round_trip_and_mismatch)
{
	struct control_response resp = { 3, 0, (char *)"leader is node 2\n", 17 }, got;
	struct tdm_err err = { "" };
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(control_response_encode(&resp, &buf, &len), 0);
	ck_assert_int_eq(control_response_decode(buf + CONTROL_HEADER_LEN,
						 len - CONTROL_HEADER_LEN, &got, &err), 0);
	ck_assert_int_eq(got.status, 3);
	ck_assert_str_eq(got.body, "leader is node 2\n");
	control_response_clear(&got);
	ck_assert_int_eq(control_response_decode(buf + CONTROL_HEADER_LEN,
						 len - CONTROL_HEADER_LEN - 1, &got, &err),
			 TDM_EPROTO);
	free(buf);
}
END_TEST

START_TEST(call_without_daemon)
{
	struct control_request req = { 0, 1, (char **)words };
	struct control_response resp;
	struct tdm_err err = { "" };
	ck_assert_int_eq(control_call("/nonexistent/tandem.sock", &req, &resp, 1000, &err),
			 TDM_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/tandem.sock"));
}
END_TEST

TCase *tcase_control(void)
{
	TCase *tc = tcase_create("control");
	tcase_add_test(tc, request_round_trip);
	tcase_add_test(tc, request_every_truncation_refused);
	tcase_add_test(tc, request_trailing_and_nul_refused);
	tcase_add_test(tc, header_refusals);
	tcase_add_test(tc, response_round_trip_and_mismatch);
	tcase_add_test(tc, call_without_daemon);
	return tc;
}
