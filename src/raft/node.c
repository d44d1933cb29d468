/*
 * Node life cycle: configuration defaults, snapshot sizing, start-up on the
 * caller's libuv loop, and shutdown.
 *
 * Start-up order (notes/libraft-0.15.md §4, with the §5 rules):
 *   SIGPIPE ignored (kill -9 of a leader otherwise took both followers down
 *   with it); the data directory locked; the TCP transport wrapped
 *   (transport.c); raft_uv_init on <data_dir>/raft with auto-recovery OFF
 *   (0.15 would rename a segment it cannot load and carry on without those
 *   entries); raft_init with the numeric IPv4 address; raft_bootstrap from
 *   the static peer list unless joining (RAFT_CANTBOOTSTRAP on an existing
 *   log is expected); timeouts, pre-vote and byte-sized snapshot settings;
 *   raft_start, which restores the newest snapshot and reloads the log; then
 *   the leadership poll.
 *
 * A corrupt log stops start-up with an alarm that names the remedy (wipe
 * and re-add), never a silent truncation.
 */
#include "raft/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/log.h"

#define DEF_ELECTION 1000u
#define DEF_HEARTBEAT 100u
#define DEF_INSTALL_SNAPSHOT 60000u
#define DEF_CONNECT_RETRY 250u
#define DEF_BUDGET (256ull * 1024 * 1024)
#define DEF_IN_FLIGHT 16u
#define DEF_QUEUED 1024u
#define DEF_USER_TIMEOUT 10000u
#define DEF_KEEPALIVE 5u
#define DEF_POLL 5u

/*- configuration -*/

int cluster_config_from_conf(struct cluster_config *cfg, struct cluster_peer *peers,
			     const struct tdm_cluster_conf *conf)
{
	memset(cfg, 0, sizeof *cfg);
	if (conf->n_peers > CLUSTER_MAX_NODES)
		return TDM_ERANGE;
	cfg->id = conf->node_id != 0 ? conf->node_id : 1;
	cfg->address = conf->listen;
	cfg->data_dir = conf->data_directory;
	cfg->witness = conf->witness;
	cfg->election_timeout_ms = conf->election_timeout_ms > 0 ?
					   (unsigned)conf->election_timeout_ms : 0;
	cfg->heartbeat_ms = conf->heartbeat_ms > 0 ? (unsigned)conf->heartbeat_ms : 0;
	for (size_t i = 0; i < conf->n_peers; i++) {
		peers[i].id = conf->peers[i].id;
		peers[i].address = conf->peers[i].address;
		peers[i].witness = conf->peers[i].witness;
	}
	cfg->peers = peers;
	cfg->n_peers = conf->n_peers;
	return 0;
}

void cluster_snapshot_sizing(const struct cluster_config *cfg, unsigned *threshold,
			     unsigned *trailing)
{
	uint64_t budget = cfg->snapshot_budget_bytes ? cfg->snapshot_budget_bytes : DEF_BUDGET;
	uint64_t hint = cfg->entry_size_hint ? cfg->entry_size_hint : CLUSTER_ENTRY_MAX;
	uint64_t n;

	if (hint < 64)
		hint = 64;
	/* (threshold + trailing) x entry size is both the most RAM the
	 * in-memory log holds and the largest catch-up AppendEntries (0.15
	 * sends every missing entry in one message).  Use 3/4 of the budget:
	 * snapshots are taken at most once per apply batch and can lag. */
	n = budget / hint;
	*threshold = (unsigned)(n / 2 < 16 ? 16 : n / 2 > 65536 ? 65536 : n / 2);
	*trailing = (unsigned)(n / 4 < 8 ? 8 : n / 4 > 32768 ? 32768 : n / 4);
}

