/*
 * state.db: opening, pragmas, the schema, the meta table and the statement
 * cache.  ledger_open() creates the schema in a new file or checks the
 * schema version of an existing one; a file of another version is refused
 * (a later version adds migrations here).  Version 2 added the enforcer's
 * columns and the key_zone table; version-1 files existed only in tests,
 * so there is no migration from 1.
 *
 * Pragmas: WAL, synchronous=NORMAL (docs/ledger.md, "Durability", explains
 * why that is safe with the Raft log as the durable record), foreign keys
 * off (apply enforces the references itself, so the rules and their
 * rejection messages live in one place).
 */
#include "ledger/ledger_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema_sql[] =
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY, value ANY NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE policies ("
	"  name TEXT PRIMARY KEY, blob BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE zones ("
	"  name TEXT PRIMARY KEY, policy TEXT NOT NULL,"
	"  in_type TEXT NOT NULL, in_uri TEXT NOT NULL,"
	"  out_type TEXT NOT NULL, out_uri TEXT NOT NULL, signconf TEXT NOT NULL,"
	"  input_serial INTEGER,"
	/* The enforcer's schedule, rollover requests and NSEC3 salt (ENFORCE). */
	"  next_due INTEGER NOT NULL DEFAULT 0,"
	"  roll_ksk INTEGER NOT NULL DEFAULT 0, roll_zsk INTEGER NOT NULL DEFAULT 0,"
	"  roll_csk INTEGER NOT NULL DEFAULT 0,"
	"  salt TEXT NOT NULL DEFAULT '', salt_time INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX zones_policy ON zones(policy);"
	"CREATE INDEX zones_due ON zones(next_due);"
	"CREATE TABLE keys ("
	"  id TEXT PRIMARY KEY, scope INTEGER NOT NULL, scope_name TEXT NOT NULL,"
	"  role INTEGER NOT NULL, algorithm INTEGER NOT NULL, bits INTEGER NOT NULL,"
	"  key_tag INTEGER NOT NULL, public_rdata BLOB NOT NULL, cka_id BLOB NOT NULL,"
	"  repository TEXT NOT NULL, wrapped_private BLOB NOT NULL,"
	"  created INTEGER NOT NULL, backup INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX keys_scope ON keys(scope_name, scope);"
	"CREATE INDEX keys_pool ON keys(scope, repository, algorithm, bits, created, id);"
	"CREATE TABLE key_states ("
	"  key_id TEXT PRIMARY KEY,"
	"  ds INTEGER NOT NULL, ds_since INTEGER NOT NULL,"
	"  dnskey INTEGER NOT NULL, dnskey_since INTEGER NOT NULL,"
	"  rrsig_dnskey INTEGER NOT NULL, rrsig_dnskey_since INTEGER NOT NULL,"
	"  rrsig INTEGER NOT NULL, rrsig_since INTEGER NOT NULL) WITHOUT ROWID;"
	/* The enforcer's state of a key in a zone (a shared key: one row per zone). */
	"CREATE TABLE key_zone ("
	"  zone TEXT NOT NULL, key_id TEXT NOT NULL,"
	"  goal INTEGER NOT NULL, ds_at_parent INTEGER NOT NULL,"
	"  ds_at_parent_since INTEGER NOT NULL, active_since INTEGER NOT NULL,"
	"  ds INTEGER NOT NULL, ds_since INTEGER NOT NULL,"
	"  dnskey INTEGER NOT NULL, dnskey_since INTEGER NOT NULL,"
	"  rrsig_dnskey INTEGER NOT NULL, rrsig_dnskey_since INTEGER NOT NULL,"
	"  rrsig INTEGER NOT NULL, rrsig_since INTEGER NOT NULL,"
	"  PRIMARY KEY (zone, key_id)) WITHOUT ROWID;"
	"CREATE INDEX key_zone_key ON key_zone(key_id);"
	/* The current input of a zone: pos 0 is a full content, pos 1.. diffs. */
	"CREATE TABLE zone_inputs ("
	"  zone TEXT NOT NULL, pos INTEGER NOT NULL, kind INTEGER NOT NULL,"
	"  base_serial INTEGER NOT NULL, serial INTEGER NOT NULL, time INTEGER NOT NULL,"
	"  content BLOB NOT NULL, PRIMARY KEY (zone, pos));"
	"CREATE TABLE zone_input_chunks ("
	"  zone TEXT NOT NULL, idx INTEGER NOT NULL, count INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL, base_serial INTEGER NOT NULL, serial INTEGER NOT NULL,"
	"  time INTEGER NOT NULL, content BLOB NOT NULL,"
	"  PRIMARY KEY (zone, idx));"
	"CREATE TABLE signatures ("
	"  zone TEXT NOT NULL, owner BLOB NOT NULL, type INTEGER NOT NULL,"
	"  key_tag INTEGER NOT NULL, input_serial INTEGER NOT NULL, rdata BLOB NOT NULL,"
	"  PRIMARY KEY (zone, owner, type, key_tag)) WITHOUT ROWID;"
	"CREATE TABLE sig_batches ("
	"  zone TEXT NOT NULL, input_serial INTEGER NOT NULL, batch INTEGER NOT NULL,"
	"  nsigs INTEGER NOT NULL,"
	"  PRIMARY KEY (zone, input_serial, batch)) WITHOUT ROWID;"
	"CREATE TABLE publications ("
	"  zone TEXT NOT NULL, pos INTEGER NOT NULL, serial INTEGER NOT NULL,"
	"  sha256 BLOB NOT NULL, time INTEGER NOT NULL,"
	"  PRIMARY KEY (zone, pos)) WITHOUT ROWID;"
	"CREATE TABLE nodes ("
	"  id INTEGER PRIMARY KEY, address TEXT NOT NULL, witness INTEGER NOT NULL,"
	"  transport_pubkey BLOB NOT NULL, wrapped_kek BLOB NOT NULL);"
	"CREATE TABLE dedupe ("
	"  origin INTEGER PRIMARY KEY, seq INTEGER NOT NULL);"
	"INSERT INTO meta VALUES ('schema_version', 2), ('applied_index', 0),"
	"  ('cluster_version', 1), ('test_count', 0), ('test_hash', zeroblob(32)),"
	"  ('enforce_time', 0);";

int ledger__db_fail(sqlite3 *db, struct tdm_err *err, const char *what)
{
	if (db == NULL)
		return tdm_err_fail(err, TDM_EDB, "%s: out of memory", what);
	return tdm_err_fail(err, TDM_EDB, "%s: %s (%s)", what, sqlite3_errmsg(db),
			    sqlite3_errstr(sqlite3_extended_errcode(db)));
}

int ledger__exec(struct ledger *l, const char *sql, struct tdm_err *err)
{
	if (sqlite3_exec(l->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return ledger__db_fail(l->db, err, l->path);
	return 0;
}

sqlite3_stmt *ledger__stmt(struct ledger *l, const char *sql, struct tdm_err *err)
{
	for (int i = 0; i < l->nstmts; i++) {
		if (l->stmts[i].sql == sql) {
			sqlite3_stmt *st = l->stmts[i].stmt;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		ledger__db_fail(l->db, err, "prepare");
		return NULL;
	}
	if (l->nstmts < LEDGER__STMT_MAX) {
		l->stmts[l->nstmts].sql = sql;
		l->stmts[l->nstmts].stmt = st;
		l->nstmts++;
	} else {
		/* More distinct statements than slots is a programming error. */
		abort();
	}
	return st;
}

void ledger__stmt_clear(struct ledger *l)
{
	for (int i = 0; i < l->nstmts; i++)
		sqlite3_finalize(l->stmts[i].stmt);
	l->nstmts = 0;
}

int ledger__bind_text(sqlite3_stmt *st, int i, struct ledger_bytes b)
{
	return sqlite3_bind_text(st, i, b.len ? (const char *)b.data : "", (int)b.len, SQLITE_STATIC);
}

int ledger__bind_blob(sqlite3_stmt *st, int i, struct ledger_bytes b)
{
	/* An empty blob binds as a zero-length BLOB, never as NULL. */
	return sqlite3_bind_blob(st, i, b.len ? (const void *)b.data : "", (int)b.len, SQLITE_STATIC);
}

int ledger__schema_check(sqlite3 *db, struct tdm_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
			       &st, NULL) != SQLITE_OK)
		return tdm_err_fail(err, TDM_EDB, "not a ledger database: %s", sqlite3_errmsg(db));
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 0);
		if (v == 1)
			rc = tdm_err_fail(err, TDM_EVERSION, "schema version 1, this build uses %d: "
					  "there is no migration from version 1 (it predates the "
					  "enforcer's tables); recreate state.db from a cluster snapshot",
					  LEDGER_SCHEMA_VERSION);
		else if (v != LEDGER_SCHEMA_VERSION)
			rc = tdm_err_fail(err, TDM_EVERSION, "schema version %" PRId64 ", this build uses %d",
					  v, LEDGER_SCHEMA_VERSION);
	} else if (s == SQLITE_DONE) {
		rc = tdm_err_fail(err, TDM_EDB, "not a ledger database: no schema version");
	} else {
		rc = ledger__db_fail(db, err, "reading the schema version");
	}
	sqlite3_finalize(st);
	return rc;
}

