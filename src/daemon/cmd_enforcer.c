/*
 * The ods-enforcer 2.x grammar in tandemd: policies, zones, DS events,
 * rollover requests, enforce / signconf / queue / flush / time leap.
 * (zonelist and update: cmd_zonelist.c; key list/export/purge/generate,
 * backup, rollover list, pool list: cmd_keys.c.)
 *
 * Changes go through the writer as ledger commands; what the enforcer must
 * decide afterwards goes to the enforcer service as a job (enforce.h).
 * Texts follow ods-enforcer where scripts are known to parse them; --json
 * gives every answer as one JSON document.
 */
#define _GNU_SOURCE
#include "daemon/daemon_int.h"
#include "daemon/enforce.h"
#include "daemon/control.h"
#include "daemon/writer.h"
#include "common/hex.h"
#include "common/json.h"
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOPTS(a) (sizeof(a) / sizeof((a)[0]))

static void reply_fmt(struct daemon *d, struct control_conn *conn, int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void reply_fmt(struct daemon *d, struct control_conn *conn, int status, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	daemon__reply(d, conn, status, s ? s : "");
	free(s);
}

static bool parse(struct daemon *d, struct control_conn *conn, const struct control_request *req,
		  int argi, struct cmd_opt *o, size_t n)
{
	char msg[256];
	if (daemon__args(req, argi, o, n, msg, sizeof msg) != 0) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, msg);
		return false;
	}
	return true;
}

/* A zone name as the ledger keeps it (daemon__zone_name_trim), malloc'd. */
static char *zone_name(const char *s)
{
	char *z = tdm_strdup(s);
	daemon__zone_name_trim(z);
	return z;
}

static bool policy_usable(struct daemon *d, const char *name)
{
	struct tdm_err err = { "" };
	return enforce_policy_get(d->enforce, name, &err) != NULL;
}

/*- a request waiting for ledger commits and enforcer jobs -------------------*/

struct pend {
	struct daemon *d;
	struct control_conn *conn;
	size_t waiting;
	int status;
	char *text;
	size_t len;
	char **zones;         /* zones to enforce after the commits */
	size_t n_zones;
	bool signconf;
	void (*after)(struct pend *p);  /* all commits done */
	void *data;
};

static void pend_say(struct pend *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pend_say(struct pend *p, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	size_t l = strlen(s);
	p->text = tdm_realloc(p->text, p->len + l + 1);
	memcpy(p->text + p->len, s, l + 1);
	p->len += l;
	free(s);
}

static void pend_zone(struct pend *p, const char *zone)
{
	p->zones = tdm_realloc(p->zones, (p->n_zones + 1) * sizeof *p->zones);
	p->zones[p->n_zones++] = tdm_strdup(zone);
}

static struct pend *pend_new(struct daemon *d, struct control_conn *conn)
{
	struct pend *p = tdm_calloc(1, sizeof *p);
	p->d = d;
	p->conn = conn;
	p->waiting = 1; /* the submitter's own reference, dropped by pend_release */
	return p;
}

static void pend_finish(struct pend *p)
{
	if (p->after) {
		p->after(p);
		return;
	}
	if (p->n_zones > 0 && p->status == CONTROL_EXIT_OK) {
		/* Enforce at once (keys, signconf, signer), after replying:
		 * the client waits for the commit, not for the enforcer. */
		struct enforce_request r = { .op = ENFORCE_OP_RUN, .zones = p->zones,
					     .n_zones = p->n_zones, .signconf = p->signconf };
		p->zones = NULL;
		p->n_zones = 0;
		enforce_submit(p->d->enforce, &r, NULL, NULL);
	}
	if (daemon__json(p->conn)) {
		/* Scripts: {"status": N, "lines": ["Zone x added successfully", ...]} */
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_int(&j, "status", p->status);
		tdm_json_key(&j, "lines");
		tdm_json_array_begin(&j);
		for (char *line = p->text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			tdm_json_string(&j, line);
		}
		tdm_json_array_end(&j);
		tdm_json_object_end(&j);
		char *body = daemon__sprintf("%s\n", tdm_json_text(&j));
		daemon__reply(p->d, p->conn, p->status, body);
		free(body);
		tdm_json_free(&j);
	} else {
		daemon__reply(p->d, p->conn, p->status, p->text ? p->text : "");
	}
	for (size_t i = 0; i < p->n_zones; i++)
		free(p->zones[i]);
	free(p->zones);
	free(p->text);
	free(p);
}

static void pend_release(struct pend *p)
{
	if (--p->waiting == 0)
		pend_finish(p);
}

static void on_commit(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct pend *p = data;
	if (status != 0) {
		pend_say(p, "error: %s\n", msg);
		p->status = CONTROL_EXIT_UNAVAILABLE;
	} else if (res->status != LEDGER_OK && res->status != LEDGER_DUPLICATE) {
		pend_say(p, "error: %s\n", res->msg);
		if (p->status == CONTROL_EXIT_OK)
			p->status = CONTROL_EXIT_FAIL;
	}
	pend_release(p);
}

static bool pend_submit(struct pend *p, struct ledger_cmd *cmd)
{
	struct tdm_err err = { "" };
	if (writer_submit(p->d->writer, cmd, on_commit, p, &err) != 0) {
		pend_say(p, "error: %s\n", err.msg);
		p->status = CONTROL_EXIT_UNAVAILABLE;
		return false;
	}
	p->waiting++;
	return true;
}

/*- policy ------------------------------------------------------------------*/

void daemon__cmd_policy_list(struct daemon *d, struct control_conn *conn,
			     const struct control_request *req, int argi)
{
	struct ledger_policy *pl = NULL;
	size_t n = 0;
	struct tdm_err err = { "" };
	struct cmd_opt o[] = { { 'v', "verbose", false, NULL, false } };
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	if (ledger_policy_list(d->ledger, &pl, &n, &err) != 0) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	struct tdm_json j;
	char *text = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&text, &tl);
	tdm_json_init(&j);
	tdm_json_array_begin(&j);
	fprintf(f, "Policies:\n%-31s %-8s %s\n", "Policy:", "Zones:", "Description:");
	for (size_t i = 0; i < n; i++) {
		struct tdm_kasp *k = NULL;
		struct tdm_err e2 = { "" };
		const char *desc = "";
		if (pl[i].len > 0 && tdm_kasp_load_buffer(pl[i].name, pl[i].blob, pl[i].len, &k, &e2) == 0 &&
		    k->n_policies > 0)
			desc = k->policies[0].description;
		fprintf(f, "%-31s %-8llu %s\n", pl[i].name, (unsigned long long)pl[i].zones, desc);
		tdm_json_object_begin(&j);
		tdm_json_kv_string(&j, "policy", pl[i].name);
		tdm_json_kv_string(&j, "description", desc);
		tdm_json_kv_uint(&j, "zones", pl[i].zones);
		tdm_json_object_end(&j);
		tdm_kasp_free(k);
	}
	tdm_json_array_end(&j);
	fclose(f);
	if (daemon__json(conn))
		reply_fmt(d, conn, CONTROL_EXIT_OK, "%s\n", tdm_json_text(&j));
	else
		daemon__reply(d, conn, CONTROL_EXIT_OK, text);
	tdm_json_free(&j);
	free(text);
	ledger_policy_list_free(pl, n);
}

