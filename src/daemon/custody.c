/*
 * Key custody in tandemd (see custody.h): the node table reconciliation
 * and the custody commands.
 *
 * Reconciliation runs on the leader only (at leader_ready, after a
 * membership change, and every RECONCILE_MS): for each member of the Raft
 * configuration without a row in the ledger's node table it commits a
 * NODE_ADD; for each row whose node left the configuration, a NODE_DEL.
 * One command is in flight at a time, so the table converges without
 * duplicate NODE_ADDs (a duplicate would only be refused, EXISTS).
 */
#include "daemon/custody.h"
#include "daemon/daemon_int.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECONCILE_MS 5000

struct custody {
	struct daemon *d;
	uv_timer_t timer;
	bool busy;           /* a NODE_ADD / NODE_DEL is in flight */
};

static void reconcile(struct custody *cu);

static void on_timer(uv_timer_t *t)
{
	reconcile(t->data);
}

int custody_new(struct custody **out, struct daemon *d, struct tdm_err *err)
{
	struct custody *cu = tdm_calloc(1, sizeof *cu);
	(void)err;
	cu->d = d;
	uv_timer_init(&d->loop, &cu->timer);
	cu->timer.data = cu;
	*out = cu;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	free(h->data);
}

void custody_close(struct custody *cu)
{
	if (cu == NULL)
		return;
	uv_close((uv_handle_t *)&cu->timer, on_closed);
}

bool custody_enabled(const struct custody *cu)
{
	(void)cu;
	return false;
}

const uint8_t *custody_transport_pubkey(struct custody *cu, size_t *len)
{
	(void)cu;
	*len = 0;
	return NULL;
}

/*- node table -------------------------------------------------------------*/

static void on_node_cmd(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct custody *cu = data;
	cu->busy = false;
	if (status != 0)
		tdm_log_warn("node %llu: updating the node table: %s",
			     (unsigned long long)cu->d->cfg->node_id, msg);
	else if (res->status != LEDGER_OK && res->status != LEDGER_DUPLICATE)
		tdm_log_warn("node %llu: node table: %s %s", (unsigned long long)cu->d->cfg->node_id,
			     ledger_status_name(res->status), res->msg);
	if (!cu->d->stopping && status == 0)
		reconcile(cu); /* next difference, if any */
}

static void reconcile(struct custody *cu)
{
	struct daemon *d = cu->d;
	struct cluster_status *st;
	struct ledger_node *nodes = NULL;
	struct ledger_cmd cmd;
	struct tdm_err err = { "" };
	size_t n = 0;
	bool submitted = false;

	if (d->stopping || cu->busy || !cluster_is_leader_ready(d->cluster))
		return;
	uv_timer_start(&cu->timer, on_timer, RECONCILE_MS, 0);
	if (ledger_node_list(d->ledger, &nodes, &n, &err) != 0) {
		tdm_log_err("node %llu: reading the node table: %s",
			    (unsigned long long)d->cfg->node_id, err.msg);
		return;
	}
	st = tdm_malloc(sizeof *st);
	cluster_status_get(d->cluster, st);
	for (size_t i = 0; i < st->n_peers && !submitted; i++) {
		const struct cluster_peer_status *p = &st->peers[i];
		bool known = false;
		for (size_t k = 0; k < n; k++)
			known |= nodes[k].node_id == p->id;
		if (known)
			continue;
		memset(&cmd, 0, sizeof cmd);
		cmd.type = LEDGER_CMD_NODE_ADD;
		cmd.node.node_id = p->id;
		cmd.node.address = ledger_str(p->address);
		cmd.node.witness = p->witness;
		submitted = true;
	}
	for (size_t k = 0; k < n && !submitted; k++) {
		bool member = false;
		for (size_t i = 0; i < st->n_peers; i++)
			member |= st->peers[i].id == nodes[k].node_id;
		if (member)
			continue;
		memset(&cmd, 0, sizeof cmd);
		cmd.type = LEDGER_CMD_NODE_DEL;
		cmd.node.node_id = nodes[k].node_id;
		submitted = true;
	}
	if (submitted) {
		tdm_log_info("node %llu: node table: %s node %llu",
			     (unsigned long long)d->cfg->node_id,
			     cmd.type == LEDGER_CMD_NODE_ADD ? "adding" : "removing",
			     (unsigned long long)cmd.node.node_id);
		if (writer_submit(d->writer, &cmd, on_node_cmd, cu, &err) == 0)
			cu->busy = true;
		else
			tdm_log_warn("node %llu: node table: %s", (unsigned long long)d->cfg->node_id,
				     err.msg);
	}
	free(st);
	ledger_node_list_free(nodes, n);
}

