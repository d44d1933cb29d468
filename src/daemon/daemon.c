/*
 * tandemd's life cycle (see daemon.h): start, signals, reload, shutdown.
 *
 * Start order: configuration and logging, data directory and pid file,
 * the node (state.db, then Raft; libraft replays its log into the ledger),
 * the control socket and forward listener, HTTP, then the privilege drop
 * (after every privileged bind and open), signals and the status timer.
 *
 * Shutdown (SIGTERM, SIGINT, `stop`) in two phases.  Phase one stops
 * accepting connections and lets the requests in flight finish, for at
 * most STOP_GRACE_MS.  Phase two fails what is left with "shutting down"
 * (writes whose outcome is unknown say so), closes the Raft node (which
 * completes its pending submissions), then the listeners, HTTP, the
 * ledger and the loop.  Nothing committed is lost: state.db holds every
 * applied entry with its index, and the Raft log the rest.
 */
#include "daemon/daemon_int.h"
#include "daemon/enforce.h"
#include "daemon/custody.h"
#include "daemon/http.h"
#include "daemon/peer_client.h"
#include "daemon/process.h"
#include "daemon/writer.h"
#include "common/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define STOP_GRACE_MS 5000
#define STATUS_PERIOD_MS 250

/*- private: HTTP (runs on libmicrohttpd's thread) ---------------------------*/

static void http_handler(void *ctx, const char *path, struct daemon_http_reply *reply)
{
	struct daemon *d = ctx;
	struct daemon_status st;
	if (strcmp(path, "/health") != 0 && strcmp(path, "/metrics") != 0)
		return; /* 404 */
	if (!daemon_status_box_get(&d->box, &st)) {
		reply->status = 503;
		reply->content_type = "application/json";
		reply->body = strdup("{\"healthy\":false,\"status\":\"UNKNOWN\",\"detail\":\"starting\"}\n");
		return;
	}
	if (strcmp(path, "/health") == 0) {
		char *body;
		reply->status = daemon_health_http(&st, &body);
		reply->content_type = "application/json";
		reply->body = daemon__sprintf("%s\n", body);
		free(body);
	} else {
		reply->status = 200;
		reply->content_type = "text/plain; version=0.0.4";
		reply->body = daemon_metrics_text(&st);
	}
}

/*- private: logging -----------------------------------------------------------*/

static void log_setup(const struct daemon_options *opt, const struct tdm_conf *conf)
{
	int verbosity = opt->verbosity >= 0 ? opt->verbosity : conf ? conf->log_verbosity : 3;
	int facility = conf ? tdm_conf_syslog_facility(conf) : LOG_DAEMON;
	tdm_log_init("tandemd", !opt->no_syslog, facility, opt->use_stderr || opt->no_syslog,
		     verbosity);
}

/*- private: filesystem ----------------------------------------------------------*/

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) != 0 && errno != EEXIST ? -1 : 0;
}

static int parent_dir(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL || slash == path || (size_t)(slash - path) >= cap)
		return -1;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	return 0;
}

/*- shutdown -----------------------------------------------------------------------*/

static void on_handle_closed(uv_handle_t *h)
{
	(void)h;
}

static void on_cluster_closed(void *data)
{
	struct daemon *d = data;
	d->cluster = NULL;
	control_server_close(d->ctl_unix);
	control_server_close(d->ctl_tcp);
	d->ctl_unix = d->ctl_tcp = NULL;
	daemon_http_stop(d->http);
	d->http = NULL;
	custody_close(d->custody);
	d->custody = NULL;
	uv_close((uv_handle_t *)&d->status_timer, on_handle_closed);
	uv_close((uv_handle_t *)&d->stop_timer, on_handle_closed);
	uv_close((uv_handle_t *)&d->sig_term, on_handle_closed);
	uv_close((uv_handle_t *)&d->sig_int, on_handle_closed);
	uv_close((uv_handle_t *)&d->sig_hup, on_handle_closed);
	tdm_log_info("node %llu: Raft closed", (unsigned long long)d->cfg->node_id);
}

