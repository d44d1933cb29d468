/*
 * Apply of the key commands: KEY_CREATE, KEY_STATE, KEY_DEL; and the DNSSEC
 * key tag (RFC 4034 Appendix B), computed from the DNSKEY RDATA at apply so
 * that every node stores the same tag.
 *
 * Rules: a key id is unique; its scope is an existing zone (scope 1), an
 * existing policy for keys shared by the policy's zones (scope 2), both with
 * role KSK, ZSK or CSK, or the pool of pre-generated keys (scope 3, role 0,
 * empty scope name; ENFORCE claims them); the DNSKEY RDATA holds at least flags, protocol and
 * algorithm, and its algorithm equals the command's.  A new key starts with
 * all four records HIDDEN since its creation time.  KEY_STATE replaces the
 * four record states (each HIDDEN..UNRETENTIVE) of an existing key.
 * KEY_DEL removes the key, its state and its key_zone rows.
 */
#include "ledger/ledger_int.h"
#include "hsm/hsm.h"

#define P(b) (int)(b).len, (const char *)(b).data

static const char sql_key_exists[] = "SELECT 1 FROM keys WHERE id = ?1";

static int key_create(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	const typeof(m->key_create) *k = &m->key_create;
	int e = ledger__exists(l, sql_key_exists, k->key_id, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e)
		return ledger__reject(c, LEDGER_EXISTS, "key %.*s: already exists", P(k->key_id));
	if (k->scope == LEDGER_SCOPE_POOL) {
		if (k->role != 0)
			return ledger__reject(c, LEDGER_INVALID, "key %.*s: a pool key has role 0, not %u",
					      P(k->key_id), k->role);
		if (k->scope_name.len != 0)
			return ledger__reject(c, LEDGER_INVALID, "key %.*s: a pool key has no scope name (%.*s)",
					      P(k->key_id), P(k->scope_name));
	} else if (k->scope != LEDGER_SCOPE_ZONE && k->scope != LEDGER_SCOPE_POLICY) {
		return ledger__reject(c, LEDGER_INVALID,
				      "key %.*s: scope %u is neither zone (1), policy (2) nor pool (3)",
				      P(k->key_id), k->scope);
	} else {
		e = ledger__exists(l, k->scope == LEDGER_SCOPE_ZONE ? "SELECT 1 FROM zones WHERE name = ?1"
				   : "SELECT 1 FROM policies WHERE name = ?1", k->scope_name, c->err);
		if (e < 0)
			return TDM_EDB;
		if (e == 0)
			return ledger__reject(c, LEDGER_NOT_FOUND, "key %.*s: no such %s %.*s", P(k->key_id),
					      k->scope == LEDGER_SCOPE_ZONE ? "zone" : "policy", P(k->scope_name));
		if (k->role < LEDGER_ROLE_KSK || k->role > LEDGER_ROLE_CSK)
			return ledger__reject(c, LEDGER_INVALID, "key %.*s: role %u is not KSK, ZSK or CSK",
					      P(k->key_id), k->role);
	}
	if (k->public_rdata.len < 4)
		return ledger__reject(c, LEDGER_INVALID, "key %.*s: DNSKEY RDATA of %zu bytes",
				      P(k->key_id), k->public_rdata.len);
	if (k->public_rdata.data[3] != k->algorithm)
		return ledger__reject(c, LEDGER_INVALID, "key %.*s: DNSKEY algorithm %u, command says %u",
				      P(k->key_id), k->public_rdata.data[3], k->algorithm);

	sqlite3_stmt *st = ledger__stmt(l, "INSERT INTO keys (id, scope, scope_name, role, algorithm, "
				       "bits, key_tag, public_rdata, cka_id, repository, wrapped_private, "
				       "created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
				       c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, k->key_id);
	sqlite3_bind_int(st, 2, k->scope);
	ledger__bind_text(st, 3, k->scope_name);
	sqlite3_bind_int(st, 4, k->role);
	sqlite3_bind_int(st, 5, k->algorithm);
	sqlite3_bind_int(st, 6, k->bits);
	sqlite3_bind_int(st, 7, hsm_keytag(k->public_rdata.data, k->public_rdata.len));
	ledger__bind_blob(st, 8, k->public_rdata);
	ledger__bind_blob(st, 9, k->cka_id);
	ledger__bind_text(st, 10, k->repository);
	ledger__bind_blob(st, 11, k->wrapped_private);
	sqlite3_bind_int64(st, 12, (int64_t)k->created);
	int rc = ledger__step(l, st, "storing the key", c->err);
	if (rc)
		return rc;
	st = ledger__stmt(l, "INSERT INTO key_states VALUES (?1, 0, ?2, 0, ?2, 0, ?2, 0, ?2)", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, k->key_id);
	sqlite3_bind_int64(st, 2, (int64_t)k->created);
	return ledger__step(l, st, "storing the key state", c->err);
}

static int key_state(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	static const char *const names[4] = { "DS", "DNSKEY", "RRSIG-DNSKEY", "RRSIG" };
	struct ledger *l = c->l;
	int e = ledger__exists(l, sql_key_exists, m->key_state.key_id, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return ledger__reject(c, LEDGER_NOT_FOUND, "key %.*s: no such key", P(m->key_state.key_id));
	for (int i = 0; i < 4; i++)
		if (m->key_state.rec[i].state > LEDGER_UNRETENTIVE)
			return ledger__reject(c, LEDGER_INVALID, "key %.*s: %s state %u is not a record state",
					      P(m->key_state.key_id), names[i], m->key_state.rec[i].state);
	sqlite3_stmt *st = ledger__stmt(l, "UPDATE key_states SET ds = ?2, ds_since = ?3, "
				       "dnskey = ?4, dnskey_since = ?5, rrsig_dnskey = ?6, "
				       "rrsig_dnskey_since = ?7, rrsig = ?8, rrsig_since = ?9 "
				       "WHERE key_id = ?1", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, m->key_state.key_id);
	for (int i = 0; i < 4; i++) {
		sqlite3_bind_int(st, 2 + 2 * i, m->key_state.rec[i].state);
		sqlite3_bind_int64(st, 3 + 2 * i, (int64_t)m->key_state.rec[i].since);
	}
	return ledger__step(l, st, "storing the key state", c->err);
}

static int key_del(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	int e = ledger__exists(l, sql_key_exists, m->key_del.key_id, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return ledger__reject(c, LEDGER_NOT_FOUND, "key %.*s: no such key", P(m->key_del.key_id));
	sqlite3_stmt *st = ledger__stmt(l, "DELETE FROM key_states WHERE key_id = ?1", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, m->key_del.key_id);
	int rc = ledger__step(l, st, "deleting the key state", c->err);
	if (rc)
		return rc;
	st = ledger__stmt(l, "DELETE FROM key_zone WHERE key_id = ?1", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, m->key_del.key_id);
	if ((rc = ledger__step(l, st, "deleting the key's zone states", c->err)) != 0)
		return rc;
	st = ledger__stmt(l, "DELETE FROM keys WHERE id = ?1", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, m->key_del.key_id);
	return ledger__step(l, st, "deleting the key", c->err);
}

int ledger__apply_key(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	switch (m->type) {
	case LEDGER_CMD_KEY_CREATE:
		if (m->key_create.key_id.len == 0)
			return ledger__reject(c, LEDGER_INVALID, "key id is empty");
		return key_create(c, m);
	case LEDGER_CMD_KEY_STATE:
		return key_state(c, m);
	default:
		return key_del(c, m);
	}
}
