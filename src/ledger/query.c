/*
 * Read-only queries over state.db for the daemon, signer, enforcer and CLIs.
 * Nothing here writes.  Lists are returned as arrays the caller owns (and
 * frees with the matching *_free); large sets (signatures, input content)
 * are handed to a callback row by row instead.
 */
#include "ledger/ledger_int.h"

#include <stdlib.h>
#include <string.h>

char *ledger__col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *p = sqlite3_column_text(st, i);
	return tdm_strdup(p ? (const char *)p : "");
}

uint8_t *ledger__col_blob(sqlite3_stmt *st, int i, size_t *len)
{
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	uint8_t *p = tdm_malloc(n ? n : 1);
	if (n)
		memcpy(p, sqlite3_column_blob(st, i), n);
	*len = n;
	return p;
}

#define col_str ledger__col_str
#define col_blob ledger__col_blob

void ledger__read_key(sqlite3_stmt *st, int i, struct ledger_key *k)
{
	memset(k, 0, sizeof *k);
	k->key_id = col_str(st, i);
	k->scope = (uint8_t)sqlite3_column_int(st, i + 1);
	k->scope_name = col_str(st, i + 2);
	k->role = (uint8_t)sqlite3_column_int(st, i + 3);
	k->algorithm = (uint8_t)sqlite3_column_int(st, i + 4);
	k->bits = (uint16_t)sqlite3_column_int(st, i + 5);
	k->key_tag = (uint16_t)sqlite3_column_int(st, i + 6);
	k->public_rdata = col_blob(st, i + 7, &k->public_rdata_len);
	k->cka_id = col_blob(st, i + 8, &k->cka_id_len);
	k->repository = col_str(st, i + 9);
	k->wrapped_private = col_blob(st, i + 10, &k->wrapped_private_len);
	k->created = (uint64_t)sqlite3_column_int64(st, i + 11);
	k->backup = (uint8_t)sqlite3_column_int(st, i + 12);
}

void ledger__read_states(sqlite3_stmt *st, int i, struct ledger_record_state_t rec[4])
{
	for (int r = 0; r < 4; r++) {
		rec[r].state = (uint8_t)sqlite3_column_int(st, i + 2 * r);
		rec[r].since = (uint64_t)sqlite3_column_int64(st, i + 2 * r + 1);
	}
}

int ledger_zone_list(struct ledger *l, struct ledger_zone **out, size_t *n, struct tdm_err *err)
{
	/* Per zone: one primary-key range of signatures and one of publications.
	 * A GROUP BY pass over signatures measured no faster (docs/ledger.md §7). */
	sqlite3_stmt *st = ledger__stmt(l,
		"SELECT z.name, z.policy, z.in_type, z.in_uri, z.out_type, z.out_uri, z.signconf, "
		"z.input_serial, p.serial, p.sha256, p.time, "
		"(SELECT count(*) FROM signatures s WHERE s.zone = z.name) "
		"FROM zones z LEFT JOIN publications p ON p.zone = z.name AND "
		"p.pos = (SELECT max(pos) FROM publications q WHERE q.zone = z.name) "
		"ORDER BY z.name", err);
	struct ledger_zone *v = NULL;
	size_t cnt = 0, cap = 0;
	int s;
	if (st == NULL)
		return TDM_EDB;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 8;
			v = tdm_realloc(v, cap * sizeof *v);
		}
		struct ledger_zone *z = &v[cnt++];
		memset(z, 0, sizeof *z);
		z->name = col_str(st, 0);
		z->policy = col_str(st, 1);
		z->in_type = col_str(st, 2);
		z->in_uri = col_str(st, 3);
		z->out_type = col_str(st, 4);
		z->out_uri = col_str(st, 5);
		z->signconf = col_str(st, 6);
		z->has_input = sqlite3_column_type(st, 7) != SQLITE_NULL;
		z->input_serial = (uint32_t)sqlite3_column_int64(st, 7);
		z->has_published = sqlite3_column_type(st, 8) != SQLITE_NULL;
		if (z->has_published) {
			z->published_serial = (uint32_t)sqlite3_column_int64(st, 8);
			if (sqlite3_column_bytes(st, 9) == 32)
				memcpy(z->published_sha256, sqlite3_column_blob(st, 9), 32);
			z->published_time = (uint64_t)sqlite3_column_int64(st, 10);
		}
		z->nsigs = (uint64_t)sqlite3_column_int64(st, 11);
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE) {
		ledger_zone_list_free(v, cnt);
		return ledger__db_fail(l->db, err, "listing zones");
	}
	*out = v;
	*n = cnt;
	return 0;
}

