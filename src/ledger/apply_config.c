/*
 * Apply of the configuration commands: POLICY_PUT, POLICY_DEL, ZONE_ADD,
 * ZONE_SET, ZONE_DEL and ZONE_BATCH.
 *
 * Rules: names are not empty; a zone names an existing policy; a policy is
 * deleted only when no zone and no shared key uses it; ZONE_DEL removes the
 * zone and everything that belongs to it (its keys and their states, its
 * key_zone rows, the policy-shared keys no other zone uses any more, input,
 * staged chunks, signatures, batch records and publication history).  A new
 * zone is due for the enforcer at once (next_due 0), and so is a zone whose
 * policy ZONE_SET changes.  ZONE_BATCH applies its operations in order with
 * the same rules; the first rejection rejects the whole entry.
 */
#include "ledger/ledger_int.h"

#include <stdio.h>
#include <string.h>

#define P(b) (int)(b).len, (const char *)(b).data

static const char sql_policy_exists[] = "SELECT 1 FROM policies WHERE name = ?1";
static const char sql_zone_exists[] = "SELECT 1 FROM zones WHERE name = ?1";

static int policy_put(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	sqlite3_stmt *st = ledger__stmt(l, "INSERT INTO policies (name, blob) VALUES (?1, ?2) "
				       "ON CONFLICT (name) DO UPDATE SET blob = excluded.blob", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, m->policy.name);
	ledger__bind_blob(st, 2, m->policy.blob);
	return ledger__step(l, st, "storing the policy", c->err);
}

