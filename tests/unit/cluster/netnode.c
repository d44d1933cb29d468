/* Real-network nodes of netnode.h. */
#define _GNU_SOURCE
#include "netnode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "ledger/ledger.h"
#include "raft/internal.h"
#include "testfsm.h"

#define ORIGIN 1000

long long netnode_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*- the node process -*/

struct node {
	const struct netnode_args *a;
	uv_loop_t loop;
	uv_signal_t sig;
	uv_timer_t timer;
	struct cluster *c;
	struct testfsm fsm;
	struct ledger *l;            /* ledger mode */
	uint8_t *blob;               /* ledger mode: POLICY_PUT payload */
	size_t blob_len;
	uv_timer_t probe;            /* loop stall probe */
	uint64_t probe_last, max_stall_ns;
	unsigned n_lost;
	bool done_reported;
	/* workload */
	bool running;
	unsigned next_seq, outstanding, acked;
	long long t_first, t_last;
	long long *t_sub;
	double *lat_us;
	unsigned n_lat;
	uint8_t *buf;
	bool bench_reported;
};

static void report(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct node *n, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int len;
	va_start(ap, fmt);
	len = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (len < 0 || len > (int)sizeof line - 2)
		len = (int)sizeof line - 2;
	line[len++] = '\n';
	if (write(n->a->report_fd, line, (size_t)len) < 0) {
		/* the parent went away: nothing to tell */
	}
}

static void pump(struct node *n);

