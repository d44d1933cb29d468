/*
 * The KASP enforcer core: a pure library that decides, for one zone at a
 * time, which keys it needs and how each key's records move through the
 * state machine of OpenDNSSEC 2.x and RFC 7583.  It reads no clock, does no
 * I/O (except enforcer_signconf_write()) and never calls the HSM: the
 * daemon hands in the policy, the zone's keys with their record states and
 * timestamps, and `now`; it gets back a plan of decisions and the time to
 * call again, turns the decisions into ledger commands (KEY_CREATE,
 * KEY_STATE) and commits them.
 *
 * The model.  Each key has four records: its DS at the parent, its DNSKEY,
 * the RRSIG it makes over the DNSKEY RRset (KSK role) and the RRSIGs it
 * makes over the rest of the zone (ZSK role).  Each record is hidden,
 * rumoured (published, not yet in every cache), omnipresent (in every
 * cache that holds the RRset) or unretentive (withdrawn, still cached).
 * Moving to rumoured or unretentive is a decision, allowed only when the
 * policy's rollover method allows it and the zone stays safe
 * (enforcer_zone_is_safe()); moving on to omnipresent or hidden only waits
 * for TTLs and propagation delays (and for ds-seen / ds-gone at the
 * parent).  docs/enforcer.md gives the rules and the formulas.
 *
 * Determinism: enforcer_zone_update() is a pure function of its inputs.
 * What must be chosen (time, rollover jitter, NSEC3 salt, new key material)
 * is chosen by the leader and handed in or committed, so every node that
 * replays the same inputs gets the same plan.
 *
 * Strings in enforcer structures are borrowed: the caller keeps them alive
 * as long as the structures that point to them, plans included.
 */
#ifndef ENFORCER_ENFORCER_H
#define ENFORCER_ENFORCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/error.h"

/*- records and their states ---------------------------------------------*/

/** The four records of a key (same order as the ledger's enum ledger_record). */
enum enforcer_record {
	ENFORCER_DS = 0,           /* DS at the parent (KSK and CSK) */
	ENFORCER_DNSKEY = 1,       /* the DNSKEY in the zone */
	ENFORCER_RRSIG_DNSKEY = 2, /* its signature over the DNSKEY RRset (KSK, CSK) */
	ENFORCER_RRSIG = 3,        /* its signatures over the other RRsets (ZSK, CSK) */
};
#define ENFORCER_NRECORDS 4

/** Record states (same values as the ledger's enum ledger_record_state). */
enum enforcer_state {
	ENFORCER_HIDDEN = 0,
	ENFORCER_RUMOURED = 1,
	ENFORCER_OMNIPRESENT = 2,
	ENFORCER_UNRETENTIVE = 3,
};

/** What the enforcer wants of a key. */
enum enforcer_goal {
	ENFORCER_GOAL_ACTIVE = 0,  /* fully introduced: signs for its role */
	ENFORCER_GOAL_STANDBY = 1, /* kept ready: DNSKEY published (and DS, for a KSK/CSK), not signing */
	ENFORCER_GOAL_RETIRE = 2,  /* on its way out; purged once every record is hidden */
};

/** Where the key's DS stands with the parent (OpenDNSSEC's ds_at_parent). */
enum enforcer_ds {
	ENFORCER_DS_UNSUBMITTED = 0, /* not at the parent (also after ds-gone) */
	ENFORCER_DS_SUBMIT = 1,      /* the enforcer wants it submitted */
	ENFORCER_DS_SUBMITTED = 2,   /* submitted (ds-submit), not yet seen */
	ENFORCER_DS_SEEN = 3,        /* seen at the parent (ds-seen) */
	ENFORCER_DS_RETRACT = 4,     /* the enforcer wants it withdrawn */
	ENFORCER_DS_RETRACTED = 5,   /* withdrawn (ds-retract), not yet gone */
};

struct enforcer_rec {
	uint8_t state;   /* enum enforcer_state */
	int64_t since;   /* leader's time of the last change, seconds since the epoch */
};

/**
 * One key of a zone with its state in that zone.  A shared key (policy
 * ShareKeys) appears in each zone that uses it with that zone's own record
 * states: caches of different zones are independent.
 */