int cluster__code(int rv)
{
	switch (rv) {
	case 0: return 0;
	case RAFT_NOMEM: return TDM_ENOMEM;
	case RAFT_NOTLEADER: return TDM_ENOTLEADER;
	case RAFT_SHUTDOWN: return TDM_ESHUTDOWN;
	case RAFT_CANTCHANGE:
	case RAFT_BUSY: return TDM_EAGAIN;
	case RAFT_DUPLICATEID:
	case RAFT_DUPLICATEADDRESS: return TDM_EEXIST;
	case RAFT_BADID:
	case RAFT_NOTFOUND: return TDM_ENOENT;
	case RAFT_BADROLE:
	case RAFT_INVALID:
	case RAFT_MALFORMED: return TDM_EINVAL;
	case RAFT_TOOBIG: return TDM_ERANGE;
	case RAFT_IOERR:
	case RAFT_NOSPACE: return TDM_EIO;
	default: return TDM_ECLUSTER;
	}
}

void cluster__apply_settings(struct cluster *c, bool pre_vote)
{
	raft_set_election_timeout(c->raft, c->election_timeout_ms);
	raft_set_heartbeat_timeout(c->raft, c->heartbeat_ms);
	raft_set_pre_vote(c->raft, pre_vote);
	raft_set_snapshot_threshold(c->raft, c->threshold);
	raft_set_snapshot_trailing(c->raft, c->trailing);
}

/* Copy the parts of cfg every mode uses. */
static struct cluster *alloc_cluster(const struct cluster_config *cfg,
				     const struct cluster_fsm_ops *ops, void *ctx,
				     const struct cluster_events *events)
{
	struct cluster *c = tdm_calloc(1, sizeof *c);

	c->id = cfg->id;
	if (cfg->address != NULL)
		snprintf(c->address, sizeof c->address, "%s", cfg->address);
	c->ops = *ops;
	c->ctx = ctx;
	if (events != NULL)
		c->events = *events;
	c->witness = cfg->witness;
	c->election_timeout_ms = cfg->election_timeout_ms ? cfg->election_timeout_ms : DEF_ELECTION;
	c->heartbeat_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms : DEF_HEARTBEAT;
	c->poll_ms = cfg->poll_ms ? cfg->poll_ms : DEF_POLL;
	c->max_in_flight = cfg->max_in_flight ? cfg->max_in_flight : DEF_IN_FLIGHT;
	c->max_queued = cfg->max_queued ? cfg->max_queued : DEF_QUEUED;
	cluster_snapshot_sizing(cfg, &c->threshold, &c->trailing);
	if (cfg->witness)
		cluster_set_witness(c, cfg->id, true);
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].witness)
			cluster_set_witness(c, cfg->peers[i].id, true);
	c->last_state = RAFT_UNAVAILABLE;
	c->lock_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->room, NULL);
	c->lock_inited = true;
	cluster__fsm_init(c);
	return c;
}

static void free_cluster(struct cluster *c)
{
	if (c->lock_inited) {
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->room);
	}
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->data_dir);
	free(c);
}

bool cluster__numeric_ipv4(const char *address)
{
	struct sockaddr_in sa;
	char host[CLUSTER_ADDR_MAX];
	const char *colon = address != NULL ? strrchr(address, ':') : NULL;
	long port;

	if (colon == NULL || strlen(address) >= CLUSTER_ADDR_MAX)
		return false;
	memcpy(host, address, (size_t)(colon - address));
	host[colon - address] = '\0';
	port = strtol(colon + 1, NULL, 10);
	return port > 0 && port <= 65535 && uv_ip4_addr(host, (int)port, &sa) == 0;
}

int cluster__lock_data_dir(const char *data_dir, int *fd, struct tdm_err *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/cluster.lock", data_dir);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return tdm_err_fail(err, TDM_EIO, "%s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		if (e == EWOULDBLOCK)
			return tdm_err_fail(err, TDM_EEXIST,
					    "%s: the data directory is in use by a running node",
					    path);
		return tdm_err_fail(err, TDM_EIO, "%s: %s", path, strerror(e));
	}
	return 0;
}

static int make_dir(const char *path, struct tdm_err *err)
{
	struct stat st;
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return tdm_err_fail(err, TDM_EIO, "%s: cannot create: %s", path, strerror(errno));
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return tdm_err_fail(err, TDM_EIO, "%s: not a directory", path);
	return 0;
}