int ledger__meta_load(struct ledger *l, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT key, value FROM meta WHERE key IN "
				       "('applied_index', 'cluster_version', 'enforce_time')", err);
	if (st == NULL)
		return TDM_EDB;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		int64_t v = sqlite3_column_int64(st, 1);
		if (strcmp(k, "applied_index") == 0)
			l->applied = (uint64_t)v;
		else if (strcmp(k, "enforce_time") == 0)
			l->enforce_time = (uint64_t)v;
		else
			l->cluster_version = (uint16_t)v;
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE)
		return ledger__db_fail(l->db, err, "reading meta");
	return 0;
}

int ledger__meta_set(struct ledger *l, const char *key, int64_t value, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "UPDATE meta SET value = ?2 WHERE key = ?1", err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, value);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ledger__db_fail(l->db, err, "updating meta");
	return 0;
}

int ledger__step(struct ledger *l, sqlite3_stmt *st, const char *what, struct tdm_err *err)
{
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	if (s != SQLITE_DONE)
		return ledger__db_fail(l->db, err, what);
	return 0;
}

int ledger__exists(struct ledger *l, const char *sql, struct ledger_bytes key, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, sql, err);
	if (st == NULL)
		return -1;
	ledger__bind_text(st, 1, key);
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	if (s == SQLITE_ROW)
		return 1;
	if (s == SQLITE_DONE)
		return 0;
	ledger__db_fail(l->db, err, "lookup");
	return -1;
}

