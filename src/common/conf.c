/*
 * conf.xml: the node configuration (OpenDNSSEC 2.x layout plus Tandem's
 * <Cluster>, <Shared/> and <Witness/>).  Exports tdm_conf_load(),
 * tdm_conf_load_buffer(), tdm_conf_free(), tdm_conf_repository() and
 * tdm_conf_syslog_facility().
 *
 * The file is read element by element with precise messages first; the
 * RelaxNG schema (schemas/conf.rng) then catches anything the reader does
 * not look at, so a file that loads is always schema-valid.
 */
#include "common/conf.h"
#include "common/duration.h"
#include "common/xml.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#ifndef TDM_LOCALSTATEDIR
#define TDM_LOCALSTATEDIR "/var"
#endif

#define DEFAULT_LISTENER_PORT 15354

/*- private: addresses ------------------------------------------------------*/

/*
 * "192.0.2.1:5400", "[2001:db8::1]:5400" or "host.example:5400".  Returns
 * false for anything else (a bare IPv6 address without brackets included).
 */
static bool address_is_valid(const char *s)
{
	const char *colon;
	char host[256];
	size_t hl;
	unsigned long port;
	char *end;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct in6_addr a6;
		if (close == NULL || close[1] != ':')
			return false;
		hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof host)
			return false;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return false;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || colon == s || memchr(s, ':', (size_t)(colon - s)))
			return false;
		hl = (size_t)(colon - s);
		if (hl >= sizeof host)
			return false;
		for (const char *p = s; p < colon; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
				return false;
	}
	if (colon[1] < '0' || colon[1] > '9')
		return false;
	port = strtoul(colon + 1, &end, 10);
	return *end == '\0' && port >= 1 && port <= 65535;
}

static void check_address(struct tdm__xml_ctx *ctx, xmlNodePtr node, const char *s)
{
	if (s != NULL && !address_is_valid(s))
		tdm__xml_fail(ctx, TDM_ESCHEMA, node,
			      "\"%.80s\" is not an address:port (IPv6 in brackets)", s);
}

/*- private: sections -------------------------------------------------------*/

static void read_repository(struct tdm__xml_ctx *ctx, xmlNodePtr node,
			    struct tdm_repository *r)
{
	static const char *const allowed[] = { "Module", "TokenLabel", "PIN", "Capacity",
		"RequireBackup", "SkipPublicKey", "AllowExtraction", "Shared", NULL };
	static const char *const attrs[] = { "name", NULL };
	tdm__xml_allow_attrs(ctx, node, attrs);
	r->name = tdm__xml_attr(ctx, node, "name", true);
	tdm__xml_allow(ctx, node, allowed);
	r->module = tdm__xml_child_text(ctx, node, "Module", true);
	r->token_label = tdm__xml_child_text(ctx, node, "TokenLabel", true);
	if (ctx->rc == 0)
		r->pin = tdm__xml_text(ctx, tdm__xml_opt(ctx, node, "PIN"), true);
	r->capacity = (uint32_t)tdm__xml_uint(ctx, node, "Capacity", false, 0, UINT32_MAX, 0);
	r->require_backup = tdm__xml_flag(ctx, node, "RequireBackup");
	r->skip_public_key = tdm__xml_flag(ctx, node, "SkipPublicKey");
	r->allow_extraction = tdm__xml_flag(ctx, node, "AllowExtraction");
	r->shared = tdm__xml_flag(ctx, node, "Shared");
}

