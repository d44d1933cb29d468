/*
 * Asynchronous control calls to other nodes (see peer_client.h).
 *
 * Each call owns a TCP handle and a timer; it is freed when both have
 * closed.  The done callback runs once, from whichever comes first: the
 * final response, an error, the timer, or peer_client_close().
 */
#include "daemon/peer_client.h"
#include "daemon/address.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct peer_client {
	uv_loop_t *loop;
	struct call *calls;  /* in flight */
};

struct call {
	struct peer_client *pc;
	struct call *next;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	uv_write_t write;
	uint8_t *frame;      /* the request, until written */
	size_t frame_len;
	int connect_rc;      /* uv_tcp_connect failed at once: reported from the timer */
	uint8_t *buf;        /* received bytes */
	size_t len, cap;
	int open_handles;
	int finished;        /* done has run */
	peer_progress_fn progress;
	peer_done_fn done;
	void *data;
	char address[64];
};

struct peer_client *peer_client_new(uv_loop_t *loop)
{
	struct peer_client *pc = tdm_calloc(1, sizeof *pc);
	pc->loop = loop;
	return pc;
}

static void on_handle_closed(uv_handle_t *h)
{
	struct call *c = h->data;
	if (--c->open_handles > 0)
		return;
	free(c->frame);
	free(c->buf);
	free(c);
}

/* Report the outcome once, unlink the call and close its handles. */
static void finish(struct call *c, int rc, const struct control_response *resp,
		   const char *msg)
{
	struct call **pp;
	if (c->finished)
		return;
	c->finished = 1;
	for (pp = &c->pc->calls; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->done(c->data, rc, resp, msg);
	uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void fail(struct call *c, int rc, const char *fmt, const char *detail)
{
	char msg[256];
	snprintf(msg, sizeof msg, fmt, c->address, detail);
	finish(c, rc, NULL, msg);
}

static void on_timeout(uv_timer_t *t)
{
	struct call *c = t->data;
	if (c->connect_rc != 0)
		fail(c, TDM_EIO, "node at %s: cannot connect: %s", uv_strerror(c->connect_rc));
	else
		fail(c, TDM_ETIMEOUT, "node at %s: no answer in time%s", "");
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct call *c = h->data;
	(void)suggested;
	if (c->cap - c->len < 65536) {
		c->cap = c->cap ? c->cap * 2 : 65536;
		c->buf = tdm_realloc(c->buf, c->cap);
	}
	*b = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

/* Consume whole frames: progress frames are relayed, the last one ends the call. */
static void parse_frames(struct call *c)
{
	while (!c->finished && c->len >= CONTROL_HEADER_LEN) {
		struct tdm_err err = { "" };
		struct control_response resp;
		enum control_kind kind;
		uint32_t plen;
		size_t total;
		if (control_header_decode(c->buf, &kind, &plen, &err) != 0 ||
		    kind != CONTROL_RESPONSE) {
			fail(c, TDM_EPROTO, "node at %s: bad answer: %s",
			     err.msg[0] ? err.msg : "a request frame");
			return;
		}
		total = CONTROL_HEADER_LEN + (size_t)plen;
		if (c->len < total)
			return;
		if (control_response_decode(c->buf + CONTROL_HEADER_LEN, plen, &resp, &err) != 0) {
			fail(c, TDM_EPROTO, "node at %s: bad answer: %s", err.msg);
			return;
		}
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
		if (resp.flags & CONTROL_F_PROGRESS) {
			if (c->progress)
				c->progress(c->data, resp.body);
		} else {
			finish(c, 0, &resp, "");
		}
		control_response_clear(&resp);
	}
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct call *c = s->data;
	(void)b;
	if (n < 0) {
		fail(c, TDM_EIO, "node at %s: connection lost before the answer (%s)",
		     uv_strerror((int)n));
		return;
	}
	c->len += (size_t)n;
	if (c->len > CONTROL_HEADER_LEN + (size_t)CONTROL_MAX_PAYLOAD) {
		fail(c, TDM_EPROTO, "node at %s: answer too large%s", "");
		return;
	}
	parse_frames(c);
}

static void on_written(uv_write_t *w, int status)
{
	struct call *c = w->data;
	free(c->frame);
	c->frame = NULL;
	if (status != 0 && status != UV_ECANCELED)
		fail(c, TDM_EIO, "node at %s: cannot send: %s", uv_strerror(status));
}

static void on_connect(uv_connect_t *req, int status)
{
	struct call *c = req->data;
	uv_buf_t b;
	if (c->finished)
		return;
	if (status != 0) {
		fail(c, TDM_EIO, "node at %s: cannot connect: %s", uv_strerror(status));
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	b = uv_buf_init((char *)c->frame, (unsigned)c->frame_len);
	c->write.data = c;
	if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
		fail(c, TDM_EIO, "node at %s: cannot send%s", "");
}

int peer_call(struct peer_client *pc, const char *address,
	      const struct control_request *req, int timeout_ms,
	      peer_progress_fn progress, peer_done_fn done, void *data,
	      struct tdm_err *err)
{
	struct sockaddr_storage ss;
	struct call *c;
	size_t len;
	uint8_t *frame;
	int rc = daemon_parse_address(address, &ss, err);
	if (rc != 0)
		return rc;
	rc = control_request_encode(req, &frame, &len, err);
	if (rc != 0)
		return rc;
	c = tdm_calloc(1, sizeof *c);
	c->pc = pc;
	c->frame = frame;
	c->frame_len = len;
	c->progress = progress;
	c->done = done;
	c->data = data;
	snprintf(c->address, sizeof c->address, "%s", address);
	uv_tcp_init(pc->loop, &c->tcp);
	uv_timer_init(pc->loop, &c->timer);
	c->tcp.data = c->timer.data = c->connect.data = c;
	c->open_handles = 2;
	c->next = pc->calls;
	pc->calls = c;
	uv_timer_start(&c->timer, on_timeout, (uint64_t)(timeout_ms > 0 ? timeout_ms : 1), 0);
	rc = uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&ss, on_connect);
	if (rc != 0) {
		/* Report through the callback, as promised, but not re-entrantly. */
		c->connect_rc = rc;
		uv_timer_start(&c->timer, on_timeout, 0, 0);
	}
	return 0;
}

void peer_client_close(struct peer_client *pc)
{
	if (pc == NULL)
		return;
	while (pc->calls != NULL)
		fail(pc->calls, TDM_ESHUTDOWN, "node at %s: call cancelled: %s",
		     "tandemd is shutting down");
	free(pc);
}
