/*
 * Leadership: libraft 0.15 has no state-change callback (raft_register_state_cb
 * came in 0.18.1), so a uv timer polls raft_state() every poll_ms (5 ms);
 * in the fixture the test's hook calls cluster__tick() after every event.
 *
 * On becoming leader the node commits a raft_barrier() before anything
 * else: 0.15 neither appends a no-op on election nor refuses to commit
 * previous-term entries by counting replicas (upstream #220, fixed in
 * 0.17.1), so until an entry of the new term commits the node must not act.
 * Only when the barrier of the current term commits does it accept writes
 * and tell its owner leader_ready.  Losing leadership (a state change, or a
 * new term) is reported at once through leader_lost, and queued writes are
 * refused with TDM_ENOTLEADER.
 *
 * Witness: libraft has no vote-only role, so a witness is a full voter that
 * never signs.  When it finds itself leader (and its barrier committed) it
 * transfers leadership to the best signing voter, and tries again every
 * election timeout while it stays leader.  It never reports leader_ready.
 */
#include "raft/internal.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

uint64_t cluster__now(struct cluster *c)
{
	return c->raft->io->time(c->raft->io);
}

bool cluster__is_witness(const struct cluster *c, uint64_t id)
{
	for (size_t i = 0; i < c->n_witness; i++)
		if (c->witness_ids[i] == id)
			return true;
	return false;
}

int cluster_set_witness(struct cluster *c, uint64_t id, bool witness)
{
	size_t i;
	if (id == 0)
		return TDM_EINVAL;
	if (id == c->id)
		c->witness = witness;
	for (i = 0; i < c->n_witness; i++)
		if (c->witness_ids[i] == id)
			break;
	if (witness && i == c->n_witness) {
		if (c->n_witness == CLUSTER_MAX_NODES)
			return TDM_ERANGE;
		c->witness_ids[c->n_witness++] = id;
	} else if (!witness && i < c->n_witness) {
		c->witness_ids[i] = c->witness_ids[--c->n_witness];
	}
	return 0;
}

bool cluster_is_leader_ready(const struct cluster *c)
{
	return c->ready && !c->closing && c->raft != NULL && c->raft->state == RAFT_LEADER &&
	       c->raft->current_term == c->leader_term;
}

void cluster_leader_get(struct cluster *c, struct cluster_leader *leader)
{
	raft_id id = 0;
	const char *addr = NULL;

	memset(leader, 0, sizeof *leader);
	if (c->raft == NULL)
		return;
	raft_leader(c->raft, &id, &addr);
	leader->id = id;
	if (addr != NULL)
		snprintf(leader->address, sizeof leader->address, "%s", addr);
}

/* Best voter to lead instead of us: not a witness, in recent contact,
 * highest match index.  Progress exists only while we lead. */
uint64_t cluster__pick_signer(struct cluster *c)
{
	struct raft *r = c->raft;
	uint64_t best = 0, best_match = 0;
	bool best_recent = false;

	for (unsigned i = 0; i < r->configuration.n; i++) {
		const struct raft_server *s = &r->configuration.servers[i];
		bool recent = false;
		uint64_t match = 0;
		if (s->id == c->id || s->role != RAFT_VOTER || cluster__is_witness(c, s->id))
			continue;
		if (r->state == RAFT_LEADER && r->leader_state.progress != NULL) {
			recent = r->leader_state.progress[i].recent_recv;
			match = r->leader_state.progress[i].match_index;
		}
		if (best == 0 || (recent && !best_recent) ||
		    (recent == best_recent && match > best_match)) {
			best = s->id;
			best_match = match;
			best_recent = recent;
		}
	}
	return best;
}

void cluster__lost(struct cluster *c)
{
	bool announced = c->announced;
	c->ready = false;
	c->announced = false;
	if (announced) {
		tdm_log_notice("cluster node %llu: no longer leader (term %llu)",
			       (unsigned long long)c->id, (unsigned long long)c->leader_term);
		if (c->events.leader_lost != NULL)
			c->events.leader_lost(c, c->events.data);
	}
}

/*- barrier on election -*/

static void barrier_cb(struct raft_barrier *req, int status)
{
	struct cluster *c = req->data;
	uint64_t term = c->barrier_term;

	c->barrier_pending = false;
	if (status != 0) {
		tdm_log_info("cluster node %llu: election barrier of term %llu: %s",
			     (unsigned long long)c->id, (unsigned long long)term,
			     raft_strerror(status));
		cluster__kick(c);
		return;
	}
	if (c->closing || c->raft->state != RAFT_LEADER || c->raft->current_term != term ||
	    term != c->leader_term)
		return;
	c->ready = true;
	tdm_log_notice("cluster node %llu: leader of term %llu, barrier committed at %llu%s",
		       (unsigned long long)c->id, (unsigned long long)term,
		       (unsigned long long)req->index, c->witness ? " (witness: handing on)" : "");
	if (!c->witness) {
		c->announced = true;
		if (c->events.leader_ready != NULL) {
			c->cb_depth++;
			c->events.leader_ready(c, c->events.data, term);
			c->cb_depth--;
		}
	}
	cluster__kick(c);
}

static void start_barrier(struct cluster *c)
{
	int rv;
	c->barrier.data = c;
	c->barrier_term = c->raft->current_term;
	rv = raft_barrier(c->raft, &c->barrier, barrier_cb);
	if (rv != 0) {
		tdm_log_warn("cluster node %llu: election barrier: %s",
			     (unsigned long long)c->id, raft_strerror(rv));
		return;
	}
	c->barrier_pending = true;
}

