/*
 * Names: parsing with escapes, the canonical sort key (RFC 4034 §6.1)
 * including mixed case, escaped dots and \000 labels, and the order of
 * owners in the signed output; Base32hex (NSEC3 owners) both ways.
 */
#include "signer_tests.h"

#include "signer/codec.h"
#include "signer/name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t key_of(const char *text, uint8_t *key)
{
	uint8_t wire[256];
	size_t wl;
	const char *why = NULL;
	ck_assert_msg(signer__name_parse(text, strlen(text), NULL, wire, &wl, &why) == 0,
		      "%s: %s", text, why);
	return signer__name_key(wire, key);
}

static int cmp_names(const char *a, const char *b)
{
	uint8_t ka[SIGNER_KEY_MAX], kb[SIGNER_KEY_MAX];
	size_t la = key_of(a, ka), lb = key_of(b, kb);
	int c = memcmp(ka, kb, la < lb ? la : lb);
	if (c)
		return c;
	return la < lb ? -1 : la > lb;
}

START_TEST(rfc4034_order)
{
	/* RFC 4034 §6.1's example, in order, plus \000 labels. */
	static const char *names[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\000.z.example.", "\\001.z.example.",
		"*.z.example.", "\\200.z.example.", "z\\000.example.", "z\\000\\000.example.",
		"z\\001.example.",
	};
	for (size_t i = 1; i < sizeof names / sizeof names[0]; i++)
		ck_assert_msg(cmp_names(names[i - 1], names[i]) < 0, "%s < %s", names[i - 1],
			      names[i]);
}
END_TEST

START_TEST(case_and_escapes)
{
	uint8_t wire[256];
	size_t wl;
	const char *why;
	char buf[SIGNER_NAME_STR_MAX];
	ck_assert_int_eq(cmp_names("ExAmPlE.COM.", "example.com."), 0);
	ck_assert_int_eq(cmp_names("\\065.example.", "a.example."), 0);
	/* An escaped dot is part of the label. */
	ck_assert_int_eq(signer__name_parse("a\\.b.example.", 13, NULL, wire, &wl, &why), 0);
	ck_assert_uint_eq(wire[0], 3);
	signer__name_format(wire, buf);
	ck_assert_str_eq(buf, "a\\.b.example.");
	ck_assert_int_ne(cmp_names("a\\.b.example.", "a.b.example."), 0);
	/* Relative names take the origin; "@" is the origin. */
	{
		uint8_t origin[256], w2[256];
		size_t ol, l2;
		ck_assert_int_eq(signer__name_parse("Example.", 8, NULL, origin, &ol, &why), 0);
		ck_assert_int_eq(signer__name_parse("www", 3, origin, w2, &l2, &why), 0);
		signer__name_format(w2, buf);
		ck_assert_str_eq(buf, "www.Example.");
		ck_assert_int_eq(signer__name_parse("@", 1, origin, w2, &l2, &why), 0);
		ck_assert_uint_eq(l2, ol);
	}
	/* Bad names. */
	ck_assert_int_ne(signer__name_parse("a..b.", 5, NULL, wire, &wl, &why), 0);
	ck_assert_int_ne(signer__name_parse("a\\256.", 6, NULL, wire, &wl, &why), 0);
	ck_assert_int_ne(signer__name_parse("a\\2", 3, NULL, wire, &wl, &why), 0);
	{
		char longlabel[80];
		memset(longlabel, 'x', 64);
		strcpy(longlabel + 64, ".");
		ck_assert_int_ne(signer__name_parse(longlabel, 65, NULL, wire, &wl, &why), 0);
	}
	/* Labels for RRSIG: the root and a leading "*" do not count. */
	ck_assert_int_eq(signer__name_parse("*.a.example.", 12, NULL, wire, &wl, &why), 0);
	ck_assert_uint_eq(signer__name_rrsig_labels(wire), 2);
}
END_TEST

