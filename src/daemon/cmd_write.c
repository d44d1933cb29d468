/*
 * Write commands that commit ledger entries directly: `test submit`
 * (TEST commands, for replication tests), `barrier` (a NOOP whose index
 * tells readers what is committed) and `entry submit` (an encoded entry
 * as it is: the leader's side of a retry forwarded by another node, and a
 * way for tests to hand the leader malformed entries).
 */
#include "daemon/daemon_int.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options "--name VALUE" as unsigned numbers; 0 or TDM_EINVAL with a message. */
int daemon__opt_uint(const struct control_request *req, int argi, const char *const *names,
		     uint64_t *values, char *msg, size_t cap)
{
	for (int i = argi; i < req->argc; i += 2) {
		size_t k;
		char *end;
		for (k = 0; names[k] != NULL; k++)
			if (strcmp(req->argv[i], names[k]) == 0)
				break;
		if (names[k] == NULL) {
			snprintf(msg, cap, "error: unknown option \"%.60s\"\n", req->argv[i]);
			return TDM_EINVAL;
		}
		if (i + 1 >= req->argc) {
			snprintf(msg, cap, "error: %s needs a value\n", names[k]);
			return TDM_EINVAL;
		}
		values[k] = strtoull(req->argv[i + 1], &end, 10);
		if (*end != '\0' || req->argv[i + 1][0] < '0' || req->argv[i + 1][0] > '9') {
			snprintf(msg, cap, "error: %s: \"%.60s\" is not a number\n", names[k],
				 req->argv[i + 1]);
			return TDM_EINVAL;
		}
	}
	return 0;
}

/* A TEST command of `size` encoded bytes (header and padding included). */
size_t daemon__test_payload_len(size_t size)
{
	struct ledger_cmd cmd = { .type = LEDGER_CMD_TEST };
	size_t overhead = ledger_cmd_encoded_size(&cmd);
	return size > overhead ? size - overhead : 0;
}

/*- test submit ------------------------------------------------------------*/

struct batch {
	struct daemon *d;
	struct control_conn *conn;
	uint64_t asked;         /* --count */
	uint64_t total, done, ok, refused, failed, last_index;
	char first_error[200];
	uint8_t *payload;
};

static void batch_done(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct batch *b = data;
	char *out;
	b->done++;
	if (status == 0 && (res->status == LEDGER_OK || res->status == LEDGER_DUPLICATE)) {
		b->ok++;
		if (res->index > b->last_index)
			b->last_index = res->index;
	} else {
		if (status == 0)
			b->refused++;
		else
			b->failed++;
		if (b->first_error[0] == '\0')
			snprintf(b->first_error, sizeof b->first_error, "%s",
				 status == 0 ? res->msg : msg);
	}
	if (b->done < b->total)
		return;
	if (daemon__json(b->conn)) {
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_uint(&j, "asked", b->asked);
		tdm_json_kv_uint(&j, "submitted", b->total);
		tdm_json_kv_uint(&j, "committed", b->ok);
		tdm_json_kv_uint(&j, "refused", b->refused);
		tdm_json_kv_uint(&j, "failed", b->failed);
		tdm_json_kv_uint(&j, "last_index", b->last_index);
		tdm_json_kv_string(&j, "error", b->first_error[0] ? b->first_error : NULL);
		tdm_json_object_end(&j);
		out = daemon__sprintf("%s\n", tdm_json_text(&j));
		tdm_json_free(&j);
	} else {
		out = daemon__sprintf("committed %llu of %llu TEST commands, last index %llu%s%s\n",
				      (unsigned long long)b->ok, (unsigned long long)b->asked,
				      (unsigned long long)b->last_index,
				      b->first_error[0] ? "; first error: " : "", b->first_error);
	}
	/* Fewer sent than asked: leadership moved half-way; the rest was never
	 * submitted, so "retry" is the honest answer. */
	daemon__reply(b->d, b->conn, b->ok == b->asked ? CONTROL_EXIT_OK :
				     b->refused ? CONTROL_EXIT_FAIL : CONTROL_EXIT_UNAVAILABLE, out);
	free(out);
	free(b->payload);
	free(b);
}

