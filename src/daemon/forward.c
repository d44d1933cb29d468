/*
 * Forwarding a write command from a follower to the leader.
 *
 * The request is copied with CONTROL_F_FORWARDED set and sent to the
 * leader's forward listener; progress frames and the final answer are
 * relayed to the client unchanged.  When no leader is known yet (an
 * election is running) or the leader answers "not the leader" (it lost
 * leadership before running the command, so it did nothing), the
 * follower waits and tries again, for up to FORWARD_PATIENCE_MS.
 */
#include "daemon/daemon_int.h"
#include "daemon/peer_client.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

#define FORWARD_PATIENCE_MS 10000
#define FORWARD_CALL_MS 120000 /* a forwarded command may run long (bench) */

struct fwd {
	struct daemon *d;
	struct control_conn *conn;
	const struct control_request *orig; /* the client's, borrowed until the reply */
	struct control_request req; /* the copy sent, FORWARDED set */
	uv_timer_t timer;
	uint64_t started;
	uint64_t leader;             /* where it went last */
};

static void try_forward(struct fwd *f);

static void on_timer_closed(uv_handle_t *h)
{
	struct fwd *f = h->data;
	control_request_clear(&f->req);
	free(f);
}

static void finish(struct fwd *f, int status, const char *body)
{
	daemon__reply(f->d, f->conn, status, body);
	uv_close((uv_handle_t *)&f->timer, on_timer_closed);
}

static void on_timer(uv_timer_t *t)
{
	try_forward(t->data);
}

static void again_later(struct fwd *f, const char *why)
{
	struct daemon *d = f->d;
	if (d->stopping || uv_now(&d->loop) - f->started > FORWARD_PATIENCE_MS) {
		char *msg = daemon__sprintf("error: no leader took the command within %d s: %s\n",
					    FORWARD_PATIENCE_MS / 1000, why);
		finish(f, CONTROL_EXIT_UNAVAILABLE, msg);
		free(msg);
		return;
	}
	uv_timer_start(&f->timer, on_timer, 20, 0);
}

static void on_progress(void *data, const char *body)
{
	struct fwd *f = data;
	control_conn_progress(f->conn, body);
}

static void on_done(void *data, int rc, const struct control_response *resp, const char *msg)
{
	struct fwd *f = data;
	if (rc == TDM_ESHUTDOWN) {
		finish(f, CONTROL_EXIT_UNAVAILABLE, "error: tandemd is shutting down\n");
		return;
	}
	if (rc == TDM_EIO) {
		/* Could not reach it, or it died before answering: the command may
		 * have run only if the connection broke after sending. */
		again_later(f, msg);
		return;
	}
	if (rc != 0) {
		char *body = daemon__sprintf("error: %s (the command may or may not have run)\n", msg);
		finish(f, CONTROL_EXIT_UNAVAILABLE, body);
		free(body);
		return;
	}
	if (resp->status == CONTROL_EXIT_UNAVAILABLE && strstr(resp->body, "is not the leader")) {
		again_later(f, resp->body);
		return;
	}
	finish(f, resp->status, resp->body);
}

static void try_forward(struct fwd *f)
{
	struct daemon *d = f->d;
	struct cluster_leader leader;
	struct tdm_err err = { "" };
	char addr[DAEMON_ADDR_MAX];

	if (cluster_is_leader_ready(d->cluster)) {
		/* We became the leader meanwhile: run it here.  The client's own
		 * request is still valid (borrowed until the reply). */
		d->requests--; /* dispatch counts it again */
		daemon__dispatch(d, f->conn, f->orig);
		uv_close((uv_handle_t *)&f->timer, on_timer_closed);
		return;
	}
	cluster_leader_get(d->cluster, &leader);
	if (leader.id == 0 || leader.id == d->cfg->node_id) {
		again_later(f, "no leader known");
		return;
	}
	if (daemon_config_forward_of(d->cfg, leader.id, leader.address, addr) != 0) {
		again_later(f, "the leader's forward address is unknown");
		return;
	}
	f->leader = leader.id;
	d->forwarded++;
	tdm_log_debug("node %llu: forwarding \"%s\" to node %llu at %s",
		      (unsigned long long)d->cfg->node_id, f->req.argv[0],
		      (unsigned long long)leader.id, addr);
	if (peer_call(d->peers, addr, &f->req, FORWARD_CALL_MS, on_progress, on_done, f, &err) != 0) {
		char *msg = daemon__sprintf("error: cannot forward to the leader: %s\n", err.msg);
		finish(f, CONTROL_EXIT_FAIL, msg);
		free(msg);
	}
}

void daemon__forward(struct daemon *d, struct control_conn *conn, const struct control_request *req)
{
	struct fwd *f = tdm_calloc(1, sizeof *f);
	f->d = d;
	f->conn = conn;
	f->orig = req;
	f->started = uv_now(&d->loop);
	f->req.flags = req->flags | CONTROL_F_FORWARDED;
	f->req.argc = req->argc;
	f->req.argv = tdm_calloc((size_t)req->argc + 1, sizeof *f->req.argv);
	for (int i = 0; i < req->argc; i++)
		f->req.argv[i] = tdm_strdup(req->argv[i]);
	uv_timer_init(&d->loop, &f->timer);
	f->timer.data = f;
	try_forward(f);
}
