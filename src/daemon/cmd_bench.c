/*
 * `bench write --count N --size BYTES --inflight K`: the load generator of
 * the tests and of bench/cluster-bench.  It runs on the leader (a
 * follower forwards it) and keeps K TEST commands of BYTES bytes each
 * (the whole entry, header and padding included) in flight through the
 * writer until N have committed, then reports throughput and the commit
 * latency of each command (submit to applied on the leader): p50, p99, max.
 */
#include "daemon/daemon_int.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench {
	struct daemon *d;
	struct control_conn *conn;
	uint64_t count, size, inflight;
	uint64_t sent, done, ok, failed;
	uint64_t start_ns, last_progress_ns;
	uint64_t *lat_ns;      /* per command, by completion order */
	uint8_t *payload;
	size_t plen;
	char error[200];
	bool stop_sending;
	bool in_send;          /* send_more() is on the stack: no recursion */
};

struct slot {
	struct bench *b;
	uint64_t sent_ns;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void bench_finish(struct bench *b)
{
	double secs = (double)(uv_hrtime() - b->start_ns) / 1e9;
	double p50 = 0, p99 = 0, max = 0, rate, mbs;
	char *out;
	if (b->ok > 0) {
		qsort(b->lat_ns, b->ok, sizeof *b->lat_ns, cmp_u64);
		p50 = (double)b->lat_ns[(b->ok - 1) * 50 / 100] / 1e6;
		p99 = (double)b->lat_ns[(b->ok - 1) * 99 / 100] / 1e6;
		max = (double)b->lat_ns[b->ok - 1] / 1e6;
	}
	rate = secs > 0 ? (double)b->ok / secs : 0;
	mbs = rate * (double)b->size / 1e6;
	if (daemon__json(b->conn)) {
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_uint(&j, "count", b->count);
		tdm_json_kv_uint(&j, "size", b->size);
		tdm_json_kv_uint(&j, "inflight", b->inflight);
		tdm_json_kv_uint(&j, "committed", b->ok);
		tdm_json_kv_uint(&j, "failed", b->failed);
		tdm_json_kv_double(&j, "seconds", secs);
		tdm_json_kv_double(&j, "commands_per_s", rate);
		tdm_json_kv_double(&j, "mb_per_s", mbs);
		tdm_json_kv_double(&j, "p50_ms", p50);
		tdm_json_kv_double(&j, "p99_ms", p99);
		tdm_json_kv_double(&j, "max_ms", max);
		tdm_json_kv_string(&j, "error", b->error[0] ? b->error : NULL);
		tdm_json_object_end(&j);
		out = daemon__sprintf("%s\n", tdm_json_text(&j));
		tdm_json_free(&j);
	} else {
		out = daemon__sprintf("committed %llu of %llu commands of %llu bytes, %llu in flight, in %.2f s: "
				      "%.0f commands/s, %.1f MB/s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms%s%s\n",
				      (unsigned long long)b->ok, (unsigned long long)b->count,
				      (unsigned long long)b->size, (unsigned long long)b->inflight, secs,
				      rate, mbs, p50, p99, max, b->error[0] ? "; first error: " : "",
				      b->error);
	}
	tdm_log_notice("bench write: %llu x %llu bytes, %llu in flight: %.1f MB/s, p50 %.2f ms, p99 %.2f ms",
		       (unsigned long long)b->ok, (unsigned long long)b->size,
		       (unsigned long long)b->inflight, mbs, p50, p99);
	daemon__reply(b->d, b->conn, b->ok == b->count ? CONTROL_EXIT_OK : CONTROL_EXIT_FAIL, out);
	free(out);
	free(b->lat_ns);
	free(b->payload);
	free(b);
}

static void send_more(struct bench *b);

static void on_done(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct slot *s = data;
	struct bench *b = s->b;
	uint64_t now = uv_hrtime();
	b->done++;
	if (status == 0 && (res->status == LEDGER_OK || res->status == LEDGER_DUPLICATE)) {
		b->lat_ns[b->ok++] = now - s->sent_ns;
	} else {
		b->failed++;
		b->stop_sending = true;
		if (b->error[0] == '\0')
			snprintf(b->error, sizeof b->error, "%s", status == 0 ? res->msg : msg);
	}
	free(s);
	if (now - b->last_progress_ns > 1000000000ull && !control_conn_is_closed(b->conn)) {
		char line[160];
		b->last_progress_ns = now;
		snprintf(line, sizeof line, "bench: %llu of %llu committed\n",
			 (unsigned long long)b->ok, (unsigned long long)b->count);
		control_conn_progress(b->conn, line);
	}
	send_more(b);
}

static void send_more(struct bench *b)
{
	if (b->in_send)
		return;
	b->in_send = true;
	while (!b->stop_sending && b->sent < b->count && b->sent - b->done < b->inflight) {
		struct ledger_cmd cmd = { .type = LEDGER_CMD_TEST };
		struct tdm_err err = { "" };
		struct slot *s = tdm_calloc(1, sizeof *s);
		s->b = b;
		s->sent_ns = uv_hrtime();
		cmd.test.payload.data = b->payload + (b->sent % 8);
		cmd.test.payload.len = b->plen;
		if (writer_submit(b->d->writer, &cmd, on_done, s, &err) != 0) {
			free(s);
			b->stop_sending = true;
			snprintf(b->error, sizeof b->error, "%s", err.msg);
			break;
		}
		b->sent++;
	}
	b->in_send = false;
	if (b->done == b->sent && (b->stop_sending || b->sent == b->count))
		bench_finish(b);
}

void daemon__cmd_bench(struct daemon *d, struct control_conn *conn,
		       const struct control_request *req, int argi)
{
	static const char *const names[] = { "--count", "--size", "--inflight", NULL };
	uint64_t v[3] = { 1000, 65536, 8 };
	char msg[200];
	struct bench *b;
	if (daemon__opt_uint(req, argi, names, v, msg, sizeof msg) != 0) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, msg);
		return;
	}
	if (v[0] == 0 || v[0] > 10000000 || v[1] < 64 || v[1] > LEDGER_ENTRY_MAX ||
	    v[2] == 0 || v[2] > 1024) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE,
			      "error: --count 1..10000000, --size 64..1048576, --inflight 1..1024\n");
		return;
	}
	b = tdm_calloc(1, sizeof *b);
	b->d = d;
	b->conn = conn;
	b->count = v[0];
	b->size = v[1];
	b->inflight = v[2];
	b->plen = daemon__test_payload_len(b->size);
	b->payload = tdm_malloc(b->plen + 8);
	for (size_t i = 0; i < b->plen + 8; i++)
		b->payload[i] = (uint8_t)(i * 131 + 11);
	b->lat_ns = tdm_malloc(b->count * sizeof *b->lat_ns);
	b->start_ns = b->last_progress_ns = uv_hrtime();
	tdm_log_notice("bench write: %llu commands of %llu bytes, %llu in flight",
		       (unsigned long long)b->count, (unsigned long long)b->size,
		       (unsigned long long)b->inflight);
	send_more(b);
}
