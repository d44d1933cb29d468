/*
 * Control socket server on a libuv pipe or TCP listener (see
 * control_server.h).
 *
 * A connection buffers bytes until a whole frame is present, decodes it
 * strictly, and hands the request on.  A malformed frame gets a response
 * with status 2 and the decoder's message, then the connection is closed:
 * nothing is dispatched, nothing changes.  Connections are reference
 * counted so that a dispatcher may reply after the client disconnected.
 */
#include "daemon/control_server.h"
#include "common/log.h"
#include "daemon/address.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A pipe or a TCP stream: the code below only uses the uv_stream_t part. */
union control_handle {
	uv_handle_t handle;
	uv_stream_t stream;
	uv_pipe_t pipe;
	uv_tcp_t tcp;
};

struct control_server {
	union control_handle h;
	uv_loop_t *loop;
	int tcp;           /* 1: TCP listener (forward port), 0: UNIX socket */
	unsigned port;     /* TCP: the port bound */
	char *path;        /* UNIX: the socket file, unlinked on close */
	int listener_open; /* the listening handle is not closed yet */
	int close_requested;
	control_dispatch_fn dispatch;
	void *ctx;
	struct control_conn *conns; /* open connections, for close */
};

struct control_conn {
	union control_handle h;
	struct control_server *srv;
	struct control_conn *next;
	uint8_t *buf;
	size_t len, cap;
	int refs;          /* pipe handle + an outstanding request */
	int closed;
	int busy;          /* a request is being served */
	struct control_request req;
};

struct write_req {
	uv_write_t w;
	uint8_t *frame;
	struct control_conn *conn;
};

static void conn_unref(struct control_conn *conn)
{
	if (--conn->refs > 0)
		return;
	control_request_clear(&conn->req);
	free(conn->buf);
	free(conn);
}

static void on_conn_closed(uv_handle_t *h)
{
	conn_unref((struct control_conn *)h->data);
}

static void conn_close(struct control_conn *conn)
{
	struct control_conn **pp;
	if (conn->closed)
		return;
	conn->closed = 1;
	for (pp = &conn->srv->conns; *pp; pp = &(*pp)->next)
		if (*pp == conn) {
			*pp = conn->next;
			break;
		}
	uv_close(&conn->h.handle, on_conn_closed);
}

static void on_written(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	(void)status;
	free(wr->frame);
	conn_unref(wr->conn);
	free(wr);
}

static void send_frame(struct control_conn *conn, int status, uint32_t flags,
		       const char *body)
{
	struct control_response resp = { status, flags, (char *)body, body ? strlen(body) : 0 };
	struct write_req *wr;
	uv_buf_t b;
	size_t len;
	if (conn->closed)
		return;
	wr = tdm_calloc(1, sizeof *wr);
	control_response_encode(&resp, &wr->frame, &len);
	wr->conn = conn;
	conn->refs++;
	b = uv_buf_init((char *)wr->frame, (unsigned)len);
	if (uv_write(&wr->w, &conn->h.stream, &b, 1, on_written) != 0) {
		free(wr->frame);
		free(wr);
		conn_unref(conn);
		conn_close(conn);
	}
}

static void try_dispatch(struct control_conn *conn);

void control_conn_reply(struct control_conn *conn, int status, const char *body)
{
	send_frame(conn, status, 0, body);
	conn->busy = 0;
	control_request_clear(&conn->req);
	if (!conn->closed)
		try_dispatch(conn); /* a pipelined request may be waiting */
	conn_unref(conn);           /* the request's reference */
}

void control_conn_progress(struct control_conn *conn, const char *body)
{
	send_frame(conn, 0, CONTROL_F_PROGRESS, body);
}

int control_conn_is_closed(const struct control_conn *conn)
{
	return conn->closed;
}

uint32_t control_conn_flags(const struct control_conn *conn)
{
	return conn->req.flags;
}

