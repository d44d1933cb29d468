/*
 * The control dispatcher: one table of commands, the checks every request
 * goes through (shutting down? leader-only? already forwarded?), and the
 * small commands that answer at once.  The larger ones live in cmd_*.c.
 *
 * Leader-only commands given to a follower are forwarded to the leader
 * (forward.c) unless the request carries CONTROL_F_FORWARDED, which a
 * forwarded request always does: a request is forwarded at most once.
 */
#define _GNU_SOURCE /* vasprintf */
#include "daemon/daemon_int.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	CMD_LEADER = 1u << 0, /* runs on the ready leader only */
	CMD_HIDDEN = 1u << 1, /* node-to-node or debugging: not in help */
};

struct command {
	const char *w1, *w2;  /* command words; w2 NULL for one-word commands */
	unsigned flags;
	daemon_cmd_fn fn;
	const char *usage;
};

static void cmd_help(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
static void cmd_leader(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
static void cmd_health(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
static void cmd_verbosity(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
static void cmd_reload(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
static void cmd_stop(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);
static void cmd_key_generate_any(struct daemon *d, struct control_conn *conn, const struct control_request *req, int argi);

static const struct command commands[] = {
	{ "status", NULL, 0, daemon__cmd_status, "status                      every node: role, term, indexes, lag, contact, version, state.db" },
	{ "leader", NULL, 0, cmd_leader, "leader                      the current leader" },
	{ "health", NULL, 0, cmd_health, "health                      this node's health (exit 0 OK, 1 WARNING, 2 CRITICAL)" },
	{ "verify", NULL, 0, daemon__cmd_verify, "verify                      compare the ledger digest of every node" },
	{ "transfer", NULL, CMD_LEADER, daemon__cmd_transfer, "transfer [NODE]             hand leadership over (to NODE)" },
	{ "add", NULL, CMD_LEADER, daemon__cmd_add, "add NODE ADDRESS [--witness] add a node (started with --join) at its Raft ADDRESS" },
	{ "remove", NULL, CMD_LEADER, daemon__cmd_remove, "remove NODE                 remove a node from the cluster" },
	{ "bench", "write", CMD_LEADER, daemon__cmd_bench, "bench write [--count N] [--size BYTES] [--inflight K]  load test with TEST commands" },
	{ "test", "submit", CMD_LEADER, daemon__cmd_test_submit, "test submit [--size BYTES] [--count N]  commit TEST commands" },
	{ "barrier", NULL, CMD_LEADER, daemon__cmd_barrier, "barrier                     commit a no-op; prints its index" },
	{ "key", "generate", CMD_LEADER, cmd_key_generate_any, "key generate -d DURATION (-p P | -a)   fill the key pool for DURATION (ods-enforcer)\n  key generate --algorithm N [--bits B] [--zone Z|--policy P] [--role ksk|zsk|csk]  one replicated key" },
	{ "key", "ledger", 0, daemon__cmd_key_list, "key ledger                  every key in the ledger (pool, policy and zone keys)" },
	/* ods-enforcer 2.x */
	{ "policy", "list", 0, daemon__cmd_policy_list, "policy list                 policies in the ledger" },
	{ "policy", "export", 0, daemon__cmd_policy_export, "policy export (-p P | -a)   kasp.xml text of policies" },
	{ "policy", "import", CMD_LEADER, daemon__cmd_policy_import, "policy import [-r]          import kasp.xml (tandem-enforcer sends it)" },
	{ "policy", "purge", CMD_LEADER, daemon__cmd_policy_purge, "policy purge                delete policies no zone uses" },
	{ "policy", "resalt", CMD_LEADER, daemon__cmd_policy_resalt, "policy resalt               new NSEC3 salts where Resalt is over" },
	{ "zone", "list", 0, daemon__cmd_zone_list, "zone list                   zones, their policy and next change" },
	{ "zone", "add", CMD_LEADER, daemon__cmd_zone_add, "zone add -z Z [-p P] [-s SIGNCONF] [-j File|DNS] [-i IN] [-q File|DNS] [-o OUT] [-u]" },
	{ "zone", "delete", CMD_LEADER, daemon__cmd_zone_delete, "zone delete (-z Z | -a) [-u]" },
	{ "zone", "set-policy", CMD_LEADER, daemon__cmd_zone_set_policy, "zone set-policy -z Z -p P [-u]" },
	{ "zonelist", "export", 0, daemon__cmd_zonelist_export, "zonelist export             zonelist.xml text of every zone" },
	{ "zonelist", "import", CMD_LEADER, daemon__cmd_zonelist_import, "zonelist import [-r]        import zonelist.xml (tandem-enforcer sends it)" },
	{ "update", NULL, CMD_LEADER, daemon__cmd_update, "update kasp|zonelist|all    policy import and/or zonelist import" },
	{ "key", "list", 0, daemon__cmd_ek_key_list, "key list [-v] [-d] [-p] [-z Z] [-k STATE | -a]" },
	{ "key", "export", 0, daemon__cmd_ek_key_export, "key export (-z Z | -a) [-e STATE] [-t TYPE] [-k CKA_ID] [-d [-s]]" },
	{ "key", "import", CMD_LEADER, daemon__cmd_ek_key_import, "key import -k CKA_ID -r REPO -z Z -b BITS -g ALG -e STATE -t TYPE -w TIME" },
	{ "key", "purge", CMD_LEADER, daemon__cmd_ek_key_purge, "key purge (-p P | -z Z) [-d]" },
	{ "key", "rollover", CMD_LEADER, daemon__cmd_key_rollover, "key rollover (-z Z | -p P) [-t KSK|ZSK|CSK]" },
	{ "key", "ds-submit", CMD_LEADER, daemon__cmd_key_ds, "key ds-submit -z Z (-x KEYTAG | -k CKA_ID)" },
	{ "key", "ds-seen", CMD_LEADER, daemon__cmd_key_ds, "key ds-seen -z Z (-x KEYTAG | -k CKA_ID)" },
	{ "key", "ds-retract", CMD_LEADER, daemon__cmd_key_ds, "key ds-retract -z Z (-x KEYTAG | -k CKA_ID)" },
	{ "key", "ds-gone", CMD_LEADER, daemon__cmd_key_ds, "key ds-gone -z Z (-x KEYTAG | -k CKA_ID)" },
	{ "rollover", "list", 0, daemon__cmd_ek_rollover_list, "rollover list [-z Z]        the next rollover of every zone" },
	{ "backup", "list", 0, daemon__cmd_ek_backup, "backup list [-r R]          keys and their backup state" },
	{ "backup", "prepare", CMD_LEADER, daemon__cmd_ek_backup, "backup prepare [-r R]       flag new keys for backup" },
	{ "backup", "commit", CMD_LEADER, daemon__cmd_ek_backup, "backup commit [-r R]        the flagged keys are backed up" },
	{ "backup", "rollback", CMD_LEADER, daemon__cmd_ek_backup, "backup rollback [-r R]      the backup failed: unflag" },
	{ "pool", "fill", CMD_LEADER, daemon__cmd_pool_fill, "pool fill -g ALG [-b BITS] -n N [-r REPO]  pre-generate keys until the pool holds N" },
	{ "pool", "list", 0, daemon__cmd_ek_pool_list, "pool list                   pre-generated keys per repository, algorithm, bits" },
	{ "repository", "list", 0, daemon__cmd_repository_list, "repository list             repositories of conf.xml" },
	{ "enforce", NULL, CMD_LEADER, daemon__cmd_enforce, "enforce [-z Z]              run the enforcer now (every zone, or Z)" },
	{ "signconf", NULL, CMD_LEADER, daemon__cmd_signconf, "signconf [-z Z]             write the signconf of every zone (or Z) again" },
	{ "queue", NULL, CMD_LEADER, daemon__cmd_queue, "queue                       enforcer jobs and the zones told to the signer" },
	{ "flush", NULL, CMD_LEADER, daemon__cmd_flush, "flush                       run every zone now" },
	{ "time", "leap", CMD_LEADER, daemon__cmd_time_leap, "time leap [-t YYYY-MM-DD-HH:MM:SS]  move the settable clock to the next event (or T) and run" },
	{ "running", NULL, 0, daemon__cmd_running, "running                     is tandemd running" },
	{ "verbosity", NULL, 0, cmd_verbosity, "verbosity N                 set this node's log verbosity (0..4)" },
	{ "reload", NULL, 0, cmd_reload, "reload                      re-read conf.xml (as SIGHUP)" },
	{ "stop", NULL, 0, cmd_stop, "stop                        shut this node down cleanly" },
	{ "help", NULL, 0, cmd_help, "help                        this list" },
	/* node to node, tools */
	{ "node", "info", CMD_HIDDEN, daemon__cmd_node_info, "node info" },
	{ "digest", NULL, CMD_HIDDEN, daemon__cmd_digest, "digest [MIN_INDEX]" },
	{ "entry", "submit", CMD_LEADER | CMD_HIDDEN, daemon__cmd_entry_submit, "entry submit HEX..." },
	{ "custody", "pubkey", CMD_HIDDEN, daemon__cmd_custody_pubkey, "custody pubkey" },
	{ "key", "sign", CMD_HIDDEN, daemon__cmd_key_sign, "key sign KEY HEXDATA" },
	{ "key", "verify", CMD_HIDDEN, daemon__cmd_key_verify, "key verify KEY HEXDATA HEXSIG" },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

char *daemon__sprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		s = tdm_strdup("");
	return s;
}

bool daemon__json(const struct control_conn *conn)
{
	return (control_conn_flags(conn) & CONTROL_F_JSON) != 0;
}

int daemon__parse_id(const char *s, uint64_t *id)
{
	char *end;
	unsigned long long v;
	if (s == NULL || *s < '0' || *s > '9')
		return TDM_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v == 0 || v > INT64_MAX)
		return TDM_EINVAL;
	*id = v;
	return 0;
}

void daemon__reply(struct daemon *d, struct control_conn *conn, int status, const char *body)
{
	control_conn_reply(conn, status, body);
	if (d->requests > 0)
		d->requests--;
}

void daemon__not_leader(struct daemon *d, struct control_conn *conn,
			const struct control_request *req)
{
	struct cluster_leader leader;
	char *msg;
	if (!(req->flags & CONTROL_F_FORWARDED) && !d->stopping) {
		daemon__forward(d, conn, req);
		return;
	}
	cluster_leader_get(d->cluster, &leader);
	if (leader.id != 0)
		msg = daemon__sprintf("error: node %llu is not the leader (node %llu is)\n",
				      (unsigned long long)d->cfg->node_id,
				      (unsigned long long)leader.id);
	else
		msg = daemon__sprintf("error: node %llu is not the leader and knows no leader\n",
				      (unsigned long long)d->cfg->node_id);
	daemon__reply(d, conn, CONTROL_EXIT_UNAVAILABLE, msg);
	free(msg);
}

static const struct command *find(const struct control_request *req, int *argi)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];
		if (req->argc < 1 || strcmp(req->argv[0], c->w1) != 0)
			continue;
		if (c->w2 == NULL) {
			*argi = 1;
			return c;
		}
		if (req->argc >= 2 && strcmp(req->argv[1], c->w2) == 0) {
			*argi = 2;
			return c;
		}
	}
	return NULL;
}

void daemon__dispatch(void *ctx, struct control_conn *conn, const struct control_request *req)
{
	struct daemon *d = ctx;
	const struct command *c;
	int argi = 0;
	char *msg;

	d->requests++;
	if (d->stopping) {
		daemon__reply(d, conn, CONTROL_EXIT_UNAVAILABLE,
			      "error: tandemd is shutting down\n");
		return;
	}
	c = find(req, &argi);
	if (c == NULL) {
		msg = req->argc == 0 ? tdm_strdup("error: empty command (try help)\n")
				     : daemon__sprintf("error: unknown command \"%.100s%s%.100s\" (try help)\n",
						       req->argv[0], req->argc > 1 ? " " : "",
						       req->argc > 1 ? req->argv[1] : "");
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, msg);
		free(msg);
		return;
	}
	if ((c->flags & CMD_LEADER) && !cluster_is_leader_ready(d->cluster)) {
		daemon__not_leader(d, conn, req);
		return;
	}
	c->fn(d, conn, req, argi);
}