void daemon__cmd_test_submit(struct daemon *d, struct control_conn *conn,
			     const struct control_request *req, int argi)
{
	static const char *const names[] = { "--size", "--count", NULL };
	uint64_t v[2] = { 64, 1 };
	char msg[200];
	struct batch *b;
	size_t plen;
	if (daemon__opt_uint(req, argi, names, v, msg, sizeof msg) != 0) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, msg);
		return;
	}
	if (v[0] > LEDGER_ENTRY_MAX || v[1] == 0 || v[1] > 1000000) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE,
			      "error: --size at most 1048576, --count 1..1000000\n");
		return;
	}
	b = tdm_calloc(1, sizeof *b);
	b->d = d;
	b->conn = conn;
	b->total = b->asked = v[1];
	plen = daemon__test_payload_len(v[0]);
	b->payload = tdm_malloc(plen + 8);
	for (size_t i = 0; i < plen + 8; i++)
		b->payload[i] = (uint8_t)(i * 131 + 7);
	for (uint64_t i = 0; i < v[1]; i++) {
		struct ledger_cmd cmd = { .type = LEDGER_CMD_TEST };
		struct tdm_err err = { "" };
		/* Vary the payload so a reordered entry changes the test hash. */
		cmd.test.payload.data = b->payload + (i % 8);
		cmd.test.payload.len = plen;
		if (writer_submit(d->writer, &cmd, batch_done, b, &err) != 0) {
			b->total = i; /* the callbacks of those sent will finish it */
			snprintf(b->first_error, sizeof b->first_error, "%s", err.msg);
			if (i == 0) {
				char *out = daemon__sprintf("error: %s\n", err.msg);
				daemon__reply(d, conn, CONTROL_EXIT_UNAVAILABLE, out);
				free(out);
				free(b->payload);
				free(b);
			}
			return;
		}
	}
}

/*- barrier --------------------------------------------------------------------*/

struct one {
	struct daemon *d;
	struct control_conn *conn;
};

static void barrier_done(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct one *o = data;
	char *out;
	if (status != 0) {
		out = daemon__sprintf("error: barrier: %s\n", msg);
		daemon__reply(o->d, o->conn, CONTROL_EXIT_UNAVAILABLE, out);
	} else {
		out = daemon__sprintf("index %llu\n", (unsigned long long)res->index);
		daemon__reply(o->d, o->conn, CONTROL_EXIT_OK, out);
	}
	free(out);
	free(o);
}

int daemon__submit_noop(struct daemon *d, writer_cb cb, void *data, struct tdm_err *err)
{
	/* Origin 0: no command id, so the dedupe table (and the digest) stay as
	 * they are; a lost barrier is simply asked for again. */
	struct ledger_cmd cmd = { .type = LEDGER_CMD_NOOP };
	uint8_t buf[LEDGER_HEADER_SIZE + 32];
	size_t len;
	int rc = ledger_cmd_encode_into(&cmd, buf, sizeof buf, &len, err);
	if (rc == 0)
		rc = writer_submit_raw(d->writer, buf, len, cb, data, err);
	return rc;
}

void daemon__cmd_barrier(struct daemon *d, struct control_conn *conn,
			 const struct control_request *req, int argi)
{
	struct tdm_err err = { "" };
	struct one *o = tdm_calloc(1, sizeof *o);
	(void)argi;
	o->d = d;
	o->conn = conn;
	if (daemon__submit_noop(d, barrier_done, o, &err) != 0) {
		free(o);
		daemon__not_leader(d, conn, req);
	}
}

/*- entry submit -------------------------------------------------------------*/

static void entry_done(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct one *o = data;
	char text[400], *out;
	if (status != 0) {
		/* Not appended, or outcome unknown: the sender retries the same id. */
		out = daemon__sprintf("error: entry not committed here: %s\n", msg);
		daemon__reply(o->d, o->conn, CONTROL_EXIT_UNAVAILABLE, out);
		free(out);
	} else {
		/* The first line is for the retrying writer (writer_result_parse). */
		writer_result_format(res, text, sizeof text);
		strncat(text, "\n", sizeof text - strlen(text) - 1);
		daemon__reply(o->d, o->conn, res->status == LEDGER_OK || res->status == LEDGER_DUPLICATE
					       ? CONTROL_EXIT_OK : CONTROL_EXIT_FAIL, text);
	}
	free(o);
}

void daemon__cmd_entry_submit(struct daemon *d, struct control_conn *conn,
			      const struct control_request *req, int argi)
{
	struct tdm_err err = { "" };
	struct ledger_cmd cmd;
	uint8_t *buf;
	size_t len;
	struct one *o;
	char *out;
	int rc = writer_entry_from_args(req->argc - argi, req->argv + argi, &buf, &len, &err);
	if (rc != 0) {
		out = daemon__sprintf("error: %s\n", err.msg);
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, out);
		free(out);
		return;
	}
	/* Refuse what would only be refused by apply: nothing reaches the log. */
	rc = ledger_cmd_decode(buf, len, &cmd, &err);
	ledger_cmd_clear(&cmd);
	if (rc != 0) {
		out = daemon__sprintf("error: entry refused, nothing committed: %s\n", err.msg);
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, out);
		free(out);
		free(buf);
		return;
	}
	o = tdm_calloc(1, sizeof *o);
	o->d = d;
	o->conn = conn;
	rc = writer_submit_raw(d->writer, buf, len, entry_done, o, &err);
	free(buf);
	if (rc != 0) {
		free(o);
		out = daemon__sprintf("error: %s\n", err.msg);
		daemon__reply(d, conn, rc == TDM_ENOTLEADER || rc == TDM_EAGAIN ||
					       rc == TDM_ESHUTDOWN ? CONTROL_EXIT_UNAVAILABLE
								   : CONTROL_EXIT_FAIL, out);
		free(out);
	}
}
