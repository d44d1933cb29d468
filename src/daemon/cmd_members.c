/*
 * Membership commands on the leader: `add NODE ADDRESS [--witness]`,
 * `remove NODE` and `transfer [NODE]`.  The Raft side goes through the
 * cluster wrapper; the ledger's node table (NODE_ADD / NODE_DEL, which
 * carry the key custody material) is kept in step by custody.c.
 */
#include "daemon/daemon_int.h"
#include "daemon/custody.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct change {
	struct daemon *d;
	struct control_conn *conn;
	uint64_t id;
	char verb[16];
};

static void reply_err(struct daemon *d, struct control_conn *conn, int rc, const char *msg)
{
	char *out = daemon__sprintf("error: %s\n", msg);
	daemon__reply(d, conn, rc == TDM_ENOTLEADER || rc == TDM_EAGAIN || rc == TDM_ESHUTDOWN ||
				       rc == TDM_ETIMEOUT ? CONTROL_EXIT_UNAVAILABLE : CONTROL_EXIT_FAIL,
		      out);
	free(out);
}

static void on_changed(void *data, int status, const char *msg)
{
	struct change *ch = data;
	struct daemon *d = ch->d;
	if (status != 0) {
		reply_err(d, ch->conn, status, msg);
	} else {
		char *out = daemon__sprintf("%s\n", msg);
		daemon__reply(d, ch->conn, CONTROL_EXIT_OK, out);
		free(out);
		custody_members_changed(d->custody);
	}
	free(ch);
}

static struct change *change_new(struct daemon *d, struct control_conn *conn, uint64_t id,
				 const char *verb)
{
	struct change *ch = tdm_calloc(1, sizeof *ch);
	ch->d = d;
	ch->conn = conn;
	ch->id = id;
	snprintf(ch->verb, sizeof ch->verb, "%s", verb);
	return ch;
}

void daemon__cmd_add(struct daemon *d, struct control_conn *conn,
		     const struct control_request *req, int argi)
{
	struct tdm_err err = { "" };
	bool witness = false;
	struct change *ch;
	uint64_t id;
	int rc, n = req->argc - argi;
	if (n == 3 && strcmp(req->argv[argi + 2], "--witness") == 0)
		witness = true;
	else if (n != 2) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE,
			      "usage: add NODE ADDRESS [--witness]   (ADDRESS: the node's Raft a.b.c.d:port)\n");
		return;
	}
	if (daemon__parse_id(req->argv[argi], &id) != 0) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "error: NODE must be a positive integer\n");
		return;
	}
	ch = change_new(d, conn, id, "add");
	rc = cluster_add(d->cluster, id, req->argv[argi + 1], witness, on_changed, ch, &err);
	if (rc != 0) {
		free(ch);
		if (rc == TDM_ENOTLEADER) {
			daemon__not_leader(d, conn, req);
			return;
		}
		reply_err(d, conn, rc, err.msg);
	}
}

void daemon__cmd_remove(struct daemon *d, struct control_conn *conn,
			const struct control_request *req, int argi)
{
	struct tdm_err err = { "" };
	struct change *ch;
	uint64_t id;
	int rc;
	if (req->argc - argi != 1 || daemon__parse_id(req->argv[argi], &id) != 0) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: remove NODE\n");
		return;
	}
	if (id == d->cfg->node_id) {
		daemon__reply(d, conn, CONTROL_EXIT_FAIL,
			      "error: the leader cannot remove itself: `transfer` leadership first, then remove it from the new leader\n");
		return;
	}
	ch = change_new(d, conn, id, "remove");
	rc = cluster_remove(d->cluster, id, on_changed, ch, &err);
	if (rc != 0) {
		free(ch);
		if (rc == TDM_ENOTLEADER) {
			daemon__not_leader(d, conn, req);
			return;
		}
		reply_err(d, conn, rc, err.msg);
	}
}

static void on_transferred(void *data, int status, const char *msg)
{
	struct change *ch = data;
	struct daemon *d = ch->d;
	struct cluster_leader leader;
	char *out;
	if (status != 0) {
		reply_err(d, ch->conn, status, msg);
		free(ch);
		return;
	}
	cluster_leader_get(d->cluster, &leader);
	out = daemon__sprintf("leadership transferred from node %llu to node %llu\n",
			      (unsigned long long)d->cfg->node_id, (unsigned long long)leader.id);
	daemon__reply(d, ch->conn, CONTROL_EXIT_OK, out);
	free(out);
	free(ch);
}

void daemon__cmd_transfer(struct daemon *d, struct control_conn *conn,
			  const struct control_request *req, int argi)
{
	struct tdm_err err = { "" };
	struct change *ch;
	uint64_t id = 0;
	int rc;
	if (req->argc - argi > 1 ||
	    (req->argc - argi == 1 && daemon__parse_id(req->argv[argi], &id) != 0)) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: transfer [NODE]\n");
		return;
	}
	if (id == d->cfg->node_id) {
		daemon__reply(d, conn, CONTROL_EXIT_OK, "this node is the leader already\n");
		return;
	}
	ch = change_new(d, conn, id, "transfer");
	rc = cluster_transfer(d->cluster, id, on_transferred, ch, &err);
	if (rc != 0) {
		free(ch);
		if (rc == TDM_ENOTLEADER) {
			daemon__not_leader(d, conn, req);
			return;
		}
		reply_err(d, conn, rc, err.msg);
	}
}