/*- small commands --------------------------------------------------------*/

/* `key generate`: ods-enforcer's pool form (-d DURATION) or one key (--algorithm). */
static void cmd_key_generate_any(struct daemon *d, struct control_conn *conn,
				 const struct control_request *req, int argi)
{
	for (int i = argi; i < req->argc; i++)
		if (!strcmp(req->argv[i], "--algorithm")) {
			daemon__cmd_key_generate(d, conn, req, argi);
			return;
		}
	daemon__cmd_ek_key_generate(d, conn, req, argi);
}

static void cmd_help(struct daemon *d, struct control_conn *conn,
		     const struct control_request *req, int argi)
{
	size_t cap = 4096, len = 0;
	char *out = tdm_malloc(cap);
	(void)req;
	(void)argi;
	out[0] = '\0';
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (commands[i].flags & CMD_HIDDEN)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "  %s\n", commands[i].usage);
		if (len >= cap - 256) {
			cap *= 2;
			out = tdm_realloc(out, cap);
		}
	}
	daemon__reply(d, conn, CONTROL_EXIT_OK, out);
	free(out);
}

static void cmd_leader(struct daemon *d, struct control_conn *conn,
		       const struct control_request *req, int argi)
{
	struct cluster_leader leader;
	char *out;
	(void)req;
	(void)argi;
	cluster_leader_get(d->cluster, &leader);
	if (daemon__json(conn)) {
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_uint(&j, "leader", leader.id);
		tdm_json_kv_string(&j, "address", leader.id ? leader.address : NULL);
		tdm_json_kv_uint(&j, "asked", d->cfg->node_id);
		tdm_json_object_end(&j);
		out = daemon__sprintf("%s\n", tdm_json_text(&j));
		tdm_json_free(&j);
	} else if (leader.id) {
		out = daemon__sprintf("%llu %s\n", (unsigned long long)leader.id, leader.address);
	} else {
		out = tdm_strdup("no leader known (election in progress?)\n");
	}
	daemon__reply(d, conn, leader.id ? CONTROL_EXIT_OK : CONTROL_EXIT_UNAVAILABLE, out);
	free(out);
}

