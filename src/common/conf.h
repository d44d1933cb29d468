/*
 * Configuration files in OpenDNSSEC 2.x format: conf.xml, kasp.xml,
 * zonelist.xml and the per-zone signconf, parsed with libxml2 and validated
 * against the RelaxNG schemas in src/common/schemas/.
 *
 * Every loader takes a struct tdm_err and on failure fills it with one
 * line naming the file, the line and the element
 * ("conf.xml:12: <Repository name=\"SoftHSM\">: element TokenLabel missing",
 * "kasp.xml:41: <Policy name=\"lab\">: <Lifetime>: not a duration: \"1y\""),
 * returns a negative code and leaves *out untouched.  Parsing never touches
 * the network, expands no entities and refuses any <!DOCTYPE>.  Durations
 * are converted to seconds (OpenDNSSEC's month = 31 days, year = 365 days).
 * Structures are heap-allocated and freed with their *_free function; the
 * loaders are safe to call from several threads.
 *
 * Elements may appear in any order within a section.  The policy rules of
 * ods-kaspcheck (Validity vs Refresh, unknown repositories, NSEC3
 * iterations ...) are not load errors: tdm_kasp_check() and friends report
 * them, errors and warnings apart, so tandem-kaspcheck can show them all.
 */
#ifndef TDM_CONF_H
#define TDM_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/*- conf.xml -----------------------------------------------------------*/

/** <RepositoryList><Repository name="..."> */
struct tdm_repository {
	char *name;
	char *module;        /* <Module>: path of the PKCS#11 library */
	char *token_label;   /* <TokenLabel> */
	char *pin;           /* <PIN>, NULL when absent (login at run time) */
	uint32_t capacity;   /* <Capacity>, 0 = unlimited */
	bool require_backup; /* <RequireBackup/> */
	bool skip_public_key;/* <SkipPublicKey/> */
	bool allow_extraction;/* <AllowExtraction/> */
	bool shared;         /* Tandem: <Shared/> the same HSM reached by every node */
};

/** <Cluster><Peer id="N" role="..."> */
struct tdm_peer {
	uint64_t id;
	char *address;       /* "a.b.c.d:port" */
	bool witness;        /* role="witness" */
	char *forward;       /* forward="addr:port", NULL = Raft port + 1 */
};

/*
 * Single-site Raft timing: with pre-vote, failover takes 1.5-2 election
 * timeouts (notes/libraft-0.15.md), so 500/50 ms keeps it near one second.
 * Multi-site clusters set PT1S/PT0.1S or more (keep ElectionTimeout >= 20 RTT).
 */
#define TDM_CLUSTER_ELECTION_TIMEOUT_MS 500
#define TDM_CLUSTER_HEARTBEAT_MS 50

/** <Cluster>: absent means a cluster of one (present == false). */
struct tdm_cluster_conf {
	bool present;
	uint64_t node_id;          /* <NodeId>, default 1 */
	char *data_directory;      /* <DataDirectory> */
	char *listen;              /* <Listen> Raft address, "a.b.c.d:port" */
	struct tdm_peer *peers;    /* <Peer>* */
	size_t n_peers;
	char *control_socket;      /* <ControlSocket> */
	char *http;                /* <Http> "addr:port", NULL = off */
	int64_t election_timeout_ms; /* <ElectionTimeout>, default 500 */
	int64_t heartbeat_ms;        /* <Heartbeat>, default 50 */
	char *forward_listen;      /* <ForwardListen>, NULL = Raft port + 1 */
	bool witness;              /* <Witness/>: this node never signs */
};

struct tdm_conf {
	char *path;                       /* the file this came from */
	struct tdm_repository *repositories;
	size_t n_repositories;

	/* <Common> */
	int log_verbosity;                /* <Logging><Verbosity>, default 3 */
	char *syslog_facility;            /* <Logging><Syslog><Facility>, NULL = none */
	char *log_file;                   /* <Logging><File><Filename>, NULL = none */
	char *policy_file;                /* <PolicyFile> */
	char *zonelist_file;              /* <ZoneListFile> */

	/* <Enforcer> */
	char *enforcer_user, *enforcer_group, *enforcer_chroot; /* <Privileges> */
	char *datastore;                  /* <Datastore><SQLite> path (MySQL refused) */
	bool manual_key_generation;
	int64_t automatic_keygen_period;  /* seconds, default 1 year */
	int64_t rollover_notification;    /* seconds, -1 = off */
	char *ds_submit_command;          /* <DelegationSignerSubmitCommand> */
	char *ds_retract_command;         /* <DelegationSignerRetractCommand> */
	char *enforcer_pid_file, *enforcer_socket, *enforcer_workdir;
	int enforcer_worker_threads;

