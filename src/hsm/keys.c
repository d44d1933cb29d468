/*
 * Keys in the token: hsm_key_find() by CKA_ID, hsm_key_list(),
 * hsm_key_remove(), and the handle cache.
 *
 * OpenDNSSEC searches the token with C_FindObjects every time it needs a
 * key, which takes seconds on a token holding thousands of keys.  Here a
 * key is searched once; its handles and signing parameters then live in a
 * hash table keyed by CKA_ID for as long as the ctx, so the next
 * hsm_key_find() is a hash lookup and hsm_sign() never searches.
 *
 * Every function here that talks to the token uses the admin session with
 * ctx->lock held.
 */
#include "hsm/internal.h"

#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t hsm__oid_p256[10] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
				    0x3d, 0x03, 0x01, 0x07 };
const uint8_t hsm__oid_p384[7] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
const uint8_t hsm__oid_ed25519[5] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
/* PrintableString "edwards25519" (PKCS#11 3.0 §2.3.10 allows either). */
const uint8_t hsm__str_ed25519[14] = { 0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
				       'd', 's', '2', '5', '5', '1', '9' };

/*- attributes -*/

int hsm__get_attr(struct hsm_ctx *ctx, CK_OBJECT_HANDLE h,
		  CK_ATTRIBUTE_TYPE t, uint8_t **val, size_t *len,
		  struct tdm_err *err)
{
	CK_ATTRIBUTE a = { t, NULL, 0 };
	CK_RV rv;

	rv = ctx->p11->C_GetAttributeValue(ctx->admin, h, &a, 1);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_GetAttributeValue", rv);
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return hsm__fail(err, "C_GetAttributeValue",
				 CKR_ATTRIBUTE_TYPE_INVALID);
	a.pValue = tdm_malloc(a.ulValueLen ? a.ulValueLen : 1);
	rv = ctx->p11->C_GetAttributeValue(ctx->admin, h, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return hsm__fail(err, "C_GetAttributeValue", rv);
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return 0;
}

/* Which DNSSEC algorithm a key type and curve give; 0 if none.  RSA gives
 * 8: RSASHA256 and RSASHA512 keys are the same in the token. */
static uint8_t alg_of(CK_KEY_TYPE type, const uint8_t *params, size_t plen)
{
	if (type == CKK_RSA)
		return HSM_ALG_RSASHA256;
	if (type == CKK_EC && plen == sizeof hsm__oid_p256 &&
	    memcmp(params, hsm__oid_p256, plen) == 0)
		return HSM_ALG_ECDSAP256SHA256;
	if (type == CKK_EC && plen == sizeof hsm__oid_p384 &&
	    memcmp(params, hsm__oid_p384, plen) == 0)
		return HSM_ALG_ECDSAP384SHA384;
	if (type == CKK_EC_EDWARDS &&
	    ((plen == sizeof hsm__oid_ed25519 &&
	      memcmp(params, hsm__oid_ed25519, plen) == 0) ||
	     (plen == sizeof hsm__str_ed25519 &&
	      memcmp(params, hsm__str_ed25519, plen) == 0)))
		return HSM_ALG_ED25519;
	return 0;
}

/* Key type, size and algorithm of an object (private or public). */
static int describe(struct hsm_ctx *ctx, CK_OBJECT_HANDLE h, CK_KEY_TYPE *type,
		    unsigned *bits, uint8_t *alg, struct tdm_err *err)
{
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, type, sizeof *type };
	uint8_t *v = NULL;
	size_t len = 0, i;
	CK_RV rv;
	int rc;

	rv = ctx->p11->C_GetAttributeValue(ctx->admin, h, &a, 1);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_GetAttributeValue(CKA_KEY_TYPE)", rv);
	*bits = 0;
	*alg = 0;
	if (*type == CKK_RSA) {
		rc = hsm__get_attr(ctx, h, CKA_MODULUS, &v, &len, err);
		if (rc != 0)
			return rc;
		for (i = 0; i < len && v[i] == 0; i++)
			;
		*bits = (unsigned)(len - i) * 8;
		if (i < len)
			*bits -= (unsigned)__builtin_clz(v[i]) - 24;
		*alg = HSM_ALG_RSASHA256;
	} else if (*type == CKK_EC || *type == CKK_EC_EDWARDS) {
		rc = hsm__get_attr(ctx, h, CKA_EC_PARAMS, &v, &len, err);
		if (rc != 0)
			return rc;
		*alg = alg_of(*type, v, len);
		*bits = *alg == HSM_ALG_ECDSAP384SHA384 ? 384 :
			*alg == 0 ? 0 : 256;
	}
	free(v);
	return 0;
}