static void warn_filesystem(const char *path)
{
	struct statfs fs;
	const char *name = NULL;
	if (statfs(path, &fs) != 0)
		return;
	switch ((unsigned long)fs.f_type) {
	case 0x01021994UL: name = "tmpfs (the log is lost on reboot)"; break;
	case 0x794c7630UL: name = "overlayfs"; break;
	case 0x6969UL: name = "NFS"; break;
	case 0x65735546UL: name = "FUSE"; break;
	}
	if (name != NULL)
		tdm_log_warn("cluster: data directory %s is on %s; keep it on local ext4 or xfs",
			     path, name);
}

/*- tracer -*/

static void trace_emit(struct raft_tracer *t, const char *file, int line, const char *message)
{
	struct cluster *c = t->impl;
	tdm_log_debug("cluster node %llu: libraft %s:%d: %s", (unsigned long long)c->id, file, line,
		      message);
}

/*- the uv side -*/

static void poll_cb(uv_timer_t *timer)
{
	cluster__tick(timer->data);
}

static void async_cb(uv_async_t *async)
{
	cluster__tick(async->data);
}

static int cmp_server(const void *a, const void *b)
{
	const struct cluster_peer *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The bootstrap configuration: this node and the static peers, sorted by
 * id so that every node writes the byte-identical entry 1. */
static int bootstrap(struct cluster *c, const struct cluster_config *cfg, struct tdm_err *err)
{
	struct cluster_peer all[CLUSTER_MAX_NODES + 1];
	struct raft_configuration conf;
	size_t n = 0;
	int rv;

	all[n++] = (struct cluster_peer){ cfg->id, cfg->address, cfg->witness };
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (cfg->peers[i].id == cfg->id) {
			if (strcmp(cfg->peers[i].address, cfg->address) != 0)
				return tdm_err_fail(err, TDM_EINVAL,
						    "peer %llu is this node but has address %s, not %s",
						    (unsigned long long)cfg->id,
						    cfg->peers[i].address, cfg->address);
			continue;
		}
		if (n == CLUSTER_MAX_NODES)
			return tdm_err_fail(err, TDM_ERANGE, "more than %d nodes",
					    CLUSTER_MAX_NODES);
		all[n++] = cfg->peers[i];
	}
	qsort(all, n, sizeof all[0], cmp_server);
	raft_configuration_init(&conf);
	for (size_t i = 0; i < n; i++) {
		rv = raft_configuration_add(&conf, all[i].id, all[i].address, RAFT_VOTER);
		if (rv != 0) {
			raft_configuration_close(&conf);
			return tdm_err_fail(err, TDM_EINVAL, "peer %llu at %s: %s",
					    (unsigned long long)all[i].id, all[i].address,
					    raft_strerror(rv));
		}
	}
	rv = raft_bootstrap(c->raft, &conf);
	raft_configuration_close(&conf);
	if (rv == RAFT_CANTBOOTSTRAP)
		return 0; /* an existing log: the normal restart */
	if (rv != 0)
		return tdm_err_fail(err, cluster__code(rv), "bootstrap: %s: %s", raft_strerror(rv),
				    raft_errmsg(c->raft));
	tdm_log_notice("cluster node %llu: bootstrapped a new cluster of %zu voters",
		       (unsigned long long)c->id, n);
	return 0;
}

static void start_failed_close_cb(struct raft *r)
{
	bool *closed = r->data;
	*closed = true;
}

/* Undo a partly done cluster_new().  Runs the loop until libraft has
 * closed: cluster_new() is called before the owner's uv_run. */
static void abort_start(struct cluster *c)
{
	if (c->raft_inited) {
		bool closed = false;
		c->own_raft.data = &closed;
		raft_close(&c->own_raft, start_failed_close_cb);
		while (!closed)
			uv_run(c->loop, UV_RUN_ONCE);
		raft_uv_close(&c->io);
		cluster__transport_close(&c->transport);
	} else {
		if (c->io_inited)
			raft_uv_close(&c->io);
		if (c->tcp_inited)
			cluster__transport_close(&c->transport);
	}
	free_cluster(c);
}