void daemon__cmd_policy_export(struct daemon *d, struct control_conn *conn,
			       const struct control_request *req, int argi)
{
	struct cmd_opt o[] = { { 'p', "policy", true, NULL, false }, { 'a', "all", false, NULL, false } };
	struct ledger_policy *pl = NULL;
	size_t n = 0, k = 0;
	struct tdm_err err = { "" };
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	if (o[0].set == o[1].set) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: policy export (-p POLICY | -a)\n");
		return;
	}
	if (ledger_policy_list(d->ledger, &pl, &n, &err) != 0) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	const char **docs = tdm_calloc(n + 1, sizeof *docs);
	size_t *lens = tdm_calloc(n + 1, sizeof *lens);
	for (size_t i = 0; i < n; i++) {
		if (pl[i].len == 0 || (o[0].set && strcmp(pl[i].name, o[0].val) != 0))
			continue;
		docs[k] = (const char *)pl[i].blob;
		lens[k++] = pl[i].len;
	}
	if (o[0].set && k == 0) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: policy %s: no such policy\n", o[0].val);
	} else {
		char *x = tdm_kasp_join(docs, lens, k);
		daemon__reply(d, conn, CONTROL_EXIT_OK, x);
		free(x);
	}
	free(docs);
	free(lens);
	ledger_policy_list_free(pl, n);
}

struct policy_import {
	struct tdm_kasp_doc *docs;
	size_t n;
	char **names;       /* changed policies: their zones are enforced afterwards */
	size_t n_names;
};

/* The zones of every changed policy are enforced at once, signconfs
 * rewritten (a policy change takes effect now, not at the next run); then
 * the import's state is freed.  @p run false: only free. */
static void policy_import_end(struct pend *p, struct policy_import *pi, bool run)
{
	for (size_t i = 0; run && i < pi->n_names; i++) {
		char **names = NULL;
		size_t nz = 0;
		struct tdm_err err = { "" };
		if (ledger_zone_names(p->d->ledger, pi->names[i], &names, &nz, &err) == 0 && nz > 0) {
			struct enforce_request r = { .op = ENFORCE_OP_RUN, .zones = names,
						     .n_zones = nz, .signconf = true };
			enforce_submit(p->d->enforce, &r, NULL, NULL);
		} else {
			ledger_names_free(names, nz);
		}
	}
	tdm_kasp_docs_free(pi->docs, pi->n);
	for (size_t i = 0; i < pi->n_names; i++)
		free(pi->names[i]);
	free(pi->names);
	free(pi);
}

static void policy_import_after(struct pend *p)
{
	struct policy_import *pi = p->data;
	if (p->status == CONTROL_EXIT_OK)
		pend_say(p, "Policy import done: %zu polic%s, %zu changed\n", pi->n,
			 pi->n == 1 ? "y" : "ies", pi->n_names);
	policy_import_end(p, pi, p->status == CONTROL_EXIT_OK);
	p->data = NULL;
	p->after = NULL;
	pend_finish(p);
}

/* Shared by `policy import` and `update kasp|all`: @p p gets the commits. */
int daemon__policy_import(struct daemon *d, struct pend *p, const char *buf, size_t len,
			  bool remove_missing);
