/*
 * Status for cluster-ctl and /metrics: what this node knows about itself and
 * its peers.
 *
 * libraft 0.15 has no accessor for replication progress; struct raft and
 * struct raft_progress are in the public header, and leader_state.progress
 * is indexed like configuration.servers.  This file is the only reader of
 * those fields, so a libraft that hides them changes one file.  Contact
 * times come from the leader's poll (recent_recv, cleared once per election
 * timeout) and, on a follower, from the election timer, which restarts
 * whenever the leader is heard.
 */
#include "raft/internal.h"

#include <stdio.h>
#include <string.h>

const char *cluster_role_name(enum cluster_role role)
{
	switch (role) {
	case CLUSTER_FOLLOWER: return "follower";
	case CLUSTER_CANDIDATE: return "candidate";
	case CLUSTER_LEADER: return "leader";
	case CLUSTER_UNAVAILABLE: break;
	}
	return "unavailable";
}

const char *cluster_member_role_name(enum cluster_member_role role)
{
	switch (role) {
	case CLUSTER_STANDBY: return "standby";
	case CLUSTER_SPARE: return "spare";
	case CLUSTER_VOTER: break;
	}
	return "voter";
}

static enum cluster_member_role member_role(int role)
{
	return role == RAFT_STANDBY ? CLUSTER_STANDBY :
	       role == RAFT_SPARE ? CLUSTER_SPARE : CLUSTER_VOTER;
}

void cluster_status_get(struct cluster *c, struct cluster_status *st)
{
	struct raft *r = c->raft;
	struct cluster_leader l;
	uint64_t now;

	memset(st, 0, sizeof *st);
	st->id = c->id;
	snprintf(st->address, sizeof st->address, "%s", c->address);
	st->witness = c->witness;
	st->leader_contact_ms = -1;
	st->election_timeout_ms = c->election_timeout_ms;
	st->heartbeat_ms = c->heartbeat_ms;
	st->snapshot_threshold = c->threshold;
	st->snapshot_trailing = c->trailing;
	st->in_flight = c->in_flight.n;
	st->queued = c->pending.n;
	if (r == NULL || c->closing) {
		st->role = CLUSTER_UNAVAILABLE;
		return;
	}
	if (st->address[0] == '\0' && r->address != NULL)
		snprintf(st->address, sizeof st->address, "%s", r->address);
	switch (raft_state(r)) {
	case RAFT_FOLLOWER: st->role = CLUSTER_FOLLOWER; break;
	case RAFT_CANDIDATE: st->role = CLUSTER_CANDIDATE; break;
	case RAFT_LEADER: st->role = CLUSTER_LEADER; break;
	default: st->role = CLUSTER_UNAVAILABLE; break;
	}
	st->leader_ready = cluster_is_leader_ready(c);
	st->term = r->current_term;
	st->commit_index = r->commit_index;
	st->last_applied = raft_last_applied(r);
	st->last_index = raft_last_index(r);
	st->snapshot_index = r->log.snapshot.last_index;
	cluster_leader_get(c, &l);
	st->leader_id = l.id;
	snprintf(st->leader_address, sizeof st->leader_address, "%s", l.address);
	now = cluster__now(c);
	if (r->state == RAFT_FOLLOWER && l.id != 0 && now >= r->election_timer_start)
		st->leader_contact_ms = (int64_t)(now - r->election_timer_start);

	for (unsigned i = 0; i < r->configuration.n && st->n_peers < CLUSTER_MAX_NODES; i++) {
		const struct raft_server *s = &r->configuration.servers[i];
		struct cluster_peer_status *p = &st->peers[st->n_peers++];
		p->id = s->id;
		snprintf(p->address, sizeof p->address, "%s", s->address);
		p->member = member_role(s->role);
		p->witness = cluster__is_witness(c, s->id);
		p->last_contact_ms = -1;
		if (s->id == c->id) {
			p->last_contact_ms = 0;
			p->match_index = raft_last_index(r);
			p->next_index = p->match_index + 1;
			p->progress_known = true;
			continue;
		}
		if (r->state == RAFT_LEADER && r->leader_state.progress != NULL) {
			p->progress_known = true;
			p->match_index = r->leader_state.progress[i].match_index;
			p->next_index = r->leader_state.progress[i].next_index;
			for (unsigned k = 0; k < CLUSTER_MAX_NODES; k++)
				if (c->peer_seen_id[k] == s->id && now >= c->peer_seen[k]) {
					p->last_contact_ms = (int64_t)(now - c->peer_seen[k]);
					break;
				}
		} else if (s->id == l.id) {
			p->last_contact_ms = st->leader_contact_ms;
		}
	}
}
