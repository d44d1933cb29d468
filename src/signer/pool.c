/*
 * The worker pool; see pool.h.
 */
#include "signer/pool.h"

#include "common/log.h"
#include "signer/progress.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 64

struct shared {
	atomic_size_t next;
	atomic_size_t done;
	atomic_int failed;   /* the first failing worker's code */
	atomic_flag msg_taken;
	char msg[TDM_ERRMSG_SIZE];
};

struct run {
	const struct signer__sigctx *c;
	const struct signer__work *items;
	size_t n;
	struct shared *sh;
	uint8_t *slots;
	size_t slot_size;
	void *state;         /* thread mode: the shared backend state */
};

#define HDR_SIZE ((sizeof(struct shared) + 4095) & ~(size_t)4095)

void signer__shm_free(void *p, size_t len)
{
	if (p != NULL)
		munmap(p, len);
}

static void report(struct run *r, int code, const struct tdm_err *err)
{
	int zero = 0;
	if (!atomic_flag_test_and_set(&r->sh->msg_taken))
		memcpy(r->sh->msg, err->msg, sizeof r->sh->msg);
	atomic_compare_exchange_strong(&r->sh->failed, &zero, code);
}

static int work(struct run *r, void *state)
{
	const struct signer__sigctx *c = r->c;
	const struct signer_backend *be = c->p->backend;
	uint8_t *buf = NULL;
	size_t cap = 0;
	struct tdm_err err;
	int rc = 0;

	tdm_err_clear(&err);
	for (;;) {
		size_t start = atomic_fetch_add(&r->sh->next, CHUNK), end;
		if (start >= r->n || atomic_load(&r->sh->failed) != 0)
			break;
		end = start + CHUNK < r->n ? start + CHUNK : r->n;
		for (size_t i = start; i < end; i++) {
			const struct signer__work *w = &r->items[i];
			struct signer__target t;
			uint8_t *slot = r->slots + i * r->slot_size;
			size_t hl, len, sig_len;
			signer__target_get(c, w->kind, w->target, &t);
			if (cap < 4096) {
				cap = 65536;
				buf = tdm_realloc(buf, cap);
			}
			hl = signer__rrsig_header(c, &t, w->key, buf);
			len = signer__signing_input(&t, hl, &buf, &cap);
			sig_len = r->slot_size - SIGNER_SB_HDR;
			rc = be->sign(state, w->key, buf, len, slot + SIGNER_SB_HDR, &sig_len, &err);
			if (rc != 0) {
				const struct signer_key *k = &c->p->keys[w->key];
				tdm_err_wrap(&err, "key %u (CKA_ID %s)", (unsigned)c->tags[w->key],
					     k->locator ? k->locator : "-");
				report(r, rc, &err);
				free(buf);
				return rc;
			}
			/* A sig blob (zone.h): the other fields are the slot's. */
			memcpy(slot, buf + 12, 4);
			memcpy(slot + 4, buf + 8, 4);
			signer__put16(slot + 8, (uint32_t)sig_len);
		}
		atomic_fetch_add(&r->sh->done, end - start);
	}
	free(buf);
	return 0;
}

static void *thread_main(void *arg)
{
	struct run *r = arg;
	work(r, r->state);
	return NULL;
}

static void child_main(struct run *r)
{
	const struct signer_backend *be = r->c->p->backend;
	struct tdm_err err;
	void *state = NULL;
	int rc;

	tdm_err_clear(&err);
	rc = be->open(be->arg, &state, &err);
	if (rc != 0) {
		tdm_err_wrap(&err, "worker %d", (int)getpid());
		report(r, rc, &err);
		_exit(1);
	}
	rc = work(r, state);
	be->close(state);
	_exit(rc == 0 ? 0 : 1);
}

static unsigned default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (unsigned)n;
}

int signer__pool_run(const struct signer__sigctx *c, const struct signer__work *items,
		     size_t n, uint8_t **area, size_t *area_len, size_t *slot_size,
		     struct tdm_err *err)
{
	const struct signer_params *p = c->p;
	unsigned nw = p->workers ? p->workers : default_workers();
	size_t len;
	uint8_t *map;
	struct run r;
	struct signer__progress prog;
	int rc = 0;

