/*
 * The PKCS#11 layer.  One struct hsm_ctx per <Repository>: the module is
 * loaded with dlopen, the token found by label, the user logged in with the
 * PIN.  Sessions are per thread (created on first use by each thread), so
 * any thread may call hsm_sign().  Keys are located by CKA_ID, given and
 * shown as lower-case hex, as OpenDNSSEC does.
 *
 * After fork() a child must not use its parent's context: it calls
 * hsm_ctx_open() again (PKCS#11 v2.40 §5.4: a child process must call
 * C_Initialize).  The signer's worker processes rely on this.  A context
 * inherited from the parent refuses to sign (TDM_EHSM, "inherited across
 * fork()"); hsm_ctx_close() on it only frees memory.
 *
 * Several contexts may share one module (and one token): the module is
 * loaded and C_Initialize'd once per process and finalized with its last
 * context.  SoftHSM2 sees only the tokens that existed at C_Initialize
 * (or misses one written by another process at that moment): when the
 * label is not found and the new ctx is the module's only user in the
 * process, hsm_ctx_open() re-initialises the module and looks again, a few
 * times over ~100 ms, before answering TDM_ENOENT.
 *
 * Threads: hsm_sign() takes no lock and may run in any number of threads.
 * Every other function is thread-safe too (they serialise on the ctx's
 * admin session), except hsm_key_set_algorithm(), hsm_key_remove() and
 * hsm_ctx_close(), which the caller must not run while another thread
 * signs with the key or ctx concerned.  Session objects (keygen with
 * .session, hsm_key_unwrap) live in the ctx's admin session and die with
 * the ctx.
 *
 * Every PKCS#11 failure is reported with the function and the CKR_ name
 * ("C_Sign: CKR_DEVICE_ERROR") in the struct tdm_err, and TDM_EHSM.
 */
#ifndef TDM_HSM_H
#define TDM_HSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* DNSSEC algorithm numbers (RFC 8624) Tandem can generate and sign with. */
enum {
	HSM_ALG_RSASHA256 = 8,
	HSM_ALG_RSASHA512 = 10,
	HSM_ALG_ECDSAP256SHA256 = 13,
	HSM_ALG_ECDSAP384SHA384 = 14,
	HSM_ALG_ED25519 = 15,
};

/* The largest signature any supported algorithm makes (RSA-4096). */
#define HSM_MAX_SIG_LEN 512

struct hsm_ctx;
struct hsm_key;

/**
 * Load `module_path`, find the token labelled `token_label`, log in as
 * CKU_USER with `pin` (NULL: the environment variable TANDEM_PIN_<NAME>,
 * NAME being `repo_name` upper-cased with other bytes as '_'), open the
 * ctx's admin session.  The messages name the repository
 * ("repository SoftHSM: C_Login: CKR_PIN_INCORRECT").
 * @param out caller closes with hsm_ctx_close(); untouched on failure.
 * @return 0, TDM_EHSM, TDM_ENOENT (no such token or module), TDM_EINVAL
 * (no PIN anywhere).
 */
int hsm_ctx_open(struct hsm_ctx **out, const char *repo_name,
		 const char *module_path, const char *token_label,
		 const char *pin, struct tdm_err *err);

/**
 * Close every session of ctx (the token logs out with the last one), and
 * C_Finalize the module if no other ctx uses it.  Frees ctx and its keys.
 * No other thread may be using ctx.  NULL is fine.
 */
void hsm_ctx_close(struct hsm_ctx *ctx);

/** The repository name given to hsm_ctx_open(). */
const char *hsm_ctx_name(const struct hsm_ctx *ctx);

/** What hsm_ctx_token_info() reports (blank-padded fields trimmed). */
struct hsm_token_info {
	unsigned long slot;
	char label[33];
	char manufacturer[33];
	char model[17];
	char serial[17];
	char module[256];           /* the module path */
	char module_description[33];/* CK_INFO.libraryDescription */
	unsigned module_version_major, module_version_minor;
};

