/*
 * Membership: add, remove, transfer, and the offline recover.
 *
 * libraft allows one configuration change at a time (a second one gets
 * RAFT_CANTCHANGE); we keep one in the cluster object and answer
 * TDM_EAGAIN "another membership change is in progress" rather than
 * queueing, so the operator sees what is going on.  cluster_add() is two
 * changes: raft_add puts the node in as SPARE, then raft_assign VOTER lets
 * libraft catch it up (up to 10 rounds of 5 s) before it counts for quorum.
 * Adding it as a voter at once would count an empty node towards quorum.
 *
 * Recover (notes §5.11): raft_recover appends the forced configuration with
 * term 1 and a lone voter then leads without raising the term, so log
 * matching between the recovered node and any old data directory is broken.
 * Every other node must be wiped and re-added; we say so loudly.
 */
#include "raft/internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/log.h"


static int leader_check(struct cluster *c, struct tdm_err *err)
{
	if (c->closing)
		return tdm_err_fail(err, TDM_ESHUTDOWN, "node %llu is shutting down",
				    (unsigned long long)c->id);
	if (!cluster_is_leader_ready(c)) {
		struct cluster_leader l;
		cluster_leader_get(c, &l);
		if (l.id == 0)
			return tdm_err_fail(err, TDM_ENOTLEADER,
					    "node %llu is not the leader and no leader is known",
					    (unsigned long long)c->id);
		if (l.id == c->id)
			return tdm_err_fail(err, TDM_EAGAIN,
					    "node %llu was just elected: retry in a moment",
					    (unsigned long long)c->id);
		return tdm_err_fail(err, TDM_ENOTLEADER, "not the leader: node %llu at %s is",
				    (unsigned long long)l.id, l.address);
	}
	if (c->change_kind != CHANGE_NONE)
		return tdm_err_fail(err, TDM_EAGAIN,
				    "another membership change (node %llu) is in progress",
				    (unsigned long long)c->change_id);
	return 0;
}

static const struct raft_server *member(struct cluster *c, uint64_t id)
{
	for (unsigned i = 0; i < c->raft->configuration.n; i++)
		if (c->raft->configuration.servers[i].id == id)
			return &c->raft->configuration.servers[i];
	return NULL;
}

static void change_done(struct cluster *c, int status, const char *msg)
{
	cluster_change_cb cb = c->change_cb;
	void *data = c->change_data;

	c->change_kind = CHANGE_NONE;
	c->change_cb = NULL;
	if (status == 0)
		tdm_log_notice("cluster node %llu: %s", (unsigned long long)c->id, msg);
	else
		tdm_log_err("cluster node %llu: %s", (unsigned long long)c->id, msg);
	if (cb != NULL) {
		c->cb_depth++;
		cb(data, status, msg);
		c->cb_depth--;
	}
	cluster__kick(c);
}

static void change_cb(struct raft_change *req, int status)
{
	struct cluster *c = req->data;
	char msg[256];
	int rv;

	if (status != 0) {
		snprintf(msg, sizeof msg, "%s node %llu failed: %s%s",
			 c->change_kind == CHANGE_REMOVE ? "removing" :
			 c->change_kind == CHANGE_ADD ? "adding" : "promoting to voter",
			 (unsigned long long)c->change_id, raft_strerror(status),
			 c->change_kind == CHANGE_ASSIGN ?
				 " (it stays in the configuration as a spare; remove it or retry)" : "");
		change_done(c, status == RAFT_LEADERSHIPLOST ? TDM_ECLUSTER : cluster__code(status),
			    msg);
		return;
	}
	switch (c->change_kind) {
	case CHANGE_ADD:
		/* Committed as spare: now promote; libraft catches it up first. */
		c->change_kind = CHANGE_ASSIGN;
		rv = raft_assign(c->raft, &c->change, c->change_id, RAFT_VOTER, change_cb);
		if (rv != 0) {
			snprintf(msg, sizeof msg,
				 "node %llu added as spare, but promotion to voter failed: %s",
				 (unsigned long long)c->change_id, raft_strerror(rv));
			change_done(c, cluster__code(rv), msg);
		}
		return;
	case CHANGE_ASSIGN:
		snprintf(msg, sizeof msg, "node %llu added as voter%s",
			 (unsigned long long)c->change_id, c->change_witness ? " (witness)" : "");
		change_done(c, 0, msg);
		return;
	case CHANGE_REMOVE:
		cluster_set_witness(c, c->change_id, false);
		snprintf(msg, sizeof msg, "node %llu removed; stop it (it keeps running as a "
			 "harmless candidate until then)", (unsigned long long)c->change_id);
		change_done(c, 0, msg);
		return;
	case CHANGE_NONE:
		break;
	}
}

