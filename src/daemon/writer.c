/*
 * The writer (see writer.h).
 *
 * Entries of this origin wait in one list in sequence order.  An entry is
 * WAITING (to be sent, or sent again), SENT_LOCAL (inside the cluster
 * wrapper) or SENT_FORWARD (a raw entry on its way to another leader).
 * The ordering rules that keep retries from being overtaken:
 *   - sent entries always form a prefix of the list: a WAITING entry is
 *     sent only when no entry after it is still out;
 *   - entries go out locally (any number, in order: the wrapper keeps
 *     them in order) only while no forwarded entry is out;
 *   - entries are forwarded one at a time, only when nothing else is out.
 */
#include "daemon/writer.h"
#include "daemon/settings.h"
#include "daemon/control.h"
#include "daemon/peer_client.h"
#include "common/hex.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { E_WAITING, E_SENT_LOCAL, E_SENT_FORWARD };

struct wentry {
	struct wentry *next;
	struct writer *w;
	uint8_t *buf;
	size_t len;
	struct ledger_cmd_id id;
	uint16_t type;
	int state;
	uint64_t since;     /* first failure (uv_now), 0 = never failed */
	writer_cb cb;
	void *data;
};

struct writer {
	uv_loop_t *loop;
	struct cluster *cluster;
	struct ledger *ledger;
	struct peer_client *pc;
	const struct daemon_config *cfg;
	struct wentry *head;
	unsigned n;
	uint64_t seq;
	uv_timer_t timer;
	uint64_t ok, failed;
	bool closing;
};

static void pump(struct writer *w);

static void on_timer(uv_timer_t *t)
{
	pump(t->data);
}

static void kick(struct writer *w, uint64_t ms)
{
	if (uv_is_active((uv_handle_t *)&w->timer) &&
	    uv_timer_get_due_in(&w->timer) <= ms)
		return;
	uv_timer_start(&w->timer, on_timer, ms, 0);
}

static void complete(struct wentry *e, int status, const struct ledger_result *res,
		     const char *msg)
{
	struct writer *w = e->w;
	struct wentry **pp;
	for (pp = &w->head; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			w->n--;
			break;
		}
	if (status == 0)
		w->ok++;
	else
		w->failed++;
	e->cb(e->data, status, res, msg);
	free(e->buf);
	free(e);
}

static void refresh_seq(struct writer *w)
{
	struct tdm_err err = { "" };
	uint64_t last = 0;
	if (ledger_origin_last_seq(w->ledger, w->cfg->node_id, &last, &err) != 0)
		tdm_log_err("node %llu: reading the last command id: %s",
			    (unsigned long long)w->cfg->node_id, err.msg);
	if (last > w->seq)
		w->seq = last;
}

struct writer *writer_new(uv_loop_t *loop, struct cluster *c, struct ledger *l,
			  struct peer_client *pc, const struct daemon_config *cfg)
{
	struct writer *w = tdm_calloc(1, sizeof *w);
	w->loop = loop;
	w->cluster = c;
	w->ledger = l;
	w->pc = pc;
	w->cfg = cfg;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	refresh_seq(w);
	return w;
}

static void on_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

