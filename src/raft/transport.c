/*
 * The transport wrapper: a struct raft_uv_transport that forwards to
 * raft_uv_tcp and tunes every connected stream before libraft sees it.
 *
 * libraft 0.15 sets neither TCP keepalive, TCP_USER_TIMEOUT nor
 * TCP_NODELAY (notes §5.9).  Without them a connection whose peer vanished
 * behind a stateful firewall or a lost RST stays "open" forever: the leader
 * keeps writing heartbeats into it, the restarted peer never hears from the
 * leader, and after the next failover the cluster can be left without a
 * leader.  TCP_USER_TIMEOUT (10 s) makes the kernel abort a connection whose
 * data stays unacknowledged that long; heartbeats every 100 ms guarantee
 * there is always data in flight towards followers.  Keepalive covers the
 * idle direction.  TCP_NODELAY keeps small RPCs (votes, results) from
 * waiting for Nagle.
 *
 * raft_uv_init() stores its own pointer in the outer transport's data
 * field, so our state lives in the struct around it (iface is the first
 * member) and the inner transport's data points back at us.
 */
#include "raft/internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"

struct connect_req {
	struct raft_uv_connect inner;
	struct raft_uv_connect *outer;
	raft_uv_connect_cb cb;
	struct cluster_transport *t;
};

static struct cluster_transport *outer_of(struct raft_uv_transport *iface)
{
	return (struct cluster_transport *)iface;
}

int cluster__tune_stream(uv_stream_t *stream, unsigned user_timeout_ms, unsigned keepalive_s)
{
	uv_os_fd_t fd;
	int one = 1, rv;
	int intvl = keepalive_s > 1 ? (int)keepalive_s / 2 : 1, cnt = 3;
	unsigned to = user_timeout_ms;

	if (stream->type != UV_TCP)
		return 0; /* a pipe in some test setups: nothing to tune */
	rv = uv_tcp_nodelay((uv_tcp_t *)stream, 1);
	if (rv != 0)
		return rv;
	rv = uv_tcp_keepalive((uv_tcp_t *)stream, 1, keepalive_s);
	if (rv != 0)
		return rv;
	rv = uv_fileno((uv_handle_t *)stream, &fd);
	if (rv != 0)
		return rv;
	/* libuv 1.44 sets only the idle time; probe every intvl, give up
	 * after cnt unanswered probes. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &to, sizeof to) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		return -errno;
	return 0;
}

static void tune(struct cluster_transport *t, uv_stream_t *stream, raft_id id)
{
	int rv = cluster__tune_stream(stream, t->user_timeout_ms, t->keepalive_s);
	if (rv != 0) {
		t->n_tune_failures++;
		tdm_log_warn("cluster: connection with node %llu: cannot set keepalive/"
			     "TCP_USER_TIMEOUT: %s", (unsigned long long)id, uv_strerror(rv));
		return;
	}
	t->n_streams++;
}

static int w_init(struct raft_uv_transport *iface, raft_id id, const char *address)
{
	struct cluster_transport *t = outer_of(iface);
	int rv = t->tcp.init(&t->tcp, id, address);
	if (rv != 0)
		snprintf(iface->errmsg, sizeof iface->errmsg, "%s", t->tcp.errmsg);
	return rv;
}

static void w_accept(struct raft_uv_transport *tcp, raft_id id, const char *address,
		     struct uv_stream_s *stream)
{
	struct cluster_transport *t = tcp->data;
	tune(t, stream, id);
	t->accept_cb(&t->iface, id, address, stream);
}

static int w_listen(struct raft_uv_transport *iface, raft_uv_accept_cb cb)
{
	struct cluster_transport *t = outer_of(iface);
	int rv;
	t->accept_cb = cb;
	rv = t->tcp.listen(&t->tcp, w_accept);
	if (rv != 0)
		snprintf(iface->errmsg, sizeof iface->errmsg, "%s", t->tcp.errmsg);
	return rv;
}

static void w_connect_cb(struct raft_uv_connect *inner, struct uv_stream_s *stream, int status)
{
	struct connect_req *req = inner->data;
	struct raft_uv_connect *outer = req->outer;
	raft_uv_connect_cb cb = req->cb;

	if (status == 0 && stream != NULL)
		tune(req->t, stream, 0);
	free(req);
	cb(outer, stream, status);
}

static int w_connect(struct raft_uv_transport *iface, struct raft_uv_connect *outer, raft_id id,
		     const char *address, raft_uv_connect_cb cb)
{
	struct cluster_transport *t = outer_of(iface);
	struct connect_req *req = calloc(1, sizeof *req);
	int rv;

	if (req == NULL)
		return RAFT_NOMEM;
	req->inner.data = req;
	req->outer = outer;
	req->cb = cb;
	req->t = t;
	outer->cb = cb;
	rv = t->tcp.connect(&t->tcp, &req->inner, id, address, w_connect_cb);
	if (rv != 0) {
		snprintf(iface->errmsg, sizeof iface->errmsg, "%s", t->tcp.errmsg);
		free(req);
	}
	return rv;
}

static void w_close_cb(struct raft_uv_transport *tcp)
{
	struct cluster_transport *t = tcp->data;
	if (t->close_cb != NULL)
		t->close_cb(&t->iface);
}

static void w_close(struct raft_uv_transport *iface, raft_uv_transport_close_cb cb)
{
	struct cluster_transport *t = outer_of(iface);
	t->close_cb = cb;
	t->tcp.close(&t->tcp, w_close_cb);
}

int cluster__transport_init(struct cluster_transport *t, uv_loop_t *loop,
			    unsigned user_timeout_ms, unsigned keepalive_s)
{
	int rv;
	memset(t, 0, sizeof *t);
	rv = raft_uv_tcp_init(&t->tcp, loop);
	if (rv != 0)
		return rv;
	t->tcp.data = t;
	t->user_timeout_ms = user_timeout_ms;
	t->keepalive_s = keepalive_s;
	t->iface.init = w_init;
	t->iface.listen = w_listen;
	t->iface.connect = w_connect;
	t->iface.close = w_close;
	return 0;
}

void cluster__transport_close(struct cluster_transport *t)
{
	raft_uv_tcp_close(&t->tcp);
}