static void stop_phase_two(struct daemon *d)
{
	if (d->requests > 0)
		tdm_log_warn("node %llu: %u requests still running after %d s: failing them",
			     (unsigned long long)d->cfg->node_id, d->requests, STOP_GRACE_MS / 1000);
	uv_timer_stop(&d->stop_timer);
	if (d->enforce != NULL)
		enforce_on_follower(d->enforce);
	writer_close(d->writer);
	d->writer = NULL;
	enforce_close(d->enforce);
	d->enforce = NULL;
	daemon__peer_cache_stop(d);
	peer_client_close(d->peers);
	d->peers = NULL;
	if (d->cluster != NULL)
		cluster_close(d->cluster, on_cluster_closed, d);
	else
		on_cluster_closed(d);
}

static void on_stop_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	if (d->requests == 0 || uv_now(&d->loop) - d->stopping_since >= STOP_GRACE_MS)
		stop_phase_two(d);
}

void daemon__stop(struct daemon *d)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->stopping_since = uv_now(&d->loop);
	tdm_log_notice("node %llu: shutting down", (unsigned long long)d->cfg->node_id);
	daemon__status_publish(d); /* /health says 503 from now on */
	control_server_stop_listening(d->ctl_unix);
	control_server_stop_listening(d->ctl_tcp);
	uv_timer_start(&d->stop_timer, on_stop_timer, 0, 20);
}

/*- reload ----------------------------------------------------------------------------*/

int daemon__reload(struct daemon *d, char *msg, size_t cap)
{
	struct tdm_conf *conf = NULL;
	struct daemon_config *cfg = NULL;
	struct tdm_err err = { "" };
	char changed[512];
	int rc = tdm_conf_load(d->opt->conf_path, &conf, &err);
	if (rc == 0)
		rc = daemon_config_build(conf, d->opt->pid_file, &cfg, &err);
	if (rc != 0) {
		snprintf(msg, cap, "reload refused, configuration unchanged: %s", err.msg);
		tdm_log_err("node %llu: %s", (unsigned long long)d->cfg->node_id, msg);
		tdm_conf_free(conf);
		return rc;
	}
	/* Logging follows the new file (unless the command line fixed it). */
	if (d->opt->verbosity < 0)
		tdm_log_set_verbosity(conf->log_verbosity);
	if (daemon_config_needs_restart(d->cfg, cfg, changed, sizeof changed))
		snprintf(msg, cap, "reloaded %s: logging applied; changed %s: restart tandemd to apply",
			 d->opt->conf_path, changed);
	else
		snprintf(msg, cap, "reloaded %s: logging applied, nothing else changed",
			 d->opt->conf_path);
	tdm_log_notice("node %llu: %s", (unsigned long long)d->cfg->node_id, msg);
	daemon_config_free(cfg);
	tdm_conf_free(conf);
	return 0;
}

/*- signals and timers --------------------------------------------------------------*/

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	char msg[1200];
	if (signum == SIGHUP) {
		daemon__reload(d, msg, sizeof msg);
		return;
	}
	tdm_log_notice("node %llu: %s received", (unsigned long long)d->cfg->node_id,
		       strsignal(signum));
	daemon__stop(d);
}

static void on_status_timer(uv_timer_t *t)
{
	daemon__status_publish(t->data);
}

/*- start ---------------------------------------------------------------------------*/