/** Describe the token and module of ctx (for `tandem-hsmutil info`). */
int hsm_ctx_token_info(struct hsm_ctx *ctx, struct hsm_token_info *out,
		       struct tdm_err *err);

/** Does the token have the mechanisms to generate and sign with `algorithm`? */
bool hsm_algorithm_supported(struct hsm_ctx *ctx, uint8_t algorithm);

/** Options of hsm_key_generate(). */
struct hsm_keygen {
	uint8_t algorithm;   /* HSM_ALG_* */
	unsigned bits;       /* RSA modulus size; ignored for EC/EdDSA */
	bool session;        /* true: session object (gone when the ctx closes) */
	bool extractable;    /* CKA_EXTRACTABLE, needed to wrap it (key custody) */
	const char *label;   /* CKA_LABEL, NULL = the CKA_ID */
};

/**
 * Generate a key pair; CKA_ID is 16 random bytes.
 * @param out borrowed from ctx (freed by hsm_ctx_close or hsm_key_remove).
 */
int hsm_key_generate(struct hsm_ctx *ctx, const struct hsm_keygen *opts,
		     struct hsm_key **out, struct tdm_err *err);

/**
 * Find the key pair whose CKA_ID is `cka_id_hex`.  Handles are cached, so a
 * second lookup costs nothing.
 * @param out borrowed from ctx.  @return 0, TDM_ENOKEY, TDM_EHSM.
 */
int hsm_key_find(struct hsm_ctx *ctx, const char *cka_id_hex,
		 struct hsm_key **out, struct tdm_err *err);

/**
 * Destroy both halves of the key pair in the token and free key, which no
 * thread may use any more.  @return 0, TDM_EHSM (key is freed anyway).
 */
int hsm_key_remove(struct hsm_ctx *ctx, struct hsm_key *key,
		   struct tdm_err *err);

/** One entry of hsm_key_list(). */
struct hsm_key_info {
	char cka_id[65];     /* hex */
	char label[65];
	uint8_t algorithm;   /* 0 if the key type maps to no DNSSEC algorithm */
	unsigned bits;
	bool has_private, has_public;
};

/**
 * List the key pairs in the token.
 * @param out caller frees with free().
 */
int hsm_key_list(struct hsm_ctx *ctx, struct hsm_key_info **out, size_t *n,
		 struct tdm_err *err);

/** The key's CKA_ID in hex (borrowed). */
const char *hsm_key_id(const struct hsm_key *key);
/**
 * The key's DNSSEC algorithm.  A key found with hsm_key_find() reports 8
 * for RSA, since the token cannot tell RSASHA256 from RSASHA512 keys: use
 * hsm_key_set_algorithm() to sign with 10.
 */
uint8_t hsm_key_algorithm(const struct hsm_key *key);

/**
 * Sign with `key` as DNSSEC algorithm `algorithm` from now on (8 <-> 10 for
 * RSA; for EC and EdDSA only the key's own algorithm fits).  Call it before
 * the key is shared with signing threads: it changes the key in place.
 * @return 0, TDM_EALGO (the key or the token cannot do it).
 */
int hsm_key_set_algorithm(struct hsm_ctx *ctx, struct hsm_key *key,
			  uint8_t algorithm, struct tdm_err *err);

/**
 * Make hsm_sign() use a session-object copy of the key's private half
 * (C_CopyObject with CKA_TOKEN=FALSE; the copy inherits CKA_SENSITIVE and
 * never leaves the token).  SoftHSM2 2.6.1 re-checks a token object's file
 * on every use: signing with a session copy is about 50 % faster (ANCHORS.md,
 * and `tandem-hsmutil speed --session`).  The token object is untouched;
 * the copy lives as long as ctx.  A no-op for session objects and keys that
 * already have a copy.  Call it before the key is shared with signing
 * threads, like hsm_key_set_algorithm().
 * @return 0, or TDM_EHSM when the token refuses the copy (e.g. CKA_COPYABLE
 *         false): the key then signs with the token object as before.
 */
int hsm_key_sign_with_session_copy(struct hsm_ctx *ctx, struct hsm_key *key,
				   struct tdm_err *err);