int cluster_add(struct cluster *c, uint64_t id, const char *address, bool witness,
		cluster_change_cb cb, void *data, struct tdm_err *err)
{
	int rv;

	if (id == 0)
		return tdm_err_fail(err, TDM_EINVAL, "node id 0 is not valid");
	if (!cluster__numeric_ipv4(address))
		return tdm_err_fail(err, TDM_EINVAL,
				    "node %llu: address \"%s\" is not numeric IPv4 a.b.c.d:port "
				    "(libraft 0.15 resolves no names)",
				    (unsigned long long)id, address != NULL ? address : "");
	rv = leader_check(c, err);
	if (rv != 0)
		return rv;
	if (member(c, id) != NULL)
		return tdm_err_fail(err, TDM_EEXIST, "node %llu is already a member",
				    (unsigned long long)id);
	for (unsigned i = 0; i < c->raft->configuration.n; i++)
		if (strcmp(c->raft->configuration.servers[i].address, address) == 0)
			return tdm_err_fail(err, TDM_EEXIST, "address %s is node %llu's",
					    address,
					    (unsigned long long)c->raft->configuration.servers[i].id);
	c->change.data = c;
	rv = raft_add(c->raft, &c->change, id, address, change_cb);
	if (rv != 0)
		return tdm_err_fail(err, cluster__code(rv), "adding node %llu at %s: %s",
				    (unsigned long long)id, address, raft_strerror(rv));
	c->change_kind = CHANGE_ADD;
	c->change_id = id;
	c->change_witness = witness;
	c->change_cb = cb;
	c->change_data = data;
	if (witness)
		cluster_set_witness(c, id, true);
	tdm_log_notice("cluster node %llu: adding node %llu at %s%s", (unsigned long long)c->id,
		       (unsigned long long)id, address, witness ? " (witness)" : "");
	return 0;
}

int cluster_remove(struct cluster *c, uint64_t id, cluster_change_cb cb, void *data,
		   struct tdm_err *err)
{
	int rv = leader_check(c, err);
	if (rv != 0)
		return rv;
	if (member(c, id) == NULL)
		return tdm_err_fail(err, TDM_ENOENT, "node %llu is not a member",
				    (unsigned long long)id);
	c->change.data = c;
	rv = raft_remove(c->raft, &c->change, id, change_cb);
	if (rv != 0)
		return tdm_err_fail(err, cluster__code(rv), "removing node %llu: %s",
				    (unsigned long long)id, raft_strerror(rv));
	c->change_kind = CHANGE_REMOVE;
	c->change_id = id;
	c->change_cb = cb;
	c->change_data = data;
	tdm_log_notice("cluster node %llu: removing node %llu", (unsigned long long)c->id,
		       (unsigned long long)id);
	return 0;
}

int cluster_transfer(struct cluster *c, uint64_t id, cluster_change_cb cb, void *data,
		     struct tdm_err *err)
{
	const struct raft_server *s;
	int rv;

	if (c->closing)
		return tdm_err_fail(err, TDM_ESHUTDOWN, "shutting down");
	if (raft_state(c->raft) != RAFT_LEADER) {
		struct cluster_leader l;
		cluster_leader_get(c, &l);
		return tdm_err_fail(err, TDM_ENOTLEADER, "not the leader (leader: node %llu %s)",
				    (unsigned long long)l.id, l.address);
	}
	if (c->transfer_pending)
		return tdm_err_fail(err, TDM_EAGAIN, "a leadership transfer is in progress");
	if (id == 0) {
		id = cluster__pick_signer(c);
		if (id == 0)
			return tdm_err_fail(err, TDM_ENOENT, "no signing voter to transfer to");
	} else {
		if (id == c->id)
			return tdm_err_fail(err, TDM_EINVAL, "node %llu is already the leader",
					    (unsigned long long)id);
		s = member(c, id);
		if (s == NULL || s->role != RAFT_VOTER)
			return tdm_err_fail(err, TDM_ENOENT, "node %llu is not a voter",
					    (unsigned long long)id);
		if (cluster__is_witness(c, id))
			return tdm_err_fail(err, TDM_EINVAL,
					    "node %llu is a witness: it would hand leadership on at once",
					    (unsigned long long)id);
	}
	rv = cluster__transfer_start(c, id, cb, data);
	if (rv != 0)
		return tdm_err_fail(err, rv, "transfer to node %llu: %s", (unsigned long long)id,
				    tdm_strerror(rv));
	tdm_log_notice("cluster node %llu: transferring leadership to node %llu",
		       (unsigned long long)c->id, (unsigned long long)id);
	return 0;
}

