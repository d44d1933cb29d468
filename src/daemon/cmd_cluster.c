/*
 * Cluster-wide reads: `status` (every node's row, gathered over the
 * forward listeners), `node info` (this node's row, the answer to the
 * former), `digest` (this node's ledger digest once it has applied a
 * given index) and `verify` (a barrier on the leader, then every node's
 * digest at that index, compared).
 *
 * Node-to-node answers are `key value` lines: Tandem writes JSON for
 * people's scripts but never parses it.
 */
#include "daemon/daemon_int.h"
#include "daemon/peer_client.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_CALL_MS 1000
#define DIGEST_WAIT_MS 15000
#define VERIFY_ATTEMPTS 5

/*- node info --------------------------------------------------------------*/

struct row {
	uint64_t id;
	char address[CLUSTER_ADDR_MAX];
	bool reachable;
	char error[160];
	char role[16];
	bool leader_ready, witness;
	uint64_t term, commit, applied, leader;
	int64_t leader_contact_ms, snapshot_age_s;
	char version[32];
	uint64_t state_db_bytes;
	double apply_rate;
	char health[16];
};

static void row_from_status(struct row *r, const struct daemon_status *st)
{
	char why[256];
	memset(r, 0, sizeof *r);
	r->id = st->cl.id;
	snprintf(r->address, sizeof r->address, "%s", st->cl.address);
	r->reachable = true;
	snprintf(r->role, sizeof r->role, "%s", cluster_role_name(st->cl.role));
	r->leader_ready = st->cl.leader_ready;
	r->witness = st->cl.witness;
	r->term = st->cl.term;
	r->commit = st->cl.commit_index;
	r->applied = st->cl.last_applied;
	r->leader = st->cl.leader_id;
	r->leader_contact_ms = st->cl.leader_contact_ms;
	r->snapshot_age_s = st->snapshot_age_s;
	snprintf(r->version, sizeof r->version, "%s", st->version);
	r->state_db_bytes = st->state_db_bytes;
	r->apply_rate = st->apply_rate;
	snprintf(r->health, sizeof r->health, "%s",
		 daemon_health_name(daemon_health_eval(st, why, sizeof why)));
}

static char *row_format(const struct row *r)
{
	return daemon__sprintf("node %" PRIu64 "\naddress %s\nrole %s\nleader_ready %d\nwitness %d\n"
			       "term %" PRIu64 "\ncommit %" PRIu64 "\napplied %" PRIu64 "\n"
			       "leader %" PRIu64 "\nleader_contact_ms %" PRId64 "\n"
			       "snapshot_age_s %" PRId64 "\nversion %s\nstate_db_bytes %" PRIu64 "\n"
			       "apply_rate %.3f\nhealth %s\n",
			       r->id, r->address, r->role, r->leader_ready, r->witness, r->term,
			       r->commit, r->applied, r->leader, r->leader_contact_ms,
			       r->snapshot_age_s, r->version, r->state_db_bytes, r->apply_rate,
			       r->health);
}

/* Parse row_format()'s lines; unknown keys are ignored (a newer peer). */
static int row_parse(struct row *r, const char *text)
{
	char key[32], val[96];
	const char *p = text;
	int n, seen = 0;
	while (sscanf(p, "%31s %95[^\n]%n", key, val, &n) == 2) {
		seen++;
		if (!strcmp(key, "node")) r->id = strtoull(val, NULL, 10);
		else if (!strcmp(key, "address")) snprintf(r->address, sizeof r->address, "%.*s", (int)sizeof r->address - 1, val);
		else if (!strcmp(key, "role")) snprintf(r->role, sizeof r->role, "%.*s", (int)sizeof r->role - 1, val);
		else if (!strcmp(key, "leader_ready")) r->leader_ready = atoi(val) != 0;
		else if (!strcmp(key, "witness")) r->witness = atoi(val) != 0;
		else if (!strcmp(key, "term")) r->term = strtoull(val, NULL, 10);
		else if (!strcmp(key, "commit")) r->commit = strtoull(val, NULL, 10);
		else if (!strcmp(key, "applied")) r->applied = strtoull(val, NULL, 10);
		else if (!strcmp(key, "leader")) r->leader = strtoull(val, NULL, 10);
		else if (!strcmp(key, "leader_contact_ms")) r->leader_contact_ms = strtoll(val, NULL, 10);
		else if (!strcmp(key, "snapshot_age_s")) r->snapshot_age_s = strtoll(val, NULL, 10);
		else if (!strcmp(key, "version")) snprintf(r->version, sizeof r->version, "%.*s", (int)sizeof r->version - 1, val);
		else if (!strcmp(key, "state_db_bytes")) r->state_db_bytes = strtoull(val, NULL, 10);
		else if (!strcmp(key, "apply_rate")) r->apply_rate = strtod(val, NULL);
		else if (!strcmp(key, "health")) snprintf(r->health, sizeof r->health, "%.*s", (int)sizeof r->health - 1, val);
		p += n;
		while (*p == '\n')
			p++;
	}
	return seen >= 4 ? 0 : TDM_EPROTO;
}

