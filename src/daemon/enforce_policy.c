/*
 * The enforcer's policy cache: a POLICY_PUT blob (one <KASP> document with
 * one policy, common/kasp_split.c) parsed once and turned into a struct
 * enforcer_policy, kept until a POLICY_PUT or POLICY_DEL applies.  At
 * 50,000 zones sharing a policy, a run parses it once, not per zone.
 */
#include "daemon/daemon_int.h"
#include "daemon/enforce_int.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

static void policy_free(struct enforce_policy *p)
{
	enforcer_policy_close(&p->pol);
	tdm_kasp_free(p->kasp);
	free(p->name);
}

void enforce_policy_flush(struct enforce *e)
{
	for (size_t i = 0; i < e->n_policies; i++)
		policy_free(&e->policies[i]);
	free(e->policies);
	e->policies = NULL;
	e->n_policies = 0;
}

const struct enforce_policy *enforce_policy_get(struct enforce *e, const char *name,
						struct tdm_err *err)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	struct tdm_kasp *kasp = NULL;
	for (size_t i = 0; i < e->n_policies; i++)
		if (!strcmp(e->policies[i].name, name))
			return &e->policies[i];
	int rc = ledger_policy_get(e->d->ledger, name, &blob, &len, err);
	if (rc == TDM_ENOENT) {
		tdm_err_fail(err, rc, "policy %s: no such policy", name);
		return NULL;
	}
	if (rc != 0)
		return NULL;
	if (len == 0) {
		free(blob);
		tdm_err_fail(err, TDM_EINVAL, "policy %s: holds no KASP policy (import kasp.xml)", name);
		return NULL;
	}
	rc = tdm_kasp_load_buffer(name, blob, len, &kasp, err);
	free(blob);
	if (rc != 0)
		return NULL;
	const struct tdm_policy *tp = tdm_kasp_policy(kasp, name);
	if (tp == NULL) {
		tdm_kasp_free(kasp);
		tdm_err_fail(err, TDM_EINVAL, "policy %s: the stored document names another policy",
			     name);
		return NULL;
	}
	e->policies = tdm_realloc(e->policies, (e->n_policies + 1) * sizeof *e->policies);
	struct enforce_policy *p = &e->policies[e->n_policies];
	memset(p, 0, sizeof *p);
	rc = enforcer_policy_init(&p->pol, tp, err);
	if (rc != 0) {
		tdm_kasp_free(kasp);
		return NULL;
	}
	p->name = tdm_strdup(name);
	p->kasp = kasp;
	e->n_policies++;
	return p;
}
