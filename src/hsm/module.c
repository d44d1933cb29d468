/*
 * Loading a PKCS#11 module, finding the token, logging in: hsm_ctx_open(),
 * hsm_ctx_close(), hsm_algorithm_supported().
 *
 * A module is loaded once per process and shared by every ctx that names
 * the same path, because C_Initialize and C_Finalize act on the whole
 * module: two repositories on one SoftHSM2 library must not finalize each
 * other.  The last hsm_ctx_close() of a module calls C_Finalize and
 * dlclose.
 *
 * Fork: PKCS#11 v2.40 §5.4 says a child "must" call C_Initialize before
 * using the module.  A pthread_atfork() handler bumps a generation counter
 * in the child; a ctx or module from an older generation belongs to the
 * parent.  The child calls hsm_ctx_open() again, which re-initialises the
 * module (SoftHSM2 2.6.1 answers CKR_CRYPTOKI_ALREADY_INITIALIZED unless
 * library.reset_on_fork is set; either is accepted).  hsm_ctx_close() of an
 * inherited ctx frees memory and makes no PKCS#11 call.
 */
#include "hsm/internal.h"

#include "common/log.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

unsigned long hsm__fork_generation;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hsm__module *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void) { pthread_mutex_lock(&registry_lock); }
static void atfork_parent(void) { pthread_mutex_unlock(&registry_lock); }
static void atfork_child(void)
{
	hsm__fork_generation++;
	pthread_mutex_unlock(&registry_lock);
}

static void atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int hsm__fail(struct tdm_err *err, const char *fn, CK_RV rv)
{
	tdm_err_set(err, "%s: %s", fn, hsm_ckr_name(rv));
	return TDM_EHSM;
}

/*- private: module registry -*/

static int module_init(struct hsm__module *m, struct tdm_err *err)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	memset(&args, 0, sizeof args);
	args.flags = CKF_OS_LOCKING_OK;
	rv = m->fl->C_Initialize(&args);
	/* Already initialised: by another library in this process, or by
	 * the parent before fork when the module does not reset itself. */
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		hsm__fail(err, "C_Initialize", rv);
		tdm_err_wrap(err, "module %s", m->path);
		return TDM_EHSM;
	}
	m->generation = hsm__fork_generation;
	return 0;
}

/* Called with registry_lock held. */
static int module_get(const char *path, struct hsm__module **out,
		      struct tdm_err *err)
{
	struct hsm__module *m;
	CK_C_GetFunctionList getfl;
	CK_RV rv;
	int rc;

	for (m = registry; m != NULL; m = m->next) {
		if (strcmp(m->path, path) != 0)
			continue;
		if (m->generation != hsm__fork_generation) {
			rc = module_init(m, err);
			if (rc != 0)
				return rc;
		}
		m->refs++;
		*out = m;
		return 0;
	}

	m = tdm_calloc(1, sizeof *m);
	m->path = tdm_strdup(path);
	/* RTLD_NODELETE: some modules leave threads or atexit handlers behind
	 * that crash once unmapped, and leak reports need the module's
	 * symbols after the last close. */
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (m->dl == NULL) {
		rc = tdm_err_fail(err, TDM_ENOENT, "module %s: cannot load: %s",
				  path, dlerror());
		goto fail;
	}
	*(void **)&getfl = dlsym(m->dl, "C_GetFunctionList");
	if (getfl == NULL) {
		rc = tdm_err_fail(err, TDM_EHSM,
				  "module %s: no C_GetFunctionList: not a PKCS#11 module",
				  path);
		goto fail;
	}
	rv = getfl(&m->fl);
	if (rv != CKR_OK) {
		hsm__fail(err, "C_GetFunctionList", rv);
		tdm_err_wrap(err, "module %s", path);
		rc = TDM_EHSM;
		goto fail;
	}
	rc = module_init(m, err);
	if (rc != 0)
		goto fail;
	m->refs = 1;
	m->next = registry;
	registry = m;
	*out = m;
	return 0;
fail:
	if (m->dl != NULL)
		dlclose(m->dl);
	free(m->path);
	free(m);
	return rc;
}

/* Called with registry_lock held. */
static void module_put(struct hsm__module *m)
{
	struct hsm__module **pp;

	if (--m->refs > 0)
		return;
	for (pp = &registry; *pp != m; pp = &(*pp)->next)
		;
	*pp = m->next;
	/* A module inherited from the parent and never re-initialised here
	 * is the parent's: leave its state alone. */
	if (m->generation == hsm__fork_generation)
		m->fl->C_Finalize(NULL);
	dlclose(m->dl);
	free(m->path);
	free(m);
}

/*- private: token, login, mechanisms -*/