static void read_repositories(struct tdm__xml_ctx *ctx, xmlNodePtr list,
			      struct tdm_conf *conf)
{
	static const char *const allowed[] = { "Repository", NULL };
	size_t n;
	tdm__xml_allow(ctx, list, allowed);
	n = tdm__xml_count(list, "Repository");
	if (ctx->rc != 0 || n == 0)
		return;
	conf->repositories = tdm_calloc(n, sizeof *conf->repositories);
	for (xmlNodePtr r = tdm__xml_first(list); r && ctx->rc == 0; r = tdm__xml_next(r)) {
		struct tdm_repository *repo = &conf->repositories[conf->n_repositories++];
		read_repository(ctx, r, repo);
		for (size_t i = 0; ctx->rc == 0 && i + 1 < conf->n_repositories; i++)
			if (strcmp(conf->repositories[i].name, repo->name) == 0)
				tdm__xml_fail(ctx, TDM_ESCHEMA, r, "repository name used twice");
	}
}

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{ "kern", LOG_KERN }, { "user", LOG_USER }, { "mail", LOG_MAIL },
	{ "daemon", LOG_DAEMON }, { "auth", LOG_AUTH }, { "syslog", LOG_SYSLOG },
	{ "lpr", LOG_LPR }, { "news", LOG_NEWS }, { "uucp", LOG_UUCP },
	{ "cron", LOG_CRON }, { "authpriv", LOG_AUTHPRIV }, { "ftp", LOG_FTP },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static int facility_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
		if (strcasecmp(facilities[i].name, name) == 0)
			return facilities[i].value;
	return -1;
}

int tdm_conf_syslog_facility(const struct tdm_conf *conf)
{
	int f = conf->syslog_facility ? facility_lookup(conf->syslog_facility) : -1;
	return f >= 0 ? f : LOG_DAEMON;
}

static void read_common(struct tdm__xml_ctx *ctx, xmlNodePtr common,
			struct tdm_conf *conf)
{
	static const char *const allowed[] = { "Logging", "PolicyFile", "ZoneListFile",
		"ZoneFetchFile", NULL };
	static const char *const log_allowed[] = { "Verbosity", "Syslog", "File", NULL };
	static const char *const syslog_allowed[] = { "Facility", NULL };
	static const char *const file_allowed[] = { "Filename", NULL };
	xmlNodePtr logging, sl, file;
	tdm__xml_allow(ctx, common, allowed);
	logging = tdm__xml_opt(ctx, common, "Logging");
	if (logging != NULL) {
		tdm__xml_allow(ctx, logging, log_allowed);
		conf->log_verbosity = (int)tdm__xml_uint(ctx, logging, "Verbosity", false, 0, 9, 3);
		sl = tdm__xml_opt(ctx, logging, "Syslog");
		if (sl != NULL) {
			xmlNodePtr fac = tdm__xml_req(ctx, sl, "Facility");
			tdm__xml_allow(ctx, sl, syslog_allowed);
			conf->syslog_facility = tdm__xml_text(ctx, fac, false);
			if (conf->syslog_facility && facility_lookup(conf->syslog_facility) < 0)
				tdm__xml_fail(ctx, TDM_ESCHEMA, fac, "unknown syslog facility \"%.40s\"",
					      conf->syslog_facility);
		}
		file = tdm__xml_opt(ctx, logging, "File");
		if (file != NULL) {
			tdm__xml_allow(ctx, file, file_allowed);
			conf->log_file = tdm__xml_child_text(ctx, file, "Filename", true);
		}
	}
	conf->policy_file = tdm__xml_child_text(ctx, common, "PolicyFile", true);
	conf->zonelist_file = tdm__xml_child_text(ctx, common, "ZoneListFile", true);
	/* <ZoneFetchFile> (OpenDNSSEC 1.x) is accepted and ignored. */
	free(tdm__xml_child_text(ctx, common, "ZoneFetchFile", false));
}

static void read_privileges(struct tdm__xml_ctx *ctx, xmlNodePtr parent,
			    char **user, char **group, char **dir)
{
	static const char *const allowed[] = { "User", "Group", "Directory", NULL };
	xmlNodePtr p = tdm__xml_opt(ctx, parent, "Privileges");
	if (p == NULL)
		return;
	tdm__xml_allow(ctx, p, allowed);
	*user = tdm__xml_child_text(ctx, p, "User", false);
	*group = tdm__xml_child_text(ctx, p, "Group", false);
	*dir = tdm__xml_child_text(ctx, p, "Directory", false);
}

