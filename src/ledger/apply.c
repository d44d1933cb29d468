/*
 * The deterministic apply: the only code that writes state.db.
 *
 * Contract (the raft wrapper calls this from libraft's FSM apply):
 *  - entries arrive in Raft log order with their index; an entry whose
 *    index is at or below the stored applied index is skipped, so a replay
 *    after a restart applies each entry exactly once;
 *  - one SQLite transaction holds the changes of an entry (or of a batch)
 *    and the new applied index;
 *  - a command id (origin, seq) at or below the origin's highest applied
 *    sequence is skipped as a duplicate (a retry after LEADERSHIPLOST);
 *  - an entry that does not decode, or breaks a rule, changes nothing but
 *    the applied index and yields a status: libraft retries a failing apply
 *    forever, so apply fails only for I/O, never for what an entry says;
 *  - an entry of a newer format version, or CLUSTER_VERSION above what this
 *    build supports, returns TDM_EVERSION without applying: continuing
 *    would make this node diverge, so it must stop and be upgraded.
 *
 * Each entry runs inside a savepoint, so a rule broken half-way through a
 * command rolls back to the state before the command.
 */
#include "ledger/ledger_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
	[LEDGER_OK] = "OK",
	[LEDGER_SKIPPED] = "SKIPPED",
	[LEDGER_DUPLICATE] = "DUPLICATE",
	[LEDGER_MALFORMED] = "MALFORMED",
	[LEDGER_NOT_FOUND] = "NOT_FOUND",
	[LEDGER_EXISTS] = "EXISTS",
	[LEDGER_IN_USE] = "IN_USE",
	[LEDGER_INVALID] = "INVALID",
	[LEDGER_STALE] = "STALE",
	[LEDGER_CONFLICT] = "CONFLICT",
};

const char *ledger_status_name(enum ledger_status s)
{
	if ((unsigned)s < sizeof status_names / sizeof status_names[0])
		return status_names[s];
	return "UNKNOWN";
}

int ledger__reject(struct ledger__ctx *c, enum ledger_status st, const char *fmt, ...)
{
	va_list ap;
	c->res->status = st;
	va_start(ap, fmt);
	vsnprintf(c->res->msg, sizeof c->res->msg, fmt, ap);
	va_end(ap);
	return 0;
}

static int dispatch(struct ledger__ctx *c, const struct ledger_cmd *m)
{
	switch (m->type) {
	case LEDGER_CMD_POLICY_PUT:
	case LEDGER_CMD_POLICY_DEL:
		return ledger__apply_policy(c, m);
	case LEDGER_CMD_ZONE_ADD:
	case LEDGER_CMD_ZONE_DEL:
	case LEDGER_CMD_ZONE_SET:
		return ledger__apply_zone(c, m);
	case LEDGER_CMD_KEY_CREATE:
	case LEDGER_CMD_KEY_STATE:
	case LEDGER_CMD_KEY_DEL:
		return ledger__apply_key(c, m);
	case LEDGER_CMD_ZONE_INPUT:
		return ledger__apply_input(c, m);
	case LEDGER_CMD_SIG_BATCH:
		return ledger__apply_sig_batch(c, m);
	case LEDGER_CMD_ZONE_PUBLISH:
		return ledger__apply_publish(c, m);
	case LEDGER_CMD_ZONE_BATCH:
		return ledger__apply_zone_batch(c, m);
	case LEDGER_CMD_ENFORCE:
		return ledger__apply_enforce(c, m);
	case LEDGER_CMD_BACKUP:
		return ledger__apply_backup(c, m);
	default:
		return ledger__apply_cluster(c, m);
	}
}

static void copy_msg(struct ledger_result *res, const char *msg)
{
	size_t n = strnlen(msg, sizeof res->msg - 1);
	memcpy(res->msg, msg, n);
	res->msg[n] = '\0';
}

/* A SQLite error that the entry's content causes, the same on every node. */
static bool is_deterministic(int xrc)
{
	switch (xrc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return true;
	default:
		return false;
	}
}

/*
 * Apply one entry inside the open transaction.  @return 0 (res filled) or a
 * negative code after which the whole transaction must be rolled back.
 */
static int apply_one(struct ledger *l, uint64_t index, const struct ledger_entry *e,
		     struct ledger_result *res, struct tdm_err *err)
{
	struct ledger_cmd m;
	struct tdm_err derr;
	int rc;

