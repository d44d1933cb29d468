/*
 * Denial of existence and the zone rules: NSEC and NSEC3 chains with empty
 * non-terminals, wildcards, opt-out, delegations with and without glue,
 * secure delegations and occluded names.  Every output also goes through
 * ldns-verify-zone when it is installed.
 */
#include "signer_tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *zone =
	"$ORIGIN example.\n$TTL 300\n"
	"@ SOA ns.example. h.example. 1 2 3 4 5\n@ NS ns\n"
	"ns A 192.0.2.1\n"
	"www A 192.0.2.2\n"
	"*.w A 192.0.2.3\n"
	"glued NS ns.glued\nglued A 192.0.2.40\nns.glued A 192.0.2.4\n"
	"deep.below.glued A 192.0.2.5\n"
	"nog NS ns.other.\n"
	"sec NS ns.other.\n"
	"sec DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"a.b.c A 192.0.2.6\n"
	"x.y.ins NS ns.other.\n";

static int count_type(const char *out, const char *type)
{
	char pat[32];
	int n = 0;
	const char *p = out;
	snprintf(pat, sizeof pat, "\tIN\t%s\t", type);
	while ((p = strstr(p, pat)) != NULL) {
		n++;
		p++;
	}
	return n;
}

static void verify_with_ldns(const char *out)
{
	char *dir, *path, cmd[1024];
	if (access("/usr/bin/ldns-verify-zone", X_OK) != 0)
		return;
	dir = tmkdtemp();
	path = twrite_tmp(dir, "signed", out);
	snprintf(cmd, sizeof cmd, "/usr/bin/ldns-verify-zone -t 20231115000000 '%s' >/dev/null 2>&1",
		 path);
	ck_assert_msg(system(cmd) == 0, "ldns-verify-zone rejects the output");
	free(path);
	trmdir(dir);
}

static struct tresult sign(bool nsec3, bool optout)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", nsec3, optout);
	struct tresult r;
	tkeys_init(&k, false);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	tdm_signconf_free(sc);
	return r;
}

START_TEST(nsec_chain)
{
	struct tresult r = sign(false, false);
	/* 9 names in the chain: apex, a.b.c, glued, nog, ns, sec, *.w, www, x.y.ins. */
	ck_assert_int_eq(count_type(r.out, "NSEC"), 9);
	ck_assert_int_eq(tcount(r.out, "ns.glued.example.", "NSEC"), 0);
	ck_assert_int_eq(tcount(r.out, "ns.glued.example.", "RRSIG"), 0);
	ck_assert_int_eq(tcount(r.out, "ns.glued.example.", "A"), 1);
	ck_assert_int_eq(tcount(r.out, "deep.below.glued.example.", "A"), 1);
	ck_assert_int_eq(tcount(r.out, "deep.below.glued.example.", "RRSIG"), 0);
	/* A delegation: NS and glue at the cut unsigned, NSEC signed, bitmap NS RRSIG NSEC. */
	ck_assert_ptr_nonnull(strstr(r.out, "glued.example.\t300\tIN\tNSEC\tx.y.ins.example. NS RRSIG NSEC\n"));
	ck_assert_int_eq(tcount(r.out, "glued.example.", "RRSIG"), 1);
	/* A secure delegation: DS signed. */
	ck_assert_ptr_nonnull(strstr(r.out, "sec.example.\t300\tIN\tRRSIG\tDS 13 2 300 "));
	ck_assert_ptr_nonnull(strstr(r.out, "sec.example.\t300\tIN\tNSEC\t*.w.example. NS DS RRSIG NSEC\n"));
	/* Wildcard: labels field without the "*". */
	ck_assert_ptr_nonnull(strstr(r.out, "*.w.example.\t300\tIN\tRRSIG\tA 13 2 300 "));
	/* Empty non-terminals are skipped; the last NSEC points back to the apex;
	 * the TTL is min(SOA TTL, MINIMUM) = 300. */
	ck_assert_ptr_nonnull(strstr(r.out, "x.y.ins.example.\t300\tIN\tNSEC\tnog.example. NS RRSIG NSEC\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "www.example.\t300\tIN\tNSEC\texample. A RRSIG NSEC\n"));
	verify_with_ldns(r.out);
	free(r.out);
}
END_TEST

START_TEST(nsec3_chain)
{
	struct tresult r = sign(true, false);
	/* 9 names + 5 empty non-terminals (c, b.c, w, ins, y.ins). */
	ck_assert_int_eq(count_type(r.out, "NSEC3"), 14);
	ck_assert_int_eq(count_type(r.out, "NSEC3PARAM"), 1);
	ck_assert_ptr_nonnull(strstr(r.out, "example.\t300\tIN\tNSEC3PARAM\t1 0 0 -\n"));
	ck_assert_int_eq(count_type(r.out, "NSEC"), 0);
	ck_assert_ptr_null(strstr(r.out, "\tNSEC3\t1 1 "));
	verify_with_ldns(r.out);
	free(r.out);
}
END_TEST

START_TEST(nsec3_optout)
{
	struct tresult r = sign(true, true);
	/* Insecure delegations (glued, nog, x.y.ins) and the ENTs above only
	 * them (ins, y.ins) have no NSEC3: 6 names + c, b.c, w. */
	ck_assert_int_eq(count_type(r.out, "NSEC3"), 9);
	ck_assert_ptr_null(strstr(r.out, "\tNSEC3\t1 0 "));
	ck_assert_ptr_nonnull(strstr(r.out, "\tNSEC3\t1 1 0 - "));
	/* NSEC3PARAM flags stay 0 (RFC 5155 §4.1.2). */
	ck_assert_ptr_nonnull(strstr(r.out, "example.\t300\tIN\tNSEC3PARAM\t1 0 0 -\n"));
	verify_with_ldns(r.out);
	free(r.out);
}
END_TEST

START_TEST(zone_errors)
{
	static const struct {
		const char *zone, *want;
	} cases[] = {
		{ "$TTL 300\nwww.example. A 192.0.2.1\n", "no SOA" },
		{ "$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nexample. SOA a. b. 2 2 3 4 5\n", "more than one SOA" },
		{ "$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nx.example. CNAME y.example.\nx.example. A 192.0.2.1\n",
		  "x.example.: CNAME and other data" },
		{ "$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nx.example. DS 1 13 2 00\n", "DS record without a delegation" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tkeys k;
		struct tdm_signconf *sc = tsc_new("example", false, false);
		struct tresult r;
		tkeys_init(&k, false);
		r = tsign("example", cases[i].zone, NULL, sc, &k, T_NOW);
		ck_assert_int_eq(r.rc, TDM_EZONE);
		ck_assert_msg(strstr(r.msg, cases[i].want) != NULL, "'%s' lacks '%s'", r.msg,
			      cases[i].want);
		free(r.out);
		tdm_signconf_free(sc);
	}
}
END_TEST

START_TEST(csk_signs_everything)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", true, false);
	struct tresult r;
	tkeys_init(&k, true);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	ck_assert_int_eq(tcount(r.out, "example.", "DNSKEY"), 1);
	verify_with_ldns(r.out);
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

TCase *tcase_chain(void)
{
	TCase *tc = tcase_create("chain");
	tcase_add_test(tc, nsec_chain);
	tcase_add_test(tc, nsec3_chain);
	tcase_add_test(tc, nsec3_optout);
	tcase_add_test(tc, zone_errors);
	tcase_add_test(tc, csk_signs_everything);
	return tc;
}