static void on_submitted(void *data, int status, uint64_t index, void *result)
{
	struct node *n = data;
	long long now = netnode_now_ns();
	(void)index;
	(void)result;

	n->outstanding--;
	if (status != 0) {
		n->running = false; /* leadership gone; a later leader starts over */
		return;
	}
	/* Entries commit, and call back, in submission order. */
	n->acked++;
	if (n->acked <= n->a->count && n->t_sub[n->acked] != 0)
		n->lat_us[n->n_lat++] = (double)(now - n->t_sub[n->acked]) / 1e3;
	n->t_last = now;
	pump(n);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Ledger mode: the longest apply, snapshot_begin and snapshot_end on the
 * loop (µs), to tell which part of a stall is the FSM's. */
static uint64_t max_apply_ns, max_begin_ns, max_end_ns;

static int t_apply(void *ctx, uint64_t index, const void *buf, size_t len, void **result)
{
	uint64_t t0 = uv_hrtime();
	int rv = cluster_ledger_ops.apply(ctx, index, buf, len, result);
	if (uv_hrtime() - t0 > max_apply_ns)
		max_apply_ns = uv_hrtime() - t0;
	return rv;
}

static int t_begin(void *ctx, void **job)
{
	uint64_t t0 = uv_hrtime();
	int rv = cluster_ledger_ops.snapshot_begin(ctx, job);
	if (uv_hrtime() - t0 > max_begin_ns)
		max_begin_ns = uv_hrtime() - t0;
	return rv;
}

static void t_end(void *job)
{
	uint64_t t0 = uv_hrtime();
	cluster_ledger_ops.snapshot_end(job);
	if (uv_hrtime() - t0 > max_end_ns)
		max_end_ns = uv_hrtime() - t0;
}

/* Ledger mode: POLICY_PUT "fill-<seq>" with a blob that differs per seq. */
static int submit_policy(struct node *n)
{
	struct ledger_cmd m;
	struct tdm_err err = { "" };
	char name[32];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rv;

	memset(&m, 0, sizeof m);
	snprintf(name, sizeof name, "fill-%u", n->next_seq);
	memcpy(n->blob, &n->next_seq, sizeof n->next_seq);
	m.type = LEDGER_CMD_POLICY_PUT;
	m.id.origin = ORIGIN;
	m.id.seq = n->next_seq;
	m.policy.name = ledger_str(name);
	m.policy.blob = (struct ledger_bytes){ n->blob, n->blob_len };
	if (ledger_cmd_encode(&m, &buf, &len, &err) != 0) {
		report(n, "FATAL %u encode: %s", n->a->id, err.msg);
		return TDM_EINVAL;
	}
	rv = cluster_submit(n->c, buf, len, on_submitted, n, NULL);
	free(buf);
	return rv;
}

static void pump(struct node *n)
{
	const struct netnode_args *a = n->a;
	while (n->running && n->outstanding < a->window && n->next_seq <= a->count) {
		int rv;
		if (n->l != NULL) {
			rv = submit_policy(n);
		} else {
			testfsm_entry(n->buf, a->size, ORIGIN, n->next_seq);
			rv = cluster_submit(n->c, n->buf, a->size, on_submitted, n, NULL);
		}
		if (rv == TDM_EAGAIN)
			return;
		if (rv != 0) {
			n->running = false;
			return;
		}
		n->t_sub[n->next_seq] = netnode_now_ns();
		if (n->t_first == 0)
			n->t_first = n->t_sub[n->next_seq];
		n->next_seq++;
		n->outstanding++;
	}
}

static void on_ready(struct cluster *c, void *data, uint64_t term)
{
	struct node *n = data;
	(void)c;
	report(n, "READY %u %llu %lld", n->a->id, (unsigned long long)term, netnode_now_ns());
	if (n->a->count > 0 && !n->running && n->acked < n->a->count) {
		n->running = true;
		n->next_seq = 1;
		n->acked = 0;
		n->t_first = 0;
		n->n_lat = 0;
		pump(n);
	}
}

static void on_lost(struct cluster *c, void *data)
{
	struct node *n = data;
	(void)c;
	n->running = false;
	n->n_lost++;
	report(n, "LOST %u %lld", n->a->id, netnode_now_ns());
}

static void on_fatal(struct cluster *c, void *data, const char *msg)
{
	struct node *n = data;
	(void)c;
	report(n, "FATAL %u %s", n->a->id, msg);
}

static void timer_cb(uv_timer_t *t)
{
	struct node *n = t->data;
	const struct netnode_args *a = n->a;

	if (!n->done_reported && a->count > 0 && n->l != NULL) {
		uint64_t seq = 0;
		uint8_t d[32];
		struct tdm_err err = { "" };
		if (ledger_origin_last_seq(n->l, ORIGIN, &seq, &err) == 0 && seq >= a->count &&
		    ledger_digest(n->l, d, NULL, &err) == 0) {
			n->done_reported = true;
			report(n, "DONE %u %llu %02x%02x%02x%02x%02x%02x%02x%02x %u", a->id,
			       (unsigned long long)seq, d[0], d[1], d[2], d[3], d[4], d[5], d[6],
			       d[7], n->c->transport.n_streams);
		}
	}
	if (!n->done_reported && a->count > 0 && n->l == NULL && n->fsm.count >= a->count) {
		n->done_reported = true;
		report(n, "DONE %u %llu %016llx %u", a->id, (unsigned long long)n->fsm.count,
		       (unsigned long long)n->fsm.hash, n->c->transport.n_streams);
	}
	if (!n->bench_reported && a->count > 0 && n->acked >= a->count && n->t_first != 0) {
		double secs = (double)(n->t_last - n->t_first) / 1e9;
		n->bench_reported = true;
		qsort(n->lat_us, n->n_lat, sizeof *n->lat_us, cmp_double);
		report(n, "BENCH %u %u %zu %.6f %.0f %.0f", a->id, a->count, a->size, secs,
		       n->n_lat ? n->lat_us[n->n_lat / 2] : 0.0,
		       n->n_lat ? n->lat_us[(size_t)(n->n_lat * 0.99)] : 0.0);
	}
	if (n->running)
		pump(n);
}

static void closed(void *data)
{
	(void)data;
}

/* Every 10 ms: how late is this callback?  The loop's longest stall. */
static void probe_cb(uv_timer_t *t)
{
	struct node *n = t->data;
	uint64_t now = uv_hrtime();
	if (n->probe_last != 0 && now - n->probe_last > 10000000u &&
	    now - n->probe_last - 10000000u > n->max_stall_ns)
		n->max_stall_ns = now - n->probe_last - 10000000u;
	n->probe_last = now;
}

static void sig_cb(uv_signal_t *s, int signum)
{
	struct node *n = s->data;
	(void)signum;
	report(n, "STATS %u %llu %llu %llu %llu %u %llu %llu %llu %llu %llu", n->a->id,
	       (unsigned long long)(n->max_stall_ns / 1000),
	       (unsigned long long)n->c->snap_async_ok, (unsigned long long)n->c->snap_async_failed,
	       (unsigned long long)n->c->snap_sync, n->n_lost,
	       (unsigned long long)(max_apply_ns / 1000), (unsigned long long)(max_begin_ns / 1000),
	       (unsigned long long)(max_end_ns / 1000),
	       (unsigned long long)(n->c->snap_loop_max_ns / 1000),
	       (unsigned long long)(n->c->snap_loop_cpu_max_ns / 1000));
	uv_close((uv_handle_t *)&n->sig, NULL);
	uv_close((uv_handle_t *)&n->timer, NULL);
	uv_close((uv_handle_t *)&n->probe, NULL);
	cluster_close(n->c, closed, NULL);
}

int netnode_run(const struct netnode_args *a)
{
	struct node n;
	struct cluster_config cfg = { 0 };
	struct cluster_peer peers[NET_MAX];
	char addrs[NET_MAX][32];
	struct cluster_events ev;
	struct cluster_fsm_ops ops = testfsm_ops;
	void *ctx;
	struct tdm_err err = { "" };
	int rv;

	tdm_log_init("node", false, 0, true, a->verbosity);
	memset(&n, 0, sizeof n);
	n.a = a;
	testfsm_init(&n.fsm);
	n.buf = tdm_calloc(1, a->size > 16 ? a->size : 16);
	n.t_sub = tdm_calloc(a->count + 2, sizeof *n.t_sub);
	n.lat_us = tdm_calloc(a->count + 2, sizeof *n.lat_us);
	uv_loop_init(&n.loop);
	ctx = &n.fsm;
	if (a->ledger) {
		char path[300];
		uint64_t x = 0x9e3779b97f4a7c15ull ^ a->id;
		mkdir(a->dir, 0700);
		snprintf(path, sizeof path, "%s/state.db", a->dir);
		if (ledger_open(&n.l, path, &err) != 0) {
			report(&n, "FAILED %u %s", a->id, err.msg);
			return 2;
		}
		/* Incompressible, so snapshots (LZ4 in libraft) keep their size. */
		n.blob_len = a->size > 512 ? a->size - 256 : 256;
		n.blob = tdm_malloc(n.blob_len);
		for (size_t k = 0; k < n.blob_len; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			n.blob[k] = (uint8_t)x;
		}
		ops = cluster_ledger_ops;
		ops.apply = t_apply;
		ops.snapshot_begin = t_begin;
		ops.snapshot_end = t_end;
		if (a->snapshot_v1)
			ops.snapshot_begin = NULL, ops.snapshot_write = NULL, ops.snapshot_end = NULL;
		ctx = n.l;
	}

	for (unsigned i = 0; i < a->n; i++) {
		snprintf(addrs[i], sizeof addrs[i], "127.0.0.1:%u", a->ports[i]);
		peers[i] = (struct cluster_peer){ i + 1, addrs[i], false };
	}
	cfg.id = a->id;
	cfg.address = addrs[a->id - 1];
	cfg.data_dir = a->dir;
	cfg.peers = peers;
	cfg.n_peers = a->n;
	cfg.election_timeout_ms = a->election_ms;
	cfg.heartbeat_ms = a->heartbeat_ms;
	cfg.max_in_flight = a->window > 16 ? a->window : 16;
	cfg.entry_size_hint = a->entry_hint;
	cfg.snapshot_budget_bytes = a->snapshot_budget;
	ev = (struct cluster_events){ &n, on_ready, on_lost, on_fatal };
	rv = cluster_new(&n.c, &n.loop, &cfg, &ops, ctx, &ev, &err);
	if (rv != 0) {
		report(&n, "FAILED %u %s", a->id, err.msg);
		if (n.l != NULL)
			ledger_close(n.l);
		return 2;
	}
	report(&n, "STARTED %u", a->id);
	uv_signal_init(&n.loop, &n.sig);
	n.sig.data = &n;
	uv_signal_start(&n.sig, sig_cb, SIGTERM);
	{
		/* Blocked since fork (netcluster_spawn) so an early SIGTERM
		 * waits for this handler instead of killing us. */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
	}
	uv_timer_init(&n.loop, &n.timer);
	n.timer.data = &n;
	uv_timer_start(&n.timer, timer_cb, 5, 5);
	uv_timer_init(&n.loop, &n.probe);
	n.probe.data = &n;
	uv_timer_start(&n.probe, probe_cb, 10, 10);
	uv_run(&n.loop, UV_RUN_DEFAULT);
	rv = uv_loop_close(&n.loop);
	/* After the cluster's close callback: no snapshot job is out. */
	if (n.l != NULL)
		ledger_close(n.l);
	free(n.blob);
	testfsm_free(&n.fsm);
	free(n.buf);
	free(n.t_sub);
	free(n.lat_us);
	return rv == 0 ? 0 : 3;
}

/*- the parent side -*/

static int pick_ports(unsigned n, unsigned *ports)
{
	int fds[NET_MAX];
	int ret = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t len = sizeof sa;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof sa) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0)
			ret = -1;
		ports[i] = ntohs(sa.sin_port);
	}
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret;
}

