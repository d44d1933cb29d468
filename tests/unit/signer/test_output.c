/*
 * Output and the pool: atomic writes that leave the target alone on
 * failure, a malformed zone that names file and line, worker processes,
 * and a failing signer backend.
 */
#include "signer_tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

START_TEST(malformed_zone_leaves_output)
{
	char *dir = tmkdtemp();
	char *in = twrite_tmp(dir, "in.zone", "$TTL 300\nexample. SOA a. b. 1 2 3 4 5\n"
				       "x.example. A 1.2.3\n");
	char *out = twrite_tmp(dir, "out.zone", "previous content\n");
	struct signer_zone *z = NULL;
	struct tdm_err err;
	char buf[64] = "";
	FILE *f;
	int rc = signer_zone_read(&z, "example", in, &err);
	ck_assert_int_eq(rc, TDM_EPARSE);
	ck_assert_ptr_null(z);
	ck_assert_msg(strstr(err.msg, "in.zone:3:") != NULL, "%s", err.msg);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
	fclose(f);
	ck_assert_str_eq(buf, "previous content\n");
	free(in);
	free(out);
	trmdir(dir);
}
END_TEST

START_TEST(atomic_write)
{
	char *dir = tmkdtemp();
	char path[600];
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	struct signer_zone *z = NULL;
	struct signer_params p;
	struct signer_stats st;
	struct tdm_err err;
	const char *zone = "$TTL 300\nexample. SOA a. b. 1 2 3 4 5\n";
	struct stat sb;
	tkeys_init(&k, false);
	ck_assert_int_eq(signer_zone_read_mem(&z, "example", zone, strlen(zone), "z", &err), 0);
	memset(&p, 0, sizeof p);
	p.sc = sc;
	p.keys = k.keys;
	p.n_keys = k.n;
	p.backend = &k.backend;
	p.now = T_NOW;
	p.workers = 1;
	p.threads = true;
	ck_assert_int_eq(signer_zone_sign(z, NULL, &p, &st, &err), 0);
	snprintf(path, sizeof path, "%s/out.zone", dir);
	ck_assert_int_eq(signer_zone_write(z, path, &err), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_gt(sb.st_size, 100);
	/* A directory that does not exist: an error, nothing left behind. */
	snprintf(path, sizeof path, "%s/missing/out.zone", dir);
	ck_assert_int_eq(signer_zone_write(z, path, &err), TDM_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "missing/out.zone"));
	signer_zone_free(z);
	tdm_signconf_free(sc);
	trmdir(dir);
}
END_TEST

static char *big_zone(int names)
{
	size_t cap = (size_t)names * 64 + 256, o = 0;
	char *z = malloc(cap);
	o += (size_t)sprintf(z, "$ORIGIN example.\n$TTL 300\n@ SOA a. b. 1 2 3 4 5\n@ NS ns\n");
	for (int i = 0; i < names; i++)
		o += (size_t)sprintf(z + o, "h%d A 10.%d.%d.%d\n", i, (i >> 16) & 255, (i >> 8) & 255,
				     i & 255);
	return z;
}

START_TEST(worker_processes)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", true, false);
	char *zone = big_zone(500);
	struct signer_zone *z = NULL;
	struct signer_params p;
	struct signer_stats st;
	struct tdm_err err;
	tkeys_init(&k, false);
	ck_assert_int_eq(signer_zone_read_mem(&z, "example", zone, strlen(zone), "z", &err), 0);
	memset(&p, 0, sizeof p);
	p.sc = sc;
	p.keys = k.keys;
	p.n_keys = k.n;
	p.backend = &k.backend;
	p.now = T_NOW;
	p.workers = 2;
	p.threads = false;
	ck_assert_msg(signer_zone_sign(z, NULL, &p, &st, &err) == 0, "%s", err.msg);
	/* 500 A + SOA + NS + DNSKEY + NSEC3PARAM + 501 NSEC3 */
	ck_assert_uint_eq(st.sigs_made, 500 + 4 + 501);
	signer_zone_free(z);
	free(zone);
	tdm_signconf_free(sc);
}
END_TEST

static void failing_backend(bool threads)
{
	struct tkeys k;
	struct tdm_signconf *sc = tsc_new("example", false, false);
	char *zone = big_zone(300);
	struct signer_zone *z = NULL;
	struct signer_params p;
	struct signer_stats st;
	struct tdm_err err;
	tkeys_init(&k, false);
	tkeys_fail_after(50);
	ck_assert_int_eq(signer_zone_read_mem(&z, "example", zone, strlen(zone), "z", &err), 0);
	memset(&p, 0, sizeof p);
	p.sc = sc;
	p.keys = k.keys;
	p.n_keys = k.n;
	p.backend = &k.backend;
	p.now = T_NOW;
	p.workers = 2;
	p.threads = threads;
	ck_assert_int_eq(signer_zone_sign(z, NULL, &p, &st, &err), TDM_EHSM);
	ck_assert_msg(strstr(err.msg, "CKR_DEVICE_ERROR") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "CKA_ID") != NULL, "%s", err.msg);
	tkeys_fail_after(0);
	signer_zone_free(z);
	free(zone);
	tdm_signconf_free(sc);
}

START_TEST(backend_failure_threads)
{
	failing_backend(true);
}
END_TEST

START_TEST(backend_failure_processes)
{
	failing_backend(false);
}
END_TEST

TCase *tcase_output(void)
{
	TCase *tc = tcase_create("output");
	tcase_add_test(tc, malformed_zone_leaves_output);
	tcase_add_test(tc, atomic_write);
	tcase_add_test(tc, worker_processes);
	tcase_add_test(tc, backend_failure_threads);
	tcase_add_test(tc, backend_failure_processes);
	return tc;
}
