/* The writer's text forms: results between nodes, entries as hex arguments. */
#include "daemon/writer.h"
#include "daemon/control.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

TCase *tcase_writer_text(void);

START_TEST(result_round_trip)
{
	struct ledger_result r = { .status = LEDGER_NOT_FOUND, .type = LEDGER_CMD_NODE_DEL,
				   .id = { 3, 41 }, .index = 977 }, back;
	char text[400];
	strcpy(r.msg, "node 9: not a member");
	writer_result_format(&r, text, sizeof text);
	ck_assert_int_eq(writer_result_parse(text, &back), 0);
	ck_assert_int_eq(back.status, LEDGER_NOT_FOUND);
	ck_assert_uint_eq(back.type, LEDGER_CMD_NODE_DEL);
	ck_assert_uint_eq(back.id.origin, 3);
	ck_assert_uint_eq(back.id.seq, 41);
	ck_assert_uint_eq(back.index, 977);
	ck_assert_str_eq(back.msg, "node 9: not a member");
	ck_assert_int_eq(writer_result_parse("garbage", &back), TDM_EPROTO);
	ck_assert_int_eq(writer_result_parse("WEIRD 1 TEST 1:1\n", &back), TDM_EPROTO);
}
END_TEST

START_TEST(entry_hex_round_trip)
{
	size_t len = 200000, back_len;
	uint8_t *buf = malloc(len), *back;
	struct control_request req;
	struct tdm_err err = { "" };
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	ck_assert_int_eq(writer_entry_request(buf, len, &req), 0);
	ck_assert(req.flags & CONTROL_F_FORWARDED);
	ck_assert_str_eq(req.argv[0], "entry");
	ck_assert_int_gt(req.argc, 3); /* split into several arguments */
	for (int i = 2; i < req.argc; i++)
		ck_assert_uint_le(strlen(req.argv[i]), CONTROL_MAX_ARG);
	ck_assert_int_eq(writer_entry_from_args(req.argc - 2, req.argv + 2, &back, &back_len, &err), 0);
	ck_assert_uint_eq(back_len, len);
	ck_assert_int_eq(memcmp(back, buf, len), 0);
	free(back);
	control_request_clear(&req);
	free(buf);
}
END_TEST

START_TEST(entry_hex_refused)
{
	char *bad1[] = { "0g" }, *bad2[] = { "abc" }, *empty[] = { "" };
	uint8_t *out;
	size_t len;
	struct tdm_err err = { "" };
	ck_assert_int_eq(writer_entry_from_args(1, bad1, &out, &len, &err), TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a hex byte"));
	ck_assert_int_eq(writer_entry_from_args(1, bad2, &out, &len, &err), TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "odd"));
	ck_assert_int_eq(writer_entry_from_args(1, empty, &out, &len, &err), TDM_EINVAL);
}
END_TEST

TCase *tcase_writer_text(void)
{
	TCase *tc = tcase_create("writer_text");
	tcase_add_test(tc, result_round_trip);
	tcase_add_test(tc, entry_hex_round_trip);
	tcase_add_test(tc, entry_hex_refused);
	return tc;
}