int netcluster_spawn(struct netcluster *nc, unsigned i)
{
	int p[2];
	pid_t pid;

	if (pipe(p) != 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		close(p[0]);
		for (unsigned k = 0; k < nc->n; k++)
			if (nc->rfd[k] >= 0)
				close(nc->rfd[k]);
		nc->args[i].report_fd = p[1];
		_exit(netnode_run(&nc->args[i]));
	}
	close(p[1]);
	if (nc->rfd[i] >= 0)
		close(nc->rfd[i]);
	nc->rfd[i] = p[0];
	nc->len[i] = 0;
	nc->pid[i] = pid;
	return 0;
}

int netcluster_start(struct netcluster *nc, unsigned n, const struct netnode_args *tmpl)
{
	unsigned ports[NET_MAX];

	memset(nc, 0, sizeof *nc);
	nc->n = n;
	for (unsigned i = 0; i < NET_MAX; i++)
		nc->rfd[i] = -1;
	snprintf(nc->root, sizeof nc->root, "/tmp/tdm-cluster-XXXXXX");
	if (mkdtemp(nc->root) == NULL)
		return -1;
	if (pick_ports(n, ports) != 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		nc->args[i] = *tmpl;
		nc->args[i].id = i + 1;
		nc->args[i].n = n;
		memcpy(nc->args[i].ports, ports, sizeof ports);
		snprintf(nc->args[i].dir, sizeof nc->args[i].dir, "%s/node%u", nc->root, i + 1);
	}
	for (unsigned i = 0; i < n; i++)
		if (netcluster_spawn(nc, i) != 0)
			return -1;
	return 0;
}

