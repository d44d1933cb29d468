/*
 * Key custody in tandemd (see custody.h).
 *
 * The node table.  The leader reconciles the ledger's node table with the
 * Raft configuration (at leader_ready, after add/remove, every
 * RECONCILE_MS), one command at a time:
 *  1. no node row carries a KEK yet: this is a new cluster.  The leader
 *     creates the KEK in its token (unless it has one) and commits its own
 *     NODE_ADD with the KEK wrapped under its own transport key: that row
 *     is the ledger's record that the cluster has a KEK, so no later
 *     leader makes a second one;
 *  2. a member without a row: the leader asks it for its transport public
 *     key (`custody pubkey` over the forward listener), wraps the KEK for
 *     it and commits NODE_ADD (a node that does not answer is retried at
 *     the next round: no row is ever written without its key);
 *  3. a row without key material while custody is on (written by a node
 *     without a repository), or a row whose node left the configuration:
 *     NODE_DEL (the member gets a complete row at the next round).
 * Without a <Repository> the node table is kept without key material.
 *
 * Receiving the KEK.  A node that applies a NODE_ADD for itself, or finds
 * its row after a snapshot install or at start, unwraps the KEK into its
 * token (hsm_kek_unwrap; "exists" means it has it already).
 *
 * DNSSEC keys.  `key generate` on the leader generates an extractable
 * session key pair on a libuv worker thread (RSA generation takes long
 * enough to stall heartbeats on the loop), wraps its private half under
 * the KEK and commits KEY_CREATE.  Any node turns a key of the ledger into
 * a session object on first use (custody_key_get, hsm_key_unwrap).
 */
#include "daemon/custody.h"
#include "daemon/daemon_int.h"
#include "daemon/peer_client.h"
#include "daemon/writer.h"
#include "common/hex.h"
#include "common/log.h"
#include "hsm/hsm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECONCILE_MS 5000
#define PUBKEY_CALL_MS 3000
/* Keys generated outside any zone or policy (tandem-hsmutil generate) belong here. */
#define CUSTODY_DEFAULT_POLICY "unassigned"

struct custody {
	struct daemon *d;
	struct hsm_ctx *hsm;         /* NULL: no custody */
	const char *repository;
	uint8_t *pubkey;             /* transport public key, DER SPKI */
	size_t pubkey_len;
	uv_timer_t timer;
	bool busy;                   /* a reconcile step is in flight */
	bool closing;
};

static void reconcile(struct custody *cu);

struct hsm_ctx *custody_hsm(struct custody *cu)
{
	return cu ? cu->hsm : NULL;
}

const char *custody_repository(const struct custody *cu)
{
	return cu && cu->hsm ? cu->repository : NULL;
}

bool custody_has_kek(struct custody *cu)
{
	return cu && cu->hsm && hsm_kek_exists(cu->hsm);
}

static void on_timer(uv_timer_t *t)
{
	reconcile(t->data);
}

static unsigned long long node_id(const struct custody *cu)
{
	return (unsigned long long)cu->d->cfg->node_id;
}

int custody_new(struct custody **out, struct daemon *d, struct tdm_err *err)
{
	struct custody *cu = tdm_calloc(1, sizeof *cu);
	const struct tdm_conf *conf = d->conf;
	bool created = false;
	int rc;
	cu->d = d;
	uv_timer_init(&d->loop, &cu->timer);
	cu->timer.data = cu;
	*out = cu;
	if (conf->n_repositories == 0) {
		tdm_log_warn("node %llu: no <Repository> in %s: running without key custody",
			     node_id(cu), conf->path ? conf->path : "conf.xml");
		return 0;
	}
	const struct tdm_repository *r = &conf->repositories[0];
	cu->repository = r->name;
	rc = hsm_ctx_open(&cu->hsm, r->name, r->module, r->token_label, r->pin, err);
	if (rc == 0)
		rc = hsm_transport_ensure(cu->hsm, &created, err);
	if (rc == 0)
		rc = hsm_transport_public_der(cu->hsm, &cu->pubkey, &cu->pubkey_len, err);
	if (rc != 0) {
		tdm_err_wrap(err, "key custody, repository %s", r->name);
		return rc;
	}
	tdm_log_notice("node %llu: key custody in repository %s: transport key %s%s",
		       node_id(cu), r->name, created ? "created" : "present",
		       hsm_kek_exists(cu->hsm) ? ", cluster KEK present" : ", no cluster KEK yet");
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct custody *cu = h->data;
	hsm_ctx_close(cu->hsm);
	free(cu->pubkey);
	free(cu);
}