/* Decode and dispatch one whole frame if one is buffered. */
static void try_dispatch(struct control_conn *conn)
{
	struct tdm_err err = { "" };
	enum control_kind kind;
	uint32_t plen;
	size_t total;
	int rc;
	if (conn->busy || conn->len < CONTROL_HEADER_LEN)
		return;
	rc = control_header_decode(conn->buf, &kind, &plen, &err);
	if (rc == 0 && kind != CONTROL_REQUEST)
		rc = tdm_err_fail(&err, TDM_EPROTO, "control frame: expected a request");
	if (rc != 0)
		goto bad;
	total = CONTROL_HEADER_LEN + (size_t)plen;
	if (conn->len < total)
		return;
	rc = control_request_decode(conn->buf + CONTROL_HEADER_LEN, plen, &conn->req, &err);
	memmove(conn->buf, conn->buf + total, conn->len - total);
	conn->len -= total;
	if (rc != 0)
		goto bad;
	conn->busy = 1;
	conn->refs++;
	conn->srv->dispatch(conn->srv->ctx, conn, &conn->req);
	return;
bad:
	tdm_log_warn("control socket: refused a request: %s", err.msg);
	{
		char body[TDM_ERRMSG_SIZE + 16];
		snprintf(body, sizeof body, "error: %s\n", err.msg);
		send_frame(conn, CONTROL_EXIT_USAGE, 0, body);
	}
	conn_close(conn);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct control_conn *conn = h->data;
	(void)suggested;
	if (conn->cap - conn->len < 65536) {
		conn->cap = conn->cap ? conn->cap * 2 : 65536;
		conn->buf = tdm_realloc(conn->buf, conn->cap);
	}
	*b = uv_buf_init((char *)conn->buf + conn->len, (unsigned)(conn->cap - conn->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct control_conn *conn = s->data;
	(void)b;
	if (n < 0) {
		conn_close(conn);
		return;
	}
	conn->len += (size_t)n;
	if (conn->len > CONTROL_HEADER_LEN + (size_t)CONTROL_MAX_PAYLOAD) {
		conn_close(conn);
		return;
	}
	try_dispatch(conn);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct control_server *srv = server->data;
	struct control_conn *conn;
	if (status != 0)
		return;
	conn = tdm_calloc(1, sizeof *conn);
	conn->srv = srv;
	conn->refs = 1;
	if (srv->tcp)
		uv_tcp_init(srv->loop, &conn->h.tcp);
	else
		uv_pipe_init(srv->loop, &conn->h.pipe, 0);
	conn->h.handle.data = conn;
	if (uv_accept(server, &conn->h.stream) != 0) {
		conn->closed = 1;
		uv_close(&conn->h.handle, on_conn_closed);
		return;
	}
	if (srv->tcp) {
		uv_tcp_nodelay(&conn->h.tcp, 1);
		uv_tcp_keepalive(&conn->h.tcp, 1, 10);
	}
	conn->next = srv->conns;
	srv->conns = conn;
	uv_read_start(&conn->h.stream, on_alloc, on_read);
}

/* Is a daemon answering on this socket path? */
static int socket_is_live(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), live;
	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	live = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return live;
}

static void server_free(struct control_server *srv)
{
	free(srv->path);
	free(srv);
}

static void on_server_closed(uv_handle_t *h)
{
	struct control_server *srv = h->data;
	srv->listener_open = 0;
	if (srv->close_requested)
		server_free(srv);
}

int control_server_start(struct control_server **out, uv_loop_t *loop,
			 const char *path, control_dispatch_fn dispatch,
			 void *ctx, struct tdm_err *err)
{
	struct control_server *srv;
	int rc;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return tdm_err_fail(err, TDM_EINVAL, "control socket path too long: %s", path);
	if (socket_is_live(path))
		return tdm_err_fail(err, TDM_EEXIST,
				    "control socket %s: another daemon is answering there", path);
	unlink(path);
	srv = tdm_calloc(1, sizeof *srv);
	srv->loop = loop;
	srv->path = tdm_strdup(path);
	srv->dispatch = dispatch;
	srv->ctx = ctx;
	uv_pipe_init(loop, &srv->h.pipe, 0);
	srv->h.handle.data = srv;
	srv->listener_open = 1;
	rc = uv_pipe_bind(&srv->h.pipe, path);
	if (rc == 0) {
		chmod(path, 0660);
		rc = uv_listen(&srv->h.stream, 64, on_connection);
	}
	if (rc != 0) {
		tdm_err_set(err, "control socket %s: %s", path, uv_strerror(rc));
		srv->close_requested = 1;
		uv_close(&srv->h.handle, on_server_closed);
		return TDM_EIO;
	}
	*out = srv;
	return 0;
}

void control_server_stop_listening(struct control_server *srv)
{
	if (srv == NULL || uv_is_closing(&srv->h.handle))
		return;
	if (srv->path != NULL)
		unlink(srv->path);
	uv_close(&srv->h.handle, on_server_closed);
}

void control_server_close(struct control_server *srv)
{
	if (srv == NULL)
		return;
	while (srv->conns != NULL)
		conn_close(srv->conns);
	control_server_stop_listening(srv);
	srv->close_requested = 1;
	if (!srv->listener_open)
		server_free(srv);
}

int control_server_start_tcp(struct control_server **out, uv_loop_t *loop,
			     const char *address, control_dispatch_fn dispatch,
			     void *ctx, struct tdm_err *err)
{
	struct sockaddr_storage ss;
	struct control_server *srv;
	int namelen = (int)sizeof ss, rc;
	rc = daemon_parse_address(address, &ss, err);
	if (rc != 0)
		return rc;
	srv = tdm_calloc(1, sizeof *srv);
	srv->loop = loop;
	srv->tcp = 1;
	srv->dispatch = dispatch;
	srv->ctx = ctx;
	uv_tcp_init(loop, &srv->h.tcp);
	srv->h.handle.data = srv;
	srv->listener_open = 1;
	rc = uv_tcp_bind(&srv->h.tcp, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen(&srv->h.stream, 64, on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(&srv->h.tcp, (struct sockaddr *)&ss, &namelen);
	if (rc != 0) {
		tdm_err_set(err, "forward listener %s: %s", address, uv_strerror(rc));
		srv->close_requested = 1;
		uv_close(&srv->h.handle, on_server_closed);
		return TDM_EIO;
	}
	srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	*out = srv;
	return 0;
}

unsigned control_server_port(const struct control_server *srv)
{
	return srv->port;
}
