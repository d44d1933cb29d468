/*
 * Private to the enforcer service (enforce*.c, pool.c): struct enforce,
 * jobs, and one zone's plan on its way into an ENFORCE entry.
 */
#ifndef TDM_DAEMON_ENFORCE_INT_H
#define TDM_DAEMON_ENFORCE_INT_H

#include <uv.h>

#include "daemon/enforce.h"
#include "daemon/nameset.h"

/* Zones per ENFORCE entry: large enough that a run over 50,000 zones is a
 * hundred entries, small enough to stay far below LEDGER_ENTRY_MAX. */
#define ENFORCE_CHUNK 500
/* A zone that waits for a pool key is looked at again after this long
 * (and at once when the pool has been filled). */
#define ENFORCE_KEY_RETRY 60
/* A zone whose plan failed (its policy does not load, ...) is tried again
 * after this long, or at the next `enforce`, `policy import` or leader start. */
#define ENFORCE_FAIL_RETRY 600
/* Keys kept ready in the pool of every (repository, algorithm, bits) a
 * policy uses, besides what a run needs at once. */
#define ENFORCE_POOL_LOW 4
#define ENFORCE_POOL_BATCH 16

struct job {
	struct enforce_request req;
	enforce_done_fn done;
	void *arg;
	char **names;            /* RUN all / named: the zones, iterated by `pos` */
	size_t n_names, pos;
	bool listed;             /* names fixed (named zones, or `all`) */
	size_t planned, failed;
	char *report;            /* lines for the client */
	size_t report_len;
	uint64_t started_ms;
	struct job *next;
};

/* The pool keys of one (repository, algorithm, bits), oldest first, taken
 * from the front while one chunk is planned. */
struct pool_cursor {
	char *repository;
	uint8_t algorithm;
	uint32_t bits;
	struct ledger_key *keys;
	size_t n, next;
	uint64_t wanted;         /* zone keys asked for in this chunk and not found */
	bool shared_wanted;      /* a shared key was asked for and not found */
};

/* A policy's shared keys, as the zones of one chunk see them. */
struct shared_set {
	char *policy;
	struct ledger_key *keys; /* from the ledger */
	size_t n;
	struct enforcer_key *ek; /* identity view for enforcer_zone.shared_pool */
	size_t n_ek, cap_ek;
	char **strs;             /* strings owned for ek */
	size_t n_strs;
};

/* After commit: run DelegationSigner{Submit,Retract}Command for a key. */
struct ds_call {
	bool submit;
	char *zone, *key_id;
	char *locator;           /* CKA_ID in hex: the key for the ds-submit/ds-retract that follows */
	char *dnskey_rr;         /* the key's DNSKEY record, for the command's stdin */
};

/* One zone planned into the current chunk. */
struct zplan {
	char *zone;
	struct ledger_zone_state st;
	const struct enforce_policy *pol;
	struct enforcer_key *keys;   /* input: the zone's keys, then claims */
	size_t n_keys, cap_keys;
	struct ledger_key *claimed;  /* pool keys claimed (identity, owned) */
	uint8_t *claim_scope;
	size_t n_claimed;
	char **strs;                 /* strings owned for keys[] */
	size_t n_strs, cap_strs;
	struct enforcer_plan plan;
	char *salt;
	uint64_t salt_time;
	uint64_t roll[4];
	uint64_t next_due;
	bool signconf;               /* write the signconf after commit */
	int signconf_rc;             /* outcome of the write (worker thread) */
	char *signconf_err;
	bool waits_for_keys;
	bool deferred;               /* its plan failed: only its schedule moves */
	unsigned pool_epoch;         /* e->pool_epoch when planned */
	struct ledger_enforce_key *ek;
	size_t n_ek;
	struct ds_call *calls;
	size_t n_calls;
};

struct chunk {
	struct zplan *z;
	size_t n, cap;
	struct pool_cursor *pools;
	size_t n_pools;
	struct shared_set *shared;
	size_t n_shared;
	struct ledger_enforce_zone *lz;
	int64_t now;
};

struct pool_gen;

struct enforce {
	struct daemon *d;
	uv_timer_t timer;            /* the next due zone */
	uv_timer_t pump;             /* work on the queue (0 ms) */
	bool leader, in_flight, closing;
	bool handles_closed;         /* enforce_close done; freed when no generation runs */
	bool writing;                /* a chunk's signconfs are being written (worker) */
	uv_work_t write_work;
	struct job *head, *tail;
	size_t n_jobs;
	struct chunk cur;            /* the chunk in flight */
	struct job *cur_job;

	struct enforce_policy *policies;
	size_t n_policies;

	struct nameset signer_q;     /* zones told to the signer, oldest first */
	struct nameset waiting;      /* zones that wait for pool keys */

	struct pool_gen *gens;       /* pool.c */
	struct pool_gen *gen_active; /* the generation whose batch is on a worker */
	unsigned gen_busy;
	unsigned pool_epoch;         /* +1 whenever generated keys committed */

	struct enforce_stats st;
};

/*- enforce_zone.c --------------------------------------------------------*/

/** Plan one zone into @p zp (zeroed by the caller) for job @p j. */
int enforce__zone_plan(struct enforce *e, struct chunk *c, const struct job *j,
		       const char *zone, struct zplan *zp, struct tdm_err *err);
/**
 * After a failed plan of an existing zone: keep everything but move its
 * next run ENFORCE_FAIL_RETRY later.  @return false if @p zp cannot be used.
 */
bool enforce__zone_defer(struct zplan *zp, int64_t now);
/** Free what a DS command call owns; it becomes empty. */
void enforce__ds_call_clear(struct ds_call *dc);
/** Fill @p out (borrowing from @p zp). */
void enforce__zone_to_ledger(struct zplan *zp, struct ledger_enforce_zone *out);
/** Write the signconf of a committed plan.  0 or a code with a message. */
int enforce__zone_signconf(struct enforce *e, struct zplan *zp, struct tdm_err *err);
void enforce__zone_free(struct zplan *zp);
void enforce__chunk_clear(struct chunk *c);

/*- pool.c -----------------------------------------------------------------*/

/** Ask for the keys the last chunk missed and top up the pools it used. */
void enforce__pool_after_chunk(struct enforce *e, struct chunk *c);
void enforce__pool_close(struct enforce *e);

/*- enforce.c ----------------------------------------------------------------*/

/** Zones waiting for keys become due again (after a pool fill). */
void enforce__wake_waiting(struct enforce *e);
/** Append a line to a job's report. */
void enforce__job_say(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
