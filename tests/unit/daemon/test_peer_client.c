/*
 * The forward listener (control server on TCP) and the asynchronous peer
 * client, both on one loop in this thread: request and reply, progress
 * relayed, a refused connection, a peer that never answers, and cancel.
 */
#include "daemon/control_server.h"
#include "daemon/peer_client.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TCase *tcase_peer_client(void);

static uv_loop_t loop;
static struct control_server *srv;
static struct peer_client *pc;
static char addr[64];
static int done_rc, done_status, progress_seen, calls_done;
static char done_body[256], done_msg[256];
static struct control_conn *held; /* "hold" requests are answered later, or never */

static void dispatch(void *ctx, struct control_conn *conn, const struct control_request *req)
{
	(void)ctx;
	if (strcmp(req->argv[0], "hold") == 0) {
		held = conn;
		return;
	}
	if (strcmp(req->argv[0], "progress") == 0)
		control_conn_progress(conn, "half way\n");
	control_conn_reply(conn, (req->flags & CONTROL_F_FORWARDED) ? 5 : 0, req->argv[0]);
}

static void on_progress(void *data, const char *body)
{
	(void)data;
	if (strcmp(body, "half way\n") == 0)
		progress_seen++;
}

static void on_done(void *data, int rc, const struct control_response *resp, const char *msg)
{
	(void)data;
	done_rc = rc;
	done_status = resp ? resp->status : -1;
	snprintf(done_body, sizeof done_body, "%s", resp ? resp->body : "");
	snprintf(done_msg, sizeof done_msg, "%s", msg);
	calls_done++;
}

static void setup(void)
{
	struct tdm_err err = { "" };
	uv_loop_init(&loop);
	ck_assert_int_eq(control_server_start_tcp(&srv, &loop, "127.0.0.1:0", dispatch, NULL, &err), 0);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", control_server_port(srv));
	pc = peer_client_new(&loop);
	calls_done = progress_seen = 0;
	held = NULL;
}

static void teardown(void)
{
	peer_client_close(pc);
	control_server_close(srv);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

static void call(const char *word, uint32_t flags, int timeout_ms)
{
	char *argv[] = { (char *)word, NULL };
	struct control_request req = { flags, 1, argv };
	struct tdm_err err = { "" };
	int before = calls_done;
	ck_assert_int_eq(peer_call(pc, addr, &req, timeout_ms, on_progress, on_done, NULL, &err), 0);
	while (calls_done == before)
		uv_run(&loop, UV_RUN_ONCE);
}

START_TEST(request_reply)
{
	setup();
	ck_assert_uint_gt(control_server_port(srv), 0);
	call("hello", 0, 2000);
	ck_assert_int_eq(done_rc, 0);
	ck_assert_int_eq(done_status, 0);
	ck_assert_str_eq(done_body, "hello");
	call("progress", CONTROL_F_FORWARDED, 2000);
	ck_assert_int_eq(done_rc, 0);
	ck_assert_int_eq(done_status, 5); /* the flag went through */
	ck_assert_int_eq(progress_seen, 1);
	teardown();
}
END_TEST

START_TEST(refused_and_timeout)
{
	setup();
	strcpy(addr, "127.0.0.1:1"); /* nobody listens on port 1 */
	call("x", 0, 2000);
	ck_assert_int_eq(done_rc, TDM_EIO);
	ck_assert_ptr_nonnull(strstr(done_msg, "cannot connect"));
	snprintf(addr, sizeof addr, "127.0.0.1:%u", control_server_port(srv));
	call("hold", 0, 100);
	ck_assert_int_eq(done_rc, TDM_ETIMEOUT);
	ck_assert_ptr_nonnull(strstr(done_msg, "no answer in time"));
	teardown();
}
END_TEST

START_TEST(cancel_on_close)
{
	char *argv[] = { "hold", NULL };
	struct control_request req = { 0, 1, argv };
	struct tdm_err err = { "" };
	setup();
	ck_assert_int_eq(peer_call(pc, addr, &req, 10000, NULL, on_done, NULL, &err), 0);
	while (held == NULL)
		uv_run(&loop, UV_RUN_ONCE);
	peer_client_close(pc);
	ck_assert_int_eq(calls_done, 1);
	ck_assert_int_eq(done_rc, TDM_ESHUTDOWN);
	pc = peer_client_new(&loop);
	control_conn_reply(held, 0, "late"); /* the client is gone: harmless */
	teardown();
}
END_TEST

START_TEST(bad_address)
{
	char *argv[] = { "x", NULL };
	struct control_request req = { 0, 1, argv };
	struct tdm_err err = { "" };
	setup();
	ck_assert_int_eq(peer_call(pc, "localhost:80", &req, 100, NULL, on_done, NULL, &err), TDM_EINVAL);
	ck_assert_int_eq(calls_done, 0);
	teardown();
}
END_TEST

TCase *tcase_peer_client(void)
{
	TCase *tc = tcase_create("peer_client");
	tcase_add_test(tc, request_reply);
	tcase_add_test(tc, refused_and_timeout);
	tcase_add_test(tc, cancel_on_close);
	tcase_add_test(tc, bad_address);
	return tc;
}
