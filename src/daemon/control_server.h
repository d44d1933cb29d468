/*
 * The control socket server: a libuv listener, on a UNIX socket (the CLIs)
 * or on TCP (the forward listener other nodes send writes and queries to),
 * that reads control frames (control.h) and hands each request to a
 * dispatcher.  The
 * dispatcher answers at once or later (a write waits for its Raft commit)
 * with control_conn_reply(); it may send progress first with
 * control_conn_progress().  One request is served per connection at a time.
 * Everything runs on the loop thread.
 */
#ifndef TDM_DAEMON_CONTROL_SERVER_H
#define TDM_DAEMON_CONTROL_SERVER_H

#include <uv.h>

#include "daemon/control.h"

struct control_server;
struct control_conn;

/**
 * Called once per decoded request.  `req` is borrowed until the reply.
 * The dispatcher must eventually call control_conn_reply() exactly once.
 */
typedef void (*control_dispatch_fn)(void *ctx, struct control_conn *conn,
				    const struct control_request *req);

/**
 * Listen on the UNIX socket `path` (a stale socket file is replaced; a live
 * one, i.e. another daemon answering, is refused).  Mode 0660.
 * @param out caller closes with control_server_close().
 */
int control_server_start(struct control_server **out, uv_loop_t *loop,
			 const char *path, control_dispatch_fn dispatch,
			 void *ctx, struct tdm_err *err);

/**
 * Listen on TCP at "a.b.c.d:port" (or "[v6]:port"; port 0 picks one) for
 * control frames from other nodes.  Connections get TCP_NODELAY and
 * keepalive.  No authentication: bind it to the cluster's private network.
 * @param out caller closes with control_server_close().
 * @return 0, TDM_EINVAL (bad address), TDM_EIO (cannot bind).
 */
int control_server_start_tcp(struct control_server **out, uv_loop_t *loop,
			     const char *address, control_dispatch_fn dispatch,
			     void *ctx, struct tdm_err *err);

/** The TCP port bound (0 for a UNIX socket). */
unsigned control_server_port(const struct control_server *srv);

/**
 * Stop accepting connections (and unlink the socket file) but keep serving
 * the connections already open: the first step of a clean shutdown.
 * NULL is fine.
 */
void control_server_stop_listening(struct control_server *srv);

/** Stop listening, close every connection, unlink the socket (if UNIX).  NULL is fine. */
void control_server_close(struct control_server *srv);

/** Send the final answer (body copied).  Safe after the client went away. */
void control_conn_reply(struct control_conn *conn, int status,
			const char *body);

/** Send a progress line before the final answer (body copied). */
void control_conn_progress(struct control_conn *conn, const char *body);

/** Has the client hung up?  (A long command may stop early.) */
int control_conn_is_closed(const struct control_conn *conn);

/** Flags of the request being served (CONTROL_F_JSON ...). */
uint32_t control_conn_flags(const struct control_conn *conn);

#endif
