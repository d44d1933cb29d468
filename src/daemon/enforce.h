/*
 * The enforcer service of tandemd (DESIGN.md "Roles"): on the leader it
 * runs the enforcer library (src/enforcer) over the zones that are due,
 * turns each run's decisions into ENFORCE ledger entries, and after they
 * commit writes the signconf of every zone whose keys or policy changed and
 * tells the signer.  Followers run nothing; a new leader first runs every
 * zone once, so nothing scheduled by the old leader is lost.
 *
 * Work is a FIFO of jobs (a run over the due zones, or commands on named
 * zones: DS events, rollover requests, forced signconfs).  Exactly one
 * ENFORCE entry is in flight at a time, and each plan is computed from
 * state.db after the previous entry applied, so two plans never race for
 * one zone and a pool key is never handed out twice.
 *
 * Keys come from the pool (ledger scope POOL): a plan that needs a key
 * claims the oldest pool key of its (repository, algorithm, bits) in the
 * same ENFORCE entry.  pool.c keeps the pools filled through key custody.
 *
 * Time: enforce_now() = max(the leader's clock, the latest ENFORCE time in
 * the ledger), so the enforcer's time never goes back, across failovers
 * and `time leap` alike.
 *
 * Everything runs on the loop thread.
 */
#ifndef TDM_DAEMON_ENFORCE_H
#define TDM_DAEMON_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "enforcer/enforcer.h"
#include "ledger/ledger.h"

struct daemon;
struct enforce;

enum enforce_op {
	ENFORCE_OP_RUN = 0,      /* plan the zones (or every due zone when none named) */
	ENFORCE_OP_DS_SUBMIT,    /* key ds-submit */
	ENFORCE_OP_DS_SEEN,      /* key ds-seen */
	ENFORCE_OP_DS_RETRACT,   /* key ds-retract */
	ENFORCE_OP_DS_GONE,      /* key ds-gone */
	ENFORCE_OP_ROLL,         /* key rollover */
	ENFORCE_OP_IMPORT,       /* key import: claim pool key cka_id for the zone */
};

/** A job.  enforce_submit() takes ownership of the arrays and strings. */
struct enforce_request {
	enum enforce_op op;
	char **zones;            /* NULL with n_zones 0: every due zone (RUN only) */
	size_t n_zones;
	bool all;                /* RUN: every zone, due or not (`enforce`, leader start) */
	bool signconf;           /* write every named zone's signconf even if unchanged */
	int keytag;              /* DS ops: the key by tag, -1 = by cka_id */
	char *cka_id;            /* DS ops: hex CKA_ID, NULL = by tag */
	enum tdm_key_role role;  /* ROLL: 0 = every role the policy has; IMPORT: its role */
	char *import_state;      /* IMPORT: ods keystate (generate, publish, ready, active, retire) */
	int64_t import_time;     /* IMPORT: since when it is in that state (-w) */
};

/**
 * The end of a job: status CONTROL_EXIT_*, @p report a text for the client
 * (borrowed), with one line per zone that failed.
 */
typedef void (*enforce_done_fn)(void *arg, int status, const char *report);

int enforce_new(struct enforce **out, struct daemon *d, struct tdm_err *err);
void enforce_close(struct enforce *e);

/** Leadership gained (ready): run every zone once, then keep the schedule. */
void enforce_on_leader(struct enforce *e);
/** Leadership lost: stop; queued jobs end with CONTROL_EXIT_UNAVAILABLE. */
void enforce_on_follower(struct enforce *e);
/** After every applied entry: drop cached policies when one changed. */
void enforce_on_apply(struct enforce *e, const struct ledger_result *res);

/** Queue a job (leader only; otherwise @p done runs at once with UNAVAILABLE). */
void enforce_submit(struct enforce *e, struct enforce_request *req, enforce_done_fn done,
		    void *arg);
/** Free a request that was not submitted. */
void enforce_request_clear(struct enforce_request *req);
/** Run the due zones soon (after a zone add, a policy change, a time leap). */
void enforce_kick(struct enforce *e);

/** The enforcer's time (see above). */
int64_t enforce_now(struct enforce *e);

/** A zone's signconf path: the one in the ledger, or <data>/signconf/<zone>.xml. */
char *enforce_signconf_path(struct enforce *e, const char *zone, const char *stored);

struct enforce_stats {
	bool running;            /* leader with the service started */
	size_t jobs;             /* queued jobs */
	uint64_t runs, zones_planned, entries, signconfs, told, errors;
	int64_t last_run;        /* enforcer time of the last committed run, 0 none */
	uint64_t last_run_ms;    /* wall time of the last run job */
	size_t waiting_for_keys; /* zones that wait for the key pool */
};
void enforce_stats_get(const struct enforce *e, struct enforce_stats *st);

/* The signer queue: zones whose signconf changed, oldest first, as the
 * in-daemon signer will take them; `queue` shows it, `flush` empties it. */
size_t enforce_signer_queue(const struct enforce *e, const char *const **zones);
void enforce_signer_flush(struct enforce *e);

/*- policies (enforce_policy.c) ----------------------------------------------*/

/** A policy from the ledger, parsed; owned by the cache. */
struct enforce_policy {
	char *name;
	struct tdm_kasp *kasp;            /* the one-policy document */
	struct enforcer_policy pol;
	uint8_t blob_hash[32];
};

/**
 * The policy @p name from the cache or the ledger.  @return NULL with a
 * message when it does not exist or does not load.
 */
const struct enforce_policy *enforce_policy_get(struct enforce *e, const char *name,
						struct tdm_err *err);
/** Drop every cached policy. */
void enforce_policy_flush(struct enforce *e);

/*- the key pool (pool.c) ----------------------------------------------------*/

/**
 * Make sure the pool of (@p repository, @p algorithm, @p bits) holds at
 * least @p want keys: generate the missing ones in the background (key
 * custody, KEY_CREATE scope POOL).  Respects ManualKeyGeneration only when
 * @p manual_ok is false, and the repository's Capacity always.
 * @p done (may be NULL) runs once when the keys are committed or refused.
 * @return 0 (started or nothing to do) or a code with a message.
 */
int enforce_pool_fill(struct enforce *e, const char *repository, uint8_t algorithm,
		      uint32_t bits, uint64_t want, bool manual_ok,
		      void (*done)(void *arg, int status, const char *msg), void *arg,
		      struct tdm_err *err);
/** Keys being generated now. */
unsigned enforce_pool_busy(const struct enforce *e);

#endif
