/*
 * The node: state.db (the ledger) as the cluster's state machine, the
 * cluster started over it, the leadership events, and the status the
 * daemon publishes.
 *
 * The FSM callbacks translate one-for-one to the ledger: apply ->
 * ledger_apply (its result, a struct ledger_result, travels to the
 * submitter), snapshot -> ledger_snapshot, restore -> ledger_restore,
 * applied_index -> ledger_applied_index.  An SQLite or I/O failure makes
 * apply return non-zero, and libraft applies the same entry again later;
 * an entry that needs a newer build (TDM_EVERSION) stops the node.
 */
#include "config.h"

#include "daemon/daemon_int.h"
#include "daemon/enforce.h"
#include "daemon/custody.h"
#include "daemon/peer_client.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*- private: the FSM -------------------------------------------------------*/

/* The cluster learns which nodes are witnesses from NODE_ADD (docs/cluster.md). */
static void learn_witness(struct daemon *d, const void *buf, size_t len)
{
	struct ledger_cmd cmd;
	struct tdm_err err = { "" };
	if (ledger_cmd_decode(buf, len, &cmd, &err) == 0 && cmd.node.witness)
		cluster_set_witness(d->cluster, cmd.node.node_id, true);
	ledger_cmd_clear(&cmd);
}

/* At start: every witness in the node table (entries replayed before the
 * cluster existed did not reach learn_witness()). */