void custody_close(struct custody *cu)
{
	if (cu == NULL)
		return;
	cu->closing = true;
	uv_close((uv_handle_t *)&cu->timer, on_closed);
}

bool custody_enabled(const struct custody *cu)
{
	return cu != NULL && cu->hsm != NULL;
}

const uint8_t *custody_transport_pubkey(struct custody *cu, size_t *len)
{
	*len = cu && cu->pubkey ? cu->pubkey_len : 0;
	return cu ? cu->pubkey : NULL;
}

/*- receiving the KEK --------------------------------------------------------*/

static void take_kek(struct custody *cu, const uint8_t *blob, size_t len)
{
	struct tdm_err err = { "" };
	int rc;
	if (!custody_enabled(cu) || len == 0 || hsm_kek_exists(cu->hsm))
		return;
	rc = hsm_kek_unwrap(cu->hsm, blob, len, &err);
	if (rc == 0)
		tdm_log_notice("node %llu: cluster KEK received and unwrapped into repository %s",
			       node_id(cu), cu->repository);
	else if (rc != TDM_EEXIST)
		tdm_log_err("node %llu: cannot unwrap the cluster KEK of my NODE_ADD: %s",
			    node_id(cu), err.msg);
}

/* Look for this node's row and take the KEK from it (start, snapshot install). */
static void check_own_row(struct custody *cu)
{
	struct ledger_node *nodes = NULL;
	struct tdm_err err = { "" };
	size_t n = 0;
	if (!custody_enabled(cu) || hsm_kek_exists(cu->hsm))
		return;
	if (ledger_node_list(cu->d->ledger, &nodes, &n, &err) != 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (nodes[i].node_id == cu->d->cfg->node_id)
			take_kek(cu, nodes[i].wrapped_kek, nodes[i].wrapped_kek_len);
	ledger_node_list_free(nodes, n);
}

void custody_on_apply(struct custody *cu, const struct ledger_result *res, const void *buf,
		      size_t len)
{
	struct ledger_cmd cmd;
	struct tdm_err err = { "" };
	if (!custody_enabled(cu) || res->status != LEDGER_OK || res->type != LEDGER_CMD_NODE_ADD)
		return;
	if (ledger_cmd_decode(buf, len, &cmd, &err) == 0 &&
	    cmd.node.node_id == cu->d->cfg->node_id)
		take_kek(cu, cmd.node.wrapped_kek.data, cmd.node.wrapped_kek.len);
	ledger_cmd_clear(&cmd);
}

void custody_on_restore(struct custody *cu)
{
	check_own_row(cu);
}

void custody_on_start(struct custody *cu)
{
	check_own_row(cu);
}

/*- the node table (leader) ------------------------------------------------------*/

struct step {
	struct custody *cu;
	uint64_t id;
	char address[CLUSTER_ADDR_MAX];
	bool witness;
};

static void step_end(struct custody *cu, bool again)
{
	cu->busy = false;
	if (again && !cu->closing && !cu->d->stopping)
		reconcile(cu);
}

static void on_node_cmd(void *data, int status, const struct ledger_result *res, const char *msg)
{
	struct custody *cu = data;
	if (status != 0)
		tdm_log_warn("node %llu: updating the node table: %s", node_id(cu), msg);
	else if (res->status != LEDGER_OK && res->status != LEDGER_DUPLICATE)
		tdm_log_warn("node %llu: node table: %s %s", node_id(cu),
			     ledger_status_name(res->status), res->msg);
	step_end(cu, status == 0);
}

static void submit(struct custody *cu, struct ledger_cmd *cmd)
{
	struct tdm_err err = { "" };
	tdm_log_info("node %llu: node table: %s node %llu", node_id(cu),
		     cmd->type == LEDGER_CMD_NODE_ADD ? "adding" : "removing",
		     (unsigned long long)cmd->node.node_id);
	cu->busy = true;
	if (writer_submit(cu->d->writer, cmd, on_node_cmd, cu, &err) != 0) {
		tdm_log_warn("node %llu: node table: %s", node_id(cu), err.msg);
		cu->busy = false;
	}
}

/* NODE_ADD for `st` with its public key, the KEK wrapped for it. */
static void add_with_key(struct custody *cu, const struct step *st, const uint8_t *spki,
			 size_t spki_len)
{
	struct ledger_cmd cmd = { .type = LEDGER_CMD_NODE_ADD };
	struct tdm_err err = { "" };
	uint8_t *wrapped = NULL;
	size_t wlen = 0;
	if (hsm_kek_wrap_for_peer(cu->hsm, spki, spki_len, &wrapped, &wlen, &err) != 0) {
		tdm_log_err("node %llu: cannot wrap the cluster KEK for node %llu: %s", node_id(cu),
			    (unsigned long long)st->id, err.msg);
		return;
	}
	cmd.node.node_id = st->id;
	cmd.node.address = ledger_str(st->address);
	cmd.node.witness = st->witness;
	cmd.node.transport_pubkey = (struct ledger_bytes){ spki, spki_len };
	cmd.node.wrapped_kek = (struct ledger_bytes){ wrapped, wlen };
	submit(cu, &cmd);
	free(wrapped);
}

/* Hex up to the end of the first line (a control answer) into a new buffer. */
static int unhex(const char *s, uint8_t **out, size_t *len)
{
	size_t n = strcspn(s, "\n");
	char *line;
	int rc;
	if (n == 0)
		return TDM_EINVAL;
	line = tdm_malloc(n + 1);
	memcpy(line, s, n);
	line[n] = '\0';
	rc = tdm_hex_decode_alloc(line, out, len);
	free(line);
	return rc == 0 ? 0 : TDM_EINVAL;
}

static void on_pubkey(void *data, int rc, const struct control_response *resp, const char *msg)
{
	struct step *st = data;
	struct custody *cu = st->cu;
	uint8_t *spki;
	size_t len;
	if (cu->closing || rc == TDM_ESHUTDOWN) {
		free(st);
		return;
	}
	if (rc != 0 || resp->status != CONTROL_EXIT_OK || unhex(resp->body, &spki, &len) != 0) {
		tdm_log_info("node %llu: node %llu gave no transport key yet (%s); trying again later",
			     node_id(cu), (unsigned long long)st->id,
			     rc != 0 ? msg : resp->body);
		free(st);
		step_end(cu, false);
		return;
	}
	cu->busy = false;
	if (cluster_is_leader_ready(cu->d->cluster))
		add_with_key(cu, st, spki, len);
	free(spki);
	free(st);
}

static bool row_complete(const struct custody *cu, const struct ledger_node *n)
{
	return !custody_enabled(cu) || (n->transport_pubkey_len > 0 && n->wrapped_kek_len > 0);
}

static void reconcile(struct custody *cu)
{
	struct daemon *d = cu->d;
	struct cluster_status *st = NULL;
	struct ledger_node *nodes = NULL;
	struct tdm_err err = { "" };
	size_t n = 0;
	bool kek_recorded = false;

	if (cu->closing || d->stopping || cu->busy || !cluster_is_leader_ready(d->cluster))
		return;
	uv_timer_start(&cu->timer, on_timer, RECONCILE_MS, 0);
	if (ledger_node_list(d->ledger, &nodes, &n, &err) != 0) {
		tdm_log_err("node %llu: reading the node table: %s", node_id(cu), err.msg);
		return;
	}
	st = tdm_malloc(sizeof *st);
	cluster_status_get(d->cluster, st);
	for (size_t k = 0; k < n; k++)
		kek_recorded |= nodes[k].wrapped_kek_len > 0;

	/* 1. A new cluster: create the KEK and record it with our own row. */
	if (custody_enabled(cu) && !kek_recorded) {
		struct step self = { cu, d->cfg->node_id, "", st->witness };
		bool have_row = false;
		snprintf(self.address, sizeof self.address, "%s", st->address);
		for (size_t k = 0; k < n; k++)
			if (nodes[k].node_id == self.id) {
				struct ledger_cmd cmd = { .type = LEDGER_CMD_NODE_DEL };
				cmd.node.node_id = self.id; /* a row without key material: redo it */
				submit(cu, &cmd);
				have_row = true;
			}
		if (!have_row) {
			if (!hsm_kek_exists(cu->hsm)) {
				if (hsm_kek_create(cu->hsm, &err) != 0) {
					tdm_log_err("node %llu: cannot create the cluster KEK: %s",
						    node_id(cu), err.msg);
					goto out;
				}
				tdm_log_notice("node %llu: created the cluster KEK in repository %s",
					       node_id(cu), cu->repository);
			}
			add_with_key(cu, &self, cu->pubkey, cu->pubkey_len);
		}
		goto out;
	}
	if (custody_enabled(cu) && !hsm_kek_exists(cu->hsm)) {
		tdm_log_warn("node %llu: leader without the cluster KEK: cannot add nodes; "
			     "waiting for its own NODE_ADD", node_id(cu));
		goto out;
	}

	/* 2. Members without a row. */
	for (size_t i = 0; i < st->n_peers; i++) {
		const struct cluster_peer_status *p = &st->peers[i];
		struct step *s;
		bool known = false;
		for (size_t k = 0; k < n; k++)
			known |= nodes[k].node_id == p->id;
		if (known)
			continue;
		s = tdm_calloc(1, sizeof *s);
		s->cu = cu;
		s->id = p->id;
		s->witness = p->witness;
		snprintf(s->address, sizeof s->address, "%s", p->address);
		if (!custody_enabled(cu)) {
			struct ledger_cmd cmd = { .type = LEDGER_CMD_NODE_ADD };
			cmd.node.node_id = p->id;
			cmd.node.address = ledger_str(p->address);
			cmd.node.witness = p->witness;
			submit(cu, &cmd);
			free(s);
		} else if (p->id == d->cfg->node_id) {
			add_with_key(cu, s, cu->pubkey, cu->pubkey_len);
			free(s);
		} else {
			const struct control_request req = { CONTROL_F_FORWARDED, 2,
							     (char *[]){ "custody", "pubkey", NULL } };
			char addr[DAEMON_ADDR_MAX];
			if (daemon_config_forward_of(d->cfg, p->id, p->address, addr) != 0 ||
			    peer_call(d->peers, addr, &req, PUBKEY_CALL_MS, NULL, on_pubkey, s, &err) != 0) {
				free(s);
				continue; /* try the next member */
			}
			cu->busy = true;
		}
		goto out;
	}

	/* 3. Rows without key material, rows of departed nodes. */
	for (size_t k = 0; k < n; k++) {
		bool member = false;
		for (size_t i = 0; i < st->n_peers; i++)
			member |= st->peers[i].id == nodes[k].node_id;
		if (member && row_complete(cu, &nodes[k]))
			continue;
		struct ledger_cmd cmd = { .type = LEDGER_CMD_NODE_DEL };
		cmd.node.node_id = nodes[k].node_id;
		submit(cu, &cmd);
		goto out;
	}
out:
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

/*- DNSSEC keys ---------------------------------------------------------------------*/

int custody_key_get(struct custody *cu, const char *key_id, struct hsm_key **key,
		    struct ledger_key **info, struct tdm_err *err)
{
	struct ledger_key *k = NULL;
	char cka[2 * 64 + 1];
	int rc;
	*info = NULL;
	if (!custody_enabled(cu))
		return tdm_err_fail(err, TDM_ENOKEY, "node %llu has no key custody", node_id(cu));
	rc = ledger_key_get(cu->d->ledger, key_id, &k, err);
	if (rc == TDM_ENOENT)
		return tdm_err_fail(err, TDM_ENOKEY, "key %s: not in the ledger", key_id);
	if (rc != 0)
		return rc;
	if (k->cka_id_len > 64) {
		rc = tdm_err_fail(err, TDM_EINVAL, "key %s: CKA_ID too long", key_id);
	} else {
		tdm_hex_encode(k->cka_id, k->cka_id_len, cka);
		rc = hsm_key_unwrap(cu->hsm, k->wrapped_private, k->wrapped_private_len,
				    k->algorithm, cka, key, err);
		if (rc != 0)
			tdm_err_wrap(err, "key %s", key_id);
	}
	if (rc != 0) {
		ledger_key_list_free(k, 1);
		return rc;
	}
	*info = k;
	return 0;
}

void custody_key_info_free(struct ledger_key *info)
{
	ledger_key_list_free(info, info ? 1 : 0);
}

/* key generate: the HSM work runs on a libuv worker thread. */
struct keygen {
	uv_work_t work;
	struct daemon *d;
	struct control_conn *conn;
	const struct control_request *req;
	struct hsm_keygen opts;
	uint16_t flags;                  /* DNSKEY flags: 257 KSK/CSK, 256 ZSK */
	uint8_t role, scope;
	char scope_name[LEDGER_NAME_MAX + 1];
	int rc;
	struct tdm_err err;
	struct hsm_key *key;
	uint8_t *rdata, *wrapped;
	size_t rdata_len, wrapped_len;
	int64_t created;
	bool make_policy;
};

static void keygen_free(struct keygen *kg)
{
	free(kg->rdata);
	free(kg->wrapped);
	free(kg);
}

static void keygen_work(uv_work_t *w)
{
	struct keygen *kg = w->data;
	struct hsm_ctx *hsm = kg->d->custody->hsm;
	kg->rc = hsm_key_generate(hsm, &kg->opts, &kg->key, &kg->err);
	if (kg->rc == 0)
		kg->rc = hsm_key_dnskey_rdata(hsm, kg->key, kg->flags, &kg->rdata, &kg->rdata_len,
					      &kg->err);
	if (kg->rc == 0)
		kg->rc = hsm_key_wrap(hsm, kg->key, &kg->wrapped, &kg->wrapped_len, &kg->err);
}

static void keygen_reply(struct keygen *kg, int status, const char *body)
{
	daemon__reply(kg->d, kg->conn, status, body);
	keygen_free(kg);
}

static void on_key_created(void *data, int status, const struct ledger_result *res,
			   const char *msg)
{
	struct keygen *kg = data;
	const char *id = hsm_key_id(kg->key);
	uint16_t tag = hsm_keytag(kg->rdata, kg->rdata_len);
	char *out;
	if (status != 0 || (res->status != LEDGER_OK && res->status != LEDGER_DUPLICATE)) {
		out = daemon__sprintf("error: key %s not committed: %s\n", id,
				      status != 0 ? msg : res->msg);
		keygen_reply(kg, status != 0 ? CONTROL_EXIT_UNAVAILABLE : CONTROL_EXIT_FAIL, out);
		free(out);
		return;
	}
	tdm_log_notice("node %llu: key %s (algorithm %u, key tag %u, %s %s) created, wrapped and committed at index %llu",
		       (unsigned long long)kg->d->cfg->node_id, id, kg->opts.algorithm, tag,
		       kg->scope == LEDGER_SCOPE_ZONE ? "zone" : "policy", kg->scope_name,
		       (unsigned long long)res->index);
	if (daemon__json(kg->conn)) {
		struct tdm_json j;
		char *rhex = tdm_malloc(2 * kg->rdata_len + 1);
		tdm_hex_encode(kg->rdata, kg->rdata_len, rhex);
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_string(&j, "id", id); /* as tandem-hsmutil generate --local */
		tdm_json_kv_string(&j, "cka_id", id);
		tdm_json_kv_string(&j, "repository", kg->d->custody->repository);
		tdm_json_kv_uint(&j, "algorithm", kg->opts.algorithm);
		tdm_json_kv_uint(&j, "bits", kg->opts.bits);
		tdm_json_kv_uint(&j, "keytag", tag);
		tdm_json_kv_uint(&j, "flags", kg->flags);
		tdm_json_kv_string(&j, "dnskey_rdata", rhex);
		tdm_json_kv_uint(&j, "index", res->index);
		tdm_json_kv_uint(&j, "wrapped_bytes", kg->wrapped_len);
		tdm_json_object_end(&j);
		out = daemon__sprintf("%s\n", tdm_json_text(&j));
		tdm_json_free(&j);
		free(rhex);
	} else {
		out = daemon__sprintf("%s\n", id);
	}
	keygen_reply(kg, CONTROL_EXIT_OK, out);
	free(out);
}

static void submit_key(struct keygen *kg)
{
	struct ledger_cmd cmd = { .type = LEDGER_CMD_KEY_CREATE };
	struct tdm_err err = { "" };
	const char *id = hsm_key_id(kg->key);
	uint8_t cka[64];
	size_t cka_len = strlen(id) / 2;
	char *out;
	for (size_t i = 0; i < cka_len && i < sizeof cka; i++) {
		unsigned v;
		sscanf(id + 2 * i, "%2x", &v);
		cka[i] = (uint8_t)v;
	}
	cmd.key_create.key_id = ledger_str(id);
	cmd.key_create.scope = kg->scope;
	cmd.key_create.scope_name = ledger_str(kg->scope_name);
	cmd.key_create.role = kg->role;
	cmd.key_create.algorithm = kg->opts.algorithm;
	cmd.key_create.bits = (uint16_t)kg->opts.bits;
	cmd.key_create.public_rdata = (struct ledger_bytes){ kg->rdata, kg->rdata_len };
	cmd.key_create.cka_id = (struct ledger_bytes){ cka, cka_len };
	cmd.key_create.repository = ledger_str(kg->d->custody->repository);
	cmd.key_create.wrapped_private = (struct ledger_bytes){ kg->wrapped, kg->wrapped_len };
	cmd.key_create.created = (uint64_t)kg->created;
	if (writer_submit(kg->d->writer, &cmd, on_key_created, kg, &err) != 0) {
		out = daemon__sprintf("error: key %s: %s\n", id, err.msg);
		keygen_reply(kg, err.msg[0] && strstr(err.msg, "not the leader")
					 ? CONTROL_EXIT_UNAVAILABLE : CONTROL_EXIT_FAIL, out);
		free(out);
	}
}

static void on_policy_made(void *data, int status, const struct ledger_result *res,
			   const char *msg)
{
	struct keygen *kg = data;
	char *out;
	if (status != 0 || res->status != LEDGER_OK) {
		out = daemon__sprintf("error: creating policy %s: %s\n", kg->scope_name,
				      status != 0 ? msg : res->msg);
		keygen_reply(kg, CONTROL_EXIT_FAIL, out);
		free(out);
		return;
	}
	submit_key(kg);
}

static void keygen_after(uv_work_t *w, int status)
{
	struct keygen *kg = w->data;
	char *out;
	if (status != 0 || kg->rc != 0) {
		out = daemon__sprintf("error: key generate: %s\n",
				      status != 0 ? "cancelled" : kg->err.msg);
		keygen_reply(kg, kg->rc == TDM_EALGO ? CONTROL_EXIT_FAIL : CONTROL_EXIT_FAIL, out);
		free(out);
		return;
	}
	if (kg->d->stopping || !cluster_is_leader_ready(kg->d->cluster)) {
		keygen_reply(kg, CONTROL_EXIT_UNAVAILABLE,
			     "error: leadership lost while the key was generated: nothing committed\n");
		return;
	}
	if (kg->make_policy) {
		struct ledger_cmd cmd = { .type = LEDGER_CMD_POLICY_PUT };
		struct tdm_err err = { "" };
		cmd.policy.name = ledger_str(kg->scope_name);
		if (writer_submit(kg->d->writer, &cmd, on_policy_made, kg, &err) != 0) {
			out = daemon__sprintf("error: %s\n", err.msg);
			keygen_reply(kg, CONTROL_EXIT_UNAVAILABLE, out);
			free(out);
		}
		return;
	}
	submit_key(kg);
}

static bool policy_exists(struct ledger *l, const char *name)
{
	uint8_t *blob = NULL;
	size_t len;
	struct tdm_err err = { "" };
	int rc = ledger_policy_get(l, name, &blob, &len, &err);
	free(blob);
	return rc == 0;
}

void daemon__cmd_key_generate(struct daemon *d, struct control_conn *conn,
			      const struct control_request *req, int argi)
{
	struct keygen *kg;
	const char *zone = NULL, *policy = NULL, *role = "csk";
	unsigned long alg = 0, bits = 0;
	char *out;

	if (!custody_enabled(d->custody) || !hsm_kek_exists(d->custody->hsm)) {
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, custody_enabled(d->custody)
			      ? "error: key generate: the leader holds no cluster KEK yet\n"
			      : "error: key generate: this node has no key custody (no <Repository> in conf.xml)\n");
		return;
	}
	for (int i = argi; i < req->argc; i += 2) {
		const char *o = req->argv[i], *v = i + 1 < req->argc ? req->argv[i + 1] : NULL;
		if (v == NULL) {
			out = daemon__sprintf("error: %s needs a value\n", o);
			daemon__reply(d, conn, CONTROL_EXIT_USAGE, out);
			free(out);
			return;
		}
		if (!strcmp(o, "--algorithm"))
			alg = strtoul(v, NULL, 10);
		else if (!strcmp(o, "--bits"))
			bits = strtoul(v, NULL, 10);
		else if (!strcmp(o, "--zone"))
			zone = v;
		else if (!strcmp(o, "--policy"))
			policy = v;
		else if (!strcmp(o, "--role"))
			role = v;
		else if (!strcmp(o, "--repository")) {
			if (strcmp(v, d->custody->repository) != 0) {
				out = daemon__sprintf("error: key generate: the cluster keeps its keys in repository %s, not %.60s\n",
						      d->custody->repository, v);
				daemon__reply(d, conn, CONTROL_EXIT_FAIL, out);
				free(out);
				return;
			}
		} else {
			out = daemon__sprintf("error: unknown option %.60s\n", o);
			daemon__reply(d, conn, CONTROL_EXIT_USAGE, out);
			free(out);
			return;
		}
	}
	if (alg == 0 || alg > 255 || (zone && policy) ||
	    (strcmp(role, "ksk") && strcmp(role, "zsk") && strcmp(role, "csk"))) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE,
			      "usage: key generate --algorithm N [--bits B] [--zone Z | --policy P] [--role ksk|zsk|csk] [--repository R]\n");
		return;
	}
	if (!hsm_algorithm_supported(d->custody->hsm, (uint8_t)alg)) {
		out = daemon__sprintf("error: key generate: algorithm %lu is not supported by repository %s\n",
				      alg, d->custody->repository);
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, out);
		free(out);
		return;
	}
	kg = tdm_calloc(1, sizeof *kg);
	kg->d = d;
	kg->conn = conn;
	kg->req = req;
	kg->opts.algorithm = (uint8_t)alg;
	kg->opts.bits = bits ? (unsigned)bits : (alg == 8 || alg == 10 ? 2048 : 0);
	kg->opts.session = true;
	kg->opts.extractable = true;
	kg->role = !strcmp(role, "ksk") ? LEDGER_ROLE_KSK : !strcmp(role, "zsk") ? LEDGER_ROLE_ZSK
										: LEDGER_ROLE_CSK;
	kg->flags = kg->role == LEDGER_ROLE_ZSK ? 256 : 257;
	kg->scope = zone ? LEDGER_SCOPE_ZONE : LEDGER_SCOPE_POLICY;
	snprintf(kg->scope_name, sizeof kg->scope_name, "%s",
		 zone ? zone : policy ? policy : CUSTODY_DEFAULT_POLICY);
	kg->make_policy = !zone && !policy && !policy_exists(d->ledger, CUSTODY_DEFAULT_POLICY);
	kg->created = tdm_clock_now(&d->clock); /* the leader's time goes into the command */
	kg->work.data = kg;
	if (uv_queue_work(&d->loop, &kg->work, keygen_work, keygen_after) != 0) {
		keygen_free(kg);
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, "error: cannot queue the key generation\n");
	}
}

