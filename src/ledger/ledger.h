/*
 * The ledger: Tandem's replicated state machine.
 *
 * All durable state of a node lives in one SQLite database, state.db, and
 * nothing writes it except ledger_apply(), which runs for committed Raft
 * entries only (DESIGN.md, "The ledger").  This header is the module's one
 * public interface:
 *
 *  - the command codec: struct ledger_cmd <-> a versioned, length-prefixed
 *    binary record padded to a multiple of 8 bytes, at most 1 MiB
 *    (ledger_cmd_encode, ledger_cmd_decode);
 *  - the deterministic apply: one SQLite transaction per entry (or batch)
 *    holding the change and the applied Raft index; entries at or below the
 *    stored index are skipped, duplicate command ids are skipped, and
 *    malformed or rule-breaking entries change nothing but the index and
 *    yield a result status (ledger_apply, ledger_apply_batch);
 *  - snapshots as a whole-database buffer, and an atomic restore from one
 *    (ledger_snapshot, ledger_restore);
 *  - a content digest for comparing nodes (ledger_digest);
 *  - read-only queries for the daemon, signer and CLIs.
 *
 * Apply never reads a clock, random numbers, configuration or the HSM: the
 * leader's time travels inside the commands.
 *
 * Threads: a struct ledger is used from one thread at a time (the Raft loop
 * thread).  The only exception is a struct ledger_snapshot_job, whose
 * write step may run on another thread while apply goes on.
 *
 * Wire format, schema, apply rules and durability: docs/ledger.md.
 */
#ifndef TDM_LEDGER_H
#define TDM_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/*- codec --------------------------------------------------------------*/

#define LEDGER_MAGIC 0x54444d4cu     /* "TDML" */
#define LEDGER_FORMAT_VERSION 2      /* newest entry format this build reads and writes */
/* Format 2 added ZONE_BATCH, ENFORCE and BACKUP (entries of these types
 * carry version >= 2 in their header; a format-1 build stops on them with
 * TDM_EVERSION, the upgrade alarm) and the key pool scope. */
#define LEDGER_HEADER_SIZE 32
#define LEDGER_ENTRY_MAX (1024u * 1024u) /* whole entry, header and padding included */
#define LEDGER_ENTRY_ALIGN 8         /* libraft 0.15 corrupts other sizes */

#define LEDGER_NAME_MAX 255          /* zone, policy, key id, owner name */
#define LEDGER_PATH_MAX 4096         /* file names, URIs, addresses, adapter types */

enum ledger_cmd_type {
	LEDGER_CMD_NOOP = 0,
	LEDGER_CMD_TEST = 1,
	LEDGER_CMD_POLICY_PUT = 2,
	LEDGER_CMD_POLICY_DEL = 3,
	LEDGER_CMD_ZONE_ADD = 4,
	LEDGER_CMD_ZONE_DEL = 5,
	LEDGER_CMD_ZONE_SET = 6,
	LEDGER_CMD_KEY_CREATE = 7,
	LEDGER_CMD_KEY_STATE = 8,
	LEDGER_CMD_KEY_DEL = 9,
	LEDGER_CMD_ZONE_INPUT = 10,
	LEDGER_CMD_SIG_BATCH = 11,
	LEDGER_CMD_ZONE_PUBLISH = 12,
	LEDGER_CMD_NODE_ADD = 13,
	LEDGER_CMD_NODE_DEL = 14,
	LEDGER_CMD_CLUSTER_VERSION = 15,
	/* format version 2 */
	LEDGER_CMD_ZONE_BATCH = 16,
	LEDGER_CMD_ENFORCE = 17,
	LEDGER_CMD_BACKUP = 18,
	LEDGER_CMD__COUNT
};

/** Borrowed bytes (or a string, which never holds a NUL and is not NUL-terminated). */
struct ledger_bytes {
	const uint8_t *data;
	size_t len;
};

/** A borrowed C string as ledger_bytes (NULL gives the empty string). */
struct ledger_bytes ledger_str(const char *s);

/** Command identity: the submitting node and its sequence number. */
struct ledger_cmd_id {
	uint64_t origin;   /* node id; 0 = no dedupe (tests, tools) */
	uint64_t seq;      /* strictly increasing per origin */
};