static void learn_witnesses(struct daemon *d)
{
	struct ledger_node *nodes = NULL;
	struct tdm_err err = { "" };
	size_t n = 0;
	if (ledger_node_list(d->ledger, &nodes, &n, &err) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (nodes[i].witness)
			cluster_set_witness(d->cluster, nodes[i].node_id, true);
	ledger_node_list_free(nodes, n);
}

static int fsm_apply(void *ctx, uint64_t index, const void *buf, size_t len, void **result)
{
	struct daemon *d = ctx;
	struct ledger_result *res = tdm_malloc(sizeof *res);
	struct tdm_err err = { "" };
	int rc = ledger_apply(d->ledger, index, buf, len, res, &err);
	if (rc == TDM_EVERSION) {
		tdm_log_err("node %llu: entry %llu: %s; stopping",
			    (unsigned long long)d->cfg->node_id, (unsigned long long)index, err.msg);
		free(res);
		d->exit_code = 1;
		daemon__stop(d);
		return rc;
	}
	if (rc != 0) {
		tdm_log_err("node %llu: entry %llu: %s (will apply it again)",
			    (unsigned long long)d->cfg->node_id, (unsigned long long)index, err.msg);
		free(res);
		return rc;
	}
	if (res->status != LEDGER_OK && res->status != LEDGER_SKIPPED &&
	    res->status != LEDGER_DUPLICATE)
		tdm_log_info("node %llu: entry %llu (%s %llu:%llu) refused: %s: %s",
			     (unsigned long long)d->cfg->node_id, (unsigned long long)index,
			     ledger_cmd_type_name(res->type), (unsigned long long)res->id.origin,
			     (unsigned long long)res->id.seq, ledger_status_name(res->status), res->msg);
	custody_on_apply(d->custody, res, buf, len);
	if (d->enforce != NULL)
		enforce_on_apply(d->enforce, res);
	if (res->status == LEDGER_OK && res->type == LEDGER_CMD_NODE_ADD && d->cluster != NULL)
		learn_witness(d, buf, len);
	*result = res;
	return 0;
}

static void fsm_result_free(void *ctx, void *result)
{
	(void)ctx;
	free(result);
}

static int fsm_snapshot(void *ctx, void *(*alloc)(size_t), void **buf, size_t *len)
{
	struct daemon *d = ctx;
	struct tdm_err err = { "" };
	int rc = ledger_snapshot(d->ledger, alloc, buf, len, &err);
	if (rc != 0) {
		tdm_log_err("node %llu: snapshot failed: %s", (unsigned long long)d->cfg->node_id,
			    err.msg);
		return rc;
	}
	d->snapshot_ms = uv_now(&d->loop);
	tdm_log_info("node %llu: snapshot at index %llu (%zu bytes)",
		     (unsigned long long)d->cfg->node_id,
		     (unsigned long long)ledger_applied_index(d->ledger), *len);
	return 0;
}

/* The two-step snapshot (cluster.h): begin and end on the loop thread,
 * write on libraft's threadpool, where it must not touch the daemon. */
struct snap_job {
	struct daemon *d;
	struct ledger_snapshot_job *job;
	uint64_t index;
};

static int fsm_snapshot_begin(void *ctx, void **out)
{
	struct daemon *d = ctx;
	struct tdm_err err = { "" };
	struct snap_job *j = tdm_calloc(1, sizeof *j);
	int rc = ledger_snapshot_begin(d->ledger, &j->job, &err);
	if (rc != 0) {
		tdm_log_err("node %llu: snapshot failed: %s", (unsigned long long)d->cfg->node_id,
			    err.msg);
		free(j);
		return rc;
	}
	j->d = d;
	j->index = ledger_applied_index(d->ledger);
	*out = j;
	return 0;
}

static int fsm_snapshot_write(void *job, void *(*alloc)(size_t), void **buf, size_t *len)
{
	struct snap_job *j = job;
	struct tdm_err err = { "" };
	int rc = ledger_snapshot_write(j->job, alloc, buf, len, &err);
	if (rc != 0)
		tdm_log_err("snapshot at index %llu failed: %s", (unsigned long long)j->index, err.msg);
	return rc;
}

static void fsm_snapshot_end(void *job)
{
	struct snap_job *j = job;
	j->d->snapshot_ms = uv_now(&j->d->loop);
	ledger_snapshot_end(j->job);
	free(j);
}

static int fsm_restore(void *ctx, uint64_t index, const void *buf, size_t len)
{
	struct daemon *d = ctx;
	struct tdm_err err = { "" };
	int rc = ledger_restore(d->ledger, buf, len, &err);
	if (rc != 0) {
		tdm_log_err("node %llu: restoring the snapshot of index %llu failed: %s",
			    (unsigned long long)d->cfg->node_id, (unsigned long long)index, err.msg);
		return rc;
	}
	d->snapshot_ms = uv_now(&d->loop);
	tdm_log_notice("node %llu: state.db replaced by the snapshot of index %llu (%zu bytes)",
		       (unsigned long long)d->cfg->node_id, (unsigned long long)index, len);
	custody_on_restore(d->custody);
	return 0;
}

static uint64_t fsm_applied_index(void *ctx)
{
	struct daemon *d = ctx;
	return ledger_applied_index(d->ledger);
}

/*- private: leadership ------------------------------------------------------*/

static void on_leader_ready(struct cluster *c, void *data, uint64_t term)
{
	struct daemon *d = data;
	(void)c;
	tdm_log_notice("node %llu: leader of term %llu, ready for writes",
		       (unsigned long long)d->cfg->node_id, (unsigned long long)term);
	writer_leader_ready(d->writer);
	custody_on_leader(d->custody);
	if (d->enforce != NULL)
		enforce_on_leader(d->enforce);
	daemon__status_publish(d);
}

static void on_leader_lost(struct cluster *c, void *data)
{
	struct daemon *d = data;
	(void)c;
	tdm_log_notice("node %llu: no longer the leader", (unsigned long long)d->cfg->node_id);
	if (d->enforce != NULL)
		enforce_on_follower(d->enforce);
	daemon__status_publish(d);
}

/*
 * libraft 0.15 does not retry a failed apply: the node turns UNAVAILABLE for
 * good (the wrapper has already retried).  Stop with a failure exit so the
 * service manager restarts the process, which applies the entry again from
 * the log: state.db holds everything before it.
 */
static void on_fatal(struct cluster *c, void *data, const char *msg)
{
	struct daemon *d = data;
	(void)c;
	tdm_log_err("node %llu: ALARM: %s; stopping (exit 1) so that a restart applies it again",
		    (unsigned long long)d->cfg->node_id, msg);
	d->exit_code = 1;
	daemon__stop(d);
}

/*- start ----------------------------------------------------------------------*/

int daemon__node_start(struct daemon *d, struct tdm_err *err)
{
	static const struct cluster_fsm_ops ops = {
		.apply = fsm_apply,
		.result_free = fsm_result_free,
		.snapshot = fsm_snapshot,
		.snapshot_begin = fsm_snapshot_begin,
		.snapshot_write = fsm_snapshot_write,
		.snapshot_end = fsm_snapshot_end,
		.restore = fsm_restore,
		.applied_index = fsm_applied_index,
	};
	struct cluster_events events = {
		.data = d, .leader_ready = on_leader_ready, .leader_lost = on_leader_lost,
		.fatal = on_fatal,
	};
	struct cluster_peer peers[CLUSTER_MAX_NODES];
	struct cluster_config cc;
	int rc;

	rc = ledger_open(&d->ledger, d->cfg->state_db, err);
	if (rc != 0)
		return rc;
	tdm_log_info("node %llu: %s opened at applied index %llu",
		     (unsigned long long)d->cfg->node_id, d->cfg->state_db,
		     (unsigned long long)ledger_applied_index(d->ledger));
	rc = cluster_config_from_conf(&cc, peers, &d->conf->cluster);
	if (rc != 0)
		return tdm_err_fail(err, rc, "<Cluster>: too many peers (at most %d)",
				    CLUSTER_MAX_NODES);
	cc.join = d->opt->join;
	rc = cluster_new(&d->cluster, &d->loop, &cc, &ops, d, &events, err);
	if (rc != 0)
		return rc;
	learn_witnesses(d);
	custody_on_start(d->custody);
	d->peers = peer_client_new(&d->loop);
	d->writer = writer_new(&d->loop, d->cluster, d->ledger, d->peers, d->cfg);
	return 0;
}

/*- status ----------------------------------------------------------------------*/

static uint64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

void daemon__status_fill(struct daemon *d, struct daemon_status *st)
{
	uint64_t now = uv_now(&d->loop);
	char wal[4200];
	int64_t stale;

	memset(st, 0, sizeof *st);
	snprintf(st->version, sizeof st->version, "%s", PACKAGE_VERSION);
	st->uptime_s = (int64_t)((now - d->started_ms) / 1000);
	st->shutting_down = d->stopping;
	st->snapshot_age_s = d->snapshot_ms ? (int64_t)((now - d->snapshot_ms) / 1000) : -1;
	st->forwarded = d->forwarded;
	if (d->cluster == NULL)
		return;
	cluster_status_get(d->cluster, &st->cl);
	snprintf(wal, sizeof wal, "%s-wal", d->cfg->state_db);
	st->state_db_bytes = file_size(d->cfg->state_db) + file_size(wal);

	/* Apply rate: exponential average over samples at least 200 ms apart. */
	if (d->rate_ms == 0) {
		d->rate_ms = now;
		d->rate_applied = st->cl.last_applied;
	} else if (now - d->rate_ms >= 200) {
		double inst = (double)(st->cl.last_applied - d->rate_applied) * 1000.0 /
			      (double)(now - d->rate_ms);
		if (st->cl.last_applied < d->rate_applied)
			inst = 0; /* a snapshot restore moved the index: skip the sample */
		d->apply_rate = 0.7 * d->apply_rate + 0.3 * inst;
		d->rate_ms = now;
		d->rate_applied = st->cl.last_applied;
	}
	st->apply_rate = d->apply_rate;

	/* Reachable members, self included (leader: all it hears; follower: the leader). */
	stale = 2 * (int64_t)st->cl.election_timeout_ms;
	st->peers_total = (unsigned)st->cl.n_peers;
	st->peers_reachable = 0;
	for (size_t i = 0; i < st->cl.n_peers && i < CLUSTER_MAX_NODES; i++) {
		const struct cluster_peer_status *p = &st->cl.peers[i];
		if (p->id == st->cl.id)
			st->peers_reachable++;
		else if (st->cl.role == CLUSTER_LEADER)
			st->peers_reachable += p->last_contact_ms >= 0 && p->last_contact_ms <= stale;
		else if (p->id == st->cl.leader_id)
			st->peers_reachable += st->cl.leader_contact_ms >= 0 &&
					       st->cl.leader_contact_ms <= stale;
	}
	if (st->cl.role != CLUSTER_LEADER && st->peers_total > 0)
		st->peers_total = st->cl.leader_id && st->cl.leader_id != st->cl.id ? 2 : 1;
	if (d->writer != NULL)
		writer_counters(d->writer, &st->writes_ok, &st->writes_failed);
}

void daemon__status_publish(struct daemon *d)
{
	struct daemon_status st;
	daemon__status_fill(d, &st);
	daemon_status_box_put(&d->box, &st);
}
