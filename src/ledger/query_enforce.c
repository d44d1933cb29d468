/*
 * The enforcer's read-only view of state.db (format 2): one zone with its
 * keys and their key_zone rows, the zones that are due, names, counts, the
 * key pool and the policies.  Nothing here writes.
 *
 * Cost at 50,000 zones / 100,000 keys: ledger_zone_state_get is two
 * primary-key lookups plus a range of key_zone's primary key, each key
 * joined by its id; ledger_zones_due and ledger_next_due walk the
 * zones_due index from its low end; ledger_pool_keys and
 * ledger_pool_counts walk the keys_pool index.  No query scans a table
 * except ledger_counts (count(*) over zones and keys) and
 * ledger_policy_list (one indexed count per policy).
 */
#include "ledger/ledger_int.h"

#include <stdlib.h>
#include <string.h>

#define col_str ledger__col_str
#define col_blob ledger__col_blob

int ledger_zone_state_get(struct ledger *l, const char *zone, struct ledger_zone_state *out,
			  struct tdm_err *err)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = ledger__stmt(l, "SELECT name, policy, signconf, next_due, roll_ksk, roll_zsk, "
				       "roll_csk, salt, salt_time FROM zones WHERE name = ?1", err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->name = col_str(st, 0);
		out->policy = col_str(st, 1);
		out->signconf = col_str(st, 2);
		out->next_due = ledger__time_from_db(sqlite3_column_int64(st, 3));
		for (int r = LEDGER_ROLE_KSK; r <= LEDGER_ROLE_CSK; r++)
			out->roll[r] = (uint64_t)sqlite3_column_int64(st, 3 + r);
		out->salt = col_str(st, 7);
		out->salt_time = (uint64_t)sqlite3_column_int64(st, 8);
	}
	sqlite3_reset(st);
	if (s == SQLITE_DONE)
		return tdm_err_fail(err, TDM_ENOENT, "zone %s: no such zone", zone);
	if (s != SQLITE_ROW)
		return ledger__db_fail(l->db, err, "reading the zone");

	st = ledger__stmt(l, "SELECT " LEDGER__KEY_COLS ", s.goal, s.ds_at_parent, s.ds_at_parent_since, "
			  "s.active_since, " LEDGER__STATE_COLS " FROM key_zone s "
			  "JOIN keys k ON k.id = s.key_id WHERE s.zone = ?1 ORDER BY s.key_id", err);
	if (st == NULL) {
		ledger_zone_state_clear(out);
		return TDM_EDB;
	}
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	size_t cap = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->nkeys == cap) {
			cap = cap ? 2 * cap : 4;
			out->keys = tdm_realloc(out->keys, cap * sizeof *out->keys);
		}
		struct ledger_zone_key *zk = &out->keys[out->nkeys++];
		memset(zk, 0, sizeof *zk);
		int c = LEDGER__KEY_NCOLS;
		ledger__read_key(st, 0, &zk->key);
		zk->goal = (uint8_t)sqlite3_column_int(st, c);
		zk->ds_at_parent = (uint8_t)sqlite3_column_int(st, c + 1);
		zk->ds_at_parent_since = (uint64_t)sqlite3_column_int64(st, c + 2);
		zk->active_since = (uint64_t)sqlite3_column_int64(st, c + 3);
		ledger__read_states(st, c + 4, zk->rec);
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE) {
		ledger_zone_state_clear(out);
		return ledger__db_fail(l->db, err, "reading the zone's keys");
	}
	return 0;
}

static void key_free(struct ledger_key *k)
{
	free(k->key_id);
	free(k->scope_name);
	free(k->repository);
	free(k->public_rdata);
	free(k->cka_id);
	free(k->wrapped_private);
}

void ledger_zone_state_clear(struct ledger_zone_state *z)
{
	if (z == NULL)
		return;
	free(z->name);
	free(z->policy);
	free(z->signconf);
	free(z->salt);
	for (size_t i = 0; z->keys && i < z->nkeys; i++)
		key_free(&z->keys[i].key);
	free(z->keys);
	memset(z, 0, sizeof *z);
}

/* Collect column 0 of every row as strings.  Binds are the caller's. */
static int names_of(struct ledger *l, sqlite3_stmt *st, char ***names, size_t *n, struct tdm_err *err)
{
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			v = tdm_realloc(v, cap * sizeof *v);
		}
		v[cnt++] = col_str(st, 0);
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE) {
		ledger_names_free(v, cnt);
		return ledger__db_fail(l->db, err, "listing zones");
	}
	*names = v;
	*n = cnt;
	return 0;
}

int ledger_zones_due(struct ledger *l, uint64_t now, size_t limit, char ***names, size_t *n,
		     struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT name FROM zones WHERE next_due <= ?1 "
				       "ORDER BY next_due, name LIMIT ?2", err);
	if (st == NULL)
		return TDM_EDB;
	/* Only now = UINT64_MAX reaches the zones due "never" (stored as INT64_MAX). */
	sqlite3_bind_int64(st, 1, now == UINT64_MAX ? INT64_MAX
			   : now >= (uint64_t)INT64_MAX ? INT64_MAX - 1 : (int64_t)now);
	sqlite3_bind_int64(st, 2, limit == 0 || limit > (size_t)INT64_MAX ? -1 : (int64_t)limit);
	return names_of(l, st, names, n, err);
}

