/*
 * The deterministic apply: every command, idempotence, replay after reopen,
 * duplicate ids, rejections, chunk staging, signatures, publications,
 * versions, batches.
 */
#include "hsm/hsm.h"
#include "ledger_tests.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define ST(l, i, m, want) do { struct ledger_result r_; \
	enum ledger_status s_ = apply_cmd_res(l, i, m, &r_); \
	ck_assert_msg(s_ == (want), "%s at %llu: got %s (%s), want %s", \
		      ledger_cmd_type_name((m)->type), (unsigned long long)(i), \
		      ledger_status_name(s_), r_.msg, ledger_status_name(want)); } while (0)

static void assert_digest(struct ledger *l, const uint8_t want[32], const char *what)
{
	uint8_t d[32];
	digest_of(l, d);
	ck_assert_msg(memcmp(d, want, 32) == 0, "digest changed: %s", what);
}

START_TEST(test_every_command)
{
	struct tl t;
	uint64_t idx = 0;
	struct tdm_err err;
	tl_open(&t);
	apply_scenario(t.l, &idx);
	ck_assert_uint_eq(ledger_applied_index(t.l), idx);

	struct ledger_zone *z;
	size_t n;
	ck_assert_int_eq(ledger_zone_list(t.l, &z, &n, &err), 0);
	ck_assert_uint_eq(n, 2); /* and example.net from the ZONE_BATCH */
	ck_assert_str_eq(z[0].name, "example.com");
	ck_assert_str_eq(z[0].policy, "default");
	ck_assert(z[0].has_input);
	ck_assert_uint_eq(z[0].input_serial, 2024010101); /* the 3-chunk input is only staged */
	ck_assert(z[0].has_published);
	ck_assert_uint_eq(z[0].published_serial, 2024010102);
	ck_assert_uint_eq(z[0].nsigs, 3);
	ledger_zone_list_free(z, n);

	struct ledger_key *k;
	ck_assert_int_eq(ledger_key_list(t.l, "example.com", &k, &n, &err), 0);
	ck_assert_uint_eq(n, 3); /* with pool-1, claimed by the scenario's ENFORCE */
	ck_assert_str_eq(k[0].key_id, "cafebabe0102");
	ck_assert_uint_eq(k[0].role, LEDGER_ROLE_KSK);
	ck_assert_uint_eq(k[0].key_tag, hsm_keytag(k[0].public_rdata, k[0].public_rdata_len));
	ck_assert_uint_eq(k[0].rec[LEDGER_REC_DNSKEY].state, LEDGER_RUMOURED);
	ck_assert_uint_eq(k[0].rec[LEDGER_REC_RRSIG].since, 1700000103);
	ck_assert_uint_eq(k[2].rec[LEDGER_REC_DS].state, LEDGER_HIDDEN);
	ck_assert_uint_eq(k[2].rec[LEDGER_REC_DS].since, 1700000000);
	ck_assert_uint_eq(k[0].wrapped_private_len, 40);
	ledger_key_list_free(k, n);
	ck_assert_int_eq(ledger_key_list(t.l, "other.org", &k, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	ledger_key_list_free(k, n);
	/* One key by id, the same row as in the list. */
	ck_assert_int_eq(ledger_key_get(t.l, "cafebabe0102", &k, &err), 0);
	ck_assert_str_eq(k->key_id, "cafebabe0102");
	ck_assert_uint_eq(k->role, LEDGER_ROLE_KSK);
	ck_assert_uint_eq(k->rec[LEDGER_REC_RRSIG].since, 1700000103);
	ck_assert_uint_eq(k->wrapped_private_len, 40);
	ledger_key_list_free(k, 1);
	ck_assert_int_eq(ledger_key_get(t.l, "nosuchkey", &k, &err), TDM_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "nosuchkey"));

	struct ledger_node *nd;
	ck_assert_int_eq(ledger_node_list(t.l, &nd, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(nd[0].node_id, 2);
	ck_assert(nd[0].witness);
	ck_assert_str_eq(nd[0].address, "192.0.2.2:5400");
	ledger_node_list_free(nd, n);

	uint8_t *blob;
	size_t blen;
	ck_assert_int_eq(ledger_policy_get(t.l, "default", &blob, &blen, &err), 0);
	ck_assert_uint_eq(blen, 24);
	free(blob);
	ck_assert_int_eq(ledger_policy_get(t.l, "nope", &blob, &blen, &err), TDM_ENOENT);

	uint64_t seq;
	ck_assert_int_eq(ledger_origin_last_seq(t.l, 7, &seq, &err), 0);
	ck_assert_uint_eq(seq, 119);
	uint32_t batch;
	ck_assert_int_eq(ledger_sig_batch_last(t.l, "example.com", 2024010101, &batch, &err), 0);
	ck_assert_uint_eq(batch, 1);
	tl_close(&t);
}
END_TEST

/* Applying the same entries again at the same indexes changes nothing. */
START_TEST(test_idempotent)
{
	struct tl t;
	uint64_t idx = 0, idx2 = 0;
	uint8_t d1[32];
	struct ledger_cmd m;
	tl_open(&t);
	apply_scenario(t.l, &idx);
	digest_of(t.l, d1);
	/* The scenario's entries again: every one is SKIPPED. */
	static const unsigned order[] = { LEDGER_CMD_NOOP, LEDGER_CMD_TEST, LEDGER_CMD_POLICY_PUT,
					  LEDGER_CMD_ZONE_ADD, LEDGER_CMD_ZONE_SET, LEDGER_CMD_KEY_CREATE };
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		sample_cmd(&m, order[i], 101 + i);
		ST(t.l, ++idx2, &m, LEDGER_SKIPPED);
	}
	assert_digest(t.l, d1, "replayed entries");
	ck_assert_uint_eq(ledger_applied_index(t.l), idx);
	tl_close(&t);
}
END_TEST

/* A restart replays the log from the snapshot: stored entries are skipped. */
START_TEST(test_replay_after_reopen)
{
	struct tl t;
	struct ledger_cmd m;
	uint8_t d1[32];
	tl_open(&t);
	for (uint64_t i = 1; i <= 10; i++) {
		sample_cmd(&m, LEDGER_CMD_TEST, i);
		ST(t.l, i, &m, LEDGER_OK);
	}
	digest_of(t.l, d1);
	tl_reopen(&t);
	ck_assert_uint_eq(ledger_applied_index(t.l), 10);
	assert_digest(t.l, d1, "reopen");
	for (uint64_t i = 1; i <= 13; i++) {
		sample_cmd(&m, LEDGER_CMD_TEST, i);
		ST(t.l, i, &m, i <= 10 ? LEDGER_SKIPPED : LEDGER_OK);
	}
	ck_assert_uint_eq(ledger_applied_index(t.l), 13);

	/* The same 13 entries into a fresh ledger give the same state. */
	struct tl u;
	uint8_t d2[32], d3[32];
	tl_open(&u);
	for (uint64_t i = 1; i <= 13; i++) {
		sample_cmd(&m, LEDGER_CMD_TEST, i);
		ST(u.l, i, &m, LEDGER_OK);
	}
	digest_of(t.l, d2);
	digest_of(u.l, d3);
	ck_assert(memcmp(d2, d3, 32) == 0);
	ck_assert(memcmp(d1, d2, 32) != 0);
	tl_close(&u);
	tl_close(&t);
}
END_TEST

START_TEST(test_duplicates)
{
	struct tl t;
	struct ledger_cmd m;
	struct ledger_result r;
	uint8_t d1[32];
	tl_open(&t);
	sample_cmd(&m, LEDGER_CMD_TEST, 5);
	ST(t.l, 1, &m, LEDGER_OK);
	digest_of(t.l, d1);
	/* The same id at a new index: a retry after LEADERSHIPLOST. */
	apply_cmd_res(t.l, 2, &m, &r);
	ck_assert_int_eq(r.status, LEDGER_DUPLICATE);
	ck_assert_uint_eq(r.id.origin, 7);
	ck_assert_uint_eq(r.id.seq, 5);
	ck_assert_uint_eq(r.index, 2);
	ck_assert_uint_eq(ledger_applied_index(t.l), 2);
	assert_digest(t.l, d1, "duplicate");
	/* A lower sequence of the same origin: also skipped. */
	sample_cmd(&m, LEDGER_CMD_TEST, 4);
	ST(t.l, 3, &m, LEDGER_DUPLICATE);
	assert_digest(t.l, d1, "lower sequence");
	/* Another origin with the same sequence is a different command. */
	sample_cmd(&m, LEDGER_CMD_TEST, 5);
	m.id.origin = 8;
	ST(t.l, 4, &m, LEDGER_OK);
	/* Origin 0 is never deduplicated. */
	sample_cmd(&m, LEDGER_CMD_TEST, 1);
	m.id.origin = 0;
	ST(t.l, 5, &m, LEDGER_OK);
	ST(t.l, 6, &m, LEDGER_OK);
	/* A rejected command does not consume its sequence. */
	sample_cmd(&m, LEDGER_CMD_ZONE_DEL, 6);
	ST(t.l, 7, &m, LEDGER_NOT_FOUND);
	sample_cmd(&m, LEDGER_CMD_POLICY_PUT, 6);
	ST(t.l, 8, &m, LEDGER_OK);
	tl_close(&t);
}
END_TEST

/* Each rejection changes nothing but the applied index. */
START_TEST(test_rejections)
{
	struct tl t;
	struct ledger_cmd m;
	struct ledger_result r;
	struct tdm_err err;
	uint64_t idx = 0;
	uint8_t d1[32];
	uint64_t seq = 1000;
	tl_open(&t);
	apply_scenario(t.l, &idx);
	digest_of(t.l, d1);

#define REJ(want) do { ST(t.l, ++idx, &m, want); assert_digest(t.l, d1, #want); \
	ck_assert_uint_eq(ledger_applied_index(t.l), idx); } while (0)

	/* Bytes that do not decode. */
	uint8_t junk[64];
	memset(junk, 0x5a, sizeof junk);
	ck_assert_int_eq(ledger_apply(t.l, ++idx, junk, sizeof junk, &r, &err), 0);
	ck_assert_int_eq(r.status, LEDGER_MALFORMED);
	ck_assert_ptr_nonnull(strstr(r.msg, "magic"));
	assert_digest(t.l, d1, "junk");
	ck_assert_int_eq(ledger_apply(t.l, ++idx, junk, 3, &r, &err), 0);
	ck_assert_int_eq(r.status, LEDGER_MALFORMED);

	sample_cmd(&m, LEDGER_CMD_ZONE_ADD, ++seq);
	REJ(LEDGER_EXISTS);
	m.zone.name = ledger_str("other.org");
	m.zone.policy = ledger_str("missing");
	REJ(LEDGER_NOT_FOUND);
	m.zone.name = ledger_str("");
	REJ(LEDGER_INVALID);
	sample_cmd(&m, LEDGER_CMD_ZONE_SET, ++seq);
	m.zone.name = ledger_str("other.org");
	REJ(LEDGER_NOT_FOUND);
	sample_cmd(&m, LEDGER_CMD_POLICY_DEL, ++seq);
	REJ(LEDGER_IN_USE);
	m.policy.name = ledger_str("missing");
	REJ(LEDGER_NOT_FOUND);
	sample_cmd(&m, LEDGER_CMD_KEY_CREATE, ++seq);
	REJ(LEDGER_EXISTS);
	m.key_create.key_id = ledger_str("new");
	m.key_create.role = 4;
	REJ(LEDGER_INVALID);
	m.key_create.role = LEDGER_ROLE_ZSK;
	m.key_create.algorithm = 8; /* the DNSKEY says 13 */
	REJ(LEDGER_INVALID);
	m.key_create.algorithm = 13;
	m.key_create.scope = 3;
	REJ(LEDGER_INVALID);
	m.key_create.scope = LEDGER_SCOPE_POLICY;
	m.key_create.scope_name = ledger_str("missing");
	REJ(LEDGER_NOT_FOUND);
	sample_cmd(&m, LEDGER_CMD_KEY_STATE, ++seq);
	m.key_state.rec[2].state = 7;
	REJ(LEDGER_INVALID);
	m.key_state.key_id = ledger_str("missing");
	REJ(LEDGER_NOT_FOUND);
	sample_cmd(&m, LEDGER_CMD_KEY_DEL, ++seq);
	m.key_del.key_id = ledger_str("missing");
	REJ(LEDGER_NOT_FOUND);
	sample_cmd(&m, LEDGER_CMD_ZONE_INPUT, ++seq);
	m.zone_input.zone = ledger_str("other.org");
	REJ(LEDGER_NOT_FOUND);
	sample_cmd(&m, LEDGER_CMD_ZONE_INPUT, ++seq);
	m.zone_input.kind = 2;
	REJ(LEDGER_INVALID);
	m.zone_input.kind = LEDGER_INPUT_FULL;
	m.zone_input.chunk_index = 3;
	m.zone_input.chunk_count = 3;
	REJ(LEDGER_INVALID);
	m.zone_input.chunk_count = 0;
	m.zone_input.chunk_index = 0;
	REJ(LEDGER_INVALID);
	sample_cmd(&m, LEDGER_CMD_SIG_BATCH, ++seq);
	REJ(LEDGER_EXISTS); /* batch 1 of this serial is in */
	m.sig_batch.batch = 2;
	m.sig_batch.input_serial = 99;
	REJ(LEDGER_STALE);
	m.sig_batch.input_serial = 2024010101;
	m.sig_batch.batch = 0;
	REJ(LEDGER_INVALID);
	/* Half-way through a batch: the first signatures are rolled back too. */
	m.sig_batch.batch = 2;
	struct ledger_sig sigs[3];
	memcpy(sigs, m.sig_batch.sigs, sizeof sigs);
	sigs[0].key_tag = 1;
	sigs[1].key_tag = 2;
	sigs[2].owner.len = 0;
	m.sig_batch.sigs = sigs;
	REJ(LEDGER_INVALID);
	sample_cmd(&m, LEDGER_CMD_ZONE_PUBLISH, ++seq);
	m.publish.sha256[0] ^= 1;
	REJ(LEDGER_CONFLICT);
	m.publish.serial = 2024010101;
	REJ(LEDGER_STALE);
	m.publish.zone = ledger_str("other.org");
	REJ(LEDGER_NOT_FOUND);
	sample_cmd(&m, LEDGER_CMD_NODE_ADD, ++seq);
	REJ(LEDGER_EXISTS);
	m.node.node_id = 0;
	REJ(LEDGER_INVALID);
	m.node.node_id = 9;
	m.node.address = ledger_str("");
	REJ(LEDGER_INVALID);
	sample_cmd(&m, LEDGER_CMD_NODE_DEL, ++seq);
	m.node.node_id = 9;
	REJ(LEDGER_NOT_FOUND);
	sample_cmd(&m, LEDGER_CMD_CLUSTER_VERSION, ++seq);
	m.cluster_version.version = 0;
	REJ(LEDGER_STALE);
#undef REJ
	/* The rejected sequences were not consumed. */
	uint64_t last;
	ck_assert_int_eq(ledger_origin_last_seq(t.l, 7, &last, &err), 0);
	ck_assert_uint_eq(last, 119);
	tl_close(&t);
}
END_TEST

struct input_seen {
	int n;
	uint8_t kind[8];
	uint32_t serial[8];
	size_t len[8];
	char first[64];
};

static int input_cb(void *ctx, uint8_t kind, uint32_t base, uint32_t serial, uint64_t time,
		    const uint8_t *content, size_t len)
{
	struct input_seen *s = ctx;
	(void)base;
	(void)time;
	if (s->n == 0) {
		size_t k = len < sizeof s->first - 1 ? len : sizeof s->first - 1;
		memcpy(s->first, content, k);
		s->first[k] = '\0';
	}
	s->kind[s->n] = kind;
	s->serial[s->n] = serial;
	s->len[s->n] = len;
	s->n++;
	return 0;
}

START_TEST(test_chunks)
{
	struct tl t;
	struct ledger_cmd m;
	struct tdm_err err;
	uint64_t idx = 0, seq = 1;
	struct input_seen seen;
	tl_open(&t);
	sample_cmd(&m, LEDGER_CMD_POLICY_PUT, seq++);
	ST(t.l, ++idx, &m, LEDGER_OK);
	sample_cmd(&m, LEDGER_CMD_ZONE_ADD, seq++);
	ST(t.l, ++idx, &m, LEDGER_OK);

	/* An empty zone has no input. */
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(ledger_zone_input(t.l, "example.com", input_cb, &seen, &err), 0);
	ck_assert_int_eq(seen.n, 0);
	ck_assert_int_eq(ledger_zone_input(t.l, "nope", input_cb, &seen, &err), TDM_ENOENT);

	static const char *parts[3] = { "AAAA", "BBBBBB", "CC" };
	sample_cmd(&m, LEDGER_CMD_ZONE_INPUT, seq++);
	m.zone_input.serial = 10;
	m.zone_input.chunk_count = 3;
	m.zone_input.chunk_index = 0;
	m.zone_input.content = ledger_str(parts[0]);
	ST(t.l, ++idx, &m, LEDGER_OK);
	/* Chunk 2 before chunk 1: refused. */
	m.id.seq = seq++;
	m.zone_input.chunk_index = 2;
	m.zone_input.content = ledger_str(parts[2]);
	ST(t.l, ++idx, &m, LEDGER_STALE);
	/* Chunk 1 of another serial: refused. */
	m.id.seq = seq++;
	m.zone_input.chunk_index = 1;
	m.zone_input.serial = 11;
	m.zone_input.content = ledger_str(parts[1]);
	ST(t.l, ++idx, &m, LEDGER_STALE);
	m.id.seq = seq++;
	m.zone_input.serial = 10;
	ST(t.l, ++idx, &m, LEDGER_OK);
	/* Not current yet. */
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(ledger_zone_input(t.l, "example.com", input_cb, &seen, &err), 0);
	ck_assert_int_eq(seen.n, 0);
	m.id.seq = seq++;
	m.zone_input.chunk_index = 2;
	m.zone_input.content = ledger_str(parts[2]);
	ST(t.l, ++idx, &m, LEDGER_OK);
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(ledger_zone_input(t.l, "example.com", input_cb, &seen, &err), 0);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_str_eq(seen.first, "AAAABBBBBBCC");
	ck_assert_uint_eq(seen.serial[0], 10);

	/* A diff must start from the current serial. */
	sample_cmd(&m, LEDGER_CMD_ZONE_INPUT, seq++);
	m.zone_input.kind = LEDGER_INPUT_DIFF;
	m.zone_input.base_serial = 9;
	m.zone_input.serial = 11;
	m.zone_input.content = ledger_str("-a +b");
	ST(t.l, ++idx, &m, LEDGER_STALE);
	m.id.seq = seq++;
	m.zone_input.base_serial = 10;
	ST(t.l, ++idx, &m, LEDGER_OK);
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(ledger_zone_input(t.l, "example.com", input_cb, &seen, &err), 0);
	ck_assert_int_eq(seen.n, 2);
	ck_assert_uint_eq(seen.kind[1], LEDGER_INPUT_DIFF);
	ck_assert_uint_eq(seen.serial[1], 11);

	/* A half-staged input, then a new chunk 0 restarts the staging. */
	sample_cmd(&m, LEDGER_CMD_ZONE_INPUT, seq++);
	m.zone_input.serial = 20;
	m.zone_input.chunk_count = 2;
	m.zone_input.content = ledger_str("old");
	ST(t.l, ++idx, &m, LEDGER_OK);
	m.id.seq = seq++;
	m.zone_input.serial = 21;
	m.zone_input.content = ledger_str("new-");
	ST(t.l, ++idx, &m, LEDGER_OK);
	m.id.seq = seq++;
	m.zone_input.chunk_index = 1;
	m.zone_input.content = ledger_str("full");
	ST(t.l, ++idx, &m, LEDGER_OK);
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(ledger_zone_input(t.l, "example.com", input_cb, &seen, &err), 0);
	ck_assert_int_eq(seen.n, 1); /* the full input replaced input and diff */
	ck_assert_str_eq(seen.first, "new-full");
	ck_assert_uint_eq(seen.serial[0], 21);
	tl_close(&t);
}
END_TEST

struct sig_seen {
	int n;
	uint16_t tag[8];
	size_t rdlen[8];
};

static int sig_cb(void *ctx, const struct ledger_sig *sig, uint32_t serial)
{
	struct sig_seen *s = ctx;
	(void)serial;
	if (s->n < 8) {
		s->tag[s->n] = sig->key_tag;
		s->rdlen[s->n] = sig->rdata.len;
	}
	s->n++;
	return 0;
}

START_TEST(test_signatures)
{
	struct tl t;
	struct ledger_cmd m;
	struct tdm_err err;
	uint64_t idx = 0;
	struct sig_seen seen;
	uint64_t count;
	tl_open(&t);
	apply_scenario(t.l, &idx);
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(ledger_signatures_for_zone(t.l, "example.com", sig_cb, &seen, &err), 0);
	ck_assert_int_eq(seen.n, 3);

	/* Batch 2 replaces one signature (same owner/type/tag), deletes one, adds one. */
	sample_cmd(&m, LEDGER_CMD_SIG_BATCH, 500);
	struct ledger_sig sigs[3];
	memcpy(sigs, m.sig_batch.sigs, sizeof sigs);
	sigs[0].rdata.len = 10;    /* replace */
	sigs[1].rdata.len = 0;     /* delete */
	sigs[2].key_tag = 999;     /* new */
	m.sig_batch.sigs = sigs;
	m.sig_batch.batch = 2;
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_int_eq(ledger_signature_count(t.l, "example.com", &count, &err), 0);
	ck_assert_uint_eq(count, 3);
	ck_assert_int_eq(ledger_signature_count(t.l, NULL, &count, &err), 0);
	ck_assert_uint_eq(count, 3);
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(ledger_signatures_for_zone(t.l, "example.com", sig_cb, &seen, &err), 0);
	ck_assert_int_eq(seen.n, 3);
	/* Order by owner bytes: owner2 (\3www...) sorts first, then type, then tag. */
	ck_assert_uint_eq(seen.tag[0], 999);
	ck_assert_uint_eq(seen.tag[1], 54321);
	ck_assert_uint_eq(seen.tag[2], 12345);
	ck_assert_uint_eq(seen.rdlen[2], 10);
	uint32_t batch;
	ck_assert_int_eq(ledger_sig_batch_last(t.l, "example.com", 2024010101, &batch, &err), 0);
	ck_assert_uint_eq(batch, 2);

	/* A new input serial starts batch numbering again; signatures stay. */
	sample_cmd(&m, LEDGER_CMD_ZONE_INPUT, 501);
	m.zone_input.serial = 2024010110;
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_int_eq(ledger_sig_batch_last(t.l, "example.com", 2024010110, &batch, &err), 0);
	ck_assert_uint_eq(batch, 0);
	ck_assert_int_eq(ledger_signature_count(t.l, "example.com", &count, &err), 0);
	ck_assert_uint_eq(count, 3);

	/* ZONE_DEL takes everything of the zone along. */
	sample_cmd(&m, LEDGER_CMD_ZONE_DEL, 502);
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_int_eq(ledger_signature_count(t.l, NULL, &count, &err), 0);
	ck_assert_uint_eq(count, 0);
	struct ledger_key *k;
	size_t n;
	ck_assert_int_eq(ledger_key_list(t.l, NULL, &k, &n, &err), 0);
	ck_assert_uint_eq(n, 1); /* pool-2: a shared key example.net still uses */
	ck_assert_str_eq(k[0].key_id, "pool-2");
	ledger_key_list_free(k, n);
	sample_cmd(&m, LEDGER_CMD_POLICY_DEL, 503);
	ST(t.l, ++idx, &m, LEDGER_IN_USE);
	/* Deleting example.net purges the shared key nobody uses any more... */
	sample_cmd(&m, LEDGER_CMD_ZONE_DEL, 504);
	m.zone.name = ledger_str("example.net");
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_int_eq(ledger_key_list(t.l, NULL, &k, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	ledger_key_list_free(k, n);
	/* ...and then the policy can go. */
	sample_cmd(&m, LEDGER_CMD_POLICY_DEL, 505);
	ST(t.l, ++idx, &m, LEDGER_OK);
	tl_close(&t);
}
END_TEST

START_TEST(test_publish)
{
	struct tl t;
	struct ledger_cmd m;
	uint64_t idx = 0;
	uint8_t d1[32];
	tl_open(&t);
	apply_scenario(t.l, &idx);
	digest_of(t.l, d1);
	/* The same serial and content again (another command id): accepted, no change. */
	sample_cmd(&m, LEDGER_CMD_ZONE_PUBLISH, 600);
	ST(t.l, ++idx, &m, LEDGER_OK);
	/* RFC 1982: 2024010102 + 2e9, then 5 (past the wrap) follow in turn. */
	m.id.seq++;
	m.publish.serial = 2024010102u + 2000000000u;
	ST(t.l, ++idx, &m, LEDGER_OK);
	m.id.seq++;
	m.publish.serial = 5;
	ST(t.l, ++idx, &m, LEDGER_OK);
	m.id.seq++;
	m.publish.serial = 0xfffffff8u;
	ST(t.l, ++idx, &m, LEDGER_STALE);
	struct ledger_zone *z;
	size_t n;
	struct tdm_err err;
	ck_assert_int_eq(ledger_zone_list(t.l, &z, &n, &err), 0);
	ck_assert_uint_eq(z[0].published_serial, 5);
	ledger_zone_list_free(z, n);
	tl_close(&t);
}
END_TEST

/* Commands of a newer format stop apply: the node must be upgraded. */
START_TEST(test_versions)
{
	struct tl t;
	struct ledger_cmd m;
	struct ledger_result r;
	struct tdm_err err;
	size_t len;
	tl_open(&t);
	sample_cmd(&m, LEDGER_CMD_NOOP, 1);
	ST(t.l, 1, &m, LEDGER_OK);
	sample_cmd(&m, LEDGER_CMD_CLUSTER_VERSION, 2);
	m.cluster_version.version = LEDGER_FORMAT_VERSION + 1;
	uint8_t *buf = enc(&m, &len);
	tdm_err_clear(&err);
	ck_assert_int_eq(ledger_apply(t.l, 2, buf, len, &r, &err), TDM_EVERSION);
	ck_assert_ptr_nonnull(strstr(err.msg, "upgrade"));
	ck_assert_uint_eq(ledger_applied_index(t.l), 1);
	free(buf);
	sample_cmd(&m, LEDGER_CMD_NOOP, 2);
	buf = enc(&m, &len);
	buf[5] = LEDGER_FORMAT_VERSION + 1;
	ck_assert_int_eq(ledger_apply(t.l, 2, buf, len, &r, &err), TDM_EVERSION);
	ck_assert_uint_eq(ledger_applied_index(t.l), 1);
	free(buf);
	/* The same version again is fine; lower is STALE. */
	sample_cmd(&m, LEDGER_CMD_CLUSTER_VERSION, 3);
	ST(t.l, 2, &m, LEDGER_OK);
	ck_assert_uint_eq(ledger_cluster_version(t.l), 1);
	tl_close(&t);
}
END_TEST

START_TEST(test_batch)
{
	struct tl t, u;
	struct ledger_cmd m;
	struct ledger_entry e[6];
	struct ledger_result r[6];
	uint8_t *bufs[6];
	struct tdm_err err;
	static const unsigned types[6] = { LEDGER_CMD_POLICY_PUT, LEDGER_CMD_ZONE_ADD, LEDGER_CMD_ZONE_ADD,
					   LEDGER_CMD_TEST, LEDGER_CMD_ZONE_INPUT, LEDGER_CMD_SIG_BATCH };
	tl_open(&t);
	tl_open(&u);
	for (int i = 0; i < 6; i++) {
		sample_cmd(&m, types[i], 10 + (uint64_t)i);
		bufs[i] = enc(&m, &e[i].len);
		e[i].buf = bufs[i];
	}
	ck_assert_int_eq(ledger_apply_batch(t.l, 1, 6, e, r, &err), 0);
	ck_assert_int_eq(r[0].status, LEDGER_OK);
	ck_assert_int_eq(r[2].status, LEDGER_EXISTS);
	ck_assert_int_eq(r[5].status, LEDGER_OK);
	ck_assert_uint_eq(r[5].index, 6);
	ck_assert_uint_eq(ledger_applied_index(t.l), 6);
	/* One by one gives the same state. */
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(ledger_apply(u.l, 1 + (uint64_t)i, e[i].buf, e[i].len, &r[i], &err), 0);
	}
	uint8_t d1[32], d2[32];
	digest_of(t.l, d1);
	digest_of(u.l, d2);
	ck_assert(memcmp(d1, d2, 32) == 0);
	/* A batch overlapping what is applied skips the overlap. */
	ck_assert_int_eq(ledger_apply_batch(t.l, 5, 2, e, r, &err), 0);
	ck_assert_int_eq(r[0].status, LEDGER_SKIPPED);
	ck_assert_int_eq(r[1].status, LEDGER_SKIPPED);
	for (int i = 0; i < 6; i++)
		free(bufs[i]);
	tl_close(&u);
	tl_close(&t);
}
END_TEST

/* A database that is not a ledger, or of another schema version, is refused. */
START_TEST(test_open_refuses)
{
	struct tl t;
	struct ledger *l2;
	struct tdm_err err;
	tl_open(&t);
	sqlite3 *db;
	ledger_close(t.l);
	t.l = NULL;
	ck_assert_int_eq(sqlite3_open(t.path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(ledger_open(&l2, t.path, &err), TDM_EVERSION);
	ck_assert_ptr_nonnull(strstr(err.msg, "schema version 99"));
	tl_close(&t);
}
END_TEST

TCase *tcase_apply(void)
{
	TCase *tc = tcase_create("apply");
	tcase_add_test(tc, test_every_command);
	tcase_add_test(tc, test_idempotent);
	tcase_add_test(tc, test_replay_after_reopen);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_rejections);
	tcase_add_test(tc, test_chunks);
	tcase_add_test(tc, test_signatures);
	tcase_add_test(tc, test_publish);
	tcase_add_test(tc, test_versions);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_open_refuses);
	return tc;
}