void daemon__cmd_node_info(struct daemon *d, struct control_conn *conn,
			   const struct control_request *req, int argi)
{
	struct daemon_status st;
	struct row r;
	char *out;
	(void)req;
	(void)argi;
	daemon__status_fill(d, &st);
	row_from_status(&r, &st);
	out = row_format(&r);
	daemon__reply(d, conn, CONTROL_EXIT_OK, out);
	free(out);
}

/*- status -------------------------------------------------------------------*/

struct status_job {
	struct daemon *d;
	struct control_conn *conn;
	struct daemon_status self;
	size_t n;
	struct row rows[CLUSTER_MAX_NODES];
	unsigned waiting;
};

struct row_call {
	struct status_job *job;
	struct row *row;
};

static void human_bytes(uint64_t b, char *out, size_t cap)
{
	if (b >= (10ull << 30))
		snprintf(out, cap, "%llu GiB", (unsigned long long)(b >> 30));
	else if (b >= (10ull << 20))
		snprintf(out, cap, "%llu MiB", (unsigned long long)(b >> 20));
	else if (b >= (10ull << 10))
		snprintf(out, cap, "%llu KiB", (unsigned long long)(b >> 10));
	else
		snprintf(out, cap, "%llu B", (unsigned long long)b);
}

/* The commit index lag is measured against: the leader's if it answered. */
static uint64_t reference_commit(const struct status_job *job)
{
	uint64_t best = job->self.cl.commit_index;
	for (size_t i = 0; i < job->n; i++)
		if (job->rows[i].reachable && strcmp(job->rows[i].role, "leader") == 0)
			return job->rows[i].commit;
	for (size_t i = 0; i < job->n; i++)
		if (job->rows[i].reachable && job->rows[i].commit > best)
			best = job->rows[i].commit;
	return best;
}