	*slot_size = SIGNER_SB_HDR + c->sig_max;
	len = HDR_SIZE + n * *slot_size;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return tdm_err_fail(err, TDM_ENOMEM, "cannot map %zu bytes for signatures", len);
	memset(&r, 0, sizeof r);
	r.c = c;
	r.items = items;
	r.n = n;
	r.sh = (struct shared *)map;
	atomic_init(&r.sh->next, 0);
	atomic_init(&r.sh->done, 0);
	atomic_init(&r.sh->failed, 0);
	atomic_flag_clear(&r.sh->msg_taken);
	r.slots = map + HDR_SIZE;
	r.slot_size = *slot_size;
	if ((size_t)nw > (n + CHUNK - 1) / CHUNK)
		nw = (unsigned)((n + CHUNK - 1) / CHUNK);
	if (nw == 0)
		nw = 1;
	signer__progress_start(&prog, p->progress, "signing");

	if (p->threads) {
		pthread_t *th = tdm_calloc(nw, sizeof *th);
		unsigned started = 0;
		rc = p->backend->open(p->backend->arg, &r.state, err);
		if (rc != 0) {
			munmap(map, len);
			free(th);
			return rc;
		}
		for (; started < nw; started++)
			if (pthread_create(&th[started], NULL, thread_main, &r) != 0)
				break;
		if (started == 0)
			work(&r, r.state);
		for (;;) {
			size_t d = atomic_load(&r.sh->done);
			if (d >= n || atomic_load(&r.sh->failed) != 0)
				break;
			signer__progress_update(&prog, d, n);
			usleep(20000);
		}
		for (unsigned i = 0; i < started; i++)
			pthread_join(th[i], NULL);
		free(th);
		p->backend->close(r.state);
	} else {
		pid_t *pids = tdm_calloc(nw, sizeof *pids);
		unsigned alive = 0;
		fflush(NULL);
		for (unsigned i = 0; i < nw; i++) {
			pid_t pid = fork();
			if (pid < 0) {
				struct tdm_err e;
				tdm_err_set(&e, "fork: %s", strerror(errno));
				report(&r, TDM_EAGAIN, &e);
				break;
			}
			if (pid == 0)
				child_main(&r);
			pids[i] = pid;
			alive++;
		}
		while (alive > 0) {
			bool reaped = false;
			for (unsigned i = 0; i < nw; i++) {
				int status;
				pid_t pid;
				if (pids[i] <= 0)
					continue;
				pid = waitpid(pids[i], &status, WNOHANG);
				if (pid == 0 || (pid < 0 && errno == EINTR))
					continue;
				pids[i] = 0;
				alive--;
				reaped = true;
				if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
					struct tdm_err e;
					if (pid > 0 && WIFSIGNALED(status))
						tdm_err_set(&e, "worker %d killed by signal %d",
							    (int)pid, WTERMSIG(status));
					else
						tdm_err_set(&e, "worker %d failed", (int)pid);
					/* The others see the flag and stop at their
					 * next chunk. */
					report(&r, TDM_EIO, &e);
				}
			}
			if (!reaped) {
				signer__progress_update(&prog, atomic_load(&r.sh->done), n);
				usleep(10000);
			}
		}
		free(pids);
	}
	signer__progress_end(&prog, atomic_load(&r.sh->done), n);
	rc = atomic_load(&r.sh->failed);
	if (rc == 0 && atomic_load(&r.sh->done) != n) {
		rc = TDM_EIO;
		tdm_err_set(err, "workers signed %zu of %zu records", atomic_load(&r.sh->done), n);
	} else if (rc != 0) {
		memcpy(err->msg, r.sh->msg, sizeof err->msg);
	}
	if (rc != 0) {
		munmap(map, len);
		return rc;
	}
	*area = map;
	*area_len = len;
	return 0;
}