enum ledger_key_role { LEDGER_ROLE_KSK = 1, LEDGER_ROLE_ZSK = 2, LEDGER_ROLE_CSK = 3 };
/* POOL: pre-generated, not yet used (role 0, DNSKEY flags 256, scope_name
 * ""); an ENFORCE claim moves it to a zone or a policy with a role. */
enum ledger_key_scope { LEDGER_SCOPE_ZONE = 1, LEDGER_SCOPE_POLICY = 2, LEDGER_SCOPE_POOL = 3 };
/* What the enforcer wants of a key in a zone (same values as enum enforcer_goal). */
enum ledger_key_goal { LEDGER_GOAL_ACTIVE = 0, LEDGER_GOAL_STANDBY = 1, LEDGER_GOAL_RETIRE = 2 };
/* A key's DS with the parent (same values as enum enforcer_ds, 0..5). */
#define LEDGER_DS_AT_PARENT_MAX 5
/* ZONE_BATCH operations. */
enum ledger_zone_op_kind { LEDGER_ZONE_OP_ADD = 1, LEDGER_ZONE_OP_SET = 2, LEDGER_ZONE_OP_DEL = 3 };
/* ENFORCE per-key operations. */
enum ledger_enforce_op { LEDGER_EK_SET = 1, LEDGER_EK_DROP = 2 };
/* BACKUP actions (ods-enforcer backup prepare/commit/rollback). */
enum ledger_backup_action { LEDGER_BACKUP_PREPARE = 1, LEDGER_BACKUP_COMMIT = 2, LEDGER_BACKUP_ROLLBACK = 3 };
/* Key backup flags (keys.backup): ODS's "backup" column. */
enum ledger_backup_flag { LEDGER_BACKUP_NONE = 0, LEDGER_BACKUP_PREPARED = 1, LEDGER_BACKUP_DONE = 2 };
enum ledger_record_state {
	LEDGER_HIDDEN = 0,
	LEDGER_RUMOURED = 1,
	LEDGER_OMNIPRESENT = 2,
	LEDGER_UNRETENTIVE = 3,
};
/** The four records of a key's state (index into ledger_key_state_cmd.rec). */
enum ledger_record { LEDGER_REC_DS = 0, LEDGER_REC_DNSKEY = 1, LEDGER_REC_RRSIG_DNSKEY = 2, LEDGER_REC_RRSIG = 3 };
enum ledger_input_kind { LEDGER_INPUT_FULL = 0, LEDGER_INPUT_DIFF = 1 };

struct ledger_record_state_t {
	uint8_t state;     /* enum ledger_record_state */
	uint64_t since;    /* leader's time of the last change, seconds since the epoch */
};

/** One zone of a ZONE_BATCH: the fields of ZONE_ADD / ZONE_SET (DEL: name only). */
struct ledger_zone_op {
	uint8_t op;                 /* enum ledger_zone_op_kind */
	struct ledger_bytes name, policy, in_type, in_uri, out_type, out_uri, signconf;
};

/**
 * One key of a zone in an ENFORCE: its enforcer state in that zone
 * (table key_zone, one row per (zone, key); a shared key has a row in
 * every zone that uses it).
 *  SET:  insert or replace the row.  With claim_scope != 0 the key must be
 *        a POOL key: it moves to claim_scope (ZONE: this zone, POLICY: the
 *        zone's policy), takes role claim_role, its DNSKEY flags become 257
 *        (KSK, CSK) or 256 (ZSK), its key tag is computed again and its
 *        `created` becomes the ENFORCE time (a key's life starts when it is
 *        claimed, not when the pool made it).  Without
 *        a claim the key must already belong to this zone or to its policy.
 *  DROP: delete the row; a key of this zone (scope ZONE), or a shared key
 *        no zone uses any more, is deleted with it (purge).
 */
struct ledger_enforce_key {
	struct ledger_bytes key_id;
	uint8_t op;                 /* enum ledger_enforce_op */
	uint8_t claim_scope;        /* 0, LEDGER_SCOPE_ZONE or LEDGER_SCOPE_POLICY */
	uint8_t claim_role;         /* enum ledger_key_role, with claim_scope */
	uint8_t goal;               /* enum ledger_key_goal */
	uint8_t ds_at_parent;       /* 0..LEDGER_DS_AT_PARENT_MAX */
	uint64_t ds_at_parent_since;
	uint64_t active_since;
	struct ledger_record_state_t rec[4];  /* indexed by enum ledger_record */
};

