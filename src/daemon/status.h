/*
 * A node's status as tandemd reports it: Raft state from the cluster
 * wrapper plus what the daemon measures itself (apply rate, snapshot age,
 * state.db size, write counters).  The loop thread refreshes it a few
 * times a second and publishes a copy under a mutex, so the HTTP thread
 * (/health, /metrics) never touches the loop's data.
 *
 * The renderers are pure functions of a struct daemon_status: the health
 * verdict (shared by /health, `cluster-ctl health` and `status`), the
 * /health JSON body, the node's JSON object and Prometheus /metrics text.
 */
#ifndef TDM_DAEMON_STATUS_H
#define TDM_DAEMON_STATUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/json.h"
#include "raft/cluster.h"

/* A follower more entries behind its commit index than this is not healthy. */
#define DAEMON_LAG_CRITICAL 1000
/* ... and more than this is a warning. */
#define DAEMON_LAG_WARNING 100

struct daemon_status {
	struct cluster_status cl;
	char version[32];            /* PACKAGE_VERSION */
	int64_t uptime_s;
	uint64_t state_db_bytes;     /* state.db + its WAL */
	double apply_rate;           /* entries applied per second, recent average */
	int64_t snapshot_age_s;      /* since the last snapshot taken or restored here, -1 none */
	unsigned peers_total;        /* members of the configuration, this node included */
	unsigned peers_reachable;    /* of those, heard from within 2 election timeouts (self counts) */
	uint64_t writes_ok, writes_failed, forwarded;
	bool shutting_down;
};

/** Monitoring-plugin levels, also `cluster-ctl health`'s exit codes. */
enum daemon_health {
	DAEMON_HEALTH_OK = 0,
	DAEMON_HEALTH_WARNING = 1,
	DAEMON_HEALTH_CRITICAL = 2,
	DAEMON_HEALTH_UNKNOWN = 3,
};

/** "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *daemon_health_name(enum daemon_health h);

/** Entries this node still has to apply (commit index - applied index). */
uint64_t daemon_status_lag(const struct daemon_status *st);

/**
 * The verdict.  Healthy (OK or WARNING) means: leader whose barrier has
 * committed, or follower that knows a leader it heard from within two
 * election timeouts and is fewer than DAEMON_LAG_CRITICAL entries behind.
 * WARNING adds: a member unreachable, or lag above DAEMON_LAG_WARNING.
 * @param why (out) one short sentence, `cap` bytes.
 */
enum daemon_health daemon_health_eval(const struct daemon_status *st, char *why, size_t cap);

/** The node as one JSON object (used by /health, `status --json`, `node info`). */
void daemon_status_json(struct tdm_json *j, const struct daemon_status *st);

/**
 * /health: @return 200 (OK/WARNING) or 503, and the JSON body (malloc'd,
 * caller frees) in @p body.
 */
unsigned daemon_health_http(const struct daemon_status *st, char **body);

/** /metrics in the Prometheus text format 0.0.4 (malloc'd, caller frees). */
char *daemon_metrics_text(const struct daemon_status *st);

/*- the published copy ---------------------------------------------------*/

struct daemon_status_box {
	pthread_mutex_t lock;
	struct daemon_status st;
	bool valid;                  /* published at least once */
};

void daemon_status_box_init(struct daemon_status_box *b);
void daemon_status_box_destroy(struct daemon_status_box *b);
/** Publish (loop thread). */
void daemon_status_box_put(struct daemon_status_box *b, const struct daemon_status *st);
/** Copy out (any thread).  @return false if nothing was published yet. */
bool daemon_status_box_get(struct daemon_status_box *b, struct daemon_status *st);

#endif