static int find_slot(struct hsm_ctx *ctx, struct tdm_err *err)
{
	CK_FUNCTION_LIST_PTR p = ctx->p11;
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i;
	CK_TOKEN_INFO ti;
	char want[32];
	size_t len = strlen(ctx->label);
	CK_RV rv;

	if (len > sizeof want)
		return tdm_err_fail(err, TDM_ENOENT,
				    "token label \"%s\" is longer than 32 bytes",
				    ctx->label);
	memset(want, ' ', sizeof want);
	memcpy(want, ctx->label, len);

	rv = p->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_GetSlotList", rv);
	slots = tdm_calloc(n ? n : 1, sizeof *slots);
	rv = p->C_GetSlotList(CK_TRUE, slots, &n);
	if (rv != CKR_OK) {
		free(slots);
		return hsm__fail(err, "C_GetSlotList", rv);
	}
	for (i = 0; i < n; i++) {
		if (p->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (memcmp(ti.label, want, sizeof want) == 0) {
			ctx->slot = slots[i];
			free(slots);
			return 0;
		}
	}
	free(slots);
	return tdm_err_fail(err, TDM_ENOENT,
			    "no token labelled \"%s\" (%lu token%s present)",
			    ctx->label, (unsigned long)n, n == 1 ? "" : "s");
}

/*
 * SoftHSM2 2.6.1 reads its token directory at C_Initialize, and when
 * another process writes a token at that moment it can miss it ("no token
 * labelled").  When this ctx is the module's only user in the process, a
 * C_Finalize and C_Initialize make it look again; a few tries with a short
 * pause cover the race.  With other users the module stays as it is, and
 * tokens made after its C_Initialize stay unseen.
 */
static int find_slot_retry(struct hsm_ctx *ctx, struct tdm_err *err)
{
	unsigned attempt;
	int rc;

	for (attempt = 0;; attempt++) {
		rc = find_slot(ctx, err);
		if (rc != TDM_ENOENT || attempt == 3)
			return rc;
		pthread_mutex_lock(&registry_lock);
		if (ctx->mod->refs != 1) {
			pthread_mutex_unlock(&registry_lock);
			return rc;
		}
		ctx->mod->fl->C_Finalize(NULL);
		usleep(10000 * (attempt + 1));
		rc = module_init(ctx->mod, err);
		pthread_mutex_unlock(&registry_lock);
		if (rc != 0)
			return rc;
	}
}

static int cmp_mech(const void *a, const void *b)
{
	CK_MECHANISM_TYPE x = *(const CK_MECHANISM_TYPE *)a;
	CK_MECHANISM_TYPE y = *(const CK_MECHANISM_TYPE *)b;
	return x < y ? -1 : x > y;
}

static int load_mechs(struct hsm_ctx *ctx, struct tdm_err *err)
{
	CK_ULONG n = 0;
	CK_RV rv;

	rv = ctx->p11->C_GetMechanismList(ctx->slot, NULL, &n);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_GetMechanismList", rv);
	ctx->mechs = tdm_calloc(n ? n : 1, sizeof *ctx->mechs);
	rv = ctx->p11->C_GetMechanismList(ctx->slot, ctx->mechs, &n);
	if (rv != CKR_OK)
		return hsm__fail(err, "C_GetMechanismList", rv);
	ctx->n_mechs = n;
	qsort(ctx->mechs, n, sizeof *ctx->mechs, cmp_mech);
	return 0;
}

bool hsm__has_mech(const struct hsm_ctx *ctx, CK_MECHANISM_TYPE m)
{
	return bsearch(&m, ctx->mechs, ctx->n_mechs, sizeof m, cmp_mech) != NULL;
}

/* TANDEM_PIN_<NAME>: the repository name upper-cased, other bytes '_'. */
static const char *pin_from_env(const char *name)
{
	char var[128];
	size_t i, n = strlen("TANDEM_PIN_");

	memcpy(var, "TANDEM_PIN_", n);
	for (i = 0; name[i] != '\0' && n + 1 < sizeof var; i++, n++)
		var[n] = isalnum((unsigned char)name[i])
			? (char)toupper((unsigned char)name[i]) : '_';
	var[n] = '\0';
	return getenv(var);
}

/*- public -*/

int hsm_ctx_open(struct hsm_ctx **out, const char *repo_name,
		 const char *module_path, const char *token_label,
		 const char *pin, struct tdm_err *err)
{
	struct hsm_ctx *ctx;
	CK_RV rv;
	int rc;

	pthread_once(&atfork_once, atfork_register);
	if (pin == NULL)
		pin = pin_from_env(repo_name);
	if (pin == NULL)
		return tdm_err_fail(err, TDM_EINVAL,
				    "repository %s: no PIN in conf.xml and no TANDEM_PIN_ variable",
				    repo_name);

	ctx = tdm_calloc(1, sizeof *ctx);
	ctx->name = tdm_strdup(repo_name);
	ctx->label = tdm_strdup(token_label);
	ctx->generation = hsm__fork_generation;
	ctx->admin = CK_INVALID_HANDLE;
	ctx->kwp_mech = CKM_AES_KEY_WRAP_PAD;
	ctx->kek = CK_INVALID_HANDLE;
	pthread_mutex_init(&ctx->lock, NULL);
	if (hsm__threads_init(ctx) != 0) {
		pthread_mutex_destroy(&ctx->lock);
		free(ctx->name);
		free(ctx->label);
		free(ctx);
		return tdm_err_fail(err, TDM_EAGAIN,
				    "repository %s: out of thread keys", repo_name);
	}

	pthread_mutex_lock(&registry_lock);
	rc = module_get(module_path, &ctx->mod, err);
	pthread_mutex_unlock(&registry_lock);
	if (rc != 0) {
		ctx->mod = NULL;
		goto fail;
	}
	ctx->p11 = ctx->mod->fl;
	hsm__fault_install(ctx);

	rc = find_slot_retry(ctx, err);
	if (rc != 0)
		goto fail;
	rv = ctx->p11->C_OpenSession(ctx->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				     NULL, NULL, &ctx->admin);
	if (rv != CKR_OK) {
		ctx->admin = CK_INVALID_HANDLE;
		rc = hsm__fail(err, "C_OpenSession", rv);
		goto fail;
	}
	rv = ctx->p11->C_Login(ctx->admin, CKU_USER, (CK_UTF8CHAR_PTR)pin,
			       strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		rc = hsm__fail(err, "C_Login", rv);
		goto fail;
	}
	rc = load_mechs(ctx, err);
	if (rc != 0)
		goto fail;
	tdm_log_debug("repository %s: token \"%s\" in slot %lu of %s, %zu mechanisms",
		      repo_name, token_label, (unsigned long)ctx->slot,
		      module_path, ctx->n_mechs);
	*out = ctx;
	return 0;
fail:
	tdm_err_wrap(err, "repository %s", repo_name);
	hsm_ctx_close(ctx);
	return rc;
}

void hsm_ctx_close(struct hsm_ctx *ctx)
{
	bool own;

	if (ctx == NULL)
		return;
	own = ctx->generation == hsm__fork_generation;
	hsm__threads_close(ctx, own);
	pthread_key_delete(ctx->tkey);
	if (own && ctx->admin != CK_INVALID_HANDLE)
		ctx->p11->C_CloseSession(ctx->admin);
	hsm__key_cache_free(ctx);
	if (ctx->mod != NULL) {
		pthread_mutex_lock(&registry_lock);
		module_put(ctx->mod);
		pthread_mutex_unlock(&registry_lock);
	}
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->mechs);
	free(ctx->name);
	free(ctx->label);
	free(ctx);
}