int daemon__policy_import(struct daemon *d, struct pend *p, const char *buf, size_t len,
			  bool remove_missing)
{
	struct tdm_err err = { "" };
	struct tdm_kasp_doc *docs = NULL;
	size_t n = 0;
	if (tdm_kasp_split("kasp.xml", buf, len, &docs, &n, &err) != 0) {
		pend_say(p, "error: %s\n", err.msg);
		p->status = CONTROL_EXIT_FAIL;
		return TDM_EINVAL;
	}
	/* Every policy must be usable before any is stored. */
	for (size_t i = 0; i < n; i++) {
		struct tdm_kasp *k = NULL;
		struct enforcer_policy ep;
		int rc = tdm_kasp_load_buffer(docs[i].name, docs[i].xml, docs[i].len, &k, &err);
		if (rc == 0) {
			rc = enforcer_policy_init(&ep, &k->policies[0], &err);
			if (rc == 0)
				enforcer_policy_close(&ep);
		}
		tdm_kasp_free(k);
		if (rc != 0) {
			pend_say(p, "error: kasp.xml: policy %s: %s (nothing imported)\n", docs[i].name, err.msg);
			p->status = CONTROL_EXIT_FAIL;
			tdm_kasp_docs_free(docs, n);
			return TDM_EINVAL;
		}
	}
	struct policy_import *pi = tdm_calloc(1, sizeof *pi);
	pi->docs = docs;
	pi->n = n;
	for (size_t i = 0; i < n; i++) {
		uint8_t *old = NULL;
		size_t olen = 0;
		struct tdm_err e2 = { "" };
		int rc = ledger_policy_get(d->ledger, docs[i].name, &old, &olen, &e2);
		bool same = rc == 0 && olen == docs[i].len && memcmp(old, docs[i].xml, olen) == 0;
		free(old);
		if (same) {
			pend_say(p, "Policy %s unchanged\n", docs[i].name);
			continue;
		}
		struct ledger_cmd cmd = { .type = LEDGER_CMD_POLICY_PUT };
		cmd.policy.name = ledger_str(docs[i].name);
		cmd.policy.blob = (struct ledger_bytes){ (const uint8_t *)docs[i].xml, docs[i].len };
		if (!pend_submit(p, &cmd))
			break;
		pend_say(p, "%s policy %s successfully\n", rc == 0 ? "Updated" : "Created", docs[i].name);
		pi->names = tdm_realloc(pi->names, (pi->n_names + 1) * sizeof *pi->names);
		pi->names[pi->n_names++] = tdm_strdup(docs[i].name);
	}
	if (remove_missing) {
		struct ledger_policy *pl = NULL;
		size_t np = 0;
		if (ledger_policy_list(d->ledger, &pl, &np, &err) == 0) {
			for (size_t i = 0; i < np; i++) {
				bool keep = false;
				for (size_t k = 0; k < n && !keep; k++)
					keep = !strcmp(docs[k].name, pl[i].name);
				if (keep || pl[i].len == 0)
					continue;
				struct ledger_cmd cmd = { .type = LEDGER_CMD_POLICY_DEL };
				cmd.policy.name = ledger_str(pl[i].name);
				pend_submit(p, &cmd);
				pend_say(p, "Deleted policy %s\n", pl[i].name);
			}
			ledger_policy_list_free(pl, np);
		}
	}
	p->data = pi;
	p->after = policy_import_after;
	return 0;
}

void daemon__cmd_policy_import(struct daemon *d, struct control_conn *conn,
			       const struct control_request *req, int argi)
{
	struct cmd_opt o[] = { { 'r', "remove-missing-policies", false, NULL, false } };
	char *buf = NULL;
	size_t len = 0;
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	if (daemon__content(req, argi, "--content", &buf, &len) != 0) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE,
			      "error: policy import: no kasp.xml content (use tandem-enforcer, which reads the PolicyFile of conf.xml)\n");
		return;
	}
	struct pend *p = pend_new(d, conn);
	daemon__policy_import(d, p, buf, len, o[0].set);
	free(buf);
	if (p->status != CONTROL_EXIT_OK && p->after == NULL) {
		pend_release(p);
		return;
	}
	pend_release(p);
}

void daemon__cmd_policy_purge(struct daemon *d, struct control_conn *conn,
			      const struct control_request *req, int argi)
{
	struct ledger_policy *pl = NULL;
	size_t n = 0;
	struct tdm_err err = { "" };
	(void)req;
	(void)argi;
	if (ledger_policy_list(d->ledger, &pl, &n, &err) != 0) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	struct pend *p = pend_new(d, conn);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (pl[i].zones > 0)
			continue;
		struct ledger_cmd cmd = { .type = LEDGER_CMD_POLICY_DEL };
		cmd.policy.name = ledger_str(pl[i].name);
		if (pend_submit(p, &cmd)) {
			pend_say(p, "Purging policy %s\n", pl[i].name);
			k++;
		}
	}
	if (k == 0)
		pend_say(p, "No policies to purge\n");
	ledger_policy_list_free(pl, n);
	pend_release(p);
}

static void job_reply(void *arg, int status, const char *report)
{
	struct pend *p = arg;
	p->status = status;
	pend_say(p, "%s", report);
	pend_release(p);
}

void daemon__cmd_policy_resalt(struct daemon *d, struct control_conn *conn,
			       const struct control_request *req, int argi)
{
	struct enforce_request r = { .op = ENFORCE_OP_RUN, .all = true };
	(void)req;
	(void)argi;
	/* A run gives every NSEC3 zone whose Resalt is over a new salt. */
	enforce_submit(d->enforce, &r, job_reply, pend_new(d, conn));
}

/*- zones ---------------------------------------------------------------------*/

