/*
 * SOA serial policies (counter, datecounter, unixtime, keep) in RFC 1982
 * arithmetic, the keep refusal, and what a re-sign does to the serial.
 */
#include "signer_tests.h"

#include "signer/serial.h"

#include <stdlib.h>
#include <string.h>

START_TEST(policies)
{
	struct tdm_err err;
	uint32_t s;
	/* 2023-11-14T22:13:20Z */
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_COUNTER, 5, false, 0, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 5);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_COUNTER, 5, true, 7, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 8);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_COUNTER, 9, true, 7, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 9);
	/* Wrap-around: 1 is greater than 0xffffffff in serial arithmetic. */
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_COUNTER, 1, true, 0xffffffffu, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 1);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_COUNTER, 5, true, 0xffffffffu, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 5);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_DATECOUNTER, 1, false, 0, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 2023111400);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_DATECOUNTER, 1, true, 2023111405, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 2023111406);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_UNIXTIME, 1, true, 5, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, T_NOW);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_UNIXTIME, 1, true, T_NOW, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, T_NOW + 1);
	/* Never below the input's serial. */
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_UNIXTIME, 2024010101, false, 0, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 2024010101);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_KEEP, 10, false, 0, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 10);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_KEEP, 11, true, 10, T_NOW, &s, &err), 0);
	ck_assert_uint_eq(s, 11);
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_KEEP, 10, true, 10, T_NOW, &s, &err), TDM_ESERIAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "keep"));
	ck_assert_int_eq(signer__serial_next(TDM_SERIAL_KEEP, 9, true, 10, T_NOW, &s, &err), TDM_ESERIAL);
}
END_TEST

static const char *zone_v1 = "$TTL 300\nexample. SOA a. b. 10 2 3 4 5\nexample. NS ns.example.\n"
			     "ns.example. A 192.0.2.1\n";
static const char *zone_v2 = "$TTL 300\nexample. SOA a. b. 10 2 3 4 5\nexample. NS ns.example.\n"
			     "ns.example. A 192.0.2.2\n";
static const char *zone_v3 = "$TTL 300\nexample. SOA a. b. 11 2 3 4 5\nexample. NS ns.example.\n"
			     "ns.example. A 192.0.2.2\n";

START_TEST(resign_serials)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct tresult r1, r2, r3, r4;
	tkeys_init(&k, false);
	r1 = tsign("example", zone_v1, NULL, sc, &k, T_NOW);
	ck_assert_msg(r1.rc == 0, "%s", r1.msg);
	ck_assert_uint_eq(r1.st.serial, 10);
	/* Unchanged: the serial stays, nothing is signed. */
	r2 = tsign("example", zone_v1, r1.out, sc, &k, T_NOW + 60);
	ck_assert_msg(r2.rc == 0, "%s", r2.msg);
	ck_assert_uint_eq(r2.st.serial, 10);
	ck_assert_uint_eq(r2.st.sigs_made, 0);
	ck_assert(r2.st.unchanged);
	/* Changed data, same input serial: counter goes to prev + 1. */
	r3 = tsign("example", zone_v2, r1.out, sc, &k, T_NOW + 60);
	ck_assert_msg(r3.rc == 0, "%s", r3.msg);
	ck_assert_uint_eq(r3.st.serial, 11);
	ck_assert_uint_eq(r3.st.sigs_made, 2); /* the A and the SOA */
	/* keep: refused when the input serial does not increase ... */
	sc->serial = TDM_SERIAL_KEEP;
	r4 = tsign("example", zone_v2, r1.out, sc, &k, T_NOW + 60);
	ck_assert_int_eq(r4.rc, TDM_ESERIAL);
	ck_assert_ptr_nonnull(strstr(r4.msg, "not greater than the previous output's 10"));
	free(r4.out);
	/* ... and accepted when it does. */
	r4 = tsign("example", zone_v3, r1.out, sc, &k, T_NOW + 60);
	ck_assert_msg(r4.rc == 0, "%s", r4.msg);
	ck_assert_uint_eq(r4.st.serial, 11);
	free(r1.out);
	free(r2.out);
	free(r3.out);
	free(r4.out);
	tdm_signconf_free(sc);
}
END_TEST

TCase *tcase_serial(void)
{
	TCase *tc = tcase_create("serial");
	tcase_add_test(tc, policies);
	tcase_add_test(tc, resign_serials);
	return tc;
}
