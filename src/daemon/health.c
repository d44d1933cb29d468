/*
 * Health verdict, /health and /metrics rendering from a struct
 * daemon_status (see status.h), and the mutex-guarded published copy.
 */
#include "daemon/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *daemon_health_name(enum daemon_health h)
{
	switch (h) {
	case DAEMON_HEALTH_OK: return "OK";
	case DAEMON_HEALTH_WARNING: return "WARNING";
	case DAEMON_HEALTH_CRITICAL: return "CRITICAL";
	default: return "UNKNOWN";
	}
}

uint64_t daemon_status_lag(const struct daemon_status *st)
{
	return st->cl.commit_index > st->cl.last_applied
		       ? st->cl.commit_index - st->cl.last_applied : 0;
}

enum daemon_health daemon_health_eval(const struct daemon_status *st, char *why, size_t cap)
{
	const struct cluster_status *cl = &st->cl;
	uint64_t lag = daemon_status_lag(st);
	int64_t stale = 2 * (int64_t)(cl->election_timeout_ms ? cl->election_timeout_ms : 1000);

	if (st->shutting_down) {
		snprintf(why, cap, "node %llu is shutting down", (unsigned long long)cl->id);
		return DAEMON_HEALTH_CRITICAL;
	}
	switch (cl->role) {
	case CLUSTER_UNAVAILABLE:
		snprintf(why, cap, "node %llu: Raft not running", (unsigned long long)cl->id);
		return DAEMON_HEALTH_CRITICAL;
	case CLUSTER_CANDIDATE:
		snprintf(why, cap, "node %llu: candidate in term %llu, no leader",
			 (unsigned long long)cl->id, (unsigned long long)cl->term);
		return DAEMON_HEALTH_CRITICAL;
	case CLUSTER_LEADER:
		if (!cl->leader_ready && !cl->witness) {
			snprintf(why, cap, "node %llu: leader of term %llu, barrier not committed yet",
				 (unsigned long long)cl->id, (unsigned long long)cl->term);
			return DAEMON_HEALTH_CRITICAL;
		}
		if (cl->witness) {
			snprintf(why, cap, "node %llu: witness leading term %llu, handing over",
				 (unsigned long long)cl->id, (unsigned long long)cl->term);
			return DAEMON_HEALTH_WARNING;
		}
		break;
	case CLUSTER_FOLLOWER:
		if (cl->leader_id == 0) {
			snprintf(why, cap, "node %llu: follower in term %llu, no leader known",
				 (unsigned long long)cl->id, (unsigned long long)cl->term);
			return DAEMON_HEALTH_CRITICAL;
		}
		if (cl->leader_contact_ms > stale) {
			snprintf(why, cap, "node %llu: leader %llu not heard from for %lld ms",
				 (unsigned long long)cl->id, (unsigned long long)cl->leader_id,
				 (long long)cl->leader_contact_ms);
			return DAEMON_HEALTH_CRITICAL;
		}
		if (lag >= DAEMON_LAG_CRITICAL) {
			snprintf(why, cap, "node %llu: %llu entries behind the commit index",
				 (unsigned long long)cl->id, (unsigned long long)lag);
			return DAEMON_HEALTH_CRITICAL;
		}
		break;
	}
	if (st->peers_reachable < st->peers_total) {
		snprintf(why, cap, "node %llu %s, term %llu: %u of %u nodes reachable",
			 (unsigned long long)cl->id, cluster_role_name(cl->role),
			 (unsigned long long)cl->term, st->peers_reachable, st->peers_total);
		return DAEMON_HEALTH_WARNING;
	}
	if (lag > DAEMON_LAG_WARNING) {
		snprintf(why, cap, "node %llu %s, term %llu: %llu entries behind",
			 (unsigned long long)cl->id, cluster_role_name(cl->role),
			 (unsigned long long)cl->term, (unsigned long long)lag);
		return DAEMON_HEALTH_WARNING;
	}
	snprintf(why, cap, "node %llu %s, term %llu, applied %llu, %u of %u nodes reachable",
		 (unsigned long long)cl->id, cluster_role_name(cl->role),
		 (unsigned long long)cl->term, (unsigned long long)cl->last_applied,
		 st->peers_reachable, st->peers_total);
	return DAEMON_HEALTH_OK;
}