void daemon__cmd_zone_list(struct daemon *d, struct control_conn *conn,
			   const struct control_request *req, int argi)
{
	char **names = NULL;
	size_t n = 0;
	struct tdm_err err = { "" };
	(void)req;
	(void)argi;
	if (ledger_zone_names(d->ledger, NULL, &names, &n, &err) != 0) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: %s\n", err.msg);
		return;
	}
	char *text = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&text, &tl);
	struct tdm_json j;
	tdm_json_init(&j);
	tdm_json_array_begin(&j);
	if (n == 0)
		fprintf(f, "No zones in database.\n");
	else
		fprintf(f, "Zones:\n%-31s %-13s %-25s %s\n", "Zone:", "Policy:", "Next change:",
			"Signer Configuration:");
	for (size_t i = 0; i < n; i++) {
		struct ledger_zone_state st;
		if (ledger_zone_state_get(d->ledger, names[i], &st, &err) != 0)
			continue;
		char when[32] = "as soon as possible";
		if (st.next_due == UINT64_MAX)
			snprintf(when, sizeof when, "-");
		else if (st.next_due > 0)
			tdm_time_format((int64_t)st.next_due, when, sizeof when);
		char *sc = enforce_signconf_path(d->enforce, st.name, st.signconf);
		fprintf(f, "%-31s %-13s %-25s %s\n", st.name, st.policy, when, sc);
		tdm_json_object_begin(&j);
		tdm_json_kv_string(&j, "zone", st.name);
		tdm_json_kv_string(&j, "policy", st.policy);
		tdm_json_kv_string(&j, "next_change", st.next_due == UINT64_MAX ? NULL : when);
		tdm_json_kv_bool(&j, "enforced", st.next_due != 0);
		tdm_json_kv_uint(&j, "keys", st.nkeys);
		tdm_json_kv_string(&j, "signconf", sc);
		tdm_json_object_end(&j);
		free(sc);
		ledger_zone_state_clear(&st);
	}
	tdm_json_array_end(&j);
	fclose(f);
	if (daemon__json(conn))
		reply_fmt(d, conn, CONTROL_EXIT_OK, "%s\n", tdm_json_text(&j));
	else
		daemon__reply(d, conn, CONTROL_EXIT_OK, text);
	tdm_json_free(&j);
	free(text);
	ledger_names_free(names, n);
}

static bool zone_exists(struct daemon *d, const char *zone)
{
	struct ledger_zone_state st;
	struct tdm_err err = { "" };
	if (ledger_zone_state_get(d->ledger, zone, &st, &err) != 0)
		return false;
	ledger_zone_state_clear(&st);
	return true;
}

void daemon__cmd_zone_add(struct daemon *d, struct control_conn *conn,
			  const struct control_request *req, int argi)
{
	struct cmd_opt o[] = {
		{ 'z', "zone", true, NULL, false }, { 'p', "policy", true, NULL, false },
		{ 's', "signerconf", true, NULL, false }, { 'j', "in-type", true, NULL, false },
		{ 'i', "input", true, NULL, false }, { 'q', "out-type", true, NULL, false },
		{ 'o', "output", true, NULL, false }, { 'u', "xml", false, NULL, false },
		{ 'x', "suppress-xml", false, NULL, false },
	};
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	if (!o[0].set || o[0].val[0] == '\0') {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE,
			      "usage: zone add -z ZONE [-p POLICY] [-s SIGNCONF] [-j File|DNS] [-i INPUT] [-q File|DNS] [-o OUTPUT] [-u]\n");
		return;
	}
	char *zone = zone_name(o[0].val);
	const char *policy = o[1].set ? o[1].val : "default";
	const char *dir = d->cfg->data_dir;
	/* Without -s the ledger keeps "" and each leader writes the signconf
	 * under its own <DataDirectory> (enforce_signconf_path). */
	char *sc = tdm_strdup(o[2].set ? o[2].val : "");
	char *in = o[4].set ? tdm_strdup(o[4].val) : daemon__sprintf("%s/unsigned/%s", dir, zone);
	char *out = o[6].set ? tdm_strdup(o[6].val) : daemon__sprintf("%s/signed/%s", dir, zone);
	const char *jt = o[3].set ? o[3].val : "File", *qt = o[5].set ? o[5].val : "File";
	if (strcmp(jt, "File") && strcmp(jt, "DNS")) {
		reply_fmt(d, conn, CONTROL_EXIT_USAGE, "error: zone add: input type %.40s is neither File nor DNS\n", jt);
	} else if (strcmp(qt, "File") && strcmp(qt, "DNS")) {
		reply_fmt(d, conn, CONTROL_EXIT_USAGE, "error: zone add: output type %.40s is neither File nor DNS\n", qt);
	} else if (!policy_usable(d, policy)) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: zone add: policy %s not found (import kasp.xml first)\n", policy);
	} else if (zone_exists(d, zone)) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: zone add: zone %s already exists\n", zone);
	} else {
		struct pend *p = pend_new(d, conn);
		struct ledger_cmd cmd = { .type = LEDGER_CMD_ZONE_ADD };
		cmd.zone.name = ledger_str(zone);
		cmd.zone.policy = ledger_str(policy);
		cmd.zone.in_type = ledger_str(jt);
		cmd.zone.in_uri = ledger_str(in);
		cmd.zone.out_type = ledger_str(qt);
		cmd.zone.out_uri = ledger_str(out);
		cmd.zone.signconf = ledger_str(sc);
		if (pend_submit(p, &cmd)) {
			pend_say(p, "Zone %s added successfully\n", zone);
			pend_zone(p, zone);
			p->signconf = true;
		}
		pend_release(p);
	}
	free(zone);
	free(sc);
	free(in);
	free(out);
}