struct enforcer_key {
	const char *id;          /* ledger key id (borrowed); unique in the zone */
	const char *locator;     /* CKA_ID in hex for the signconf (borrowed), may be NULL */
	const char *repository;  /* borrowed; NULL matches any policy <Repository> */
	enum tdm_key_role role;
	uint8_t algorithm;
	uint32_t bits;
	uint16_t key_tag;
	bool shared;             /* key of the policy, not of the zone */
	enum enforcer_goal goal;
	int64_t created;         /* KEY_CREATE time */
	int64_t active_since;    /* start of its lifetime: creation, promotion from
	                            standby, or the creation of an adopted shared key */
	struct enforcer_rec rec[ENFORCER_NRECORDS];
	uint8_t ds;              /* enum enforcer_ds */
	int64_t ds_since;        /* time of the last change of `ds` */
};

/** "DS", "DNSKEY", "RRSIG-DNSKEY", "RRSIG". */
const char *enforcer_record_name(enum enforcer_record r);
/** "hidden", "rumoured", "omnipresent", "unretentive". */
const char *enforcer_state_name(enum enforcer_state s);
/** "active", "standby", "retire". */
const char *enforcer_goal_name(enum enforcer_goal g);
/** "unsubmitted", "submit", "submitted", "seen", "retract", "retracted". */
const char *enforcer_ds_name(enum enforcer_ds d);

/** Does a key of this role have this record at all (ZSKs have no DS ...)? */
bool enforcer_record_applies(enum tdm_key_role role, enum enforcer_record r);

/**
 * A new key as KEY_CREATE makes it: every record hidden since `created`,
 * DS unsubmitted, lifetime counted from `created`.  Strings are borrowed.
 */
void enforcer_key_init(struct enforcer_key *k, const char *id, const char *locator,
		       enum tdm_key_role role, uint8_t algorithm, uint32_t bits,
		       uint16_t key_tag, enum enforcer_goal goal, bool shared,
		       int64_t created);

/*
 * The DS commands of ods-enforcer (`key ds-submit|ds-seen|ds-retract|ds-gone`)
 * on one key, at time `now`.  Each returns 0, or TDM_EINVAL with a message
 * naming the key and its DS state when the key is not eligible:
 *   ds-submit  SUBMIT -> SUBMITTED
 *   ds-seen    SUBMIT or SUBMITTED -> SEEN
 *   ds-retract RETRACT -> RETRACTED
 *   ds-gone    RETRACT or RETRACTED -> UNSUBMITTED
 * After one of them the daemon runs enforcer_zone_update() again.
 */
int enforcer_key_ds_submit(struct enforcer_key *k, int64_t now, struct tdm_err *err);
int enforcer_key_ds_seen(struct enforcer_key *k, int64_t now, struct tdm_err *err);
int enforcer_key_ds_retract(struct enforcer_key *k, int64_t now, struct tdm_err *err);
int enforcer_key_ds_gone(struct enforcer_key *k, int64_t now, struct tdm_err *err);

/*- policy ---------------------------------------------------------------*/

/** One <KSK>, <ZSK> or <CSK> of a policy: a slot that holds one active key. */
struct enforcer_slot {
	const struct tdm_policy_key *conf;  /* borrowed */
	enum tdm_key_role role;
	uint8_t algorithm;
	uint32_t bits;
	int64_t lifetime;
	uint32_t standby;
	bool manual_rollover;
	unsigned minimize;       /* TDM_MINIMIZE_* of its roll type */
	bool rfc5011;
};

/**
 * A kasp.xml policy with the values the enforcer derives from it.  Borrows
 * the struct tdm_policy, which must outlive it.
 */
