/*
 * Command deduplication: (origin, seq) -> skip if already applied.
 *
 * Each origin submits its commands in increasing sequence order and Raft
 * keeps that order, so one number per origin (the highest applied sequence)
 * is enough: anything at or below it was applied already or is a stale
 * retry, and is skipped.  Sequences start at 1; origin 0 is never
 * deduplicated (tools and tests).  Rejected commands do not advance the
 * sequence: they change nothing but the applied index.
 */
#include "ledger/ledger_int.h"

int ledger__dedupe_seen(struct ledger *l, const struct ledger_cmd_id *id, bool *seen,
			struct tdm_err *err)
{
	uint64_t last;
	*seen = false;
	if (id->origin == 0)
		return 0;
	int rc = ledger_origin_last_seq(l, id->origin, &last, err);
	if (rc)
		return rc;
	*seen = id->seq <= last;
	return 0;
}

int ledger__dedupe_record(struct ledger *l, const struct ledger_cmd_id *id, struct tdm_err *err)
{
	if (id->origin == 0)
		return 0;
	sqlite3_stmt *st = ledger__stmt(l, "INSERT INTO dedupe (origin, seq) VALUES (?1, ?2) "
				       "ON CONFLICT (origin) DO UPDATE SET seq = excluded.seq", err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)id->origin);
	sqlite3_bind_int64(st, 2, (int64_t)id->seq);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ledger__db_fail(l->db, err, "recording the command id");
	return 0;
}

int ledger_origin_last_seq(struct ledger *l, uint64_t origin, uint64_t *seq, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT seq FROM dedupe WHERE origin = ?1", err);
	if (st == NULL)
		return TDM_EDB;
	sqlite3_bind_int64(st, 1, (int64_t)origin);
	int s = sqlite3_step(st);
	*seq = s == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return ledger__db_fail(l->db, err, "reading the command ids");
	return 0;
}
