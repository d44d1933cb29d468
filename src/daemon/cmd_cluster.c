/*
 * Ledger comparison across nodes: `digest` (this node's ledger digest once
 * it has applied a given index) and `verify` (a barrier on the leader,
 * then every node's digest at that index, compared).  Node-to-node
 * answers are `key value` lines: Tandem writes JSON but never parses it.
 */
#include "daemon/daemon_int.h"
#include "daemon/peer_client.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_WAIT_MS 15000
#define VERIFY_ATTEMPTS 5

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
