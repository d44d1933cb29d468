/*
 * The enforcer service: the job queue, one ENFORCE entry in flight, the
 * schedule, and what follows a commit (signconfs, the signer queue, the
 * DelegationSigner commands).  See enforce.h for the contract.
 */
#define _GNU_SOURCE
#include "daemon/daemon_int.h"
#include "daemon/enforce_int.h"
#include "daemon/control.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void pump(struct enforce *e);

static void on_pump(uv_timer_t *t)
{
	pump(t->data);
}

static void schedule_pump(struct enforce *e)
{
	if (!e->closing)
		uv_timer_start(&e->pump, on_pump, 0, 0);
}

int64_t enforce_now(struct enforce *e)
{
	int64_t now = tdm_clock_now(&e->d->clock);
	int64_t floor = (int64_t)ledger_enforce_time(e->d->ledger);
	return now > floor ? now : floor;
}

int enforce_new(struct enforce **out, struct daemon *d, struct tdm_err *err)
{
	(void)err;
	struct enforce *e = tdm_calloc(1, sizeof *e);
	e->d = d;
	uv_timer_init(&d->loop, &e->timer);
	uv_timer_init(&d->loop, &e->pump);
	e->timer.data = e;
	e->pump.data = e;
	*out = e;
	return 0;
}

void enforce__job_say(struct job *j, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL;
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (line == NULL)
		return;
	size_t l = strlen(line);
	/* Keep the report bounded: 50,000 failing zones are summarised. */
	if (j->report_len < 64 * 1024) {
		j->report = tdm_realloc(j->report, j->report_len + l + 2);
		memcpy(j->report + j->report_len, line, l);
		j->report_len += l;
		j->report[j->report_len++] = '\n';
		j->report[j->report_len] = '\0';
	}
	free(line);
}

void enforce_request_clear(struct enforce_request *req)
{
	for (size_t i = 0; i < req->n_zones; i++)
		free(req->zones[i]);
	free(req->zones);
	free(req->cka_id);
	free(req->import_state);
	memset(req, 0, sizeof *req);
}

static void job_end(struct enforce *e, struct job *j, int status)
{
	char *body;
	if (status == CONTROL_EXIT_OK && j->failed == 0)
		body = daemon__sprintf("%s%zu zone%s enforced\n", j->report ? j->report : "",
				       j->planned, j->planned == 1 ? "" : "s");
	else if (status == CONTROL_EXIT_OK)
		body = daemon__sprintf("%s%zu zone%s enforced, %zu failed\n",
				       j->report ? j->report : "", j->planned,
				       j->planned == 1 ? "" : "s", j->failed);
	else
		body = daemon__sprintf("%s", j->report ? j->report : "error: enforcer stopped\n");
	/* A run over many zones succeeds if some zones were planned; a command
	 * on named zones (ds-*, rollover, import) fails if any zone refused. */
	if (j->failed > 0 && status == CONTROL_EXIT_OK &&
	    (j->planned == 0 || j->req.op != ENFORCE_OP_RUN))
		status = CONTROL_EXIT_FAIL;
	e->st.last_run_ms = uv_now(&e->d->loop) - j->started_ms;
	if (j->done)
		j->done(j->arg, status, body);
	free(body);
	enforce_request_clear(&j->req);
	for (size_t i = 0; i < j->n_names; i++)
		free(j->names[i]);
	free(j->names);
	free(j->report);
	free(j);
}

void enforce_submit(struct enforce *e, struct enforce_request *req, enforce_done_fn done,
		    void *arg)
{
	struct job *j;
	if (!e->leader || e->closing) {
		enforce_request_clear(req);
		if (done)
			done(arg, CONTROL_EXIT_UNAVAILABLE,
			     "error: this node is not the leader: the enforcer does not run here\n");
		return;
	}
	j = tdm_calloc(1, sizeof *j);
	j->req = *req;
	memset(req, 0, sizeof *req);
	j->done = done;
	j->arg = arg;
	j->started_ms = uv_now(&e->d->loop);
	if (j->req.n_zones > 0) {
		j->names = j->req.zones;
		j->n_names = j->req.n_zones;
		j->req.zones = NULL;
		j->req.n_zones = 0;
		j->listed = true;
	}
	if (e->tail)
		e->tail->next = j;
	else
		e->head = j;
	e->tail = j;
	e->n_jobs++;
	schedule_pump(e);
}