int cluster_new(struct cluster **out, uv_loop_t *loop, const struct cluster_config *cfg,
		const struct cluster_fsm_ops *ops, void *ctx,
		const struct cluster_events *events, struct tdm_err *err)
{
	struct cluster *c;
	char dir[4096];
	uint64_t applied;
	int rv;

	if (cfg->id == 0)
		return tdm_err_fail(err, TDM_EINVAL, "node id must be greater than 0");
	if (!cluster__numeric_ipv4(cfg->address))
		return tdm_err_fail(err, TDM_EINVAL,
				    "node %llu: raft address \"%s\" is not numeric IPv4 a.b.c.d:port "
				    "(libraft 0.15 resolves no names)",
				    (unsigned long long)cfg->id, cfg->address ? cfg->address : "");
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].id == 0 || !cluster__numeric_ipv4(cfg->peers[i].address))
			return tdm_err_fail(err, TDM_EINVAL,
					    "peer %llu: address \"%s\" is not numeric IPv4 a.b.c.d:port",
					    (unsigned long long)cfg->peers[i].id,
					    cfg->peers[i].address ? cfg->peers[i].address : "");
	if (cfg->data_dir == NULL || cfg->data_dir[0] == '\0')
		return tdm_err_fail(err, TDM_EINVAL, "node %llu: no data directory",
				    (unsigned long long)cfg->id);
	if (ops == NULL || ops->apply == NULL || ops->snapshot == NULL || ops->restore == NULL)
		return tdm_err_fail(err, TDM_EINVAL, "incomplete FSM operations");
	if ((ops->snapshot_begin != NULL) != (ops->snapshot_write != NULL) ||
	    (ops->snapshot_begin != NULL) != (ops->snapshot_end != NULL))
		return tdm_err_fail(err, TDM_EINVAL,
				    "FSM operations: snapshot_begin, _write and _end go together");
	if ((size_t)snprintf(dir, sizeof dir, "%s/raft", cfg->data_dir) >= sizeof dir)
		return tdm_err_fail(err, TDM_EINVAL, "data directory path too long");

	rv = make_dir(cfg->data_dir, err);
	if (rv == 0)
		rv = make_dir(dir, err);
	if (rv != 0)
		return rv;

	c = alloc_cluster(cfg, ops, ctx, events);
	c->loop = loop;
	c->data_dir = tdm_strdup(cfg->data_dir);
	rv = cluster__lock_data_dir(cfg->data_dir, &c->lock_fd, err);
	if (rv != 0) {
		free_cluster(c);
		return rv;
	}
	warn_filesystem(dir);

	/* libraft writes to peers that may have died; EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);

	rv = cluster__transport_init(&c->transport, loop,
				     cfg->tcp_user_timeout_ms ? cfg->tcp_user_timeout_ms : DEF_USER_TIMEOUT,
				     cfg->tcp_keepalive_s ? cfg->tcp_keepalive_s : DEF_KEEPALIVE);
	if (rv != 0) {
		free_cluster(c);
		return tdm_err_fail(err, TDM_ECLUSTER, "raft transport: %s", raft_strerror(rv));
	}
	c->tcp_inited = true;
	if (cfg->bind_address != NULL) {
		rv = raft_uv_tcp_set_bind_address(&c->transport.tcp, cfg->bind_address);
		if (rv != 0) {
			abort_start(c);
			return tdm_err_fail(err, TDM_EINVAL, "bind address %s: %s",
					    cfg->bind_address, raft_strerror(rv));
		}
	}
	rv = raft_uv_init(&c->io, loop, dir, &c->transport.iface);
	if (rv != 0) {
		rv = tdm_err_fail(err, TDM_EIO, "%s: %s: %s", dir, raft_strerror(rv), c->io.errmsg);
		abort_start(c);
		return rv;
	}
	c->io_inited = true;
	cluster__fsm_bind_io(c, &c->io);
	raft_uv_set_auto_recovery(&c->io, false);
	raft_uv_set_connect_retry_delay(&c->io,
					cfg->connect_retry_ms ? cfg->connect_retry_ms : DEF_CONNECT_RETRY);

	c->tracer.impl = c;
	c->tracer.enabled = true;
	c->tracer.emit = trace_emit;
	if (cfg->trace || (getenv("LIBRAFT_TRACE") != NULL && strcmp(getenv("LIBRAFT_TRACE"), "1") == 0))
		raft_uv_set_tracer(&c->io, &c->tracer);

	rv = raft_init(&c->own_raft, &c->io, &c->fsm, cfg->id, cfg->address);
	if (rv != 0) {
		rv = tdm_err_fail(err, rv == RAFT_IOERR ? TDM_EIO : TDM_ECLUSTER,
				  "node %llu: %s: %s: %s (the disk probe needs O_DIRECT or a "
				  "known file system, and free aio slots in /proc/sys/fs/aio-max-nr)",
				  (unsigned long long)cfg->id, dir, raft_strerror(rv),
				  raft_errmsg(&c->own_raft));
		abort_start(c);
		return rv;
	}
	c->raft_inited = true;
	c->raft = &c->own_raft;
	if (cfg->trace || (getenv("LIBRAFT_TRACE") != NULL && strcmp(getenv("LIBRAFT_TRACE"), "1") == 0))
		c->raft->tracer = &c->tracer;

	if (!cfg->join) {
		rv = bootstrap(c, cfg, err);
		if (rv != 0) {
			abort_start(c);
			return rv;
		}
	}
	cluster__apply_settings(c, !cfg->no_pre_vote);
	raft_set_install_snapshot_timeout(c->raft, cfg->install_snapshot_timeout_ms ?
							   cfg->install_snapshot_timeout_ms :
							   DEF_INSTALL_SNAPSHOT);

	c->skip_upto = ops->applied_index != NULL ? ops->applied_index(ctx) : 0;
	rv = raft_start(c->raft);
	if (rv != 0) {
		if (rv == RAFT_CORRUPT)
			rv = tdm_err_fail(err, TDM_ECLUSTER,
					  "node %llu: ALARM: the raft log in %s is corrupt (%s). "
					  "Auto-recovery is off on purpose: it would silently drop "
					  "committed entries. Stop this node, move %s aside, remove "
					  "the node from the cluster (cluster-ctl remove %llu), then "
					  "start it with an empty data directory and --join, and add it "
					  "again (cluster-ctl add %llu %s)",
					  (unsigned long long)cfg->id, dir, raft_errmsg(c->raft),
					  cfg->data_dir, (unsigned long long)cfg->id,
					  (unsigned long long)cfg->id, cfg->address);
		else
			rv = tdm_err_fail(err, cluster__code(rv),
					  "node %llu: cannot start raft on %s, data %s: %s: %s%s",
					  (unsigned long long)cfg->id, cfg->bind_address ? cfg->bind_address : cfg->address,
					  dir, raft_strerror(rv), raft_errmsg(c->raft),
					  rv == RAFT_IOERR ? " (is the port already in use?)" : "");
		abort_start(c);
		return rv;
	}
	applied = ops->applied_index != NULL ? ops->applied_index(ctx) : 0;
	if (applied > raft_last_index(c->raft)) {
		rv = tdm_err_fail(err, TDM_ECLUSTER,
				  "node %llu: the state is at index %llu but the raft log in %s ends "
				  "at %llu: state.db and raft/ do not belong together; wipe the whole "
				  "data directory and re-add the node",
				  (unsigned long long)cfg->id, (unsigned long long)applied, dir,
				  (unsigned long long)raft_last_index(c->raft));
		abort_start(c);
		return rv;
	}

	uv_timer_init(loop, &c->poll);
	c->poll.data = c;
	c->poll_inited = true;
	uv_timer_start(&c->poll, poll_cb, c->poll_ms, c->poll_ms);
	uv_async_init(loop, &c->async, async_cb);
	c->async.data = c;
	c->async_inited = true;

	tdm_log_notice("cluster node %llu%s: started at %s, data %s, last index %llu, term %llu, "
		       "election %u ms, heartbeat %u ms, snapshot every %u entries keeping %u",
		       (unsigned long long)c->id, c->witness ? " (witness)" : "", cfg->address, dir,
		       (unsigned long long)raft_last_index(c->raft),
		       (unsigned long long)c->raft->current_term, c->election_timeout_ms,
		       c->heartbeat_ms, c->threshold, c->trailing);
	*out = c;
	return 0;
}

/*- close -*/