int ledger_next_due(struct ledger *l, uint64_t *due, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT min(next_due) FROM zones", err);
	if (st == NULL)
		return TDM_EDB;
	int s = sqlite3_step(st);
	*due = UINT64_MAX;
	if (s == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*due = ledger__time_from_db(sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	if (s != SQLITE_ROW)
		return ledger__db_fail(l->db, err, "reading next_due");
	return 0;
}

int ledger_zone_names(struct ledger *l, const char *policy, char ***names, size_t *n,
		      struct tdm_err *err)
{
	/* Two statements, so the policy filter uses zones_policy. */
	sqlite3_stmt *st = policy
		? ledger__stmt(l, "SELECT name FROM zones WHERE policy = ?1 ORDER BY name", err)
		: ledger__stmt(l, "SELECT name FROM zones ORDER BY name", err);
	if (st == NULL)
		return TDM_EDB;
	if (policy)
		sqlite3_bind_text(st, 1, policy, -1, SQLITE_STATIC);
	return names_of(l, st, names, n, err);
}

void ledger_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int ledger_counts(struct ledger *l, uint64_t *zones, uint64_t *keys, uint64_t *pool,
		  struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT (SELECT count(*) FROM zones), (SELECT count(*) FROM keys), "
				       "(SELECT count(*) FROM keys WHERE scope = 3)", err);
	if (st == NULL)
		return TDM_EDB;
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		if (zones)
			*zones = (uint64_t)sqlite3_column_int64(st, 0);
		if (keys)
			*keys = (uint64_t)sqlite3_column_int64(st, 1);
		if (pool)
			*pool = (uint64_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (s != SQLITE_ROW)
		return ledger__db_fail(l->db, err, "counting");
	return 0;
}

int ledger_pool_keys(struct ledger *l, const char *repository, uint8_t algorithm, uint16_t bits,
		     bool backed_up, size_t limit, struct ledger_key **out, size_t *n,
		     struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT " LEDGER__KEY_COLS ", " LEDGER__STATE_COLS
				       " FROM keys k JOIN key_states s ON s.key_id = k.id "
				       "WHERE k.scope = 3 AND k.repository = ?1 AND k.algorithm = ?2 "
				       "AND k.bits = ?3 AND (?4 = 0 OR k.backup = 2) "
				       "ORDER BY k.created, k.id LIMIT ?5", err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_text(st, 1, repository ? repository : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, algorithm);
	sqlite3_bind_int(st, 3, bits);
	sqlite3_bind_int(st, 4, backed_up ? 1 : 0);
	sqlite3_bind_int64(st, 5, limit == 0 || limit > (size_t)INT64_MAX ? -1 : (int64_t)limit);
	return ledger__collect_keys(l, st, out, n, "listing pool keys", err);
}

int ledger_pool_counts(struct ledger *l, struct ledger_pool_count **out, size_t *n,
		       struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT repository, algorithm, bits, count(*), "
				       "sum(backup = 2) FROM keys WHERE scope = 3 "
				       "GROUP BY repository, algorithm, bits "
				       "ORDER BY repository, algorithm, bits", err);
	struct ledger_pool_count *v = NULL;
	size_t cnt = 0, cap = 0;
	int s;
	if (st == NULL)
		return TDM_EDB;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 4;
			v = tdm_realloc(v, cap * sizeof *v);
		}
		struct ledger_pool_count *p = &v[cnt++];
		p->repository = col_str(st, 0);
		p->algorithm = (uint8_t)sqlite3_column_int(st, 1);
		p->bits = (uint16_t)sqlite3_column_int(st, 2);
		p->count = (uint64_t)sqlite3_column_int64(st, 3);
		p->backed_up = (uint64_t)sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE) {
		ledger_pool_counts_free(v, cnt);
		return ledger__db_fail(l->db, err, "counting pool keys");
	}
	*out = v;
	*n = cnt;
	return 0;
}

void ledger_pool_counts_free(struct ledger_pool_count *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		free(c[i].repository);
	free(c);
}

int ledger_policy_list(struct ledger *l, struct ledger_policy **out, size_t *n,
		       struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT p.name, p.blob, "
				       "(SELECT count(*) FROM zones z WHERE z.policy = p.name) "
				       "FROM policies p ORDER BY p.name", err);
	struct ledger_policy *v = NULL;
	size_t cnt = 0, cap = 0;
	int s;
	if (st == NULL)
		return TDM_EDB;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 4;
			v = tdm_realloc(v, cap * sizeof *v);
		}
		struct ledger_policy *p = &v[cnt++];
		p->name = col_str(st, 0);
		p->blob = col_blob(st, 1, &p->len);
		p->zones = (uint64_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE) {
		ledger_policy_list_free(v, cnt);
		return ledger__db_fail(l->db, err, "listing policies");
	}
	*out = v;
	*n = cnt;
	return 0;
}

void ledger_policy_list_free(struct ledger_policy *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].name);
		free(p[i].blob);
	}
	free(p);
}
