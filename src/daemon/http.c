/*
 * Health and metrics over HTTP with libmicrohttpd (see http.h).
 */
#include "daemon/http.h"
#include "daemon/address.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct daemon_http {
	struct MHD_Daemon *mhd;
	daemon_http_handler handler;
	void *ctx;
	unsigned port;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct daemon_http *http = cls;
	struct daemon_http_reply reply = { 404, "text/plain", NULL, 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	static int first_call_marker;

	/* First call announces the request; answer on the second. */
	if (*req_cls == NULL) {
		*req_cls = &first_call_marker;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		reply.status = 405;
		reply.body = strdup("method not allowed\n");
	} else {
		http->handler(http->ctx, url, &reply);
	}
	if (reply.body == NULL) {
		reply.body = strdup(reply.status == 404 ? "not found\n" : "");
	}
	if (reply.body_len == 0)
		reply.body_len = strlen(reply.body);
	resp = MHD_create_response_from_buffer(reply.body_len, reply.body,
					       MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", reply.content_type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(conn, reply.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int daemon_http_start(struct daemon_http **out, const char *address,
		      daemon_http_handler handler, void *ctx,
		      struct tdm_err *err)
{
	struct sockaddr_storage ss;
	struct daemon_http *http;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int rc = daemon_parse_address(address, &ss, err);
	if (rc != 0)
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	http = tdm_calloc(1, sizeof *http);
	http->handler = handler;
	http->ctx = ctx;
	http->mhd = MHD_start_daemon(flags, 0, NULL, NULL, answer, http,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				     MHD_OPTION_END);
	if (http->mhd == NULL) {
		free(http);
		return tdm_err_fail(err, TDM_EIO, "HTTP listener %s: cannot listen (address in use?)",
				    address);
	}
	info = MHD_get_daemon_info(http->mhd, MHD_DAEMON_INFO_BIND_PORT);
	http->port = info ? info->port : 0;
	*out = http;
	return 0;
}

unsigned daemon_http_port(const struct daemon_http *http)
{
	return http->port;
}

void daemon_http_stop(struct daemon_http *http)
{
	if (http == NULL)
		return;
	MHD_stop_daemon(http->mhd);
	free(http);
}
