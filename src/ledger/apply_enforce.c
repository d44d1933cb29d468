/*
 * Apply of the enforcer's commands: ENFORCE (the outcome of one enforcer
 * run over some zones) and BACKUP (ods-enforcer backup prepare / commit /
 * rollback).
 *
 * ENFORCE rules (all or nothing: the first rejection rolls the entry back):
 *  - time >= 1 (INVALID); every zone exists (NOT_FOUND);
 *  - key SET: the key exists (NOT_FOUND).  With a claim the key must be a
 *    pool key (CONFLICT; INVALID when this entry already claimed it); it
 *    moves to this zone (claim ZONE) or the zone's policy (claim POLICY),
 *    takes the claimed role, its DNSKEY flags become 257 (KSK, CSK) or 256
 *    (ZSK) and its key tag is computed again.  Without a claim the key must
 *    be a zone key of this zone or a shared key of the zone's policy
 *    (INVALID).  The key_zone row (zone, key) is inserted or replaced;
 *  - key DROP: the key_zone row exists (NOT_FOUND) and is deleted; a zone
 *    key, or a shared key that no zone uses any more, is deleted with its
 *    state (purge);
 *  - then the zone's next_due, rollover requests, salt and salt time are
 *    replaced, and meta.enforce_time becomes max(enforce_time, time).
 *
 * BACKUP: PREPARE marks the keys of the repository ("" = every repository)
 * whose flag is NONE as PREPARED; COMMIT turns PREPARED into DONE and
 * ROLLBACK turns it back into NONE, both NOT_FOUND when no key of the
 * repository is PREPARED.
 */
#include "ledger/ledger_int.h"
#include "hsm/hsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P(b) (int)(b).len, (const char *)(b).data

struct run {
	struct ledger__ctx *c;
	const struct ledger_enforce_zone *z;
	uint32_t zi;
	struct ledger_bytes policy;     /* the zone's policy (points into policy_buf) */
	char policy_buf[LEDGER_NAME_MAX + 1];
	struct ledger_bytes *claimed;   /* keys claimed by this entry so far */
	size_t nclaimed, capclaimed;
};

/* The key's scope, scope name and DNSKEY RDATA (copied); 0 = no such key, -1 = error. */
struct key_row {
	int scope;
	char scope_name[LEDGER_NAME_MAX + 1];
	size_t scope_name_len;
	uint8_t *rdata;
	size_t rdata_len;
};

static int key_lookup(struct ledger *l, struct ledger_bytes id, struct key_row *k, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT scope, scope_name, public_rdata FROM keys WHERE id = ?1",
					err);
	if (st == NULL)
		return -1;
	ledger__bind_text(st, 1, id);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		k->scope = sqlite3_column_int(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		if (n > LEDGER_NAME_MAX)
			n = LEDGER_NAME_MAX;
		memcpy(k->scope_name, n ? sqlite3_column_text(st, 1) : (const unsigned char *)"", n);
		k->scope_name[n] = '\0';
		k->scope_name_len = n;
		k->rdata_len = (size_t)sqlite3_column_bytes(st, 2);
		k->rdata = tdm_malloc(k->rdata_len ? k->rdata_len : 1);
		if (k->rdata_len)
			memcpy(k->rdata, sqlite3_column_blob(st, 2), k->rdata_len);
	}
	sqlite3_reset(st);
	if (s == SQLITE_ROW)
		return 1;
	if (s == SQLITE_DONE)
		return 0;
	ledger__db_fail(l->db, err, "reading the key");
	return -1;
}

static bool bytes_eq(struct ledger_bytes a, const char *b, size_t blen)
{
	return a.len == blen && (blen == 0 || memcmp(a.data, b, blen) == 0);
}

static bool was_claimed(const struct run *r, struct ledger_bytes id)
{
	for (size_t i = 0; i < r->nclaimed; i++)
		if (r->claimed[i].len == id.len && memcmp(r->claimed[i].data, id.data, id.len) == 0)
			return true;
	return false;
}

static int reject_key(struct run *r, const struct ledger_enforce_key *k, enum ledger_status st,
		      const char *what)
{
	return ledger__reject(r->c, st, "zone %.*s (zones[%u]): key %.*s: %s", P(r->z->zone), r->zi,
			      P(k->key_id), what);
}