void enforce_kick(struct enforce *e)
{
	struct enforce_request r = { .op = ENFORCE_OP_RUN };
	if (!e->leader)
		return;
	/* One pending due-run is enough. */
	for (struct job *j = e->head; j; j = j->next)
		if (j != e->cur_job && j->req.op == ENFORCE_OP_RUN && !j->listed && !j->req.all)
			return;
	enforce_submit(e, &r, NULL, NULL);
}

static void on_timer(uv_timer_t *t)
{
	enforce_kick(t->data);
}

static void arm_timer(struct enforce *e)
{
	uint64_t due = UINT64_MAX;
	struct tdm_err err = { "" };
	if (!e->leader || e->closing)
		return;
	if (ledger_next_due(e->d->ledger, &due, &err) != 0 || due == UINT64_MAX) {
		uv_timer_stop(&e->timer);
		return;
	}
	int64_t now = enforce_now(e);
	uint64_t ms = due <= (uint64_t)now ? 0 : (due - (uint64_t)now) * 1000;
	/* Look again at least hourly: clocks jump, and time leaps. */
	if (ms > 3600 * 1000)
		ms = 3600 * 1000;
	uv_timer_start(&e->timer, on_timer, ms, 0);
}

static void tell_signer(struct enforce *e, const char *zone)
{
	/* One entry per zone: a zone already queued stays where it is. */
	if (nameset_add(&e->signer_q, zone))
		e->st.told++;
}

size_t enforce_signer_queue(const struct enforce *e, const char *const **zones)
{
	*zones = (const char *const *)e->signer_q.names;
	return e->signer_q.n;
}

void enforce_signer_flush(struct enforce *e)
{
	nameset_clear(&e->signer_q);
}

/* DelegationSigner{Submit,Retract}Command: on a worker thread, the DNSKEY
 * on stdin; a submit command that succeeds marks the DS submitted, as
 * ods-enforcer does. */
struct ds_work {
	uv_work_t w;
	struct enforce *e;
	struct ds_call call;
	char *command;
	int status;
};

static void ds_run(uv_work_t *w)
{
	struct ds_work *dw = w->data;
	FILE *p = popen(dw->command, "w");
	if (p == NULL) {
		dw->status = -1;
		return;
	}
	if (dw->call.dnskey_rr)
		fputs(dw->call.dnskey_rr, p);
	dw->status = pclose(p);
}

static void ds_after(uv_work_t *w, int status)
{
	struct ds_work *dw = w->data;
	struct enforce *e = dw->e;
	(void)status;
	if (dw->status != 0) {
		tdm_log_err("enforcer: zone %s key %s: %s exited with status %d; the DS stays to be %s by hand (key %s)",
			    dw->call.zone, dw->call.key_id,
			    dw->call.submit ? "DelegationSignerSubmitCommand" : "DelegationSignerRetractCommand",
			    dw->status, dw->call.submit ? "submitted" : "retracted",
			    dw->call.submit ? "ds-submit" : "ds-retract");
	} else if (!e->closing && e->leader) {
		tdm_log_notice("enforcer: zone %s key %s: DS %s command done", dw->call.zone,
			       dw->call.key_id, dw->call.submit ? "submit" : "retract");
		struct enforce_request r = { .op = dw->call.submit ? ENFORCE_OP_DS_SUBMIT
								    : ENFORCE_OP_DS_RETRACT,
					     .keytag = -1 };
		r.cka_id = dw->call.locator;
		dw->call.locator = NULL;
		r.zones = tdm_calloc(1, sizeof *r.zones);
		r.zones[0] = tdm_strdup(dw->call.zone);
		r.n_zones = 1;
		enforce_submit(e, &r, NULL, NULL);
	}
	enforce__ds_call_clear(&dw->call);
	free(dw->command);
	free(dw);
}