static void status_finish(struct status_job *job)
{
	uint64_t ref = reference_commit(job), leader = 0;
	size_t cap = 8192, len = 0;
	char *out;
	unsigned reachable = 0;

	for (size_t i = 0; i < job->n; i++)
		if (job->rows[i].reachable) {
			reachable++;
			if (strcmp(job->rows[i].role, "leader") == 0)
				leader = job->rows[i].id;
		}
	if (daemon__json(job->conn)) {
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_uint(&j, "leader", leader);
		tdm_json_kv_uint(&j, "asked", job->self.cl.id);
		tdm_json_kv_uint(&j, "nodes_total", job->n);
		tdm_json_kv_uint(&j, "nodes_reachable", reachable);
		tdm_json_key(&j, "nodes");
		tdm_json_array_begin(&j);
		for (size_t i = 0; i < job->n; i++) {
			const struct row *r = &job->rows[i];
			tdm_json_object_begin(&j);
			tdm_json_kv_uint(&j, "node", r->id);
			tdm_json_kv_string(&j, "address", r->address);
			tdm_json_kv_bool(&j, "reachable", r->reachable);
			if (!r->reachable) {
				tdm_json_kv_string(&j, "error", r->error);
				tdm_json_object_end(&j);
				continue;
			}
			tdm_json_kv_string(&j, "role", r->role);
			tdm_json_kv_bool(&j, "leader_ready", r->leader_ready);
			tdm_json_kv_bool(&j, "witness", r->witness);
			tdm_json_kv_uint(&j, "term", r->term);
			tdm_json_kv_uint(&j, "commit_index", r->commit);
			tdm_json_kv_uint(&j, "applied_index", r->applied);
			tdm_json_kv_uint(&j, "lag", ref > r->applied ? ref - r->applied : 0);
			tdm_json_kv_int(&j, "last_contact_ms", r->leader_contact_ms);
			tdm_json_kv_string(&j, "version", r->version);
			tdm_json_kv_uint(&j, "state_db_bytes", r->state_db_bytes);
			tdm_json_kv_double(&j, "apply_rate", r->apply_rate);
			tdm_json_kv_int(&j, "snapshot_age_s", r->snapshot_age_s);
			tdm_json_kv_string(&j, "health", r->health);
			tdm_json_object_end(&j);
		}
		tdm_json_array_end(&j);
		tdm_json_object_end(&j);
		out = daemon__sprintf("%s\n", tdm_json_text(&j));
		tdm_json_free(&j);
	} else {
		out = tdm_malloc(cap);
		len = (size_t)snprintf(out, cap, "%-5s %-11s %-6s %-9s %-9s %-6s %-13s %-8s %-9s %s\n",
				       "NODE", "ROLE", "TERM", "COMMIT", "APPLIED", "LAG",
				       "LAST CONTACT", "VERSION", "STATE.DB", "HEALTH");
		for (size_t i = 0; i < job->n; i++) {
			const struct row *r = &job->rows[i];
			char contact[24], size[24], role[24];
			if (len > cap - 512) {
				cap *= 2;
				out = tdm_realloc(out, cap);
			}
			if (!r->reachable) {
				len += (size_t)snprintf(out + len, cap - len, "%-5llu %-11s %s\n",
							(unsigned long long)r->id, "unreachable",
							r->error);
				continue;
			}
			if (strcmp(r->role, "leader") == 0)
				snprintf(contact, sizeof contact, "-");
			else if (r->leader_contact_ms < 0)
				snprintf(contact, sizeof contact, "never");
			else
				snprintf(contact, sizeof contact, "%lld ms", (long long)r->leader_contact_ms);
			human_bytes(r->state_db_bytes, size, sizeof size);
			snprintf(role, sizeof role, "%s%s", r->role, r->witness ? "/w" : "");
			len += (size_t)snprintf(out + len, cap - len,
						"%-5llu %-11s %-6llu %-9llu %-9llu %-6llu %-13s %-8s %-9s %s\n",
						(unsigned long long)r->id, role,
						(unsigned long long)r->term,
						(unsigned long long)r->commit,
						(unsigned long long)r->applied,
						(unsigned long long)(ref > r->applied ? ref - r->applied : 0),
						contact, r->version, size, r->health);
		}
	}
	daemon__reply(job->d, job->conn, reachable == job->n ? CONTROL_EXIT_OK : CONTROL_EXIT_FAIL, out);
	free(out);
	free(job);
}

static void on_row(void *data, int rc, const struct control_response *resp, const char *msg)
{
	struct row_call *rc_ = data;
	struct status_job *job = rc_->job;
	struct row *r = rc_->row;
	uint64_t id = r->id;
	char address[CLUSTER_ADDR_MAX];
	snprintf(address, sizeof address, "%s", r->address);
	if (rc != 0) {
		snprintf(r->error, sizeof r->error, "%s", msg);
	} else if (resp->status != CONTROL_EXIT_OK || row_parse(r, resp->body) != 0) {
		snprintf(r->error, sizeof r->error, "bad answer: %.100s", resp->body);
	} else {
		r->reachable = true;
		if (r->id != id)
			snprintf(r->error, sizeof r->error, "answered as node %llu",
				 (unsigned long long)r->id);
		r->id = id;
		if (r->address[0] == '\0')
			snprintf(r->address, sizeof r->address, "%s", address);
	}
	free(rc_);
	if (--job->waiting == 0)
		status_finish(job);
}

void daemon__cmd_status(struct daemon *d, struct control_conn *conn,
			const struct control_request *req, int argi)
{
	struct status_job *job = tdm_calloc(1, sizeof *job);
	const struct control_request info = { 0, 2, (char *[]){ "node", "info", NULL } };
	(void)req;
	(void)argi;
	job->d = d;
	job->conn = conn;
	job->waiting = 1; /* held until every call is out */
	daemon__status_fill(d, &job->self);
	for (size_t i = 0; i < job->self.cl.n_peers && i < CLUSTER_MAX_NODES; i++) {
		const struct cluster_peer_status *p = &job->self.cl.peers[i];
		struct row *r = &job->rows[job->n++];
		char addr[DAEMON_ADDR_MAX];
		struct tdm_err err = { "" };
		struct row_call *call;
		if (p->id == job->self.cl.id) {
			row_from_status(r, &job->self);
			continue;
		}
		r->id = p->id;
		snprintf(r->address, sizeof r->address, "%s", p->address);
		if (daemon_config_forward_of(d->cfg, p->id, p->address, addr) != 0) {
			snprintf(r->error, sizeof r->error, "forward address unknown");
			continue;
		}
		call = tdm_calloc(1, sizeof *call);
		call->job = job;
		call->row = r;
		job->waiting++;
		if (peer_call(d->peers, addr, &info, STATUS_CALL_MS, NULL, on_row, call, &err) != 0) {
			snprintf(r->error, sizeof r->error, "%s", err.msg);
			job->waiting--;
			free(call);
		}
	}
	if (job->n == 0) { /* not started yet: at least this node */
		row_from_status(&job->rows[0], &job->self);
		job->n = 1;
	}
	if (--job->waiting == 0)
		status_finish(job);
}

