/*
 * Snapshots and digests: restore into a fresh ledger gives the same digest,
 * corrupt snapshots are refused without touching state.db, the two-step
 * job sees the state of its begin, equal inputs give equal digests.
 */
#include "ledger_tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

static size_t alloc_calls;

static void *counting_alloc(size_t n)
{
	alloc_calls++;
	return malloc(n);
}

static void snap(struct ledger *l, void **buf, size_t *len)
{
	struct tdm_err err;
	tdm_err_clear(&err);
	ck_assert_msg(ledger_snapshot(l, counting_alloc, buf, len, &err) == 0, "%s", err.msg);
}

START_TEST(test_restore_fresh)
{
	struct tl a, b;
	struct tdm_err err;
	struct ledger_cmd m;
	uint64_t idx = 0, index;
	uint8_t da[32], db[32];
	void *buf;
	size_t len;
	tl_open(&a);
	tl_open(&b);
	apply_scenario(a.l, &idx);
	alloc_calls = 0;
	snap(a.l, &buf, &len);
	ck_assert_uint_eq(alloc_calls, 1);
	ck_assert_int_eq(ledger_snapshot_index(buf, len, &index, &err), 0);
	ck_assert_uint_eq(index, idx);

	ck_assert_msg(ledger_restore(b.l, buf, len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ledger_applied_index(b.l), idx);
	digest_of(a.l, da);
	digest_of(b.l, db);
	ck_assert(memcmp(da, db, 32) == 0);
	/* Both go on in step, also after a reopen of the restored one. */
	tl_reopen(&b);
	sample_cmd(&m, LEDGER_CMD_KEY_DEL, 900);
	ck_assert_int_eq(apply_cmd(a.l, idx + 1, &m), LEDGER_OK);
	ck_assert_int_eq(apply_cmd(b.l, idx + 1, &m), LEDGER_OK);
	/* Entries the snapshot already holds are skipped. */
	sample_cmd(&m, LEDGER_CMD_TEST, 901);
	ck_assert_int_eq(apply_cmd(b.l, idx, &m), LEDGER_SKIPPED);
	digest_of(a.l, da);
	digest_of(b.l, db);
	ck_assert(memcmp(da, db, 32) == 0);
	/* No temporary file is left behind. */
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.restore", b.path);
	ck_assert_int_ne(access(tmp, F_OK), 0);
	free(buf);
	tl_close(&b);
	tl_close(&a);
}
END_TEST

/* Expect @p buf to be refused with @p want, and b's state untouched. */
static void refused(struct tl *b, const void *buf, size_t len, int want, const char *what)
{
	struct tdm_err err;
	uint8_t d0[32], d1[32];
	uint64_t i0 = ledger_applied_index(b->l);
	digest_of(b->l, d0);
	tdm_err_clear(&err);
	int rc = ledger_restore(b->l, buf, len, &err);
	ck_assert_msg(rc == want, "%s: rc %d (%s), want %d", what, rc, err.msg, want);
	ck_assert_ptr_nonnull(strstr(err.msg, "restore refused"));
	ck_assert_uint_eq(ledger_applied_index(b->l), i0);
	digest_of(b->l, d1);
	ck_assert_msg(memcmp(d0, d1, 32) == 0, "%s: state changed", what);
	/* The file itself, reopened, is the same ledger. */
	tl_reopen(b);
	ck_assert_uint_eq(ledger_applied_index(b->l), i0);
	digest_of(b->l, d1);
	ck_assert_msg(memcmp(d0, d1, 32) == 0, "%s: file changed", what);
}

static void rehash(uint8_t *buf, size_t len)
{
	unsigned int n = 32;
	EVP_Digest(buf + LEDGER_SNAPSHOT_HEADER, len - LEDGER_SNAPSHOT_HEADER, buf + 32, &n,
		   EVP_sha256(), NULL);
}

START_TEST(test_corrupt_refused)
{
	struct tl a, b;
	struct ledger_cmd m;
	uint64_t idx = 0;
	void *v;
	size_t len;
	tl_open(&a);
	tl_open(&b);
	apply_scenario(a.l, &idx);
	/* b has state of its own, which must survive every refusal. */
	sample_cmd(&m, LEDGER_CMD_TEST, 1);
	ck_assert_int_eq(apply_cmd(b.l, 1, &m), LEDGER_OK);
	snap(a.l, &v, &len);
	uint8_t *buf = v;
	uint8_t *c = malloc(len);

	/* One flipped bit in the image: the hash catches it. */
	memcpy(c, buf, len);
	c[LEDGER_SNAPSHOT_HEADER + len / 2] ^= 0x10;
	refused(&b, c, len, TDM_ECODEC, "flipped image byte");
	/* Truncated, empty, bad magic, size mismatch. */
	refused(&b, buf, len - 1, TDM_ECODEC, "truncated");
	refused(&b, buf, 10, TDM_ECODEC, "header only");
	memcpy(c, buf, len);
	c[0] = 'X';
	refused(&b, c, len, TDM_ECODEC, "magic");
	/* Another schema version. */
	memcpy(c, buf, len);
	c[11] = 99;
	refused(&b, c, len, TDM_EVERSION, "schema version");
	/* A consistent hash over a damaged database: integrity_check catches it. */
	memcpy(c, buf, len);
	for (size_t i = LEDGER_SNAPSHOT_HEADER + 4096 + 8; i < len; i += 4096)
		memset(c + i, 0xff, 64);
	rehash(c, len);
	refused(&b, c, len, TDM_ECODEC, "damaged pages");
	/* Not a database at all. */
	memcpy(c, buf, len);
	memset(c + LEDGER_SNAPSHOT_HEADER, 0x41, len - LEDGER_SNAPSHOT_HEADER);
	rehash(c, len);
	refused(&b, c, len, TDM_ECODEC, "not a database");
	/* The header's index disagrees with the image. */
	memcpy(c, buf, len);
	c[23] ^= 1;
	refused(&b, c, len, TDM_ECODEC, "index mismatch");

	/* The intact snapshot still restores. */
	struct tdm_err err;
	ck_assert_msg(ledger_restore(b.l, buf, len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ledger_applied_index(b.l), idx);
	free(c);
	free(buf);
	tl_close(&b);
	tl_close(&a);
}
END_TEST

/* The two-step job captures the state at begin, while apply goes on. */
START_TEST(test_snapshot_job)
{
	struct tl a, b;
	struct tdm_err err;
	struct ledger_cmd m;
	struct ledger_snapshot_job *job, *job2;
	uint64_t idx = 0;
	uint8_t d_begin[32], d_after[32], db[32];
	void *buf;
	size_t len;
	tl_open(&a);
	tl_open(&b);
	apply_scenario(a.l, &idx);
	digest_of(a.l, d_begin);
	ck_assert_msg(ledger_snapshot_begin(a.l, &job, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(ledger_snapshot_begin(a.l, &job2, &err), TDM_EAGAIN);
	for (uint64_t i = 1; i <= 20; i++) {
		sample_cmd(&m, LEDGER_CMD_TEST, 1000 + i);
		ck_assert_int_eq(apply_cmd(a.l, idx + i, &m), LEDGER_OK);
	}
	digest_of(a.l, d_after);
	ck_assert_msg(ledger_snapshot_write(job, NULL, &buf, &len, &err) == 0, "%s", err.msg);
	/* A restore into the ledger that has a job open is refused. */
	ck_assert_int_eq(ledger_restore(a.l, buf, len, &err), TDM_EAGAIN);
	ledger_snapshot_end(job);
	ck_assert_msg(ledger_restore(b.l, buf, len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ledger_applied_index(b.l), idx);
	digest_of(b.l, db);
	ck_assert(memcmp(db, d_begin, 32) == 0);
	ck_assert(memcmp(db, d_after, 32) != 0);
	free(buf);
	tl_close(&b);
	tl_close(&a);
}
END_TEST

/* Equal entries, equal digests; any difference shows. */
START_TEST(test_two_ledgers)
{
	struct tl a, b;
	struct ledger_cmd m;
	uint64_t ia = 0, ib = 0, index;
	uint8_t da[32], db[32];
	struct tdm_err err;
	tl_open(&a);
	tl_open(&b);
	digest_of(a.l, da);
	digest_of(b.l, db);
	ck_assert(memcmp(da, db, 32) == 0);
	apply_scenario(a.l, &ia);
	apply_scenario(b.l, &ib);
	ck_assert_int_eq(ledger_digest(a.l, da, &index, &err), 0);
	ck_assert_uint_eq(index, ia);
	digest_of(b.l, db);
	ck_assert(memcmp(da, db, 32) == 0);
	/* One TEST payload byte differs. */
	sample_cmd(&m, LEDGER_CMD_TEST, 2000);
	ck_assert_int_eq(apply_cmd(a.l, ++ia, &m), LEDGER_OK);
	m.test.payload = ledger_str("payload of a test entrY");
	ck_assert_int_eq(apply_cmd(b.l, ++ib, &m), LEDGER_OK);
	digest_of(a.l, da);
	digest_of(b.l, db);
	ck_assert(memcmp(da, db, 32) != 0);
	tl_close(&b);
	tl_close(&a);
}
END_TEST

TCase *tcase_snapshot(void)
{
	TCase *tc = tcase_create("snapshot");
	tcase_add_test(tc, test_restore_fresh);
	tcase_add_test(tc, test_corrupt_refused);
	tcase_add_test(tc, test_snapshot_job);
	tcase_add_test(tc, test_two_ledgers);
	return tc;
}
