/*
 * Submission: the only place that calls raft_apply().
 *
 * Rules enforced here (notes/libraft-0.15.md §5):
 *  - an entry's length is a non-zero multiple of 8 bytes (0.15 silently
 *    corrupts followers and, after a restart, the whole log otherwise) and
 *    at most CLUSTER_ENTRY_MAX (large entries stall heartbeats and bloat the
 *    in-memory log); we refuse, we never pad: the encoder owns the framing;
 *  - the payload is copied into raft_malloc memory, which raft owns once
 *    raft_apply() returns 0 and we free otherwise;
 *  - writes are accepted only after the post-election barrier committed;
 *  - at most max_in_flight entries are inside libraft; up to max_queued
 *    more wait here in order, and are refused with TDM_ENOTLEADER (never
 *    appended, safe to forward) if leadership goes before they are sent;
 *  - RAFT_LEADERSHIPLOST / RAFT_SHUTDOWN in a callback are "outcome
 *    unknown" (TDM_ECLUSTER / TDM_ESHUTDOWN), never "not applied".
 *
 * Worker threads use cluster_submit_threadsafe(): a mutex-protected list
 * and uv_async_send(), the one thread-safe libuv call; it coalesces, so
 * the loop side drains the whole list.  A worker blocks on a condition
 * variable while max_queued items are waiting.
 */
#include "raft/internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/*- lists -*/

void cluster__list_push(struct cluster_list *l, struct cluster_sub *s)
{
	s->next = NULL;
	s->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = s;
	else
		l->head = s;
	l->tail = s;
	l->n++;
}

void cluster__list_remove(struct cluster_list *l, struct cluster_sub *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		l->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		l->tail = s->prev;
	s->next = s->prev = NULL;
	l->n--;
}

struct cluster_sub *cluster__list_pop(struct cluster_list *l)
{
	struct cluster_sub *s = l->head;
	if (s != NULL)
		cluster__list_remove(l, s);
	return s;
}

/*- validation -*/

static int check_entry(size_t len)
{
	if (len == 0 || len % CLUSTER_ENTRY_ALIGN != 0)
		return TDM_EINVAL;
	if (len > CLUSTER_ENTRY_MAX)
		return TDM_ERANGE;
	return 0;
}

static struct cluster_sub *sub_new(struct cluster *c, const void *buf, size_t len,
				   cluster_submit_cb cb, void *data)
{
	struct cluster_sub *s = tdm_calloc(1, sizeof *s);
	s->c = c;
	s->cb = cb;
	s->data = data;
	s->buf.len = len;
	s->buf.base = raft_malloc(len);
	if (s->buf.base == NULL) {
		tdm_log_err("out of memory (%zu bytes)", len);
		abort();
	}
	memcpy(s->buf.base, buf, len);
	s->req.data = s;
	return s;
}

static void sub_finish(struct cluster_sub *s, int status, uint64_t index)
{
	struct cluster *c = s->c;
	void *result = s->has_result ? s->result : NULL;

	if (s->buf.base != NULL) /* never handed to raft */
		raft_free(s->buf.base);
	if (s->cb != NULL)
		s->cb(s->data, status, index, status == 0 ? result : NULL);
	if (result != NULL && c->ops.result_free != NULL)
		c->ops.result_free(c->ctx, result);
	free(s);
}

/*- raft_apply -*/

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct cluster_sub *s = req->data;
	struct cluster *c = s->c;
	int code;

	(void)result; /* the adapter stashed it in s->result */
	cluster__list_remove(&c->in_flight, s);
	switch (status) {
	case 0:
		code = 0;
		break;
	case RAFT_SHUTDOWN:
		code = TDM_ESHUTDOWN;
		break;
	case RAFT_LEADERSHIPLOST:
	default:
		/* Appended, fate unknown: the next leader may commit it. */
		code = TDM_ECLUSTER;
		break;
	}
	if (code != 0)
		tdm_log_info("cluster node %llu: entry %llu: %s: outcome unknown, "
			     "the submitter retries with the same command id",
			     (unsigned long long)c->id, (unsigned long long)req->index,
			     raft_strerror(status));
	c->cb_depth++;
	sub_finish(s, code, req->index);
	c->cb_depth--;
	/* Do not call raft_* from inside a libraft callback: let the loop do it. */
	cluster__kick(c);
}

/* Hand one submission to libraft.  @return 0 or a code (s untouched). */
static int sub_apply(struct cluster *c, struct cluster_sub *s)
{
	int rv = raft_apply(c->raft, &s->req, &s->buf, 1, apply_cb);
	if (rv != 0)
		return rv == RAFT_NOTLEADER || rv == RAFT_LEADERSHIPLOST ? TDM_ENOTLEADER
									 : cluster__code(rv);
	s->buf.base = NULL; /* raft's now */
	s->in_raft = true;
	cluster__list_push(&c->in_flight, s);
	return 0;
}

