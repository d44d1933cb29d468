/* Health verdict, /health JSON and /metrics from hand-made status structs. */
#include "daemon/status.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

TCase *tcase_health(void);

static void base(struct daemon_status *st, enum cluster_role role)
{
	memset(st, 0, sizeof *st);
	strcpy(st->version, "0.1.0");
	st->cl.id = 2;
	st->cl.role = role;
	st->cl.term = 7;
	st->cl.commit_index = 100;
	st->cl.last_applied = 100;
	st->cl.election_timeout_ms = 500;
	st->cl.leader_id = role == CLUSTER_LEADER ? 2 : 1;
	st->cl.leader_contact_ms = role == CLUSTER_FOLLOWER ? 30 : -1;
	st->cl.leader_ready = role == CLUSTER_LEADER;
	st->peers_total = 3;
	st->peers_reachable = 3;
	st->snapshot_age_s = -1;
}

START_TEST(verdicts)
{
	struct daemon_status st;
	char why[256], *body;
	base(&st, CLUSTER_LEADER);
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_OK);
	ck_assert_uint_eq(daemon_health_http(&st, &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "\"healthy\":true"));
	free(body);
	st.cl.leader_ready = false; /* barrier not committed yet */
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_CRITICAL);
	ck_assert_uint_eq(daemon_health_http(&st, &body), 503);
	free(body);

	base(&st, CLUSTER_LEADER);
	st.peers_reachable = 2;
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_WARNING);
	ck_assert_ptr_nonnull(strstr(why, "2 of 3"));
	ck_assert_uint_eq(daemon_health_http(&st, &body), 200);
	free(body);

	base(&st, CLUSTER_FOLLOWER);
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_OK);
	st.cl.commit_index = 1000;
	st.cl.last_applied = 1000 - DAEMON_LAG_WARNING - 1;
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_WARNING);
	st.cl.commit_index = st.cl.last_applied + DAEMON_LAG_CRITICAL;
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_CRITICAL);
	ck_assert_ptr_nonnull(strstr(why, "behind"));

	base(&st, CLUSTER_FOLLOWER);
	st.cl.leader_contact_ms = 5000; /* more than two election timeouts */
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_CRITICAL);
	st.cl.leader_id = 0;
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_CRITICAL);
	ck_assert_ptr_nonnull(strstr(why, "no leader"));

	base(&st, CLUSTER_CANDIDATE);
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_CRITICAL);
	base(&st, CLUSTER_FOLLOWER);
	st.shutting_down = true;
	ck_assert_int_eq(daemon_health_eval(&st, why, sizeof why), DAEMON_HEALTH_CRITICAL);
}
END_TEST

START_TEST(metrics_text)
{
	struct daemon_status st;
	char *m;
	base(&st, CLUSTER_LEADER);
	st.cl.n_peers = 2;
	st.cl.peers[0].id = 2;
	st.cl.peers[0].progress_known = true;
	st.cl.peers[0].match_index = 100;
	st.cl.peers[1].id = 3;
	st.cl.peers[1].progress_known = true;
	st.cl.peers[1].match_index = 97;
	st.apply_rate = 12.5;
	m = daemon_metrics_text(&st);
	ck_assert_ptr_nonnull(strstr(m, "tandem_role{role=\"leader\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(m, "tandem_role{role=\"follower\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(m, "tandem_term 7\n"));
	ck_assert_ptr_nonnull(strstr(m, "tandem_apply_rate 12.5\n"));
	ck_assert_ptr_nonnull(strstr(m, "tandem_snapshot_age_seconds -1\n"));
	ck_assert_ptr_nonnull(strstr(m, "tandem_peers_reachable 3\n"));
	ck_assert_ptr_nonnull(strstr(m, "tandem_peer_match_index{peer=\"3\"} 97\n"));
	ck_assert_ptr_nonnull(strstr(m, "# TYPE tandem_writes_total counter\n"));
	free(m);
}
END_TEST

START_TEST(box_copies)
{
	struct daemon_status_box b;
	struct daemon_status st, out;
	daemon_status_box_init(&b);
	ck_assert(!daemon_status_box_get(&b, &out));
	base(&st, CLUSTER_FOLLOWER);
	daemon_status_box_put(&b, &st);
	ck_assert(daemon_status_box_get(&b, &out));
	ck_assert_uint_eq(out.cl.term, 7);
	daemon_status_box_destroy(&b);
}
END_TEST

TCase *tcase_health(void)
{
	TCase *tc = tcase_create("health");
	tcase_add_test(tc, verdicts);
	tcase_add_test(tc, metrics_text);
	tcase_add_test(tc, box_copies);
	return tc;
}