void ledger_zone_list_free(struct ledger_zone *zones, size_t n)
{
	for (size_t i = 0; zones && i < n; i++) {
		struct ledger_zone *z = &zones[i];
		free(z->name);
		free(z->policy);
		free(z->in_type);
		free(z->in_uri);
		free(z->out_type);
		free(z->out_uri);
		free(z->signconf);
	}
	free(zones);
}

int ledger_key_list(struct ledger *l, const char *scope_name, struct ledger_key **out, size_t *n,
		    struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l,
		"SELECT " LEDGER__KEY_COLS ", " LEDGER__STATE_COLS
		" FROM keys k JOIN key_states s ON s.key_id = k.id "
		"WHERE ?1 IS NULL OR k.scope_name = ?1 ORDER BY k.id", err);
	if (st == NULL)
		return TDM_EDB;
	if (scope_name)
		sqlite3_bind_text(st, 1, scope_name, -1, SQLITE_STATIC);
	return ledger__collect_keys(l, st, out, n, "listing keys", err);
}

int ledger_key_get(struct ledger *l, const char *key_id, struct ledger_key **out,
		   struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l,
		"SELECT " LEDGER__KEY_COLS ", " LEDGER__STATE_COLS
		" FROM keys k JOIN key_states s ON s.key_id = k.id WHERE k.id = ?1", err);
	size_t n = 0;
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	int rc = ledger__collect_keys(l, st, out, &n, "reading a key", err);
	if (rc == 0 && n == 0)
		return tdm_err_fail(err, TDM_ENOENT, "key %s: not in the ledger", key_id);
	return rc;
}

int ledger__collect_keys(struct ledger *l, sqlite3_stmt *st, struct ledger_key **out, size_t *n,
			 const char *what, struct tdm_err *err)
{
	struct ledger_key *v = NULL;
	size_t cnt = 0, cap = 0;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 8;
			v = tdm_realloc(v, cap * sizeof *v);
		}
		struct ledger_key *k = &v[cnt++];
		ledger__read_key(st, 0, k);
		ledger__read_states(st, LEDGER__KEY_NCOLS, k->rec);
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE) {
		ledger_key_list_free(v, cnt);
		return ledger__db_fail(l->db, err, what);
	}
	*out = v;
	*n = cnt;
	return 0;
}

void ledger_key_list_free(struct ledger_key *keys, size_t n)
{
	for (size_t i = 0; keys && i < n; i++) {
		free(keys[i].key_id);
		free(keys[i].scope_name);
		free(keys[i].repository);
		free(keys[i].public_rdata);
		free(keys[i].cka_id);
		free(keys[i].wrapped_private);
	}
	free(keys);
}

int ledger_signatures_for_zone(struct ledger *l, const char *zone, ledger_sig_cb cb, void *ctx,
			       struct tdm_err *err)
{
	/* Not cached: a callback may run other queries on the ledger meanwhile. */
	sqlite3_stmt *st = NULL;
	int s, rc = 0;
	if (sqlite3_prepare_v2(l->db, "SELECT owner, type, key_tag, rdata, input_serial FROM signatures "
			       "WHERE zone = ?1 ORDER BY owner, type, key_tag", -1, &st, NULL) != SQLITE_OK)
		return ledger__db_fail(l->db, err, "listing signatures");
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		struct ledger_sig sig;
		sig.owner.data = sqlite3_column_blob(st, 0);
		sig.owner.len = (size_t)sqlite3_column_bytes(st, 0);
		sig.type_covered = (uint16_t)sqlite3_column_int(st, 1);
		sig.key_tag = (uint16_t)sqlite3_column_int(st, 2);
		sig.rdata.data = sqlite3_column_blob(st, 3);
		sig.rdata.len = (size_t)sqlite3_column_bytes(st, 3);
		if ((rc = cb(ctx, &sig, (uint32_t)sqlite3_column_int64(st, 4))) != 0)
			break;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = ledger__db_fail(l->db, err, "listing signatures");
	sqlite3_finalize(st);
	return rc;
}