	/* <Signer> */
	char *signer_user, *signer_group;
	char *signer_chroot;              /* <Signer><Privileges><Directory> */
	char *signer_workdir;
	char *signer_pid_file, *signer_socket;
	int signer_worker_threads;
	int signer_signer_threads;
	char *notify_command;             /* <NotifyCommand> */
	char **listener_addresses;        /* <Listener><Interface> "addr:port" */
	size_t n_listeners;

	struct tdm_cluster_conf cluster;
};

/*
 * Defaults when an element is absent: Verbosity 3; WorkerThreads 4 (both
 * sections); SignerThreads = the signer's WorkerThreads;
 * AutomaticKeyGenerationPeriod one year; RolloverNotification off (-1);
 * Listener <Interface> port 15354, no <Address> = both "0.0.0.0:port" and
 * "[::]:port"; every path and command NULL (the consumer picks its own
 * default).  <Cluster> defaults are filled in even when the section is
 * absent: NodeId 1, DataDirectory LOCALSTATEDIR/lib/tandem, Listen
 * 127.0.0.1:5400, ControlSocket LOCALSTATEDIR/run/tandem/control.sock,
 * ElectionTimeout 1 s, Heartbeat 100 ms, Http off.
 */

/**
 * Load and validate conf.xml.
 * @param path file to read; also names it in messages.
 * @param out on success a new struct the caller frees with tdm_conf_free().
 * @param err one message on failure.
 * @return 0; TDM_ENOENT/TDM_EIO (unreadable), TDM_EPARSE (not well-formed),
 *         TDM_ESCHEMA (invalid, including values out of range).
 */
int tdm_conf_load(const char *path, struct tdm_conf **out, struct tdm_err *err);

/** As tdm_conf_load() from `len` bytes in memory; `name` is used in messages. */
int tdm_conf_load_buffer(const char *name, const void *buf, size_t len,
			 struct tdm_conf **out, struct tdm_err *err);

/** Free conf and everything it owns; NULL is allowed. */
void tdm_conf_free(struct tdm_conf *conf);

/** syslog(3) facility (LOG_LOCAL0 ...) for conf->syslog_facility; LOG_DAEMON if none. */
int tdm_conf_syslog_facility(const struct tdm_conf *conf);

/** The repository named `name`, or NULL.  Borrowed from conf. */
const struct tdm_repository *tdm_conf_repository(const struct tdm_conf *conf,
						 const char *name);

/*- signconf (enforcer -> signer, one per zone) ----------------------------*/

enum tdm_serial_policy {
	TDM_SERIAL_COUNTER,
	TDM_SERIAL_DATECOUNTER,
	TDM_SERIAL_UNIXTIME,
	TDM_SERIAL_KEEP,
};

/** <Keys><Key> of a signconf. */
struct tdm_signconf_key {
	uint16_t flags;          /* <Flags>: 256 ZSK, 257 KSK/SEP */
	uint8_t algorithm;       /* <Algorithm> */
	char *locator;           /* <Locator>: CKA_ID in hex, NULL if absent */
	char *resource_record;   /* <ResourceRecord>: DNSKEY in presentation form or NULL */
	bool ksk;                /* <KSK/>: signs the DNSKEY RRset */
	bool zsk;                /* <ZSK/>: signs everything else */
	bool publish;            /* <Publish/>: DNSKEY in the zone */
	bool deactivate;         /* <Deactivate/>: (ODS) stop using for new sigs */
	bool cds;                /* <CDS/> (Tandem): a CDS per <Keys><CDS> digest type */
	bool cdnskey;            /* <CDNSKEY/> (Tandem): in the apex CDNSKEY RRset */
};

struct tdm_signconf {
	char *path;
	char *zone;                   /* <Zone name=""> */
	bool passthrough;             /* <Passthrough/> */

	/* <Signatures>, all in seconds */
	int64_t resign;
	int64_t refresh;
	int64_t validity_default;
	int64_t validity_denial;
	int64_t validity_keyset;      /* 0 = use validity_default */
	int64_t jitter;
	int64_t inception_offset;
	int64_t max_zone_ttl;         /* 0 = none */

