/*
 * TTLs: one TTL per RRset (RFC 2181 §5.2, the lowest wins), the SOA TTL
 * and MINIMUM and the DNSKEY TTL from the signconf, the denial TTL
 * min(SOA TTL, SOA MINIMUM) (RFC 9077) or the signconf's NSEC3 TTL.
 */
#include "signer_tests.h"

#include <stdlib.h>
#include <string.h>

START_TEST(normalised)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	const char *zone = "example. 7200 SOA a. b. 1 2 3 4 86400\n"
			   "x.example. 600 A 192.0.2.1\nx.example. 300 A 192.0.2.2\n"
			   "x.example. 900 A 192.0.2.3\n";
	struct tresult r;
	tkeys_init(&k, false);
	sc->soa_ttl = 1800;
	sc->soa_minimum = 600;
	sc->dnskey_ttl = 7200;
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	ck_assert_ptr_nonnull(strstr(r.out, "x.example.\t300\tIN\tA\t192.0.2.1\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "x.example.\t300\tIN\tA\t192.0.2.3\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "x.example.\t300\tIN\tRRSIG\tA 13 2 300 "));
	ck_assert_ptr_nonnull(strstr(r.out, "example.\t1800\tIN\tSOA\ta. b. 1 2 3 4 600\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "example.\t7200\tIN\tDNSKEY\t257 3 13 "));
	ck_assert_ptr_nonnull(strstr(r.out, "example.\t600\tIN\tNSEC\tx.example. "));
	free(r.out);
	/* The signconf's NSEC3 TTL wins for NSEC3. */
	sc->nsec3 = true;
	sc->nsec3_ttl = 42;
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	ck_assert_ptr_nonnull(strstr(r.out, "\t42\tIN\tNSEC3\t1 0 0 - "));
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

START_TEST(duplicates_removed)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	const char *zone = "$TTL 300\nexample. SOA a. b. 1 2 3 4 5\n"
			   "x.example. NS NS.Other.\nx.example. NS ns.other.\n"
			   "y.example. A 192.0.2.1\ny.example. A 192.0.2.1\n";
	struct tresult r;
	tkeys_init(&k, false);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	/* Duplicates by canonical form (names compare without case). */
	ck_assert_int_eq(tcount(r.out, "x.example.", "NS"), 1);
	ck_assert_int_eq(tcount(r.out, "y.example.", "A"), 1);
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

TCase *tcase_ttl(void)
{
	TCase *tc = tcase_create("ttl");
	tcase_add_test(tc, normalised);
	tcase_add_test(tc, duplicates_removed);
	return tc;
}
