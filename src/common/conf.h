/*
 * Configuration files in OpenDNSSEC 2.x format: conf.xml, kasp.xml,
 * zonelist.xml and the per-zone signconf, parsed with libxml2 and validated
 * against the RelaxNG schemas in src/common/schemas/.
 *
 * Every loader takes a struct tdm_err and on failure fills it with one
 * message naming the file, the line and the element
 * ("conf.xml:12: <Repository name=\"SoftHSM\">: <TokenLabel>: missing"),
 * returns a negative code and leaves *out untouched.  Durations are
 * converted to seconds (OpenDNSSEC's month = 31 days, year = 365 days).
 * Structures are heap-allocated and freed with their *_free function.
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
};

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
	int64_t election_timeout_ms; /* <ElectionTimeout>, default 1000 */
	int64_t heartbeat_ms;        /* <Heartbeat>, default 100 */
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

/*
 * kasp.xml (struct tdm_kasp, struct tdm_policy) and zonelist.xml
 * (struct tdm_zonelist) follow below; see their loaders.
 */

#endif
