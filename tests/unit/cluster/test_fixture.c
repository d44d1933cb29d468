/*
 * The wrapper over libraft's in-memory fixture, in virtual time: election
 * with barrier, replication, failover, catch-up, snapshot install,
 * transfer, membership, refusals, unknown outcomes and dedupe, witness
 * hand-off, hand-off from a worker thread.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

TCase *tcase_fixture(void);

static unsigned count_ready(struct harness *h)
{
	unsigned n = 0;
	for (unsigned i = 0; i < h->n; i++)
		n += h->ready[i];
	return n;
}

static void assert_same_state(struct harness *h)
{
	for (unsigned i = 1; i < h->n; i++) {
		if (!raft_fixture_alive(&h->f, i))
			continue;
		ck_assert_uint_eq(h->fsm[i].count, h->fsm[0].count);
		ck_assert_uint_eq(h->fsm[i].hash, h->fsm[0].hash);
		ck_assert_uint_eq(h->fsm[i].dups, h->fsm[0].dups);
	}
}

START_TEST(election_barrier)
{
	struct harness h;
	struct cluster_status st;
	unsigned l;

	h_setup(&h, 3, NULL, 0);
	h_start(&h);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	ck_assert_uint_eq(count_ready(&h), 1);
	ck_assert_uint_eq(h.ready[l], 1);
	ck_assert_uint_eq(h.ready_term[l], raft_fixture_get(&h.f, l)->current_term);
	/* The barrier is committed and applied on the leader. */
	cluster_status_get(h.c[l], &st);
	ck_assert_int_eq(st.role, CLUSTER_LEADER);
	ck_assert(st.leader_ready);
	ck_assert_uint_eq(st.leader_id, l + 1);
	ck_assert_uint_ge(st.commit_index, 2); /* bootstrap config + barrier */
	ck_assert_uint_eq(st.last_applied, st.commit_index);
	ck_assert_uint_eq(st.n_peers, 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert(st.peers[i].progress_known);
	/* A follower knows the leader and refuses writes, naming it. */
	for (unsigned i = 0; i < 3; i++) {
		struct cluster_leader leader;
		uint8_t buf[16];
		if (i == l)
			continue;
		h_wait_converged(&h, 2000);
		cluster_status_get(h.c[i], &st);
		ck_assert_int_eq(st.role, CLUSTER_FOLLOWER);
		ck_assert(!st.leader_ready);
		ck_assert_uint_eq(st.leader_id, l + 1);
		ck_assert_int_ge(st.leader_contact_ms, 0);
		testfsm_entry(buf, sizeof buf, 7, 1);
		ck_assert_int_eq(cluster_submit(h.c[i], buf, sizeof buf, NULL, NULL, &leader),
				 TDM_ENOTLEADER);
		ck_assert_uint_eq(leader.id, l + 1);
		ck_assert_str_eq(leader.address, st.leader_address);
	}
	h_teardown(&h);
}
END_TEST

START_TEST(replicate_1000)
{
	struct harness h;
	unsigned l, ok = 0;

	h_setup(&h, 3, NULL, 0);
	h_start(&h);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	h_submit_many(&h, l, 42, 1, 1000, 256, &ok);
	ck_assert(h_wait_count(&h, 1000, 60000));
	ck_assert(h_wait_converged(&h, 5000));
	ck_assert_uint_eq(ok, 1000);
	assert_same_state(&h);
	ck_assert_uint_eq(h.fsm[0].count, 1000);
	ck_assert_uint_eq(h.fsm[0].dups, 0);
	h_teardown(&h);
}
END_TEST