static void read_enforcer(struct tdm__xml_ctx *ctx, xmlNodePtr enf,
			  struct tdm_conf *conf)
{
	static const char *const allowed[] = { "Privileges", "Datastore",
		"ManualKeyGeneration", "AutomaticKeyGenerationPeriod",
		"RolloverNotification", "DelegationSignerSubmitCommand",
		"DelegationSignerRetractCommand", "PidFile", "SocketFile",
		"WorkingDirectory", "WorkerThreads", NULL };
	static const char *const ds_allowed[] = { "SQLite", "MySQL", NULL };
	xmlNodePtr ds;
	tdm__xml_allow(ctx, enf, allowed);
	read_privileges(ctx, enf, &conf->enforcer_user, &conf->enforcer_group,
			&conf->enforcer_chroot);
	ds = tdm__xml_req(ctx, enf, "Datastore");
	if (ds != NULL) {
		xmlNodePtr my = tdm__xml_opt(ctx, ds, "MySQL");
		tdm__xml_allow(ctx, ds, ds_allowed);
		if (my != NULL)
			tdm__xml_fail(ctx, TDM_ESCHEMA, my,
				      "MySQL datastore not supported: use <SQLite> "
				      "(Tandem keeps its state in the cluster ledger)");
		conf->datastore = tdm__xml_child_text(ctx, ds, "SQLite", true);
	}
	conf->manual_key_generation = tdm__xml_flag(ctx, enf, "ManualKeyGeneration");
	conf->automatic_keygen_period = tdm__xml_duration(ctx, enf,
		"AutomaticKeyGenerationPeriod", false, TDM_SECONDS_PER_YEAR);
	conf->rollover_notification = tdm__xml_duration(ctx, enf,
		"RolloverNotification", false, -1);
	conf->ds_submit_command = tdm__xml_child_text(ctx, enf,
		"DelegationSignerSubmitCommand", false);
	conf->ds_retract_command = tdm__xml_child_text(ctx, enf,
		"DelegationSignerRetractCommand", false);
	conf->enforcer_pid_file = tdm__xml_child_text(ctx, enf, "PidFile", false);
	conf->enforcer_socket = tdm__xml_child_text(ctx, enf, "SocketFile", false);
	conf->enforcer_workdir = tdm__xml_child_text(ctx, enf, "WorkingDirectory", false);
	conf->enforcer_worker_threads = (int)tdm__xml_uint(ctx, enf, "WorkerThreads",
							   false, 1, 1024, 4);
}

static void add_listener(struct tdm_conf *conf, const char *addr, bool v6,
			 unsigned port)
{
	char buf[128];
	snprintf(buf, sizeof buf, v6 ? "[%s]:%u" : "%s:%u", addr, port);
	conf->listener_addresses = tdm_realloc(conf->listener_addresses,
		(conf->n_listeners + 1) * sizeof *conf->listener_addresses);
	conf->listener_addresses[conf->n_listeners++] = tdm_strdup(buf);
}