struct enforcer_policy {
	const struct tdm_policy *conf;
	struct enforcer_slot *slots;   /* owned */
	size_t n_slots;
	int64_t ttl_dnskey;      /* max(<Keys><TTL>, negative TTL of the zone) */
	int64_t ttl_rrsig;       /* longest TTL of signed data, NSEC3 and negative answers */
	int64_t ttl_ds;          /* max(<Parent><DS><TTL>, negative TTL of the parent) */
	int64_t zone_propagation;
	int64_t parent_propagation;
	int64_t registration_delay;
	int64_t publish_safety;
	int64_t retire_safety;
	int64_t purge;           /* -1: never */
	int64_t rfc5011_hold_down; /* RFC 5011 §2.4.1 add hold-down: 30 days */
	bool share_keys;
	bool allow_unsigned;     /* no keys configured: the zone may become unsigned */
	bool publish_cds, publish_cdnskey;
};

/**
 * Derive the enforcer's view of a policy.
 * @param p (out) initialised; release with enforcer_policy_close().
 * @param conf borrowed, must outlive p.
 * @return 0; TDM_EINVAL when a key's lifetime is not longer than the waits
 *         of its own introduction (as OpenDNSSEC refuses), or two key
 *         elements have the same role, algorithm, length and repository.
 */
int enforcer_policy_init(struct enforcer_policy *p, const struct tdm_policy *conf,
			 struct tdm_err *err);
void enforcer_policy_close(struct enforcer_policy *p);

/** The slot a key belongs to (role, algorithm, bits, repository), or NULL. */
const struct enforcer_slot *enforcer_policy_slot(const struct enforcer_policy *p,
						 const struct enforcer_key *k);

/**
 * Rollover jitter for a zone: a hash of its name (case and trailing dot
 * ignored) modulo `window` seconds, 0 when window <= 0.  The leader calls
 * this and hands the value in (struct enforcer_zone.roll_jitter).
 */
int64_t enforcer_roll_jitter(const char *zone, int64_t window);

/*- a zone and its plan --------------------------------------------------*/

struct enforcer_zone {
	const char *name;
	const struct enforcer_policy *policy;
	const struct enforcer_key *keys;     /* the zone's keys and states */
	size_t n_keys;
	/* ShareKeys: the policy's shared keys (identity fields only; goal,
	 * records and DS are ignored).  A zone that needs a key adopts the
	 * newest one it does not use yet before asking for a new one. */
	const struct enforcer_key *shared_pool;
	size_t n_shared_pool;
	/* `key rollover` for a role: the time of the last request, indexed by
	 * enum tdm_key_role (1..3); 0 = none.  A request is satisfied once the
	 * slot's active key is younger than it, so it never needs clearing. */
	int64_t roll_requested[4];
	/* Seconds taken off every key lifetime of this zone, chosen by the
	 * leader (enforcer_roll_jitter()); not applied to shared keys. */
	int64_t roll_jitter;
};

enum enforcer_action_type {
	ENFORCER_ACT_KEY_NEW,    /* generate a key: role, algorithm, bits, repository, goal, shared */
	ENFORCER_ACT_KEY_ADOPT,  /* start using shared key key_id in this zone */
	ENFORCER_ACT_KEY_GOAL,   /* key key_id: new goal (and active_since) */
	ENFORCER_ACT_RECORD,     /* key key_id: record moved from -> to */
	ENFORCER_ACT_DS_SUBMIT,  /* key key_id: ask the parent to publish its DS */
	ENFORCER_ACT_DS_RETRACT, /* key key_id: ask the parent to withdraw its DS */
	ENFORCER_ACT_KEY_PURGE,  /* key key_id: dead; delete it (and the HSM object) */
};

struct enforcer_action {
	enum enforcer_action_type type;
	const char *key_id;          /* borrowed; NULL for KEY_NEW */
	/* KEY_NEW */
	enum tdm_key_role role;
	uint8_t algorithm;
	uint32_t bits;
	const char *repository;      /* borrowed from the policy */
	enum enforcer_goal goal;     /* KEY_NEW, KEY_GOAL */
	bool shared;
	/* RECORD */
	enum enforcer_record record;
	uint8_t from, to;
	const char *reason;          /* static text for logs: "lifetime expired", ... */
};

