/*
 * The writer: the one way tandemd submits ledger commands of its own.
 *
 * It gives each command its id (this node, next sequence), encodes it and
 * hands it to the cluster, keeping this origin's entries in sequence order
 * across leadership changes.  A submission whose outcome is unknown
 * (leadership lost after the append) or that was never appended is kept
 * and submitted again with the SAME id: through this node if it leads
 * again, otherwise as a raw entry sent to the new leader's forward
 * listener ("entry submit").  The ledger skips an id it has applied
 * already, so the retry is safe; while a retry is pending no later entry
 * of this origin is sent, so a retry is never overtaken (a higher
 * sequence applied first would make the ledger drop it).
 *
 * Sequences: the first is above ledger_origin_last_seq() and the counter
 * is raised to it again at every leader_ready, when every entry of earlier
 * terms has been applied here.  New commands are accepted only while this
 * node is leader and ready; a follower forwards the control command
 * instead, so a follower never invents an id.
 *
 * Everything runs on the loop thread.
 */
#ifndef TDM_DAEMON_WRITER_H
#define TDM_DAEMON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ledger/ledger.h"
#include "raft/cluster.h"

struct writer;
struct peer_client;
struct daemon_config;

/** How long an entry may wait for a leader before it is given up (outcome unknown). */
#define WRITER_RETRY_LIMIT_MS 30000

/**
 * The end of a submission.  status 0: committed and applied, @p res holds
 * the ledger's verdict (LEDGER_DUPLICATE after a retry means "applied
 * before").  status < 0: TDM_ETIMEOUT (no leader in time: outcome
 * unknown), TDM_ESHUTDOWN (closing: outcome unknown), TDM_EINVAL /
 * TDM_ERANGE (refused, never appended); @p res is NULL.  @p msg borrowed.
 */
typedef void (*writer_cb)(void *data, int status, const struct ledger_result *res,
			  const char *msg);

struct writer *writer_new(uv_loop_t *loop, struct cluster *c, struct ledger *l,
			  struct peer_client *pc, const struct daemon_config *cfg);

/** Fail everything still waiting with TDM_ESHUTDOWN and free. */
void writer_close(struct writer *w);

/** Call from the leader_ready event: refresh the sequence, resume retries. */
void writer_leader_ready(struct writer *w);

/**
 * Submit a command of this node.  Its id is set here (cmd->id is ignored).
 * @return 0 (@p cb runs exactly once); TDM_ENOTLEADER (this node is not a
 *         ready leader: forward the control command), TDM_EINVAL/TDM_ERANGE
 *         (does not encode; @p err says why); @p cb never runs then.
 */
int writer_submit(struct writer *w, struct ledger_cmd *cmd, writer_cb cb, void *data,
		  struct tdm_err *err);

/**
 * Submit an already encoded entry once, as it is (the leader side of
 * "entry submit", and debugging tools).  No retry here: the sender retries.
 * @return 0 (@p cb runs once, status 0 or as cluster_submit's callback:
 *         TDM_ENOTLEADER / TDM_ECLUSTER / TDM_ESHUTDOWN), or the refusal of
 *         cluster_submit (TDM_EINVAL, TDM_ERANGE, TDM_ENOTLEADER, ...).
 */
int writer_submit_raw(struct writer *w, const void *buf, size_t len, writer_cb cb,
		      void *data, struct tdm_err *err);

/** Entries not yet resolved (in flight or waiting for a retry). */
unsigned writer_pending(const struct writer *w);

/** Counters for metrics. */
void writer_counters(const struct writer *w, uint64_t *ok, uint64_t *failed);

/*- the text form of a result (the "entry submit" answer) ------------------*/

/** "<STATUS> <index> <type> <origin>:<seq>\n<msg>" into @p out. */
void writer_result_format(const struct ledger_result *res, char *out, size_t cap);
/** Parse writer_result_format()'s output.  @return 0 or TDM_EPROTO. */
int writer_result_parse(const char *text, struct ledger_result *res);

/*- raw entries as control arguments ("entry submit HEX...") -----------------*/

struct control_request;

/**
 * Build the request "entry submit <hex>..." (flag CONTROL_F_FORWARDED) for
 * an encoded entry.  @param req (out) free with control_request_clear().
 * @return 0 or TDM_ERANGE.
 */
int writer_entry_request(const void *buf, size_t len, struct control_request *req);

/**
 * Decode the hex arguments of "entry submit".  @param out (out) malloc'd,
 * caller frees.  @return 0, TDM_EINVAL (not hex), TDM_ERANGE (too long).
 */
int writer_entry_from_args(int argc, char *const *argv, uint8_t **out, size_t *len,
			   struct tdm_err *err);

#endif
