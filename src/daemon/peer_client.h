/*
 * The asynchronous control client that runs on tandemd's loop: it sends
 * one control request to another node's forward listener (TCP) and
 * delivers the answer through a callback.  A follower uses it to forward
 * writes to the leader, and any node to ask its peers for their status
 * and ledger digest.  Everything runs on the loop thread.
 */
#ifndef TDM_DAEMON_PEER_CLIENT_H
#define TDM_DAEMON_PEER_CLIENT_H

#include <uv.h>

#include "daemon/control.h"

struct peer_client;

/** A progress frame relayed from the peer (body borrowed during the call). */
typedef void (*peer_progress_fn)(void *data, const char *body);

/**
 * The call ended.  rc 0: `resp` (borrowed during the call) holds the
 * peer's answer.  rc < 0: TDM_EIO (cannot connect, connection lost),
 * TDM_ETIMEOUT, TDM_EPROTO (garbage from the peer), TDM_ESHUTDOWN (client
 * closed); `msg` says what happened and resp is NULL.
 */
typedef void (*peer_done_fn)(void *data, int rc, const struct control_response *resp,
			     const char *msg);

/** Create a client on `loop`.  Free with peer_client_close(). */
struct peer_client *peer_client_new(uv_loop_t *loop);

/**
 * Cancel every call in flight (their done callbacks run with
 * TDM_ESHUTDOWN before this returns) and free the client once its handles
 * have closed.
 */
void peer_client_close(struct peer_client *pc);

/**
 * Send `req` (copied) to "a.b.c.d:port".
 * @param timeout_ms for the whole call, connect included (> 0).
 * @param progress may be NULL.
 * @return 0 and `done` fires exactly once later; or TDM_EINVAL (bad
 *         address, request too large) and no callback fires.
 */
int peer_call(struct peer_client *pc, const char *address,
	      const struct control_request *req, int timeout_ms,
	      peer_progress_fn progress, peer_done_fn done, void *data,
	      struct tdm_err *err);

#endif