struct enforcer_plan {
	/* The zone's keys after the decisions: purged keys removed, adopted keys
	 * added, goals, records and DS states updated (strings borrowed from the
	 * zone's keys and pool). */
	struct enforcer_key *keys;
	size_t n_keys;
	struct enforcer_action *actions;
	size_t n_actions;
	int64_t next;       /* call again at this time; INT64_MAX: only after an event */
	bool changed;       /* a record changed or a key was purged: write the signconf */
	bool keys_needed;   /* KEY_NEW actions: create the keys, then call again at once */
	/* CDS/CDNSKEY (policy PublishCDS / PublishCDNSKEY, RFC 7344, RFC 8078):
	 * while a DS change is pending, the keys whose DS the parent should
	 * hold (indices into keys); cds_delete when that set is empty and the
	 * parent should remove every DS (RFC 8078 §4). */
	bool cds_publish;
	size_t *cds;
	size_t n_cds;
	bool cds_delete;
};

/**
 * Plan one zone at `now`: roll keys whose lifetime is over or whose role
 * was asked to roll, keep standby keys, retire keys the policy no longer
 * has, move every record as far as timing and safety allow, purge dead
 * keys.  Calling early is harmless; calling late only delays.
 * @param z borrowed.
 * @param out (out) filled; release with enforcer_plan_clear().
 * @return 0, or TDM_EINVAL (a key of an unknown role, duplicate key ids).
 */
int enforcer_zone_update(const struct enforcer_zone *z, int64_t now,
			 struct enforcer_plan *out, struct tdm_err *err);

/** Free what a plan owns (not the borrowed strings); the struct is zeroed. */
void enforcer_plan_clear(struct enforcer_plan *p);

/**
 * Would every validator, whatever versions of the DS, DNSKEY and signed
 * RRsets its caches hold, find a valid chain for every algorithm it sees?
 * Versions are derived from the record states: a rumoured or unretentive
 * record may or may not be in a cached copy, and records that changed at
 * the same time changed in the same published version.  Records whose wait
 * is over at `now` count as settled.  A zone without any DS is insecure,
 * which is safe.  @param z borrowed.
 */
bool enforcer_zone_is_safe(const struct enforcer_zone *z, int64_t now);

/** Is a DS present in every version of the parent's DS RRset a cache may hold? */
bool enforcer_zone_is_secure(const struct enforcer_zone *z, int64_t now);

/*- signconf -------------------------------------------------------------*/

struct enforcer_signconf_params {
	const char *zone;
	const struct tdm_policy *policy;     /* borrowed */
	const struct enforcer_key *keys;     /* borrowed */
	size_t n_keys;
	const char *nsec3_salt;  /* hex, chosen by the leader; NULL or "" = no salt */
	/* CDS/CDNSKEY, from the plan (struct enforcer_plan cds, n_cds,
	 * cds_delete): the keys whose DS the parent should hold, as indices
	 * into keys (borrowed); NULL/0/false when no DS change is pending. */
	const size_t *cds;
	size_t n_cds;
	bool cds_delete;
};

/**
 * Render an OpenDNSSEC 2.x signconf: Signatures and Denial from the policy,
 * Keys with one <Key> per key that has a published DNSKEY or signs
 * (<Publish/> for DNSKEY rumoured/omnipresent, <KSK/> for RRSIG-DNSKEY,
 * <ZSK/> for RRSIG, in the same way), SOA.  Tandem extension: with the
 * policy's <PublishCDS> / <PublishCDNSKEY/>, <Keys><CDS> (its digest types)
 * and <Keys><CDNSKEY> sections, <CDS/> / <CDNSKEY/> on the keys of p->cds
 * (listed even when they have no other mark), or <Delete/> in the sections
 * when p->cds_delete (RFC 8078 §4).
 * @param out (out) NUL-terminated text, freed by the caller with free().
 * @return 0 or TDM_EINVAL (bad salt, a CDS index out of range, a CDS key
 *         without locator).
 */
int enforcer_signconf_render(const struct enforcer_signconf_params *p, char **out,
			     size_t *len, struct tdm_err *err);

/**
 * Render and write to `path` atomically (temporary file in the same
 * directory, fsync, rename).  On failure `path` is untouched.
 * @return 0, TDM_EINVAL or TDM_EIO with the path in the message.
 */
int enforcer_signconf_write(const struct enforcer_signconf_params *p, const char *path,
			    struct tdm_err *err);

#endif