static void handle_closed(uv_handle_t *h)
{
	struct cluster *c = h->data;
	cluster_close_cb cb;
	void *data;

	if (--c->handles_open > 0)
		return;
	cb = c->close_cb;
	data = c->close_data;
	free_cluster(c);
	if (cb != NULL)
		cb(data);
}

static void raft_closed(struct raft *r)
{
	struct cluster *c = r->data;

	raft_uv_close(&c->io);
	cluster__transport_close(&c->transport);
	c->raft = NULL;
	/* Hand-off items that arrived during the close. */
	cluster__close_handoff(c);
	cluster__fail_pending(c, TDM_ESHUTDOWN);
	c->handles_open = 2;
	uv_close((uv_handle_t *)&c->poll, handle_closed);
	uv_close((uv_handle_t *)&c->async, handle_closed);
}

void cluster__close_raft(struct cluster *c)
{
	c->own_raft.data = c;
	raft_close(&c->own_raft, raft_closed);
}

void cluster_close(struct cluster *c, cluster_close_cb cb, void *data)
{
	if (c->closing)
		return;
	c->closing = true;
	c->close_cb = cb;
	c->close_data = data;
	cluster__lost(c);
	cluster__close_handoff(c);
	cluster__fail_pending(c, TDM_ESHUTDOWN);
	uv_timer_stop(&c->poll);
	tdm_log_notice("cluster node %llu: closing", (unsigned long long)c->id);
	/* A snapshot job out: its write step is skipped if it has not started,
	 * and raft_close waits for its finalize (fsm.c), so that libraft never
	 * puts a snapshot on a closing raft_uv and the FSM context outlives
	 * the job. */
	cluster__snapshot_cancel(c);
	if (cluster__snapshot_busy(c)) {
		tdm_log_notice("cluster node %llu: waiting for the snapshot at %llu to end",
			       (unsigned long long)c->id, (unsigned long long)c->snap.index);
		return;
	}
	cluster__close_raft(c);
}