/**
 * One zone's outcome of an enforcer run: its schedule, its rollover
 * requests, its NSEC3 salt and the changes to its keys.  Keys not named
 * keep their rows.
 */
struct ledger_enforce_zone {
	struct ledger_bytes zone;
	uint64_t next_due;          /* run again at (UINT64_MAX: only after an event) */
	uint64_t roll[4];           /* `key rollover` request time by role (index 1..3; 0 none) */
	struct ledger_bytes salt;   /* NSEC3 salt in hex ("" none), at most 510 hex digits */
	uint64_t salt_time;         /* when the salt was chosen */
	uint32_t nkeys;
	struct ledger_enforce_key *keys; /* borrowed when encoding; owned after decode */
};

/** One signature in a SIG_BATCH.  rdata of length 0 deletes the signature. */
struct ledger_sig {
	struct ledger_bytes owner;  /* owner name as the signer encodes it (canonical wire form) */
	uint16_t type_covered;
	uint16_t key_tag;
	struct ledger_bytes rdata;  /* RRSIG RDATA in wire form, at most 65535 bytes */
};

/**
 * A decoded or to-be-encoded command.  Byte fields borrow memory: from the
 * caller when encoding, from the decoded buffer after ledger_cmd_decode
 * (which must outlive the command).  Only the arrays of SIG_BATCH (sigs),
 * ZONE_BATCH (zones) and ENFORCE (zones and their keys) are owned after
 * decode; release them with ledger_cmd_clear().
 */
struct ledger_cmd {
	uint16_t version;           /* format version; 0 when encoding = LEDGER_FORMAT_VERSION */
	uint16_t type;              /* enum ledger_cmd_type */
	uint32_t flags;             /* reserved, must be 0 */
	struct ledger_cmd_id id;
	union {
		struct { struct ledger_bytes payload; } test;          /* NOOP, TEST */
		struct {
			struct ledger_bytes name;
			struct ledger_bytes blob;   /* serialized policy (POLICY_PUT only) */
		} policy;                                           /* POLICY_PUT, POLICY_DEL */
		struct {
			struct ledger_bytes name;
			struct ledger_bytes policy;
			struct ledger_bytes in_type, in_uri;   /* input adapter: "File" + path, "DNS" + conf */
			struct ledger_bytes out_type, out_uri; /* output adapter */
			struct ledger_bytes signconf;          /* signconf path */
		} zone;                     /* ZONE_ADD, ZONE_SET; ZONE_DEL uses name only */
		struct {
			struct ledger_bytes key_id;
			uint8_t scope;              /* enum ledger_key_scope */
			struct ledger_bytes scope_name; /* zone name or policy name */
			uint8_t role;               /* enum ledger_key_role */
			uint8_t algorithm;
			uint16_t bits;
			struct ledger_bytes public_rdata;  /* DNSKEY RDATA (flags, protocol, alg, key) */
			struct ledger_bytes cka_id;
			struct ledger_bytes repository;
			struct ledger_bytes wrapped_private; /* CKM_AES_KEY_WRAP_PAD under the cluster KEK */
			uint64_t created;
		} key_create;
		struct {
			struct ledger_bytes key_id;
			struct ledger_record_state_t rec[4]; /* indexed by enum ledger_record */
		} key_state;
		struct { struct ledger_bytes key_id; } key_del;
		struct {
			struct ledger_bytes zone;
			uint32_t serial;            /* SOA serial of this input */
			uint8_t kind;               /* enum ledger_input_kind */
			uint32_t base_serial;       /* DIFF: serial the diff applies to */
			uint32_t chunk_index;       /* 0 .. chunk_count-1 */
			uint32_t chunk_count;       /* >= 1 */
			uint64_t time;              /* leader's time of reading */
			struct ledger_bytes content;
		} zone_input;
		struct {
			struct ledger_bytes zone;
			uint32_t input_serial;
			uint32_t batch;             /* 1, 2, ... within one input serial */
			uint32_t nsigs;
			struct ledger_sig *sigs;    /* borrowed when encoding; owned after decode */
		} sig_batch;
		struct {
			struct ledger_bytes zone;
			uint32_t serial;
			uint8_t sha256[32];
			uint64_t time;
		} publish;
		struct {
			uint64_t node_id;
			struct ledger_bytes address;
			uint8_t witness;
			struct ledger_bytes transport_pubkey;
			struct ledger_bytes wrapped_kek;
		} node;                     /* NODE_ADD; NODE_DEL uses node_id only */
		struct { uint16_t version; } cluster_version;
		struct {
			uint32_t nzones;
			struct ledger_zone_op *zones; /* borrowed when encoding; owned after decode */
		} zone_batch;               /* ZONE_BATCH: all or nothing */
		struct {
			uint64_t time;              /* the leader's time of the run */
			uint32_t nzones;
			struct ledger_enforce_zone *zones; /* borrowed when encoding; owned after decode */
		} enforce;                  /* ENFORCE: all or nothing */
		struct {
			struct ledger_bytes repository;
			uint8_t action;             /* enum ledger_backup_action */
			uint64_t time;
		} backup;
	};
};

