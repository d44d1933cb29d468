/*
 * The key pool: DNSSEC keys generated ahead of need, per (repository,
 * algorithm, bits), so that adding a zone or rolling a key never waits for
 * the HSM.  A pool key is made as every replicated key is (key custody: an
 * extractable session key pair, wrapped under the cluster KEK) and
 * committed as KEY_CREATE with scope POOL; the enforcer claims it in an
 * ENFORCE entry.
 *
 * Generation runs on libuv worker threads in batches of ENFORCE_POOL_BATCH
 * keys; each batch's KEY_CREATE entries are submitted together, and the
 * next batch starts when they are committed.  The session objects are
 * removed once wrapped: the ledger is the key store (DESIGN "Key custody").
 *
 * Limits an operator expects: <ManualKeyGeneration/> stops automatic
 * generation (only `key generate` fills the pool); a repository's
 * <Capacity> is never exceeded, counting every key the ledger holds.
 */
#define _GNU_SOURCE
#include "daemon/daemon_int.h"
#include "daemon/enforce_int.h"
#include "daemon/custody.h"
#include "daemon/writer.h"
#include "common/log.h"
#include "hsm/hsm.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pool_key {
	char id[2 * 64 + 1];
	uint8_t cka[64];
	size_t cka_len;
	uint8_t *rdata, *wrapped;
	size_t rdata_len, wrapped_len;
};

struct pool_waiter {
	void (*done)(void *arg, int status, const char *msg);
	void *arg;
};

struct pool_gen {
	uv_work_t w;
	struct enforce *e;
	char *repository;
	uint8_t algorithm;
	uint32_t bits;
	uint64_t remaining;          /* still to generate after this batch */
	struct pool_key *keys;
	size_t n_keys, batch;
	size_t pending;              /* KEY_CREATE entries not yet resolved */
	uint64_t made;
	int rc;
	struct tdm_err err;
	int64_t created;
	struct pool_waiter *waiters;
	size_t n_waiters;
	struct pool_gen *next;
	bool dead;                   /* the service closed while it worked */
	bool queued;                 /* waits for another generation's batch */
	/* Shutdown: the loop thread sets `stop` and waits while `working`, so
	 * the HSM context is never closed under a worker (pool_close). */
	atomic_bool stop, working;
};

static void gen_work(uv_work_t *w)
{
	struct pool_gen *g = w->data;
	struct hsm_ctx *hsm = custody_hsm(g->e->d->custody);
	struct hsm_keygen opts = {
		.algorithm = g->algorithm,
		.bits = g->bits ? g->bits : (g->algorithm == 8 || g->algorithm == 10 ? 2048 : 0),
		.session = true, .extractable = true,
	};
	g->keys = tdm_calloc(g->batch, sizeof *g->keys);
	atomic_store(&g->working, true);
	for (g->n_keys = 0; g->n_keys < g->batch; g->n_keys++) {
		if (atomic_load(&g->stop)) {
			g->rc = TDM_ESHUTDOWN;
			tdm_err_set(&g->err, "closing");
			break;
		}
		struct pool_key *k = &g->keys[g->n_keys];
		struct hsm_key *key = NULL;
		g->rc = hsm_key_generate(hsm, &opts, &key, &g->err);
		if (g->rc == 0)
			g->rc = hsm_key_dnskey_rdata(hsm, key, 256, &k->rdata, &k->rdata_len, &g->err);
		if (g->rc == 0)
			g->rc = hsm_key_wrap(hsm, key, &k->wrapped, &k->wrapped_len, &g->err);
		if (key != NULL) {
			snprintf(k->id, sizeof k->id, "%s", hsm_key_id(key));
			struct tdm_err e2 = { "" };
			hsm_key_remove(hsm, key, &e2);
		}
		if (g->rc != 0) {
			free(k->rdata);
			free(k->wrapped);
			memset(k, 0, sizeof *k);
			break;
		}
		k->cka_len = strlen(k->id) / 2;
		for (size_t i = 0; i < k->cka_len && i < sizeof k->cka; i++) {
			unsigned v;
			sscanf(k->id + 2 * i, "%2x", &v);
			k->cka[i] = (uint8_t)v;
		}
	}
	atomic_store(&g->working, false);
}

