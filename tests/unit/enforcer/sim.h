/*
 * A simulated world for the enforcer tests, all in virtual time: a daemon
 * that applies plans (creating keys, running ds-submit/ds-retract), a
 * parent that publishes and withdraws DS records after its registration
 * delay and reports ds-seen / ds-gone after its propagation delay, and a
 * zone that publishes one version per signconf.  The signconf of every
 * step is rendered, loaded back with tdm_signconf_load_buffer() and the
 * published versions are taken from what was loaded.
 *
 * The oracle does not trust the enforcer's record states: from the
 * published versions, the TTLs and the propagation delays it derives which
 * versions of the DS RRset, the DNSKEY RRset and the signed data any cache
 * may hold at a given time, and checks every combination with a strict
 * validator (a chain for every algorithm of the DS RRset, signatures by
 * every algorithm of the DNSKEY RRset).
 */
#ifndef TDM_TEST_ENFORCER_SIM_H
#define TDM_TEST_ENFORCER_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "common/conf.h"
#include "enforcer/enforcer.h"

#define SIM_DAY 86400
#define SIM_T0 1700000000 /* 2023-11-14, any fixed start */
#define SIM_MAX_KEYS 64
#define SIM_MAX_ZONES 2

struct sim_policy_opts {
	int ksk_alg, zsk_alg, csk_alg;        /* 0: no such key element */
	int ksk_bits, zsk_bits, csk_bits;     /* 0: no length attribute */
	const char *ksk_life, *zsk_life, *csk_life;
	const char *ksk_roll, *zsk_roll, *csk_roll;  /* roll type element value or NULL */
	int ksk_standby, zsk_standby;
	bool ksk_manual, zsk_manual;
	bool share, rfc5011, cds;
	const char *purge;                    /* NULL: no <Purge> */
};

/** kasp.xml text with one policy "p" from the options (malloc'ed). */
char *sim_kasp_xml(const struct sim_policy_opts *o);

struct sim_key {
	char id[16], locator[16];
	enum tdm_key_role role;
	uint8_t algorithm;
	uint32_t bits;
	int64_t created;
	bool shared;
};

struct sim_ver {         /* a published version of a zone */
	int64_t t;
	uint64_t pub, ksign, zsign;   /* bits: sim key index */
};

struct sim_dsver {       /* a published version of the parent's DS RRset */
	int64_t t;
	uint64_t ds;
};

struct sim_pev {         /* a pending parent event */
	int64_t t;
	int zone, key;
	int kind;            /* 1: DS added, 2: ds-seen, 3: DS removed, 4: ds-gone */
};

struct sim_zone {
	char name[64];
	bool present;
	struct enforcer_key keys[SIM_MAX_KEYS];
	size_t n_keys;
	int64_t roll_requested[4];
	int64_t roll_jitter;
	struct sim_ver vers[4096];
	size_t n_vers;
	struct sim_dsver dsv[1024];
	size_t n_dsv;
	uint64_t parent_ds;
	int64_t last_step;
	/* statistics */
	int created[4];                 /* keys created or adopted, per role */
	int64_t created_at[4][64];
	int adopted;
	int purged;
	size_t max_keys;
	int64_t first_secure;           /* first time a non-empty DS version was published */
	int signconfs;
};

struct sim {
	struct tdm_kasp *kasp;
	struct enforcer_policy pol;
	struct sim_key keys[SIM_MAX_KEYS];
	size_t n_keys;
	struct enforcer_key pool[SIM_MAX_KEYS];
	size_t n_pool;
	struct sim_zone zones[SIM_MAX_ZONES];
	size_t n_zones;
	struct sim_pev pev[256];
	size_t n_pev;
	int64_t now;
	int steps;
	int oracle_checks;
	int key_new_actions[4];
	/* called after every step of every zone with the plan it applied */
	void (*on_plan)(struct sim *s, struct sim_zone *z, const struct enforcer_plan *p);
	void *user;
};

/** A world at SIM_T0 with the policy from the options and one zone. */
void sim_init(struct sim *s, const struct sim_policy_opts *o, const char *zone);
/** Replace the policy (an operator's `policy import`), effective at once. */
void sim_set_policy(struct sim *s, const struct sim_policy_opts *o);
/** Add a zone at the current time. */
struct sim_zone *sim_add_zone(struct sim *s, const char *name);
/** `key rollover -z zone -t role` at the current time. */
void sim_roll(struct sim *s, struct sim_zone *z, enum tdm_key_role role);
/**
 * Step from event to event (the plans' next times, parent events) up to
 * `until`, checking the oracle and enforcer_zone_is_safe() at every step and
 * between steps.  Fails the running check test on any violation.
 */
void sim_run(struct sim *s, int64_t until);
void sim_free(struct sim *s);

/** The sim key of an enforcer key (by id). */
const struct sim_key *sim_key_of(const struct sim *s, const struct enforcer_key *k);
/** Number of keys of `z` with goal active / standby for a role. */
int sim_count(const struct sim_zone *z, enum tdm_key_role role, enum enforcer_goal g);

#endif