/** The name of a command type ("SIG_BATCH"), or "UNKNOWN". */
const char *ledger_cmd_type_name(unsigned type);

/**
 * Size of the encoded entry, padding included (a multiple of 8), or 0 if a
 * field is out of bounds or the entry would exceed LEDGER_ENTRY_MAX.
 */
size_t ledger_cmd_encoded_size(const struct ledger_cmd *cmd);

/**
 * Encode @p cmd into @p buf (capacity @p cap).  @param len (out) bytes
 * written, a multiple of 8; the padding is zero.
 * @return 0; TDM_EINVAL (field out of bounds, unknown type, NUL in a string),
 *         TDM_ERANGE (entry > 1 MiB or @p cap too small), with a message in @p err.
 */
int ledger_cmd_encode_into(const struct ledger_cmd *cmd, uint8_t *buf, size_t cap,
			   size_t *len, struct tdm_err *err);

/**
 * Encode @p cmd into a new buffer.  @param out (out) the entry, which the
 * caller frees with free(); @param len (out) its size, a multiple of 8.
 * @return as ledger_cmd_encode_into().
 */
int ledger_cmd_encode(const struct ledger_cmd *cmd, uint8_t **out, size_t *len,
		      struct tdm_err *err);

/**
 * Decode and validate an entry.  Never reads outside [buf, buf+len).
 * @param cmd (out) borrows from @p buf; call ledger_cmd_clear() when done,
 *            also after a failure.
 * @return 0; TDM_ECODEC for malformed, truncated, oversized, unpadded input or
 *         trailing bytes; TDM_EVERSION for a format version this build does
 *         not know.  @p err names the field and its offset.
 */
int ledger_cmd_decode(const void *buf, size_t len, struct ledger_cmd *cmd,
		      struct tdm_err *err);

/** Free what ledger_cmd_decode() allocated; the command becomes empty. */
void ledger_cmd_clear(struct ledger_cmd *cmd);

/**
 * Read only the header of an entry (for logs and the raft wrapper).
 * @return 0 or TDM_ECODEC/TDM_EVERSION as ledger_cmd_decode().
 */
int ledger_cmd_peek(const void *buf, size_t len, uint16_t *type,
		    struct ledger_cmd_id *id, struct tdm_err *err);

/*- the database -------------------------------------------------------*/

struct ledger;

#define LEDGER_SCHEMA_VERSION 2

/**
 * Open (creating if needed) the ledger database at @p path (state.db), in
 * WAL mode with synchronous=NORMAL (docs/ledger.md says why that is safe).
 * @param out (out) the ledger; free with ledger_close().
 * @return 0; TDM_EDB (cannot open, not a ledger), TDM_EVERSION (schema
 *         version newer or older than this build's).
 */
int ledger_open(struct ledger **out, const char *path, struct tdm_err *err);

/** Close the database and free the ledger (NULL is fine). */
void ledger_close(struct ledger *l);

/** The path given to ledger_open(). */
const char *ledger_path(const struct ledger *l);

/** Result of applying one entry, for the client that submitted it. */
enum ledger_status {
	LEDGER_OK = 0,          /* applied */
	LEDGER_SKIPPED,         /* index at or below the applied index: already in state.db */
	LEDGER_DUPLICATE,       /* command id already applied: nothing done */
	LEDGER_MALFORMED,       /* the entry does not decode */
	LEDGER_NOT_FOUND,       /* names an unknown zone, policy, key or node */
	LEDGER_EXISTS,          /* would create something that exists */
	LEDGER_IN_USE,          /* would delete something still referenced */
	LEDGER_INVALID,         /* a field value breaks a rule */
	LEDGER_STALE,           /* refers to an input serial that is not current */
	LEDGER_CONFLICT,        /* contradicts committed state (serial published with other content) */
};