/*- fixture binding -*/

int cluster__new_detached(struct cluster **out, const struct cluster_config *cfg,
			  const struct cluster_fsm_ops *ops, void *ctx,
			  const struct cluster_events *events)
{
	struct cluster *c;
	if (cfg->id == 0 || ops == NULL || ops->apply == NULL)
		return TDM_EINVAL;
	c = alloc_cluster(cfg, ops, ctx, events);
	c->fixture = true;
	/* raft_fixture_grow's raft_init would refuse it: cluster__bind sets it. */
	c->fsm.snapshot_async = NULL;
	*out = c;
	return 0;
}

struct raft_fsm *cluster__fsm(struct cluster *c)
{
	return &c->fsm;
}

void cluster__bind(struct cluster *c, struct raft *r)
{
	c->raft = r;
	cluster__fsm_bind_io(c, r->io);
	cluster__apply_settings(c, true);
	c->skip_upto = c->ops.applied_index != NULL ? c->ops.applied_index(c->ctx) : 0;
}

void cluster__free_detached(struct cluster *c)
{
	c->closing = true;
	/* raft_fixture_close drops queued async work without its callback. */
	cluster__snapshot_abandon(c);
	cluster__close_handoff(c);
	cluster__fail_pending(c, TDM_ESHUTDOWN);
	free_cluster(c);
}
