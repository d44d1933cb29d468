/*
 * Format 2 apply and queries: ZONE_BATCH (all or nothing), pool keys and
 * their claim by ENFORCE, DROP and purge of zone and shared keys, key_zone
 * cleanup by ZONE_DEL and KEY_DEL, BACKUP transitions, the enforcer's
 * queries, a snapshot round trip of the new tables, and a 50,000-zone run
 * whose timings are printed (TDM_LEDGER_SCALE_ZONES changes the size).
 */
#include "hsm/hsm.h"
#include "ledger_tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#define ST(l, i, m, want) do { struct ledger_result r_; \
	enum ledger_status s_ = apply_cmd_res(l, i, m, &r_); \
	ck_assert_msg(s_ == (want), "%s at %llu: got %s (%s), want %s", \
		      ledger_cmd_type_name((m)->type), (unsigned long long)(i), \
		      ledger_status_name(s_), r_.msg, ledger_status_name(want)); } while (0)

/* Apply, expect @p want, and return the message (static buffer). */
static const char *apply_msg(struct ledger *l, uint64_t i, const struct ledger_cmd *m,
			     enum ledger_status want)
{
	static struct ledger_result r;
	enum ledger_status s = apply_cmd_res(l, i, m, &r);
	ck_assert_msg(s == want, "%s at %llu: got %s (%s), want %s", ledger_cmd_type_name(m->type),
		      (unsigned long long)i, ledger_status_name(s), r.msg, ledger_status_name(want));
	return r.msg;
}

static void assert_same_digest(struct ledger *l, const uint8_t want[32], const char *what)
{
	uint8_t d[32];
	digest_of(l, d);
	ck_assert_msg(memcmp(d, want, 32) == 0, "state changed: %s", what);
}

/* The zone state or fail. */
static void state_of(struct ledger *l, const char *zone, struct ledger_zone_state *z)
{
	struct tdm_err err;
	tdm_err_clear(&err);
	ck_assert_msg(ledger_zone_state_get(l, zone, z, &err) == 0, "%s: %s", zone, err.msg);
}

static const struct ledger_key *key_in(struct ledger *l, const char *id, struct ledger_key **all, size_t *n)
{
	struct tdm_err err;
	ck_assert_int_eq(ledger_key_list(l, NULL, all, n, &err), 0);
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*all)[i].key_id, id) == 0)
			return &(*all)[i];
	return NULL;
}

/* One zone of an ENFORCE with keys @p k[0..nk). */
static void enforce_one(struct ledger_cmd *m, uint64_t seq, struct ledger_enforce_zone *z, const char *zone,
			struct ledger_enforce_key *k, uint32_t nk, uint64_t time)
{
	memset(m, 0, sizeof *m);
	memset(z, 0, sizeof *z);
	m->type = LEDGER_CMD_ENFORCE;
	m->id.origin = 7;
	m->id.seq = seq;
	m->enforce.time = time;
	m->enforce.nzones = 1;
	m->enforce.zones = z;
	z->zone = ledger_str(zone);
	z->next_due = time + 3600;
	z->nkeys = nk;
	z->keys = k;
}