static void read_listener(struct tdm__xml_ctx *ctx, xmlNodePtr lst,
			  struct tdm_conf *conf)
{
	static const char *const allowed[] = { "Interface", NULL };
	static const char *const if_allowed[] = { "Address", "Port", NULL };
	tdm__xml_allow(ctx, lst, allowed);
	for (xmlNodePtr i = tdm__xml_first(lst); i && ctx->rc == 0; i = tdm__xml_next(i)) {
		xmlNodePtr an;
		char *addr;
		unsigned port;
		unsigned char tmp[16];
		tdm__xml_allow(ctx, i, if_allowed);
		an = tdm__xml_opt(ctx, i, "Address");
		addr = tdm__xml_text(ctx, an, false);
		port = (unsigned)tdm__xml_uint(ctx, i, "Port", false, 1, 65535,
					       DEFAULT_LISTENER_PORT);
		if (ctx->rc != 0) {
			free(addr);
			return;
		}
		if (addr == NULL) {
			add_listener(conf, "0.0.0.0", false, port);
			add_listener(conf, "::", true, port);
		} else if (inet_pton(AF_INET, addr, tmp) == 1) {
			add_listener(conf, addr, false, port);
		} else if (inet_pton(AF_INET6, addr, tmp) == 1) {
			add_listener(conf, addr, true, port);
		} else {
			tdm__xml_fail(ctx, TDM_ESCHEMA, an, "not an IP address: \"%.60s\"", addr);
		}
		free(addr);
	}
}

static void read_signer(struct tdm__xml_ctx *ctx, xmlNodePtr sig,
			struct tdm_conf *conf)
{
	static const char *const allowed[] = { "Privileges", "WorkingDirectory",
		"WorkerThreads", "SignerThreads", "Listener", "NotifyCommand",
		"PidFile", "SocketFile", NULL };
	xmlNodePtr lst;
	tdm__xml_allow(ctx, sig, allowed);
	read_privileges(ctx, sig, &conf->signer_user, &conf->signer_group,
			&conf->signer_chroot);
	conf->signer_workdir = tdm__xml_child_text(ctx, sig, "WorkingDirectory", false);
	conf->signer_worker_threads = (int)tdm__xml_uint(ctx, sig, "WorkerThreads",
							 false, 1, 1024, 4);
	conf->signer_signer_threads = (int)tdm__xml_uint(ctx, sig, "SignerThreads",
		false, 1, 1024, (uint64_t)conf->signer_worker_threads);
	lst = tdm__xml_opt(ctx, sig, "Listener");
	if (lst != NULL)
		read_listener(ctx, lst, conf);
	conf->notify_command = tdm__xml_child_text(ctx, sig, "NotifyCommand", false);
	conf->signer_pid_file = tdm__xml_child_text(ctx, sig, "PidFile", false);
	conf->signer_socket = tdm__xml_child_text(ctx, sig, "SocketFile", false);
}

static void cluster_defaults(struct tdm_cluster_conf *c)
{
	c->node_id = 1;
	c->data_directory = tdm_strdup(TDM_LOCALSTATEDIR "/lib/tandem");
	c->listen = tdm_strdup("127.0.0.1:5400");
	c->control_socket = tdm_strdup(TDM_LOCALSTATEDIR "/run/tandem/control.sock");
	c->election_timeout_ms = TDM_CLUSTER_ELECTION_TIMEOUT_MS;
	c->heartbeat_ms = TDM_CLUSTER_HEARTBEAT_MS;
}

static void replace(char **slot, char *value)
{
	if (value != NULL) {
		free(*slot);
		*slot = value;
	}
}