START_TEST(output_order)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	const char *zone =
		"$ORIGIN example.\n$TTL 300\n"
		"@ SOA ns.example. h.example. 1 2 3 4 5\n@ NS ns\n"
		"z A 192.0.2.1\nzABC.a A 192.0.2.2\nZ.a A 192.0.2.3\n"
		"\\000.z A 192.0.2.4\n*.z A 192.0.2.5\nyljkjljk.a A 192.0.2.6\n"
		"a A 192.0.2.7\nns A 192.0.2.8\n\\200.z A 192.0.2.9\n\\001.z A 192.0.2.10\n";
	static const char *want[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.example.", "ns.example.", "z.example.", "\\000.z.example.",
		"\\001.z.example.", "*.z.example.", "\\200.z.example.",
	};
	struct tresult r;
	const char *l;
	size_t w = 0;
	tkeys_init(&k, false);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	/* Owners appear in exactly the canonical order. */
	for (l = r.out; l && *l;) {
		size_t ol = strcspn(l, "\t");
		if (w < sizeof want / sizeof want[0] && strlen(want[w]) == ol &&
		    strncmp(l, want[w], ol) == 0)
			w++;
		else if (!(w > 0 && strlen(want[w - 1]) == ol && strncmp(l, want[w - 1], ol) == 0))
			ck_abort_msg("unexpected owner order at: %.60s", l);
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	ck_assert_uint_eq(w, sizeof want / sizeof want[0]);
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

/* Prepared and written without signing (no signatures: no randomness). */
static char *layout(const char *zone)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct signer_zone *z = NULL;
	struct signer_params p;
	struct tdm_err err;
	FILE *f = tmpfile();
	char *buf;
	long n;
	tkeys_init(&k, false);
	ck_assert_int_eq(signer_zone_read_mem(&z, "example", zone, strlen(zone), "z", &err), 0);
	memset(&p, 0, sizeof p);
	p.sc = sc;
	p.keys = k.keys;
	p.n_keys = k.n;
	p.now = T_NOW;
	ck_assert_msg(signer_zone_prepare(z, &p, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(signer_zone_write_fp(z, f, &err), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	signer_zone_free(z);
	tdm_signconf_free(sc);
	return buf;
}

/* Enough names for the radix sort; labels that share 8-octet prefixes
 * (ties the radix passes leave to full comparisons) and mixed case. */
START_TEST(large_zone_order)
{
	enum { N = 6000 };
	char *fwd = malloc(N * 64 + 256), *rev = malloc(N * 64 + 256), *o1, *o2;
	static const char *head = "$ORIGIN example.\n$TTL 300\n@ SOA a. b. 1 2 3 4 5\n";
	size_t a = (size_t)sprintf(fwd, "%s", head), b = (size_t)sprintf(rev, "%s", head);
	uint8_t prev[SIGNER_KEY_MAX];
	size_t prev_len = 0;
	for (int i = 0; i < N; i++) {
		unsigned h = (unsigned)i * 2654435761u;
		a += (size_t)sprintf(fwd + a, "%s%08x%u A 192.0.2.1\n", (h & 1) ? "Long-Prefix-" : "",
				     h >> 4, (unsigned)i % 7);
	}
	/* The same lines in reverse order. */
	for (char *e = fwd + a; e > fwd + strlen(head);) {
		char *l = e - 1;
		while (l > fwd + strlen(head) && l[-1] != '\n')
			l--;
		memcpy(rev + b, l, (size_t)(e - l));
		b += (size_t)(e - l);
		e = l;
	}
	rev[b] = '\0';
	o1 = layout(fwd);
	o2 = layout(rev);
	ck_assert_str_eq(o1, o2);
	/* And the owners of the output never go back in canonical order. */
	for (const char *l = o1; l && *l;) {
		uint8_t wire[256], key[SIGNER_KEY_MAX];
		size_t ol = strcspn(l, "\t"), wl, kl;
		const char *why;
		ck_assert_int_eq(signer__name_parse(l, ol, NULL, wire, &wl, &why), 0);
		kl = signer__name_key(wire, key);
		if (prev_len > 0) {
			int c = memcmp(prev, key, prev_len < kl ? prev_len : kl);
			ck_assert(c < 0 || (c == 0 && prev_len <= kl));
		}
		memcpy(prev, key, kl);
		prev_len = kl;
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	free(fwd);
	free(rev);
	free(o1);
	free(o2);
}
END_TEST

START_TEST(base32hex)
{
	uint8_t in[20], out[24];
	char txt[40];
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(round % 21), tl;
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(round * 37 + i * 11);
		tl = signer__b32hex_encode(in, n, txt);
		ck_assert_int_eq(signer__b32hex_decode(txt, tl, out, sizeof out), (long)n);
		ck_assert(memcmp(in, out, n) == 0);
		/* Upper case is the same number. */
		for (size_t i = 0; i < tl; i++)
			if (txt[i] >= 'a')
				txt[i] = (char)(txt[i] - 'a' + 'A');
		ck_assert_int_eq(signer__b32hex_decode(txt, tl, out, sizeof out), (long)n);
		ck_assert(memcmp(in, out, n) == 0);
	}
	ck_assert_int_eq(signer__b32hex_decode("0123456w", 8, out, sizeof out), -1);
	ck_assert_int_eq(signer__b32hex_decode("01234567890123456789012345678x01", 32, out, sizeof out), -1);
	ck_assert_int_eq(signer__b32hex_decode("01", 2, out, sizeof out), -1); /* bits left over */
	ck_assert_int_eq(signer__b32hex_decode("0123456701234567", 16, out, 9), -1); /* no room */
}
END_TEST

TCase *tcase_names(void)
{
	TCase *tc = tcase_create("name");
	tcase_add_test(tc, rfc4034_order);
	tcase_add_test(tc, case_and_escapes);
	tcase_add_test(tc, output_order);
	tcase_add_test(tc, base32hex);
	tcase_add_test(tc, large_zone_order);
	return tc;
}