	/* <Denial> */
	bool nsec3;                   /* false: NSEC */
	bool nsec3_optout;
	int64_t nsec3_ttl;            /* -1 = SOA minimum (RFC 5155 §5) */
	uint8_t nsec3_algorithm;      /* 1 = SHA-1 */
	uint16_t nsec3_iterations;
	uint8_t *nsec3_salt;          /* raw bytes, NULL when empty */
	size_t nsec3_salt_len;

	/* <Keys> */
	int64_t dnskey_ttl;
	struct tdm_signconf_key *keys;
	size_t n_keys;
	char **signature_rrs;         /* <SignatureResourceRecord>: pre-made RRSIGs */
	size_t n_signature_rrs;
	/* <Keys><CDS> and <Keys><CDNSKEY> (Tandem extension; RFC 7344, RFC
	 * 8078): when present, the signconf owns that apex RRset and the
	 * input's records of the type at the apex are replaced by the keys
	 * marked <CDS/> / <CDNSKEY/> (none: no RRset), or by the delete form. */
	bool cds_managed;             /* <Keys><CDS> present */
	uint8_t cds_digests[4];       /* its <DigestType>s (2 SHA-256, 4 SHA-384) */
	size_t n_cds_digests;
	bool cds_delete;              /* <CDS><Delete/>: CDS 0 0 0 00 (RFC 8078 §4) */
	bool cdnskey_managed;         /* <Keys><CDNSKEY> present */
	bool cdnskey_delete;          /* <CDNSKEY><Delete/>: CDNSKEY 0 3 0 AA== */

	/* <SOA> */
	int64_t soa_ttl;
	int64_t soa_minimum;
	enum tdm_serial_policy serial;
};

/**
 * Load and validate a signconf (root <SignerConfiguration><Zone name="">).
 * @param out on success a new struct the caller frees with tdm_signconf_free().
 * @return 0, TDM_ENOENT/TDM_EIO, TDM_EPARSE or TDM_ESCHEMA with one message.
 */
int tdm_signconf_load(const char *path, struct tdm_signconf **out,
		      struct tdm_err *err);

/** As tdm_signconf_load() from memory; `name` is used in messages. */
int tdm_signconf_load_buffer(const char *name, const void *buf, size_t len,
			     struct tdm_signconf **out, struct tdm_err *err);

/** Free sc and everything it owns; NULL is allowed. */
void tdm_signconf_free(struct tdm_signconf *sc);

/** "counter" etc. <-> enum; returns 0 or TDM_EPARSE. */
int tdm_serial_policy_parse(const char *s, enum tdm_serial_policy *out);
const char *tdm_serial_policy_name(enum tdm_serial_policy p);

/*- kasp.xml -------------------------------------------------------------*/

enum tdm_key_role {
	TDM_ROLE_KSK = 1,  /* signs the DNSKEY RRset; its DS is at the parent */
	TDM_ROLE_ZSK = 2,  /* signs everything else */
	TDM_ROLE_CSK = 3,  /* both */
};

/** "KSK", "ZSK", "CSK". */
const char *tdm_key_role_name(enum tdm_key_role role);

/*
 * <KskRollType>, <ZskRollType>, <CskRollType>.  OpenDNSSEC's enforcer turns
 * each into "minimize" bits: which records the rollover keeps to a single
 * copy instead of doubling (see tdm_roll_type_minimize()).
 */
enum tdm_roll_type {
	TDM_ROLL_KSK_DOUBLE_RRSET,      /* minimize none */
	TDM_ROLL_KSK_DOUBLE_DS,         /* minimize DNSKEY */
	TDM_ROLL_KSK_DOUBLE_SIGNATURE,  /* minimize DS: the KSK default */
	TDM_ROLL_ZSK_DOUBLE_SIGNATURE,  /* minimize none */
	TDM_ROLL_ZSK_PRE_PUBLICATION,   /* minimize RRSIG: the ZSK default */
	TDM_ROLL_ZSK_DOUBLE_RRSIG,      /* minimize DNSKEY */
	TDM_ROLL_CSK_DOUBLE_RRSET,      /* minimize none */
	TDM_ROLL_CSK_SINGLE_SIGNATURE,  /* minimize RRSIG */
	TDM_ROLL_CSK_DOUBLE_DS,         /* minimize DNSKEY */
	TDM_ROLL_CSK_DOUBLE_SIGNATURE,  /* minimize DS */
	TDM_ROLL_CSK_PRE_PUBLICATION,   /* minimize DS and RRSIG: the CSK default */
};

#define TDM_MINIMIZE_RRSIG 0x1u
#define TDM_MINIMIZE_DNSKEY 0x2u
#define TDM_MINIMIZE_DS 0x4u