static void read_cluster(struct tdm__xml_ctx *ctx, xmlNodePtr cl,
			 struct tdm_cluster_conf *c)
{
	static const char *const allowed[] = { "NodeId", "DataDirectory", "Listen",
		"Peer", "ControlSocket", "Http", "ElectionTimeout", "Heartbeat",
		"Witness", "ForwardListen", NULL };
	static const char *const peer_attrs[] = { "id", "role", "forward", NULL };
	size_t n;
	xmlNodePtr node;
	c->present = true;
	tdm__xml_allow(ctx, cl, allowed);
	c->node_id = tdm__xml_uint(ctx, cl, "NodeId", false, 1, UINT64_MAX, 1);
	replace(&c->data_directory, tdm__xml_child_text(ctx, cl, "DataDirectory", false));
	node = tdm__xml_opt(ctx, cl, "Listen");
	replace(&c->listen, tdm__xml_text(ctx, node, false));
	check_address(ctx, node, node ? c->listen : NULL);
	replace(&c->control_socket, tdm__xml_child_text(ctx, cl, "ControlSocket", false));
	node = tdm__xml_opt(ctx, cl, "Http");
	c->http = tdm__xml_text(ctx, node, false);
	check_address(ctx, node, c->http);
	node = tdm__xml_opt(ctx, cl, "ForwardListen");
	c->forward_listen = tdm__xml_text(ctx, node, false);
	check_address(ctx, node, c->forward_listen);
	c->election_timeout_ms = tdm__xml_duration_ms(ctx, cl, "ElectionTimeout", false,
						      TDM_CLUSTER_ELECTION_TIMEOUT_MS);
	/* Without <Heartbeat>, a tenth of the election timeout (notes §7). */
	c->heartbeat_ms = tdm__xml_duration_ms(ctx, cl, "Heartbeat", false,
					       c->election_timeout_ms / 10);
	c->witness = tdm__xml_flag(ctx, cl, "Witness");
	if (ctx->rc == 0 && c->heartbeat_ms <= 0)
		tdm__xml_fail(ctx, TDM_ESCHEMA, tdm__xml_opt(ctx, cl, "Heartbeat"),
			      "must be longer than zero");
	if (ctx->rc == 0 && c->heartbeat_ms >= c->election_timeout_ms)
		tdm__xml_fail(ctx, TDM_ESCHEMA, cl,
			      "Heartbeat (%lld ms) must be shorter than ElectionTimeout (%lld ms)",
			      (long long)c->heartbeat_ms, (long long)c->election_timeout_ms);

	n = tdm__xml_count(cl, "Peer");
	if (ctx->rc != 0 || n == 0)
		return;
	c->peers = tdm_calloc(n, sizeof *c->peers);
	for (xmlNodePtr p = tdm__xml_first(cl); p && ctx->rc == 0; p = tdm__xml_next(p)) {
		struct tdm_peer *peer;
		char *id, *role;
		if (!tdm__xml_is(p, "Peer"))
			continue;
		peer = &c->peers[c->n_peers++];
		tdm__xml_allow_attrs(ctx, p, peer_attrs);
		id = tdm__xml_attr(ctx, p, "id", true);
		peer->id = tdm__xml_uint_str(ctx, p, "attribute id: ", id, 1, UINT64_MAX);
		free(id);
		role = tdm__xml_attr(ctx, p, "role", false);
		if (role != NULL && strcmp(role, "witness") == 0)
			peer->witness = true;
		else if (role != NULL && strcmp(role, "voter") != 0)
			tdm__xml_fail(ctx, TDM_ESCHEMA, p,
				      "attribute role must be \"voter\" or \"witness\", not \"%.40s\"",
				      role);
		free(role);
		peer->address = tdm__xml_text(ctx, p, false);
		check_address(ctx, p, peer->address);
		peer->forward = tdm__xml_attr(ctx, p, "forward", false);
		check_address(ctx, p, peer->forward);
		if (ctx->rc == 0 && peer->id == c->node_id)
			tdm__xml_fail(ctx, TDM_ESCHEMA, p,
				      "peer id %llu is this node's own NodeId",
				      (unsigned long long)peer->id);
		for (size_t i = 0; ctx->rc == 0 && i + 1 < c->n_peers; i++)
			if (c->peers[i].id == peer->id)
				tdm__xml_fail(ctx, TDM_ESCHEMA, p, "peer id used twice");
	}
}

/*- public ------------------------------------------------------------------*/

static int load(const char *name, const void *buf, size_t len,
		struct tdm_conf **out, struct tdm_err *err)
{
	static const char *const allowed[] = { "RepositoryList", "Common", "Enforcer",
		"Signer", "Cluster", NULL };
	struct tdm__xml_ctx ctx;
	struct tdm_conf *conf;
	xmlDocPtr doc;
	xmlNodePtr root, node;
	int rc;