struct cluster_sub *cluster__find_in_flight(struct cluster *c, uint64_t index)
{
	for (struct cluster_sub *s = c->in_flight.head; s != NULL; s = s->next)
		if (s->req.index == index)
			return s;
	return NULL;
}

static bool accepting(struct cluster *c)
{
	return !c->closing && c->raft != NULL && raft_state(c->raft) == RAFT_LEADER && c->ready &&
	       c->raft->current_term == c->leader_term;
}

void cluster__fail_pending(struct cluster *c, int status)
{
	struct cluster_sub *s;
	while ((s = cluster__list_pop(&c->pending)) != NULL)
		sub_finish(s, status, 0);
}

void cluster__pump(struct cluster *c)
{
	struct cluster_sub *s;
	int rv;

	cluster__drain_handoff(c);
	if (c->pending.n == 0)
		return;
	if (!accepting(c)) {
		/* A leader whose barrier is pending keeps its queue; anyone
		 * else refuses it: those entries were never appended. */
		if (c->closing)
			cluster__fail_pending(c, TDM_ESHUTDOWN);
		else if (raft_state(c->raft) != RAFT_LEADER)
			cluster__fail_pending(c, TDM_ENOTLEADER);
		return;
	}
	while (c->in_flight.n < c->max_in_flight && (s = cluster__list_pop(&c->pending)) != NULL) {
		rv = sub_apply(c, s);
		if (rv != 0)
			sub_finish(s, rv, 0);
	}
	cluster__drain_handoff(c);
}

int cluster_submit(struct cluster *c, const void *buf, size_t len, cluster_submit_cb cb,
		   void *data, struct cluster_leader *leader)
{
	struct cluster_sub *s;
	int rv;

	rv = check_entry(len);
	if (rv != 0)
		return rv;
	if (c->closing)
		return TDM_ESHUTDOWN;
	if (raft_state(c->raft) != RAFT_LEADER) {
		if (leader != NULL)
			cluster_leader_get(c, leader);
		return TDM_ENOTLEADER;
	}
	if (!accepting(c))
		return TDM_EAGAIN; /* leader, barrier not committed yet */
	if (c->pending.n >= c->max_queued)
		return TDM_EAGAIN;

	s = sub_new(c, buf, len, cb, data);
	if (c->pending.n == 0 && c->in_flight.n < c->max_in_flight && c->cb_depth == 0) {
		rv = sub_apply(c, s);
		if (rv != 0) {
			raft_free(s->buf.base);
			free(s);
			if (rv == TDM_ENOTLEADER && leader != NULL)
				cluster_leader_get(c, leader);
			return rv;
		}
		return 0;
	}
	cluster__list_push(&c->pending, s);
	cluster__kick(c);
	return 0;
}

/*- hand-off from other threads -*/

int cluster_submit_threadsafe(struct cluster *c, const void *buf, size_t len,
			      cluster_submit_cb cb, void *data)
{
	struct cluster_sub *s;
	int rv = check_entry(len);
	if (rv != 0)
		return rv;
	/* Copy outside the lock and off the loop thread. */
	s = sub_new(c, buf, len, cb, data);
	pthread_mutex_lock(&c->lock);
	while (!c->handoff_closed && c->handoff.n >= c->max_queued)
		pthread_cond_wait(&c->room, &c->lock);
	if (c->handoff_closed) {
		pthread_mutex_unlock(&c->lock);
		raft_free(s->buf.base);
		free(s);
		return TDM_ESHUTDOWN;
	}
	cluster__list_push(&c->handoff, s);
	pthread_mutex_unlock(&c->lock);
	if (c->async_inited)
		uv_async_send(&c->async);
	return 0;
}

void cluster__drain_handoff(struct cluster *c)
{
	struct cluster_sub *s;
	bool moved = false;

	if (!c->lock_inited)
		return;
	pthread_mutex_lock(&c->lock);
	while (c->handoff.n > 0 && c->pending.n < c->max_queued) {
		s = cluster__list_pop(&c->handoff);
		cluster__list_push(&c->pending, s);
		moved = true;
	}
	if (moved)
		pthread_cond_broadcast(&c->room);
	pthread_mutex_unlock(&c->lock);
}

void cluster__close_handoff(struct cluster *c)
{
	struct cluster_list left = { NULL, NULL, 0 };
	struct cluster_sub *s;

	if (!c->lock_inited)
		return;
	pthread_mutex_lock(&c->lock);
	c->handoff_closed = true;
	left = c->handoff;
	c->handoff.head = c->handoff.tail = NULL;
	c->handoff.n = 0;
	pthread_cond_broadcast(&c->room);
	pthread_mutex_unlock(&c->lock);
	while ((s = cluster__list_pop(&left)) != NULL)
		sub_finish(s, TDM_ESHUTDOWN, 0);
}

void cluster__kick(struct cluster *c)
{
	if (c->async_inited && !c->closing)
		uv_async_send(&c->async);
}