/*- recover -*/

const char *cluster_recover_warning(void)
{
	return "This node now holds a configuration in which it is the only voter. "
	       "NEVER restart another node of the old cluster with its old data directory: "
	       "raft_recover wrote the new configuration with term 1 and the survivor keeps "
	       "its term, so an old log could be taken as matching and committed entries "
	       "overwritten. For every other node: stop it, wipe its DataDirectory (raft/ "
	       "and state.db), start it with --join, and add it from this node with "
	       "`cluster-ctl add ID ADDRESS` (or copy this node's DataDirectory to it "
	       "while both are stopped).";
}

static void recover_close_cb(struct raft *r)
{
	bool *closed = r->data;
	*closed = true;
}

static int noop_apply(struct raft_fsm *f, const struct raft_buffer *b, void **res)
{
	(void)f;
	(void)b;
	*res = NULL;
	return 0;
}

int cluster_recover(const struct cluster_config *cfg, struct tdm_err *err)
{
	uv_loop_t loop;
	struct raft_uv_transport tcp;
	struct raft_io io;
	struct raft_fsm fsm = { .version = 1, .apply = noop_apply };
	struct raft r;
	struct raft_configuration conf;
	char dir[4096];
	bool closed = false;
	int lock_fd = -1, rv, ret = 0;

	if (cfg->id == 0 || cfg->address == NULL || cfg->data_dir == NULL)
		return tdm_err_fail(err, TDM_EINVAL, "recover needs the node id, address and data directory");
	if ((size_t)snprintf(dir, sizeof dir, "%s/raft", cfg->data_dir) >= sizeof dir)
		return tdm_err_fail(err, TDM_EINVAL, "data directory path too long");
	if (access(dir, F_OK) != 0)
		return tdm_err_fail(err, TDM_ENOENT, "%s: no raft log to recover", dir);
	rv = cluster__lock_data_dir(cfg->data_dir, &lock_fd, err);
	if (rv != 0)
		return rv;

	uv_loop_init(&loop);
	raft_uv_tcp_init(&tcp, &loop);
	rv = raft_uv_init(&io, &loop, dir, &tcp);
	if (rv != 0) {
		ret = tdm_err_fail(err, TDM_EIO, "%s: %s", dir, io.errmsg);
		raft_uv_tcp_close(&tcp);
		goto out_loop;
	}
	raft_uv_set_auto_recovery(&io, false);
	rv = raft_init(&r, &io, &fsm, cfg->id, cfg->address);
	if (rv != 0) {
		ret = tdm_err_fail(err, TDM_ECLUSTER, "%s: raft_init: %s", dir, raft_errmsg(&r));
		raft_uv_close(&io);
		raft_uv_tcp_close(&tcp);
		goto out_loop;
	}
	raft_configuration_init(&conf);
	raft_configuration_add(&conf, cfg->id, cfg->address, RAFT_VOTER);
	rv = raft_recover(&r, &conf);
	raft_configuration_close(&conf);
	if (rv != 0)
		ret = tdm_err_fail(err, rv == RAFT_CORRUPT ? TDM_ECLUSTER : cluster__code(rv),
				   "%s: raft_recover: %s: %s", dir, raft_strerror(rv),
				   raft_errmsg(&r));
	r.data = &closed;
	raft_close(&r, recover_close_cb);
	while (!closed)
		uv_run(&loop, UV_RUN_ONCE);
	raft_uv_close(&io);
	raft_uv_tcp_close(&tcp);
	if (ret == 0)
		tdm_log_warn("cluster node %llu: recovered as the only voter. %s",
			     (unsigned long long)cfg->id, cluster_recover_warning());
out_loop:
	uv_run(&loop, UV_RUN_NOWAIT);
	if (uv_loop_close(&loop) != 0) {
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
	}
	close(lock_fd);
	return ret;
}