void daemon__cmd_zone_delete(struct daemon *d, struct control_conn *conn,
			     const struct control_request *req, int argi)
{
	struct cmd_opt o[] = { { 'z', "zone", true, NULL, false }, { 'a', "all", false, NULL, false },
			       { 'u', "xml", false, NULL, false } };
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	if (o[0].set == o[1].set) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: zone delete (-z ZONE | -a) [-u]\n");
		return;
	}
	struct pend *p = pend_new(d, conn);
	if (o[0].set) {
		char *zone = zone_name(o[0].val);
		if (!zone_exists(d, zone)) {
			pend_say(p, "error: zone delete: zone %s not found\n", zone);
			p->status = CONTROL_EXIT_FAIL;
		} else {
			struct ledger_cmd cmd = { .type = LEDGER_CMD_ZONE_DEL };
			cmd.zone.name = ledger_str(zone);
			if (pend_submit(p, &cmd))
				pend_say(p, "Deleted zone %s successfully\n", zone);
		}
		free(zone);
	} else {
		char **names = NULL;
		size_t n = 0;
		struct tdm_err err = { "" };
		if (ledger_zone_names(d->ledger, NULL, &names, &n, &err) == 0) {
			for (size_t i = 0; i < n; i++) {
				struct ledger_cmd cmd = { .type = LEDGER_CMD_ZONE_DEL };
				cmd.zone.name = ledger_str(names[i]);
				if (!pend_submit(p, &cmd))
					break;
			}
			pend_say(p, "Deleted %zu zone%s\n", n, n == 1 ? "" : "s");
			ledger_names_free(names, n);
		}
	}
	pend_release(p);
}

void daemon__cmd_zone_set_policy(struct daemon *d, struct control_conn *conn,
				 const struct control_request *req, int argi)
{
	struct cmd_opt o[] = { { 'z', "zone", true, NULL, false }, { 'p', "policy", true, NULL, false },
			       { 'u', "xml", false, NULL, false } };
	struct ledger_zone_state st;
	struct tdm_err err = { "" };
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	if (!o[0].set || !o[1].set) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: zone set-policy -z ZONE -p POLICY [-u]\n");
		return;
	}
	char *zone = zone_name(o[0].val);
	if (ledger_zone_state_get(d->ledger, zone, &st, &err) != 0) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: zone set-policy: zone %s not found\n", zone);
		free(zone);
		return;
	}
	if (!policy_usable(d, o[1].val)) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: zone set-policy: policy %s not found\n", o[1].val);
	} else {
		struct ledger_zone *zl = NULL;
		size_t nz = 0;
		struct pend *p = pend_new(d, conn);
		/* ZONE_SET carries every field: take the others from the ledger. */
		if (ledger_zone_list(d->ledger, &zl, &nz, &err) == 0) {
			for (size_t i = 0; i < nz; i++) {
				if (strcmp(zl[i].name, zone) != 0)
					continue;
				struct ledger_cmd cmd = { .type = LEDGER_CMD_ZONE_SET };
				cmd.zone.name = ledger_str(zone);
				cmd.zone.policy = ledger_str(o[1].val);
				cmd.zone.in_type = ledger_str(zl[i].in_type);
				cmd.zone.in_uri = ledger_str(zl[i].in_uri);
				cmd.zone.out_type = ledger_str(zl[i].out_type);
				cmd.zone.out_uri = ledger_str(zl[i].out_uri);
				cmd.zone.signconf = ledger_str(zl[i].signconf);
				if (pend_submit(p, &cmd)) {
					pend_say(p, "Zone %s now has policy %s\n", zone, o[1].val);
					pend_zone(p, zone);
					p->signconf = true;
				}
			}
			ledger_zone_list_free(zl, nz);
		}
		pend_release(p);
	}
	ledger_zone_state_clear(&st);
	free(zone);
}

/*- DS events and rollovers -------------------------------------------------------*/

static enum enforce_op ds_op(const char *verb)
{
	if (!strcmp(verb, "ds-submit"))
		return ENFORCE_OP_DS_SUBMIT;
	if (!strcmp(verb, "ds-seen"))
		return ENFORCE_OP_DS_SEEN;
	if (!strcmp(verb, "ds-retract"))
		return ENFORCE_OP_DS_RETRACT;
	return ENFORCE_OP_DS_GONE;
}

/* The DS states from which each command moves a key. */
static bool ds_eligible(enum enforce_op op, uint8_t ds)
{
	switch (op) {
	case ENFORCE_OP_DS_SUBMIT: return ds == ENFORCER_DS_SUBMIT;
	case ENFORCE_OP_DS_SEEN: return ds == ENFORCER_DS_SUBMIT || ds == ENFORCER_DS_SUBMITTED;
	case ENFORCE_OP_DS_RETRACT: return ds == ENFORCER_DS_RETRACT;
	default: return ds == ENFORCER_DS_RETRACT || ds == ENFORCER_DS_RETRACTED;
	}
}

static void ds_list(struct daemon *d, struct control_conn *conn, enum enforce_op op,
		    const char *verb, bool do_all)
{
	char **names = NULL;
	size_t n = 0;
	struct tdm_err err = { "" };
	char *text = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&text, &tl);
	struct pend *p = do_all ? pend_new(d, conn) : NULL;
	fprintf(f, "%-31s %-8s %-32s %s\n", "Zone:", "Key role:", "CKA_ID:", "Keytag:");
	if (ledger_zone_names(d->ledger, NULL, &names, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct ledger_zone_state st;
			if (ledger_zone_state_get(d->ledger, names[i], &st, &err) != 0)
				continue;
			for (size_t k = 0; k < st.nkeys; k++) {
				const struct ledger_zone_key *zk = &st.keys[k];
				if (!ds_eligible(op, zk->ds_at_parent))
					continue;
				char cka[2 * 64 + 1] = "";
				tdm_hex_encode(zk->key.cka_id, zk->key.cka_id_len < 64 ? zk->key.cka_id_len : 64, cka);
				fprintf(f, "%-31s %-8s %-32s %u\n", st.name,
					tdm_key_role_name((enum tdm_key_role)zk->key.role), cka, zk->key.key_tag);
				if (p != NULL) {
					struct enforce_request r = { .op = op, .keytag = -1 };
					r.cka_id = tdm_strdup(cka);
					r.zones = tdm_calloc(1, sizeof *r.zones);
					r.zones[0] = tdm_strdup(st.name);
					r.n_zones = 1;
					p->waiting++;
					enforce_submit(d->enforce, &r, job_reply, p);
				}
			}
			ledger_zone_state_clear(&st);
		}
		ledger_names_free(names, n);
	}
	fclose(f);
	if (p != NULL) {
		pend_say(p, "key %s --all:\n%s", verb, text);
		pend_release(p);
	} else {
		daemon__reply(d, conn, CONTROL_EXIT_OK, text);
	}
	free(text);
}