	memset(res, 0, sizeof *res);
	res->index = index;
	res->type = LEDGER_CMD__COUNT;
	if (index <= l->applied) {
		res->status = LEDGER_SKIPPED;
		snprintf(res->msg, sizeof res->msg, "index %" PRIu64 " already applied (at %" PRIu64 ")",
			 index, l->applied);
		ledger_cmd_peek(e->buf, e->len, &res->type, &res->id, NULL);
		return 0;
	}

	tdm_err_clear(&derr);
	rc = ledger_cmd_decode(e->buf, e->len, &m, &derr);
	if (rc == TDM_EVERSION) {
		ledger_cmd_clear(&m);
		return tdm_err_fail(err, TDM_EVERSION, "entry %" PRIu64 ": %s; upgrade this node",
				    index, derr.msg);
	}
	if (rc) {
		res->status = LEDGER_MALFORMED;
		copy_msg(res, derr.msg);
		ledger_cmd_peek(e->buf, e->len, &res->type, &res->id, NULL);
		ledger_cmd_clear(&m);
		goto index_only;
	}
	res->type = m.type;
	res->id = m.id;

	bool seen = false;
	if ((rc = ledger__dedupe_seen(l, &m.id, &seen, err)) != 0)
		goto out;
	if (seen) {
		res->status = LEDGER_DUPLICATE;
		snprintf(res->msg, sizeof res->msg, "command %" PRIu64 "/%" PRIu64 " already applied",
			 m.id.origin, m.id.seq);
		ledger_cmd_clear(&m);
		goto index_only;
	}

	if ((rc = ledger__exec(l, "SAVEPOINT entry", err)) != 0)
		goto out;
	struct ledger__ctx c = { .l = l, .res = res, .err = err };
	uint64_t enforce_time0 = l->enforce_time;
	res->status = LEDGER_OK;
	rc = dispatch(&c, &m);
	if (rc == TDM_EDB && is_deterministic(sqlite3_extended_errcode(l->db))) {
		/* A constraint the handlers did not foresee: still the entry's fault. */
		res->status = LEDGER_INVALID;
		copy_msg(res, err->msg);
		rc = 0;
	}
	if (rc == 0 && res->status == LEDGER_OK)
		rc = ledger__dedupe_record(l, &m.id, err);
	if (rc)
		goto out;
	if (res->status != LEDGER_OK) {
		l->enforce_time = enforce_time0; /* the cache follows the rollback */
		if ((rc = ledger__exec(l, "ROLLBACK TO entry", err)) != 0)
			goto out;
	}
	if ((rc = ledger__exec(l, "RELEASE entry", err)) != 0)
		goto out;
	ledger_cmd_clear(&m);
index_only:
	if ((rc = ledger__meta_set(l, "applied_index", (int64_t)index, err)) != 0)
		return rc;
	l->applied = index;
	return 0;
out:
	ledger_cmd_clear(&m);
	return rc;
}

int ledger_apply_batch(struct ledger *l, uint64_t first_index, size_t n,
		       const struct ledger_entry *entries, struct ledger_result *res,
		       struct tdm_err *err)
{
	uint64_t applied0 = l->applied;
	uint16_t cv0 = l->cluster_version;
	uint64_t et0 = l->enforce_time;
	struct tdm_err local;
	int rc;

	if (err == NULL)
		err = &local;
	tdm_err_clear(err);

	/* Everything already applied: no transaction at all. */
	if (n > 0 && first_index + n - 1 <= l->applied) {
		for (size_t i = 0; i < n; i++)
			apply_one(l, first_index + i, &entries[i], &res[i], err);
		return 0;
	}
	if ((rc = ledger__exec(l, "BEGIN IMMEDIATE", err)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = apply_one(l, first_index + i, &entries[i], &res[i], err)) != 0)
			goto rollback;
	}
	if ((rc = ledger__exec(l, "COMMIT", err)) != 0)
		goto rollback;
	return 0;
rollback:
	sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	l->applied = applied0;
	l->cluster_version = cv0;
	l->enforce_time = et0;
	if (rc != TDM_EVERSION)
		tdm_err_wrap(err, "ledger %s: applying entry %" PRIu64, l->path, first_index);
	return rc;
}

int ledger_apply(struct ledger *l, uint64_t index, const void *buf, size_t len,
		 struct ledger_result *res, struct tdm_err *err)
{
	struct ledger_entry e = { buf, len };
	return ledger_apply_batch(l, index, 1, &e, res, err);
}