void daemon_status_json(struct tdm_json *j, const struct daemon_status *st)
{
	const struct cluster_status *cl = &st->cl;
	char why[256];
	enum daemon_health h = daemon_health_eval(st, why, sizeof why);
	tdm_json_object_begin(j);
	tdm_json_kv_uint(j, "node", cl->id);
	tdm_json_kv_string(j, "address", cl->address);
	tdm_json_kv_string(j, "role", cluster_role_name(cl->role));
	tdm_json_kv_bool(j, "witness", cl->witness);
	tdm_json_kv_bool(j, "leader_ready", cl->leader_ready);
	tdm_json_kv_uint(j, "term", cl->term);
	tdm_json_kv_uint(j, "commit_index", cl->commit_index);
	tdm_json_kv_uint(j, "applied_index", cl->last_applied);
	tdm_json_kv_uint(j, "last_index", cl->last_index);
	tdm_json_kv_uint(j, "snapshot_index", cl->snapshot_index);
	tdm_json_kv_uint(j, "lag", daemon_status_lag(st));
	tdm_json_kv_uint(j, "leader", cl->leader_id);
	tdm_json_kv_string(j, "leader_address", cl->leader_address);
	tdm_json_kv_int(j, "leader_contact_ms", cl->leader_contact_ms);
	tdm_json_kv_double(j, "apply_rate", st->apply_rate);
	tdm_json_kv_int(j, "snapshot_age_s", st->snapshot_age_s);
	tdm_json_kv_uint(j, "peers_total", st->peers_total);
	tdm_json_kv_uint(j, "peers_reachable", st->peers_reachable);
	tdm_json_kv_uint(j, "state_db_bytes", st->state_db_bytes);
	tdm_json_kv_string(j, "version", st->version);
	tdm_json_kv_int(j, "uptime_s", st->uptime_s);
	tdm_json_kv_string(j, "health", daemon_health_name(h));
	tdm_json_kv_string(j, "health_detail", why);
	tdm_json_key(j, "members");
	tdm_json_array_begin(j);
	for (size_t i = 0; i < cl->n_peers && i < CLUSTER_MAX_NODES; i++) {
		const struct cluster_peer_status *p = &cl->peers[i];
		tdm_json_object_begin(j);
		tdm_json_kv_uint(j, "node", p->id);
		tdm_json_kv_string(j, "address", p->address);
		tdm_json_kv_string(j, "member", cluster_member_role_name(p->member));
		tdm_json_kv_bool(j, "witness", p->witness);
		if (p->progress_known) {
			tdm_json_kv_uint(j, "match_index", p->match_index);
			tdm_json_kv_int(j, "last_contact_ms", p->last_contact_ms);
		}
		tdm_json_object_end(j);
	}
	tdm_json_array_end(j);
	tdm_json_object_end(j);
}

unsigned daemon_health_http(const struct daemon_status *st, char **body)
{
	struct tdm_json j;
	char why[256];
	enum daemon_health h = daemon_health_eval(st, why, sizeof why);
	bool healthy = h == DAEMON_HEALTH_OK || h == DAEMON_HEALTH_WARNING;
	tdm_json_init(&j);
	tdm_json_object_begin(&j);
	tdm_json_kv_bool(&j, "healthy", healthy);
	tdm_json_kv_string(&j, "status", daemon_health_name(h));
	tdm_json_kv_string(&j, "detail", why);
	tdm_json_key(&j, "node");
	daemon_status_json(&j, st);
	tdm_json_object_end(&j);
	*body = tdm_json_take(&j, NULL);
	return healthy ? 200 : 503;
}

/*- private: Prometheus text -------------------------------------------*/

struct text {
	char *buf;
	size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + (size_t)n;
		t->buf = tdm_realloc(t->buf, t->cap);
	}
	t->len += (size_t)n;
}

