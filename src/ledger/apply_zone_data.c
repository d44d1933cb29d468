/*
 * Apply of the zone data commands: ZONE_INPUT, SIG_BATCH, ZONE_PUBLISH.
 *
 * ZONE_INPUT: an input of N chunks is staged chunk by chunk (chunk 0 drops
 * whatever was staged for the zone; chunk i>0 must follow chunk i-1 of the
 * same serial, kind and count) and becomes current when the last chunk is
 * applied: a FULL input replaces the zone's input, a DIFF is appended after
 * it and must start from the current serial.  The zone's input serial moves
 * to the new serial and batch records of other serials are dropped.
 *
 * SIG_BATCH: the zone's current input serial must be the batch's (else
 * STALE); a batch number is used once per serial; each signature replaces
 * the one with the same (owner, type covered, key tag), and empty RDATA
 * deletes it.
 *
 * ZONE_PUBLISH: serials move forward in RFC 1982 arithmetic; republishing
 * the last serial with the same SHA-256 is accepted and changes nothing,
 * with another SHA-256 it is a CONFLICT.
 */
#include "ledger/ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P(b) (int)(b).len, (const char *)(b).data

/* The zone's input serial: 1 found (has_input set), 0 no zone, -1 error. */
static int zone_serial(struct ledger *l, struct ledger_bytes zone, bool *has_input,
		       uint32_t *serial, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "SELECT input_serial FROM zones WHERE name = ?1", err);
	if (st == NULL)
		return -1;
	ledger__bind_text(st, 1, zone);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		*has_input = sqlite3_column_type(st, 0) != SQLITE_NULL;
		*serial = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (s == SQLITE_ROW)
		return 1;
	if (s == SQLITE_DONE)
		return 0;
	ledger__db_fail(l->db, err, "reading the zone");
	return -1;
}

/*- private: ZONE_INPUT -*/

/* Make @p content the zone's current input (FULL) or append it (DIFF). */
static int input_commit(struct ledger__ctx *c, const struct ledger_cmd *m,
			const uint8_t *content, size_t len)
{
	struct ledger *l = c->l;
	const typeof(m->zone_input) *in = &m->zone_input;
	bool has_input;
	uint32_t cur;
	int rc;

	if (zone_serial(l, in->zone, &has_input, &cur, c->err) < 0)
		return TDM_EDB;
	if (in->kind == LEDGER_INPUT_DIFF && (!has_input || cur != in->base_serial))
		return ledger__reject(c, LEDGER_STALE, "zone %.*s: diff from serial %u, current input is %s%u",
				      P(in->zone), in->base_serial, has_input ? "" : "none ", has_input ? cur : 0);
	sqlite3_stmt *st;
	if (in->kind == LEDGER_INPUT_FULL) {
		st = ledger__stmt(l, "DELETE FROM zone_inputs WHERE zone = ?1", c->err);
		if (st == NULL)
			return TDM_EDB;
		ledger__bind_text(st, 1, in->zone);
		if ((rc = ledger__step(l, st, "replacing the input", c->err)) != 0)
			return rc;
	}
	st = ledger__stmt(l, "INSERT INTO zone_inputs (zone, pos, kind, base_serial, serial, time, content) "
			  "SELECT ?1, coalesce(max(pos) + 1, 0), ?2, ?3, ?4, ?5, ?6 "
			  "FROM zone_inputs WHERE zone = ?1", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, in->zone);
	sqlite3_bind_int(st, 2, in->kind);
	sqlite3_bind_int64(st, 3, in->kind == LEDGER_INPUT_DIFF ? in->base_serial : 0);
	sqlite3_bind_int64(st, 4, in->serial);
	sqlite3_bind_int64(st, 5, (int64_t)in->time);
	sqlite3_bind_blob64(st, 6, len ? (const void *)content : "", len, SQLITE_STATIC);
	if ((rc = ledger__step(l, st, "storing the input", c->err)) != 0)
		return rc;
	st = ledger__stmt(l, "UPDATE zones SET input_serial = ?2 WHERE name = ?1", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, in->zone);
	sqlite3_bind_int64(st, 2, in->serial);
	if ((rc = ledger__step(l, st, "storing the input serial", c->err)) != 0)
		return rc;
	st = ledger__stmt(l, "DELETE FROM sig_batches WHERE zone = ?1 AND input_serial <> ?2", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, in->zone);
	sqlite3_bind_int64(st, 2, in->serial);
	return ledger__step(l, st, "dropping old batch records", c->err);
}

