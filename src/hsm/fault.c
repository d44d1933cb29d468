/*
 * Fault injection for tests: a wrapper around the module's
 * CK_FUNCTION_LIST whose C_Sign fails on the Nth call, once or for good.
 * It wraps a real module, as SQLite's test VFS wraps the default one, so
 * everything else the token does stays real.
 *
 * Armed by hsm_test_fault_sign() or by the environment variable
 *   TANDEM_HSM_FAULT=C_Sign:N[:persistent]
 * (read by hsm_ctx_open(), so a tandemd under test can be given a failing
 * HSM).  Only contexts opened while a fault is armed go through the
 * wrapper; the others call the module directly, so production pays
 * nothing.  The call counter is shared by every wrapped context of the
 * process, and all of them must use the same module.
 *
 * The wrapper still calls the real C_Sign before failing: a C_Sign that
 * never reached the token would leave its signing operation active, and
 * the next C_SignInit would answer CKR_OPERATION_ACTIVE, which no device
 * does after an error.
 */
#include "hsm/internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong fault_nth;        /* 0: disarmed */
static atomic_bool fault_persistent;
static atomic_ulong fault_rv = CKR_DEVICE_ERROR;
static atomic_ulong sign_calls;
static CK_C_Sign real_sign;

void hsm_test_fault_sign(unsigned long nth, bool persistent, unsigned long rv)
{
	atomic_store(&sign_calls, 0);
	atomic_store(&fault_persistent, persistent);
	atomic_store(&fault_rv, rv);
	atomic_store(&fault_nth, nth);
}

static CK_RV fault_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len,
			CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	unsigned long n = atomic_fetch_add(&sign_calls, 1) + 1;
	unsigned long nth = atomic_load(&fault_nth);
	CK_RV rv = real_sign(s, data, len, sig, sig_len);

	if (nth != 0 && (n == nth || (n > nth && atomic_load(&fault_persistent))))
		return atomic_load(&fault_rv);
	return rv;
}

/* TANDEM_HSM_FAULT=C_Sign:N[:persistent] */
static void arm_from_env(void)
{
	const char *v = getenv("TANDEM_HSM_FAULT");
	char *end;
	unsigned long n;

	if (v == NULL || strncmp(v, "C_Sign:", 7) != 0)
		return;
	n = strtoul(v + 7, &end, 10);
	if (n == 0)
		return;
	hsm_test_fault_sign(n, strcmp(end, ":persistent") == 0,
			    CKR_DEVICE_ERROR);
}

void hsm__fault_install(struct hsm_ctx *ctx)
{
	static pthread_once_t env_once = PTHREAD_ONCE_INIT;

	pthread_once(&env_once, arm_from_env);
	if (atomic_load(&fault_nth) == 0)
		return;
	ctx->fault_fl = *ctx->mod->fl;
	real_sign = ctx->mod->fl->C_Sign;
	ctx->fault_fl.C_Sign = fault_sign;
	ctx->p11 = &ctx->fault_fl;
}