/* After writer_close(): free once the last entry out has come back. */
static void maybe_free(struct writer *w)
{
	if (w->closing && w->n == 0 && !uv_is_closing((uv_handle_t *)&w->timer))
		uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

void writer_close(struct writer *w)
{
	struct wentry *e, *next;
	if (w == NULL)
		return;
	w->closing = true;
	uv_timer_stop(&w->timer);
	for (e = w->head; e != NULL; e = next) {
		next = e->next;
		if (e->state == E_WAITING)
			complete(e, TDM_ESHUTDOWN, NULL,
				 "tandemd is shutting down: outcome unknown");
	}
	maybe_free(w);
}

void writer_leader_ready(struct writer *w)
{
	refresh_seq(w);
	pump(w);
}

unsigned writer_pending(const struct writer *w)
{
	return w->n;
}

void writer_counters(const struct writer *w, uint64_t *ok, uint64_t *failed)
{
	*ok = w->ok;
	*failed = w->failed;
}

/*- private: results ----------------------------------------------------*/

void writer_result_format(const struct ledger_result *res, char *out, size_t cap)
{
	snprintf(out, cap, "%s %llu %s %llu:%llu\n%s", ledger_status_name(res->status),
		 (unsigned long long)res->index, ledger_cmd_type_name(res->type),
		 (unsigned long long)res->id.origin, (unsigned long long)res->id.seq, res->msg);
}

int writer_result_parse(const char *text, struct ledger_result *res)
{
	char status[32], type[32];
	unsigned long long index, origin, seq;
	const char *nl = strchr(text, '\n');
	int s;
	memset(res, 0, sizeof *res);
	if (nl == NULL || sscanf(text, "%31s %llu %31s %llu:%llu", status, &index, type,
				 &origin, &seq) != 5)
		return TDM_EPROTO;
	for (s = LEDGER_OK; s <= LEDGER_CONFLICT; s++)
		if (strcmp(ledger_status_name((enum ledger_status)s), status) == 0)
			break;
	if (s > LEDGER_CONFLICT)
		return TDM_EPROTO;
	res->status = (enum ledger_status)s;
	res->index = index;
	res->id.origin = origin;
	res->id.seq = seq;
	res->type = LEDGER_CMD__COUNT;
	for (unsigned t = 0; t < LEDGER_CMD__COUNT; t++)
		if (strcmp(ledger_cmd_type_name(t), type) == 0)
			res->type = (uint16_t)t;
	snprintf(res->msg, sizeof res->msg, "%s", nl + 1);
	res->msg[strcspn(res->msg, "\n")] = '\0';
	return 0;
}

/*- private: sending ----------------------------------------------------*/

static void fail_or_wait(struct wentry *e, const char *why)
{
	struct writer *w = e->w;
	e->state = E_WAITING;
	if (e->since == 0) {
		e->since = uv_now(w->loop);
		tdm_log_notice("node %llu: command %llu:%llu (%s): %s; submitting it again with the same id",
			       (unsigned long long)w->cfg->node_id,
			       (unsigned long long)e->id.origin, (unsigned long long)e->id.seq,
			       ledger_cmd_type_name(e->type), why);
	}
	kick(w, 20);
}

static void on_local_done(void *data, int status, uint64_t index, void *result)
{
	struct wentry *e = data;
	struct writer *w = e->w;
	(void)index;
	if (status == 0) {
		complete(e, 0, result, "");
	} else if (w->closing) {
		complete(e, TDM_ESHUTDOWN, NULL, "tandemd is shutting down: outcome unknown");
		maybe_free(w);
		return;
	} else if (status == TDM_ENOTLEADER || cluster_outcome_unknown(status)) {
		fail_or_wait(e, status == TDM_ENOTLEADER ? "not appended, leadership moved"
							 : "leadership lost, outcome unknown");
	} else {
		complete(e, status, NULL, tdm_strerror(status));
	}
	if (w->closing)
		maybe_free(w);
	else
		pump(w);
}

static void on_forward_done(void *data, int rc, const struct control_response *resp,
			    const char *msg)
{
	struct wentry *e = data;
	struct writer *w = e->w;
	struct ledger_result res;
	if (w->closing) {
		if (rc == 0 && (resp->status == CONTROL_EXIT_OK || resp->status == CONTROL_EXIT_FAIL) &&
		    writer_result_parse(resp->body, &res) == 0)
			complete(e, 0, &res, "");
		else
			complete(e, TDM_ESHUTDOWN, NULL, "tandemd is shutting down: outcome unknown");
		maybe_free(w);
		return;
	}
	if (rc != 0) {
		fail_or_wait(e, msg);
	} else if ((resp->status == CONTROL_EXIT_OK || resp->status == CONTROL_EXIT_FAIL) &&
		   writer_result_parse(resp->body, &res) == 0) {
		complete(e, 0, &res, ""); /* applied, or refused by apply: the verdict stands */
	} else if (resp->status == CONTROL_EXIT_UNAVAILABLE) {
		fail_or_wait(e, "the leader could not take it");
		kick(e->w, 100);
	} else {
		complete(e, TDM_EINVAL, NULL, resp->body);
	}
	pump(w);
}

/* Hex in arguments of at most this many characters (CONTROL_MAX_ARG bounds it). */
#define HEX_CHUNK 60000

static void forward(struct writer *w, struct wentry *e, const struct cluster_leader *leader)
{
	char addr[DAEMON_ADDR_MAX];
	struct tdm_err err = { "" };
	struct control_request req;
	int rc;
	if (daemon_config_forward_of(w->cfg, leader->id, leader->address, addr) != 0) {
		kick(w, 100);
		return;
	}
	rc = writer_entry_request(e->buf, e->len, &req);
	if (rc == 0) {
		e->state = E_SENT_FORWARD;
		rc = peer_call(w->pc, addr, &req, 5000, NULL, on_forward_done, e, &err);
		control_request_clear(&req);
	}
	if (rc != 0) {
		e->state = E_WAITING;
		tdm_log_warn("node %llu: cannot forward command %llu:%llu to node %llu: %s",
			     (unsigned long long)w->cfg->node_id, (unsigned long long)e->id.origin,
			     (unsigned long long)e->id.seq, (unsigned long long)leader->id, err.msg);
		kick(w, 100);
	}
}

static void pump(struct writer *w)
{
	struct wentry *e, *first = NULL;
	struct cluster_leader leader;
	bool forward_out = false;
	uint64_t now = uv_now(w->loop);

	if (w->closing)
		return;
	/* Give up on entries that found no leader for too long. */
	for (e = w->head; e != NULL;) {
		struct wentry *next = e->next;
		if (e->state == E_WAITING && e->since && now - e->since > WRITER_RETRY_LIMIT_MS) {
			char msg[160];
			snprintf(msg, sizeof msg, "no leader took command %llu:%llu within %d s: outcome unknown",
				 (unsigned long long)e->id.origin, (unsigned long long)e->id.seq,
				 WRITER_RETRY_LIMIT_MS / 1000);
			tdm_log_err("node %llu: %s", (unsigned long long)w->cfg->node_id, msg);
			complete(e, TDM_ETIMEOUT, NULL, msg);
		}
		e = next;
	}
	for (e = w->head; e != NULL; e = e->next) {
		if (e->state == E_SENT_FORWARD)
			forward_out = true;
		if (e->state == E_WAITING && first == NULL)
			first = e;
		else if (e->state != E_WAITING && first != NULL)
			return; /* something after the first waiting entry is out: wait for it */
	}
	if (first == NULL)
		return;
	if (cluster_is_leader_ready(w->cluster)) {
		if (forward_out)
			return;
		for (e = first; e != NULL; e = e->next) {
			int rc = cluster_submit(w->cluster, e->buf, e->len, on_local_done, e, NULL);
			if (rc == 0) {
				e->state = E_SENT_LOCAL;
				continue;
			}
			if (rc == TDM_EAGAIN || rc == TDM_ENOTLEADER) {
				kick(w, rc == TDM_EAGAIN ? 5 : 50);
				return;
			}
			/* Cannot happen for what writer_submit() encoded; fail it for good. */
			complete(e, rc, NULL, tdm_strerror(rc));
			kick(w, 0);
			return;
		}
		return;
	}
	if (first != w->head)
		return; /* forwarding goes one at a time, nothing else out */
	cluster_leader_get(w->cluster, &leader);
	if (leader.id == 0 || leader.id == w->cfg->node_id) {
		kick(w, 50);
		return;
	}
	forward(w, first, &leader);
}

int writer_submit(struct writer *w, struct ledger_cmd *cmd, writer_cb cb, void *data,
		  struct tdm_err *err)
{
	struct wentry *e, **pp;
	int rc;
	if (w->closing)
		return tdm_err_fail(err, TDM_ESHUTDOWN, "tandemd is shutting down");
	if (!cluster_is_leader_ready(w->cluster))
		return tdm_err_fail(err, TDM_ENOTLEADER, "node %llu is not the leader",
				    (unsigned long long)w->cfg->node_id);
	e = tdm_calloc(1, sizeof *e);
	cmd->id.origin = w->cfg->node_id;
	cmd->id.seq = w->seq + 1;
	rc = ledger_cmd_encode(cmd, &e->buf, &e->len, err);
	if (rc != 0) {
		free(e);
		return rc;
	}
	w->seq++;
	e->w = w;
	e->id = cmd->id;
	e->type = cmd->type;
	e->cb = cb;
	e->data = data;
	e->state = E_WAITING;
	for (pp = &w->head; *pp; pp = &(*pp)->next)
		;
	*pp = e;
	w->n++;
	pump(w);
	return 0;
}

/*- raw entries -------------------------------------------------------------*/

struct raw {
	writer_cb cb;
	void *data;
};

static void on_raw_done(void *data, int status, uint64_t index, void *result)
{
	struct raw *r = data;
	(void)index;
	r->cb(r->data, status, status == 0 ? result : NULL,
	      status == 0 ? "" : tdm_strerror(status));
	free(r);
}

int writer_submit_raw(struct writer *w, const void *buf, size_t len, writer_cb cb,
		      void *data, struct tdm_err *err)
{
	struct cluster_leader leader;
	struct raw *r;
	int rc;
	if (w->closing)
		return tdm_err_fail(err, TDM_ESHUTDOWN, "tandemd is shutting down");
	r = tdm_calloc(1, sizeof *r);
	r->cb = cb;
	r->data = data;
	rc = cluster_submit(w->cluster, buf, len, on_raw_done, r, &leader);
	if (rc != 0) {
		free(r);
		switch (rc) {
		case TDM_EINVAL:
			return tdm_err_fail(err, rc, "entry of %zu bytes refused: its length must be a non-zero multiple of %u",
					    len, CLUSTER_ENTRY_ALIGN);
		case TDM_ERANGE:
			return tdm_err_fail(err, rc, "entry of %zu bytes refused: larger than %u bytes",
					    len, CLUSTER_ENTRY_MAX);
		case TDM_ENOTLEADER:
			return tdm_err_fail(err, rc, "node %llu is not the leader (leader: %llu)",
					    (unsigned long long)w->cfg->node_id,
					    (unsigned long long)leader.id);
		default:
			return tdm_err_fail(err, rc, "entry not submitted: %s", tdm_strerror(rc));
		}
	}
	return 0;
}

/*- entries as control arguments -----------------------------------------------*/

int writer_entry_request(const void *buf, size_t len, struct control_request *req)
{
	const uint8_t *p = buf;
	size_t chunks = (2 * len + HEX_CHUNK - 1) / HEX_CHUNK, i, off = 0;
	if (chunks + 2 > CONTROL_MAX_ARGS)
		return TDM_ERANGE;
	req->flags = CONTROL_F_FORWARDED;
	req->argc = (int)chunks + 2;
	req->argv = tdm_calloc(chunks + 3, sizeof *req->argv);
	req->argv[0] = tdm_strdup("entry");
	req->argv[1] = tdm_strdup("submit");
	for (i = 0; i < chunks; i++) {
		size_t n = (len - off) * 2 > HEX_CHUNK ? HEX_CHUNK / 2 : len - off;
		char *h = tdm_malloc(2 * n + 1);
		tdm_hex_encode(p + off, n, h);
		req->argv[2 + i] = h;
		off += n;
	}
	return 0;
}

int writer_entry_from_args(int argc, char *const *argv, uint8_t **out, size_t *len,
			   struct tdm_err *err)
{
	size_t total = 0, off = 0;
	uint8_t *buf;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (n % 2 != 0)
			return tdm_err_fail(err, TDM_EINVAL,
					    "entry: hex argument %d has an odd number of digits", i + 1);
		total += n / 2;
	}
	if (total == 0)
		return tdm_err_fail(err, TDM_EINVAL, "entry: no bytes given");
	if (total > CLUSTER_ENTRY_MAX)
		return tdm_err_fail(err, TDM_ERANGE, "entry: %zu bytes, more than %u", total,
				    CLUSTER_ENTRY_MAX);
	buf = tdm_malloc(total);
	for (int i = 0; i < argc; i++)
		for (const char *h = argv[i]; *h; h += 2) {
			int hi = tdm_hex_digit(h[0]), lo = tdm_hex_digit(h[1]);
			if (hi < 0 || lo < 0) {
				free(buf);
				return tdm_err_fail(err, TDM_EINVAL,
						    "entry: hex argument %d: \"%c%c\" is not a hex byte",
						    i + 1, h[0], h[1]);
			}
			buf[off++] = (uint8_t)(hi << 4 | lo);
		}
	*out = buf;
	*len = total;
	return 0;
}