/*- digest ----------------------------------------------------------------------*/

struct digest_wait {
	struct daemon *d;
	struct control_conn *conn;
	uint64_t min_index;
	uint64_t started;
	uv_timer_t timer;
};

static void on_digest_closed(uv_handle_t *h)
{
	free(h->data);
}

static void digest_check(uv_timer_t *t)
{
	struct digest_wait *w = t->data;
	struct daemon *d = w->d;
	uint64_t applied = ledger_applied_index(d->ledger), index;
	uint8_t dg[32];
	char hex[65], *out;
	struct tdm_err err = { "" };
	if (applied < w->min_index) {
		if (!d->stopping && uv_now(&d->loop) - w->started < DIGEST_WAIT_MS) {
			uv_timer_start(&w->timer, digest_check, 5, 0);
			return;
		}
		out = daemon__sprintf("error: node %llu applied only up to %llu, not %llu, within %d s\n",
				      (unsigned long long)d->cfg->node_id,
				      (unsigned long long)applied,
				      (unsigned long long)w->min_index, DIGEST_WAIT_MS / 1000);
		daemon__reply(d, w->conn, CONTROL_EXIT_UNAVAILABLE, out);
	} else if (ledger_digest(d->ledger, dg, &index, &err) != 0) {
		out = daemon__sprintf("error: node %llu: %s\n", (unsigned long long)d->cfg->node_id,
				      err.msg);
		daemon__reply(d, w->conn, CONTROL_EXIT_FAIL, out);
	} else {
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", dg[i]);
		out = daemon__sprintf("index %llu\ndigest %s\n", (unsigned long long)index, hex);
		daemon__reply(d, w->conn, CONTROL_EXIT_OK, out);
	}
	free(out);
	uv_close((uv_handle_t *)&w->timer, on_digest_closed);
}

void daemon__cmd_digest(struct daemon *d, struct control_conn *conn,
			const struct control_request *req, int argi)
{
	struct digest_wait *w = tdm_calloc(1, sizeof *w);
	w->d = d;
	w->conn = conn;
	w->started = uv_now(&d->loop);
	if (req->argc > argi + 1 ||
	    (req->argc == argi + 1 && sscanf(req->argv[argi], "%" SCNu64, &w->min_index) != 1)) {
		free(w);
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: digest [MIN_INDEX]\n");
		return;
	}
	uv_timer_init(&d->loop, &w->timer);
	w->timer.data = w;
	digest_check(&w->timer);
}

/*- verify ------------------------------------------------------------------------*/

struct verify_job {
	struct daemon *d;
	struct control_conn *conn;
	int attempt;
	uint64_t barrier;
	size_t n;
	struct {
		uint64_t id;
		char addr[DAEMON_ADDR_MAX];
		bool ok;
		uint64_t index;
		char digest[65];
		char error[160];
	} nodes[CLUSTER_MAX_NODES];
	unsigned waiting;
	uv_timer_t timer;
};

static void verify_round(struct verify_job *v);

static void verify_timer(uv_timer_t *t)
{
	verify_round(t->data);
}

static void on_verify_closed(uv_handle_t *h)
{
	free(h->data);
}

