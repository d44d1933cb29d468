/*
 * The apex CDS and CDNSKEY RRsets a signconf asks for (cds.c): one CDS per
 * marked key and digest type with the RFC 4034 §5.1.4 digest (checked
 * here against OpenSSL directly), one CDNSKEY per marked key, TTL the
 * DNSKEY TTL, signed by the KSK; the RFC 8078 §4 delete form; the input's
 * apex records replaced only when the signconf owns the RRset; signatures
 * reused like any other RRset's; and the refusals.
 */
#include "signer_tests.h"

#include "hsm/hsm.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char *zone =
	"$TTL 300\n"
	"example. SOA a. b. 1 2 3 4 5\n"
	"example. NS ns.example.\n"
	"example. CDS 12345 13 2 " HEX64 "\n"
	"example. CDNSKEY 257 3 13 QUFBQQ==\n"
	"ns.example. A 192.0.2.1\n"
	"sub.example. NS ns.example.\n"
	"sub.example. CDS 1 13 2 " HEX64 "\n";

/* The presentation form of the rest of the line after "owner\tTTL\tIN\tTYPE\t" for
 * each record of `type` at `owner`, and its TTL; the count. */
static int records(const char *out, const char *owner, const char *type, char rd[][256],
		   unsigned *ttl, int max)
{
	int n = 0;
	size_t ol = strlen(owner), tl = strlen(type);
	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t ll = nl ? (size_t)(nl - l) : strlen(l);
		if (strncmp(l, owner, ol) == 0 && l[ol] == '\t') {
			unsigned t;
			const char *p = l + ol + 1, *q;
			if (sscanf(p, "%u", &t) == 1 && (q = strchr(p, '\t')) != NULL &&
			    strncmp(q + 1, "IN\t", 3) == 0 && strncmp(q + 4, type, tl) == 0 &&
			    q[4 + tl] == '\t' && n < max) {
				size_t off = (size_t)(q + 5 + tl - l);
				snprintf(rd[n], 256, "%.*s", (int)(ll - off), q + 5 + tl);
				*ttl = t;
				n++;
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return n;
}

/* "tag alg type HEX" of a DS for key i of k at "example.", computed here. */
static void expect_ds(const struct tkeys *k, size_t i, int digest, char *out, size_t len)
{
	static const uint8_t owner[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0 };
	uint8_t md[64];
	unsigned ml = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t o;
	ck_assert(EVP_DigestInit_ex(c, digest == 2 ? EVP_sha256() : EVP_sha384(), NULL));
	ck_assert(EVP_DigestUpdate(c, owner, sizeof owner));
	ck_assert(EVP_DigestUpdate(c, k->keys[i].dnskey, k->keys[i].dnskey_len));
	ck_assert(EVP_DigestFinal_ex(c, md, &ml));
	EVP_MD_CTX_free(c);
	o = (size_t)snprintf(out, len, "%u 13 %d ",
			     hsm_keytag(k->keys[i].dnskey, k->keys[i].dnskey_len), digest);
	for (unsigned j = 0; j < ml; j++)
		o += (size_t)snprintf(out + o, len - o, "%02x", md[j]);
}

/* The key tags of the RRSIGs over `type` at owner; the count. */
static int sig_tags(const char *out, const char *owner, const char *type, unsigned *tags, int max)
{
	char rd[8][256];
	unsigned ttl;
	int n = records(out, owner, "RRSIG", rd, &ttl, 8), m = 0;
	size_t tl = strlen(type);
	for (int i = 0; i < n; i++) {
		unsigned alg, labels, ottl, tag;
		char exp[16], inc[16];
		if (strncmp(rd[i], type, tl) == 0 && rd[i][tl] == ' ' && m < max &&
		    sscanf(rd[i] + tl, "%u %u %u %15s %15s %u", &alg, &labels, &ottl, exp, inc,
			   &tag) == 6)
			tags[m++] = tag;
	}
	return m;
}

static void verify_with_ldns(const char *out)
{
	char *dir, *path, cmd[600];
	if (access("/usr/bin/ldns-verify-zone", X_OK) != 0)
		return;
	dir = tmkdtemp();
	path = twrite_tmp(dir, "signed", out);
	snprintf(cmd, sizeof cmd, "/usr/bin/ldns-verify-zone -t 20231115000000 '%s' >/dev/null 2>&1",
		 path);
	ck_assert_msg(system(cmd) == 0, "ldns-verify-zone rejects the output:\n%s", out);
	free(path);
	trmdir(dir);
}

static struct tdm_signconf *cds_sc(void)
{
	struct tdm_signconf *sc = tsc_new("example", false, false);
	sc->cds_managed = true;
	sc->cds_digests[0] = 2;
	sc->cds_digests[1] = 4;
	sc->n_cds_digests = 2;
	sc->cdnskey_managed = true;
	return sc;
}

START_TEST(cds_of_the_ksk)
{
	struct tkeys k;
	struct tdm_signconf *sc = cds_sc();
	struct tresult r, r2, r3;
	char rd[8][256], want[256];
	unsigned ttl = 0, tags[4], ksk;
	tkeys_init(&k, false);
	k.keys[0].cds = k.keys[0].cdnskey = true;
	ksk = hsm_keytag(k.keys[0].dnskey, k.keys[0].dnskey_len);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);

	/* The input's apex CDS and CDNSKEY are gone; ours are in, TTL of DNSKEY. */
	ck_assert_int_eq(records(r.out, "example.", "CDS", rd, &ttl, 8), 2);
	ck_assert_uint_eq(ttl, 3600);
	expect_ds(&k, 0, 2, want, sizeof want);
	ck_assert_str_eq(rd[0], want);
	expect_ds(&k, 0, 4, want, sizeof want);
	ck_assert_str_eq(rd[1], want);
	ck_assert_int_eq(records(r.out, "example.", "CDNSKEY", rd, &ttl, 8), 1);
	ck_assert_uint_eq(ttl, 3600);
	ck_assert_ptr_null(strstr(r.out, "QUFBQQ=="));
	ck_assert(strncmp(rd[0], "257 3 13 ", 9) == 0);
	/* The CDNSKEY is the DNSKEY. */
	{
		char dk[8][256];
		unsigned dttl;
		int nd = records(r.out, "example.", "DNSKEY", dk, &dttl, 8), hit = 0;
		for (int i = 0; i < nd; i++)
			hit += strcmp(dk[i], rd[0]) == 0;
		ck_assert_int_eq(hit, 1);
	}
	/* Below the apex a CDS is data, left alone. */
	ck_assert_int_eq(tcount(r.out, "sub.example.", "CDS"), 1);
	/* Signed by the KSK only. */
	ck_assert_int_eq(sig_tags(r.out, "example.", "CDS", tags, 4), 1);
	ck_assert_uint_eq(tags[0], ksk);
	ck_assert_int_eq(sig_tags(r.out, "example.", "CDNSKEY", tags, 4), 1);
	ck_assert_uint_eq(tags[0], ksk);
	verify_with_ldns(r.out);

	/* Unchanged: every signature reused, the output identical. */
	r2 = tsign("example", zone, r.out, sc, &k, T_NOW + 60);
	ck_assert_msg(r2.rc == 0, "%s", r2.msg);
	ck_assert_uint_eq(r2.st.sigs_made, 0);
	ck_assert(r2.st.unchanged);
	ck_assert_str_eq(r.out, r2.out);

	/* One digest type less: only the CDS RRset and the SOA (new serial)
	 * are signed again. */
	sc->n_cds_digests = 1;
	r3 = tsign("example", zone, r2.out, sc, &k, T_NOW + 120);
	ck_assert_msg(r3.rc == 0, "%s", r3.msg);
	ck_assert_int_eq(records(r3.out, "example.", "CDS", rd, &ttl, 8), 1);
	ck_assert_uint_eq(r3.st.sigs_made, 2);
	ck_assert_uint_eq(r3.st.sigs_reused, r2.st.sigs_reused - 2);
	verify_with_ldns(r3.out);
	free(r.out);
	free(r2.out);
	free(r3.out);
	tdm_signconf_free(sc);
}
END_TEST

/* A roll: two keys in the CDS set, one of them not (yet) in the DNSKEY RRset. */
START_TEST(two_keys_one_unpublished)
{
	struct tkeys k;
	struct tdm_signconf *sc = cds_sc();
	struct tresult r;
	char rd[8][256], want[2][256];
	unsigned ttl;
	tkeys_init(&k, false);
	sc->n_cds_digests = 1;
	k.keys[0].cds = k.keys[0].cdnskey = true;
	/* The ZSK's public key stands in for a KSK that is not published. */
	k.keys[2] = k.keys[1];
	k.keys[2].ksk = k.keys[2].zsk = k.keys[2].publish = k.keys[2].active = false;
	k.keys[2].cds = k.keys[2].cdnskey = true;
	k.n = 3;
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	ck_assert_int_eq(records(r.out, "example.", "CDS", rd, &ttl, 8), 2);
	expect_ds(&k, 0, 2, want[0], sizeof want[0]);
	expect_ds(&k, 2, 2, want[1], sizeof want[1]);
	ck_assert(strcmp(rd[0], want[0]) == 0 || strcmp(rd[1], want[0]) == 0);
	ck_assert(strcmp(rd[0], want[1]) == 0 || strcmp(rd[1], want[1]) == 0);
	ck_assert_int_eq(records(r.out, "example.", "CDNSKEY", rd, &ttl, 8), 2);
	/* The DNSKEY RRset holds the published keys only. */
	ck_assert_int_eq(tcount(r.out, "example.", "DNSKEY"), 2);
	verify_with_ldns(r.out);
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

START_TEST(delete_form)
{
	struct tkeys k;
	struct tdm_signconf *sc = cds_sc();
	struct tresult r;
	char rd[8][256];
	unsigned ttl = 0, tags[4];
	tkeys_init(&k, true);
	sc->cds_delete = sc->cdnskey_delete = true;
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	ck_assert_int_eq(records(r.out, "example.", "CDS", rd, &ttl, 8), 1);
	ck_assert_str_eq(rd[0], "0 0 0 00");
	ck_assert_uint_eq(ttl, 3600);
	ck_assert_int_eq(records(r.out, "example.", "CDNSKEY", rd, &ttl, 8), 1);
	ck_assert_str_eq(rd[0], "0 3 0 AA==");
	ck_assert_int_eq(sig_tags(r.out, "example.", "CDS", tags, 4), 1);
	ck_assert_int_eq(sig_tags(r.out, "example.", "CDNSKEY", tags, 4), 1);
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

/* Without the sections the input's records stay; with a section and no key
 * marked, that RRset disappears from the apex. */
START_TEST(input_kept_or_replaced)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct tresult r;
	char rd[8][256];
	unsigned ttl = 0;
	tkeys_init(&k, false);
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	ck_assert_int_eq(records(r.out, "example.", "CDS", rd, &ttl, 8), 1);
	ck_assert_str_eq(rd[0], "12345 13 2 " HEX64);
	ck_assert_uint_eq(ttl, 300);
	ck_assert_int_eq(tcount(r.out, "example.", "CDNSKEY"), 1);
	free(r.out);

	sc->cds_managed = true;
	sc->cds_digests[0] = 2;
	sc->n_cds_digests = 1;
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_msg(r.rc == 0, "%s", r.msg);
	ck_assert_int_eq(tcount(r.out, "example.", "CDS"), 0);
	ck_assert_int_eq(tcount(r.out, "example.", "CDNSKEY"), 1);
	ck_assert_int_eq(tcount(r.out, "sub.example.", "CDS"), 1);
	/* The apex NSEC no longer lists CDS. */
	ck_assert_int_eq(records(r.out, "example.", "NSEC", rd, &ttl, 8), 1);
	ck_assert_ptr_null(strstr(rd[0], " CDS"));
	ck_assert_ptr_nonnull(strstr(rd[0], "CDNSKEY"));
	verify_with_ldns(r.out);
	free(r.out);
	tdm_signconf_free(sc);
}
END_TEST

START_TEST(refusals)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct tresult r;
	tkeys_init(&k, false);
	/* A key marked without the section. */
	k.keys[0].cds = true;
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_int_eq(r.rc, TDM_EINVAL);
	ck_assert_msg(strstr(r.msg, "key ksk") != NULL, "%s", r.msg);
	k.keys[0].cds = false;
	k.keys[0].cdnskey = true;
	sc->cdnskey_managed = sc->cdnskey_delete = true;
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_int_eq(r.rc, TDM_EINVAL);
	/* A digest type the signer cannot make. */
	k.keys[0].cdnskey = false;
	k.keys[0].cds = true;
	sc->cds_managed = true;
	sc->cds_digests[0] = 1;
	sc->n_cds_digests = 1;
	r = tsign("example", zone, NULL, sc, &k, T_NOW);
	ck_assert_int_eq(r.rc, TDM_EALGO);
	ck_assert_msg(strstr(r.msg, "example") != NULL && strstr(r.msg, "CDS") != NULL, "%s",
		      r.msg);
	tdm_signconf_free(sc);
}
END_TEST

TCase *tcase_cds(void)
{
	TCase *tc = tcase_create("cds");
	tcase_add_test(tc, cds_of_the_ksk);
	tcase_add_test(tc, two_keys_one_unpublished);
	tcase_add_test(tc, delete_form);
	tcase_add_test(tc, input_kept_or_replaced);
	tcase_add_test(tc, refusals);
	return tc;
}