static void run_ds_calls(struct enforce *e, struct zplan *zp)
{
	for (size_t i = 0; i < zp->n_calls; i++) {
		struct ds_work *dw = tdm_calloc(1, sizeof *dw);
		dw->e = e;
		dw->call = zp->calls[i];
		memset(&zp->calls[i], 0, sizeof zp->calls[i]);
		dw->command = tdm_strdup(dw->call.submit ? e->d->conf->ds_submit_command
							 : e->d->conf->ds_retract_command);
		dw->w.data = dw;
		if (uv_queue_work(&e->d->loop, &dw->w, ds_run, ds_after) != 0) {
			enforce__ds_call_clear(&dw->call);
			free(dw->command);
			free(dw);
		}
	}
}

void enforce__wake_waiting(struct enforce *e)
{
	if (e->waiting.live == 0 || !e->leader)
		return;
	struct enforce_request r = { .op = ENFORCE_OP_RUN };
	nameset_take(&e->waiting, &r.zones, &r.n_zones);
	enforce_submit(e, &r, NULL, NULL);
}

/*
 * After the commit, on a worker thread: render and write the signconfs of
 * the chunk, then one syncfs.  The loop thread stays free (a zone add is
 * answered meanwhile); the next chunk waits (in_flight), so a zone's
 * signconfs are always written in commit order.
 */
static void write_work(uv_work_t *w)
{
	struct enforce *e = w->data;
	struct chunk *c = &e->cur;
	int dirfd = -1;
	for (size_t i = 0; i < c->n; i++) {
		struct zplan *zp = &c->z[i];
		struct tdm_err err = { "" };
		if (!zp->signconf)
			continue;
		zp->signconf_rc = enforce__zone_signconf(e, zp, &err);
		if (zp->signconf_rc != 0)
			zp->signconf_err = tdm_strdup(err.msg);
		else if (dirfd < 0) {
			char *path = enforce_signconf_path(e, zp->zone, zp->st.signconf);
			dirfd = open(path, O_RDONLY | O_CLOEXEC);
			free(path);
		}
	}
	if (dirfd >= 0) {
		syncfs(dirfd);
		close(dirfd);
	}
}

/* Back on the loop: tell the signer, log, DS commands, pool, waiting zones. */
static void chunk_committed(struct enforce *e, struct job *j)
{
	struct chunk *c = &e->cur;
	bool wake = false;
	for (size_t i = 0; i < c->n; i++) {
		struct zplan *zp = &c->z[i];
		if (zp->signconf) {
			if (zp->signconf_rc != 0) {
				tdm_log_err("enforcer: %s", zp->signconf_err ? zp->signconf_err : "signconf");
				if (j != NULL)
					enforce__job_say(j, "error: %s", zp->signconf_err ? zp->signconf_err : "signconf");
				e->st.errors++;
			} else {
				e->st.signconfs++;
				tell_signer(e, zp->zone);
			}
		}
		if (zp->waits_for_keys) {
			nameset_add(&e->waiting, zp->zone);
			/* Keys arrived while this chunk was in flight: the wake-up
			 * has passed it by, so wake again. */
			if (zp->pool_epoch != e->pool_epoch)
				wake = true;
		} else
			nameset_del(&e->waiting, zp->zone);
		for (size_t a = 0; a < zp->plan.n_actions; a++) {
			const struct enforcer_action *act = &zp->plan.actions[a];
			if (act->type == ENFORCER_ACT_RECORD)
				tdm_log_info("enforcer: zone %s key %s: %s %s -> %s (%s)", zp->zone,
					     act->key_id, enforcer_record_name(act->record),
					     enforcer_state_name(act->from), enforcer_state_name(act->to),
					     act->reason ? act->reason : "");
			else if (act->type == ENFORCER_ACT_DS_SUBMIT && e->d->conf->ds_submit_command == NULL)
				tdm_log_notice("enforcer: zone %s key %s: submit its DS to the parent, then run key ds-submit",
					       zp->zone, act->key_id);
			else if (act->type == ENFORCER_ACT_DS_RETRACT && e->d->conf->ds_retract_command == NULL)
				tdm_log_notice("enforcer: zone %s key %s: retract its DS from the parent, then run key ds-retract",
					       zp->zone, act->key_id);
		}
		run_ds_calls(e, zp);
	}
	enforce__pool_after_chunk(e, c);
	if (wake)
		enforce__wake_waiting(e);
}