void daemon__cmd_key_ds(struct daemon *d, struct control_conn *conn,
			const struct control_request *req, int argi)
{
	struct cmd_opt o[] = { { 'z', "zone", true, NULL, false }, { 'x', "keytag", true, NULL, false },
			       { 'k', "cka_id", true, NULL, false }, { 'a', "all", false, NULL, false } };
	const char *verb = req->argv[argi - 1];
	enum enforce_op op = ds_op(verb);
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	if (!o[0].set) {
		/* ods-enforcer: without a zone, list the keys the command applies to
		 * (ds-seen --all: and move them all). */
		ds_list(d, conn, op, verb, o[3].set && op == ENFORCE_OP_DS_SEEN);
		return;
	}
	if (o[1].set == o[2].set) {
		reply_fmt(d, conn, CONTROL_EXIT_USAGE, "usage: key %s -z ZONE (-x KEYTAG | -k CKA_ID)\n", verb);
		return;
	}
	struct enforce_request r = { .op = op, .keytag = -1 };
	if (o[1].set) {
		char *end;
		long t = strtol(o[1].val, &end, 10);
		if (*end != '\0' || t < 0 || t > 65535) {
			reply_fmt(d, conn, CONTROL_EXIT_USAGE, "error: key %s: key tag %.20s is not 0..65535\n", verb, o[1].val);
			return;
		}
		r.keytag = (int)t;
	} else {
		r.cka_id = tdm_strdup(o[2].val);
	}
	r.zones = tdm_calloc(1, sizeof *r.zones);
	r.zones[0] = zone_name(o[0].val);
	r.n_zones = 1;
	enforce_submit(d->enforce, &r, job_reply, pend_new(d, conn));
}

void daemon__cmd_key_rollover(struct daemon *d, struct control_conn *conn,
			      const struct control_request *req, int argi)
{
	struct cmd_opt o[] = { { 'z', "zone", true, NULL, false }, { 'p', "policy", true, NULL, false },
			       { 't', "keytype", true, NULL, false } };
	struct tdm_err err = { "" };
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	if (o[0].set == o[1].set) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: key rollover (-z ZONE | -p POLICY) [-t KSK|ZSK|CSK]\n");
		return;
	}
	struct enforce_request r = { .op = ENFORCE_OP_ROLL, .keytag = -1 };
	if (o[2].set) {
		if (!strcasecmp(o[2].val, "KSK"))
			r.role = TDM_ROLE_KSK;
		else if (!strcasecmp(o[2].val, "ZSK"))
			r.role = TDM_ROLE_ZSK;
		else if (!strcasecmp(o[2].val, "CSK"))
			r.role = TDM_ROLE_CSK;
		else {
			reply_fmt(d, conn, CONTROL_EXIT_USAGE, "error: key rollover: key type %.20s is not KSK, ZSK or CSK\n", o[2].val);
			return;
		}
	}
	if (o[0].set) {
		r.zones = tdm_calloc(1, sizeof *r.zones);
		r.zones[0] = zone_name(o[0].val);
		r.n_zones = 1;
	} else if (ledger_zone_names(d->ledger, o[1].val, &r.zones, &r.n_zones, &err) != 0 ||
		   r.n_zones == 0) {
		enforce_request_clear(&r);
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: key rollover: policy %s has no zones\n", o[1].val);
		return;
	}
	enforce_submit(d->enforce, &r, job_reply, pend_new(d, conn));
}

/*- enforce, signconf, queue, flush, time leap ---------------------------------------*/

static void run_cmd(struct daemon *d, struct control_conn *conn, const struct control_request *req,
		    int argi, bool signconf)
{
	struct cmd_opt o[] = { { 'z', "zone", true, NULL, false } };
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	struct enforce_request r = { .op = ENFORCE_OP_RUN, .all = !o[0].set, .signconf = signconf,
				     .keytag = -1 };
	if (o[0].set) {
		r.zones = tdm_calloc(1, sizeof *r.zones);
		r.zones[0] = zone_name(o[0].val);
		r.n_zones = 1;
	}
	enforce_submit(d->enforce, &r, job_reply, pend_new(d, conn));
}

void daemon__cmd_enforce(struct daemon *d, struct control_conn *conn,
			 const struct control_request *req, int argi)
{
	run_cmd(d, conn, req, argi, false);
}

void daemon__cmd_signconf(struct daemon *d, struct control_conn *conn,
			  const struct control_request *req, int argi)
{
	run_cmd(d, conn, req, argi, true);
}

void daemon__cmd_flush(struct daemon *d, struct control_conn *conn,
		       const struct control_request *req, int argi)
{
	run_cmd(d, conn, req, argi, false);
}