/** Name of a status ("NOT_FOUND"). */
const char *ledger_status_name(enum ledger_status s);

#define LEDGER_RESULT_MSG 160

struct ledger_result {
	enum ledger_status status;
	uint16_t type;              /* command type, or LEDGER_CMD__COUNT if it did not decode */
	struct ledger_cmd_id id;
	uint64_t index;
	char msg[LEDGER_RESULT_MSG]; /* short message for the client, "" when OK */
};

/**
 * Apply the committed entry at Raft index @p index.  Deterministic: the
 * outcome depends on the entry and the database only.  The change and the
 * new applied index commit in one transaction.  @p buf is borrowed.
 * @param res (out) the outcome; rejections are results, not errors.
 * @return 0 (whatever the status); TDM_EDB/TDM_EIO on an SQLite or I/O
 *         failure, in which case nothing changed and the same entry must be
 *         applied again; TDM_EVERSION if the entry (or a CLUSTER_VERSION
 *         command) needs a newer build: the node must stop and be upgraded.
 */
int ledger_apply(struct ledger *l, uint64_t index, const void *buf, size_t len,
		 struct ledger_result *res, struct tdm_err *err);

struct ledger_entry {
	const void *buf;
	size_t len;
};

/**
 * Apply @p n entries with indexes @p first_index, first_index+1, ... in one
 * transaction.  @param res (out) an array of @p n results.
 * @return as ledger_apply(); on error none of the entries is applied.
 */
int ledger_apply_batch(struct ledger *l, uint64_t first_index, size_t n,
		       const struct ledger_entry *entries, struct ledger_result *res,
		       struct tdm_err *err);

/** The Raft index of the last applied entry (0 for a new ledger). */
uint64_t ledger_applied_index(const struct ledger *l);

/** The cluster's agreed ledger format version (CLUSTER_VERSION; 1 initially). */
uint16_t ledger_cluster_version(const struct ledger *l);

/**
 * Highest sequence applied for @p origin (0 if none).  A node resuming
 * submission after a restart starts above this.
 * @return 0 or TDM_EDB.
 */
int ledger_origin_last_seq(struct ledger *l, uint64_t origin, uint64_t *seq,
			   struct tdm_err *err);

/*- snapshots ----------------------------------------------------------*/

/* A snapshot buffer is a 64-byte header (magic "TDMSNAP1", schema version,
 * applied index, database size, SHA-256 of the database) and the database
 * file image. */
#define LEDGER_SNAPSHOT_HEADER 64

/**
 * Serialize the whole database (a consistent read) into one buffer.
 * @param alloc allocator for the buffer (raft_malloc for libraft), or NULL
 *        for malloc; the caller frees the buffer with the matching free.
 * @param out (out) the buffer; @param len (out) its size.
 * @return 0; TDM_EDB.
 */
int ledger_snapshot(struct ledger *l, void *(*alloc)(size_t), void **out,
		    size_t *len, struct tdm_err *err);

/**
 * Two-step snapshot for libraft's snapshot_async: begin on the apply thread
 * (fixes a read transaction on a second connection, cheap), write on any
 * thread while apply continues, then end.  At most one job per ledger.
 */
struct ledger_snapshot_job;
int ledger_snapshot_begin(struct ledger *l, struct ledger_snapshot_job **job,
			  struct tdm_err *err);
/** Serialize the state fixed by begin; arguments as ledger_snapshot(). */
int ledger_snapshot_write(struct ledger_snapshot_job *job, void *(*alloc)(size_t),
			  void **out, size_t *len, struct tdm_err *err);
/** End the job (on the apply thread); NULL is fine. */
void ledger_snapshot_end(struct ledger_snapshot_job *job);

/**
 * The applied index recorded in a snapshot buffer, from its header only.
 * @return 0 or TDM_ECODEC.
 */
int ledger_snapshot_index(const void *buf, size_t len, uint64_t *index,
			  struct tdm_err *err);

/**
 * Replace state.db with the database in a snapshot buffer, atomically:
 * check the header hash, write a temporary file, run PRAGMA integrity_check
 * and the schema check on it, rename it over state.db and reopen.  @p buf
 * is borrowed.  On any failure state.db and the open ledger are untouched.
 * @return 0; TDM_ECODEC (corrupt snapshot), TDM_EVERSION (schema version),
 *         TDM_EIO/TDM_EDB (I/O).
 */