static void metric(struct text *t, const char *name, const char *type, const char *help,
		   double v)
{
	add(t, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

char *daemon_metrics_text(const struct daemon_status *st)
{
	const struct cluster_status *cl = &st->cl;
	static const enum cluster_role roles[] = { CLUSTER_LEADER, CLUSTER_FOLLOWER,
						   CLUSTER_CANDIDATE, CLUSTER_UNAVAILABLE };
	struct text t = { tdm_malloc(4096), 0, 4096 };
	char why[256];
	enum daemon_health h = daemon_health_eval(st, why, sizeof why);

	t.buf[0] = '\0';
	add(&t, "# HELP tandem_build_info Version of this tandemd.\n"
		"# TYPE tandem_build_info gauge\ntandem_build_info{version=\"%s\"} 1\n",
	    st->version);
	metric(&t, "tandem_node_id", "gauge", "This node's id.", (double)cl->id);
	add(&t, "# HELP tandem_role Raft role of this node (1 for the current one).\n"
		"# TYPE tandem_role gauge\n");
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
		add(&t, "tandem_role{role=\"%s\"} %d\n", cluster_role_name(roles[i]),
		    cl->role == roles[i]);
	metric(&t, "tandem_leader_ready", "gauge",
	       "1 when this node leads and its post-election barrier committed.",
	       cl->leader_ready);
	metric(&t, "tandem_witness", "gauge", "1 when this node is a witness.", cl->witness);
	metric(&t, "tandem_leader_id", "gauge", "Id of the leader this node knows, 0 none.",
	       (double)cl->leader_id);
	metric(&t, "tandem_term", "gauge", "Current Raft term.", (double)cl->term);
	metric(&t, "tandem_commit_index", "gauge", "Raft commit index.", (double)cl->commit_index);
	metric(&t, "tandem_applied_index", "gauge", "Raft index applied to state.db.",
	       (double)cl->last_applied);
	metric(&t, "tandem_last_log_index", "gauge", "Last index in the Raft log.",
	       (double)cl->last_index);
	metric(&t, "tandem_snapshot_index", "gauge", "Index covered by the newest snapshot.",
	       (double)cl->snapshot_index);
	metric(&t, "tandem_apply_lag_entries", "gauge", "Committed entries not yet applied.",
	       (double)daemon_status_lag(st));
	metric(&t, "tandem_apply_rate", "gauge", "Entries applied per second (recent average).",
	       st->apply_rate);
	metric(&t, "tandem_snapshot_age_seconds", "gauge",
	       "Seconds since the last snapshot taken or installed here, -1 none since start.",
	       (double)st->snapshot_age_s);
	metric(&t, "tandem_leader_contact_seconds", "gauge",
	       "Follower: seconds since the leader was last heard, -1 otherwise.",
	       cl->leader_contact_ms < 0 ? -1.0 : (double)cl->leader_contact_ms / 1000.0);
	metric(&t, "tandem_peers", "gauge", "Members of the Raft configuration.",
	       (double)st->peers_total);
	metric(&t, "tandem_peers_reachable", "gauge",
	       "Members heard from within two election timeouts (leader: all; follower: the leader), self included.",
	       (double)st->peers_reachable);
	metric(&t, "tandem_state_db_bytes", "gauge", "Size of state.db and its WAL.",
	       (double)st->state_db_bytes);
	metric(&t, "tandem_submit_in_flight", "gauge", "Entries handed to libraft, not yet committed.",
	       (double)cl->in_flight);
	metric(&t, "tandem_submit_queued", "gauge", "Entries waiting in the wrapper's queue.",
	       (double)cl->queued);
	add(&t, "# HELP tandem_writes_total Commands this node submitted, by outcome.\n"
		"# TYPE tandem_writes_total counter\n"
		"tandem_writes_total{result=\"ok\"} %llu\ntandem_writes_total{result=\"failed\"} %llu\n",
	    (unsigned long long)st->writes_ok, (unsigned long long)st->writes_failed);
	metric(&t, "tandem_forwarded_total", "counter", "Write commands forwarded to the leader.",
	       (double)st->forwarded);
	metric(&t, "tandem_health_status", "gauge",
	       "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (as `cluster-ctl health`).", (double)h);
	metric(&t, "tandem_uptime_seconds", "gauge", "Seconds since tandemd started.",
	       (double)st->uptime_s);
	if (cl->role == CLUSTER_LEADER) {
		add(&t, "# HELP tandem_peer_match_index Leader: highest index replicated on each member.\n"
			"# TYPE tandem_peer_match_index gauge\n");
		for (size_t i = 0; i < cl->n_peers && i < CLUSTER_MAX_NODES; i++)
			if (cl->peers[i].progress_known)
				add(&t, "tandem_peer_match_index{peer=\"%llu\"} %llu\n",
				    (unsigned long long)cl->peers[i].id,
				    (unsigned long long)cl->peers[i].match_index);
	}
	return t.buf;
}

/*- published copy -------------------------------------------------------*/

void daemon_status_box_init(struct daemon_status_box *b)
{
	memset(b, 0, sizeof *b);
	pthread_mutex_init(&b->lock, NULL);
}

void daemon_status_box_destroy(struct daemon_status_box *b)
{
	pthread_mutex_destroy(&b->lock);
}

void daemon_status_box_put(struct daemon_status_box *b, const struct daemon_status *st)
{
	pthread_mutex_lock(&b->lock);
	b->st = *st;
	b->valid = true;
	pthread_mutex_unlock(&b->lock);
}

bool daemon_status_box_get(struct daemon_status_box *b, struct daemon_status *st)
{
	bool valid;
	pthread_mutex_lock(&b->lock);
	valid = b->valid;
	if (valid)
		*st = b->st;
	pthread_mutex_unlock(&b->lock);
	return valid;
}