/*- transfer (user and witness) -*/

static void transfer_cb(struct raft_transfer *req)
{
	struct cluster *c = req->data;
	struct cluster_leader l;
	cluster_change_cb cb = c->transfer_cb;
	void *data = c->transfer_data;
	char msg[160];
	int status;

	c->transfer_pending = false;
	c->transfer_cb = NULL;
	cluster_leader_get(c, &l);
	if (c->transfer_target != 0 && l.id == c->transfer_target) {
		status = 0;
		snprintf(msg, sizeof msg, "leadership transferred to node %llu",
			 (unsigned long long)l.id);
	} else {
		status = TDM_ETIMEOUT;
		snprintf(msg, sizeof msg,
			 "transfer to node %llu did not complete; leader is %llu",
			 (unsigned long long)c->transfer_target, (unsigned long long)l.id);
	}
	tdm_log_notice("cluster node %llu: %s", (unsigned long long)c->id, msg);
	if (cb != NULL) {
		c->cb_depth++;
		cb(data, status, msg);
		c->cb_depth--;
	}
	cluster__kick(c);
}

/* @return 0 or a TDM code; on success transfer_cb will run. */
int cluster__transfer_start(struct cluster *c, uint64_t target, cluster_change_cb cb, void *data)
{
	int rv;
	if (c->transfer_pending)
		return TDM_EAGAIN;
	memset(&c->transfer, 0, sizeof c->transfer);
	c->transfer.data = c;
	rv = raft_transfer(c->raft, &c->transfer, target, transfer_cb);
	if (rv != 0)
		return cluster__code(rv);
	c->transfer_pending = true;
	c->transfer_target = target;
	c->transfer_cb = cb;
	c->transfer_data = data;
	return 0;
}

static void witness_hand_off(struct cluster *c)
{
	uint64_t now = cluster__now(c), target;
	int rv;

	if (c->transfer_pending || now < c->next_witness_transfer)
		return;
	c->next_witness_transfer = now + c->election_timeout_ms;
	target = cluster__pick_signer(c);
	if (target == 0) {
		tdm_log_warn("cluster node %llu: witness is leader but no signing voter "
			     "is available to take over", (unsigned long long)c->id);
		return;
	}
	rv = cluster__transfer_start(c, target, NULL, NULL);
	tdm_log_notice("cluster node %llu: witness hands leadership to node %llu%s%s",
		       (unsigned long long)c->id, (unsigned long long)target,
		       rv != 0 ? ": " : "", rv != 0 ? tdm_strerror(rv) : "");
}

/*- the poll -*/

static void note_contacts(struct cluster *c)
{
	struct raft *r = c->raft;
	uint64_t now = cluster__now(c);

	if (r->state != RAFT_LEADER || r->leader_state.progress == NULL)
		return;
	for (unsigned i = 0; i < r->configuration.n && i < CLUSTER_MAX_NODES; i++) {
		uint64_t id = r->configuration.servers[i].id;
		unsigned k;
		if (!r->leader_state.progress[i].recent_recv)
			continue;
		for (k = 0; k < CLUSTER_MAX_NODES; k++)
			if (c->peer_seen_id[k] == id || c->peer_seen_id[k] == 0)
				break;
		if (k == CLUSTER_MAX_NODES)
			continue;
		/* recent_recv is cleared once per election timeout: the last
		 * time we saw it set is the contact time, to within that. */
		c->peer_seen_id[k] = id;
		c->peer_seen[k] = now;
	}
}

void cluster__tick(struct cluster *c)
{
	struct raft *r = c->raft;
	int state;
	uint64_t term;

	if (r == NULL || c->closing)
		return;
	state = raft_state(r);
	term = r->current_term;

	if (state == RAFT_UNAVAILABLE && c->last_state != RAFT_UNAVAILABLE && !c->fatal_reported) {
		char msg[320];
		c->fatal_reported = true;
		snprintf(msg, sizeof msg, "node %llu stopped replicating: %s", (unsigned long long)c->id,
			 c->fatal_msg[0] != '\0' ? c->fatal_msg : "libraft turned it unavailable");
		tdm_log_err("cluster %s", msg);
		cluster__lost(c);
		cluster__fail_pending(c, TDM_ENOTLEADER);
		c->last_state = state;
		if (c->events.fatal != NULL)
			c->events.fatal(c, c->events.data, msg);
		return;
	}

	if (c->last_state == RAFT_LEADER && (state != RAFT_LEADER || term != c->leader_term)) {
		cluster__lost(c);
		c->ready = false;
		cluster__fail_pending(c, TDM_ENOTLEADER);
	}
	if (state == RAFT_LEADER && (c->last_state != RAFT_LEADER || term != c->leader_term)) {
		c->leader_term = term;
		c->ready = false;
		c->announced = false;
		c->next_witness_transfer = 0;
		tdm_log_info("cluster node %llu: elected leader of term %llu, committing barrier",
			     (unsigned long long)c->id, (unsigned long long)term);
	}
	c->last_state = state;

	if (state == RAFT_LEADER) {
		if (!c->ready && !c->barrier_pending)
			start_barrier(c);
		if (c->ready && c->witness)
			witness_hand_off(c);
		note_contacts(c);
	}
	cluster__pump(c);
}