void daemon__cmd_queue(struct daemon *d, struct control_conn *conn,
		       const struct control_request *req, int argi)
{
	struct enforce_stats st;
	const char *const *zones;
	size_t n = enforce_signer_queue(d->enforce, &zones);
	char last[32] = "never";
	(void)req;
	(void)argi;
	enforce_stats_get(d->enforce, &st);
	if (st.last_run)
		tdm_time_format(st.last_run, last, sizeof last);
	if (daemon__json(conn)) {
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_uint(&j, "jobs", st.jobs);
		tdm_json_kv_uint(&j, "zones_planned", st.zones_planned);
		tdm_json_kv_uint(&j, "entries", st.entries);
		tdm_json_kv_uint(&j, "signconfs", st.signconfs);
		tdm_json_kv_uint(&j, "errors", st.errors);
		tdm_json_kv_uint(&j, "waiting_for_keys", st.waiting_for_keys);
		tdm_json_kv_uint(&j, "keys_generating", enforce_pool_busy(d->enforce));
		tdm_json_kv_string(&j, "last_run", st.last_run ? last : NULL);
		tdm_json_kv_uint(&j, "last_run_ms", st.last_run_ms);
		tdm_json_kv_uint(&j, "signer_queue", n);
		tdm_json_object_end(&j);
		reply_fmt(d, conn, CONTROL_EXIT_OK, "%s\n", tdm_json_text(&j));
		tdm_json_free(&j);
		return;
	}
	char *text = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&text, &tl);
	fprintf(f, "Enforcer: %zu job%s queued, %zu zone%s waiting for pool keys, %u key generation%s running\n",
		st.jobs, st.jobs == 1 ? "" : "s", st.waiting_for_keys,
		st.waiting_for_keys == 1 ? "" : "s", enforce_pool_busy(d->enforce),
		enforce_pool_busy(d->enforce) == 1 ? "" : "s");
	fprintf(f, "Last run: %s (%llu ms); %llu zones planned in %llu entries, %llu signconfs written, %llu errors\n",
		last, (unsigned long long)st.last_run_ms, (unsigned long long)st.zones_planned,
		(unsigned long long)st.entries, (unsigned long long)st.signconfs,
		(unsigned long long)st.errors);
	fprintf(f, "Signer queue: %zu zone%s\n", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && i < 20; i++)
		fprintf(f, "  %s\n", zones[i]);
	if (n > 20)
		fprintf(f, "  ... and %zu more\n", n - 20);
	fclose(f);
	daemon__reply(d, conn, CONTROL_EXIT_OK, text);
	free(text);
}

void daemon__cmd_time_leap(struct daemon *d, struct control_conn *conn,
			   const struct control_request *req, int argi)
{
	struct cmd_opt o[] = { { 't', "time", true, NULL, false }, { 'a', "attach", false, NULL, false } };
	struct tdm_err err = { "" };
	int64_t now = enforce_now(d->enforce), to;
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	if (!d->clock.fake) {
		daemon__reply(d, conn, CONTROL_EXIT_FAIL,
			      "error: time leap: this node runs on the real clock; start tandemd with TANDEM_FAKE_TIME for a settable clock (tests only)\n");
		return;
	}
	if (o[0].set) {
		if (tdm_time_parse(o[0].val, &to) != 0) {
			reply_fmt(d, conn, CONTROL_EXIT_USAGE, "error: time leap: %.40s is not YYYY-MM-DD-HH:MM:SS\n", o[0].val);
			return;
		}
	} else {
		uint64_t due = UINT64_MAX;
		if (ledger_next_due(d->ledger, &due, &err) != 0 || due == UINT64_MAX) {
			daemon__reply(d, conn, CONTROL_EXIT_FAIL, "error: time leap: nothing is scheduled\n");
			return;
		}
		to = (int64_t)due;
	}
	if (to < now)
		to = now;
	tdm_clock_set(&d->clock, to);
	char buf[32];
	tdm_time_format(to, buf, sizeof buf);
	tdm_log_notice("enforcer: time leap to %s (%+lld s)", buf, (long long)(to - now));
	struct pend *p = pend_new(d, conn);
	pend_say(p, "It is now %s (%lld)\n", buf, (long long)to);
	struct enforce_request r = { .op = ENFORCE_OP_RUN, .keytag = -1 };
	enforce_submit(d->enforce, &r, job_reply, p);
}

void daemon__cmd_repository_list(struct daemon *d, struct control_conn *conn,
				 const struct control_request *req, int argi)
{
	char *text = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&text, &tl);
	(void)req;
	(void)argi;
	fprintf(f, "Repositories:\n%-31s %-10s %s\n", "Name:", "Capacity:", "RequireBackup:");
	for (size_t i = 0; i < d->conf->n_repositories; i++) {
		const struct tdm_repository *r = &d->conf->repositories[i];
		char cap[16] = "-";
		if (r->capacity)
			snprintf(cap, sizeof cap, "%u", r->capacity);
		fprintf(f, "%-31s %-10s %s\n", r->name, cap, r->require_backup ? "Yes" : "No");
	}
	fclose(f);
	daemon__reply(d, conn, CONTROL_EXIT_OK, text);
	free(text);
}

void daemon__cmd_running(struct daemon *d, struct control_conn *conn,
			 const struct control_request *req, int argi)
{
	(void)req;
	(void)argi;
	daemon__reply(d, conn, CONTROL_EXIT_OK, "Engine running.\n");
}

/*- update kasp | zonelist | all | conf ------------------------------------------------*/

typedef void (*zl_done_fn)(void *arg, int status, const char *text);
void daemon__zonelist_import(struct daemon *d, const char *buf, size_t len, bool remove_missing,
			     zl_done_fn done, void *arg);

struct update_all {
	char *zonelist;
	size_t len;
	struct policy_import *policy;   /* NULL when the policy import failed */
};

static void update_zl_done(void *arg, int status, const char *text)
{
	struct pend *p = arg;
	if (status != CONTROL_EXIT_OK)
		p->status = status;
	pend_say(p, "%s", text);
	pend_finish(p);
}