static void gen_free_keys(struct pool_gen *g)
{
	for (size_t i = 0; i < g->n_keys; i++) {
		free(g->keys[i].rdata);
		free(g->keys[i].wrapped);
	}
	free(g->keys);
	g->keys = NULL;
	g->n_keys = 0;
}

static void gen_finish(struct pool_gen *g, int status, const char *msg)
{
	struct enforce *e = g->e;
	if (e->gen_active == g)
		e->gen_active = NULL;
	for (struct pool_gen **pp = &e->gens; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	e->gen_busy--;
	if (status == 0)
		tdm_log_notice("enforcer: pool %s/%u/%u: %llu key(s) generated and committed",
			       g->repository, g->algorithm, g->bits, (unsigned long long)g->made);
	else
		tdm_log_err("enforcer: pool %s/%u/%u: %s", g->repository, g->algorithm, g->bits, msg);
	for (size_t i = 0; i < g->n_waiters; i++)
		g->waiters[i].done(g->waiters[i].arg, status, msg);
	free(g->waiters);
	gen_free_keys(g);
	free(g->repository);
	free(g);
	if (e->closing) {
		if (e->handles_closed && e->gens == NULL && !e->writing)
			free(e);
		return;
	}
	if (status == 0) {
		e->pool_epoch++;
		enforce__wake_waiting(e);
	}
}

static void start_batch(struct pool_gen *g);

static void on_key(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct pool_gen *g = data;
	if (status != 0 || (res->status != LEDGER_OK && res->status != LEDGER_DUPLICATE)) {
		if (g->rc == 0) {
			g->rc = status != 0 ? status : TDM_EINVAL;
			tdm_err_set(&g->err, "KEY_CREATE: %s", status != 0 ? msg : res->msg);
		}
	} else {
		g->made++;
	}
	if (--g->pending > 0)
		return;
	gen_free_keys(g);
	if (g->rc != 0 || g->dead)
		gen_finish(g, g->rc ? g->rc : TDM_ESHUTDOWN, g->rc ? g->err.msg : "closing");
	else if (g->remaining > 0)
		start_batch(g);
	else
		gen_finish(g, 0, "");
}

static void start_queued(struct enforce *e)
{
	for (struct pool_gen *q = e->gens; q && e->gen_active == NULL; q = q->next)
		if (q->queued)
			start_batch(q);
}

static void gen_after(uv_work_t *w, int status)
{
	struct pool_gen *g = w->data;
	struct enforce *e = g->e;
	e->gen_active = NULL;
	if (status != 0 || g->dead || !e->leader) {
		gen_finish(g, TDM_ESHUTDOWN, "leadership lost or closing: generation stopped");
		if (!e->closing)
			start_queued(e);
		return;
	}
	for (size_t i = 0; i < g->n_keys; i++) {
		struct pool_key *k = &g->keys[i];
		struct ledger_cmd cmd = { .type = LEDGER_CMD_KEY_CREATE };
		struct tdm_err err = { "" };
		cmd.key_create.key_id = ledger_str(k->id);
		cmd.key_create.scope = LEDGER_SCOPE_POOL;
		cmd.key_create.scope_name = ledger_str("");
		cmd.key_create.role = 0;
		cmd.key_create.algorithm = g->algorithm;
		cmd.key_create.bits = (uint16_t)g->bits;
		cmd.key_create.public_rdata = (struct ledger_bytes){ k->rdata, k->rdata_len };
		cmd.key_create.cka_id = (struct ledger_bytes){ k->cka, k->cka_len };
		cmd.key_create.repository = ledger_str(g->repository);
		cmd.key_create.wrapped_private = (struct ledger_bytes){ k->wrapped, k->wrapped_len };
		cmd.key_create.created = (uint64_t)g->created;
		if (writer_submit(e->d->writer, &cmd, on_key, g, &err) == 0) {
			g->pending++;
		} else if (g->rc == 0) {
			g->rc = TDM_EINVAL;
			g->err = err;
		}
	}
	if (g->pending == 0) {
		gen_free_keys(g);
		gen_finish(g, g->rc ? g->rc : TDM_EHSM, g->rc ? g->err.msg : "no key generated");
	}
	start_queued(e);
}

/*
 * One batch generates at a time, whatever the pool: two worker threads in
 * one HSM context at once crashed tandemd (key cache, SoftHSM session).
 * A waiting generation starts when the running batch is back on the loop.
 */
static void start_batch(struct pool_gen *g)
{
	struct enforce *e = g->e;
	if (e->gen_active != NULL && e->gen_active != g) {
		g->queued = true;
		return;
	}
	g->queued = false;
	e->gen_active = g;
	g->batch = g->remaining < ENFORCE_POOL_BATCH ? (size_t)g->remaining : ENFORCE_POOL_BATCH;
	g->remaining -= g->batch;
	g->created = enforce_now(g->e);
	g->w.data = g;
	if (uv_queue_work(&g->e->d->loop, &g->w, gen_work, gen_after) != 0)
		gen_finish(g, TDM_EIO, "cannot queue the key generation");
}

static uint64_t pool_have(struct enforce *e, const char *repo, uint8_t alg, uint32_t bits)
{
	struct ledger_pool_count *pc = NULL;
	size_t n = 0;
	uint64_t have = 0;
	struct tdm_err err = { "" };
	if (ledger_pool_counts(e->d->ledger, &pc, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (pc[i].algorithm == alg && pc[i].bits == bits &&
			    !strcmp(pc[i].repository, repo))
				have = pc[i].count;
		ledger_pool_counts_free(pc, n);
	}
	for (struct pool_gen *g = e->gens; g; g = g->next)
		if (g->algorithm == alg && g->bits == bits && !strcmp(g->repository, repo))
			have += g->remaining + g->batch;
	return have;
}

int enforce_pool_fill(struct enforce *e, const char *repository, uint8_t algorithm,
		      uint32_t bits, uint64_t want, bool manual_ok,
		      void (*done)(void *arg, int status, const char *msg), void *arg,
		      struct tdm_err *err)
{
	struct custody *cu = e->d->custody;
	const struct tdm_repository *r = tdm_conf_repository(e->d->conf, repository);
	if (!custody_enabled(cu))
		return tdm_err_fail(err, TDM_ENOKEY, "no key custody on this node (no <Repository> in conf.xml)");
	if (!custody_has_kek(cu))
		return tdm_err_fail(err, TDM_ENOKEY, "the leader holds no cluster KEK yet");
	if (strcmp(repository, custody_repository(cu)) != 0)
		return tdm_err_fail(err, TDM_EINVAL,
				    "repository %s: the cluster keeps its keys in repository %s",
				    repository, custody_repository(cu));
	if (!manual_ok && e->d->conf->manual_key_generation)
		return tdm_err_fail(err, TDM_EINVAL,
				    "repository %s: <ManualKeyGeneration/> is set: zones wait until `key generate` fills the pool for algorithm %u",
				    repository, algorithm);
	if (!hsm_algorithm_supported(custody_hsm(cu), algorithm))
		return tdm_err_fail(err, TDM_EALGO, "repository %s: algorithm %u is not supported",
				    repository, algorithm);
	uint64_t have = pool_have(e, repository, algorithm, bits);
	if (have >= want) {
		if (done)
			done(arg, 0, "");
		return 0;
	}
	uint64_t need = want - have;
	if (r != NULL && r->capacity > 0) {
		uint64_t zones = 0, keys = 0, pool = 0;
		struct tdm_err e2 = { "" };
		ledger_counts(e->d->ledger, &zones, &keys, &pool, &e2);
		for (struct pool_gen *g = e->gens; g; g = g->next)
			keys += g->remaining + g->batch;
		if (keys >= r->capacity)
			return tdm_err_fail(err, TDM_ERANGE,
					    "repository %s is full: it holds %llu keys, its <Capacity> is %u; no key generated (purge dead keys or raise Capacity)",
					    repository, (unsigned long long)keys, r->capacity);
		if (keys + need > r->capacity) {
			tdm_log_warn("enforcer: repository %s: <Capacity> %u allows only %llu of %llu key(s)",
					repository, r->capacity,
					(unsigned long long)(r->capacity - keys),
					(unsigned long long)need);
			need = r->capacity - keys;
		}
	}
	struct pool_gen *g = tdm_calloc(1, sizeof *g);
	g->e = e;
	g->repository = tdm_strdup(repository);
	g->algorithm = algorithm;
	g->bits = bits;
	g->remaining = need;
	if (done) {
		g->waiters = tdm_calloc(1, sizeof *g->waiters);
		g->waiters[0] = (struct pool_waiter){ done, arg };
		g->n_waiters = 1;
	}
	g->next = e->gens;
	e->gens = g;
	e->gen_busy++;
	tdm_log_info("enforcer: pool %s/%u/%u: generating %llu key(s)", repository, algorithm, bits,
		     (unsigned long long)need);
	start_batch(g);
	return 0;
}

unsigned enforce_pool_busy(const struct enforce *e)
{
	return e->gen_busy;
}

void enforce__pool_after_chunk(struct enforce *e, struct chunk *c)
{
	for (size_t i = 0; i < c->n_pools; i++) {
		struct pool_cursor *p = &c->pools[i];
		uint64_t left = p->n - p->next;
		uint64_t want = 0;
		if (p->wanted > 0 || p->shared_wanted)
			want = left + p->wanted + (p->shared_wanted ? 2 : 0) + ENFORCE_POOL_LOW;
		else if (left < ENFORCE_POOL_LOW)
			want = ENFORCE_POOL_LOW + ENFORCE_POOL_BATCH;
		if (want == 0)
			continue;
		const struct tdm_repository *r = tdm_conf_repository(e->d->conf, p->repository);
		if (r != NULL && r->require_backup && p->wanted + p->shared_wanted > 0)
			tdm_log_warn("enforcer: repository %s has <RequireBackup/>: zones wait for keys of algorithm %u until `backup prepare` and `backup commit` (tandem-enforcer backup list)",
				     p->repository, p->algorithm);
		struct tdm_err err = { "" };
		if (enforce_pool_fill(e, p->repository, p->algorithm, p->bits, want, false, NULL, NULL,
				      &err) != 0 && (p->wanted > 0 || p->shared_wanted))
			tdm_log_err("enforcer: %llu zone key(s) of %s/%u/%u wait: %s",
				    (unsigned long long)p->wanted, p->repository, p->algorithm, p->bits,
				    err.msg);
	}
}

void enforce__pool_close(struct enforce *e)
{
	/* Work in progress finishes on its own (the loop runs until the
	 * handles close); it sees `dead` and stops. */
	for (struct pool_gen *g = e->gens; g; g = g->next) {
		g->dead = true;
		atomic_store(&g->stop, true);
	}
	/* Generations that never started end now. */
	for (struct pool_gen *g = e->gens, *next; g; g = next) {
		next = g->next;
		if (g->queued)
			gen_finish(g, TDM_ESHUTDOWN, "closing");
	}
	/* Wait for a key being generated now (at most one batch runs):
	 * custody closes the HSM context right after this. */
	for (struct pool_gen *g = e->gens; g; g = g->next)
		while (atomic_load(&g->working))
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
}