static int policy_del(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	int e = ledger__exists(l, sql_policy_exists, m->policy.name, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return ledger__reject(c, LEDGER_NOT_FOUND, "policy %.*s: no such policy", P(m->policy.name));
	e = ledger__exists(l, "SELECT 1 FROM zones WHERE policy = ?1", m->policy.name, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e)
		return ledger__reject(c, LEDGER_IN_USE, "policy %.*s: still used by a zone", P(m->policy.name));
	e = ledger__exists(l, "SELECT 1 FROM keys WHERE scope_name = ?1 AND scope = 2",
			   m->policy.name, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e)
		return ledger__reject(c, LEDGER_IN_USE, "policy %.*s: still has shared keys",
				      P(m->policy.name));
	sqlite3_stmt *st = ledger__stmt(l, "DELETE FROM policies WHERE name = ?1", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, m->policy.name);
	return ledger__step(l, st, "deleting the policy", c->err);
}

int ledger__apply_policy(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	if (m->policy.name.len == 0)
		return ledger__reject(c, LEDGER_INVALID, "policy name is empty");
	return m->type == LEDGER_CMD_POLICY_PUT ? policy_put(c, m) : policy_del(c, m);
}

static int zone_write(struct ledger__ctx *c, const struct ledger_cmd *m, bool add)
{
	struct ledger *l = c->l;
	int e = ledger__exists(l, sql_zone_exists, m->zone.name, c->err);
	if (e < 0)
		return TDM_EDB;
	if (add && e)
		return ledger__reject(c, LEDGER_EXISTS, "zone %.*s: already exists", P(m->zone.name));
	if (!add && !e)
		return ledger__reject(c, LEDGER_NOT_FOUND, "zone %.*s: no such zone", P(m->zone.name));
	e = ledger__exists(l, sql_policy_exists, m->zone.policy, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return ledger__reject(c, LEDGER_NOT_FOUND, "zone %.*s: no such policy %.*s",
				      P(m->zone.name), P(m->zone.policy));
	sqlite3_stmt *st = add
		? ledger__stmt(l, "INSERT INTO zones (name, policy, in_type, in_uri, out_type, out_uri, "
			       "signconf, input_serial) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)", c->err)
		: ledger__stmt(l, "UPDATE zones SET next_due = CASE WHEN policy = ?2 THEN next_due "
			       "ELSE 0 END, policy = ?2, in_type = ?3, in_uri = ?4, "
			       "out_type = ?5, out_uri = ?6, signconf = ?7 WHERE name = ?1", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, m->zone.name);
	ledger__bind_text(st, 2, m->zone.policy);
	ledger__bind_text(st, 3, m->zone.in_type);
	ledger__bind_text(st, 4, m->zone.in_uri);
	ledger__bind_text(st, 5, m->zone.out_type);
	ledger__bind_text(st, 6, m->zone.out_uri);
	ledger__bind_text(st, 7, m->zone.signconf);
	return ledger__step(l, st, "storing the zone", c->err);
}

static int zone_del(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	/* Statements as distinct literals: the cache is keyed by pointer. */
	static const char *const dels[] = {
		("DELETE FROM key_states WHERE key_id IN "
		 "(SELECT id FROM keys WHERE scope_name = ?1 AND scope = 1)"),
		("DELETE FROM key_zone WHERE key_id IN "
		 "(SELECT id FROM keys WHERE scope_name = ?1 AND scope = 1)"),
		"DELETE FROM keys WHERE scope_name = ?1 AND scope = 1",
		/* Shared keys that only this zone uses go with it. */
		("DELETE FROM key_states WHERE key_id IN "
		 "(SELECT k.id FROM key_zone kz JOIN keys k ON k.id = kz.key_id "
		 "WHERE kz.zone = ?1 AND k.scope = 2 AND NOT EXISTS "
		 "(SELECT 1 FROM key_zone o WHERE o.key_id = k.id AND o.zone <> ?1))"),
		("DELETE FROM keys WHERE id IN "
		 "(SELECT k.id FROM key_zone kz JOIN keys k ON k.id = kz.key_id "
		 "WHERE kz.zone = ?1 AND k.scope = 2 AND NOT EXISTS "
		 "(SELECT 1 FROM key_zone o WHERE o.key_id = k.id AND o.zone <> ?1))"),
		"DELETE FROM key_zone WHERE zone = ?1",
		"DELETE FROM zone_inputs WHERE zone = ?1",
		"DELETE FROM zone_input_chunks WHERE zone = ?1",
		"DELETE FROM signatures WHERE zone = ?1",
		"DELETE FROM sig_batches WHERE zone = ?1",
		"DELETE FROM publications WHERE zone = ?1",
		"DELETE FROM zones WHERE name = ?1",
	};
	struct ledger *l = c->l;
	int e = ledger__exists(l, sql_zone_exists, m->zone.name, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return ledger__reject(c, LEDGER_NOT_FOUND, "zone %.*s: no such zone", P(m->zone.name));
	for (size_t i = 0; i < sizeof dels / sizeof dels[0]; i++) {
		sqlite3_stmt *st = ledger__stmt(l, dels[i], c->err);
		if (st == NULL)
			return TDM_EDB;
		ledger__bind_text(st, 1, m->zone.name);
		int rc = ledger__step(l, st, "deleting the zone", c->err);
		if (rc)
			return rc;
	}
	return 0;
}

int ledger__apply_zone(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	if (m->zone.name.len == 0)
		return ledger__reject(c, LEDGER_INVALID, "zone name is empty");
	switch (m->type) {
	case LEDGER_CMD_ZONE_ADD:
		return zone_write(c, m, true);
	case LEDGER_CMD_ZONE_SET:
		return zone_write(c, m, false);
	default:
		return zone_del(c, m);
	}
}

int ledger__apply_zone_batch(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	static const uint16_t types[] = {
		[LEDGER_ZONE_OP_ADD] = LEDGER_CMD_ZONE_ADD,
		[LEDGER_ZONE_OP_SET] = LEDGER_CMD_ZONE_SET,
		[LEDGER_ZONE_OP_DEL] = LEDGER_CMD_ZONE_DEL,
	};
	uint32_t n = m->zone_batch.nzones;
	for (uint32_t i = 0; i < n; i++) {
		const struct ledger_zone_op *op = &m->zone_batch.zones[i];
		struct ledger_cmd one;
		memset(&one, 0, sizeof one);
		one.type = types[op->op]; /* op is 1..3: the codec checked it */
		one.zone.name = op->name;
		one.zone.policy = op->policy;
		one.zone.in_type = op->in_type;
		one.zone.in_uri = op->in_uri;
		one.zone.out_type = op->out_type;
		one.zone.out_uri = op->out_uri;
		one.zone.signconf = op->signconf;
		int rc = ledger__apply_zone(c, &one);
		if (rc)
			return rc;
		if (c->res->status != LEDGER_OK) {
			/* Name the position; the inner message names the zone. */
			char inner[LEDGER_RESULT_MSG];
			memcpy(inner, c->res->msg, sizeof inner);
			snprintf(c->res->msg, sizeof c->res->msg, "zones[%u] of %u (%s): %s", i, n,
				 ledger_cmd_type_name(one.type), inner);
			return 0;
		}
	}
	return 0;
}
