/*
 * Several threads sign with the same keys at once, each through its own
 * session; token and session keys; every signature verifies.
 */
#include "hsmtest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define N_THREADS 4
#define N_SIGS 100

struct job {
	struct hsm_key *key;
	const uint8_t *rd;
	size_t len;
	int bad;
};

static void *worker(void *p)
{
	struct job *j = p;
	uint8_t data[64], sig[HSM_MAX_SIG_LEN];
	struct tdm_err err;
	size_t n;
	int i;

	for (i = 0; i < N_SIGS; i++) {
		memset(data, i, sizeof data);
		if (hsm_sign(t_ctx, j->key, data, sizeof data, sig, &n, &err) != 0 ||
		    tdm_test_verify(j->rd, j->len, data, sizeof data, sig, n) != 1)
			j->bad++;
	}
	return NULL;
}

START_TEST(test_threads_sign)
{
	struct hsm_key *keys[2] = { t_keygen(t_ctx, 13, false, false),
				    t_keygen(t_ctx, 15, true, false) };
	uint8_t *rd[2];
	size_t len[2];
	struct job jobs[N_THREADS];
	pthread_t th[N_THREADS];
	struct tdm_err err = { "" };
	int i;

	for (i = 0; i < 2; i++)
		ck_assert_int_eq(hsm_key_dnskey_rdata(t_ctx, keys[i], 256, &rd[i],
						      &len[i], &err), 0);
	for (i = 0; i < N_THREADS; i++) {
		jobs[i] = (struct job){ keys[i % 2], rd[i % 2], len[i % 2], 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
	}
	for (i = 0; i < N_THREADS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(jobs[i].bad, 0);
	}
	/* The threads have exited and closed their sessions; signing from
	 * this thread still works, and new threads get new sessions. */
	t_sign_verify(t_ctx, keys[1], rd[1], len[1]);
	ck_assert_int_eq(pthread_create(&th[0], NULL, worker, &jobs[1]), 0);
	pthread_join(th[0], NULL);
	ck_assert_int_eq(jobs[1].bad, 0);
	free(rd[0]);
	free(rd[1]);
}
END_TEST

/* Closing the ctx while worker threads are alive (idle) is clean. */
static pthread_barrier_t bar;

static void *idle_worker(void *p)
{
	struct job *j = p;
	uint8_t sig[HSM_MAX_SIG_LEN];
	struct tdm_err err;
	size_t n;

	if (hsm_sign(t_ctx, j->key, (const uint8_t *)"a", 1, sig, &n, &err) != 0)
		j->bad++;
	pthread_barrier_wait(&bar);     /* signed */
	pthread_barrier_wait(&bar);     /* ctx closed */
	return NULL;
}

START_TEST(test_close_with_live_threads)
{
	struct job j = { t_keygen(t_ctx, 13, false, false), NULL, 0, 0 };
	pthread_t th;

	pthread_barrier_init(&bar, NULL, 2);
	ck_assert_int_eq(pthread_create(&th, NULL, idle_worker, &j), 0);
	pthread_barrier_wait(&bar);
	hsm_ctx_close(t_ctx);
	t_ctx = NULL;
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	ck_assert_int_eq(j.bad, 0);
	t_ctx = t_open();
}
END_TEST

TCase *tcase_threads(void)
{
	TCase *tc = tcase_create("threads");

	tcase_add_checked_fixture(tc, t_setup, t_teardown);
	tcase_add_test(tc, test_threads_sign);
	tcase_add_test(tc, test_close_with_live_threads);
	return tc;
}