static int has_table(sqlite3 *db, const char *name, bool *yes, struct tdm_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return ledger__db_fail(db, err, "reading the schema");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return ledger__db_fail(db, err, "reading the schema");
	*yes = s == SQLITE_ROW;
	return 0;
}

int ledger__db_open(struct ledger *l, const char *path, struct tdm_err *err)
{
	int rc;
	bool exists = false;
	if (sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = ledger__db_fail(l->db, err, path);
		goto fail;
	}
	sqlite3_extended_result_codes(l->db, 1);
	/* A busy database means another process has state.db open: wait a little, then fail. */
	sqlite3_busy_timeout(l->db, 2000);
	if ((rc = ledger__exec(l, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			       "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-16384;", err)) != 0)
		goto fail;
	if ((rc = has_table(l->db, "meta", &exists, err)) != 0)
		goto fail;
	if (!exists) {
		if ((rc = ledger__exec(l, "BEGIN IMMEDIATE", err)) != 0)
			goto fail;
		if ((rc = ledger__exec(l, schema_sql, err)) != 0 ||
		    (rc = ledger__exec(l, "COMMIT", err)) != 0) {
			sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
			goto fail;
		}
	}
	if ((rc = ledger__schema_check(l->db, err)) != 0)
		goto fail;
	if ((rc = ledger__meta_load(l, err)) != 0)
		goto fail;
	return 0;
fail:
	ledger__stmt_clear(l);
	sqlite3_close(l->db);
	l->db = NULL;
	tdm_err_wrap(err, "ledger %s", path);
	return rc;
}

int ledger_open(struct ledger **out, const char *path, struct tdm_err *err)
{
	struct ledger *l = tdm_calloc(1, sizeof *l);
	l->path = tdm_strdup(path);
	int rc = ledger__db_open(l, path, err);
	if (rc) {
		free(l->path);
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	ledger__stmt_clear(l);
	if (l->db)
		sqlite3_close(l->db);
	free(l->path);
	free(l);
}

const char *ledger_path(const struct ledger *l)
{
	return l->path;
}

uint64_t ledger_applied_index(const struct ledger *l)
{
	return l->applied;
}

uint16_t ledger_cluster_version(const struct ledger *l)
{
	return l->cluster_version;
}

uint64_t ledger_enforce_time(const struct ledger *l)
{
	return l->enforce_time;
}
