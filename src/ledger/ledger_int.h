/*
 * Private to src/ledger: the ledger object, the prepared-statement cache and
 * the helpers the schema, apply, snapshot, digest and query files share.
 */
#ifndef TDM_LEDGER_INT_H
#define TDM_LEDGER_INT_H

#include "ledger/ledger.h"

#include <sqlite3.h>

#define LEDGER__STMT_MAX 192

struct ledger {
	sqlite3 *db;
	char *path;
	uint64_t applied;        /* cache of meta.applied_index */
	uint16_t cluster_version;/* cache of meta.cluster_version */
	uint64_t enforce_time;   /* cache of meta.enforce_time */
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} stmts[LEDGER__STMT_MAX];
	int nstmts;
	bool snapshot_job;       /* a ledger_snapshot_job is open */
};

/*
 * A cached prepared statement for the string literal @p sql (the pointer is
 * the key), reset and with bindings cleared.  NULL on failure, message in @p err.
 */
sqlite3_stmt *ledger__stmt(struct ledger *l, const char *sql, struct tdm_err *err);

/** Finalize every cached statement. */
void ledger__stmt_clear(struct ledger *l);

/** Run SQL without results; @return 0 or TDM_EDB. */
int ledger__exec(struct ledger *l, const char *sql, struct tdm_err *err);

/** TDM_EDB with "what: sqlite message (code)". */
int ledger__db_fail(sqlite3 *db, struct tdm_err *err, const char *what);

/** Open @p path, set the pragmas, create or check the schema; fills @p l. */
int ledger__db_open(struct ledger *l, const char *path, struct tdm_err *err);

/** Check that a database holds a ledger of this schema version. */
int ledger__schema_check(sqlite3 *db, struct tdm_err *err);

/** Reload the cached meta values. */
int ledger__meta_load(struct ledger *l, struct tdm_err *err);

/** Set an integer meta value (inside the caller's transaction). */
int ledger__meta_set(struct ledger *l, const char *key, int64_t value, struct tdm_err *err);

/* Binding helpers: ledger_bytes as TEXT or BLOB (SQLITE_STATIC: the caller
 * keeps the bytes alive until the statement is reset). */
int ledger__bind_text(sqlite3_stmt *st, int i, struct ledger_bytes b);
int ledger__bind_blob(sqlite3_stmt *st, int i, struct ledger_bytes b);

/** Outcome of a handler that did not fail on I/O. */
struct ledger__ctx {
	struct ledger *l;
	struct ledger_result *res;
	struct tdm_err *err;
};

/** Set a rejection status and message (printf); @return 0. */
int ledger__reject(struct ledger__ctx *c, enum ledger_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Command handlers, by family.  Each runs inside a savepoint: return 0 with
 * res->status set (a rejection is rolled back to the savepoint by the
 * caller), or a negative code for an I/O failure.
 */
int ledger__apply_policy(struct ledger__ctx *c, const struct ledger_cmd *m);
int ledger__apply_zone(struct ledger__ctx *c, const struct ledger_cmd *m);
int ledger__apply_key(struct ledger__ctx *c, const struct ledger_cmd *m);
int ledger__apply_input(struct ledger__ctx *c, const struct ledger_cmd *m);
int ledger__apply_sig_batch(struct ledger__ctx *c, const struct ledger_cmd *m);
int ledger__apply_publish(struct ledger__ctx *c, const struct ledger_cmd *m);
int ledger__apply_cluster(struct ledger__ctx *c, const struct ledger_cmd *m);
int ledger__apply_zone_batch(struct ledger__ctx *c, const struct ledger_cmd *m);
int ledger__apply_enforce(struct ledger__ctx *c, const struct ledger_cmd *m);
int ledger__apply_backup(struct ledger__ctx *c, const struct ledger_cmd *m);

/*
 * Times and next_due are u64 in the API and signed 64-bit in SQLite:
 * values above INT64_MAX (UINT64_MAX = "never") are stored as INT64_MAX,
 * and INT64_MAX reads back as UINT64_MAX, so the order is kept.
 */
static inline int64_t ledger__time_to_db(uint64_t t)
{
	return t > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)t;
}
static inline uint64_t ledger__time_from_db(int64_t t)
{
	return t == INT64_MAX ? UINT64_MAX : (uint64_t)t;
}

/**
 * Step @p st to completion (an INSERT/UPDATE/DELETE) and reset it.
 * @return 0 or TDM_EDB with "what: sqlite message".
 */
int ledger__step(struct ledger *l, sqlite3_stmt *st, const char *what, struct tdm_err *err);

/** Does a row match "SELECT 1 FROM ... WHERE x = ?1" for text @p key? -1 on error. */
int ledger__exists(struct ledger *l, const char *sql, struct ledger_bytes key, struct tdm_err *err);

/** Dedupe: is (origin, seq) at or below the origin's highest applied sequence? */
int ledger__dedupe_seen(struct ledger *l, const struct ledger_cmd_id *id, bool *seen,
			struct tdm_err *err);
/** Record (origin, seq) as the origin's highest applied sequence. */
int ledger__dedupe_record(struct ledger *l, const struct ledger_cmd_id *id, struct tdm_err *err);

/* Query helpers (query.c): a column as a new string or buffer (caller frees). */
char *ledger__col_str(sqlite3_stmt *st, int i);
uint8_t *ledger__col_blob(sqlite3_stmt *st, int i, size_t *len);

/* The columns of a struct ledger_key (alias k), read by ledger__read_key from column @p i on. */
#define LEDGER__KEY_COLS "k.id, k.scope, k.scope_name, k.role, k.algorithm, k.bits, k.key_tag, " \
	"k.public_rdata, k.cka_id, k.repository, k.wrapped_private, k.created, k.backup"
#define LEDGER__KEY_NCOLS 13
/* Four (state, since) pairs of table alias s (key_states or key_zone). */
#define LEDGER__STATE_COLS "s.ds, s.ds_since, s.dnskey, s.dnskey_since, s.rrsig_dnskey, " \
	"s.rrsig_dnskey_since, s.rrsig, s.rrsig_since"
void ledger__read_key(sqlite3_stmt *st, int i, struct ledger_key *k);
void ledger__read_states(sqlite3_stmt *st, int i, struct ledger_record_state_t rec[4]);

/**
 * Step a statement whose columns are LEDGER__KEY_COLS then the four record
 * states, into a new array of keys (free with ledger_key_list_free()).
 * @return 0 or TDM_EDB with "what: ...".
 */
int ledger__collect_keys(struct ledger *l, sqlite3_stmt *st, struct ledger_key **out, size_t *n,
			 const char *what, struct tdm_err *err);

/** SHA-256 helpers over OpenSSL EVP. */
void ledger__sha256(const void *data, size_t len, uint8_t out[32]);

#endif