int ledger_restore(struct ledger *l, const void *buf, size_t len, struct tdm_err *err);

/*- digest -------------------------------------------------------------*/

/**
 * SHA-256 over the logical content of every table, in a defined order
 * (docs/ledger.md), excluding the applied index.  Two nodes at the same
 * applied index must have the same digest.
 * @param out (out) 32 bytes; @param index (out, may be NULL) the applied
 *        index the digest belongs to.
 * @return 0 or TDM_EDB.
 */
int ledger_digest(struct ledger *l, uint8_t out[32], uint64_t *index, struct tdm_err *err);

/*- read-only queries --------------------------------------------------*/

struct ledger_zone {
	char *name, *policy, *in_type, *in_uri, *out_type, *out_uri, *signconf;
	bool has_input;
	uint32_t input_serial;      /* valid if has_input */
	bool has_published;
	uint32_t published_serial;  /* valid if has_published */
	uint8_t published_sha256[32];
	uint64_t published_time;
	uint64_t nsigs;             /* signatures stored for the zone */
};

/**
 * All zones, ordered by name.  @param out (out) array owned by the caller,
 * free with ledger_zone_list_free(); @param n (out) its length.
 * @return 0 or TDM_EDB.
 */
int ledger_zone_list(struct ledger *l, struct ledger_zone **out, size_t *n,
		     struct tdm_err *err);
void ledger_zone_list_free(struct ledger_zone *zones, size_t n);

struct ledger_key {
	char *key_id, *scope_name, *repository;
	uint8_t scope, role, algorithm;
	uint16_t bits, key_tag;
	uint8_t *public_rdata, *cka_id, *wrapped_private; /* owned by the array */
	size_t public_rdata_len, cka_id_len, wrapped_private_len;
	uint64_t created;
	struct ledger_record_state_t rec[4];
	uint8_t backup;             /* enum ledger_backup_flag */
};

/**
 * Keys, ordered by key id; with @p scope_name non-NULL only the keys of that
 * zone or policy.  Free with ledger_key_list_free().
 * @return 0 or TDM_EDB.
 */
int ledger_key_list(struct ledger *l, const char *scope_name, struct ledger_key **out,
		    size_t *n, struct tdm_err *err);
void ledger_key_list_free(struct ledger_key *keys, size_t n);

/**
 * The key @p key_id (any scope).  @param out (out) one key, free with
 * ledger_key_list_free(*out, 1).  @return 0, TDM_ENOENT or TDM_EDB.
 */
int ledger_key_get(struct ledger *l, const char *key_id, struct ledger_key **out,
		   struct tdm_err *err);

/** Called per signature; the pointers are valid during the call only.  Non-zero stops. */
typedef int (*ledger_sig_cb)(void *ctx, const struct ledger_sig *sig, uint32_t input_serial);

/**
 * Iterate the signatures of @p zone in (owner, type, key tag) order.
 * @return 0, the callback's non-zero value, or TDM_EDB.
 */
int ledger_signatures_for_zone(struct ledger *l, const char *zone, ledger_sig_cb cb,
			       void *ctx, struct tdm_err *err);

/** Number of signatures of @p zone (all zones if NULL). */
int ledger_signature_count(struct ledger *l, const char *zone, uint64_t *count,
			   struct tdm_err *err);

/**
 * Highest SIG_BATCH number committed for @p zone and @p input_serial (0 if
 * none): a new leader resumes signing after it.
 */
int ledger_sig_batch_last(struct ledger *l, const char *zone, uint32_t input_serial,
			  uint32_t *batch, struct tdm_err *err);

/** One element of the current input: the full content, then diffs in order. */
typedef int (*ledger_input_cb)(void *ctx, uint8_t kind, uint32_t base_serial,
			       uint32_t serial, uint64_t time, const uint8_t *content,
			       size_t len);

/**
 * Iterate the current unsigned input of @p zone: the last FULL input, then
 * every DIFF applied after it, oldest first.
 * @return 0, the callback's value, TDM_ENOENT (no such zone), TDM_EDB.
 */
int ledger_zone_input(struct ledger *l, const char *zone, ledger_input_cb cb, void *ctx,
		      struct tdm_err *err);