/**
 * The DNSKEY RDATA (RFC 4034 §2.1) of the key's public half with `flags`.
 * @param out caller frees with free().
 */
int hsm_key_dnskey_rdata(struct hsm_ctx *ctx, struct hsm_key *key,
			 uint16_t flags, uint8_t **out, size_t *len,
			 struct tdm_err *err);

/** RFC 4034 Appendix B key tag of a DNSKEY RDATA. */
uint16_t hsm_keytag(const uint8_t *dnskey_rdata, size_t len);

/**
 * DS RDATA (RFC 4034 §5.1) for `owner` (uncompressed wire form, any case:
 * it is lower-cased here) and a DNSKEY RDATA.  digest_type 2 (SHA-256) or
 * 4 (SHA-384).  @param out caller frees with free().
 */
int hsm_ds_rdata(const uint8_t *owner_wire, size_t owner_len,
		 const uint8_t *dnskey_rdata, size_t dnskey_len,
		 uint8_t digest_type, uint8_t **out, size_t *len,
		 struct tdm_err *err);

/**
 * Sign `data` (RFC 4034 §3.1.8.1: RRSIG RDATA without the signature, then
 * the canonical RRset) and write the signature in DNSSEC wire form into
 * `sig` (room for HSM_MAX_SIG_LEN bytes).  The digest is computed here when
 * the token lacks the combined mechanism (SoftHSM2 has no CKM_ECDSA_SHA256).
 * Safe to call from several threads at once.
 */
int hsm_sign(struct hsm_ctx *ctx, struct hsm_key *key, const uint8_t *data,
	     size_t len, uint8_t *sig, size_t *sig_len, struct tdm_err *err);

/*- Key custody (DESIGN.md "Key custody") ---------------------------------*/

/* CKA_LABEL of this node's transport key pair and of the cluster KEK. */
#define HSM_TRANSPORT_LABEL "tandem-transport"
#define HSM_KEK_LABEL "tandem-kek"

/**
 * Make sure this node's transport key pair exists: RSA-3072 token objects
 * labelled HSM_TRANSPORT_LABEL, the private half CKA_UNWRAP only, never
 * extractable.  Created if absent.
 * @param created (out, may be NULL) true when it was made by this call.
 * @return 0, TDM_EHSM.
 */
int hsm_transport_ensure(struct hsm_ctx *ctx, bool *created,
			 struct tdm_err *err);

/**
 * This node's transport public key as DER SubjectPublicKeyInfo, to hand
 * to the node that will wrap the KEK for it (NODE_ADD).
 * @param out caller frees with free().  @return 0, TDM_ENOKEY, TDM_EHSM.
 */
int hsm_transport_public_der(struct hsm_ctx *ctx, uint8_t **out, size_t *len,
			     struct tdm_err *err);

/** Is the cluster KEK (HSM_KEK_LABEL) in the token? */
bool hsm_kek_exists(struct hsm_ctx *ctx);

/**
 * Create the cluster KEK: an AES-256 token secret key labelled
 * HSM_KEK_LABEL with CKA_WRAP and CKA_UNWRAP, sensitive, extractable only
 * so it can itself be wrapped for a joining node.  The first node does it.
 * @return 0, TDM_EEXIST (there is one already), TDM_EHSM.
 */
int hsm_kek_create(struct hsm_ctx *ctx, struct tdm_err *err);

/**
 * Wrap the KEK for a peer under its transport public key (DER SPKI from
 * hsm_transport_public_der() on the peer), with CKM_RSA_PKCS_OAEP,
 * SHA-1 and MGF1-SHA1: the only OAEP parameters SoftHSM2 2.6.1 accepts.
 * @param out caller frees with free().  @return 0, TDM_ENOKEY (no KEK),
 * TDM_EINVAL (not an RSA SPKI), TDM_EHSM.
 */
int hsm_kek_wrap_for_peer(struct hsm_ctx *ctx, const uint8_t *peer_spki,
			  size_t spki_len, uint8_t **out, size_t *len,
			  struct tdm_err *err);

