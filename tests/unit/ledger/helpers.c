/*
 * Helpers of check_ledger: sample commands, temporary ledgers, a scenario
 * that touches every table.
 */
#include "ledger_tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/testlib.h"

static const uint8_t dnskey_rdata[4 + 64] = { 0x01, 0x01, 3, 13, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
static const uint8_t cka[16] = { 0xca, 0xfe, 0xba, 0xbe, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint8_t wrapped[40] = { 0x77, 0x72, 0x61, 0x70 };
static const uint8_t owner1[] = { 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
static const uint8_t owner2[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0 };
static const uint8_t rrsig[100] = { 0, 6, 13, 2, 0, 0, 0x0e, 0x10 };
static struct ledger_sig sample_sigs[3];
static const uint8_t pool_rdata[4 + 64] = { 0x01, 0x00, 3, 13, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
static struct ledger_zone_op sample_zone_ops[4];
static struct ledger_enforce_key sample_keys_com[2], sample_keys_net[1];
static struct ledger_enforce_zone sample_enforce_zones[2];

static struct ledger_bytes B(const void *p, size_t n)
{
	struct ledger_bytes b = { p, n };
	return b;
}

void sample_cmd(struct ledger_cmd *m, unsigned type, uint64_t seq)
{
	memset(m, 0, sizeof *m);
	m->type = (uint16_t)type;
	m->id.origin = 7;
	m->id.seq = seq;
	switch (type) {
	case LEDGER_CMD_NOOP:
	case LEDGER_CMD_TEST:
		m->test.payload = ledger_str("payload of a test entry");
		break;
	case LEDGER_CMD_POLICY_PUT:
		m->policy.name = ledger_str("default");
		m->policy.blob = B("<Policy name=\"default\"/>", 24);
		break;
	case LEDGER_CMD_POLICY_DEL:
		m->policy.name = ledger_str("default");
		break;
	case LEDGER_CMD_ZONE_ADD:
	case LEDGER_CMD_ZONE_SET:
	case LEDGER_CMD_ZONE_DEL:
		m->zone.name = ledger_str("example.com");
		if (type == LEDGER_CMD_ZONE_DEL)
			break;
		m->zone.policy = ledger_str("default");
		m->zone.in_type = ledger_str("File");
		m->zone.in_uri = ledger_str("/var/lib/tandem/unsigned/example.com");
		m->zone.out_type = ledger_str("File");
		m->zone.out_uri = ledger_str("/var/lib/tandem/signed/example.com");
		m->zone.signconf = ledger_str("/var/lib/tandem/signconf/example.com.xml");
		break;
	case LEDGER_CMD_KEY_CREATE:
		m->key_create.key_id = ledger_str("cafebabe0102");
		m->key_create.scope = LEDGER_SCOPE_ZONE;
		m->key_create.scope_name = ledger_str("example.com");
		m->key_create.role = LEDGER_ROLE_KSK;
		m->key_create.algorithm = 13;
		m->key_create.bits = 256;
		m->key_create.public_rdata = B(dnskey_rdata, sizeof dnskey_rdata);
		m->key_create.cka_id = B(cka, sizeof cka);
		m->key_create.repository = ledger_str("SoftHSM");
		m->key_create.wrapped_private = B(wrapped, sizeof wrapped);
		m->key_create.created = 1700000000;
		break;
	case LEDGER_CMD_KEY_STATE:
		m->key_state.key_id = ledger_str("cafebabe0102");
		for (int i = 0; i < 4; i++) {
			m->key_state.rec[i].state = (uint8_t)(i % 4);
			m->key_state.rec[i].since = 1700000100 + (uint64_t)i;
		}
		break;
	case LEDGER_CMD_KEY_DEL:
		m->key_del.key_id = ledger_str("cafebabe0102");
		break;
	case LEDGER_CMD_ZONE_INPUT:
		m->zone_input.zone = ledger_str("example.com");
		m->zone_input.serial = 2024010101;
		m->zone_input.kind = LEDGER_INPUT_FULL;
		m->zone_input.chunk_index = 0;
		m->zone_input.chunk_count = 1;
		m->zone_input.time = 1700000200;
		m->zone_input.content = ledger_str("example.com. 3600 IN SOA ns1 h 2024010101 1 1 1 1\n");
		break;
	case LEDGER_CMD_SIG_BATCH:
		sample_sigs[0] = (struct ledger_sig){ B(owner1, sizeof owner1), 6, 12345, B(rrsig, sizeof rrsig) };
		sample_sigs[1] = (struct ledger_sig){ B(owner1, sizeof owner1), 2, 12345, B(rrsig, 50) };
		sample_sigs[2] = (struct ledger_sig){ B(owner2, sizeof owner2), 1, 54321, B(rrsig, 70) };
		m->sig_batch.zone = ledger_str("example.com");
		m->sig_batch.input_serial = 2024010101;
		m->sig_batch.batch = 1;
		m->sig_batch.nsigs = 3;
		m->sig_batch.sigs = sample_sigs;
		break;
	case LEDGER_CMD_ZONE_PUBLISH:
		m->publish.zone = ledger_str("example.com");
		m->publish.serial = 2024010102;
		memset(m->publish.sha256, 0xab, 32);
		m->publish.time = 1700000300;
		break;
	case LEDGER_CMD_NODE_ADD:
	case LEDGER_CMD_NODE_DEL:
		m->node.node_id = 2;
		if (type == LEDGER_CMD_NODE_DEL)
			break;
		m->node.address = ledger_str("192.0.2.2:5400");
		m->node.witness = 1;
		m->node.transport_pubkey = B(dnskey_rdata, 30);
		m->node.wrapped_kek = B(wrapped, sizeof wrapped);
		break;
	case LEDGER_CMD_CLUSTER_VERSION:
		m->cluster_version.version = 1;
		break;
	case LEDGER_CMD_ZONE_BATCH: {
		/* Adds example.net and example.org, changes the first, deletes the second. */
		struct ledger_cmd z;
		sample_cmd(&z, LEDGER_CMD_ZONE_ADD, 0);
		for (int i = 0; i < 4; i++) {
			struct ledger_zone_op *op = &sample_zone_ops[i];
			memset(op, 0, sizeof *op);
			op->op = i < 2 ? LEDGER_ZONE_OP_ADD : i == 2 ? LEDGER_ZONE_OP_SET : LEDGER_ZONE_OP_DEL;
			op->name = ledger_str(i == 0 || i == 2 ? "example.net" : "example.org");
			if (op->op == LEDGER_ZONE_OP_DEL)
				continue;
			op->policy = z.zone.policy;
			op->in_type = z.zone.in_type;
			op->in_uri = z.zone.in_uri;
			op->out_type = z.zone.out_type;
			op->out_uri = z.zone.out_uri;
			op->signconf = ledger_str(i == 2 ? "/etc/tandem/signconf/example.net.xml" : "sc.xml");
		}
		m->zone_batch.nzones = 4;
		m->zone_batch.zones = sample_zone_ops;
		break;
	}
	case LEDGER_CMD_ENFORCE:
		/* example.com: its own KSK, and pool-1 claimed as its CSK;
		 * example.net: pool-2 claimed as a shared KSK of "default". */
		sample_enforce_key(&sample_keys_com[0], "cafebabe0102", LEDGER_EK_SET, 0, 0);
		sample_keys_com[0].goal = LEDGER_GOAL_ACTIVE;
		sample_keys_com[0].ds_at_parent = 3;
		sample_enforce_key(&sample_keys_com[1], "pool-1", LEDGER_EK_SET, LEDGER_SCOPE_ZONE,
				   LEDGER_ROLE_CSK);
		sample_enforce_key(&sample_keys_net[0], "pool-2", LEDGER_EK_SET, LEDGER_SCOPE_POLICY,
				   LEDGER_ROLE_KSK);
		sample_keys_net[0].goal = LEDGER_GOAL_STANDBY;
		memset(sample_enforce_zones, 0, sizeof sample_enforce_zones);
		sample_enforce_zones[0].zone = ledger_str("example.com");
		sample_enforce_zones[0].next_due = 1700003600;
		sample_enforce_zones[0].roll[LEDGER_ROLE_ZSK] = 1700000450;
		sample_enforce_zones[0].salt = ledger_str("0a1B2c3D");
		sample_enforce_zones[0].salt_time = 1700000400;
		sample_enforce_zones[0].nkeys = 2;
		sample_enforce_zones[0].keys = sample_keys_com;
		sample_enforce_zones[1].zone = ledger_str("example.net");
		sample_enforce_zones[1].next_due = UINT64_MAX;
		sample_enforce_zones[1].nkeys = 1;
		sample_enforce_zones[1].keys = sample_keys_net;
		m->enforce.time = 1700000500;
		m->enforce.nzones = 2;
		m->enforce.zones = sample_enforce_zones;
		break;
	case LEDGER_CMD_BACKUP:
		m->backup.repository = ledger_str("SoftHSM");
		m->backup.action = LEDGER_BACKUP_PREPARE;
		m->backup.time = 1700000600;
		break;
	}
}

void sample_enforce_key(struct ledger_enforce_key *k, const char *id, uint8_t op, uint8_t claim_scope,
			uint8_t claim_role)
{
	memset(k, 0, sizeof *k);
	k->key_id = ledger_str(id);
	k->op = op;
	k->claim_scope = claim_scope;
	k->claim_role = claim_role;
	k->goal = LEDGER_GOAL_ACTIVE;
	k->ds_at_parent_since = 1700000401;
	k->active_since = 1700000402;
	for (int i = 0; i < 4; i++) {
		k->rec[i].state = (uint8_t)((i + 1) % 4);
		k->rec[i].since = 1700000410 + (uint64_t)i;
	}
}

void sample_pool_key(struct ledger_cmd *m, const char *id, uint64_t seq)
{
	sample_cmd(m, LEDGER_CMD_KEY_CREATE, seq);
	m->key_create.key_id = ledger_str(id);
	m->key_create.scope = LEDGER_SCOPE_POOL;
	m->key_create.scope_name = ledger_str("");
	m->key_create.role = 0;
	m->key_create.public_rdata = B(pool_rdata, sizeof pool_rdata);
	m->key_create.created = 1700000001 + seq;
}

uint8_t *enc(const struct ledger_cmd *m, size_t *len)
{
	struct tdm_err err;
	uint8_t *buf = NULL;
	tdm_err_clear(&err);
	int rc = ledger_cmd_encode(m, &buf, len, &err);
	ck_assert_msg(rc == 0, "encode %s: %s", ledger_cmd_type_name(m->type), err.msg);
	ck_assert_uint_eq(*len % 8, 0);
	return buf;
}

static void beq(struct ledger_bytes a, struct ledger_bytes b, const char *what)
{
	ck_assert_msg(a.len == b.len, "%s: length %zu != %zu", what, a.len, b.len);
	ck_assert_msg(a.len == 0 || memcmp(a.data, b.data, a.len) == 0, "%s differs", what);
}

void assert_cmd_equal(const struct ledger_cmd *a, const struct ledger_cmd *b)
{
	ck_assert_uint_eq(a->type, b->type);
	ck_assert_uint_eq(a->id.origin, b->id.origin);
	ck_assert_uint_eq(a->id.seq, b->id.seq);
	switch (a->type) {
	case LEDGER_CMD_NOOP:
	case LEDGER_CMD_TEST:
		beq(a->test.payload, b->test.payload, "payload");
		break;
	case LEDGER_CMD_POLICY_PUT:
	case LEDGER_CMD_POLICY_DEL:
		beq(a->policy.name, b->policy.name, "name");
		beq(a->policy.blob, b->policy.blob, "blob");
		break;
	case LEDGER_CMD_ZONE_ADD:
	case LEDGER_CMD_ZONE_SET:
	case LEDGER_CMD_ZONE_DEL:
		beq(a->zone.name, b->zone.name, "name");
		beq(a->zone.policy, b->zone.policy, "policy");
		beq(a->zone.in_type, b->zone.in_type, "in_type");
		beq(a->zone.in_uri, b->zone.in_uri, "in_uri");
		beq(a->zone.out_type, b->zone.out_type, "out_type");
		beq(a->zone.out_uri, b->zone.out_uri, "out_uri");
		beq(a->zone.signconf, b->zone.signconf, "signconf");
		break;
	case LEDGER_CMD_KEY_CREATE:
		beq(a->key_create.key_id, b->key_create.key_id, "key_id");
		ck_assert_uint_eq(a->key_create.scope, b->key_create.scope);
		beq(a->key_create.scope_name, b->key_create.scope_name, "scope_name");
		ck_assert_uint_eq(a->key_create.role, b->key_create.role);
		ck_assert_uint_eq(a->key_create.algorithm, b->key_create.algorithm);
		ck_assert_uint_eq(a->key_create.bits, b->key_create.bits);
		beq(a->key_create.public_rdata, b->key_create.public_rdata, "public_rdata");
		beq(a->key_create.cka_id, b->key_create.cka_id, "cka_id");
		beq(a->key_create.repository, b->key_create.repository, "repository");
		beq(a->key_create.wrapped_private, b->key_create.wrapped_private, "wrapped_private");
		ck_assert_uint_eq(a->key_create.created, b->key_create.created);
		break;
	case LEDGER_CMD_KEY_STATE:
		beq(a->key_state.key_id, b->key_state.key_id, "key_id");
		for (int i = 0; i < 4; i++) {
			ck_assert_uint_eq(a->key_state.rec[i].state, b->key_state.rec[i].state);
			ck_assert_uint_eq(a->key_state.rec[i].since, b->key_state.rec[i].since);
		}
		break;
	case LEDGER_CMD_KEY_DEL:
		beq(a->key_del.key_id, b->key_del.key_id, "key_id");
		break;
	case LEDGER_CMD_ZONE_INPUT:
		beq(a->zone_input.zone, b->zone_input.zone, "zone");
		ck_assert_uint_eq(a->zone_input.serial, b->zone_input.serial);
		ck_assert_uint_eq(a->zone_input.kind, b->zone_input.kind);
		ck_assert_uint_eq(a->zone_input.base_serial, b->zone_input.base_serial);
		ck_assert_uint_eq(a->zone_input.chunk_index, b->zone_input.chunk_index);
		ck_assert_uint_eq(a->zone_input.chunk_count, b->zone_input.chunk_count);
		ck_assert_uint_eq(a->zone_input.time, b->zone_input.time);
		beq(a->zone_input.content, b->zone_input.content, "content");
		break;
	case LEDGER_CMD_SIG_BATCH:
		beq(a->sig_batch.zone, b->sig_batch.zone, "zone");
		ck_assert_uint_eq(a->sig_batch.input_serial, b->sig_batch.input_serial);
		ck_assert_uint_eq(a->sig_batch.batch, b->sig_batch.batch);
		ck_assert_uint_eq(a->sig_batch.nsigs, b->sig_batch.nsigs);
		for (uint32_t i = 0; i < a->sig_batch.nsigs; i++) {
			beq(a->sig_batch.sigs[i].owner, b->sig_batch.sigs[i].owner, "owner");
			ck_assert_uint_eq(a->sig_batch.sigs[i].type_covered, b->sig_batch.sigs[i].type_covered);
			ck_assert_uint_eq(a->sig_batch.sigs[i].key_tag, b->sig_batch.sigs[i].key_tag);
			beq(a->sig_batch.sigs[i].rdata, b->sig_batch.sigs[i].rdata, "rdata");
		}
		break;
	case LEDGER_CMD_ZONE_PUBLISH:
		beq(a->publish.zone, b->publish.zone, "zone");
		ck_assert_uint_eq(a->publish.serial, b->publish.serial);
		ck_assert(memcmp(a->publish.sha256, b->publish.sha256, 32) == 0);
		ck_assert_uint_eq(a->publish.time, b->publish.time);
		break;
	case LEDGER_CMD_NODE_ADD:
	case LEDGER_CMD_NODE_DEL:
		ck_assert_uint_eq(a->node.node_id, b->node.node_id);
		beq(a->node.address, b->node.address, "address");
		ck_assert_uint_eq(a->node.witness, b->node.witness);
		beq(a->node.transport_pubkey, b->node.transport_pubkey, "transport_pubkey");
		beq(a->node.wrapped_kek, b->node.wrapped_kek, "wrapped_kek");
		break;
	case LEDGER_CMD_CLUSTER_VERSION:
		ck_assert_uint_eq(a->cluster_version.version, b->cluster_version.version);
		break;
	case LEDGER_CMD_ZONE_BATCH:
		ck_assert_uint_eq(a->zone_batch.nzones, b->zone_batch.nzones);
		for (uint32_t i = 0; i < a->zone_batch.nzones; i++) {
			const struct ledger_zone_op *x = &a->zone_batch.zones[i], *y = &b->zone_batch.zones[i];
			ck_assert_uint_eq(x->op, y->op);
			beq(x->name, y->name, "name");
			beq(x->policy, y->policy, "policy");
			beq(x->in_type, y->in_type, "in_type");
			beq(x->in_uri, y->in_uri, "in_uri");
			beq(x->out_type, y->out_type, "out_type");
			beq(x->out_uri, y->out_uri, "out_uri");
			beq(x->signconf, y->signconf, "signconf");
		}
		break;
	case LEDGER_CMD_ENFORCE:
		ck_assert_uint_eq(a->enforce.time, b->enforce.time);
		ck_assert_uint_eq(a->enforce.nzones, b->enforce.nzones);
		for (uint32_t i = 0; i < a->enforce.nzones; i++) {
			const struct ledger_enforce_zone *x = &a->enforce.zones[i], *y = &b->enforce.zones[i];
			beq(x->zone, y->zone, "zone");
			ck_assert_uint_eq(x->next_due, y->next_due);
			for (int r = 1; r <= 3; r++)
				ck_assert_uint_eq(x->roll[r], y->roll[r]);
			beq(x->salt, y->salt, "salt");
			ck_assert_uint_eq(x->salt_time, y->salt_time);
			ck_assert_uint_eq(x->nkeys, y->nkeys);
			for (uint32_t j = 0; j < x->nkeys; j++) {
				const struct ledger_enforce_key *p = &x->keys[j], *q = &y->keys[j];
				beq(p->key_id, q->key_id, "key_id");
				ck_assert_uint_eq(p->op, q->op);
				ck_assert_uint_eq(p->claim_scope, q->claim_scope);
				ck_assert_uint_eq(p->claim_role, q->claim_role);
				ck_assert_uint_eq(p->goal, q->goal);
				ck_assert_uint_eq(p->ds_at_parent, q->ds_at_parent);
				ck_assert_uint_eq(p->ds_at_parent_since, q->ds_at_parent_since);
				ck_assert_uint_eq(p->active_since, q->active_since);
				for (int r = 0; r < 4; r++) {
					ck_assert_uint_eq(p->rec[r].state, q->rec[r].state);
					ck_assert_uint_eq(p->rec[r].since, q->rec[r].since);
				}
			}
		}
		break;
	case LEDGER_CMD_BACKUP:
		beq(a->backup.repository, b->backup.repository, "repository");
		ck_assert_uint_eq(a->backup.action, b->backup.action);
		ck_assert_uint_eq(a->backup.time, b->backup.time);
		break;
	default:
		ck_abort_msg("unknown type %u", a->type);
	}
}

void tl_open(struct tl *t)
{
	struct tdm_err err;
	t->dir = tdm_test_tmpdir_new();
	size_t n = strlen(t->dir) + 16;
	t->path = malloc(n);
	snprintf(t->path, n, "%s/state.db", t->dir);
	tdm_err_clear(&err);
	int rc = ledger_open(&t->l, t->path, &err);
	ck_assert_msg(rc == 0, "ledger_open: %s", err.msg);
}

void tl_reopen(struct tl *t)
{
	struct tdm_err err;
	ledger_close(t->l);
	tdm_err_clear(&err);
	int rc = ledger_open(&t->l, t->path, &err);
	ck_assert_msg(rc == 0, "ledger_open: %s", err.msg);
}

void tl_close(struct tl *t)
{
	ledger_close(t->l);
	t->l = NULL;
	free(t->path);
	tdm_test_tmpdir_remove(t->dir);
}

enum ledger_status apply_cmd_res(struct ledger *l, uint64_t index, const struct ledger_cmd *m,
				 struct ledger_result *res)
{
	struct tdm_err err;
	size_t len;
	uint8_t *buf = enc(m, &len);
	tdm_err_clear(&err);
	int rc = ledger_apply(l, index, buf, len, res, &err);
	free(buf);
	ck_assert_msg(rc == 0, "apply %s at %llu: %s", ledger_cmd_type_name(m->type),
		      (unsigned long long)index, err.msg);
	return res->status;
}

enum ledger_status apply_cmd(struct ledger *l, uint64_t index, const struct ledger_cmd *m)
{
	struct ledger_result res;
	return apply_cmd_res(l, index, m, &res);
}

void digest_of(struct ledger *l, uint8_t out[32])
{
	struct tdm_err err;
	tdm_err_clear(&err);
	int rc = ledger_digest(l, out, NULL, &err);
	ck_assert_msg(rc == 0, "digest: %s", err.msg);
}

#define OK(l, i, m) do { struct ledger_result r_; \
	enum ledger_status s_ = apply_cmd_res(l, i, m, &r_); \
	ck_assert_msg(s_ == LEDGER_OK, "%s at %llu: %s: %s", ledger_cmd_type_name((m)->type), \
		      (unsigned long long)(i), ledger_status_name(s_), r_.msg); } while (0)

void apply_scenario(struct ledger *l, uint64_t *index)
{
	static const unsigned order[] = {
		LEDGER_CMD_NOOP, LEDGER_CMD_TEST, LEDGER_CMD_POLICY_PUT, LEDGER_CMD_ZONE_ADD,
		LEDGER_CMD_ZONE_SET, LEDGER_CMD_KEY_CREATE, LEDGER_CMD_KEY_STATE, LEDGER_CMD_ZONE_INPUT,
		LEDGER_CMD_SIG_BATCH, LEDGER_CMD_ZONE_PUBLISH, LEDGER_CMD_NODE_ADD,
		LEDGER_CMD_CLUSTER_VERSION,
	};
	struct ledger_cmd m;
	uint64_t seq = 100;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		sample_cmd(&m, order[i], ++seq);
		++*index;
		OK(l, *index, &m);
	}
	/* A second key and a chunked input, so those tables hold more than one row. */
	sample_cmd(&m, LEDGER_CMD_KEY_CREATE, ++seq);
	m.key_create.key_id = ledger_str("zsk-2");
	m.key_create.role = LEDGER_ROLE_ZSK;
	++*index;
	OK(l, *index, &m);
	sample_cmd(&m, LEDGER_CMD_ZONE_INPUT, ++seq);
	m.zone_input.chunk_count = 3;
	m.zone_input.serial = 2024010105;
	++*index;
	OK(l, *index, &m);
	/* Format 2: zones in a batch, pool keys, an enforcer run, a backup. */
	sample_cmd(&m, LEDGER_CMD_ZONE_BATCH, ++seq);
	++*index;
	OK(l, *index, &m);
	sample_pool_key(&m, "pool-1", ++seq);
	++*index;
	OK(l, *index, &m);
	sample_pool_key(&m, "pool-2", ++seq);
	++*index;
	OK(l, *index, &m);
	sample_cmd(&m, LEDGER_CMD_ENFORCE, ++seq);
	++*index;
	OK(l, *index, &m);
	sample_cmd(&m, LEDGER_CMD_BACKUP, ++seq);
	++*index;
	OK(l, *index, &m);
}