static int start(struct daemon *d, struct tdm_err *err)
{
	char dir[4096];
	int rc;

	if (mkdir_p(d->cfg->data_dir, 0750) != 0)
		return tdm_err_fail(err, TDM_EIO, "<Cluster><DataDirectory> %s: %s",
				    d->cfg->data_dir, strerror(errno));
	rc = daemon_pidfile_write(d->cfg->pid_file, err);
	if (rc != 0)
		return rc;
	rc = custody_new(&d->custody, d, err);
	if (rc != 0)
		return rc;
	rc = enforce_new(&d->enforce, d, err);
	if (rc != 0)
		return rc;
	rc = daemon__node_start(d, err);
	if (rc != 0)
		return rc;
	daemon__peer_cache_start(d);
	if (parent_dir(d->cfg->control_socket, dir, sizeof dir) == 0)
		mkdir_p(dir, 0755);
	rc = control_server_start(&d->ctl_unix, &d->loop, d->cfg->control_socket,
				  daemon__dispatch, d, err);
	if (rc == 0)
		rc = control_server_start_tcp(&d->ctl_tcp, &d->loop, d->cfg->forward,
					      daemon__dispatch, d, err);
	if (rc != 0)
		return rc;
	if (d->cfg->http != NULL) {
		rc = daemon_http_start(&d->http, d->cfg->http, http_handler, d, err);
		if (rc != 0)
			return rc;
	}
	/* Everything tandemd writes later (Raft segments, state.db and its WAL,
	 * the pid file, the socket) must stay writable after the drop. */
	rc = daemon_chown_tree(d->cfg->data_dir, d->cfg->user, d->cfg->group, err);
	if (rc == 0)
		rc = daemon_chown_tree(d->cfg->control_socket, d->cfg->user, d->cfg->group, err);
	if (rc == 0 && d->opt->pid_file != NULL)
		rc = daemon_chown_tree(d->cfg->pid_file, d->cfg->user, d->cfg->group, err);
	if (rc == 0)
		rc = daemon_drop_privileges(d->cfg->user, d->cfg->group, err);
	if (rc != 0)
		return rc;
	return 0;
}

int daemon_run(const struct daemon_options *opt)
{
	struct daemon *d = tdm_calloc(1, sizeof *d);
	struct tdm_err err = { "" };
	int rc, code;

	log_setup(opt, NULL);
	d->opt = opt;
	if (tdm_clock_init_env(&d->clock) != 0) {
		tdm_log_err("TANDEM_FAKE_TIME: not a time (seconds or YYYY-MM-DD-HH:MM:SS)");
		free(d);
		return 1;
	}
	rc = tdm_conf_load(opt->conf_path, &d->conf, &err);
	if (rc == 0)
		rc = daemon_config_build(d->conf, opt->pid_file, &d->cfg, &err);
	if (rc != 0) {
		tdm_log_err("%s", err.msg);
		tdm_conf_free(d->conf);
		free(d);
		return 1;
	}
	log_setup(opt, d->conf);
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&d->loop);
	daemon_status_box_init(&d->box);
	uv_timer_init(&d->loop, &d->status_timer);
	uv_timer_init(&d->loop, &d->stop_timer);
	uv_signal_init(&d->loop, &d->sig_term);
	uv_signal_init(&d->loop, &d->sig_int);
	uv_signal_init(&d->loop, &d->sig_hup);
	d->status_timer.data = d->stop_timer.data = d;
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d;
	d->started_ms = uv_now(&d->loop);

	rc = start(d, &err);
	if (rc != 0) {
		tdm_log_err("node %llu: cannot start: %s", (unsigned long long)d->cfg->node_id,
			    err.msg);
		d->exit_code = 1;
		d->stopping = true;
		stop_phase_two(d);
	} else {
		uv_signal_start(&d->sig_term, on_signal, SIGTERM);
		uv_signal_start(&d->sig_int, on_signal, SIGINT);
		uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
		uv_timer_start(&d->status_timer, on_status_timer, 0, STATUS_PERIOD_MS);
		tdm_log_notice("node %llu: started (Raft %s, forward %s, control %s%s%s%s)",
			       (unsigned long long)d->cfg->node_id, d->cfg->raft, d->cfg->forward,
			       d->cfg->control_socket, d->cfg->http ? ", HTTP " : "",
			       d->cfg->http ? d->cfg->http : "", opt->join ? ", joining" : "");
	}
	uv_run(&d->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&d->loop) != 0)
		tdm_log_warn("node %llu: event loop closed with handles open",
			     (unsigned long long)d->cfg->node_id);
	ledger_close(d->ledger);
	daemon_pidfile_remove(d->cfg->pid_file); /* only if it holds our pid */
	daemon_status_box_destroy(&d->box);
	code = d->exit_code;
	tdm_log_notice("node %llu: stopped%s", (unsigned long long)d->cfg->node_id,
		       code ? " with an error" : "");
	daemon_config_free(d->cfg);
	tdm_conf_free(d->conf);
	free(d);
	return code;
}