/**
 * Unwrap a KEK delivered by hsm_kek_wrap_for_peer() with this node's
 * transport private key, into a token object labelled HSM_KEK_LABEL.
 * @return 0, TDM_EEXIST (a KEK is there already), TDM_ENOKEY (no
 * transport key), TDM_EHSM (e.g. the blob was wrapped for another node).
 */
int hsm_kek_unwrap(struct hsm_ctx *ctx, const uint8_t *blob, size_t len,
		   struct tdm_err *err);

/**
 * The mechanism of AES key wrap with padding (RFC 5649) used by
 * hsm_key_wrap() and hsm_key_unwrap(): CKM_AES_KEY_WRAP_PAD (0x210a) by
 * default, as SoftHSM2 2.6.1 numbers it; PKCS#11 3.0 tokens call it
 * CKM_AES_KEY_WRAP_KWP (0x210b).  Set it before using the ctx.
 */
void hsm_ctx_set_kwp_mechanism(struct hsm_ctx *ctx, unsigned long mechanism);

/**
 * Wrap the private half of `key` (generated with extractable = true) under
 * the cluster KEK.  The blob is what the ledger stores in KEY_CREATE.
 * @param out caller frees with free().
 * @return 0, TDM_ENOKEY (no KEK), TDM_EALGO (the token cannot wrap this
 * key type: SoftHSM2 2.6.1 refuses Ed25519 with CKR_KEY_NOT_WRAPPABLE),
 * TDM_EHSM (e.g. CKR_KEY_UNEXTRACTABLE).
 */
int hsm_key_wrap(struct hsm_ctx *ctx, struct hsm_key *key, uint8_t **out,
		 size_t *len, struct tdm_err *err);

/**
 * Unwrap a private key wrapped by hsm_key_wrap() (on any node of the
 * cluster) into a session object of this ctx, with CKA_ID `cka_id_hex`,
 * usable by hsm_sign() as DNSSEC `algorithm`.  There is no public half:
 * hsm_key_dnskey_rdata() fails on it (the DNSKEY comes from the ledger).
 * If a key with that CKA_ID is already known to ctx it is returned as is,
 * so callers may unwrap lazily on every first use.
 * @param out borrowed from ctx.  @return 0, TDM_ENOKEY (no KEK),
 * TDM_EALGO, TDM_EHSM (e.g. CKR_WRAPPED_KEY_INVALID under another KEK).
 */
int hsm_key_unwrap(struct hsm_ctx *ctx, const uint8_t *blob, size_t len,
		   uint8_t algorithm, const char *cka_id_hex,
		   struct hsm_key **out, struct tdm_err *err);

/**
 * Verify a signature in DNSSEC wire form over `data` with the public key of
 * a DNSKEY RDATA, in software (OpenSSL): a self-check independent of the
 * token.  @return 0 valid, TDM_EINVAL (does not verify), TDM_EALGO.
 */
int hsm_verify(const uint8_t *dnskey_rdata, size_t dnskey_len,
	       const uint8_t *data, size_t len, const uint8_t *sig,
	       size_t sig_len, struct tdm_err *err);

/** Name of a CKR_ value ("CKR_PIN_INCORRECT"). */
const char *hsm_ckr_name(unsigned long rv);

/*- TEST ONLY: fault injection --------------------------------------------*/

/**
 * TEST ONLY.  Contexts opened after this call sign through a wrapped
 * CK_FUNCTION_LIST whose C_Sign returns `rv` (a CKR_ value, e.g.
 * CKR_DEVICE_ERROR = 0x30) on its `nth` call (1-based, counted over every
 * wrapped context of the process) and, if `persistent`, on every call after
 * it.  The call counter restarts at each call of this function; nth == 0
 * disarms (already wrapped contexts then sign normally).  The environment
 * variable TANDEM_HSM_FAULT=C_Sign:N[:persistent] arms the same fault with
 * CKR_DEVICE_ERROR at the first hsm_ctx_open() of the process.
 */
void hsm_test_fault_sign(unsigned long nth, bool persistent, unsigned long rv);

#endif