/** TDM_MINIMIZE_* bits of a roll type. */
unsigned tdm_roll_type_minimize(enum tdm_roll_type t);
/** "KskDoubleSignature" etc. */
const char *tdm_roll_type_name(enum tdm_roll_type t);

/** <Keys><KSK|ZSK|CSK> of a policy. */
struct tdm_policy_key {
	enum tdm_key_role role;
	uint8_t algorithm;          /* <Algorithm>: DNSSEC algorithm number */
	uint32_t bits;              /* <Algorithm length="">; for EC/EdDSA filled
	                               from the algorithm when absent; 0 = absent RSA */
	int64_t lifetime;           /* <Lifetime>, seconds */
	char *repository;           /* <Repository>: a conf.xml repository name */
	uint32_t standby;           /* <Standby>: keys kept ready, default 0 */
	bool manual_rollover;       /* <ManualRollover/> */
	enum tdm_roll_type roll_type; /* <*RollType>, or the role's default */
	unsigned minimize;          /* tdm_roll_type_minimize(roll_type) */
	bool rfc5011;               /* <RFC5011/> (KSK and CSK only) */
	long line;                  /* where the key element starts */
};

/** <KASP><Policy name="">. All durations in seconds. */
struct tdm_policy {
	char *name;
	char *description;          /* "" when absent */
	bool passthrough;           /* <Passthrough/>: publish the zone unsigned */
	long line;

	/* <Signatures> */
	int64_t resign;
	int64_t refresh;
	int64_t validity_default;
	int64_t validity_denial;
	int64_t validity_keyset;    /* 0 = use validity_default */
	int64_t jitter;
	int64_t inception_offset;
	int64_t max_zone_ttl;       /* 0 = not given */
	long signatures_line;

	/* <Denial> */
	bool nsec3;                 /* false: NSEC */
	bool nsec3_optout;
	int64_t nsec3_ttl;          /* -1 = SOA minimum (RFC 5155 §5) */
	int64_t nsec3_resalt;
	uint8_t nsec3_algorithm;    /* 1 = SHA-1 */
	uint16_t nsec3_iterations;
	uint8_t nsec3_salt_length;  /* <Salt length="">, bytes */
	long denial_line;

	/* <Keys> */
	int64_t keys_ttl;           /* DNSKEY TTL */
	int64_t retire_safety;
	int64_t publish_safety;
	bool share_keys;            /* <ShareKeys/>: zones of this policy share keys */
	int64_t purge;              /* <Purge>: delete dead keys after, -1 = never */
	struct tdm_policy_key *keys;
	size_t n_keys;
	long keys_line;

	/* <Zone> */
	int64_t zone_propagation_delay;
	int64_t zone_soa_ttl;
	int64_t zone_soa_minimum;
	enum tdm_serial_policy zone_serial;
	long zone_line;

	/* <Parent> */
	int64_t parent_propagation_delay;
	int64_t parent_ds_ttl;
	int64_t parent_soa_ttl;
	int64_t parent_soa_minimum;
	int64_t parent_registration_delay; /* <RegistrationDelay>, 0 when absent */
	long parent_line;

	/* Tandem: CDS/CDNSKEY publication (RFC 7344, RFC 8078), in <Parent>. */
	bool publish_cds;           /* <PublishCDS> present */
	uint8_t cds_digests[4];     /* <DigestType>s, default { 2 } (SHA-256) */
	size_t n_cds_digests;
	bool publish_cdnskey;       /* <PublishCDNSKEY/> */
};

struct tdm_kasp {
	char *path;
	struct tdm_policy *policies;
	size_t n_policies;
};

/**
 * Load and validate kasp.xml (root <KASP>).  Policy names must be unique.
 * @param out on success a new struct the caller frees with tdm_kasp_free().
 * @return 0, TDM_ENOENT/TDM_EIO, TDM_EPARSE or TDM_ESCHEMA with one message.
 */
int tdm_kasp_load(const char *path, struct tdm_kasp **out, struct tdm_err *err);
/** As tdm_kasp_load() from memory; `name` is used in messages. */
int tdm_kasp_load_buffer(const char *name, const void *buf, size_t len,
			 struct tdm_kasp **out, struct tdm_err *err);
/** Free kasp and everything it owns; NULL is allowed. */
void tdm_kasp_free(struct tdm_kasp *kasp);

/** One policy of a kasp.xml as a standalone <KASP> document (kasp_split.c). */
struct tdm_kasp_doc {
	char *name;
	char *xml;
	size_t len;
};

