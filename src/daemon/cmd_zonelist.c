/*
 * zonelist.xml in and out of the ledger: `zonelist import` (the bulk path:
 * the file tandem-enforcer sends is compared with the ledger and only the
 * differences are committed, as ZONE_BATCH entries of at most
 * ZONELIST_BATCH_BYTES) and `zonelist export` (the ledger's zones as
 * zonelist.xml text, which tandem-enforcer writes).
 *
 * New zones are due at once in the ledger (next_due 0), so the enforcer
 * picks them up as soon as the batches commit; changed zones get a run with
 * their signconf rewritten.
 */
#define _GNU_SOURCE
#include "daemon/daemon_int.h"
#include "daemon/enforce.h"
#include "daemon/control.h"
#include "daemon/writer.h"
#include "common/json.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZONELIST_BATCH_BYTES (768u * 1024u)

typedef void (*zl_done_fn)(void *arg, int status, const char *text);
void daemon__zonelist_import(struct daemon *d, const char *buf, size_t len, bool remove_missing,
			     zl_done_fn done, void *arg);

struct zl_import {
	struct daemon *d;
	struct tdm_zonelist *zl;
	struct ledger_zone_op *ops;
	size_t n_ops;
	size_t pending;
	size_t added, updated, deleted, unchanged;
	char **changed;          /* updated zones: enforce with a new signconf */
	size_t n_changed;
	char **del_names;
	size_t n_del;
	int status;
	char *errors;
	zl_done_fn done;
	void *arg;
};

static int cmp_zone(const void *a, const void *b)
{
	return strcmp(((const struct ledger_zone *)a)->name, ((const struct ledger_zone *)b)->name);
}

static const char *adapter_type(const struct tdm_adapter *a)
{
	return a->type_name ? a->type_name : "File";
}

static void zl_finish(struct zl_import *z)
{
	char *text;
	if (z->status == CONTROL_EXIT_OK && z->n_changed > 0) {
		struct enforce_request r = { .op = ENFORCE_OP_RUN, .zones = z->changed,
					     .n_zones = z->n_changed, .signconf = true };
		z->changed = NULL;
		z->n_changed = 0;
		enforce_submit(z->d->enforce, &r, NULL, NULL);
	}
	if (z->status == CONTROL_EXIT_OK)
		enforce_kick(z->d->enforce);
	text = daemon__sprintf("%sZonelist import: %zu added, %zu updated, %zu deleted, %zu unchanged\n",
			       z->errors ? z->errors : "", z->added, z->updated, z->deleted,
			       z->unchanged);
	z->done(z->arg, z->status, text);
	free(text);
	for (size_t i = 0; i < z->n_changed; i++)
		free(z->changed[i]);
	free(z->changed);
	for (size_t i = 0; i < z->n_del; i++)
		free(z->del_names[i]);
	free(z->del_names);
	free(z->ops);
	free(z->errors);
	tdm_zonelist_free(z->zl);
	free(z);
}

static void zl_on_commit(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct zl_import *z = data;
	if (status != 0 || (res->status != LEDGER_OK && res->status != LEDGER_DUPLICATE)) {
		char *line = daemon__sprintf("%serror: zonelist import: batch not applied: %s\n",
					     z->errors ? z->errors : "", status != 0 ? msg : res->msg);
		free(z->errors);
		z->errors = line;
		z->status = status != 0 ? CONTROL_EXIT_UNAVAILABLE : CONTROL_EXIT_FAIL;
	}
	if (--z->pending == 0)
		zl_finish(z);
}

static size_t op_size(const struct ledger_zone_op *o)
{
	return 64 + o->name.len + o->policy.len + o->in_type.len + o->in_uri.len + o->out_type.len +
	       o->out_uri.len + o->signconf.len;
}