START_TEST(refusals)
{
	struct harness h;
	unsigned l;
	uint8_t *big = tdm_calloc(1, CLUSTER_ENTRY_MAX + 8);
	unsigned ok = 0;

	h_setup(&h, 3, NULL, 0);
	h_start(&h);
	/* Leader elected but its barrier not committed yet: try again later. */
	for (l = 0; l < 3; l++)
		if (raft_fixture_step_until_state_is(&h.f, l, RAFT_LEADER, 3000))
			break;
	ck_assert_uint_lt(l, 3);
	if (!cluster_is_leader_ready(h.c[l]))
		ck_assert_int_eq(cluster_submit(h.c[l], big, 16, NULL, NULL, NULL), TDM_EAGAIN);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	/* Not a multiple of 8: refused, never padded behind the encoder's back. */
	ck_assert_int_eq(cluster_submit(h.c[l], big, 500, NULL, NULL, NULL), TDM_EINVAL);
	ck_assert_int_eq(cluster_submit(h.c[l], big, 1001, NULL, NULL, NULL), TDM_EINVAL);
	ck_assert_int_eq(cluster_submit(h.c[l], big, 0, NULL, NULL, NULL), TDM_EINVAL);
	ck_assert_int_eq(cluster_submit_threadsafe(h.c[l], big, 12, NULL, NULL), TDM_EINVAL);
	/* Over 1 MiB: refused, the producer chunks. */
	ck_assert_int_eq(cluster_submit(h.c[l], big, CLUSTER_ENTRY_MAX + 8, NULL, NULL, NULL),
			 TDM_ERANGE);
	ck_assert_int_eq(cluster_submit_threadsafe(h.c[l], big, CLUSTER_ENTRY_MAX + 8, NULL, NULL),
			 TDM_ERANGE);
	ck_assert_uint_eq(cluster_padded_len(500), 504);
	ck_assert_uint_eq(cluster_padded_len(504), 504);
	/* Exactly 1 MiB is fine. */
	testfsm_entry(big, CLUSTER_ENTRY_MAX, 1, 1);
	h_submit_many(&h, l, 1, 1, 1, CLUSTER_ENTRY_MAX, &ok);
	ck_assert(h_wait_count(&h, 1, 10000));
	ck_assert_uint_eq(ok, 1);
	assert_same_state(&h);
	free(big);
	h_teardown(&h);
}
END_TEST

START_TEST(kill_leader_revive)
{
	struct harness h;
	unsigned l, l2, ok = 0;

	h_setup(&h, 3, NULL, 0);
	h_start(&h);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	h_submit_many(&h, l, 1, 1, 50, 64, &ok);
	ck_assert(h_wait_count(&h, 50, 10000));

	raft_fixture_kill(&h.f, l);
	l2 = h_wait_ready(&h, 20000);
	ck_assert_uint_lt(l2, 3);
	ck_assert_uint_ne(l2, l);
	ck_assert_uint_eq(h.ready[l2], 1);
	h_submit_many(&h, l2, 1, 51, 100, 64, &ok);
	ck_assert(h_wait_count(&h, 150, 20000));

	/* The old leader comes back, steps down (its owner hears it at once)
	 * and catches up. */
	raft_fixture_revive(&h.f, l);
	ck_assert(h_wait_count(&h, 150, 20000));
	ck_assert(h_wait_converged(&h, 10000));
	ck_assert_uint_eq(h.lost[l], 1);
	ck_assert(!cluster_is_leader_ready(h.c[l]));
	ck_assert_uint_eq(ok, 150);
	assert_same_state(&h);
	h_teardown(&h);
}
END_TEST

START_TEST(snapshot_install)
{
	struct harness h;
	struct cluster_config cfg = { 0 };
	unsigned l, f, ok = 0, th, tr;

	/* 64 KiB budget / 1 KiB entries: threshold 32, trailing 16. */
	cfg.snapshot_budget_bytes = 64 * 1024;
	cfg.entry_size_hint = 1024;
	cluster_snapshot_sizing(&cfg, &th, &tr);
	ck_assert_uint_eq(th, 32);
	ck_assert_uint_eq(tr, 16);
	h_setup(&h, 3, &cfg, 0);
	ck_assert_uint_eq(raft_fixture_get(&h.f, 0)->snapshot.threshold, 32);
	ck_assert_uint_eq(raft_fixture_get(&h.f, 0)->snapshot.trailing, 16);
	h_start(&h);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	f = (l + 1) % 3;
	h_submit_many(&h, l, 1, 1, 10, 1024, &ok);
	ck_assert(h_wait_count(&h, 10, 10000));
	raft_fixture_kill(&h.f, f);
	h_submit_many(&h, l, 1, 11, 200, 1024, &ok);
	ck_assert(h_wait_count(&h, 210, 30000));
	ck_assert_uint_gt(raft_fixture_get(&h.f, l)->log.snapshot.last_index, 100);
	ck_assert_uint_gt(h.fsm[l].snapshots, 0);
	raft_fixture_revive(&h.f, f);
	ck_assert(h_wait_count(&h, 210, 30000));
	ck_assert(h_wait_converged(&h, 10000));
	ck_assert_uint_ge(h.fsm[f].restores, 1);
	ck_assert_uint_eq(ok, 210);
	assert_same_state(&h);
	h_teardown(&h);
}
END_TEST