/* After the policies of `update all` committed: the zone list. */
static void update_after_policies(struct pend *p)
{
	struct update_all *u = p->data;
	/* Let the policy import finish its own work (enforcing changed
	 * policies' zones) but keep the reply for the end. */
	p->after = NULL;
	p->data = NULL;
	if (u->policy != NULL)
		policy_import_end(p, u->policy, p->status == CONTROL_EXIT_OK);
	if (p->status != CONTROL_EXIT_OK) {
		free(u->zonelist);
		free(u);
		pend_finish(p);
		return;
	}
	char *zl = u->zonelist;
	size_t len = u->len;
	free(u);
	p->waiting = 1;
	daemon__zonelist_import(p->d, zl, len, false, update_zl_done, p);
	free(zl);
}

void daemon__cmd_update(struct daemon *d, struct control_conn *conn,
			const struct control_request *req, int argi)
{
	const char *what = argi < req->argc ? req->argv[argi] : "";
	char *kasp = NULL, *zl = NULL;
	size_t klen = 0, zlen = 0;
	if (!strcmp(what, "conf") || !strcmp(what, "repositorylist")) {
		char msg[512];
		int rc = daemon__reload(d, msg, sizeof msg);
		reply_fmt(d, conn, rc == 0 ? CONTROL_EXIT_OK : CONTROL_EXIT_FAIL, "%s\n", msg);
		return;
	}
	if (!strcmp(what, "kasp")) {
		if (daemon__content(req, argi, "--content", &kasp, &klen) != 0) {
			daemon__reply(d, conn, CONTROL_EXIT_USAGE, "error: update kasp: no kasp.xml content (use tandem-enforcer)\n");
			return;
		}
		struct pend *p = pend_new(d, conn);
		daemon__policy_import(d, p, kasp, klen, false);
		free(kasp);
		pend_release(p);
		return;
	}
	if (!strcmp(what, "zonelist")) {
		if (daemon__content(req, argi, "--content", &zl, &zlen) != 0) {
			daemon__reply(d, conn, CONTROL_EXIT_USAGE, "error: update zonelist: no zonelist.xml content (use tandem-enforcer)\n");
			return;
		}
		struct pend *p = pend_new(d, conn);
		daemon__zonelist_import(d, zl, zlen, false, update_zl_done, p);
		free(zl);
		return;
	}
	if (!strcmp(what, "all")) {
		if (daemon__content(req, argi, "--content-kasp", &kasp, &klen) != 0 ||
		    daemon__content(req, argi, "--content-zonelist", &zl, &zlen) != 0) {
			free(kasp);
			daemon__reply(d, conn, CONTROL_EXIT_USAGE, "error: update all: kasp.xml and zonelist.xml content needed (use tandem-enforcer)\n");
			return;
		}
		struct pend *p = pend_new(d, conn);
		daemon__policy_import(d, p, kasp, klen, false);
		free(kasp);
		struct update_all *u = tdm_calloc(1, sizeof *u);
		u->zonelist = zl;
		u->len = zlen;
		u->policy = p->data;
		p->data = u;
		p->after = update_after_policies;
		pend_release(p);
		return;
	}
	daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: update kasp|zonelist|all|conf\n");
}

/*- pool fill (Tandem) ---------------------------------------------------------------*/

struct fill {
	struct daemon *d;
	struct control_conn *conn;
	uint64_t want;
};

static void fill_done(void *arg, int status, const char *msg)
{
	struct fill *f = arg;
	if (status == 0)
		reply_fmt(f->d, f->conn, CONTROL_EXIT_OK, "The pool holds at least %llu keys\n",
			  (unsigned long long)f->want);
	else
		reply_fmt(f->d, f->conn, status == TDM_ESHUTDOWN ? CONTROL_EXIT_UNAVAILABLE : CONTROL_EXIT_FAIL,
			  "error: pool fill: %s\n", msg);
	free(f);
}

/* `pool fill -g ALG [-b BITS] -n N [-r REPO]`: make the pool of (REPO, ALG,
 * BITS) hold N keys before a bulk import (ods-enforcer's `key generate`
 * counts only the zones a policy already has). */
void daemon__cmd_pool_fill(struct daemon *d, struct control_conn *conn,
			   const struct control_request *req, int argi)
{
	struct cmd_opt o[] = { { 'g', "algorithm", true, NULL, false }, { 'b', "bits", true, NULL, false },
			       { 'n', "count", true, NULL, false }, { 'r', "repository", true, NULL, false } };
	struct tdm_err err = { "" };
	if (!parse(d, conn, req, argi, o, NOPTS(o)))
		return;
	unsigned long alg = o[0].set ? strtoul(o[0].val, NULL, 10) : 0;
	unsigned long bits = o[1].set ? strtoul(o[1].val, NULL, 10) : 0;
	unsigned long long n = o[2].set ? strtoull(o[2].val, NULL, 10) : 0;
	if (bits == 0)
		bits = alg == 13 ? 256 : alg == 14 ? 384 : alg == 15 ? 256 : alg == 16 ? 456 : 0;
	if (alg == 0 || alg > 255 || bits == 0 || bits > 65535 || n == 0 || n > 10000000) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE,
			      "usage: pool fill -g ALGORITHM [-b BITS (needed for RSA)] -n COUNT [-r REPOSITORY]\n");
		return;
	}
	const char *repo = o[3].set ? o[3].val
				    : d->conf->n_repositories ? d->conf->repositories[0].name : "";
	struct fill *f = tdm_calloc(1, sizeof *f);
	f->d = d;
	f->conn = conn;
	f->want = n;
	if (enforce_pool_fill(d->enforce, repo, (uint8_t)alg, (uint32_t)bits, n, true, fill_done, f,
			      &err) != 0) {
		reply_fmt(d, conn, CONTROL_EXIT_FAIL, "error: pool fill: %s\n", err.msg);
		free(f);
	}
}
