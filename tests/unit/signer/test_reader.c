/*
 * The zone reader: directives, multi-line records, comments, quoted
 * strings, RFC 3597 unknown types, the ldns fallback, $INCLUDE relative to
 * the including file, errors that name the file and the line, and the
 * fast paths: a name repeated under another $ORIGIN, long tokens with
 * escapes, quotes and class words at every offset of the 16-octet scan.
 */
#include "signer_tests.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *soa = "@ 3600 IN SOA ns.example. host.example. ( 2024010101 ; serial\n"
			 "  7200 ; refresh\n 3600 1209600 3600 )\n";

START_TEST(directives_and_forms)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	char zone[4096];
	struct tresult r;
	snprintf(zone, sizeof zone,
		 "; a comment line\n"
		 "$ORIGIN example.\n"
		 "$TTL 1h\n"
		 "%s"
		 "@ NS ns ; NS relative\n"
		 "ns IN 600 A 192.0.2.1\n"
		 "   AAAA 2001:db8::1 ; owner carried over\n"
		 "txt TXT \"hello world\" \"semi;colon\" plain\n"
		 "unk TYPE65534 \\# 3 abcdef\n"
		 "a5 A \\# 4 c0000205\n"
		 "caa CAA 0 issue \"ca.example.net\"\n"
		 "$ORIGIN sub.example.\n"
		 "x MX 10 @\n",
		 soa);
	tkeys_init(&k, false);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	ck_assert_ptr_nonnull(strstr(r.out, "ns.example.\t600\tIN\tA\t192.0.2.1\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "ns.example.\t3600\tIN\tAAAA\t2001:db8::1\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "txt.example.\t3600\tIN\tTXT\t\"hello world\" \"semi;colon\" \"plain\"\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "unk.example.\t3600\tIN\tTYPE65534\t\\# 3 abcdef\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "a5.example.\t3600\tIN\tA\t192.0.2.5\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "caa.example.\t3600\tIN\tCAA\t0 issue \"ca.example.net\"\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "x.sub.example.\t3600\tIN\tMX\t10 sub.example.\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "example.\t3600\tIN\tSOA\tns.example. host.example. 2024010101 7200 3600 1209600 300\n"));
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

START_TEST(repeated_tokens_and_long_runs)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	char zone[8192], want[256];
	size_t o;
	struct tresult r;
	o = (size_t)snprintf(zone, sizeof zone,
			     "$ORIGIN example.\n$TTL 300\n%s"
			     "a NS ns\nb NS ns\n"
			     "$ORIGIN b.example.\nns A 192.0.2.2\nc NS ns\n"
			     "$ORIGIN example.\na2 NS ns\n", soa);
	/* Escapes, quotes and a class word just before, at and after each
	 * 16-octet boundary of a long token. */
	for (int i = 0; i < 20; i++)
		o += (size_t)snprintf(zone + o, sizeof zone - o,
				      "t%d iN TXT %.*s\\059x\\\"y \"q%.*s\"\n", i, i,
				      "0123456789abcdefghijklmnop", i, "zyxwvutsrqponmlkjihgf");
	tkeys_init(&k, false);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	/* "ns" means ns.example. twice, then ns.b.example., then ns.example. again. */
	ck_assert_ptr_nonnull(strstr(r.out, "a.example.\t300\tIN\tNS\tns.example.\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "b.example.\t300\tIN\tNS\tns.example.\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "c.b.example.\t300\tIN\tNS\tns.b.example.\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "a2.example.\t300\tIN\tNS\tns.example.\n"));
	for (int i = 0; i < 20; i++) {
		snprintf(want, sizeof want, "t%d.example.\t300\tIN\tTXT\t\"%.*s;x\\\"y\" \"q%.*s\"\n", i,
			 i, "0123456789abcdefghijklmnop", i, "zyxwvutsrqponmlkjihgf");
		ck_assert_msg(strstr(r.out, want) != NULL, "missing %s", want);
	}
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

static void expect_error(const char *zone, const char *want)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct tresult r;
	tkeys_init(&k, false);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_int_ne(r.rc, 0);
	ck_assert_msg(strstr(r.msg, want) != NULL, "message '%s' lacks '%s'", r.msg, want);
	free(r.out);
	tdm_signconf_free(sc);
}

START_TEST(errors_name_file_and_line)
{
	expect_error("$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nwww.example. A 300.1.1.1\n",
		     "test.zone:3:");
	expect_error("$TTL 300\nexample. SOA a. b. 1 2 3 4 5\n\n; c\nx.example. BOGUS 1\n",
		     "test.zone:5: unknown type BOGUS");
	expect_error("$TTL 300\nexample. SOA a. b. ( 1 2 3\n 4 5\n", "test.zone:2: unbalanced");
	expect_error("$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nx.example. TXT \"open\n", "test.zone:3:");
	expect_error("example. SOA a. b. 1 2 3 4 5\n", "test.zone:1: no TTL");
	expect_error("$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nother. A 192.0.2.1\n",
		     "test.zone:3: other. is outside the zone");
	expect_error("$TTL 300\nexample. CH SOA a. b. 1 2 3 4 5\n", "test.zone:2: class CH");
	expect_error("$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nx.example. A \\# 3 000000\n",
		     "test.zone:3:");
	expect_error("$TTL 300\nexample. SOA a. b. 1 2 3 4 5\n$GENERATE 1-2 x A 1.2.3.4\n",
		     "test.zone:3: unsupported directive");
	/* ldns fallback errors keep the line too. */
	expect_error("$TTL 300\nexample. SOA a. b. 1 2 3 4 5\nx.example. LOC garbage\n",
		     "test.zone:3:");
}
END_TEST

START_TEST(include_relative)
{
	char *dir = tmkdtemp();
	char sub[512], *main_path, *inc, *more;
	struct signer_zone *z = NULL;
	struct tdm_err err;
	int rc;
	snprintf(sub, sizeof sub, "%s/sub", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	main_path = twrite_tmp(dir, "main.zone",
			       "$ORIGIN example.\n$TTL 300\n@ SOA a. b. 1 2 3 4 5\n"
			       "$INCLUDE sub/inc.zone hosts.example.\nafter A 192.0.2.9\n");
	inc = twrite_tmp(sub, "inc.zone", "www A 192.0.2.1\n$INCLUDE more.zone\n");
	more = twrite_tmp(sub, "more.zone", "mail A 192.0.2.2\nbad A 1.2.3\n");
	rc = signer_zone_read(&z, "example", main_path, &err);
	ck_assert_int_eq(rc, TDM_EPARSE);
	ck_assert_msg(strstr(err.msg, "sub/more.zone:2:") != NULL, "%s", err.msg);
	/* Fixed, it reads, and the include's origin ends at its end. */
	free(more);
	more = twrite_tmp(sub, "more.zone", "mail A 192.0.2.2\n");
	rc = signer_zone_read(&z, "example", main_path, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	{
		struct tkeys k;
		struct tdm_signconf *sc = tsc_new("example", false, false);
		struct signer_params p;
		struct signer_stats st;
		FILE *f = tmpfile();
		char buf[65536];
		size_t n;
		tkeys_init(&k, false);
		memset(&p, 0, sizeof p);
		p.sc = sc;
		p.keys = k.keys;
		p.n_keys = k.n;
		p.backend = &k.backend;
		p.now = T_NOW;
		p.workers = 1;
		p.threads = true;
		ck_assert_int_eq(signer_zone_sign(z, NULL, &p, &st, &err), 0);
		ck_assert_int_eq(signer_zone_write_fp(z, f, &err), 0);
		rewind(f);
		n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = '\0';
		fclose(f);
		ck_assert_ptr_nonnull(strstr(buf, "www.hosts.example.\t300\tIN\tA\t192.0.2.1\n"));
		ck_assert_ptr_nonnull(strstr(buf, "mail.hosts.example.\t300\tIN\tA\t192.0.2.2\n"));
		ck_assert_ptr_nonnull(strstr(buf, "after.example.\t300\tIN\tA\t192.0.2.9\n"));
		tdm_signconf_free(sc);
	}
	signer_zone_free(z);
	free(main_path);
	free(inc);
	free(more);
	trmdir(dir);
}
END_TEST

START_TEST(dnssec_input_replaced)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	const char *zone =
		"$TTL 300\nexample. SOA a. b. 1 2 3 4 5\n"
		"example. NSEC x.example. SOA RRSIG NSEC\n"
		"example. RRSIG SOA 13 1 300 20300101000000 20200101000000 1 example. AAAA\n"
		"example. NSEC3PARAM 1 0 0 -\n"
		"example. DNSKEY 256 3 13 AAAA\n";
	struct tresult r;
	tkeys_init(&k, false);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	/* Input DNSKEYs stay (merged with the signconf's), the rest is replaced. */
	ck_assert_int_eq(tcount(r.out, "example.", "DNSKEY"), 3);
	ck_assert_int_eq(tcount(r.out, "example.", "NSEC3PARAM"), 0);
	ck_assert_int_eq(tcount(r.out, "example.", "NSEC"), 1);
	ck_assert_ptr_null(strstr(r.out, "20300101000000"));
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

TCase *tcase_reader(void)
{
	TCase *tc = tcase_create("reader");
	tcase_add_test(tc, directives_and_forms);
	tcase_add_test(tc, repeated_tokens_and_long_runs);
	tcase_add_test(tc, errors_name_file_and_line);
	tcase_add_test(tc, include_relative);
	tcase_add_test(tc, dnssec_input_replaced);
	return tc;
}