/* Take one complete line from node i's buffer, if any. */
static bool take_line(struct netcluster *nc, unsigned i, char *out, size_t cap)
{
	char *nl = memchr(nc->buf[i], '\n', nc->len[i]);
	size_t l;
	if (nl == NULL)
		return false;
	l = (size_t)(nl - nc->buf[i]);
	snprintf(out, cap, "%.*s", (int)l, nc->buf[i]);
	memmove(nc->buf[i], nl + 1, nc->len[i] - l - 1);
	nc->len[i] -= l + 1;
	return true;
}

int netcluster_wait_line(struct netcluster *nc, const char *prefix, int only, unsigned timeout_ms,
			 char *out, size_t cap, int *from)
{
	long long deadline = netnode_now_ns() + (long long)timeout_ms * 1000000LL;
	char line[8192];

	for (;;) {
		struct pollfd pfd[NET_MAX];
		unsigned map[NET_MAX], np = 0;
		long long left;

		for (unsigned i = 0; i < nc->n; i++) {
			if (only >= 0 && (int)i != only)
				continue;
			while (take_line(nc, i, line, sizeof line)) {
				if (getenv("TDM_TEST_VERBOSE") != NULL)
					fprintf(stderr, "[node %u] %s\n", i + 1, line);
				if (strncmp(line, prefix, strlen(prefix)) == 0) {
					snprintf(out, cap, "%s", line);
					if (from != NULL)
						*from = (int)i;
					return 0;
				}
			}
			if (nc->rfd[i] >= 0) {
				pfd[np].fd = nc->rfd[i];
				pfd[np].events = POLLIN;
				map[np++] = i;
			}
		}
		left = (deadline - netnode_now_ns()) / 1000000LL;
		if (left <= 0 || np == 0)
			return -1;
		if (poll(pfd, np, (int)left) <= 0)
			continue;
		for (unsigned k = 0; k < np; k++) {
			unsigned i = map[k];
			ssize_t r;
			if (!(pfd[k].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(nc->rfd[i], nc->buf[i] + nc->len[i], sizeof nc->buf[i] - nc->len[i] - 1);
			if (r <= 0) {
				close(nc->rfd[i]);
				nc->rfd[i] = -1;
				continue;
			}
			nc->len[i] += (size_t)r;
		}
	}
}

void netcluster_kill(struct netcluster *nc, unsigned i)
{
	if (nc->pid[i] <= 0)
		return;
	kill(nc->pid[i], SIGKILL);
	waitpid(nc->pid[i], NULL, 0);
	nc->pid[i] = 0;
}

int netcluster_stop(struct netcluster *nc)
{
	int bad = 0;
	for (unsigned i = 0; i < nc->n; i++)
		if (nc->pid[i] > 0)
			kill(nc->pid[i], SIGTERM);
	for (unsigned i = 0; i < nc->n; i++) {
		int status = 0;
		long long deadline = netnode_now_ns() + 10000000000LL;
		if (nc->pid[i] <= 0)
			continue;
		while (waitpid(nc->pid[i], &status, WNOHANG) == 0) {
			if (netnode_now_ns() > deadline) {
				kill(nc->pid[i], SIGKILL);
				waitpid(nc->pid[i], &status, 0);
				bad++;
				status = 0;
				break;
			}
			usleep(10000);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			bad++;
			fprintf(stderr, "node %u: exit status 0x%x\n", i + 1, status);
		}
		nc->pid[i] = 0;
	}
	return bad;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void netcluster_destroy(struct netcluster *nc)
{
	netcluster_stop(nc);
	for (unsigned i = 0; i < nc->n; i++)
		if (nc->rfd[i] >= 0) {
			close(nc->rfd[i]);
			nc->rfd[i] = -1;
		}
	if (nc->root[0] != '\0')
		nftw(nc->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
