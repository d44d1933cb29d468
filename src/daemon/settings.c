/*
 * tandemd's configuration (see settings.h).
 */
#include "daemon/settings.h"
#include "daemon/address.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_addr(char dst[DAEMON_ADDR_MAX], const char *src, const char *what,
		     struct tdm_err *err)
{
	if (src == NULL || strlen(src) >= DAEMON_ADDR_MAX)
		return tdm_err_fail(err, TDM_EINVAL, "%s: %s", what,
				    src ? "address too long" : "missing");
	strcpy(dst, src);
	return 0;
}

int daemon_config_build(const struct tdm_conf *conf, const char *pid_file,
			struct daemon_config **out, struct tdm_err *err)
{
	const struct tdm_cluster_conf *cl = &conf->cluster;
	struct daemon_config *cfg = tdm_calloc(1, sizeof *cfg);
	int rc;
	cfg->conf = conf;
	cfg->node_id = cl->node_id;
	cfg->data_dir = cl->data_directory;
	cfg->control_socket = cl->control_socket;
	cfg->http = cl->http;
	cfg->election_timeout_ms = (unsigned)cl->election_timeout_ms;
	cfg->heartbeat_ms = (unsigned)cl->heartbeat_ms;
	cfg->witness = cl->witness;
	/* One process is both enforcer and signer: the enforcer's account wins. */
	cfg->user = conf->enforcer_user ? conf->enforcer_user : conf->signer_user;
	cfg->group = conf->enforcer_group ? conf->enforcer_group : conf->signer_group;
	if (snprintf(cfg->state_db, sizeof cfg->state_db, "%s/state.db", cfg->data_dir) >=
	    (int)sizeof cfg->state_db) {
		rc = tdm_err_fail(err, TDM_EINVAL, "<Cluster><DataDirectory>: path too long");
		goto fail;
	}
	snprintf(cfg->pid_file, sizeof cfg->pid_file, "%s",
		 pid_file ? pid_file : "");
	if (pid_file == NULL)
		snprintf(cfg->pid_file, sizeof cfg->pid_file, "%s/tandemd.pid", cfg->data_dir);
	rc = copy_addr(cfg->raft, cl->listen, "<Cluster><Listen>", err);
	if (rc == 0 && cl->forward_listen != NULL)
		rc = copy_addr(cfg->forward, cl->forward_listen, "<Cluster><ForwardListen>", err);
	else if (rc == 0)
		rc = daemon_address_shift_port(cfg->raft, 1, cfg->forward, sizeof cfg->forward, err);
	if (rc != 0) {
		tdm_err_wrap(err, "<Cluster><Listen> (forward listener = Raft port + 1)");
		goto fail;
	}
	cfg->peers = tdm_calloc(cl->n_peers ? cl->n_peers : 1, sizeof *cfg->peers);
	for (size_t i = 0; i < cl->n_peers; i++) {
		const struct tdm_peer *p = &cl->peers[i];
		struct daemon_peer *d;
		if (p->id == cfg->node_id)
			continue; /* a peer list shared by all nodes may name this one */
		for (size_t j = 0; j < cfg->n_peers; j++)
			if (cfg->peers[j].id == p->id) {
				rc = tdm_err_fail(err, TDM_EINVAL,
						  "<Cluster><Peer id=\"%llu\">: id given twice",
						  (unsigned long long)p->id);
				goto fail;
			}
		d = &cfg->peers[cfg->n_peers++];
		d->id = p->id;
		d->witness = p->witness;
		rc = copy_addr(d->raft, p->address, "<Cluster><Peer>", err);
		if (rc == 0 && p->forward != NULL)
			rc = copy_addr(d->forward, p->forward, "<Cluster><Peer forward>", err);
		else if (rc == 0)
			rc = daemon_address_shift_port(d->raft, 1, d->forward, sizeof d->forward, err);
		if (rc != 0) {
			tdm_err_wrap(err, "<Cluster><Peer id=\"%llu\">", (unsigned long long)p->id);
			goto fail;
		}
	}
	*out = cfg;
	return 0;
fail:
	daemon_config_free(cfg);
	return rc;
}

void daemon_config_free(struct daemon_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->peers);
	free(cfg);
}

const struct daemon_peer *daemon_config_peer(const struct daemon_config *cfg, uint64_t id)
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].id == id)
			return &cfg->peers[i];
	return NULL;
}

int daemon_config_forward_of(const struct daemon_config *cfg, uint64_t id,
			     const char *raft, char out[DAEMON_ADDR_MAX])
{
	struct tdm_err err;
	const struct daemon_peer *p;
	if (id != 0 && id == cfg->node_id) {
		strcpy(out, cfg->forward);
		return 0;
	}
	p = id ? daemon_config_peer(cfg, id) : NULL;
	if (p != NULL) {
		strcpy(out, p->forward);
		return 0;
	}
	if (raft != NULL && raft[0] != '\0' &&
	    daemon_address_shift_port(raft, 1, out, DAEMON_ADDR_MAX, &err) == 0)
		return 0;
	return TDM_ENOENT;
}

static void note(char *out, size_t cap, const char *what)
{
	size_t len = strlen(out);
	snprintf(out + len, cap - len, "%s%s", len ? ", " : "", what);
}

static bool str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

bool daemon_config_needs_restart(const struct daemon_config *a, const struct daemon_config *b,
				 char *out, size_t cap)
{
	out[0] = '\0';
	if (a->node_id != b->node_id)
		note(out, cap, "NodeId");
	if (str_differs(a->data_dir, b->data_dir))
		note(out, cap, "DataDirectory");
	if (strcmp(a->raft, b->raft) != 0)
		note(out, cap, "Listen");
	if (str_differs(a->control_socket, b->control_socket))
		note(out, cap, "ControlSocket");
	if (str_differs(a->http, b->http))
		note(out, cap, "Http");
	if (a->election_timeout_ms != b->election_timeout_ms)
		note(out, cap, "ElectionTimeout");
	if (a->heartbeat_ms != b->heartbeat_ms)
		note(out, cap, "Heartbeat");
	if (a->witness != b->witness)
		note(out, cap, "Witness");
	if (str_differs(a->user, b->user) || str_differs(a->group, b->group))
		note(out, cap, "Privileges");
	if (a->n_peers != b->n_peers)
		note(out, cap, "Peer");
	else
		for (size_t i = 0; i < a->n_peers; i++)
			if (a->peers[i].id != b->peers[i].id ||
			    strcmp(a->peers[i].raft, b->peers[i].raft) != 0 ||
			    a->peers[i].witness != b->peers[i].witness) {
				note(out, cap, "Peer");
				break;
			}
	return out[0] != '\0';
}