int ledger_signature_count(struct ledger *l, const char *zone, uint64_t *count, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT count(*) FROM signatures WHERE ?1 IS NULL OR zone = ?1",
				       err);
	if (st == NULL)
		return TDM_EDB;
	if (zone)
		sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	*count = s == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (s != SQLITE_ROW)
		return ledger__db_fail(l->db, err, "counting signatures");
	return 0;
}

int ledger_sig_batch_last(struct ledger *l, const char *zone, uint32_t input_serial, uint32_t *batch,
			  struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT coalesce(max(batch), 0) FROM sig_batches "
				       "WHERE zone = ?1 AND input_serial = ?2", err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, input_serial);
	int s = sqlite3_step(st);
	*batch = s == SQLITE_ROW ? (uint32_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (s != SQLITE_ROW)
		return ledger__db_fail(l->db, err, "reading batch records");
	return 0;
}

int ledger_zone_input(struct ledger *l, const char *zone, ledger_input_cb cb, void *ctx,
		      struct tdm_err *err)
{
	sqlite3_stmt *st = NULL;
	int s, rc = 0;
	int e = ledger__exists(l, "SELECT 1 FROM zones WHERE name = ?1", ledger_str(zone), err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return tdm_err_fail(err, TDM_ENOENT, "zone %s: no such zone", zone);
	if (sqlite3_prepare_v2(l->db, "SELECT kind, base_serial, serial, time, content FROM zone_inputs "
			       "WHERE zone = ?1 ORDER BY pos", -1, &st, NULL) != SQLITE_OK)
		return ledger__db_fail(l->db, err, "reading the input");
	sqlite3_bind_text(st, 1, zone, -1, SQLITE_STATIC);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		rc = cb(ctx, (uint8_t)sqlite3_column_int(st, 0), (uint32_t)sqlite3_column_int64(st, 1),
			(uint32_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3),
			sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4));
		if (rc)
			break;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = ledger__db_fail(l->db, err, "reading the input");
	sqlite3_finalize(st);
	return rc;
}

int ledger_policy_get(struct ledger *l, const char *name, uint8_t **blob, size_t *len,
		      struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT blob FROM policies WHERE name = ?1", err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	int rc = 0;
	if (s == SQLITE_ROW)
		*blob = col_blob(st, 0, len);
	else if (s == SQLITE_DONE)
		rc = tdm_err_fail(err, TDM_ENOENT, "policy %s: no such policy", name);
	else
		rc = ledger__db_fail(l->db, err, "reading the policy");
	sqlite3_reset(st);
	return rc;
}

int ledger_node_list(struct ledger *l, struct ledger_node **out, size_t *n, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT id, address, witness, transport_pubkey, wrapped_kek "
				       "FROM nodes ORDER BY id", err);
	struct ledger_node *v = NULL;
	size_t cnt = 0, cap = 0;
	int s;
	if (st == NULL)
		return TDM_EDB;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 4;
			v = tdm_realloc(v, cap * sizeof *v);
		}
		struct ledger_node *d = &v[cnt++];
		d->node_id = (uint64_t)sqlite3_column_int64(st, 0);
		d->address = col_str(st, 1);
		d->witness = sqlite3_column_int(st, 2) != 0;
		d->transport_pubkey = col_blob(st, 3, &d->transport_pubkey_len);
		d->wrapped_kek = col_blob(st, 4, &d->wrapped_kek_len);
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE) {
		ledger_node_list_free(v, cnt);
		return ledger__db_fail(l->db, err, "listing nodes");
	}
	*out = v;
	*n = cnt;
	return 0;
}

void ledger_node_list_free(struct ledger_node *nodes, size_t n)
{
	for (size_t i = 0; nodes && i < n; i++) {
		free(nodes[i].address);
		free(nodes[i].transport_pubkey);
		free(nodes[i].wrapped_kek);
	}
	free(nodes);
}
