/*
 * Signature reuse: unchanged RRsets keep their signatures, byte for byte;
 * changed ones, those within Refresh of expiry, those whose inception is
 * in the future, and those of keys no longer active are remade.
 */
#define _GNU_SOURCE 1
#include "signer_tests.h"

#include <stdlib.h>
#include <string.h>

static const char *zone = "$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nexample. NS ns.example.\n"
			  "ns.example. A 192.0.2.1\nwww.example. A 192.0.2.2\n";

START_TEST(unchanged_is_identical)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", true, false);
	struct tresult r1, r2;
	tkeys_init(&k, false);
	r1 = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r1.rc == 0, "%s", r1.msg);
	ck_assert_uint_gt(r1.st.sigs_made, 0);
	ck_assert_uint_eq(r1.st.sigs_reused, 0);
	r2 = tsign("example", zone, r1.out, sc, &k, T_NOW + 3600);
	ck_assert_msg(r2.rc == 0, "%s", r2.msg);
	ck_assert_uint_eq(r2.st.sigs_made, 0);
	ck_assert_uint_eq(r2.st.sigs_reused, r1.st.sigs_made);
	ck_assert_str_eq(r1.out, r2.out);
	free(r1.out);
	free(r2.out);
	tdm_signconf_free(sc);
}
END_TEST

/* Everything but the signature octets is a function of input and time. */
START_TEST(deterministic_fields)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", true, false);
	struct tresult r1, r2;
	tkeys_init(&k, false);
	r1 = tsign("example", zone, NULL, sc, &k, T_NOW);
	r2 = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_int_eq(r1.rc, 0);
	ck_assert_int_eq(r2.rc, 0);
	for (char *a = r1.out, *b = r2.out; a && b;) {
		char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
		size_t la = na ? (size_t)(na - a) : strlen(a), lb = nb ? (size_t)(nb - b) : strlen(b);
		if (strstr(a, "\tRRSIG\t") != NULL && strstr(a, "\tRRSIG\t") < a + la) {
			/* Up to the last space: all fields but the signature. */
			char *sa = memrchr(a, ' ', la), *sb = memrchr(b, ' ', lb);
			ck_assert_uint_eq((size_t)(sa - a), (size_t)(sb - b));
			ck_assert(memcmp(a, b, (size_t)(sa - a)) == 0);
		} else {
			ck_assert_uint_eq(la, lb);
			ck_assert(memcmp(a, b, la) == 0);
		}
		a = na ? na + 1 : NULL;
		b = nb ? nb + 1 : NULL;
		ck_assert((a == NULL) == (b == NULL));
	}
	free(r1.out);
	free(r2.out);
	tdm_signconf_free(sc);
}
END_TEST

START_TEST(refresh_boundary)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct tresult r1, r2, r3;
	int64_t exp_at = T_NOW + sc->validity_default; /* no jitter below */
	sc->jitter = 0;
	tkeys_init(&k, false);
	r1 = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_int_eq(r1.rc, 0);
	/* expiration - now = Refresh + 1: still good. */
	r2 = tsign("example", zone, r1.out, sc, &k, exp_at - sc->refresh - 1);
	ck_assert_int_eq(r2.rc, 0);
	ck_assert_uint_eq(r2.st.sigs_made, 0);
	/* expiration - now = Refresh: every signature is remade. */
	r3 = tsign("example", zone, r1.out, sc, &k, exp_at - sc->refresh);
	ck_assert_int_eq(r3.rc, 0);
	ck_assert_uint_eq(r3.st.sigs_reused, 0);
	ck_assert_uint_eq(r3.st.sigs_made, r1.st.sigs_made);
	free(r1.out);
	free(r2.out);
	free(r3.out);
	tdm_signconf_free(sc);
}
END_TEST

START_TEST(inception_in_future)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct tresult r1, r2;
	tkeys_init(&k, false);
	r1 = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_int_eq(r1.rc, 0);
	/* Inception was now - 3600; an hour and a second earlier it is in the future. */
	r2 = tsign("example", zone, r1.out, sc, &k, T_NOW - 3601);
	ck_assert_int_eq(r2.rc, 0);
	ck_assert_uint_eq(r2.st.sigs_reused, 0);
	free(r1.out);
	free(r2.out);
	tdm_signconf_free(sc);
}
END_TEST

START_TEST(changed_and_inactive)
{
	struct tkeys k, k2;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct tresult r1, r2, r3;
	const char *zone2 = "$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nexample. NS ns.example.\n"
			    "ns.example. A 192.0.2.1\nwww.example. A 192.0.2.3\n";
	tkeys_init(&k, false);
	r1 = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_int_eq(r1.rc, 0);
	/* www A changed: its signature and the SOA's (new serial). */
	r2 = tsign("example", zone2, r1.out, sc, &k, T_NOW + 60);
	ck_assert_int_eq(r2.rc, 0);
	ck_assert_uint_eq(r2.st.sigs_made, 2);
	/* The KSK becomes a CSK and the ZSK stays published but inactive:
	 * ZSK signatures are dropped, everything but the DNSKEY RRset is
	 * signed again by the CSK; the DNSKEY signature is kept. */
	k2 = k;
	k2.keys[0].zsk = true;
	k2.keys[1].active = false;
	r3 = tsign("example", zone, r1.out, sc, &k2, T_NOW + 60);
	ck_assert_msg(r3.rc == 0, "%s", r3.msg);
	ck_assert_uint_eq(r3.st.sigs_reused, 1);
	ck_assert_uint_eq(r3.st.sigs_made, r1.st.sigs_made - 1);
	ck_assert_uint_eq(r3.st.sigs_dropped, r1.st.sigs_made - 1);
	free(r1.out);
	free(r2.out);
	free(r3.out);
	tdm_signconf_free(sc);
}
END_TEST

TCase *tcase_reuse(void)
{
	TCase *tc = tcase_create("reuse");
	tcase_add_test(tc, unchanged_is_identical);
	tcase_add_test(tc, deterministic_fields);
	tcase_add_test(tc, refresh_boundary);
	tcase_add_test(tc, inception_in_future);
	tcase_add_test(tc, changed_and_inactive);
	return tc;
}