static int transfer_status = 1;
static void on_change(void *data, int status, const char *msg)
{
	int *s = data;
	(void)msg;
	*s = status;
}

static bool p_int_set(struct harness *h, void *arg)
{
	(void)h;
	return *(int *)arg != 1;
}

START_TEST(transfer)
{
	struct harness h;
	struct tdm_err err = { "" };
	unsigned l, target;

	h_setup(&h, 3, NULL, 0);
	h_start(&h);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	ck_assert(h_wait_converged(&h, 5000));
	target = (l + 2) % 3;
	/* Followers cannot transfer; the leader cannot transfer to itself. */
	ck_assert_int_eq(cluster_transfer(h.c[target], 0, NULL, NULL, &err), TDM_ENOTLEADER);
	ck_assert_int_eq(cluster_transfer(h.c[l], l + 1, NULL, NULL, &err), TDM_EINVAL);
	ck_assert_int_eq(cluster_transfer(h.c[l], 9, NULL, NULL, &err), TDM_ENOENT);
	transfer_status = 1;
	ck_assert_int_eq(cluster_transfer(h.c[l], target + 1, on_change, &transfer_status, &err), 0);
	ck_assert_int_eq(cluster_transfer(h.c[l], 0, NULL, NULL, &err), TDM_EAGAIN);
	ck_assert(h_step_until(&h, p_int_set, &transfer_status, 10000));
	ck_assert_int_eq(transfer_status, 0);
	ck_assert_uint_eq(h_wait_ready(&h, 5000), target);
	ck_assert_uint_eq(h.lost[l], 1);
	ck_assert_uint_eq(h.ready[target], 1);

	/* transfer(0) picks a voter by itself. */
	transfer_status = 1;
	ck_assert_int_eq(cluster_transfer(h.c[target], 0, on_change, &transfer_status, &err), 0);
	ck_assert(h_step_until(&h, p_int_set, &transfer_status, 10000));
	ck_assert_int_eq(transfer_status, 0);
	ck_assert_uint_ne(h_wait_ready(&h, 5000), target);
	h_teardown(&h);
}
END_TEST

START_TEST(membership)
{
	struct harness h;
	struct tdm_err err = { "" };
	struct cluster_status st;
	int add_status = 1, rm_status = 1;
	unsigned l, n4, ok = 0;

	h_setup(&h, 3, NULL, 0);
	h_start(&h);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	h_submit_many(&h, l, 1, 1, 20, 64, &ok);
	ck_assert(h_wait_count(&h, 20, 10000));

	n4 = h_grow(&h, false);
	ck_assert_int_eq(cluster_add(h.c[l], 4, "4", false, NULL, NULL, &err), TDM_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "numeric IPv4"));
	ck_assert_int_eq(cluster_add(h.c[l], 2, "127.0.0.2:9002", false, NULL, NULL, &err),
			 TDM_EEXIST);
	ck_assert_int_eq(cluster_add(h.c[l], 4, "127.0.0.4:9004", false, on_change, &add_status,
				     &err), 0);
	/* One change at a time, said clearly. */
	ck_assert_int_eq(cluster_remove(h.c[l], 4, NULL, NULL, &err), TDM_EAGAIN);
	ck_assert_ptr_nonnull(strstr(err.msg, "in progress"));
	ck_assert(h_step_until(&h, p_int_set, &add_status, 60000));
	ck_assert_int_eq(add_status, 0);
	cluster_status_get(h.c[l], &st);
	ck_assert_uint_eq(st.n_peers, 4);
	ck_assert_int_eq(st.peers[3].member, CLUSTER_VOTER);
	ck_assert_uint_eq(st.peers[3].id, 4);
	ck_assert(h_wait_count(&h, 20, 10000));
	ck_assert_uint_eq(h.fsm[n4].count, 20);
	assert_same_state(&h);

	ck_assert_int_eq(cluster_remove(h.c[l], 4, on_change, &rm_status, &err), 0);
	ck_assert(h_step_until(&h, p_int_set, &rm_status, 20000));
	ck_assert_int_eq(rm_status, 0);
	cluster_status_get(h.c[l], &st);
	ck_assert_uint_eq(st.n_peers, 3);
	ck_assert_int_eq(cluster_remove(h.c[l], 4, NULL, NULL, &err), TDM_ENOENT);
	raft_fixture_kill(&h.f, n4); /* the operator stops the removed node */
	h_submit_many(&h, l, 1, 21, 5, 64, &ok);
	ck_assert(h_wait_count(&h, 25, 10000));
	assert_same_state(&h);
	h_teardown(&h);
}
END_TEST