void daemon__zonelist_import(struct daemon *d, const char *buf, size_t len, bool remove_missing,
			     zl_done_fn done, void *arg)
{
	struct tdm_err err = { "" };
	struct zl_import *z = tdm_calloc(1, sizeof *z);
	struct ledger_zone *cur = NULL;
	size_t ncur = 0;
	z->d = d;
	z->done = done;
	z->arg = arg;
	z->pending = 1;
	if (tdm_zonelist_load_buffer("zonelist.xml", buf, len, &z->zl, &err) != 0) {
		z->errors = daemon__sprintf("error: %s (nothing imported)\n", err.msg);
		z->status = CONTROL_EXIT_FAIL;
		z->pending = 0;
		zl_finish(z);
		return;
	}
	if (ledger_zone_list(d->ledger, &cur, &ncur, &err) != 0) {
		z->errors = daemon__sprintf("error: %s\n", err.msg);
		z->status = CONTROL_EXIT_FAIL;
		z->pending = 0;
		zl_finish(z);
		return;
	}
	if (ncur > 1)
		qsort(cur, ncur, sizeof *cur, cmp_zone);
	/* Policies must exist and load: refuse the whole file otherwise. */
	for (size_t i = 0; i < z->zl->n_zones; i++) {
		const struct tdm_zonelist_zone *zz = &z->zl->zones[i];
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(z->zl->zones[k].policy, zz->policy);
		if (seen)
			continue;
		if (enforce_policy_get(d->enforce, zz->policy, &err) == NULL) {
			z->errors = daemon__sprintf("error: zonelist.xml:%ld: zone %s: %s (nothing imported)\n",
						    zz->line, zz->name, err.msg);
			z->status = CONTROL_EXIT_FAIL;
			z->pending = 0;
			ledger_zone_list_free(cur, ncur);
			zl_finish(z);
			return;
		}
	}
	z->ops = tdm_calloc(z->zl->n_zones + ncur + 1, sizeof *z->ops);
	bool *present = tdm_calloc(ncur + 1, sizeof *present);
	for (size_t i = 0; i < z->zl->n_zones; i++) {
		struct tdm_zonelist_zone *zz = &z->zl->zones[i];
		daemon__zone_name_trim(zz->name);
		struct ledger_zone key = { .name = zz->name };
		struct ledger_zone *hit = ncur ? bsearch(&key, cur, ncur, sizeof *cur, cmp_zone) : NULL;
		struct ledger_zone_op *o = &z->ops[z->n_ops];
		o->name = ledger_str(zz->name);
		o->policy = ledger_str(zz->policy);
		o->in_type = ledger_str(adapter_type(&zz->input));
		o->in_uri = ledger_str(zz->input.config);
		o->out_type = ledger_str(adapter_type(&zz->output));
		o->out_uri = ledger_str(zz->output.config);
		o->signconf = ledger_str(zz->signconf);
		if (hit == NULL) {
			o->op = LEDGER_ZONE_OP_ADD;
			z->n_ops++;
			z->added++;
			continue;
		}
		present[hit - cur] = true;
		if (!strcmp(hit->policy, zz->policy) && !strcmp(hit->in_type, adapter_type(&zz->input)) &&
		    !strcmp(hit->in_uri, zz->input.config ? zz->input.config : "") &&
		    !strcmp(hit->out_type, adapter_type(&zz->output)) &&
		    !strcmp(hit->out_uri, zz->output.config ? zz->output.config : "") &&
		    !strcmp(hit->signconf, zz->signconf ? zz->signconf : "")) {
			z->unchanged++;
			continue;
		}
		o->op = LEDGER_ZONE_OP_SET;
		z->n_ops++;
		z->updated++;
		z->changed = tdm_realloc(z->changed, (z->n_changed + 1) * sizeof *z->changed);
		z->changed[z->n_changed++] = tdm_strdup(zz->name);
	}
	if (remove_missing) {
		for (size_t i = 0; i < ncur; i++) {
			if (present[i])
				continue;
			z->del_names = tdm_realloc(z->del_names, (z->n_del + 1) * sizeof *z->del_names);
			z->del_names[z->n_del] = tdm_strdup(cur[i].name);
			struct ledger_zone_op *o = &z->ops[z->n_ops++];
			o->op = LEDGER_ZONE_OP_DEL;
			o->name = ledger_str(z->del_names[z->n_del++]);
			z->deleted++;
		}
	}
	free(present);
	ledger_zone_list_free(cur, ncur);

	/* Batches in order; the writer keeps them in sequence. */
	size_t start = 0;
	while (start < z->n_ops) {
		size_t end = start, bytes = 0;
		while (end < z->n_ops && (end == start || bytes + op_size(&z->ops[end]) < ZONELIST_BATCH_BYTES))
			bytes += op_size(&z->ops[end++]);
		struct ledger_cmd cmd = { .type = LEDGER_CMD_ZONE_BATCH };
		cmd.zone_batch.nzones = (uint32_t)(end - start);
		cmd.zone_batch.zones = &z->ops[start];
		tdm_err_clear(&err);
		if (writer_submit(d->writer, &cmd, zl_on_commit, z, &err) != 0) {
			z->errors = daemon__sprintf("error: zonelist import: %s\n", err.msg);
			z->status = CONTROL_EXIT_UNAVAILABLE;
			break;
		}
		z->pending++;
		start = end;
	}
	if (--z->pending == 0)
		zl_finish(z);
}

