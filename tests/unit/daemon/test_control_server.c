/* Control server: real UNIX socket, loop on a thread, blocking client. */
#include "daemon/control_server.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

TCase *tcase_control_server(void);

static uv_loop_t loop;
static uv_async_t stop_async;
static struct control_server *srv;
static char sock_path[96];
static int dispatched;

static void dispatch(void *ctx, struct control_conn *conn, const struct control_request *req)
{
	char body[512] = "";
	int i;
	(void)ctx;
	dispatched++;
	for (i = 0; i < req->argc; i++) {
		strcat(body, req->argv[i]);
		strcat(body, i + 1 < req->argc ? " " : "\n");
	}
	if (req->argc > 0 && strcmp(req->argv[0], "progress") == 0)
		control_conn_progress(conn, "step 1\n");
	control_conn_reply(conn, (control_conn_flags(conn) & CONTROL_F_JSON) ? 7 : 0, body);
}

static void on_stop(uv_async_t *a)
{
	control_server_close(srv);
	uv_close((uv_handle_t *)a, NULL);
}

static void *run_loop(void *arg)
{
	(void)arg;
	uv_run(&loop, UV_RUN_DEFAULT);
	return NULL;
}

static pthread_t start(void)
{
	struct tdm_err err = { "" };
	pthread_t t;
	snprintf(sock_path, sizeof sock_path, "/tmp/tdm-ctl-%ld.sock", (long)getpid());
	uv_loop_init(&loop);
	uv_async_init(&loop, &stop_async, on_stop);
	ck_assert_int_eq(control_server_start(&srv, &loop, sock_path, dispatch, NULL, &err), 0);
	pthread_create(&t, NULL, run_loop, NULL);
	return t;
}

static void stop(pthread_t t)
{
	uv_async_send(&stop_async);
	pthread_join(t, NULL);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_ne(access(sock_path, F_OK), 0);
}

START_TEST(request_reply)
{
	const char *argv[] = { "cluster", "status", NULL };
	struct control_request req = { CONTROL_F_JSON, 2, (char **)argv };
	struct control_response resp;
	struct tdm_err err = { "" };
	pthread_t t = start();
	ck_assert_int_eq(control_call(sock_path, &req, &resp, 5000, &err), 0);
	ck_assert_int_eq(resp.status, 7);
	ck_assert_str_eq(resp.body, "cluster status\n");
	control_response_clear(&resp);
	argv[0] = "progress";
	req.flags = 0;
	ck_assert_int_eq(control_call(sock_path, &req, &resp, 5000, &err), 0);
	ck_assert_int_eq(resp.status, 0);
	ck_assert_str_eq(resp.body, "progress status\n");
	control_response_clear(&resp);
	stop(t);
}
END_TEST

START_TEST(garbage_refused_nothing_dispatched)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint8_t garbage[32] = "GET / HTTP/1.0\r\n\r\n", in[256];
	struct control_response resp;
	struct tdm_err err = { "" };
	enum control_kind kind;
	uint32_t plen;
	ssize_t n;
	pthread_t t = start();
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	dispatched = 0;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(write(fd, garbage, sizeof garbage), (ssize_t)sizeof garbage);
	n = read(fd, in, sizeof in);
	ck_assert_int_gt(n, CONTROL_HEADER_LEN);
	ck_assert_int_eq(control_header_decode(in, &kind, &plen, &err), 0);
	ck_assert_int_eq(control_response_decode(in + CONTROL_HEADER_LEN, plen, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 2);
	ck_assert_ptr_nonnull(strstr(resp.body, "magic"));
	control_response_clear(&resp);
	ck_assert_int_eq(read(fd, in, sizeof in), 0); /* closed by the server */
	close(fd);
	ck_assert_int_eq(dispatched, 0);
	stop(t);
}
END_TEST

START_TEST(second_daemon_refused)
{
	struct control_server *other;
	struct tdm_err err = { "" };
	uv_loop_t l2;
	pthread_t t = start();
	uv_loop_init(&l2);
	ck_assert_int_eq(control_server_start(&other, &l2, sock_path, dispatch, NULL, &err),
			 TDM_EEXIST);
	ck_assert_ptr_nonnull(strstr(err.msg, "another daemon"));
	uv_run(&l2, UV_RUN_DEFAULT);
	uv_loop_close(&l2);
	stop(t);
}
END_TEST

TCase *tcase_control_server(void)
{
	TCase *tc = tcase_create("control_server");
	tcase_add_test(tc, request_reply);
	tcase_add_test(tc, garbage_refused_nothing_dispatched);
	tcase_add_test(tc, second_daemon_refused);
	return tc;
}
