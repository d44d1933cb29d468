/*
 * Which key signs what: the KSKs sign the apex DNSKEY, CDS and CDNSKEY
 * RRsets (RFC 7344 §4.1, RFC 8078), with <Validity><Keyset> when set; the
 * ZSKs everything else, a DNSKEY below the apex included; a CSK does both.
 * Also: a previous output in another signer's order is still reused, and
 * one merged by two threads (each reading half the file) gives the same.
 */
#define _GNU_SOURCE 1
#include "signer_tests.h"

#include "hsm/hsm.h"
#include "signer/reuse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define B64_64 "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ=="

static const char *zone =
	"$TTL 300\n"
	"example. SOA a. b. 1 2 3 4 5\n"
	"example. NS ns.example.\n"
	"example. CDS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"example. CDNSKEY 257 3 13 " B64_64 "\n"
	"ns.example. A 192.0.2.1\n"
	"sub.example. DNSKEY 256 3 13 " B64_64 "\n"
	"sub.example. CDS 1 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";

struct sig {
	unsigned tag;
	unsigned long exp;
};

static unsigned long ymdhms_to_unix(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	sscanf(s, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	       &tm.tm_min, &tm.tm_sec);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (unsigned long)timegm(&tm);
}

/* The RRSIGs at `owner` covering `type`: their key tags and expirations; the count. */
static int sigs_of(const char *out, const char *owner, const char *type, struct sig *s, int max)
{
	int n = 0;
	char pfx[256];
	size_t pl = (size_t)snprintf(pfx, sizeof pfx, "%s\t", owner);
	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n');
		const char *r = strstr(l, "\tRRSIG\t");
		if (strncmp(l, pfx, pl) == 0 && r != NULL && (nl == NULL || r < nl)) {
			char cov[16], exp[16];
			unsigned alg, labels, ttl, tag;
			char inc[16];
			if (sscanf(r + 7, "%15s %u %u %u %15s %15s %u", cov, &alg, &labels, &ttl, exp,
				   inc, &tag) == 7 &&
			    strcmp(cov, type) == 0 && n < max) {
				s[n].tag = tag;
				s[n].exp = ymdhms_to_unix(exp);
				n++;
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return n;
}

static unsigned tag_of(const struct tkeys *k, size_t i)
{
	return hsm_keytag(k->keys[i].dnskey, k->keys[i].dnskey_len);
}

START_TEST(ksk_signs_cds_cdnskey)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", true, false);
	struct tresult r, r2;
	struct sig s[4];
	unsigned ksk, zsk;
	sc->jitter = 0;
	sc->validity_keyset = 7 * 86400;
	tkeys_init(&k, false);
	ksk = tag_of(&k, 0);
	zsk = tag_of(&k, 1);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	/* The apex key set: one signature each, by the KSK, keyset validity. */
	ck_assert_int_eq(sigs_of(r.out, "example.", "DNSKEY", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, ksk);
	ck_assert_uint_eq(s[0].exp, T_NOW + 7 * 86400);
	ck_assert_int_eq(sigs_of(r.out, "example.", "CDS", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, ksk);
	ck_assert_uint_eq(s[0].exp, T_NOW + 7 * 86400);
	ck_assert_int_eq(sigs_of(r.out, "example.", "CDNSKEY", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, ksk);
	/* Everything else by the ZSK, default validity. */
	ck_assert_int_eq(sigs_of(r.out, "example.", "SOA", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, zsk);
	ck_assert_uint_eq(s[0].exp, T_NOW + 14 * 86400);
	ck_assert_int_eq(sigs_of(r.out, "example.", "NS", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, zsk);
	ck_assert_int_eq(sigs_of(r.out, "example.", "NSEC3PARAM", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, zsk);
	/* Below the apex a DNSKEY or CDS is ordinary data. */
	ck_assert_int_eq(sigs_of(r.out, "sub.example.", "DNSKEY", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, zsk);
	ck_assert_int_eq(sigs_of(r.out, "sub.example.", "CDS", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, zsk);
	/* Re-signed unchanged: the KSK's signatures are reused like the others. */
	r2 = tsign("example", zone, r.out, sc, &k, T_NOW + 60);
	ck_assert_msg(r2.rc == 0, "%s", r2.msg);
	ck_assert_uint_eq(r2.st.sigs_made, 0);
	ck_assert_uint_eq(r2.st.sigs_reused, r.st.sigs_made);
	ck_assert_str_eq(r.out, r2.out);
	free(r.out);
	free(r2.out);
	tdm_signconf_free(sc);
}
END_TEST

START_TEST(csk_signs_everything_once)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct tresult r;
	struct sig s[4];
	unsigned csk;
	tkeys_init(&k, true);
	csk = tag_of(&k, 0);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	ck_assert_int_eq(sigs_of(r.out, "example.", "DNSKEY", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, csk);
	ck_assert_int_eq(sigs_of(r.out, "example.", "CDS", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, csk);
	ck_assert_int_eq(sigs_of(r.out, "example.", "CDNSKEY", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, csk);
	ck_assert_int_eq(sigs_of(r.out, "example.", "SOA", s, 4), 1);
	ck_assert_uint_eq(s[0].tag, csk);
	ck_assert_int_eq(sigs_of(r.out, "sub.example.", "DNSKEY", s, 4), 1);
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

/* A previous output in reverse line order (owners out of canonical order,
 * RRSIGs before the records they cover) is reused all the same. */
START_TEST(reuse_any_order)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", true, false);
	struct tresult r1, r2;
	char *rev, **lines = NULL;
	size_t n = 0, len;
	tkeys_init(&k, false);
	r1 = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r1.rc == 0, "%s", r1.msg);
	len = strlen(r1.out);
	rev = malloc(len + 2);
	rev[0] = '\0';
	for (char *l = r1.out, *nl; *l; l = nl + 1) {
		nl = strchr(l, '\n');
		lines = realloc(lines, (n + 1) * sizeof *lines);
		lines[n++] = strndup(l, (size_t)(nl - l + 1));
	}
	while (n > 0) {
		strcat(rev, lines[--n]);
		free(lines[n]);
	}
	free(lines);
	/* One thread, then two (the apex SOA is then in the second half). */
	for (int split = 0; split < 2; split++) {
		size_t saved = signer__merge_split_min;
		if (split)
			signer__merge_split_min = 0;
		r2 = tsign("example", zone, rev, sc, &k, T_NOW + 60);
		signer__merge_split_min = saved;
		ck_assert_msg(r2.rc == 0, "%s", r2.msg);
		ck_assert_uint_eq(r2.st.sigs_made, 0);
		ck_assert_uint_eq(r2.st.sigs_reused, r1.st.sigs_made);
		ck_assert(r2.st.unchanged);
		if (split == 0)
			free(r2.out);
	}
	free(rev);
	free(r1.out);
	free(r2.out);
	tdm_signconf_free(sc);
}
END_TEST

static char *many_names(int n)
{
	char *z = malloc((size_t)n * 80 + 256);
	size_t o = (size_t)sprintf(z, "$ORIGIN example.\n$TTL 300\n@ SOA a. b. 1 2 3 4 5\n@ NS ns\n");
	for (int i = 0; i < n; i++) {
		o += (size_t)sprintf(z + o, "h%d A 10.0.%d.%d\n", i, (i >> 8) & 255, i & 255);
		if (i % 3 == 0)
			o += (size_t)sprintf(z + o, "d%d NS ns.other.\nd%d DS 1 13 2 %064d\n", i, i, i);
	}
	return z;
}

/* The two-thread merge, in canonical order and reversed, reuses everything
 * and changes nothing; a change is still found. */
START_TEST(reuse_two_threads)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", true, false);
	struct tresult r1, r2, r3;
	char *zone1 = many_names(300), *zone2;
	size_t saved = signer__merge_split_min;
	char *p;
	signer__merge_split_min = 0;
	tkeys_init(&k, false);
	r1 = tsign("example", zone1, NULL, sc, &k, T_NOW);
	ck_assert_msg(r1.rc == 0, "%s", r1.msg);
	r2 = tsign("example", zone1, r1.out, sc, &k, T_NOW + 60);
	ck_assert_msg(r2.rc == 0, "%s", r2.msg);
	ck_assert_uint_eq(r2.st.sigs_made, 0);
	ck_assert_uint_eq(r2.st.sigs_reused, r1.st.sigs_made);
	ck_assert(r2.st.unchanged);
	ck_assert_str_eq(r1.out, r2.out);
	/* One address changes: its signature and the SOA's are made. */
	zone2 = strdup(zone1);
	p = strstr(zone2, "h250 A 10.0.0.250");
	ck_assert_ptr_nonnull(p);
	memcpy(p, "h250 A 10.0.0.251", 17);
	r3 = tsign("example", zone2, r1.out, sc, &k, T_NOW + 60);
	ck_assert_msg(r3.rc == 0, "%s", r3.msg);
	ck_assert_uint_eq(r3.st.sigs_made, 2);
	ck_assert_uint_eq(r3.st.sigs_reused, r1.st.sigs_made - 2);
	signer__merge_split_min = saved;
	free(zone1);
	free(zone2);
	free(r1.out);
	free(r2.out);
	free(r3.out);
	tdm_signconf_free(sc);
}
END_TEST

TCase *tcase_roles(void)
{
	TCase *tc = tcase_create("roles");
	tcase_add_test(tc, ksk_signs_cds_cdnskey);
	tcase_add_test(tc, csk_signs_everything_once);
	tcase_add_test(tc, reuse_any_order);
	tcase_add_test(tc, reuse_two_threads);
	return tc;
}