	rc = tdm__xml_open(name, buf, len, "Configuration", &doc, err);
	if (rc != 0)
		return rc;
	root = xmlDocGetRootElement(doc);
	conf = tdm_calloc(1, sizeof *conf);
	conf->path = tdm_strdup(name);
	conf->log_verbosity = 3;
	conf->automatic_keygen_period = TDM_SECONDS_PER_YEAR;
	conf->rollover_notification = -1;
	conf->enforcer_worker_threads = 4;
	conf->signer_worker_threads = 4;
	conf->signer_signer_threads = 4;
	cluster_defaults(&conf->cluster);

	tdm__xml_ctx_init(&ctx, name, err);
	tdm__xml_allow(&ctx, root, allowed);
	read_repositories(&ctx, tdm__xml_req(&ctx, root, "RepositoryList"), conf);
	node = tdm__xml_req(&ctx, root, "Common");
	if (node != NULL)
		read_common(&ctx, node, conf);
	node = tdm__xml_req(&ctx, root, "Enforcer");
	if (node != NULL)
		read_enforcer(&ctx, node, conf);
	node = tdm__xml_opt(&ctx, root, "Signer");
	if (node != NULL)
		read_signer(&ctx, node, conf);
	node = tdm__xml_opt(&ctx, root, "Cluster");
	if (node != NULL)
		read_cluster(&ctx, node, &conf->cluster);
	rc = ctx.rc;
	if (rc == 0)
		rc = tdm__xml_validate(doc, name, "conf.rng", err);
	xmlFreeDoc(doc);
	if (rc != 0) {
		tdm_conf_free(conf);
		return rc;
	}
	*out = conf;
	return 0;
}

int tdm_conf_load(const char *path, struct tdm_conf **out, struct tdm_err *err)
{
	return load(path, NULL, 0, out, err);
}

int tdm_conf_load_buffer(const char *name, const void *buf, size_t len,
			 struct tdm_conf **out, struct tdm_err *err)
{
	return load(name, buf ? buf : "", len, out, err);
}

void tdm_conf_free(struct tdm_conf *conf)
{
	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->n_repositories; i++) {
		struct tdm_repository *r = &conf->repositories[i];
		free(r->name);
		free(r->module);
		free(r->token_label);
		free(r->pin);
	}
	free(conf->repositories);
	free(conf->path);
	free(conf->syslog_facility);
	free(conf->log_file);
	free(conf->policy_file);
	free(conf->zonelist_file);
	free(conf->enforcer_user);
	free(conf->enforcer_group);
	free(conf->enforcer_chroot);
	free(conf->datastore);
	free(conf->ds_submit_command);
	free(conf->ds_retract_command);
	free(conf->enforcer_pid_file);
	free(conf->enforcer_socket);
	free(conf->enforcer_workdir);
	free(conf->signer_user);
	free(conf->signer_group);
	free(conf->signer_chroot);
	free(conf->signer_workdir);
	free(conf->signer_pid_file);
	free(conf->signer_socket);
	free(conf->notify_command);
	tdm__strv_free(conf->listener_addresses, conf->n_listeners);
	for (size_t i = 0; i < conf->cluster.n_peers; i++) {
		free(conf->cluster.peers[i].address);
		free(conf->cluster.peers[i].forward);
	}
	free(conf->cluster.peers);
	free(conf->cluster.data_directory);
	free(conf->cluster.listen);
	free(conf->cluster.control_socket);
	free(conf->cluster.http);
	free(conf->cluster.forward_listen);
	free(conf);
}

const struct tdm_repository *tdm_conf_repository(const struct tdm_conf *conf,
						 const char *name)
{
	for (size_t i = 0; i < conf->n_repositories; i++)
		if (strcmp(conf->repositories[i].name, name) == 0)
			return &conf->repositories[i];
	return NULL;
}