const char *hsm_ctx_name(const struct hsm_ctx *ctx)
{
	return ctx->name;
}

static void copy_padded(char *dst, size_t cap, const CK_UTF8CHAR *src,
			size_t n)
{
	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int hsm_ctx_token_info(struct hsm_ctx *ctx, struct hsm_token_info *out,
		       struct tdm_err *err)
{
	CK_TOKEN_INFO ti;
	CK_INFO mi;
	CK_RV rv;

	memset(out, 0, sizeof *out);
	rv = ctx->p11->C_GetTokenInfo(ctx->slot, &ti);
	if (rv == CKR_OK)
		rv = ctx->p11->C_GetInfo(&mi);
	if (rv != CKR_OK) {
		hsm__fail(err, "C_GetTokenInfo", rv);
		tdm_err_wrap(err, "repository %s", ctx->name);
		return TDM_EHSM;
	}
	out->slot = ctx->slot;
	copy_padded(out->label, sizeof out->label, ti.label, sizeof ti.label);
	copy_padded(out->manufacturer, sizeof out->manufacturer,
		    ti.manufacturerID, sizeof ti.manufacturerID);
	copy_padded(out->model, sizeof out->model, ti.model, sizeof ti.model);
	copy_padded(out->serial, sizeof out->serial, ti.serialNumber,
		    sizeof ti.serialNumber);
	copy_padded(out->module_description, sizeof out->module_description,
		    mi.libraryDescription, sizeof mi.libraryDescription);
	snprintf(out->module, sizeof out->module, "%s", ctx->mod->path);
	out->module_version_major = mi.libraryVersion.major;
	out->module_version_minor = mi.libraryVersion.minor;
	return 0;
}

bool hsm_algorithm_supported(struct hsm_ctx *ctx, uint8_t algorithm)
{
	switch (algorithm) {
	case HSM_ALG_RSASHA256:
		return hsm__has_mech(ctx, CKM_RSA_PKCS_KEY_PAIR_GEN) &&
		       (hsm__has_mech(ctx, CKM_SHA256_RSA_PKCS) ||
			hsm__has_mech(ctx, CKM_RSA_PKCS));
	case HSM_ALG_RSASHA512:
		return hsm__has_mech(ctx, CKM_RSA_PKCS_KEY_PAIR_GEN) &&
		       (hsm__has_mech(ctx, CKM_SHA512_RSA_PKCS) ||
			hsm__has_mech(ctx, CKM_RSA_PKCS));
	case HSM_ALG_ECDSAP256SHA256:
	case HSM_ALG_ECDSAP384SHA384:
		return hsm__has_mech(ctx, CKM_EC_KEY_PAIR_GEN) &&
		       hsm__has_mech(ctx, CKM_ECDSA);
	case HSM_ALG_ED25519:
		return hsm__has_mech(ctx, CKM_EC_EDWARDS_KEY_PAIR_GEN) &&
		       hsm__has_mech(ctx, CKM_EDDSA);
	default:
		return false;
	}
}