/*- cache -*/

static size_t hash_id(const uint8_t *id, size_t n)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ id[i]) * 1099511628211ULL;
	return (size_t)h;
}

struct hsm_key *hsm__key_cache_get(struct hsm_ctx *ctx, const uint8_t *id,
				 size_t n)
{
	struct hsm_key *k;

	if (ctx->n_buckets == 0)
		return NULL;
	for (k = ctx->keys[hash_id(id, n) % ctx->n_buckets]; k; k = k->hnext)
		if (k->id_len == n && memcmp(k->id, id, n) == 0)
			return k;
	return NULL;
}

void hsm__key_cache_add(struct hsm_ctx *ctx, struct hsm_key *key)
{
	size_t b, i;

	if (ctx->n_keys + 1 > ctx->n_buckets) {
		size_t nb = ctx->n_buckets ? 2 * ctx->n_buckets : 64;
		struct hsm_key **nk = tdm_calloc(nb, sizeof *nk);
		for (i = 0; i < ctx->n_buckets; i++) {
			struct hsm_key *k = ctx->keys[i], *next;
			for (; k != NULL; k = next) {
				next = k->hnext;
				b = hash_id(k->id, k->id_len) % nb;
				k->hnext = nk[b];
				nk[b] = k;
			}
		}
		free(ctx->keys);
		ctx->keys = nk;
		ctx->n_buckets = nb;
	}
	b = hash_id(key->id, key->id_len) % ctx->n_buckets;
	key->hnext = ctx->keys[b];
	ctx->keys[b] = key;
	ctx->n_keys++;
}

static void cache_remove(struct hsm_ctx *ctx, struct hsm_key *key)
{
	struct hsm_key **pp;

	if (ctx->n_buckets == 0)
		return;
	pp = &ctx->keys[hash_id(key->id, key->id_len) % ctx->n_buckets];
	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == key) {
			*pp = key->hnext;
			ctx->n_keys--;
			return;
		}
	}
}

void hsm__key_cache_free(struct hsm_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->n_buckets; i++) {
		struct hsm_key *k = ctx->keys[i], *next;
		for (; k != NULL; k = next) {
			next = k->hnext;
			free(k);
		}
	}
	free(ctx->keys);
	ctx->keys = NULL;
	ctx->n_buckets = ctx->n_keys = 0;
}

/*- lookup -*/

/* Up to `cap` objects of `cls` with CKA_ID = id (any id when id == NULL). */
static int find_objects(struct hsm_ctx *ctx, CK_OBJECT_CLASS cls,
			const uint8_t *id, size_t id_len,
			CK_OBJECT_HANDLE *hs, CK_ULONG cap, CK_ULONG *n,
			struct tdm_err *err)
{
	CK_ATTRIBUTE t[2] = {
		{ CKA_CLASS, &cls, sizeof cls },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_RV rv;

	rv = ctx->p11->C_FindObjectsInit(ctx->admin, t, id != NULL ? 2 : 1);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_FindObjectsInit", rv);
	rv = ctx->p11->C_FindObjects(ctx->admin, hs, cap, n);
	ctx->p11->C_FindObjectsFinal(ctx->admin);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_FindObjects", rv);
	return 0;
}

int hsm__key_load(struct hsm_ctx *ctx, CK_OBJECT_HANDLE priv,
		  CK_OBJECT_HANDLE pub, struct hsm_key **out,
		  struct tdm_err *err)
{
	struct hsm_key *k = tdm_calloc(1, sizeof *k);
	CK_ATTRIBUTE a[2];
	CK_BBOOL token = CK_TRUE;
	CK_RV rv;
	int rc;