/* A write whose leader loses leadership after appending it: the outcome is
 * unknown, the next leader commits it anyway, and the retry with the same
 * command id is applied once. */
struct outcome {
	int status;
	bool done;
	bool dup;
};

static void on_outcome(void *data, int status, uint64_t index, void *result)
{
	struct outcome *o = data;
	(void)index;
	o->status = status;
	o->done = true;
	if (status == 0)
		o->dup = ((struct testfsm_result *)result)->dup;
}

static bool p_done(struct harness *h, void *arg)
{
	(void)h;
	return ((struct outcome *)arg)->done;
}

struct appended {
	unsigned l;
	raft_index index;
};

static bool p_appended(struct harness *h, void *arg)
{
	struct appended *a = arg;
	for (unsigned i = 0; i < h->n; i++)
		if (i != a->l && raft_last_index(raft_fixture_get(&h->f, i)) < a->index)
			return false;
	return true;
}

START_TEST(unknown_outcome_dedupe)
{
	struct harness h;
	struct outcome o1 = { 0 }, o2 = { 0 };
	struct appended a;
	uint8_t buf[64];
	unsigned l, l2;

	h_setup(&h, 3, NULL, 0);
	h_start(&h);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	ck_assert(h_wait_converged(&h, 5000));
	/* Followers' answers never reach the leader. */
	for (unsigned i = 0; i < 3; i++)
		if (i != l)
			raft_fixture_saturate(&h.f, i, l);
	testfsm_entry(buf, sizeof buf, 77, 1);
	ck_assert_int_eq(cluster_submit(h.c[l], buf, sizeof buf, on_outcome, &o1, NULL), 0);
	a.l = l;
	a.index = raft_last_index(raft_fixture_get(&h.f, l));
	ck_assert(h_step_until(&h, p_appended, &a, 5000));
	ck_assert(h_step_until(&h, p_done, &o1, 10000));
	ck_assert_int_eq(o1.status, TDM_ECLUSTER);
	ck_assert(cluster_outcome_unknown(o1.status));
	ck_assert_uint_eq(h.lost[l], 1);
	for (unsigned i = 0; i < 3; i++)
		if (i != l)
			raft_fixture_desaturate(&h.f, i, l);

	/* The next leader's barrier commits the entry: applied once. */
	l2 = h_wait_ready(&h, 20000);
	ck_assert_uint_lt(l2, 3);
	ck_assert(h_wait_count(&h, 1, 10000));
	/* The submitter retries the same command through the new leader. */
	ck_assert_int_eq(cluster_submit(h.c[l2], buf, sizeof buf, on_outcome, &o2, NULL), 0);
	ck_assert(h_step_until(&h, p_done, &o2, 10000));
	ck_assert_int_eq(o2.status, 0);
	ck_assert(o2.dup);
	ck_assert(h_wait_converged(&h, 5000));
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(h.fsm[i].count, 1);
		ck_assert_uint_eq(h.fsm[i].dups, 1);
	}
	assert_same_state(&h);
	h_teardown(&h);
}
END_TEST

START_TEST(witness_hands_off)
{
	struct harness h;
	unsigned l, ok = 0;

	/* Node 3 (index 2) is the witness; force it to win the first election. */
	h_setup(&h, 3, NULL, 1u << 2);
	h_start(&h);
	raft_fixture_elect(&h.f, 2);
	ck_assert_int_eq(raft_state(raft_fixture_get(&h.f, 2)), RAFT_LEADER);
	l = h_wait_ready(&h, 20000);
	ck_assert_uint_lt(l, 2);
	ck_assert_uint_eq(h.ready[2], 0); /* a witness never reports leader_ready */
	ck_assert_uint_eq(h.lost[2], 0);
	ck_assert_int_ne(raft_state(raft_fixture_get(&h.f, 2)), RAFT_LEADER);
	/* Transfers never target the witness. */
	{
		struct tdm_err err = { "" };
		ck_assert_int_eq(cluster_transfer(h.c[l], 3, NULL, NULL, &err), TDM_EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "witness"));
	}
	h_submit_many(&h, l, 1, 1, 10, 64, &ok);
	ck_assert(h_wait_count(&h, 10, 10000));
	assert_same_state(&h);

	/* Kill the signing leader: the witness may win, and hands on again. */
	raft_fixture_kill(&h.f, l);
	ck_assert_uint_eq(h_wait_ready(&h, 30000), 1 - l);
	ck_assert_uint_eq(h.ready[2], 0);
	h_teardown(&h);
}
END_TEST

