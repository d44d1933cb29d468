/*
 * cluster_bench: measures the cluster wrapper on three real processes on
 * 127.0.0.1 (netnode.h), each with its own uv loop and data directory
 * under /tmp.  Not run by `make check`; build it with
 *   make tests/unit/cluster/cluster_bench
 *
 *   cluster_bench throughput SIZE COUNT WINDOW
 *       the leader submits COUNT entries of SIZE bytes, WINDOW in flight;
 *       prints commits/s, MB/s and the submit-to-applied latency p50/p99.
 *   cluster_bench failover ELECTION_MS HEARTBEAT_MS TRIALS
 *       SIGKILLs the leader process TRIALS times and prints the time from
 *       the kill to the new leader's barrier committing (leader_ready),
 *       restarting the killed node between trials.
 *
 * TDM_BENCH_ENTRY_HINT=BYTES sets the entry size the snapshot sizing
 * assumes (default 1 MiB: threshold 128, trailing 64).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netnode.h"

static int usage(void)
{
	fprintf(stderr, "usage: cluster_bench throughput SIZE COUNT WINDOW\n"
			"       cluster_bench failover ELECTION_MS HEARTBEAT_MS TRIALS\n");
	return 2;
}

static struct netnode_args defaults(void)
{
	struct netnode_args a;
	const char *v = getenv("TDM_BENCH_VERBOSE");
	memset(&a, 0, sizeof a);
	a.election_ms = 1000;
	a.heartbeat_ms = 100;
	a.size = 64;
	a.window = 1;
	a.verbosity = v != NULL ? atoi(v) : 0;
	/* The snapshot sizing assumes entries of this size (default 1 MiB). */
	if (getenv("TDM_BENCH_ENTRY_HINT") != NULL)
		a.entry_hint = strtoul(getenv("TDM_BENCH_ENTRY_HINT"), NULL, 10);
	return a;
}

static int throughput(size_t size, unsigned count, unsigned window)
{
	struct netcluster nc;
	struct netnode_args a = defaults();
	char line[512];
	unsigned id, n;
	size_t sz;
	double secs, p50, p99;
	int from, bad;

	a.size = size;
	a.count = count;
	a.window = window;
	if (netcluster_start(&nc, 3, &a) != 0) {
		fprintf(stderr, "cannot start the cluster\n");
		return 1;
	}
	/* The leader's BENCH line, and every node's DONE (same state). */
	{
		bool have_bench = false;
		int done = 0;
		while (!have_bench || done < 3) {
			if (netcluster_wait_line(&nc, "", -1, 600000, line, sizeof line, &from) != 0) {
				fprintf(stderr, "no result (bench %d, done %d)\n", have_bench, done);
				netcluster_destroy(&nc);
				return 1;
			}
			if (strncmp(line, "DONE", 4) == 0)
				done++;
			else if (sscanf(line, "BENCH %u %u %zu %lf %lf %lf", &id, &n, &sz, &secs, &p50,
					&p99) == 6)
				have_bench = true;
			else if (strncmp(line, "FATAL", 5) == 0 || strncmp(line, "FAILED", 6) == 0)
				fprintf(stderr, "%s\n", line);
		}
	}
	bad = netcluster_stop(&nc);
	netcluster_destroy(&nc);
	printf("size %zu B, %u entries, window %u: %.0f commits/s, %.1f MB/s, "
	       "latency p50 %.2f ms p99 %.2f ms (leader node %u)%s\n",
	       sz, n, window, n / secs, n * (double)sz / secs / 1e6, p50 / 1e3, p99 / 1e3, id,
	       bad ? " [unclean shutdown]" : "");
	return bad != 0;
}

static int failover(unsigned et, unsigned hb, unsigned trials)
{
	struct netcluster nc;
	struct netnode_args a = defaults();
	char line[512];
	unsigned id;
	unsigned long long term;
	long long t_ready, t_kill;
	double ms[64] = { 0 };
	int from, leader;

	a.election_ms = et;
	a.heartbeat_ms = hb;
	if (trials == 0 || trials > 64)
		return usage();
	if (netcluster_start(&nc, 3, &a) != 0)
		return 1;
	if (netcluster_wait_line(&nc, "READY", -1, 30000, line, sizeof line, &leader) != 0) {
		netcluster_destroy(&nc);
		return 1;
	}
	for (unsigned t = 0; t < trials; t++) {
		/* Let followers settle (connections up, caught up). */
		usleep(1000 * (3 * et > 1500 ? 3 * et : 1500));
		t_kill = netnode_now_ns();
		netcluster_kill(&nc, (unsigned)leader);
		if (netcluster_wait_line(&nc, "READY", -1, 30000, line, sizeof line, &from) != 0 ||
		    sscanf(line, "READY %u %llu %lld", &id, &term, &t_ready) != 3) {
			fprintf(stderr, "trial %u: no new leader\n", t + 1);
			netcluster_destroy(&nc);
			return 1;
		}
		ms[t] = (double)(t_ready - t_kill) / 1e6;
		printf("election %u ms / heartbeat %u ms, trial %u: node %d killed, node %u leader "
		       "of term %llu, barrier committed after %.0f ms\n",
		       et, hb, t + 1, leader + 1, id, term, ms[t]);
		fflush(stdout);
		netcluster_spawn(&nc, (unsigned)leader);
		leader = from;
	}
	{
		double lo = ms[0], hi = ms[0], sum = 0;
		for (unsigned t = 0; t < trials; t++) {
			lo = ms[t] < lo ? ms[t] : lo;
			hi = ms[t] > hi ? ms[t] : hi;
			sum += ms[t];
		}
		printf("election %u ms / heartbeat %u ms: kill -> new leader ready: min %.0f, "
		       "mean %.0f, max %.0f ms over %u trials\n", et, hb, lo, sum / trials, hi, trials);
	}
	netcluster_stop(&nc);
	netcluster_destroy(&nc);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "throughput") == 0)
		return throughput((size_t)strtoul(argv[2], NULL, 10),
				  (unsigned)strtoul(argv[3], NULL, 10),
				  (unsigned)strtoul(argv[4], NULL, 10));
	if (argc == 5 && strcmp(argv[1], "failover") == 0)
		return failover((unsigned)strtoul(argv[2], NULL, 10),
				(unsigned)strtoul(argv[3], NULL, 10),
				(unsigned)strtoul(argv[4], NULL, 10));
	return usage();
}
