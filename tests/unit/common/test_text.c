/* Hex and JSON writers: the small text helpers every module shares. */
#include "common/error.h"
#include "common/hex.h"
#include "common/json.h"

#include <stdlib.h>
#include <string.h>

#include "common_tests.h"

START_TEST(hex_round_trip)
{
	const uint8_t in[] = { 0x00, 0x7f, 0x80, 0xff, 0xab };
	uint8_t out[8], *heap;
	char text[16];
	size_t n;
	tdm_hex_encode(in, sizeof in, text);
	ck_assert_str_eq(text, "007f80ffab");
	ck_assert_int_eq(tdm_hex_decode("007F80FFab", out, sizeof out, &n), 0);
	ck_assert_uint_eq(n, sizeof in);
	ck_assert_mem_eq(out, in, sizeof in);
	ck_assert_int_eq(tdm_hex_decode_alloc("", &heap, &n), 0);
	ck_assert_ptr_null(heap);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(tdm_hex_decode_alloc("beef", &heap, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(heap[0], 0xbe);
	free(heap);
}
END_TEST

START_TEST(hex_refusals)
{
	uint8_t out[2], *heap = (uint8_t *)"untouched";
	size_t n = 99;
	ck_assert_int_eq(tdm_hex_decode("abc", out, sizeof out, &n), TDM_EPARSE);
	ck_assert_int_eq(tdm_hex_decode("zz", out, sizeof out, &n), TDM_EPARSE);
	ck_assert_int_eq(tdm_hex_decode("0a0b0c", out, sizeof out, &n), TDM_ERANGE);
	ck_assert_uint_eq(n, 99);
	ck_assert_int_eq(tdm_hex_decode_alloc("0g", &heap, &n), TDM_EPARSE);
	ck_assert_str_eq((const char *)heap, "untouched");
}
END_TEST

START_TEST(json_nesting_and_escapes)
{
	struct tdm_json j;
	tdm_json_init(&j);
	tdm_json_object_begin(&j);
	tdm_json_kv_string(&j, "name", "a\"b\\c\n\x01");
	tdm_json_key(&j, "list");
	tdm_json_array_begin(&j);
	tdm_json_int(&j, -1);
	tdm_json_uint(&j, 18446744073709551615u);
	tdm_json_bool(&j, true);
	tdm_json_null(&j);
	tdm_json_string(&j, NULL);
	tdm_json_array_end(&j);
	tdm_json_kv_double(&j, "rate", 0.5);
	tdm_json_kv_double(&j, "nan", 0.0 / 0.0);
	tdm_json_object_end(&j);
	ck_assert_str_eq(tdm_json_text(&j),
			 "{\"name\":\"a\\\"b\\\\c\\n\\u0001\",\"list\":[-1,18446744073709551615,"
			 "true,null,null],\"rate\":0.5,\"nan\":null}");
	tdm_json_free(&j);
}
END_TEST

TCase *tcase_text(void)
{
	TCase *tc = tcase_create("text");
	tcase_add_test(tc, hex_round_trip);
	tcase_add_test(tc, hex_refusals);
	tcase_add_test(tc, json_nesting_and_escapes);
	return tc;
}
