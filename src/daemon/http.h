/*
 * The health and metrics listener: a libmicrohttpd server on its own
 * thread answering GET requests (/health, /metrics) from a snapshot the
 * event loop publishes.  HTTP parsing is libmicrohttpd's, not ours.
 *
 * The handler runs on libmicrohttpd's thread: it must only read the
 * snapshot through the lock the owner provides (see daemon_http_handler).
 */
#ifndef TDM_DAEMON_HTTP_H
#define TDM_DAEMON_HTTP_H

#include "common/error.h"

struct daemon_http;

/** What a handler answers.  `body` is malloc'd and taken over by the server. */
struct daemon_http_reply {
	unsigned status;          /* 200, 404, 503 ... */
	const char *content_type; /* static string */
	char *body;
	size_t body_len;
};

/**
 * Called for each GET with the path ("/health").  Runs on the server's
 * thread.  Fills reply; an unknown path gets 404 from the handler.
 */
typedef void (*daemon_http_handler)(void *ctx, const char *path,
				    struct daemon_http_reply *reply);

/**
 * Listen on "a.b.c.d:port" (IPv4) or "[v6]:port".
 * @param out caller stops with daemon_http_stop().
 * @return 0, TDM_EINVAL (bad address), TDM_EIO (cannot bind).
 */
int daemon_http_start(struct daemon_http **out, const char *address,
		      daemon_http_handler handler, void *ctx,
		      struct tdm_err *err);

/** The port actually bound (useful when the address said port 0). */
unsigned daemon_http_port(const struct daemon_http *http);

void daemon_http_stop(struct daemon_http *http);

#endif
