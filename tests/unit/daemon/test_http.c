/* Health/metrics listener: real libmicrohttpd on loopback, port 0. */
#include "daemon/http.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

TCase *tcase_http(void);

static void handler(void *ctx, const char *path, struct daemon_http_reply *reply)
{
	(void)ctx;
	if (strcmp(path, "/health") == 0) {
		reply->status = 503;
		reply->content_type = "application/json";
		reply->body = strdup("{\"healthy\":false}");
	}
}

/* GET path from 127.0.0.1:port; returns the whole response text. */
static char *get(unsigned port, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[256], *buf = calloc(1, 8192);
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, buf + got, 8191 - got)) > 0)
		got += (size_t)n;
	close(fd);
	return buf;
}

START_TEST(health_and_not_found)
{
	struct daemon_http *http;
	struct tdm_err err = { "" };
	char *r;
	ck_assert_int_eq(daemon_http_start(&http, "127.0.0.1:0", handler, NULL, &err), 0);
	ck_assert_uint_gt(daemon_http_port(http), 0);
	r = get(daemon_http_port(http), "/health");
	ck_assert_ptr_nonnull(strstr(r, " 503 "));
	ck_assert_ptr_nonnull(strstr(r, "{\"healthy\":false}"));
	ck_assert_ptr_nonnull(strstr(r, "application/json"));
	free(r);
	r = get(daemon_http_port(http), "/nope");
	ck_assert_ptr_nonnull(strstr(r, " 404 "));
	free(r);
	daemon_http_stop(http);
}
END_TEST

START_TEST(bad_addresses)
{
	struct daemon_http *http;
	struct tdm_err err = { "" };
	ck_assert_int_eq(daemon_http_start(&http, "localhost:80", handler, NULL, &err), TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "localhost:80"));
	ck_assert_int_eq(daemon_http_start(&http, "127.0.0.1", handler, NULL, &err), TDM_EINVAL);
	ck_assert_int_eq(daemon_http_start(&http, "127.0.0.1:99999", handler, NULL, &err), TDM_EINVAL);
	ck_assert_int_eq(daemon_http_start(&http, "[::1:80", handler, NULL, &err), TDM_EINVAL);
}
END_TEST

TCase *tcase_http(void)
{
	TCase *tc = tcase_create("http");
	tcase_add_test(tc, health_and_not_found);
	tcase_add_test(tc, bad_addresses);
	return tc;
}