static void write_after(uv_work_t *w, int status)
{
	struct enforce *e = w->data;
	(void)status;
	e->writing = false;
	e->in_flight = false;
	if (e->closing) {
		enforce__chunk_clear(&e->cur);
		if (e->handles_closed && e->gens == NULL)
			free(e);
		return;
	}
	if (e->leader)
		chunk_committed(e, e->cur_job);
	enforce__chunk_clear(&e->cur);
	schedule_pump(e);
}

static void on_entry(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct enforce *e = data;
	struct job *j = e->cur_job;
	e->in_flight = false;
	if (e->closing) {
		enforce__chunk_clear(&e->cur);
		return;
	}
	if (j == NULL || !e->leader) {
		/* Leadership was lost while the entry was in flight: its job has
		 * ended; whatever committed is the next leader's to publish. */
		enforce__chunk_clear(&e->cur);
		schedule_pump(e);
		return;
	}
	if (status != 0 || (res->status != LEDGER_OK && res->status != LEDGER_DUPLICATE)) {
		const char *why = status != 0 ? msg : res->msg;
		tdm_log_err("enforcer: ENFORCE entry for %zu zone(s) not applied: %s", e->cur.n, why);
		enforce__job_say(j, "error: %zu zone(s) not enforced: %s", e->cur.n, why);
		j->failed += e->cur.n;
		e->st.errors++;
		enforce__chunk_clear(&e->cur);
		schedule_pump(e);
		return;
	}
	size_t planned = 0;
	for (size_t i = 0; i < e->cur.n; i++)
		planned += !e->cur.z[i].deferred;
	e->st.entries++;
	e->st.zones_planned += planned;
	e->st.last_run = e->cur.now;
	j->planned += planned;
	e->in_flight = true;
	e->writing = true;
	e->write_work.data = e;
	if (uv_queue_work(&e->d->loop, &e->write_work, write_work, write_after) != 0) {
		write_work(&e->write_work);
		write_after(&e->write_work, 0);
	}
}

/* The next names of a job, at most ENFORCE_CHUNK.  false: the job is done. */
static bool next_names(struct enforce *e, struct job *j, int64_t now, char ***names, size_t *n)
{
	struct tdm_err err = { "" };
	if (j->req.all && !j->listed) {
		if (ledger_zone_names(e->d->ledger, NULL, &j->names, &j->n_names, &err) != 0) {
			enforce__job_say(j, "error: %s", err.msg);
			return false;
		}
		j->listed = true;
	}
	if (j->listed) {
		if (j->pos >= j->n_names)
			return false;
		*names = j->names + j->pos;
		*n = j->n_names - j->pos < ENFORCE_CHUNK ? j->n_names - j->pos : ENFORCE_CHUNK;
		j->pos += *n;
		return true;
	}
	/* A run over the due zones: ask the ledger each time. */
	for (size_t i = 0; i < j->n_names; i++)
		free(j->names[i]);
	free(j->names);
	j->names = NULL;
	j->n_names = 0;
	if (ledger_zones_due(e->d->ledger, (uint64_t)now, ENFORCE_CHUNK, &j->names, &j->n_names,
			     &err) != 0) {
		enforce__job_say(j, "error: %s", err.msg);
		return false;
	}
	*names = j->names;
	*n = j->n_names;
	return j->n_names > 0;
}

