/*
 * `status` (one row per member of the Raft configuration) and `node info`
 * (this node's row, which the others ask for over the forward listener).
 *
 * Rows of the other nodes come from a cache that every node keeps warm:
 * every PEER_POLL_MS it asks each member for `node info` (one call per
 * member in flight at most).  `status` answers from rows younger than
 * PEER_FRESH_MS, of the current term, whose last poll succeeded, and asks
 * the others at once, so on a loaded cluster it
 * does not wait behind the other nodes' busy event loops; each row says
 * how old it is.  Node-to-node answers are `key value` lines.
 */
#include "daemon/daemon_int.h"
#include "daemon/peer_client.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_CALL_MS 1000
#define PEER_POLL_MS 500
#define PEER_FRESH_MS 1000

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
	int64_t age_ms;         /* how old the answer is (0: asked just now) */
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

/*- the cache of the other nodes' rows ------------------------------------*/

struct peer_slot {
	uint64_t id;
	bool in_flight, valid;
	uint64_t at;            /* uv_now of the answer */
	struct row row;
};

struct peer_cache {
	struct daemon *d;
	uv_timer_t timer;
	bool closing;
	struct peer_slot slot[CLUSTER_MAX_NODES];
};

struct poll_call {
	struct peer_cache *pc;
	uint64_t id;
};

static struct peer_slot *slot_of(struct peer_cache *pc, uint64_t id, bool create)
{
	struct peer_slot *free_slot = NULL;
	for (size_t i = 0; i < CLUSTER_MAX_NODES; i++) {
		if (pc->slot[i].id == id)
			return &pc->slot[i];
		if (pc->slot[i].id == 0 && free_slot == NULL)
			free_slot = &pc->slot[i];
	}
	if (create && free_slot != NULL) {
		memset(free_slot, 0, sizeof *free_slot);
		free_slot->id = id;
	}
	return create ? free_slot : NULL;
}

static void on_poll_answer(void *data, int rc, const struct control_response *resp,
			   const char *msg)
{
	struct poll_call *c = data;
	struct peer_cache *pc = c->pc;
	struct peer_slot *s;
	struct row r;
	(void)msg;
	if (pc->closing) {
		free(c);
		return;
	}
	s = slot_of(pc, c->id, false);
	if (s != NULL) {
		s->in_flight = false;
		memset(&r, 0, sizeof r);
		if (rc == 0 && resp->status == CONTROL_EXIT_OK && row_parse(&r, resp->body) == 0 &&
		    r.id == c->id) {
			r.reachable = true;
			s->row = r;
			s->valid = true;
			s->at = uv_now(&pc->d->loop);
		} else {
			/* A node that stopped answering must not be shown alive from
			 * the cache: `status` asks it directly and says why it fails. */
			s->valid = false;
		}
	}
	free(c);
}

static void on_poll(uv_timer_t *t)
{
	struct peer_cache *pc = t->data;
	struct daemon *d = pc->d;
	struct cluster_status *st;
	const struct control_request info = { 0, 2, (char *[]){ "node", "info", NULL } };
	if (pc->closing || d->stopping || d->cluster == NULL || d->peers == NULL)
		return;
	st = tdm_malloc(sizeof *st);
	cluster_status_get(d->cluster, st);
	/* Forget nodes that left the configuration. */
	for (size_t i = 0; i < CLUSTER_MAX_NODES; i++) {
		bool member = false;
		for (size_t k = 0; k < st->n_peers; k++)
			member |= st->peers[k].id == pc->slot[i].id;
		if (pc->slot[i].id != 0 && !member && !pc->slot[i].in_flight)
			pc->slot[i].id = 0;
	}
	for (size_t k = 0; k < st->n_peers && k < CLUSTER_MAX_NODES; k++) {
		const struct cluster_peer_status *p = &st->peers[k];
		struct peer_slot *s;
		struct poll_call *c;
		char addr[DAEMON_ADDR_MAX];
		struct tdm_err err = { "" };
		if (p->id == st->id || (s = slot_of(pc, p->id, true)) == NULL || s->in_flight)
			continue;
		if (daemon_config_forward_of(d->cfg, p->id, p->address, addr) != 0)
			continue;
		c = tdm_malloc(sizeof *c);
		c->pc = pc;
		c->id = p->id;
		if (peer_call(d->peers, addr, &info, 2 * PEER_POLL_MS, NULL, on_poll_answer, c, &err) == 0)
			s->in_flight = true;
		else
			free(c);
	}
	free(st);
}

void daemon__peer_cache_start(struct daemon *d)
{
	struct peer_cache *pc = tdm_calloc(1, sizeof *pc);
	pc->d = d;
	uv_timer_init(&d->loop, &pc->timer);
	pc->timer.data = pc;
	uv_timer_start(&pc->timer, on_poll, PEER_POLL_MS / 5, PEER_POLL_MS);
	d->pcache = pc;
}

static void on_cache_closed(uv_handle_t *h)
{
	free(h->data);
}

void daemon__peer_cache_stop(struct daemon *d)
{
	struct peer_cache *pc = d->pcache;
	if (pc == NULL)
		return;
	d->pcache = NULL;
	pc->closing = true; /* calls still out are cancelled by peer_client_close() */
	uv_close((uv_handle_t *)&pc->timer, on_cache_closed);
}

/*
 * A fresh cached row of node `id`, or false.  A row from an older term than
 * `term` (ours) predates an election and may name a dead leader: not fresh.
 */
static bool cached_row(struct daemon *d, uint64_t id, uint64_t term, struct row *out)
{
	struct peer_slot *s = d->pcache ? slot_of(d->pcache, id, false) : NULL;
	uint64_t now = uv_now(&d->loop);
	if (s == NULL || !s->valid || now - s->at > PEER_FRESH_MS || s->row.term < term)
		return false;
	*out = s->row;
	out->age_ms = (int64_t)(now - s->at);
	return true;
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
			tdm_json_kv_int(&j, "info_age_ms", r->age_ms);
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
		if (cached_row(d, p->id, job->self.cl.term, r)) {
			if (r->address[0] == '\0')
				snprintf(r->address, sizeof r->address, "%s", p->address);
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