struct zl_reply {
	struct daemon *d;
	struct control_conn *conn;
};

static void zl_replied(void *arg, int status, const char *text)
{
	struct zl_reply *r = arg;
	daemon__reply(r->d, r->conn, status, text);
	free(r);
}

void daemon__cmd_zonelist_import(struct daemon *d, struct control_conn *conn,
				 const struct control_request *req, int argi)
{
	struct cmd_opt o[] = { { 'r', "remove-missing-zones", false, NULL, false } };
	char msg[256], *buf = NULL;
	size_t len = 0;
	if (daemon__args(req, argi, o, 1, msg, sizeof msg) != 0) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, msg);
		return;
	}
	if (daemon__content(req, argi, "--content", &buf, &len) != 0) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE,
			      "error: zonelist import: no zonelist.xml content (use tandem-enforcer, which reads the file)\n");
		return;
	}
	struct zl_reply *r = tdm_calloc(1, sizeof *r);
	r->d = d;
	r->conn = conn;
	daemon__zonelist_import(d, buf, len, o[0].set, zl_replied, r);
	free(buf);
}

static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void adapter(FILE *f, const char *dir, const char *type, const char *uri)
{
	fprintf(f, "\t\t\t<%s>\n", dir);
	if (!strcmp(type, "File")) {
		fputs("\t\t\t\t<File>", f);
	} else {
		fputs("\t\t\t\t<Adapter type=\"", f);
		xml_text(f, type);
		fputs("\">", f);
	}
	xml_text(f, uri);
	fprintf(f, "%s\n\t\t\t</%s>\n", !strcmp(type, "File") ? "</File>" : "</Adapter>", dir);
}

void daemon__cmd_zonelist_export(struct daemon *d, struct control_conn *conn,
				 const struct control_request *req, int argi)
{
	struct ledger_zone *zl = NULL;
	size_t n = 0;
	struct tdm_err err = { "" };
	(void)req;
	(void)argi;
	if (ledger_zone_list(d->ledger, &zl, &n, &err) != 0) {
		char *m = daemon__sprintf("error: %s\n", err.msg);
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, m);
		free(m);
		return;
	}
	char *text = NULL;
	size_t tl = 0;
	FILE *f = open_memstream(&text, &tl);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ZoneList>\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("\t<Zone name=\"", f);
		xml_text(f, zl[i].name);
		fputs("\">\n\t\t<Policy>", f);
		xml_text(f, zl[i].policy);
		fputs("</Policy>\n\t\t<SignerConfiguration>", f);
		char *sc = enforce_signconf_path(d->enforce, zl[i].name, zl[i].signconf);
		xml_text(f, sc);
		free(sc);
		fputs("</SignerConfiguration>\n\t\t<Adapters>\n", f);
		adapter(f, "Input", zl[i].in_type, zl[i].in_uri);
		adapter(f, "Output", zl[i].out_type, zl[i].out_uri);
		fputs("\t\t</Adapters>\n\t</Zone>\n", f);
	}
	fputs("</ZoneList>\n", f);
	fclose(f);
	daemon__reply(d, conn, CONTROL_EXIT_OK, text);
	free(text);
	ledger_zone_list_free(zl, n);
}