static int chunks_drop(struct ledger *l, struct ledger_bytes zone, struct tdm_err *err)
{
	sqlite3_stmt *st = ledger__stmt(l, "DELETE FROM zone_input_chunks WHERE zone = ?1", err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, zone);
	return ledger__step(l, st, "dropping staged chunks", err);
}

/* Check that chunk @p in->chunk_index follows what is staged for the zone. */
static int chunk_follows(struct ledger__ctx *c, const struct ledger_cmd *m, bool *ok)
{
	struct ledger *l = c->l;
	const typeof(m->zone_input) *in = &m->zone_input;
	sqlite3_stmt *st = ledger__stmt(l, "SELECT idx, count, kind, base_serial, serial "
				       "FROM zone_input_chunks WHERE zone = ?1 ORDER BY idx DESC LIMIT 1",
				       c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, in->zone);
	int s = sqlite3_step(st);
	*ok = false;
	if (s == SQLITE_ROW) {
		*ok = (uint32_t)sqlite3_column_int64(st, 0) + 1 == in->chunk_index &&
		      (uint32_t)sqlite3_column_int64(st, 1) == in->chunk_count &&
		      sqlite3_column_int(st, 2) == in->kind &&
		      (uint32_t)sqlite3_column_int64(st, 3) == (in->kind ? in->base_serial : 0) &&
		      (uint32_t)sqlite3_column_int64(st, 4) == in->serial;
	}
	sqlite3_reset(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return ledger__db_fail(l->db, c->err, "reading staged chunks");
	return 0;
}

/* Concatenate the staged chunks and the last one into the full content. */
static int chunks_assemble(struct ledger__ctx *c, const struct ledger_cmd *m, uint8_t **out,
			   size_t *len)
{
	struct ledger *l = c->l;
	sqlite3_stmt *st = ledger__stmt(l, "SELECT content FROM zone_input_chunks WHERE zone = ?1 "
				       "ORDER BY idx", c->err);
	size_t cap = m->zone_input.content.len, n = 0;
	uint8_t *buf;
	int s;
	if (st == NULL)
		return TDM_EDB;
	sqlite3_stmt *sz = ledger__stmt(l, "SELECT coalesce(sum(length(content)), 0) "
				       "FROM zone_input_chunks WHERE zone = ?1", c->err);
	if (sz == NULL)
		return TDM_EDB;
	ledger__bind_text(sz, 1, m->zone_input.zone);
	s = sqlite3_step(sz);
	if (s == SQLITE_ROW)
		cap += (size_t)sqlite3_column_int64(sz, 0);
	sqlite3_reset(sz);
	if (s != SQLITE_ROW)
		return ledger__db_fail(l->db, c->err, "sizing staged chunks");
	ledger__bind_text(st, 1, m->zone_input.zone);
	buf = tdm_malloc(cap ? cap : 1);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		size_t k = (size_t)sqlite3_column_bytes(st, 0);
		if (k > cap - n)
			break;
		if (k)
			memcpy(buf + n, sqlite3_column_blob(st, 0), k);
		n += k;
	}
	sqlite3_reset(st);
	if (s != SQLITE_DONE) {
		free(buf);
		return ledger__db_fail(l->db, c->err, "reading staged chunks");
	}
	if (m->zone_input.content.len)
		memcpy(buf + n, m->zone_input.content.data, m->zone_input.content.len);
	n += m->zone_input.content.len;
	*out = buf;
	*len = n;
	return 0;
}

