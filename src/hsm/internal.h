/*
 * Private to src/hsm: the structures behind struct hsm_ctx and struct
 * hsm_key, and the functions the files of the module share (hsm__ prefix).
 * Nothing outside src/hsm includes this header.
 *
 * Locking: ctx->lock guards the admin session, the key cache and the list
 * of per-thread sessions.  hsm_sign() takes no lock: it reads an immutable
 * struct hsm_key and uses the calling thread's own session.
 */
#ifndef TDM_HSM_INTERNAL_H
#define TDM_HSM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <p11-kit/pkcs11.h>

#include "common/hex.h"
#include "hsm/hsm.h"

#define HSM__MAX_ID_LEN 32          /* bytes; hex form fits hsm_key_info */
#define HSM__ID_LEN 16              /* what we generate */

/* A module loaded in this process, shared by every ctx that names it. */
struct hsm__module {
	char *path;
	void *dl;
	CK_FUNCTION_LIST_PTR fl;    /* the module's own list */
	unsigned refs;
	unsigned long generation;   /* fork generation it was initialised in */
	struct hsm__module *next;
};

/* One thread's session with one ctx. */
struct hsm__thread {
	struct hsm_ctx *ctx;
	CK_SESSION_HANDLE session;
	EVP_MD_CTX *md;             /* reused for every pre-hash */
	struct hsm__thread *prev, *next;
};

struct hsm_key {
	CK_OBJECT_HANDLE priv;
	CK_OBJECT_HANDLE pub;       /* CK_INVALID_HANDLE when absent */
	CK_OBJECT_HANDLE sign_copy; /* session copy hsm_sign uses, or CK_INVALID_HANDLE */
	uint8_t id[HSM__MAX_ID_LEN];
	size_t id_len;
	char id_hex[2 * HSM__MAX_ID_LEN + 1];
	CK_KEY_TYPE type;           /* CKK_RSA, CKK_EC, CKK_EC_EDWARDS */
	uint8_t algorithm;          /* DNSSEC number */
	unsigned bits;
	bool session_object;

	/* How hsm_sign() signs with it; set by hsm__key_set_algorithm(). */
	CK_MECHANISM_TYPE mech;
	const EVP_MD *md;           /* pre-hash in the application, or NULL */
	const uint8_t *digestinfo;  /* DER prefix for CKM_RSA_PKCS, or NULL */
	size_t digestinfo_len;

	struct hsm_key *hnext;      /* hash chain in ctx->keys */
};

struct hsm_ctx {
	char *name;
	char *label;
	struct hsm__module *mod;
	CK_FUNCTION_LIST_PTR p11;   /* mod->fl, or a fault-injecting copy */
	CK_FUNCTION_LIST fault_fl;  /* storage for that copy */
	CK_SLOT_ID slot;
	unsigned long generation;   /* fork generation of hsm_ctx_open() */

	pthread_mutex_t lock;
	CK_SESSION_HANDLE admin;    /* keygen, lookups, session objects */
	pthread_key_t tkey;
	struct hsm__thread *threads;

	CK_MECHANISM_TYPE *mechs;   /* sorted */
	size_t n_mechs;

	struct hsm_key **keys;      /* hash table by CKA_ID */
	size_t n_buckets, n_keys;

	CK_MECHANISM_TYPE kwp_mech; /* CKM_AES_KEY_WRAP_PAD or configured */
	CK_OBJECT_HANDLE kek;       /* cached once found, else CK_INVALID_HANDLE */
};

/*- module.c -*/
extern unsigned long hsm__fork_generation;
bool hsm__has_mech(const struct hsm_ctx *ctx, CK_MECHANISM_TYPE m);
/** "C_Sign: CKR_DEVICE_ERROR" into err; returns TDM_EHSM. */
int hsm__fail(struct tdm_err *err, const char *fn, CK_RV rv);

/*- session.c -*/
/** Create ctx->tkey; 0 or -1 (out of thread keys). */
int hsm__threads_init(struct hsm_ctx *ctx);
/** The calling thread's session, opened on first use.  Lock-free after. */
int hsm__thread_get(struct hsm_ctx *ctx, struct hsm__thread **out,
		    struct tdm_err *err);
void hsm__threads_close(struct hsm_ctx *ctx, bool call_module);
/** Close and forget the calling thread's session (it went bad). */
void hsm__thread_drop(struct hsm_ctx *ctx, struct hsm__thread *t);

/*- keys.c -*/
/** Build a key from its private handle (and public handle, if any). */
int hsm__key_load(struct hsm_ctx *ctx, CK_OBJECT_HANDLE priv,
		  CK_OBJECT_HANDLE pub, struct hsm_key **out,
		  struct tdm_err *err);
/** Insert into the cache (ctx->lock held).  ctx owns key afterwards. */
void hsm__key_cache_add(struct hsm_ctx *ctx, struct hsm_key *key);
void hsm__key_cache_free(struct hsm_ctx *ctx);
/** The cached key with this CKA_ID, or NULL (ctx->lock held). */
struct hsm_key *hsm__key_cache_get(struct hsm_ctx *ctx, const uint8_t *id,
				   size_t n);
int hsm__get_attr(struct hsm_ctx *ctx, CK_OBJECT_HANDLE h,
		  CK_ATTRIBUTE_TYPE t, uint8_t **val, size_t *len,
		  struct tdm_err *err);

/*- custody.c -*/
/** The object of class `cls` labelled `label`, or CK_INVALID_HANDLE
 *  (ctx->lock held). */
int hsm__find_labelled(struct hsm_ctx *ctx, CK_OBJECT_CLASS cls,
		       const char *label, CK_OBJECT_HANDLE *out,
		       struct tdm_err *err);
/** The cluster KEK's handle, searched once and then cached (lock held);
 *  CK_INVALID_HANDLE when the token has none. */
int hsm__kek(struct hsm_ctx *ctx, CK_OBJECT_HANDLE *out, struct tdm_err *err);

/*- sign.c -*/
/** Choose the mechanism for `alg` on `key`; TDM_EALGO if they do not fit. */
int hsm__key_set_algorithm(struct hsm_ctx *ctx, struct hsm_key *key,
			   uint8_t alg, struct tdm_err *err);

/*- fault.c -*/
/** Point ctx->p11 at a fault-injecting copy when a fault is armed. */
void hsm__fault_install(struct hsm_ctx *ctx);

/* DER of the curves (CKA_EC_PARAMS). */
extern const uint8_t hsm__oid_p256[10], hsm__oid_p384[7];
extern const uint8_t hsm__oid_ed25519[5], hsm__str_ed25519[14];

#endif