	k->priv = priv;
	k->pub = pub;
	a[0] = (CK_ATTRIBUTE){ CKA_ID, k->id, sizeof k->id };
	a[1] = (CK_ATTRIBUTE){ CKA_TOKEN, &token, sizeof token };
	rv = ctx->p11->C_GetAttributeValue(ctx->admin, priv, a, 2);
	if (rv != CKR_OK) {
		free(k);
		return hsm__fail(err, "C_GetAttributeValue(CKA_ID)", rv);
	}
	k->id_len = a[0].ulValueLen;
	k->session_object = !token;
	tdm_hex_encode(k->id, k->id_len, k->id_hex);
	rc = describe(ctx, priv, &k->type, &k->bits, &k->algorithm, err);
	if (rc == 0 && k->algorithm == 0)
		rc = tdm_err_fail(err, TDM_EALGO,
				  "key type or curve maps to no DNSSEC algorithm");
	if (rc == 0)
		rc = hsm__key_set_algorithm(ctx, k, k->algorithm, err);
	if (rc != 0) {
		tdm_err_wrap(err, "key %s", k->id_hex);
		free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int hsm_key_find(struct hsm_ctx *ctx, const char *cka_id_hex,
		 struct hsm_key **out, struct tdm_err *err)
{
	uint8_t id[HSM__MAX_ID_LEN];
	size_t n;
	CK_OBJECT_HANDLE priv[2], pub[1];
	CK_ULONG np = 0, nq = 0;
	struct hsm_key *k;
	int rc;

	if (cka_id_hex[0] == '\0' || tdm_hex_decode(cka_id_hex, id, sizeof id, &n) != 0)
		return tdm_err_fail(err, TDM_EINVAL,
				    "key \"%s\": not a CKA_ID (1 to %d hex bytes)",
				    cka_id_hex, HSM__MAX_ID_LEN);
	pthread_mutex_lock(&ctx->lock);
	k = hsm__key_cache_get(ctx, id, n);
	if (k != NULL) {
		pthread_mutex_unlock(&ctx->lock);
		*out = k;
		return 0;
	}
	rc = find_objects(ctx, CKO_PRIVATE_KEY, id, n, priv, 2, &np, err);
	if (rc == 0 && np == 0)
		rc = tdm_err_fail(err, TDM_ENOKEY, "no private key with this CKA_ID");
	if (rc == 0)
		rc = find_objects(ctx, CKO_PUBLIC_KEY, id, n, pub, 1, &nq, err);
	if (rc == 0)
		rc = hsm__key_load(ctx, priv[0], nq ? pub[0] : CK_INVALID_HANDLE,
				   &k, err);
	if (rc == 0) {
		hsm__key_cache_add(ctx, k);
		tdm_log_debug("repository %s: key %s: algorithm %u, %u bits, %s object%s",
			      ctx->name, k->id_hex, k->algorithm, k->bits,
			      k->session_object ? "session" : "token",
			      nq ? "" : ", no public key");
	}
	pthread_mutex_unlock(&ctx->lock);
	if (rc != 0) {
		tdm_err_wrap(err, "repository %s: key %s", ctx->name, cka_id_hex);
		return rc;
	}
	*out = k;
	return 0;
}

int hsm_key_remove(struct hsm_ctx *ctx, struct hsm_key *key,
		   struct tdm_err *err)
{
	CK_RV rv = CKR_OK;
	int rc = 0;

	pthread_mutex_lock(&ctx->lock);
	if (key->sign_copy != CK_INVALID_HANDLE)
		ctx->p11->C_DestroyObject(ctx->admin, key->sign_copy);
	if (key->pub != CK_INVALID_HANDLE)
		rv = ctx->p11->C_DestroyObject(ctx->admin, key->pub);
	if (rv == CKR_OK)
		rv = ctx->p11->C_DestroyObject(ctx->admin, key->priv);
	if (rv != CKR_OK) {
		rc = hsm__fail(err, "C_DestroyObject", rv);
		tdm_err_wrap(err, "repository %s: key %s", ctx->name,
			     key->id_hex);
	}
	cache_remove(ctx, key);
	pthread_mutex_unlock(&ctx->lock);
	free(key);
	return rc;
}

int hsm_key_sign_with_session_copy(struct hsm_ctx *ctx, struct hsm_key *key,
				   struct tdm_err *err)
{
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE t = { CKA_TOKEN, &no, sizeof no };
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv;

	if (key->session_object || key->sign_copy != CK_INVALID_HANDLE)
		return 0;
	pthread_mutex_lock(&ctx->lock);
	rv = ctx->p11->C_CopyObject(ctx->admin, key->priv, &t, 1, &h);
	if (rv == CKR_OK)
		key->sign_copy = h;
	pthread_mutex_unlock(&ctx->lock);
	if (rv != CKR_OK) {
		hsm__fail(err, "C_CopyObject", rv);
		tdm_err_wrap(err, "repository %s: key %s: session copy", ctx->name,
			     key->id_hex);
		return TDM_EHSM;
	}
	return 0;
}

/*- listing -*/

static int find_all(struct hsm_ctx *ctx, CK_OBJECT_CLASS cls,
		    CK_OBJECT_HANDLE **hs, size_t *n, struct tdm_err *err)
{
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof cls };
	size_t cap = 256;
	CK_ULONG got;
	CK_RV rv;

	*hs = tdm_malloc(cap * sizeof **hs);
	*n = 0;
	rv = ctx->p11->C_FindObjectsInit(ctx->admin, &t, 1);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_FindObjectsInit", rv);
	for (;;) {
		if (cap - *n < 256) {
			cap *= 2;
			*hs = tdm_realloc(*hs, cap * sizeof **hs);
		}
		rv = ctx->p11->C_FindObjects(ctx->admin, *hs + *n, 256, &got);
		if (rv != CKR_OK)
			break;
		*n += got;
		if (got == 0)
			break;
	}
	ctx->p11->C_FindObjectsFinal(ctx->admin);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_FindObjects", rv);
	return 0;
}

/* Append the info of object h to list (merged by CKA_ID later). */
static int list_add(struct hsm_ctx *ctx, CK_OBJECT_HANDLE h, bool priv,
		    struct hsm_key_info **list, size_t *n, size_t *cap,
		    struct tdm_err *err)
{
	uint8_t id[HSM__MAX_ID_LEN];
	char label[65] = "", idhex[2 * HSM__MAX_ID_LEN + 1];
	CK_ATTRIBUTE a[1] = { { CKA_ID, id, sizeof id } };
	struct hsm_key_info *ki;
	CK_KEY_TYPE type;
	unsigned bits;
	uint8_t alg, *lv = NULL;
	size_t llen = 0;
	CK_RV rv;