static void cmd_health(struct daemon *d, struct control_conn *conn,
		       const struct control_request *req, int argi)
{
	struct daemon_status st;
	char why[256], *out;
	enum daemon_health h;
	(void)req;
	(void)argi;
	daemon__status_fill(d, &st);
	h = daemon_health_eval(&st, why, sizeof why);
	if (daemon__json(conn)) {
		struct tdm_json j;
		tdm_json_init(&j);
		tdm_json_object_begin(&j);
		tdm_json_kv_string(&j, "status", daemon_health_name(h));
		tdm_json_kv_string(&j, "detail", why);
		tdm_json_key(&j, "node");
		daemon_status_json(&j, &st);
		tdm_json_object_end(&j);
		out = daemon__sprintf("%s\n", tdm_json_text(&j));
		tdm_json_free(&j);
	} else {
		out = daemon__sprintf("TANDEM %s - %s | term=%llu commit=%llu applied=%llu lag=%llu reachable=%u/%u\n",
				      daemon_health_name(h), why,
				      (unsigned long long)st.cl.term,
				      (unsigned long long)st.cl.commit_index,
				      (unsigned long long)st.cl.last_applied,
				      (unsigned long long)daemon_status_lag(&st),
				      st.peers_reachable, st.peers_total);
	}
	daemon__reply(d, conn, (int)h, out);
	free(out);
}

