/*
 * Snapshots off the loop thread, on a real network: three processes with
 * the real ledger (state.db filled to ~32 MB with POLICY_PUT entries) take
 * snapshots under write load through libraft's snapshot_async.  The first
 * leader must never lose leadership, every node must end with the same
 * digest, every snapshot must have been serialized off the loop, the
 * snapshot callbacks that do run on the loop (begin, finalize) must stay
 * short; the loop's longest stall (lateness of a 10 ms uv timer in each
 * node, applies included) is printed for comparison, not asserted.
 *
 * TDM_TEST_SNAPSHOT_V1=1 runs the same workload with the one-step
 * snapshot on the loop (the path before fsm version 3) to compare the
 * printed stalls: it fails the "off the loop" assertions by design.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netnode.h"

TCase *tcase_snapshot(void);

#define ELECTION_MS 1000 /* slack for sanitizer builds on busy CI machines */
#define ENTRY (256u * 1024u)
#define COUNT 128u /* x 256 KiB: ~32 MB of state.db */

/* Record the first failure and go to the cleanup. */
#define CHECK(cond, ...)                                                 \
	do {                                                             \
		if (!(cond)) {                                           \
			snprintf(fail, sizeof fail, __VA_ARGS__);        \
			goto out;                                        \
		}                                                        \
	} while (0)

START_TEST(snapshot_async_no_stall)
{
	struct netcluster nc = { 0 };
	struct netnode_args a;
	const char *v = getenv("TDM_TEST_VERBOSE");
	const char *v1 = getenv("TDM_TEST_SNAPSHOT_V1");
	char line[512], first_hash[64] = "";
	unsigned long long max_stall_us = 0, max_snap_us = 0;
	char fail[640] = "";
	int from;

	memset(&a, 0, sizeof a);
	a.election_ms = ELECTION_MS;
	a.heartbeat_ms = ELECTION_MS / 10;
	a.count = COUNT;
	a.size = ENTRY;
	a.window = 2; /* apply batches of <= 2 entries: stalls stay the snapshot's, not a batch's */
	a.ledger = true;
	a.snapshot_v1 = v1 != NULL && strcmp(v1, "1") == 0;
	a.entry_hint = ENTRY;
	a.snapshot_budget = 64ull * ENTRY; /* threshold 32 entries, trailing 16 */
	a.verbosity = v != NULL ? atoi(v) : -1;

	CHECK(netcluster_start(&nc, 3, &a) == 0, "cannot start the nodes");
	CHECK(netcluster_wait_line(&nc, "READY", -1, 15000, line, sizeof line, &from) == 0,
	      "no leader within 15 s");
	for (unsigned k = 0; k < 3; k++) {
		unsigned id, streams;
		unsigned long long cnt;
		char hash[64];
		CHECK(netcluster_wait_line(&nc, "DONE", -1, 60000, line, sizeof line, &from) == 0,
		      "only %u of 3 nodes applied %u entries", k, COUNT);
		CHECK(sscanf(line, "DONE %u %llu %63s %u", &id, &cnt, hash, &streams) == 4, "bad line %s",
		      line);
		CHECK(cnt == COUNT, "node %u: %llu entries", id, cnt);
		if (k == 0)
			snprintf(first_hash, sizeof first_hash, "%s", hash);
		else
			CHECK(strcmp(hash, first_hash) == 0, "node %u: digest %s, first node %s", id, hash,
			      first_hash);
	}
	CHECK(netcluster_stop(&nc) == 0, "a node did not close cleanly"); /* jobs ended first */
	for (unsigned i = 0; i < 3; i++) {
		unsigned id, lost;
		unsigned long long stall, ok, failed, sync, apply_us, begin_us, end_us, snap_us, cpu_us;
		CHECK(netcluster_wait_line(&nc, "STATS", (int)i, 5000, line, sizeof line, NULL) == 0,
		      "node %u: no STATS", i + 1);
		CHECK(sscanf(line, "STATS %u %llu %llu %llu %llu %u %llu %llu %llu %llu %llu", &id, &stall,
			     &ok, &failed, &sync, &lost, &apply_us, &begin_us, &end_us, &snap_us,
			     &cpu_us) == 11, "bad line %s", line);
		fprintf(stderr, "snapshot_async_no_stall (%s): node %u: longest loop stall %llu ms, "
			"longest snapshot callback on the loop %llu ms (CPU %llu ms; ledger begin %llu, "
			"end %llu), longest apply %llu ms; snapshots off the loop %llu (dropped %llu), "
			"on the loop %llu; leadership lost %u\n",
			a.snapshot_v1 ? "v1, on the loop" : "v3, off the loop", id, stall / 1000,
			snap_us / 1000, cpu_us / 1000, begin_us / 1000, end_us / 1000, apply_us / 1000,
			ok, failed, sync, lost);
		if (stall > max_stall_us)
			max_stall_us = stall;
		if (cpu_us > max_snap_us)
			max_snap_us = cpu_us;
		CHECK(lost == 0, "node %u lost leadership %u times", id, lost);
		if (!a.snapshot_v1) {
			/* the first at ~32 of 128 entries: under load */
			CHECK(ok >= 1, "node %u took no snapshot off the loop", id);
			CHECK(sync == 0, "node %u took %llu snapshots on the loop", id, sync);
		}
	}
	/* Timing (the loop thread's CPU per snapshot callback, the longest
	 * stall) is printed above, not asserted: timing belongs in bench/, and
	 * CI machines are slower and busier than this one.  What is asserted
	 * is the mechanism: every snapshot serialized off the loop. */
	fprintf(stderr, "snapshot_async_no_stall: worst snapshot callback %llu ms of loop CPU, "
		"longest loop stall %llu ms (election timeout %u ms)\n",
		max_snap_us / 1000, max_stall_us / 1000, ELECTION_MS);
out:
	netcluster_destroy(&nc); /* also after a failed check: no node or temp dir is left */
	ck_assert_msg(fail[0] == '\0', "%s", fail);
}

END_TEST

TCase *tcase_snapshot(void)
{
	TCase *tc = tcase_create("snapshot");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, snapshot_async_no_stall);
	return tc;
}