	rv = ctx->p11->C_GetAttributeValue(ctx->admin, h, a, 1);
	/* A CKA_ID longer than 32 bytes gives CKR_BUFFER_TOO_SMALL: such
	 * objects are neither Tandem's nor OpenDNSSEC's; skip them. */
	if (rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_TYPE_INVALID)
		return 0;
	if (rv != CKR_OK)
		return hsm__fail(err, "C_GetAttributeValue", rv);
	if (a[0].ulValueLen == 0 || a[0].ulValueLen > HSM__MAX_ID_LEN)
		return 0;
	/* Any label, shown truncated to 64 bytes. */
	if (hsm__get_attr(ctx, h, CKA_LABEL, &lv, &llen, NULL) == 0) {
		if (llen >= sizeof label)
			llen = sizeof label - 1;
		memcpy(label, lv, llen);
		label[llen] = '\0';
		free(lv);
	}
	tdm_hex_encode(id, a[0].ulValueLen, idhex);
	/* An object we cannot describe is listed as algorithm 0. */
	if (describe(ctx, h, &type, &bits, &alg, NULL) != 0) {
		alg = 0;
		bits = 0;
	}
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*list = tdm_realloc(*list, *cap * sizeof **list);
	}
	ki = &(*list)[(*n)++];
	memset(ki, 0, sizeof *ki);
	snprintf(ki->cka_id, sizeof ki->cka_id, "%s", idhex);
	snprintf(ki->label, sizeof ki->label, "%s", label);
	ki->algorithm = alg;
	ki->bits = bits;
	if (priv)
		ki->has_private = true;
	else
		ki->has_public = true;
	return 0;
}

static int cmp_info(const void *a, const void *b)
{
	const struct hsm_key_info *x = a, *y = b;
	int c = strcmp(x->cka_id, y->cka_id);

	return c != 0 ? c : (int)y->has_private - (int)x->has_private;
}

int hsm_key_list(struct hsm_ctx *ctx, struct hsm_key_info **out, size_t *n,
		 struct tdm_err *err)
{
	CK_OBJECT_HANDLE *hs = NULL;
	struct hsm_key_info *list = NULL;
	size_t nh = 0, cap = 0, i, j;
	int pass, rc = 0;

	*n = 0;
	pthread_mutex_lock(&ctx->lock);
	for (pass = 0; pass < 2 && rc == 0; pass++) {
		rc = find_all(ctx, pass == 0 ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY,
			      &hs, &nh, err);
		for (i = 0; rc == 0 && i < nh; i++)
			rc = list_add(ctx, hs[i], pass == 0, &list, n, &cap, err);
		free(hs);
		hs = NULL;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (rc != 0) {
		free(list);
		*n = 0;
		tdm_err_wrap(err, "repository %s: listing keys", ctx->name);
		return rc;
	}
	/* One entry per object so far: sort by CKA_ID and merge the two
	 * halves of each pair (the private half sorts first: cmp_info). */
	if (*n > 1)
		qsort(list, *n, sizeof *list, cmp_info);
	for (i = 0, j = 0; i < *n; i++) {
		if (j > 0 && strcmp(list[j - 1].cka_id, list[i].cka_id) == 0) {
			list[j - 1].has_private |= list[i].has_private;
			list[j - 1].has_public |= list[i].has_public;
			continue;
		}
		list[j++] = list[i];
	}
	*n = j;
	*out = list;
	return 0;
}

const char *hsm_key_id(const struct hsm_key *key)
{
	return key->id_hex;
}

uint8_t hsm_key_algorithm(const struct hsm_key *key)
{
	return key->algorithm;
}
