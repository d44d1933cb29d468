/*
 * Shared helpers of check_signer; see signer_tests.h.
 */
#include "signer_tests.h"

#include "common/error.h"
#include "signer/signer.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static EVP_PKEY *pkeys[4];
static uint8_t dnskeys[4][4 + 64];
static unsigned fail_after, n_signed;

static void make_key(int i, uint16_t flags)
{
	uint8_t pub[65];
	size_t len = 0;
	pkeys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_assert_ptr_nonnull(pkeys[i]);
	ck_assert(EVP_PKEY_get_octet_string_param(pkeys[i], OSSL_PKEY_PARAM_PUB_KEY, pub,
						  sizeof pub, &len));
	ck_assert_uint_eq(len, 65);
	dnskeys[i][0] = (uint8_t)(flags >> 8);
	dnskeys[i][1] = (uint8_t)flags;
	dnskeys[i][2] = 3;
	dnskeys[i][3] = 13;
	memcpy(dnskeys[i] + 4, pub + 1, 64);
}

static int be_open(void *arg, void **state, struct tdm_err *err)
{
	(void)arg;
	(void)err;
	*state = NULL;
	return 0;
}

static int be_sign(void *state, size_t key, const uint8_t *data, size_t len, uint8_t *sig,
		   size_t *sig_len, struct tdm_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[128];
	size_t dl = sizeof der;
	const uint8_t *p = der;
	ECDSA_SIG *es;
	const BIGNUM *r, *s;
	(void)state;
	if (fail_after && __atomic_add_fetch(&n_signed, 1, __ATOMIC_SEQ_CST) >= fail_after) {
		EVP_MD_CTX_free(md);
		return tdm_err_fail(err, TDM_EHSM, "C_Sign: CKR_DEVICE_ERROR (test)");
	}
	if (!fail_after)
		__atomic_add_fetch(&n_signed, 1, __ATOMIC_SEQ_CST);
	/* No ck_assert here: this runs in worker processes too. */
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkeys[key]) != 1 ||
	    EVP_DigestSign(md, der, &dl, data, len) != 1) {
		EVP_MD_CTX_free(md);
		return tdm_err_fail(err, TDM_EHSM, "EVP_DigestSign failed");
	}
	EVP_MD_CTX_free(md);
	es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
	if (es == NULL || *sig_len < 64) {
		ECDSA_SIG_free(es);
		return tdm_err_fail(err, TDM_EHSM, "bad signature");
	}
	ECDSA_SIG_get0(es, &r, &s);
	BN_bn2binpad(r, sig, 32);
	BN_bn2binpad(s, sig + 32, 32);
	ECDSA_SIG_free(es);
	*sig_len = 64;
	return 0;
}

static void be_close(void *state)
{
	(void)state;
}

void tkeys_fail_after(unsigned n)
{
	fail_after = n;
	n_signed = 0;
}

unsigned tkeys_signed(void)
{
	return n_signed;
}

void tkeys_init(struct tkeys *k, bool csk)
{
	memset(k, 0, sizeof *k);
	if (pkeys[0] == NULL) {
		make_key(0, 257);
		make_key(1, 256);
	}
	k->backend.open = be_open;
	k->backend.sign = be_sign;
	k->backend.close = be_close;
	k->keys[0].flags = 257;
	k->keys[0].algorithm = 13;
	k->keys[0].dnskey = dnskeys[0];
	k->keys[0].dnskey_len = sizeof dnskeys[0];
	k->keys[0].ksk = true;
	k->keys[0].zsk = csk;
	k->keys[0].publish = true;
	k->keys[0].active = true;
	k->keys[0].locator = "ksk";
	k->n = 1;
	if (!csk) {
		k->keys[1] = k->keys[0];
		k->keys[1].flags = 256;
		k->keys[1].dnskey = dnskeys[1];
		k->keys[1].ksk = false;
		k->keys[1].zsk = true;
		k->keys[1].locator = "zsk";
		k->n = 2;
	}
}

struct tdm_signconf *tsc_new(const char *zone, bool nsec3, bool optout)
{
	struct tdm_signconf *sc = calloc(1, sizeof *sc);
	sc->zone = strdup(zone);
	sc->resign = 7200;
	sc->refresh = 3 * 86400;
	sc->validity_default = 14 * 86400;
	sc->validity_denial = 14 * 86400;
	sc->validity_keyset = 0;
	sc->jitter = 12 * 3600;
	sc->inception_offset = 3600;
	sc->nsec3 = nsec3;
	sc->nsec3_optout = optout;
	sc->nsec3_ttl = -1;
	sc->nsec3_algorithm = 1;
	sc->nsec3_iterations = 0;
	sc->dnskey_ttl = 3600;
	sc->soa_ttl = 3600;
	sc->soa_minimum = 300;
	sc->serial = TDM_SERIAL_COUNTER;
	return sc;
}

static char *slurp(FILE *f)
{
	long n;
	char *buf;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	return buf;
}

struct tresult tsign(const char *origin, const char *zone_text, const char *prev_text,
		     const struct tdm_signconf *sc, const struct tkeys *k, int64_t now)
{
	struct tresult r;
	struct signer_zone *z = NULL;
	struct signer_params p;
	struct tdm_err err;
	char *dir = NULL, *path = NULL;
	memset(&r, 0, sizeof r);
	tdm_err_clear(&err);
	r.rc = signer_zone_read_mem(&z, origin, zone_text, strlen(zone_text), "test.zone", &err);
	if (prev_text != NULL) {
		dir = tmkdtemp();
		path = twrite_tmp(dir, "prev", prev_text);
	}
	if (r.rc == 0) {
		memset(&p, 0, sizeof p);
		p.sc = sc;
		p.keys = k->keys;
		p.n_keys = k->n;
		p.backend = &k->backend;
		p.now = now;
		p.workers = 1;
		p.threads = true;
		r.rc = signer_zone_sign(z, path, &p, &r.st, &err);
	}
	if (r.rc == 0) {
		FILE *f = tmpfile();
		r.rc = signer_zone_write_fp(z, f, &err);
		r.out = slurp(f);
		fclose(f);
	}
	snprintf(r.msg, sizeof r.msg, "%s", err.msg);
	signer_zone_free(z);
	if (dir != NULL) {
		free(path);
		trmdir(dir);
	}
	return r;
}

int tcount(const char *out, const char *owner, const char *type)
{
	int n = 0;
	const char *l = out;
	size_t ol = strlen(owner), tl = strlen(type);
	while (l && *l) {
		const char *nl = strchr(l, '\n');
		/* owner \t ttl \t IN \t type \t ... */
		if (strncmp(l, owner, ol) == 0 && l[ol] == '\t') {
			const char *t = strchr(l + ol + 1, '\t');
			if (t && (t = strchr(t + 1, '\t')) && strncmp(t + 1, type, tl) == 0 &&
			    t[1 + tl] == '\t')
				n++;
		}
		l = nl ? nl + 1 : NULL;
	}
	return n;
}

char *twrite_tmp(const char *dir, const char *name, const char *text)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	FILE *f;
	sprintf(path, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

char *tmkdtemp(void)
{
	char *d = strdup("/tmp/tandem-signer-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

void trmdir(char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(dir);
}
