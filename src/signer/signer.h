/*
 * The signing core: a library with no I/O loop of its own, used by
 * tandem-signzone, the daemon and the unit tests.
 *
 * A pass goes:
 *   signer_zone_read()          the unsigned zone (file or memory)
 *   signer_zone_prepare()       optional: canonical order, apex/delegation/
 *                               glue rules, DNSKEY, NSEC or NSEC3
 *   signer_zone_sign()          serial, signature reuse from the previous
 *                               output (streamed, never loaded), signing on
 *                               the worker pool
 *   signer_zone_write()         the signed zone, atomically
 *
 * What it promises: the signed zone holds exactly the records of the
 * unsigned zone (apart from the SOA TTL, MINIMUM and serial the signconf
 * sets, one TTL per RRset, duplicates removed and the input's RRSIG, NSEC,
 * NSEC3 and NSEC3PARAM records replaced, and the apex CDS / CDNSKEY records
 * replaced when the signconf has a <Keys><CDS> / <CDNSKEY> section) plus
 * the DNSSEC records it adds;
 * the output is a pure function of the input, the signconf, `now` and the
 * reused signatures (jitter is derived from a hash, never random).
 *
 * Keys are given as DNSKEY RDATA plus their role; signing goes through a
 * backend (struct signer_backend) so the core needs no HSM: the CLI plugs
 * in PKCS#11 (src/hsm), the unit tests OpenSSL keys.
 */
#ifndef SIGNER_SIGNER_H
#define SIGNER_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/conf.h"
#include "common/error.h"

struct signer_zone;

/** A key of the signconf with its public half. */
struct signer_key {
	uint16_t flags;          /* 256 ZSK, 257 SEP */
	uint8_t algorithm;
	const uint8_t *dnskey;   /* DNSKEY RDATA, borrowed for the pass */
	size_t dnskey_len;
	bool ksk;                /* signs the apex DNSKEY, CDS and CDNSKEY RRsets */
	bool zsk;                /* signs everything else */
	bool publish;            /* DNSKEY in the zone */
	bool active;             /* makes signatures (false: <Deactivate/>) */
	const char *locator;     /* CKA_ID (hex) for messages, may be NULL */
	bool cds;                /* <CDS/>: a CDS per signconf digest type at the apex */
	bool cdnskey;            /* <CDNSKEY/>: a CDNSKEY at the apex */
};

/**
 * Where signatures come from.  In process mode open() runs in every worker
 * process after fork() and its state is private to that process; in thread
 * mode open() runs once and sign() is called from several threads at once.
 * sign() gets the RRSIG signing input (RFC 4034 §3.1.8.1), hashes and signs
 * it with key `key` (an index into the key array) and writes the signature
 * in DNSSEC wire form.
 */
struct signer_backend {
	int (*open)(void *arg, void **state, struct tdm_err *err);
	int (*sign)(void *state, size_t key, const uint8_t *data, size_t len,
		    uint8_t *sig, size_t *sig_len, struct tdm_err *err);
	void (*close)(void *state);
	void *arg;
};

struct signer_params {
	const struct tdm_signconf *sc;   /* borrowed */
	const struct signer_key *keys;   /* borrowed, n_keys entries */
	size_t n_keys;
	const struct signer_backend *backend;
	int64_t now;                     /* seconds since the epoch */
	unsigned workers;                /* worker processes or threads; 0 = 2 */
	bool threads;                    /* threads instead of processes */
	bool progress;                   /* progress lines on stderr */
};

struct signer_stats {
	size_t names;            /* owner names in the zone (no NSEC3) */
	size_t rrsets;           /* RRsets in the output, DNSSEC ones included */
	size_t records_in;       /* records read from the unsigned zone */
	size_t sigs_made;
	size_t sigs_reused;
	size_t sigs_dropped;     /* of the previous output, not carried over */
	uint32_t serial;         /* SOA serial of the output */
	bool unchanged;          /* identical to the previous output */
	double t_prepare, t_sign; /* seconds */
};

/**
 * Read an unsigned zone file.  RRSIG, NSEC, NSEC3 and NSEC3PARAM records
 * are dropped (counted); DNSKEYs are kept and merged with the signconf's.
 * @param origin zone name in presentation form.
 * @param out caller frees with signer_zone_free().
 * @return 0, TDM_EIO, TDM_EPARSE, TDM_EZONE; err names file and line.
 */
int signer_zone_read(struct signer_zone **out, const char *origin,
		     const char *path, struct tdm_err *err);

/** Same from memory; `name` stands for the file name in messages. */
int signer_zone_read_mem(struct signer_zone **out, const char *origin,
			 const char *buf, size_t len, const char *name,
			 struct tdm_err *err);

/**
 * The steps of signing that need no previous output and no HSM: apex
 * DNSKEYs and NSEC3PARAM, canonical order, zone rules, SOA and DNSKEY
 * TTLs, the NSEC or NSEC3 chain.  Optional: signer_zone_sign() does it
 * when it was not done; calling it first lets a caller overlap it with
 * reading the previous output.  p->backend is not used.
 * @return 0, TDM_EZONE, TDM_EINVAL; err says what and where.
 */
int signer_zone_prepare(struct signer_zone *z, const struct signer_params *p,
			struct tdm_err *err);

/**
 * Sign z.  `prev_path` (may be NULL) names the previous output, any
 * signer's: it is read once, as a stream, and its signatures are reused
 * where RFC-wise and policy-wise allowed (nothing of it is kept but those
 * signatures, about 10 octets plus the signature each).  An unreadable
 * previous output is logged and everything is signed, except under serial
 * policy "keep", which needs the previous serial and fails.  When nothing
 * is to be signed the backend is never opened and no worker is started.
 * @return 0; TDM_EZONE (no SOA, CNAME and other data, ...), TDM_ESERIAL
 * (serial policy "keep" cannot increase the serial), TDM_EHSM and the
 * backend's codes; err says what and where.  On failure z is unusable.
 */
int signer_zone_sign(struct signer_zone *z, const char *prev_path,
		     const struct signer_params *p, struct signer_stats *st,
		     struct tdm_err *err);

/**
 * Write the signed zone to `path` atomically: a temporary file in the same
 * directory, fsync, rename.  On failure `path` is untouched.
 */
int signer_zone_write(const struct signer_zone *z, const char *path,
		      struct tdm_err *err);

/** Write the signed zone to an open stream (no fsync). */
int signer_zone_write_fp(const struct signer_zone *z, FILE *f,
			 struct tdm_err *err);

/** The SOA serial of a prepared zone (0 if it has none). */
uint32_t signer_zone_serial(const struct signer_zone *z);

void signer_zone_free(struct signer_zone *z);

/**
 * The RDATA of one DNSKEY record in presentation form (a signconf's
 * <ResourceRecord>).  @param out caller frees with free().
 * @return 0 or TDM_EPARSE.
 */
int signer_dnskey_from_text(const char *text, uint8_t **out, size_t *len,
			    struct tdm_err *err);

/** Largest signature in octets a DNSKEY's algorithm makes (0 if unknown). */
size_t signer_sig_max_len(const uint8_t *dnskey, size_t len);

#endif