void custody_on_leader(struct custody *cu)
{
	reconcile(cu);
}

void custody_members_changed(struct custody *cu)
{
	reconcile(cu);
}

void custody_on_apply(struct custody *cu, const struct ledger_result *res, const void *buf,
		      size_t len)
{
	(void)cu;
	(void)res;
	(void)buf;
	(void)len;
}

void custody_on_restore(struct custody *cu)
{
	(void)cu;
}

/*- commands -----------------------------------------------------------------*/

void daemon__cmd_custody_pubkey(struct daemon *d, struct control_conn *conn,
				const struct control_request *req, int argi)
{
	size_t len;
	const uint8_t *pk = custody_transport_pubkey(d->custody, &len);
	char *out;
	(void)req;
	(void)argi;
	if (pk == NULL) {
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, "error: this node has no key custody\n");
		return;
	}
	out = tdm_malloc(2 * len + 2);
	for (size_t i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", pk[i]);
	strcpy(out + 2 * len, "\n");
	daemon__reply(d, conn, CONTROL_EXIT_OK, out);
	free(out);
}

void daemon__cmd_key_generate(struct daemon *d, struct control_conn *conn,
			      const struct control_request *req, int argi)
{
	(void)req;
	(void)argi;
	daemon__reply(d, conn, CONTROL_EXIT_FAIL,
		      "error: key generate: key custody is not available in this build "
		      "(the HSM wrap/unwrap primitives are missing)\n");
}

void daemon__cmd_key_list(struct daemon *d, struct control_conn *conn,
			  const struct control_request *req, int argi)
{
	struct ledger_key *keys = NULL;
	struct tdm_err err = { "" };
	size_t n = 0;
	char *out;
	if (ledger_key_list(d->ledger, req->argc > argi ? req->argv[argi] : NULL, &keys, &n,
			    &err) != 0) {
		out = daemon__sprintf("error: %s\n", err.msg);
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, out);
		free(out);
		return;
	}
	{
		struct tdm_json j;
		size_t cap = 256 + n * 200, len = 0;
		bool json = daemon__json(conn);
		tdm_json_init(&j);
		out = tdm_malloc(cap);
		out[0] = '\0';
		if (json)
			tdm_json_array_begin(&j);
		else
			len += (size_t)snprintf(out, cap, "%-34s %-4s %-9s %-7s %s\n", "KEY", "ROLE",
						"ALGORITHM", "KEYTAG", "SCOPE");
		for (size_t i = 0; i < n; i++) {
			const struct ledger_key *k = &keys[i];
			const char *role = k->role == LEDGER_ROLE_KSK ? "KSK" :
					   k->role == LEDGER_ROLE_ZSK ? "ZSK" : "CSK";
			if (json) {
				tdm_json_object_begin(&j);
				tdm_json_kv_string(&j, "key", k->key_id);
				tdm_json_kv_string(&j, "role", role);
				tdm_json_kv_uint(&j, "algorithm", k->algorithm);
				tdm_json_kv_uint(&j, "keytag", k->key_tag);
				tdm_json_kv_string(&j, "scope", k->scope_name);
				tdm_json_kv_uint(&j, "wrapped_bytes", k->wrapped_private_len);
				tdm_json_object_end(&j);
			} else {
				len += (size_t)snprintf(out + len, cap - len, "%-34s %-4s %-9u %-7u %s\n",
							k->key_id, role, k->algorithm, k->key_tag,
							k->scope_name);
			}
		}
		if (json) {
			tdm_json_array_end(&j);
			free(out);
			out = daemon__sprintf("%s\n", tdm_json_text(&j));
		}
		tdm_json_free(&j);
	}
	daemon__reply(d, conn, CONTROL_EXIT_OK, out);
	free(out);
	ledger_key_list_free(keys, n);
}