/**
 * The serialized policy @p name.  @param blob (out) malloc'd, caller frees.
 * @return 0, TDM_ENOENT, TDM_EDB.
 */
int ledger_policy_get(struct ledger *l, const char *name, uint8_t **blob, size_t *len,
		      struct tdm_err *err);

struct ledger_node {
	uint64_t node_id;
	char *address;
	bool witness;
	uint8_t *transport_pubkey, *wrapped_kek;
	size_t transport_pubkey_len, wrapped_kek_len;
};

/** Cluster nodes known to the ledger, by id.  Free with ledger_node_list_free(). */
int ledger_node_list(struct ledger *l, struct ledger_node **out, size_t *n,
		     struct tdm_err *err);
void ledger_node_list_free(struct ledger_node *nodes, size_t n);

/*- the enforcer's view (format 2) -------------------------------------------*/

/** A key of a zone with its key_zone row (struct ledger_key's rec[] is unused here). */
struct ledger_zone_key {
	struct ledger_key key;      /* identity, owned */
	uint8_t goal;               /* enum ledger_key_goal */
	uint8_t ds_at_parent;
	uint64_t ds_at_parent_since;
	uint64_t active_since;
	struct ledger_record_state_t rec[4];
};

/** Everything the enforcer needs of one zone. */
struct ledger_zone_state {
	char *name, *policy, *signconf;
	uint64_t next_due;          /* 0 for a zone never enforced */
	uint64_t roll[4];
	char *salt;                 /* "" none */
	uint64_t salt_time;
	struct ledger_zone_key *keys; /* ordered by key id */
	size_t nkeys;
};

/**
 * The zone and its keys.  @param out (out) free with ledger_zone_state_clear().
 * @return 0, TDM_ENOENT (no such zone), TDM_EDB.
 */
int ledger_zone_state_get(struct ledger *l, const char *zone, struct ledger_zone_state *out,
			  struct tdm_err *err);
void ledger_zone_state_clear(struct ledger_zone_state *z);

/**
 * Names of the zones whose next_due <= @p now, earliest first, at most
 * @p limit (0: no limit).  @param names (out) free with ledger_names_free().
 */
int ledger_zones_due(struct ledger *l, uint64_t now, size_t limit, char ***names, size_t *n,
		     struct tdm_err *err);
/** The earliest next_due of all zones (UINT64_MAX when none). */
int ledger_next_due(struct ledger *l, uint64_t *due, struct tdm_err *err);
/** Names of all zones (of @p policy if not NULL), ordered by name. */
int ledger_zone_names(struct ledger *l, const char *policy, char ***names, size_t *n,
		      struct tdm_err *err);
void ledger_names_free(char **names, size_t n);

/** Number of zones, of keys (any scope) and of pool keys. */
int ledger_counts(struct ledger *l, uint64_t *zones, uint64_t *keys, uint64_t *pool,
		  struct tdm_err *err);

/**
 * Pool keys of (@p repository, @p algorithm, @p bits), oldest first (created,
 * then id), at most @p limit (0: all); with @p backed_up only those whose
 * backup flag is DONE.  Free with ledger_key_list_free().
 */
int ledger_pool_keys(struct ledger *l, const char *repository, uint8_t algorithm,
		     uint16_t bits, bool backed_up, size_t limit, struct ledger_key **out,
		     size_t *n, struct tdm_err *err);

struct ledger_pool_count {
	char *repository;
	uint8_t algorithm;
	uint16_t bits;
	uint64_t count, backed_up;
};
/** Pool sizes per (repository, algorithm, bits).  Free with ledger_pool_counts_free(). */
int ledger_pool_counts(struct ledger *l, struct ledger_pool_count **out, size_t *n,
		       struct tdm_err *err);
void ledger_pool_counts_free(struct ledger_pool_count *c, size_t n);

struct ledger_policy {
	char *name;
	uint8_t *blob;
	size_t len;
	uint64_t zones;             /* zones using it */
};
/** All policies by name.  Free with ledger_policy_list_free(). */
int ledger_policy_list(struct ledger *l, struct ledger_policy **out, size_t *n,
		       struct tdm_err *err);
void ledger_policy_list_free(struct ledger_policy *p, size_t n);

/** The highest ENFORCE time applied (0 if none): time never goes back below it. */
uint64_t ledger_enforce_time(const struct ledger *l);

#endif