static void verify_end(struct verify_job *v, int status, const char *verdict)
{
	size_t cap = 4096, len = 0;
	char *out;
	if (daemon__json(v->conn)) {
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_bool(&j, "agree", status == CONTROL_EXIT_OK);
		tdm_json_kv_string(&j, "verdict", verdict);
		tdm_json_kv_uint(&j, "barrier_index", v->barrier);
		tdm_json_key(&j, "nodes");
		tdm_json_array_begin(&j);
		for (size_t i = 0; i < v->n; i++) {
			tdm_json_object_begin(&j);
			tdm_json_kv_uint(&j, "node", v->nodes[i].id);
			tdm_json_kv_bool(&j, "answered", v->nodes[i].ok);
			if (v->nodes[i].ok) {
				tdm_json_kv_uint(&j, "index", v->nodes[i].index);
				tdm_json_kv_string(&j, "digest", v->nodes[i].digest);
			} else {
				tdm_json_kv_string(&j, "error", v->nodes[i].error);
			}
			tdm_json_object_end(&j);
		}
		tdm_json_array_end(&j);
		tdm_json_object_end(&j);
		out = daemon__sprintf("%s\n", tdm_json_text(&j));
		tdm_json_free(&j);
	} else {
		out = tdm_malloc(cap);
		out[0] = '\0';
		for (size_t i = 0; i < v->n; i++) {
			if (v->nodes[i].ok)
				len += (size_t)snprintf(out + len, cap - len, "node %-4llu index %-9llu digest %s\n",
							(unsigned long long)v->nodes[i].id,
							(unsigned long long)v->nodes[i].index,
							v->nodes[i].digest);
			else
				len += (size_t)snprintf(out + len, cap - len, "node %-4llu %s\n",
							(unsigned long long)v->nodes[i].id,
							v->nodes[i].error);
		}
		snprintf(out + len, cap - len, "%s\n", verdict);
	}
	daemon__reply(v->d, v->conn, status, out);
	free(out);
	uv_close((uv_handle_t *)&v->timer, on_verify_closed);
}

static void verify_compare(struct verify_job *v)
{
	char verdict[200];
	size_t first = v->n;
	bool same_index = true, same_digest = true;
	for (size_t i = 0; i < v->n; i++) {
		if (!v->nodes[i].ok) {
			snprintf(verdict, sizeof verdict, "UNKNOWN: node %llu did not answer",
				 (unsigned long long)v->nodes[i].id);
			verify_end(v, CONTROL_EXIT_UNAVAILABLE, verdict);
			return;
		}
		if (first == v->n) {
			first = i;
			continue;
		}
		same_index &= v->nodes[i].index == v->nodes[first].index;
		same_digest &= strcmp(v->nodes[i].digest, v->nodes[first].digest) == 0;
	}
	if (!same_index) {
		if (++v->attempt < VERIFY_ATTEMPTS) {
			/* Writes went on between the answers: try again at a new barrier. */
			uv_timer_start(&v->timer, verify_timer, 50, 0);
			return;
		}
		verify_end(v, CONTROL_EXIT_UNAVAILABLE,
			   "UNKNOWN: the nodes never answered at the same index (writes going on?)");
		return;
	}
	if (same_digest) {
		snprintf(verdict, sizeof verdict, "OK: all %zu nodes agree at index %llu", v->n,
			 (unsigned long long)v->nodes[first].index);
		verify_end(v, CONTROL_EXIT_OK, verdict);
	} else {
		snprintf(verdict, sizeof verdict, "MISMATCH: the nodes disagree at index %llu",
			 (unsigned long long)v->nodes[first].index);
		tdm_log_err("verify: %s", verdict);
		verify_end(v, CONTROL_EXIT_FAIL, verdict);
	}
}

struct verify_call {
	struct verify_job *v;
	size_t i;
};

static void on_digest(void *data, int rc, const struct control_response *resp, const char *msg)
{
	struct verify_call *c = data;
	struct verify_job *v = c->v;
	size_t i = c->i;
	unsigned long long index;
	free(c);
	if (rc != 0)
		snprintf(v->nodes[i].error, sizeof v->nodes[i].error, "%s", msg);
	else if (resp->status != CONTROL_EXIT_OK ||
		 sscanf(resp->body, "index %llu\ndigest %64s", &index, v->nodes[i].digest) != 2)
		snprintf(v->nodes[i].error, sizeof v->nodes[i].error, "%.150s", resp->body);
	else {
		v->nodes[i].ok = true;
		v->nodes[i].index = index;
	}
	if (--v->waiting == 0)
		verify_compare(v);
}