/* Move a pool key to the zone or its policy, with a role, flags and a new key tag. */
static int claim(struct run *r, const struct ledger_enforce_key *k, struct key_row *row)
{
	struct ledger *l = r->c->l;
	if (row->scope != LEDGER_SCOPE_POOL) {
		if (was_claimed(r, k->key_id))
			return reject_key(r, k, LEDGER_INVALID, "claimed twice in this entry");
		return reject_key(r, k, LEDGER_CONFLICT, "not a pool key: it cannot be claimed");
	}
	if (row->rdata_len < 4)
		return reject_key(r, k, LEDGER_INVALID, "DNSKEY RDATA too short");
	row->rdata[0] = 0x01;
	row->rdata[1] = k->claim_role == LEDGER_ROLE_ZSK ? 0x00 : 0x01;
	struct ledger_bytes name = k->claim_scope == LEDGER_SCOPE_ZONE ? r->z->zone : r->policy;
	sqlite3_stmt *st = ledger__stmt(l, "UPDATE keys SET scope = ?2, scope_name = ?3, role = ?4, "
				       "public_rdata = ?5, key_tag = ?6 WHERE id = ?1", r->c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, k->key_id);
	sqlite3_bind_int(st, 2, k->claim_scope);
	ledger__bind_text(st, 3, name);
	sqlite3_bind_int(st, 4, k->claim_role);
	sqlite3_bind_blob(st, 5, row->rdata, (int)row->rdata_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, hsm_keytag(row->rdata, row->rdata_len));
	int rc = ledger__step(l, st, "claiming the key", r->c->err);
	if (rc)
		return rc;
	if (r->nclaimed == r->capclaimed) {
		r->capclaimed = r->capclaimed ? 2 * r->capclaimed : 16;
		r->claimed = tdm_realloc(r->claimed, r->capclaimed * sizeof *r->claimed);
	}
	r->claimed[r->nclaimed++] = k->key_id;
	return 0;
}

static int key_set(struct run *r, const struct ledger_enforce_key *k)
{
	struct ledger *l = r->c->l;
	struct key_row row = { 0 };
	int rc = 0;
	int e = key_lookup(l, k->key_id, &row, r->c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return reject_key(r, k, LEDGER_NOT_FOUND, "no such key");
	if (k->claim_scope != 0) {
		rc = claim(r, k, &row);
	} else if (row.scope == LEDGER_SCOPE_POOL) {
		rc = reject_key(r, k, LEDGER_INVALID, "a pool key needs a claim");
	} else if (!(row.scope == LEDGER_SCOPE_ZONE && bytes_eq(r->z->zone, row.scope_name, row.scope_name_len)) &&
		   !(row.scope == LEDGER_SCOPE_POLICY && bytes_eq(r->policy, row.scope_name, row.scope_name_len))) {
		char what[LEDGER_NAME_MAX + 64];
		snprintf(what, sizeof what, "belongs to %s %s, not to this zone or its policy",
			 row.scope == LEDGER_SCOPE_ZONE ? "zone" : "policy", row.scope_name);
		rc = reject_key(r, k, LEDGER_INVALID, what);
	}
	free(row.rdata);
	if (rc || r->c->res->status != LEDGER_OK)
		return rc;

	sqlite3_stmt *st = ledger__stmt(l, "INSERT OR REPLACE INTO key_zone (zone, key_id, goal, "
				       "ds_at_parent, ds_at_parent_since, active_since, ds, ds_since, "
				       "dnskey, dnskey_since, rrsig_dnskey, rrsig_dnskey_since, rrsig, "
				       "rrsig_since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
				       "?11, ?12, ?13, ?14)", r->c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, r->z->zone);
	ledger__bind_text(st, 2, k->key_id);
	sqlite3_bind_int(st, 3, k->goal);
	sqlite3_bind_int(st, 4, k->ds_at_parent);
	sqlite3_bind_int64(st, 5, (int64_t)k->ds_at_parent_since);
	sqlite3_bind_int64(st, 6, (int64_t)k->active_since);
	for (int i = 0; i < 4; i++) {
		sqlite3_bind_int(st, 7 + 2 * i, k->rec[i].state);
		sqlite3_bind_int64(st, 8 + 2 * i, (int64_t)k->rec[i].since);
	}
	return ledger__step(l, st, "storing the key's zone state", r->c->err);
}

/* Delete a key, its state and any key_zone rows left. */
static int purge(struct ledger *l, struct ledger_bytes id, struct tdm_err *err)
{
	static const char *const dels[] = {
		"DELETE FROM key_zone WHERE key_id = ?1",
		"DELETE FROM key_states WHERE key_id = ?1",
		"DELETE FROM keys WHERE id = ?1",
	};
	for (size_t i = 0; i < sizeof dels / sizeof dels[0]; i++) {
		sqlite3_stmt *st = ledger__stmt(l, dels[i], err);
		if (st == NULL)
			return TDM_EDB;
		ledger__bind_text(st, 1, id);
		int rc = ledger__step(l, st, "purging the key", err);
		if (rc)
			return rc;
	}
	return 0;
}

static int key_drop(struct run *r, const struct ledger_enforce_key *k)
{
	struct ledger *l = r->c->l;
	sqlite3_stmt *st = ledger__stmt(l, "DELETE FROM key_zone WHERE zone = ?1 AND key_id = ?2", r->c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, r->z->zone);
	ledger__bind_text(st, 2, k->key_id);
	int rc = ledger__step(l, st, "dropping the key's zone state", r->c->err);
	if (rc)
		return rc;
	if (sqlite3_changes(l->db) == 0)
		return reject_key(r, k, LEDGER_NOT_FOUND, "has no state in this zone to drop");

	struct key_row row = { 0 };
	int e = key_lookup(l, k->key_id, &row, r->c->err);
	free(row.rdata);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return 0; /* cannot happen: KEY_DEL removes the rows of a key */
	bool gone = row.scope == LEDGER_SCOPE_ZONE;
	if (row.scope == LEDGER_SCOPE_POLICY) {
		int used = ledger__exists(l, "SELECT 1 FROM key_zone WHERE key_id = ?1", k->key_id, r->c->err);
		if (used < 0)
			return TDM_EDB;
		gone = used == 0;
	}
	return gone ? purge(l, k->key_id, r->c->err) : 0;
}

static int zone_policy(struct run *r)
{
	struct ledger *l = r->c->l;
	sqlite3_stmt *st = ledger__stmt(l, "SELECT policy FROM zones WHERE name = ?1", r->c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, r->z->zone);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (n > LEDGER_NAME_MAX)
			n = LEDGER_NAME_MAX;
		memcpy(r->policy_buf, n ? sqlite3_column_text(st, 0) : (const unsigned char *)"", n);
		r->policy.data = (const uint8_t *)r->policy_buf;
		r->policy.len = n;
	}
	sqlite3_reset(st);
	if (s == SQLITE_DONE)
		return ledger__reject(r->c, LEDGER_NOT_FOUND, "zone %.*s (zones[%u]): no such zone",
				      P(r->z->zone), r->zi);
	if (s != SQLITE_ROW)
		return ledger__db_fail(l->db, r->c->err, "reading the zone");
	return 0;
}