/**
 * Load (validating, as tdm_kasp_load_buffer) and split a kasp.xml into one
 * document per policy, in file order.  @param out (out) free with
 * tdm_kasp_docs_free().  @return as tdm_kasp_load_buffer().
 */
int tdm_kasp_split(const char *name, const void *buf, size_t len, struct tdm_kasp_doc **out,
		   size_t *n, struct tdm_err *err);
void tdm_kasp_docs_free(struct tdm_kasp_doc *docs, size_t n);

/** One kasp.xml text (malloc'd, NUL-terminated) holding the policies of @p n documents. */
char *tdm_kasp_join(const char *const *docs, const size_t *lens, size_t n);
/** The policy named `name`, or NULL.  Borrowed from kasp. */
const struct tdm_policy *tdm_kasp_policy(const struct tdm_kasp *kasp,
					 const char *name);

/*- zonelist.xml ---------------------------------------------------------*/

enum tdm_adapter_type {
	TDM_ADAPTER_FILE,   /* <File>path</File> or <Adapter type="File"> */
	TDM_ADAPTER_DNS,    /* <Adapter type="DNS">addns.xml path</Adapter> */
	TDM_ADAPTER_OTHER,  /* any other type (kept, refused by the signer) */
};

/** <Input> or <Output> of a zone. */
struct tdm_adapter {
	enum tdm_adapter_type type;
	char *type_name;    /* "File", "DNS" or the type="" as written */
	char *config;       /* the file path, or the adapter's configuration file */
};

/** <ZoneList><Zone name="">. */
struct tdm_zonelist_zone {
	char *name;         /* as written */
	char *policy;       /* <Policy> */
	char *signconf;     /* <SignerConfiguration> path */
	struct tdm_adapter input;
	struct tdm_adapter output;
	long line;
};

struct tdm_zonelist {
	char *path;
	struct tdm_zonelist_zone *zones;
	size_t n_zones;
};

/**
 * Load and validate zonelist.xml (root <ZoneList>).  Zone names must be
 * unique (compared without case and trailing dot).
 * @param out on success a new struct the caller frees with tdm_zonelist_free().
 * @return 0, TDM_ENOENT/TDM_EIO, TDM_EPARSE or TDM_ESCHEMA with one message.
 */
int tdm_zonelist_load(const char *path, struct tdm_zonelist **out,
		      struct tdm_err *err);
/** As tdm_zonelist_load() from memory; `name` is used in messages. */
int tdm_zonelist_load_buffer(const char *name, const void *buf, size_t len,
			     struct tdm_zonelist **out, struct tdm_err *err);
/** Free zl and everything it owns; NULL is allowed. */
void tdm_zonelist_free(struct tdm_zonelist *zl);
/** The zone named `name` (case and trailing dot ignored) or NULL; borrowed. */
const struct tdm_zonelist_zone *tdm_zonelist_zone(const struct tdm_zonelist *zl,
						  const char *name);

/*- checks beyond the schemas (tandem-kaspcheck) -------------------------*/

/** One finding: "file:line: message". */
struct tdm_diag {
	char *file;
	long line;          /* 0 when the finding is about the whole file */
	char *message;
};

/** Findings of the checks, errors and warnings kept apart. */
struct tdm_check_report {
	struct tdm_diag *errors;
	size_t n_errors;
	struct tdm_diag *warnings;
	size_t n_warnings;
};

/** Release the findings (the struct itself is the caller's). */
void tdm_check_report_clear(struct tdm_check_report *r);

/**
 * Policy checks in the manner of OpenDNSSEC's kaspcheck: timing relations
 * (Refresh shorter than Validity, Resign shorter than Refresh, Jitter and
 * InceptionOffset sizes, safety margins), NSEC3 parameters (iterations
 * above 100 warned, above 500 refused), algorithm/length agreement, key
 * roles, and, when conf is not NULL, that every <Repository> exists.
 * Appends to r; never fails.
 */
void tdm_kasp_check(const struct tdm_kasp *kasp, const struct tdm_conf *conf,
		    struct tdm_check_report *r);

/** Every zone's policy exists in kasp (when not NULL); adapter sanity. */
void tdm_zonelist_check(const struct tdm_zonelist *zl, const struct tdm_kasp *kasp,
			struct tdm_check_report *r);

/** Timing and NSEC3 checks of one signconf, and its keys' roles. */
void tdm_signconf_check(const struct tdm_signconf *sc, struct tdm_check_report *r);

#endif