START_TEST(apply_failure_retried)
{
	struct harness h;
	unsigned l, ok = 0, f, g;

	h_setup(&h, 3, NULL, 0);
	h_start(&h);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	f = (l + 1) % 3;
	g = (l + 2) % 3;
	/* A transient failure on one follower: retried at once, no harm. */
	h.fsm[f].fail_next_apply = 2;
	h_submit_many(&h, l, 5, 1, 20, 64, &ok);
	ck_assert(h_wait_count(&h, 20, 20000));
	ck_assert(h_wait_converged(&h, 10000));
	ck_assert_int_eq(h.fsm[f].fail_next_apply, 0);
	ck_assert_uint_eq(h.fatal[f], 0);
	assert_same_state(&h);

	/* A lasting failure: libraft 0.15 stops the node; its owner hears it
	 * once; the other two carry on. */
	h.fsm[g].fail_next_apply = 1000;
	h_submit_many(&h, l, 5, 21, 10, 64, &ok);
	raft_fixture_step_until_elapsed(&h.f, 2000);
	ck_assert_uint_eq(h.fatal[g], 1);
	ck_assert_int_eq(raft_state(raft_fixture_get(&h.f, g)), RAFT_UNAVAILABLE);
	ck_assert_uint_eq(h.fsm[l].count, 30);
	ck_assert_uint_eq(h.fsm[f].count, 30);
	ck_assert_uint_eq(h.fsm[g].count, 20);
	ck_assert_uint_eq(ok, 30);
	h.fsm[g].fail_next_apply = 0;
	h_teardown(&h);
}
END_TEST

/* Worker threads hand entries to the loop through cluster_submit_threadsafe. */
struct worker {
	struct cluster *c;
	unsigned n;
	uint64_t origin;
	int rv;
};

static unsigned thread_ok;
static pthread_mutex_t thread_ok_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_thread_done(void *data, int status, uint64_t index, void *result)
{
	(void)data;
	(void)index;
	(void)result;
	/* Runs on the loop (here: the stepping) thread. */
	if (status == 0) {
		pthread_mutex_lock(&thread_ok_lock);
		thread_ok++;
		pthread_mutex_unlock(&thread_ok_lock);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t buf[128];
	for (unsigned k = 0; k < w->n; k++) {
		testfsm_entry(buf, sizeof buf, w->origin, k + 1);
		w->rv = cluster_submit_threadsafe(w->c, buf, sizeof buf, on_thread_done, NULL);
		if (w->rv != 0)
			break;
	}
	return NULL;
}

START_TEST(threads_hand_off)
{
	struct harness h;
	struct cluster_config cfg = { 0 };
	struct worker w[2];
	pthread_t t[2];
	unsigned l;

	cfg.max_queued = 8; /* workers block on a full queue */
	h_setup(&h, 3, &cfg, 0);
	h_start(&h);
	l = h_wait_ready(&h, 10000);
	ck_assert_uint_lt(l, 3);
	thread_ok = 0;
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ h.c[l], 150, 100 + (uint64_t)i, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	/* Virtual time runs far faster than the workers: step in real time. */
	{
		time_t end = time(NULL) + 30;
		while ((h.fsm[0].count < 300 || h.fsm[1].count < 300 || h.fsm[2].count < 300) &&
		       time(NULL) < end)
			raft_fixture_step(&h.f);
	}
	ck_assert(h_wait_count(&h, 300, 10000));
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].rv, 0);
	}
	ck_assert(h_wait_converged(&h, 5000));
	ck_assert_uint_eq(thread_ok, 300);
	assert_same_state(&h);
	h_teardown(&h);
}
END_TEST

TCase *tcase_fixture(void)
{
	TCase *tc = tcase_create("fixture");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, election_barrier);
	tcase_add_test(tc, replicate_1000);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, kill_leader_revive);
	tcase_add_test(tc, snapshot_install);
	tcase_add_test(tc, transfer);
	tcase_add_test(tc, membership);
	tcase_add_test(tc, unknown_outcome_dedupe);
	tcase_add_test(tc, witness_hands_off);
	tcase_add_test(tc, apply_failure_retried);
	tcase_add_test(tc, threads_hand_off);
	return tc;
}