static int zone_update(struct run *r)
{
	struct ledger *l = r->c->l;
	const struct ledger_enforce_zone *z = r->z;
	sqlite3_stmt *st = ledger__stmt(l, "UPDATE zones SET next_due = ?2, roll_ksk = ?3, roll_zsk = ?4, "
				       "roll_csk = ?5, salt = ?6, salt_time = ?7 WHERE name = ?1", r->c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, z->zone);
	sqlite3_bind_int64(st, 2, ledger__time_to_db(z->next_due));
	sqlite3_bind_int64(st, 3, (int64_t)z->roll[LEDGER_ROLE_KSK]);
	sqlite3_bind_int64(st, 4, (int64_t)z->roll[LEDGER_ROLE_ZSK]);
	sqlite3_bind_int64(st, 5, (int64_t)z->roll[LEDGER_ROLE_CSK]);
	ledger__bind_text(st, 6, z->salt);
	sqlite3_bind_int64(st, 7, (int64_t)z->salt_time);
	return ledger__step(l, st, "storing the zone's enforcer state", r->c->err);
}

static int enforce(struct run *r, const struct ledger_cmd *m)
{
	struct ledger__ctx *c = r->c;
	int rc;
	if (m->enforce.time == 0)
		return ledger__reject(c, LEDGER_INVALID, "enforce time 0");
	for (uint32_t i = 0; i < m->enforce.nzones; i++) {
		r->z = &m->enforce.zones[i];
		r->zi = i;
		if ((rc = zone_policy(r)) != 0 || c->res->status != LEDGER_OK)
			return rc;
		for (uint32_t j = 0; j < r->z->nkeys; j++) {
			const struct ledger_enforce_key *k = &r->z->keys[j];
			rc = k->op == LEDGER_EK_SET ? key_set(r, k) : key_drop(r, k);
			if (rc || c->res->status != LEDGER_OK)
				return rc;
		}
		if ((rc = zone_update(r)) != 0)
			return rc;
	}
	if (m->enforce.time > c->l->enforce_time) {
		if ((rc = ledger__meta_set(c->l, "enforce_time", (int64_t)m->enforce.time, c->err)) != 0)
			return rc;
		c->l->enforce_time = m->enforce.time;
	}
	return 0;
}

int ledger__apply_enforce(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct run r;
	memset(&r, 0, sizeof r);
	r.c = c;
	int rc = enforce(&r, m);
	free(r.claimed);
	return rc;
}

int ledger__apply_backup(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	/* Distinct literals: the statement cache is keyed by pointer. */
	static const char *const sql[] = {
		[LEDGER_BACKUP_PREPARE] = "UPDATE keys SET backup = 1 WHERE backup = 0 AND (?1 = '' OR repository = ?1)",
		[LEDGER_BACKUP_COMMIT] = "UPDATE keys SET backup = 2 WHERE backup = 1 AND (?1 = '' OR repository = ?1)",
		[LEDGER_BACKUP_ROLLBACK] = "UPDATE keys SET backup = 0 WHERE backup = 1 AND (?1 = '' OR repository = ?1)",
	};
	struct ledger *l = c->l;
	uint8_t a = m->backup.action; /* 1..3: the codec checked it */
	sqlite3_stmt *st = ledger__stmt(l, sql[a], c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, m->backup.repository);
	int rc = ledger__step(l, st, "updating backup flags", c->err);
	if (rc)
		return rc;
	if (a != LEDGER_BACKUP_PREPARE && sqlite3_changes(l->db) == 0) {
		if (m->backup.repository.len == 0)
			return ledger__reject(c, LEDGER_NOT_FOUND, "no backup prepared in any repository");
		return ledger__reject(c, LEDGER_NOT_FOUND, "repository %.*s: no backup prepared",
				      P(m->backup.repository));
	}
	return 0;
}