static void pump(struct enforce *e)
{
	struct tdm_err err = { "" };
	while (e->leader && !e->in_flight && !e->closing && e->head != NULL) {
		struct job *j = e->head;
		char **names;
		size_t n;
		int64_t now = enforce_now(e);
		e->cur_job = j;
		if (!next_names(e, j, now, &names, &n)) {
			e->head = j->next;
			if (e->head == NULL)
				e->tail = NULL;
			e->n_jobs--;
			e->cur_job = NULL;
			if (j->req.op == ENFORCE_OP_RUN)
				e->st.runs++;
			job_end(e, j, CONTROL_EXIT_OK);
			continue;
		}
		struct chunk *c = &e->cur;
		memset(c, 0, sizeof *c);
		c->now = now;
		c->z = tdm_calloc(n, sizeof *c->z);
		for (size_t i = 0; i < n; i++) {
			struct zplan *zp = &c->z[c->n];
			tdm_err_clear(&err);
			if (enforce__zone_plan(e, c, j, names[i], zp, &err) != 0) {
				enforce__job_say(j, "error: %s", err.msg);
				tdm_log_err("enforcer: %s", err.msg);
				j->failed++;
				e->st.errors++;
				/* An existing zone that cannot be planned (its policy does
				 * not load, ...) is looked at again later, not in a loop. */
				if (zp->st.name == NULL || !enforce__zone_defer(zp, now)) {
					enforce__zone_free(zp);
					continue;
				}
			}
			c->n++;
		}
		if (c->n == 0) {
			enforce__chunk_clear(c);
			if (!j->listed) {
				/* Every due zone failed: do not spin on them. */
				j->listed = true;
				j->pos = j->n_names;
			}
			continue;
		}
		c->lz = tdm_calloc(c->n, sizeof *c->lz);
		for (size_t i = 0; i < c->n; i++)
			enforce__zone_to_ledger(&c->z[i], &c->lz[i]);
		struct ledger_cmd cmd = { .type = LEDGER_CMD_ENFORCE };
		cmd.enforce.time = (uint64_t)now;
		cmd.enforce.nzones = (uint32_t)c->n;
		cmd.enforce.zones = c->lz;
		tdm_err_clear(&err);
		if (writer_submit(e->d->writer, &cmd, on_entry, e, &err) != 0) {
			enforce__job_say(j, "error: %zu zone(s) not enforced: %s", c->n, err.msg);
			j->failed += c->n;
			enforce__chunk_clear(c);
			/* Not the leader any more, or the entry does not encode:
			 * give up this job rather than loop. */
			e->head = j->next;
			if (e->head == NULL)
				e->tail = NULL;
			e->n_jobs--;
			e->cur_job = NULL;
			job_end(e, j, CONTROL_EXIT_UNAVAILABLE);
			continue;
		}
		e->in_flight = true;
		return;
	}
	if (e->head == NULL && !e->in_flight)
		arm_timer(e);
}

void enforce_on_leader(struct enforce *e)
{
	struct enforce_request r = { .op = ENFORCE_OP_RUN, .all = true };
	e->leader = true;
	enforce_policy_flush(e);
	tdm_log_notice("enforcer: leader: running every zone once");
	enforce_submit(e, &r, NULL, NULL);
}

static void fail_all(struct enforce *e)
{
	while (e->head) {
		struct job *j = e->head;
		e->head = j->next;
		if (j == e->cur_job)
			e->cur_job = NULL;
		enforce__job_say(j, "error: leadership lost: the enforcer stopped (what committed stays)");
		job_end(e, j, CONTROL_EXIT_UNAVAILABLE);
	}
	e->tail = NULL;
	e->n_jobs = 0;
}

void enforce_on_follower(struct enforce *e)
{
	if (!e->leader)
		return;
	e->leader = false;
	uv_timer_stop(&e->timer);
	uv_timer_stop(&e->pump);
	fail_all(e);
	enforce_signer_flush(e);
}

void enforce_on_apply(struct enforce *e, const struct ledger_result *res)
{
	if (res->status != LEDGER_OK)
		return;
	if (res->type == LEDGER_CMD_POLICY_PUT || res->type == LEDGER_CMD_POLICY_DEL)
		enforce_policy_flush(e);
	/* `backup commit` makes keys usable under <RequireBackup/>. */
	if (res->type == LEDGER_CMD_BACKUP && e->leader) {
		e->pool_epoch++;
		enforce__wake_waiting(e);
	}
}

static void on_closed(uv_handle_t *h)
{
	struct enforce *e = h->data;
	if (h == (uv_handle_t *)&e->pump) {
		e->handles_closed = true;
		if (e->gens == NULL && !e->writing)
			free(e);
	}
}

void enforce_close(struct enforce *e)
{
	if (e == NULL)
		return;
	e->closing = true;
	e->leader = false;
	fail_all(e);
	if (!e->in_flight)
		enforce__chunk_clear(&e->cur);
	enforce_policy_flush(e);
	enforce_signer_flush(e);
	nameset_clear(&e->waiting);
	enforce__pool_close(e);
	uv_close((uv_handle_t *)&e->timer, NULL);
	uv_close((uv_handle_t *)&e->pump, on_closed);
}

void enforce_stats_get(const struct enforce *e, struct enforce_stats *st)
{
	*st = e->st;
	st->running = e->leader;
	st->jobs = e->n_jobs;
	st->waiting_for_keys = e->waiting.live;
}