int ledger__apply_input(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	const typeof(m->zone_input) *in = &m->zone_input;
	bool has_input;
	uint32_t cur;
	int rc;

	int e = zone_serial(l, in->zone, &has_input, &cur, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return ledger__reject(c, LEDGER_NOT_FOUND, "zone %.*s: no such zone", P(in->zone));
	if (in->kind != LEDGER_INPUT_FULL && in->kind != LEDGER_INPUT_DIFF)
		return ledger__reject(c, LEDGER_INVALID, "zone %.*s: input kind %u is neither full (0) nor diff (1)",
				      P(in->zone), in->kind);
	if (in->chunk_count == 0 || in->chunk_index >= in->chunk_count)
		return ledger__reject(c, LEDGER_INVALID, "zone %.*s: chunk %u of %u", P(in->zone),
				      in->chunk_index, in->chunk_count);
	/* A staged input never grows past 4096 chunks (4 GiB). */
	if (in->chunk_count > 4096)
		return ledger__reject(c, LEDGER_INVALID, "zone %.*s: %u chunks, at most 4096", P(in->zone),
				      in->chunk_count);

	if (in->chunk_index == 0) {
		if ((rc = chunks_drop(l, in->zone, c->err)) != 0)
			return rc;
		if (in->chunk_count == 1)
			return input_commit(c, m, in->content.data, in->content.len);
	} else {
		bool ok;
		if ((rc = chunk_follows(c, m, &ok)) != 0)
			return rc;
		if (!ok)
			return ledger__reject(c, LEDGER_STALE,
					      "zone %.*s: input serial %u chunk %u of %u does not follow the staged chunks",
					      P(in->zone), in->serial, in->chunk_index, in->chunk_count);
	}
	if (in->chunk_index + 1 < in->chunk_count) {
		sqlite3_stmt *st = ledger__stmt(l, "INSERT INTO zone_input_chunks (zone, idx, count, kind, "
					       "base_serial, serial, time, content) "
					       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", c->err);
		if (st == NULL)
			return TDM_EDB;
		ledger__bind_text(st, 1, in->zone);
		sqlite3_bind_int64(st, 2, in->chunk_index);
		sqlite3_bind_int64(st, 3, in->chunk_count);
		sqlite3_bind_int(st, 4, in->kind);
		sqlite3_bind_int64(st, 5, in->kind ? in->base_serial : 0);
		sqlite3_bind_int64(st, 6, in->serial);
		sqlite3_bind_int64(st, 7, (int64_t)in->time);
		ledger__bind_blob(st, 8, in->content);
		return ledger__step(l, st, "staging the chunk", c->err);
	}

	/* The last chunk: assemble, commit, drop the staging. */
	uint8_t *content = NULL;
	size_t len = 0;
	if ((rc = chunks_assemble(c, m, &content, &len)) != 0)
		return rc;
	rc = input_commit(c, m, content, len);
	free(content);
	if (rc == 0 && c->res->status == LEDGER_OK)
		rc = chunks_drop(l, in->zone, c->err);
	return rc;
}

/*- private: SIG_BATCH -*/

int ledger__apply_sig_batch(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	const typeof(m->sig_batch) *b = &m->sig_batch;
	bool has_input;
	uint32_t cur;
	int rc;

	int e = zone_serial(l, b->zone, &has_input, &cur, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return ledger__reject(c, LEDGER_NOT_FOUND, "zone %.*s: no such zone", P(b->zone));
	if (!has_input || cur != b->input_serial)
		return ledger__reject(c, LEDGER_STALE, "zone %.*s: batch %u for input serial %u, current is %s%u",
				      P(b->zone), b->batch, b->input_serial, has_input ? "" : "none ",
				      has_input ? cur : 0);
	if (b->batch == 0)
		return ledger__reject(c, LEDGER_INVALID, "zone %.*s: batch number 0", P(b->zone));

	sqlite3_stmt *st = ledger__stmt(l, "SELECT 1 FROM sig_batches WHERE zone = ?1 AND "
				       "input_serial = ?2 AND batch = ?3", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, b->zone);
	sqlite3_bind_int64(st, 2, b->input_serial);
	sqlite3_bind_int64(st, 3, b->batch);
	int s = sqlite3_step(st);
	sqlite3_reset(st);
	if (s == SQLITE_ROW)
		return ledger__reject(c, LEDGER_EXISTS, "zone %.*s: batch %u of serial %u already committed",
				      P(b->zone), b->batch, b->input_serial);
	if (s != SQLITE_DONE)
		return ledger__db_fail(l->db, c->err, "reading batch records");

	sqlite3_stmt *put = ledger__stmt(l, "INSERT INTO signatures (zone, owner, type, key_tag, "
					"input_serial, rdata) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
					"ON CONFLICT (zone, owner, type, key_tag) DO UPDATE SET "
					"input_serial = excluded.input_serial, rdata = excluded.rdata",
					c->err);
	if (put == NULL)
		return TDM_EDB;
	sqlite3_stmt *del = ledger__stmt(l, "DELETE FROM signatures WHERE zone = ?1 AND owner = ?2 "
					"AND type = ?3 AND key_tag = ?4", c->err);
	if (del == NULL)
		return TDM_EDB;
	/* The zone binding stays across rows: sqlite3_reset keeps bindings. */
	ledger__bind_text(put, 1, b->zone);
	sqlite3_bind_int64(put, 5, b->input_serial);
	ledger__bind_text(del, 1, b->zone);
	for (uint32_t i = 0; i < b->nsigs; i++) {
		const struct ledger_sig *sig = &b->sigs[i];
		if (sig->owner.len == 0)
			return ledger__reject(c, LEDGER_INVALID, "zone %.*s: batch %u: signature %u has no owner",
					      P(b->zone), b->batch, i);
		sqlite3_stmt *q = sig->rdata.len ? put : del;
		ledger__bind_blob(q, 2, sig->owner);
		sqlite3_bind_int(q, 3, sig->type_covered);
		sqlite3_bind_int(q, 4, sig->key_tag);
		if (sig->rdata.len)
			ledger__bind_blob(q, 6, sig->rdata);
		if ((rc = ledger__step(l, q, "storing a signature", c->err)) != 0)
			return rc;
	}
	st = ledger__stmt(l, "INSERT INTO sig_batches (zone, input_serial, batch, nsigs) "
			  "VALUES (?1, ?2, ?3, ?4)", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, b->zone);
	sqlite3_bind_int64(st, 2, b->input_serial);
	sqlite3_bind_int64(st, 3, b->batch);
	sqlite3_bind_int64(st, 4, b->nsigs);
	return ledger__step(l, st, "recording the batch", c->err);
}

/*- private: ZONE_PUBLISH -*/

int ledger__apply_publish(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	struct ledger *l = c->l;
	const typeof(m->publish) *p = &m->publish;
	bool has_input;
	uint32_t cur;

	int e = zone_serial(l, p->zone, &has_input, &cur, c->err);
	if (e < 0)
		return TDM_EDB;
	if (e == 0)
		return ledger__reject(c, LEDGER_NOT_FOUND, "zone %.*s: no such zone", P(p->zone));

	sqlite3_stmt *st = ledger__stmt(l, "SELECT pos, serial, sha256 FROM publications WHERE zone = ?1 "
				       "ORDER BY pos DESC LIMIT 1", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, p->zone);
	int s = sqlite3_step(st);
	int64_t pos = 0;
	if (s == SQLITE_ROW) {
		uint32_t last = (uint32_t)sqlite3_column_int64(st, 1);
		bool same = sqlite3_column_bytes(st, 2) == 32 &&
			    memcmp(sqlite3_column_blob(st, 2), p->sha256, 32) == 0;
		pos = sqlite3_column_int64(st, 0) + 1;
		sqlite3_reset(st);
		if (last == p->serial) {
			if (same) {
				snprintf(c->res->msg, sizeof c->res->msg,
					 "zone %.*s: serial %u already published", P(p->zone), p->serial);
				return 0;
			}
			return ledger__reject(c, LEDGER_CONFLICT,
					      "zone %.*s: serial %u already published with other content",
					      P(p->zone), p->serial);
		}
		/* RFC 1982 §3.2: s1 < s2 iff the difference is in (0, 2^31). */
		uint32_t d = p->serial - last;
		if (d == 0 || d >= 0x80000000u)
			return ledger__reject(c, LEDGER_STALE, "zone %.*s: serial %u is not newer than published %u",
					      P(p->zone), p->serial, last);
	} else {
		sqlite3_reset(st);
		if (s != SQLITE_DONE)
			return ledger__db_fail(l->db, c->err, "reading publications");
	}
	st = ledger__stmt(l, "INSERT INTO publications (zone, pos, serial, sha256, time) "
			  "VALUES (?1, ?2, ?3, ?4, ?5)", c->err);
	if (st == NULL)
		return TDM_EDB;
	ledger__bind_text(st, 1, p->zone);
	sqlite3_bind_int64(st, 2, pos);
	sqlite3_bind_int64(st, 3, p->serial);
	sqlite3_bind_blob(st, 4, p->sha256, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)p->time);
	return ledger__step(l, st, "recording the publication", c->err);
}