/*- sign and verify with a replicated key (tests, drills) ------------------------------*/

void daemon__cmd_key_sign(struct daemon *d, struct control_conn *conn,
			  const struct control_request *req, int argi)
{
	struct tdm_err err = { "" };
	struct hsm_key *key;
	struct ledger_key *info = NULL;
	uint8_t *data, sig[HSM_MAX_SIG_LEN];
	size_t len, sig_len = 0;
	char *out, shex[2 * HSM_MAX_SIG_LEN + 1];
	if (req->argc - argi != 2 || unhex(req->argv[argi + 1], &data, &len) != 0) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: key sign KEY HEXDATA\n");
		return;
	}
	if (custody_key_get(d->custody, req->argv[argi], &key, &info, &err) != 0 ||
	    hsm_sign(d->custody->hsm, key, data, len, sig, &sig_len, &err) != 0) {
		out = daemon__sprintf("error: node %llu: %s\n", (unsigned long long)d->cfg->node_id,
				      err.msg);
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, out);
	} else {
		tdm_hex_encode(sig, sig_len, shex);
		out = daemon__sprintf("%s\n", shex);
		daemon__reply(d, conn, CONTROL_EXIT_OK, out);
	}
	free(out);
	free(data);
	custody_key_info_free(info);
}

void daemon__cmd_key_verify(struct daemon *d, struct control_conn *conn,
			    const struct control_request *req, int argi)
{
	struct tdm_err err = { "" };
	struct ledger_key *keys = NULL;
	uint8_t *data = NULL, *sig = NULL;
	size_t n = 0, len, sig_len;
	int rc = TDM_ENOKEY;
	char *out;
	if (req->argc - argi != 3 || unhex(req->argv[argi + 1], &data, &len) != 0 ||
	    unhex(req->argv[argi + 2], &sig, &sig_len) != 0) {
		free(data);
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: key verify KEY HEXDATA HEXSIG\n");
		return;
	}
	tdm_err_set(&err, "key %s: not in the ledger", req->argv[argi]);
	if (ledger_key_list(d->ledger, NULL, &keys, &n, &err) == 0)
		for (size_t i = 0; i < n; i++)
			if (strcmp(keys[i].key_id, req->argv[argi]) == 0)
				rc = hsm_verify(keys[i].public_rdata, keys[i].public_rdata_len, data,
						len, sig, sig_len, &err);
	out = rc == 0 ? tdm_strdup("valid\n") : daemon__sprintf("error: %s\n", err.msg);
	daemon__reply(d, conn, rc == 0 ? CONTROL_EXIT_OK : CONTROL_EXIT_FAIL, out);
	free(out);
	free(data);
	free(sig);
	ledger_key_list_free(keys, n);
}

/*- commands -------------------------------------------------------------------------*/

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
	tdm_hex_encode(pk, len, out);
	strcat(out, "\n");
	daemon__reply(d, conn, CONTROL_EXIT_OK, out);
	free(out);
}

void daemon__cmd_key_list(struct daemon *d, struct control_conn *conn,
			  const struct control_request *req, int argi)
{
	struct ledger_key *keys = NULL;
	struct tdm_err err = { "" };
	struct tdm_json j;
	size_t n = 0, cap, len = 0;
	bool json = daemon__json(conn);
	char *out;
	if (ledger_key_list(d->ledger, req->argc > argi ? req->argv[argi] : NULL, &keys, &n,
			    &err) != 0) {
		out = daemon__sprintf("error: %s\n", err.msg);
		daemon__reply(d, conn, CONTROL_EXIT_FAIL, out);
		free(out);
		return;
	}
	cap = 256 + n * 200;
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
			tdm_json_kv_string(&j, "repository", k->repository);
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
	daemon__reply(d, conn, CONTROL_EXIT_OK, out);
	free(out);
	ledger_key_list_free(keys, n);
}