static void ask_digests(struct verify_job *v)
{
	char arg[24];
	const struct control_request req = { 0, 2, (char *[]){ "digest", arg, NULL } };
	snprintf(arg, sizeof arg, "%llu", (unsigned long long)v->barrier);
	v->waiting = 1;
	for (size_t i = 0; i < v->n; i++) {
		struct verify_call *c = tdm_calloc(1, sizeof *c);
		struct tdm_err err = { "" };
		v->nodes[i].ok = false;
		v->nodes[i].error[0] = '\0';
		c->v = v;
		c->i = i;
		v->waiting++;
		if (peer_call(v->d->peers, v->nodes[i].addr, &req, DIGEST_WAIT_MS + 2000, NULL,
			      on_digest, c, &err) != 0) {
			snprintf(v->nodes[i].error, sizeof v->nodes[i].error, "%s", err.msg);
			v->waiting--;
			free(c);
		}
	}
	if (--v->waiting == 0)
		verify_compare(v);
}

static void on_barrier_local(void *data, int status, const struct ledger_result *res,
			     const char *msg)
{
	struct verify_job *v = data;
	char verdict[240];
	if (status != 0) {
		snprintf(verdict, sizeof verdict, "UNKNOWN: barrier failed: %s", msg);
		verify_end(v, CONTROL_EXIT_UNAVAILABLE, verdict);
		return;
	}
	v->barrier = res->index;
	ask_digests(v);
}

static void on_barrier_remote(void *data, int rc, const struct control_response *resp,
			      const char *msg)
{
	struct verify_job *v = data;
	unsigned long long index;
	char verdict[240];
	if (rc != 0 || resp->status != CONTROL_EXIT_OK ||
	    sscanf(resp->body, "index %llu", &index) != 1) {
		snprintf(verdict, sizeof verdict, "UNKNOWN: barrier on the leader failed: %.150s",
			 rc != 0 ? msg : resp->body);
		verify_end(v, CONTROL_EXIT_UNAVAILABLE, verdict);
		return;
	}
	v->barrier = index;
	ask_digests(v);
}

static void verify_round(struct verify_job *v)
{
	struct daemon *d = v->d;
	struct tdm_err err = { "" };
	if (cluster_is_leader_ready(d->cluster)) {
		if (daemon__submit_noop(d, on_barrier_local, v, &err) != 0) {
			if (++v->attempt >= 50) {
				char verdict[TDM_ERRMSG_SIZE + 40];
				snprintf(verdict, sizeof verdict, "UNKNOWN: barrier: %s", err.msg);
				verify_end(v, CONTROL_EXIT_UNAVAILABLE, verdict);
				return;
			}
			uv_timer_start(&v->timer, verify_timer, 100, 0);
		}
	} else {
		const struct control_request req = { CONTROL_F_FORWARDED, 1, (char *[]){ "barrier", NULL } };
		struct cluster_leader leader;
		char addr[DAEMON_ADDR_MAX];
		cluster_leader_get(d->cluster, &leader);
		if (leader.id == 0 || leader.id == d->cfg->node_id ||
		    daemon_config_forward_of(d->cfg, leader.id, leader.address, addr) != 0) {
			if (++v->attempt < 50) {
				uv_timer_start(&v->timer, verify_timer, 100, 0);
				return;
			}
			verify_end(v, CONTROL_EXIT_UNAVAILABLE, "UNKNOWN: no leader");
			return;
		}
		if (peer_call(d->peers, addr, &req, 10000, NULL, on_barrier_remote, v, &err) != 0)
			verify_end(v, CONTROL_EXIT_UNAVAILABLE, err.msg);
	}
}

void daemon__cmd_verify(struct daemon *d, struct control_conn *conn,
			const struct control_request *req, int argi)
{
	struct verify_job *v = tdm_calloc(1, sizeof *v);
	struct cluster_status *st = tdm_malloc(sizeof *st);
	(void)req;
	(void)argi;
	v->d = d;
	v->conn = conn;
	uv_timer_init(&d->loop, &v->timer);
	v->timer.data = v;
	cluster_status_get(d->cluster, st);
	for (size_t i = 0; i < st->n_peers && i < CLUSTER_MAX_NODES; i++) {
		v->nodes[v->n].id = st->peers[i].id;
		if (daemon_config_forward_of(d->cfg, st->peers[i].id, st->peers[i].address,
					     v->nodes[v->n].addr) == 0)
			v->n++;
	}
	free(st);
	if (v->n == 0) {
		verify_end(v, CONTROL_EXIT_UNAVAILABLE, "UNKNOWN: no members known");
		return;
	}
	verify_round(v);
}