/* ZONE_BATCH applies every operation or none; the message names zone and position. */
START_TEST(test_zone_batch)
{
	struct tl t;
	struct ledger_cmd m, p;
	struct tdm_err err;
	uint8_t d0[32];
	uint64_t idx = 0, nz;
	tl_open(&t);
	sample_cmd(&p, LEDGER_CMD_POLICY_PUT, 1);
	ST(t.l, ++idx, &p, LEDGER_OK);
	sample_cmd(&m, LEDGER_CMD_ZONE_BATCH, 2);
	ST(t.l, ++idx, &m, LEDGER_OK);
	char **names;
	size_t n;
	ck_assert_int_eq(ledger_zone_names(t.l, NULL, &names, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "example.net");
	ledger_names_free(names, n);
	struct ledger_zone_state z;
	state_of(t.l, "example.net", &z);
	ck_assert_str_eq(z.signconf, "/etc/tandem/signconf/example.net.xml");
	ck_assert_uint_eq(z.next_due, 0); /* due at once */
	ck_assert_str_eq(z.salt, "");
	ledger_zone_state_clear(&z);

	/* A rejection in the middle: the ADD before it is undone too. */
	digest_of(t.l, d0);
	struct ledger_zone_op ops[3];
	memcpy(ops, m.zone_batch.zones, 2 * sizeof ops[0]);
	ops[0].name = ledger_str("new.example");
	ops[1].name = ledger_str("example.net"); /* exists */
	ops[2] = ops[0];
	ops[2].name = ledger_str("other.example");
	m.zone_batch.zones = ops;
	m.zone_batch.nzones = 3;
	m.id.seq = 3;
	const char *msg = apply_msg(t.l, ++idx, &m, LEDGER_EXISTS);
	ck_assert_msg(strstr(msg, "zones[1]") && strstr(msg, "example.net"), "%s", msg);
	assert_same_digest(t.l, d0, "rejected ZONE_BATCH");
	ck_assert_int_eq(ledger_counts(t.l, &nz, NULL, NULL, &err), 0);
	ck_assert_uint_eq(nz, 1);
	/* A SET of an unknown zone, a DEL of one, an unknown policy, an empty name. */
	ops[1].op = LEDGER_ZONE_OP_SET;
	ops[1].name = ledger_str("nope.example");
	msg = apply_msg(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	ck_assert_msg(strstr(msg, "zones[1]") && strstr(msg, "nope.example"), "%s", msg);
	ops[1].op = LEDGER_ZONE_OP_DEL;
	msg = apply_msg(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	ops[2].policy = ledger_str("missing");
	ops[1] = ops[0];
	ops[1].name = ledger_str("fine.example");
	msg = apply_msg(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	ck_assert_msg(strstr(msg, "zones[2]") && strstr(msg, "missing"), "%s", msg);
	ops[2].policy = ops[0].policy;
	ops[2].name = ledger_str("");
	msg = apply_msg(t.l, ++idx, &m, LEDGER_INVALID);
	ck_assert_msg(strstr(msg, "zones[2]"), "%s", msg);
	assert_same_digest(t.l, d0, "rejected ZONE_BATCHes");
	/* Adding and deleting the same zone in one batch is fine. */
	ops[2].op = LEDGER_ZONE_OP_DEL;
	ops[2].name = ledger_str("new.example");
	m.id.seq = 4;
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_int_eq(ledger_zone_names(t.l, NULL, &names, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "example.net");
	ck_assert_str_eq(names[1], "fine.example");
	ledger_names_free(names, n);
	ck_assert_int_eq(ledger_zone_names(t.l, "none", &names, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	ledger_names_free(names, n);
	tl_close(&t);
}
END_TEST

/* Pool keys: KEY_CREATE rules, claims, flags and key tags. */
START_TEST(test_claim)
{
	struct tl t;
	struct ledger_cmd m;
	struct ledger_enforce_zone z;
	struct ledger_enforce_key k[3];
	struct tdm_err err;
	uint64_t idx = 0, seq = 200;
	uint8_t d0[32];
	tl_open(&t);
	apply_scenario(t.l, &idx);

	/* KEY_CREATE of a pool key: role 0 and no scope name. */
	sample_pool_key(&m, "pool-3", ++seq);
	m.key_create.role = LEDGER_ROLE_ZSK;
	ST(t.l, ++idx, &m, LEDGER_INVALID);
	sample_pool_key(&m, "pool-3", seq);
	m.key_create.scope_name = ledger_str("example.com");
	ST(t.l, ++idx, &m, LEDGER_INVALID);
	sample_pool_key(&m, "pool-3", seq);
	m.key_create.scope = 4;
	ST(t.l, ++idx, &m, LEDGER_INVALID);
	sample_pool_key(&m, "pool-3", seq);
	ST(t.l, ++idx, &m, LEDGER_OK);
	sample_pool_key(&m, "pool-4", ++seq);
	ST(t.l, ++idx, &m, LEDGER_OK);

	/* The scenario's claims: pool-1 is example.com's CSK, pool-2 a KSK of "default". */
	struct ledger_key *all;
	size_t n;
	const struct ledger_key *p1 = key_in(t.l, "pool-1", &all, &n);
	ck_assert_ptr_nonnull(p1);
	ck_assert_uint_eq(p1->scope, LEDGER_SCOPE_ZONE);
	ck_assert_str_eq(p1->scope_name, "example.com");
	ck_assert_uint_eq(p1->role, LEDGER_ROLE_CSK);
	ck_assert_uint_eq(p1->public_rdata[0] << 8 | p1->public_rdata[1], 257);
	ck_assert_uint_eq(p1->key_tag, hsm_keytag(p1->public_rdata, p1->public_rdata_len));
	const struct ledger_key *p2 = &all[p1 - all + 1];
	ck_assert_str_eq(p2->key_id, "pool-2");
	ck_assert_uint_eq(p2->scope, LEDGER_SCOPE_POLICY);
	ck_assert_str_eq(p2->scope_name, "default");
	ck_assert_uint_eq(p2->role, LEDGER_ROLE_KSK);
	const struct ledger_key *p3 = &all[p1 - all + 2];
	ck_assert_str_eq(p3->key_id, "pool-3");
	ck_assert_uint_eq(p3->scope, LEDGER_SCOPE_POOL);
	ck_assert_uint_eq(p3->role, 0);
	ck_assert_uint_eq(p3->public_rdata[0] << 8 | p3->public_rdata[1], 256);
	uint16_t tag3 = p3->key_tag;
	ledger_key_list_free(all, n);

	/* Claim pool-3 as a ZSK: flags stay 256, the tag is that of the RDATA. */
	sample_enforce_key(&k[0], "pool-3", LEDGER_EK_SET, LEDGER_SCOPE_ZONE, LEDGER_ROLE_ZSK);
	enforce_one(&m, ++seq, &z, "example.com", k, 1, 1700001000);
	ST(t.l, ++idx, &m, LEDGER_OK);
	p3 = key_in(t.l, "pool-3", &all, &n);
	ck_assert_uint_eq(p3->role, LEDGER_ROLE_ZSK);
	ck_assert_uint_eq(p3->key_tag, tag3);
	ledger_key_list_free(all, n);

	digest_of(t.l, d0);
	/* A key that is no longer in the pool: CONFLICT. */
	enforce_one(&m, ++seq, &z, "example.com", k, 1, 1700001100);
	const char *msg = apply_msg(t.l, ++idx, &m, LEDGER_CONFLICT);
	ck_assert_msg(strstr(msg, "pool-3") && strstr(msg, "example.com"), "%s", msg);
	/* Claimed twice in one entry: INVALID, and the first claim is undone. */
	sample_enforce_key(&k[0], "pool-4", LEDGER_EK_SET, LEDGER_SCOPE_ZONE, LEDGER_ROLE_ZSK);
	sample_enforce_key(&k[1], "pool-4", LEDGER_EK_SET, LEDGER_SCOPE_POLICY, LEDGER_ROLE_KSK);
	enforce_one(&m, seq, &z, "example.com", k, 2, 1700001100);
	msg = apply_msg(t.l, ++idx, &m, LEDGER_INVALID);
	ck_assert_msg(strstr(msg, "twice"), "%s", msg);
	/* A pool key without a claim. */
	sample_enforce_key(&k[0], "pool-4", LEDGER_EK_SET, 0, 0);
	enforce_one(&m, seq, &z, "example.com", k, 1, 1700001100);
	msg = apply_msg(t.l, ++idx, &m, LEDGER_INVALID);
	ck_assert_msg(strstr(msg, "claim"), "%s", msg);
	/* A key of another zone, and a shared key of another policy. */
	sample_enforce_key(&k[0], "cafebabe0102", LEDGER_EK_SET, 0, 0);
	enforce_one(&m, seq, &z, "example.net", k, 1, 1700001100);
	msg = apply_msg(t.l, ++idx, &m, LEDGER_INVALID);
	ck_assert_msg(strstr(msg, "belongs to zone example.com"), "%s", msg);
	/* An unknown key, an unknown zone, time 0. */
	sample_enforce_key(&k[0], "nokey", LEDGER_EK_SET, 0, 0);
	enforce_one(&m, seq, &z, "example.com", k, 1, 1700001100);
	ST(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	enforce_one(&m, seq, &z, "nozone.example", k, 0, 1700001100);
	ST(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	enforce_one(&m, seq, &z, "example.com", k, 0, 0);
	ST(t.l, ++idx, &m, LEDGER_INVALID);
	assert_same_digest(t.l, d0, "rejected ENFORCEs");
	ck_assert_uint_eq(ledger_enforce_time(t.l), 1700001000);

	/* All or nothing over zones: the second zone is unknown. */
	struct ledger_enforce_zone zz[2];
	sample_enforce_key(&k[0], "pool-4", LEDGER_EK_SET, LEDGER_SCOPE_ZONE, LEDGER_ROLE_KSK);
	enforce_one(&m, seq, &zz[0], "example.com", k, 1, 1700002000);
	zz[0].salt = ledger_str("beef");
	zz[1] = zz[0];
	zz[1].zone = ledger_str("missing.example");
	zz[1].nkeys = 0;
	m.enforce.nzones = 2;
	m.enforce.zones = zz;
	msg = apply_msg(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	ck_assert_msg(strstr(msg, "zones[1]") && strstr(msg, "missing.example"), "%s", msg);
	assert_same_digest(t.l, d0, "ENFORCE with a bad second zone");
	ck_assert_uint_eq(ledger_enforce_time(t.l), 1700001000);
	/* Without it, the claim goes through; a KSK gets flags 257 and a new tag. */
	m.enforce.nzones = 1;
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_uint_eq(ledger_enforce_time(t.l), 1700002000);
	const struct ledger_key *p4 = key_in(t.l, "pool-4", &all, &n);
	ck_assert_uint_eq(p4->public_rdata[1], 1);
	ck_assert_uint_eq(p4->key_tag, hsm_keytag(p4->public_rdata, p4->public_rdata_len));
	ledger_key_list_free(all, n);
	/* enforce_time never goes down, and survives a reopen. */
	enforce_one(&m, ++seq, &z, "example.com", k, 0, 1600000000);
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_uint_eq(ledger_enforce_time(t.l), 1700002000);
	tl_reopen(&t);
	ck_assert_uint_eq(ledger_enforce_time(t.l), 1700002000);
	(void)err;
	tl_close(&t);
}
END_TEST

/* DROP and purge; ZONE_DEL and KEY_DEL clean key_zone. */
START_TEST(test_drop)
{
	struct tl t;
	struct ledger_cmd m;
	struct ledger_enforce_zone z;
	struct ledger_enforce_key k[2];
	struct ledger_zone_state zs;
	struct tdm_err err;
	uint64_t idx = 0, seq = 300, nkeys;
	tl_open(&t);
	apply_scenario(t.l, &idx);
	/* example.net also uses pool-2 ... and so does example.com. */
	sample_enforce_key(&k[0], "pool-2", LEDGER_EK_SET, 0, 0);
	enforce_one(&m, ++seq, &z, "example.com", k, 1, 1700001000);
	ST(t.l, ++idx, &m, LEDGER_OK);
	state_of(t.l, "example.com", &zs);
	ck_assert_uint_eq(zs.nkeys, 3);
	ck_assert_str_eq(zs.keys[0].key.key_id, "cafebabe0102");
	ck_assert_str_eq(zs.keys[1].key.key_id, "pool-1");
	ck_assert_str_eq(zs.keys[2].key.key_id, "pool-2");
	ledger_zone_state_clear(&zs);

	/* DROP of a row that is not there. */
	sample_enforce_key(&k[0], "zsk-2", LEDGER_EK_DROP, 0, 0);
	enforce_one(&m, ++seq, &z, "example.com", k, 1, 1700001100);
	ST(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	/* DROP of a zone key purges it. */
	sample_enforce_key(&k[0], "pool-1", LEDGER_EK_DROP, 0, 0);
	enforce_one(&m, seq, &z, "example.com", k, 1, 1700001100);
	ST(t.l, ++idx, &m, LEDGER_OK);
	struct ledger_key *all;
	size_t n;
	ck_assert_ptr_null(key_in(t.l, "pool-1", &all, &n));
	ledger_key_list_free(all, n);
	/* DROP of a shared key still used elsewhere keeps it; the last DROP purges it. */
	sample_enforce_key(&k[0], "pool-2", LEDGER_EK_DROP, 0, 0);
	enforce_one(&m, ++seq, &z, "example.com", k, 1, 1700001200);
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_ptr_nonnull(key_in(t.l, "pool-2", &all, &n));
	ledger_key_list_free(all, n);
	state_of(t.l, "example.net", &zs);
	ck_assert_uint_eq(zs.nkeys, 1);
	ck_assert_uint_eq(zs.keys[0].goal, LEDGER_GOAL_STANDBY);
	ledger_zone_state_clear(&zs);
	enforce_one(&m, ++seq, &z, "example.net", k, 1, 1700001300);
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_ptr_null(key_in(t.l, "pool-2", &all, &n));
	ledger_key_list_free(all, n);

	/* SET then DROP of the same key in one entry leaves no row. */
	sample_enforce_key(&k[0], "zsk-2", LEDGER_EK_SET, 0, 0);
	sample_enforce_key(&k[1], "cafebabe0102", LEDGER_EK_SET, 0, 0);
	k[1].goal = LEDGER_GOAL_RETIRE;
	k[1].ds_at_parent = 5;
	k[1].rec[LEDGER_REC_DS].state = LEDGER_UNRETENTIVE;
	enforce_one(&m, ++seq, &z, "example.com", k, 2, 1700001400);
	z.roll[LEDGER_ROLE_KSK] = 1700001399;
	z.salt = ledger_str("00ff");
	z.salt_time = 1700001398;
	ST(t.l, ++idx, &m, LEDGER_OK);
	state_of(t.l, "example.com", &zs);
	ck_assert_uint_eq(zs.nkeys, 2);
	ck_assert_str_eq(zs.keys[0].key.key_id, "cafebabe0102");
	ck_assert_uint_eq(zs.keys[0].goal, LEDGER_GOAL_RETIRE);
	ck_assert_uint_eq(zs.keys[0].ds_at_parent, 5);
	ck_assert_uint_eq(zs.keys[0].ds_at_parent_since, 1700000401);
	ck_assert_uint_eq(zs.keys[0].active_since, 1700000402);
	ck_assert_uint_eq(zs.keys[0].rec[LEDGER_REC_DS].state, LEDGER_UNRETENTIVE);
	ck_assert_uint_eq(zs.keys[0].rec[LEDGER_REC_RRSIG].since, 1700000413);
	ck_assert_uint_eq(zs.keys[0].key.role, LEDGER_ROLE_KSK);
	ck_assert_uint_eq(zs.keys[0].key.backup, LEDGER_BACKUP_PREPARED);
	ck_assert_uint_eq(zs.keys[0].key.wrapped_private_len, 40);
	ck_assert_str_eq(zs.keys[1].key.key_id, "zsk-2");
	ck_assert_uint_eq(zs.next_due, 1700005000);
	ck_assert_uint_eq(zs.roll[LEDGER_ROLE_KSK], 1700001399);
	ck_assert_uint_eq(zs.roll[LEDGER_ROLE_ZSK], 0);
	ck_assert_str_eq(zs.salt, "00ff");
	ck_assert_uint_eq(zs.salt_time, 1700001398);
	ck_assert_str_eq(zs.policy, "default");
	ledger_zone_state_clear(&zs);

	/* KEY_DEL removes the key's rows. */
	sample_cmd(&m, LEDGER_CMD_KEY_DEL, ++seq);
	m.key_del.key_id = ledger_str("zsk-2");
	ST(t.l, ++idx, &m, LEDGER_OK);
	state_of(t.l, "example.com", &zs);
	ck_assert_uint_eq(zs.nkeys, 1);
	ledger_zone_state_clear(&zs);
	/* ZONE_DEL removes the zone's rows and keys. */
	sample_cmd(&m, LEDGER_CMD_ZONE_DEL, ++seq);
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_int_eq(ledger_zone_state_get(t.l, "example.com", &zs, &err), TDM_ENOENT);
	ledger_zone_state_clear(&zs);
	ck_assert_int_eq(ledger_counts(t.l, NULL, &nkeys, NULL, &err), 0);
	ck_assert_uint_eq(nkeys, 0);
	tl_close(&t);
}
END_TEST

START_TEST(test_backup)
{
	struct tl t;
	struct ledger_cmd m;
	struct tdm_err err;
	uint64_t idx = 0, seq = 400;
	tl_open(&t);
	apply_scenario(t.l, &idx); /* ends with PREPARE of SoftHSM: every key PREPARED */
	sample_pool_key(&m, "other-1", ++seq);
	m.key_create.repository = ledger_str("Other");
	ST(t.l, ++idx, &m, LEDGER_OK);
	sample_pool_key(&m, "pool-9", ++seq);
	ST(t.l, ++idx, &m, LEDGER_OK);

	struct ledger_key *all;
	size_t n;
	ck_assert_uint_eq(key_in(t.l, "pool-9", &all, &n)->backup, LEDGER_BACKUP_NONE);
	ledger_key_list_free(all, n);
	ck_assert_uint_eq(key_in(t.l, "zsk-2", &all, &n)->backup, LEDGER_BACKUP_PREPARED);
	ledger_key_list_free(all, n);

	sample_cmd(&m, LEDGER_CMD_BACKUP, ++seq);
	m.backup.action = LEDGER_BACKUP_COMMIT;
	ST(t.l, ++idx, &m, LEDGER_OK);
	m.id.seq = ++seq;
	const char *msg = apply_msg(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	ck_assert_msg(strstr(msg, "no backup prepared") && strstr(msg, "SoftHSM"), "%s", msg);
	m.backup.action = LEDGER_BACKUP_ROLLBACK;
	ST(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	/* PREPARE takes only keys that are not backed up: pool-9. */
	m.backup.action = LEDGER_BACKUP_PREPARE;
	ST(t.l, ++idx, &m, LEDGER_OK);
	const struct ledger_key *k = key_in(t.l, "pool-9", &all, &n);
	ck_assert_uint_eq(k->backup, LEDGER_BACKUP_PREPARED);
	ck_assert_uint_eq(all[0].backup, LEDGER_BACKUP_DONE); /* cafebabe0102 */
	ledger_key_list_free(all, n);
	m.id.seq = ++seq;
	m.backup.action = LEDGER_BACKUP_ROLLBACK;
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_uint_eq(key_in(t.l, "pool-9", &all, &n)->backup, LEDGER_BACKUP_NONE);
	ledger_key_list_free(all, n);
	/* "" is every repository. */
	m.id.seq = ++seq;
	m.backup.repository = ledger_str("");
	m.backup.action = LEDGER_BACKUP_PREPARE;
	ST(t.l, ++idx, &m, LEDGER_OK);
	m.id.seq = ++seq;
	m.backup.action = LEDGER_BACKUP_COMMIT;
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_uint_eq(key_in(t.l, "other-1", &all, &n)->backup, LEDGER_BACKUP_DONE);
	ledger_key_list_free(all, n);
	m.id.seq = ++seq;
	msg = apply_msg(t.l, ++idx, &m, LEDGER_NOT_FOUND);
	ck_assert_msg(strstr(msg, "any repository"), "%s", msg);

	/* Pool queries see the flags. */
	struct ledger_pool_count *pc;
	ck_assert_int_eq(ledger_pool_counts(t.l, &pc, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(pc[0].repository, "Other");
	ck_assert_uint_eq(pc[0].count, 1);
	ck_assert_uint_eq(pc[0].backed_up, 1);
	ck_assert_str_eq(pc[1].repository, "SoftHSM");
	ck_assert_uint_eq(pc[1].algorithm, 13);
	ck_assert_uint_eq(pc[1].bits, 256);
	ck_assert_uint_eq(pc[1].count, 1);
	ledger_pool_counts_free(pc, n);
	tl_close(&t);
}
END_TEST

START_TEST(test_queries)
{
	struct tl t;
	struct ledger_cmd m;
	struct ledger_enforce_zone zz[3];
	struct tdm_err err;
	uint64_t idx = 0, seq = 500, due;
	char **names;
	size_t n;
	tl_open(&t);
	ck_assert_int_eq(ledger_next_due(t.l, &due, &err), 0);
	ck_assert_uint_eq(due, UINT64_MAX);
	ck_assert_uint_eq(ledger_enforce_time(t.l), 0);
	apply_scenario(t.l, &idx);
	/* example.com due at 1700003600, example.net never (UINT64_MAX). */
	ck_assert_int_eq(ledger_next_due(t.l, &due, &err), 0);
	ck_assert_uint_eq(due, 1700003600);
	ck_assert_int_eq(ledger_zones_due(t.l, 1700003599, 0, &names, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	ledger_names_free(names, n);
	ck_assert_int_eq(ledger_zones_due(t.l, UINT64_MAX - 1, 0, &names, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ledger_names_free(names, n);
	ck_assert_int_eq(ledger_zones_due(t.l, UINT64_MAX, 0, &names, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ledger_names_free(names, n);
	struct ledger_zone_state zs;
	state_of(t.l, "example.net", &zs);
	ck_assert_uint_eq(zs.next_due, UINT64_MAX);
	ledger_zone_state_clear(&zs);
	state_of(t.l, "example.com", &zs);
	ck_assert_uint_eq(zs.roll[LEDGER_ROLE_ZSK], 1700000450);
	ck_assert_str_eq(zs.salt, "0a1B2c3D");
	ledger_zone_state_clear(&zs);

	/* Three more zones, due at 30, 10, 20: earliest first, ties by name, limit. */
	sample_cmd(&m, LEDGER_CMD_ZONE_BATCH, ++seq);
	struct ledger_zone_op ops[3];
	static const char *const zn[3] = { "c.example", "a.example", "b.example" };
	for (int i = 0; i < 3; i++) {
		ops[i] = m.zone_batch.zones[0];
		ops[i].name = ledger_str(zn[i]);
	}
	m.zone_batch.zones = ops;
	m.zone_batch.nzones = 3;
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_int_eq(ledger_zones_due(t.l, 5, 0, &names, &n, &err), 0);
	ck_assert_uint_eq(n, 3); /* new zones are due at once */
	ck_assert_str_eq(names[0], "a.example");
	ledger_names_free(names, n);
	memset(&m, 0, sizeof m);
	m.type = LEDGER_CMD_ENFORCE;
	m.id.origin = 7;
	m.id.seq = ++seq;
	m.enforce.time = 5;
	m.enforce.nzones = 3;
	m.enforce.zones = zz;
	memset(zz, 0, sizeof zz);
	for (int i = 0; i < 3; i++) {
		zz[i].zone = ledger_str(zn[i]);
		zz[i].next_due = i == 0 ? 30 : i == 1 ? 10 : 20;
	}
	zz[2].next_due = 10;
	ST(t.l, ++idx, &m, LEDGER_OK);
	ck_assert_int_eq(ledger_zones_due(t.l, 25, 0, &names, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "a.example");
	ck_assert_str_eq(names[1], "b.example");
	ledger_names_free(names, n);
	ck_assert_int_eq(ledger_zones_due(t.l, 1000, 2, &names, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ledger_names_free(names, n);
	ck_assert_int_eq(ledger_next_due(t.l, &due, &err), 0);
	ck_assert_uint_eq(due, 10);
	ck_assert_uint_eq(ledger_enforce_time(t.l), 1700000500); /* max, not the last */
	/* A ZONE_SET that changes the policy makes the zone due at once; one that keeps it does not. */
	sample_cmd(&m, LEDGER_CMD_POLICY_PUT, ++seq);
	m.policy.name = ledger_str("other");
	ST(t.l, ++idx, &m, LEDGER_OK);
	sample_cmd(&m, LEDGER_CMD_ZONE_SET, ++seq);
	m.zone.name = ledger_str("c.example");
	ST(t.l, ++idx, &m, LEDGER_OK);
	state_of(t.l, "c.example", &zs);
	ck_assert_uint_eq(zs.next_due, 30);
	ledger_zone_state_clear(&zs);
	m.zone.policy = ledger_str("other");
	m.id.seq = ++seq;
	ST(t.l, ++idx, &m, LEDGER_OK);
	state_of(t.l, "c.example", &zs);
	ck_assert_uint_eq(zs.next_due, 0);
	ledger_zone_state_clear(&zs);

	ck_assert_int_eq(ledger_zone_names(t.l, "other", &names, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(names[0], "c.example");
	ledger_names_free(names, n);
	uint64_t nz, nk, np;
	ck_assert_int_eq(ledger_counts(t.l, &nz, &nk, &np, &err), 0);
	ck_assert_uint_eq(nz, 5);
	ck_assert_uint_eq(nk, 4);
	ck_assert_uint_eq(np, 0);
	struct ledger_policy *pl;
	ck_assert_int_eq(ledger_policy_list(t.l, &pl, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(pl[0].name, "default");
	ck_assert_uint_eq(pl[0].zones, 4);
	ck_assert_uint_eq(pl[0].len, 24);
	ck_assert_str_eq(pl[1].name, "other");
	ck_assert_uint_eq(pl[1].zones, 1);
	ledger_policy_list_free(pl, n);

	/* Pool keys: oldest first, limit, backed-up filter. */
	for (int i = 0; i < 4; i++) {
		char id[16];
		snprintf(id, sizeof id, "p%d", i);
		sample_pool_key(&m, id, ++seq);
		m.key_create.created = 2000 - (uint64_t)i; /* p3 is the oldest */
		ST(t.l, ++idx, &m, LEDGER_OK);
	}
	sample_pool_key(&m, "p-rsa", ++seq);
	m.key_create.bits = 2048;
	ST(t.l, ++idx, &m, LEDGER_OK);
	struct ledger_key *pk;
	ck_assert_int_eq(ledger_pool_keys(t.l, "SoftHSM", 13, 256, false, 0, &pk, &n, &err), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(pk[0].key_id, "p3");
	ck_assert_str_eq(pk[3].key_id, "p0");
	ck_assert_uint_eq(pk[0].scope, LEDGER_SCOPE_POOL);
	ledger_key_list_free(pk, n);
	ck_assert_int_eq(ledger_pool_keys(t.l, "SoftHSM", 13, 256, false, 3, &pk, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	ledger_key_list_free(pk, n);
	ck_assert_int_eq(ledger_pool_keys(t.l, "SoftHSM", 13, 256, true, 0, &pk, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	ledger_key_list_free(pk, n);
	ck_assert_int_eq(ledger_pool_keys(t.l, "Other", 13, 256, false, 0, &pk, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	ledger_key_list_free(pk, n);
	ck_assert_int_eq(ledger_counts(t.l, NULL, NULL, &np, &err), 0);
	ck_assert_uint_eq(np, 5);

	ck_assert_int_eq(ledger_zone_state_get(t.l, "nope", &zs, &err), TDM_ENOENT);
	ck_assert_ptr_nonnull(strstr(err.msg, "nope"));
	tl_close(&t);
}
END_TEST

/* Restore of a snapshot brings the new tables and the enforce_time cache. */
START_TEST(test_snapshot_format2)
{
	struct tl a, b;
	struct tdm_err err;
	uint64_t idx = 0;
	void *buf;
	size_t len;
	tl_open(&a);
	tl_open(&b);
	apply_scenario(a.l, &idx);
	ck_assert_int_eq(ledger_snapshot(a.l, NULL, &buf, &len, &err), 0);
	ck_assert_msg(ledger_restore(b.l, buf, len, &err) == 0, "%s", err.msg);
	free(buf);
	ck_assert_uint_eq(ledger_enforce_time(b.l), 1700000500);
	struct ledger_zone_state za, zb;
	state_of(a.l, "example.com", &za);
	state_of(b.l, "example.com", &zb);
	ck_assert_uint_eq(za.nkeys, 2);
	ck_assert_uint_eq(zb.nkeys, za.nkeys);
	for (size_t i = 0; i < za.nkeys; i++) {
		ck_assert_str_eq(za.keys[i].key.key_id, zb.keys[i].key.key_id);
		ck_assert_uint_eq(za.keys[i].key.key_tag, zb.keys[i].key.key_tag);
		ck_assert(memcmp(za.keys[i].rec, zb.keys[i].rec, sizeof za.keys[i].rec) == 0);
	}
	ck_assert_str_eq(zb.salt, za.salt);
	ck_assert_uint_eq(zb.next_due, za.next_due);
	ledger_zone_state_clear(&za);
	ledger_zone_state_clear(&zb);
	uint8_t da[32], db[32];
	digest_of(a.l, da);
	digest_of(b.l, db);
	ck_assert(memcmp(da, db, 32) == 0);
	tl_close(&a);
	tl_close(&b);
}
END_TEST

/* A version-1 state.db is refused with a message that says why. */
START_TEST(test_schema_v1_refused)
{
	struct tl t;
	struct ledger *l2;
	struct tdm_err err;
	sqlite3 *db;
	tl_open(&t);
	ledger_close(t.l);
	t.l = NULL;
	ck_assert_int_eq(sqlite3_open(t.path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE meta SET value = 1 WHERE key = 'schema_version'",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	tdm_err_clear(&err);
	ck_assert_int_eq(ledger_open(&l2, t.path, &err), TDM_EVERSION);
	ck_assert_msg(strstr(err.msg, "schema version 1") && strstr(err.msg, "no migration"), "%s", err.msg);
	tl_close(&t);
}
END_TEST

/*- scale -*/

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Apply @p n encoded entries in batches of 500; returns the seconds taken. */
static double apply_all(struct ledger *l, uint64_t *idx, uint8_t **bufs, size_t *lens, size_t n)
{
	struct ledger_entry *e = calloc(500, sizeof *e);
	struct ledger_result *r = calloc(500, sizeof *r);
	struct tdm_err err;
	double t0 = now_s();
	for (size_t i = 0; i < n; i += 500) {
		size_t k = n - i < 500 ? n - i : 500;
		for (size_t j = 0; j < k; j++) {
			e[j].buf = bufs[i + j];
			e[j].len = lens[i + j];
		}
		tdm_err_clear(&err);
		ck_assert_msg(ledger_apply_batch(l, *idx + 1, k, e, r, &err) == 0, "%s", err.msg);
		for (size_t j = 0; j < k; j++)
			ck_assert_msg(r[j].status == LEDGER_OK, "entry %zu: %s: %s", i + j,
				      ledger_status_name(r[j].status), r[j].msg);
		*idx += k;
	}
	double dt = now_s() - t0;
	for (size_t i = 0; i < n; i++)
		free(bufs[i]);
	free(e);
	free(r);
	return dt;
}

/*
 * 50,000 zones in ZONE_BATCH entries, 100,000 pool keys, one enforcer run
 * claiming two keys per zone in ENFORCE entries; then the queries.
 * Timings go to stdout; only correctness is asserted.
 */
START_TEST(test_scale)
{
	const char *env = getenv("TDM_LEDGER_SCALE_ZONES");
	size_t nz = env ? (size_t)strtoul(env, NULL, 10) : 50000;
	const size_t per_batch = 2000, per_enforce = 2000;
	struct tl t;
	struct ledger_cmd m;
	struct tdm_err err;
	uint64_t idx = 0, seq = 0;
	char (*names)[40] = calloc(nz, sizeof *names);
	char (*kids)[40] = calloc(2 * nz, sizeof *kids);
	tl_open(&t);
	sample_cmd(&m, LEDGER_CMD_POLICY_PUT, ++seq);
	ST(t.l, ++idx, &m, LEDGER_OK);

	/* Zones. */
	size_t nb = (nz + per_batch - 1) / per_batch, ne = 0;
	uint8_t **bufs = calloc(2 * nz + nb + 1, sizeof *bufs);
	size_t *lens = calloc(2 * nz + nb + 1, sizeof *lens);
	struct ledger_zone_op *ops = calloc(per_batch, sizeof *ops);
	struct ledger_cmd z0;
	sample_cmd(&z0, LEDGER_CMD_ZONE_ADD, 0);
	for (size_t i = 0; i < nz; i++)
		snprintf(names[i], sizeof names[i], "zone%06zu.example", i);
	for (size_t b = 0; b < nb; b++) {
		size_t k = 0;
		for (size_t i = b * per_batch; i < nz && k < per_batch; i++, k++) {
			ops[k].op = LEDGER_ZONE_OP_ADD;
			ops[k].name = ledger_str(names[i]);
			ops[k].policy = z0.zone.policy;
			ops[k].in_type = z0.zone.in_type;
			ops[k].in_uri = z0.zone.in_uri;
			ops[k].out_type = z0.zone.out_type;
			ops[k].out_uri = z0.zone.out_uri;
			ops[k].signconf = z0.zone.signconf;
		}
		memset(&m, 0, sizeof m);
		m.type = LEDGER_CMD_ZONE_BATCH;
		m.id.origin = 7;
		m.id.seq = ++seq;
		m.zone_batch.nzones = (uint32_t)k;
		m.zone_batch.zones = ops;
		bufs[ne] = enc(&m, &lens[ne]);
		ne++;
	}
	double t_zones = apply_all(t.l, &idx, bufs, lens, ne);

	/* Pool keys. */
	ne = 0;
	for (size_t i = 0; i < 2 * nz; i++) {
		snprintf(kids[i], sizeof kids[i], "key%07zu", i);
		sample_pool_key(&m, kids[i], ++seq);
		bufs[ne] = enc(&m, &lens[ne]);
		ne++;
	}
	double t_keys = apply_all(t.l, &idx, bufs, lens, ne);

	/* One enforcer run: each zone claims a KSK and a ZSK. */
	size_t nenf = (nz + per_enforce - 1) / per_enforce;
	struct ledger_enforce_zone *ez = calloc(per_enforce, sizeof *ez);
	struct ledger_enforce_key *ek = calloc(2 * per_enforce, sizeof *ek);
	ne = 0;
	for (size_t b = 0; b < nenf; b++) {
		size_t k = 0;
		for (size_t i = b * per_enforce; i < nz && k < per_enforce; i++, k++) {
			sample_enforce_key(&ek[2 * k], kids[2 * i], LEDGER_EK_SET, LEDGER_SCOPE_ZONE,
					   LEDGER_ROLE_KSK);
			sample_enforce_key(&ek[2 * k + 1], kids[2 * i + 1], LEDGER_EK_SET, LEDGER_SCOPE_ZONE,
					   LEDGER_ROLE_ZSK);
			memset(&ez[k], 0, sizeof ez[k]);
			ez[k].zone = ledger_str(names[i]);
			ez[k].next_due = 1700000000 + 60 * (uint64_t)(i % 1440);
			ez[k].salt = ledger_str("a1b2c3d4");
			ez[k].nkeys = 2;
			ez[k].keys = &ek[2 * k];
		}
		memset(&m, 0, sizeof m);
		m.type = LEDGER_CMD_ENFORCE;
		m.id.origin = 7;
		m.id.seq = ++seq;
		m.enforce.time = 1699999999;
		m.enforce.nzones = (uint32_t)k;
		m.enforce.zones = ez;
		bufs[ne] = enc(&m, &lens[ne]);
		ne++;
	}
	size_t enf_bytes = lens[0];
	double t_enforce = apply_all(t.l, &idx, bufs, lens, ne);

	/* Queries. */
	const size_t nq = 2000;
	double t0 = now_s();
	for (size_t i = 0; i < nq; i++) {
		struct ledger_zone_state zs;
		state_of(t.l, names[(i * 7919) % nz], &zs);
		ck_assert_uint_eq(zs.nkeys, 2);
		ledger_zone_state_clear(&zs);
	}
	double t_state = (now_s() - t0) / (double)nq;
	char **due;
	size_t n;
	t0 = now_s();
	ck_assert_int_eq(ledger_zones_due(t.l, 1700000000 + 60 * 9, 0, &due, &n, &err), 0);
	double t_due = now_s() - t0;
	ck_assert_uint_eq(n, (nz / 1440) * 10 + (nz % 1440 < 10 ? nz % 1440 : 10));
	ledger_names_free(due, n);
	t0 = now_s();
	ck_assert_int_eq(ledger_zones_due(t.l, UINT64_MAX, 100, &due, &n, &err), 0);
	double t_due100 = now_s() - t0;
	ledger_names_free(due, n);
	uint64_t next;
	t0 = now_s();
	ck_assert_int_eq(ledger_next_due(t.l, &next, &err), 0);
	double t_next = now_s() - t0;
	ck_assert_uint_eq(next, 1700000000);
	struct ledger_zone *zl;
	t0 = now_s();
	ck_assert_int_eq(ledger_zone_list(t.l, &zl, &n, &err), 0);
	double t_list = now_s() - t0;
	ck_assert_uint_eq(n, nz);
	ledger_zone_list_free(zl, n);
	uint64_t cz, ck, cp;
	t0 = now_s();
	ck_assert_int_eq(ledger_counts(t.l, &cz, &ck, &cp, &err), 0);
	double t_counts = now_s() - t0;
	ck_assert_uint_eq(cz, nz);
	ck_assert_uint_eq(ck, 2 * nz);
	ck_assert_uint_eq(cp, 0);
	uint8_t d[32];
	t0 = now_s();
	digest_of(t.l, d);
	double t_digest = now_s() - t0;

	printf("ledger scale, %zu zones, %zu keys:\n"
	       "  ZONE_BATCH apply   %.2f s (%zu entries of %zu zones; %.1f us/zone)\n"
	       "  KEY_CREATE apply   %.2f s (%zu entries; %.1f us/key)\n"
	       "  ENFORCE apply      %.2f s (%zu entries of %zu zones, %zu bytes each; %.1f us/zone)\n"
	       "  zone_state_get     %.1f us (mean of %zu)\n"
	       "  zones_due          %.2f ms (%zu of %zu due), limit 100: %.3f ms\n"
	       "  next_due           %.3f ms\n"
	       "  zone_list          %.1f ms\n"
	       "  counts             %.2f ms\n"
	       "  digest             %.2f s\n",
	       nz, 2 * nz, t_zones, nb, per_batch, 1e6 * t_zones / (double)nz,
	       t_keys, 2 * nz, 1e6 * t_keys / (double)(2 * nz),
	       t_enforce, nenf, per_enforce, enf_bytes, 1e6 * t_enforce / (double)nz,
	       1e6 * t_state, nq, 1e3 * t_due, (nz / 1440) * 10 + (nz % 1440 < 10 ? nz % 1440 : 10), nz,
	       1e3 * t_due100, 1e3 * t_next, 1e3 * t_list, 1e3 * t_counts, t_digest);
	fflush(stdout);
	free(ez);
	free(ek);
	free(ops);
	free(bufs);
	free(lens);
	free(names);
	free(kids);
	tl_close(&t);
}
END_TEST

TCase *tcase_enforce(void)
{
	TCase *tc = tcase_create("enforce");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_zone_batch);
	tcase_add_test(tc, test_claim);
	tcase_add_test(tc, test_drop);
	tcase_add_test(tc, test_backup);
	tcase_add_test(tc, test_queries);
	tcase_add_test(tc, test_snapshot_format2);
	tcase_add_test(tc, test_schema_v1_refused);
	tcase_add_test(tc, test_scale);
	return tc;
}