static void cmd_verbosity(struct daemon *d, struct control_conn *conn,
			  const struct control_request *req, int argi)
{
	char *end, *out;
	long v;
	if (req->argc != argi + 1) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "usage: verbosity N (0..4)\n");
		return;
	}
	v = strtol(req->argv[argi], &end, 10);
	if (*end != '\0' || v < 0 || v > 4) {
		daemon__reply(d, conn, CONTROL_EXIT_USAGE, "error: verbosity must be 0..4\n");
		return;
	}
	tdm_log_set_verbosity((int)v);
	out = daemon__sprintf("node %llu: verbosity %ld\n", (unsigned long long)d->cfg->node_id, v);
	daemon__reply(d, conn, CONTROL_EXIT_OK, out);
	free(out);
}

static void cmd_reload(struct daemon *d, struct control_conn *conn,
		       const struct control_request *req, int argi)
{
	char msg[1200];
	int rc;
	(void)req;
	(void)argi;
	rc = daemon__reload(d, msg, sizeof msg);
	strncat(msg, "\n", sizeof msg - strlen(msg) - 1);
	daemon__reply(d, conn, rc == 0 ? CONTROL_EXIT_OK : CONTROL_EXIT_FAIL, msg);
}

static void cmd_stop(struct daemon *d, struct control_conn *conn,
		     const struct control_request *req, int argi)
{
	char *out;
	(void)req;
	(void)argi;
	out = daemon__sprintf("node %llu: shutting down\n", (unsigned long long)d->cfg->node_id);
	daemon__reply(d, conn, CONTROL_EXIT_OK, out);
	free(out);
	daemon__stop(d);
}
