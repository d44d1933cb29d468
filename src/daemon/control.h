/*
 * The control protocol: how tandem-enforcer, tandem-signer, cluster-ctl and
 * tandem-hsmutil talk to tandemd over its UNIX socket, and how a follower
 * forwards a write command to the leader.
 *
 * A frame is a fixed header followed by a payload:
 *
 *   u32 magic "TDMC" | u16 version (1) | u16 kind (1 request, 2 response)
 *   | u32 payload length (at most CONTROL_MAX_PAYLOAD)
 *
 * Request payload:  u32 flags | u16 argc | argc x (u16 length, bytes)
 *   Arguments are the command line words ("zone", "add", "-z", "x.org"),
 *   never NUL-containing, each at most CONTROL_MAX_ARG bytes.
 * Response payload: i32 exit status | u32 flags | u32 body length | body
 *   The body is the text the CLI prints (JSON when the request asked).
 *
 * All integers are big-endian.  The decoders reject anything malformed,
 * truncated or oversized with a message naming the field and its offset.
 */
#ifndef TDM_DAEMON_CONTROL_H
#define TDM_DAEMON_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define CONTROL_MAGIC 0x54444d43u /* "TDMC" */
#define CONTROL_VERSION 1
#define CONTROL_HEADER_LEN 12
#define CONTROL_MAX_PAYLOAD (64u << 20)
#define CONTROL_MAX_ARGS 4096
#define CONTROL_MAX_ARG 65535

enum control_kind {
	CONTROL_REQUEST = 1,
	CONTROL_RESPONSE = 2,
};

enum control_flags {
	CONTROL_F_JSON = 1u << 0,      /* answer in JSON */
	CONTROL_F_FORWARDED = 1u << 1, /* already forwarded once: never again */
	CONTROL_F_PROGRESS = 1u << 2,  /* response: more frames follow */
};

/*
 * Exit statuses every command answers with (the CLI exits with them), so
 * that scripts and a forwarding follower can tell "refused" from "try
 * again".  `cluster-ctl health` has its own 0..3 (monitoring plugins).
 */
enum control_exit {
	CONTROL_EXIT_OK = 0,
	CONTROL_EXIT_FAIL = 1,        /* the command ran and failed, or was refused */
	CONTROL_EXIT_USAGE = 2,       /* malformed frame or command line */
	CONTROL_EXIT_UNAVAILABLE = 3, /* not the leader, no leader, shutting down, or
				       * outcome unknown: nothing known to be done, retry */
};

struct control_request {
	uint32_t flags;
	int argc;
	char **argv; /* argc strings + NULL, owned */
};

struct control_response {
	int32_t status; /* the CLI's exit code */
	uint32_t flags;
	char *body;     /* NUL-terminated, owned */
	size_t body_len;
};

/**
 * Parse a frame header.  @return 0 and the kind and payload length, or
 * TDM_EPROTO with a message.
 */
int control_header_decode(const uint8_t hdr[CONTROL_HEADER_LEN],
			  enum control_kind *kind, uint32_t *payload_len,
			  struct tdm_err *err);

/**
 * Encode a request or response as a whole frame (header + payload).
 * @param out caller frees with free().
 */
int control_request_encode(const struct control_request *req, uint8_t **out,
			   size_t *len, struct tdm_err *err);
int control_response_encode(const struct control_response *resp,
			    uint8_t **out, size_t *len);

/**
 * Decode a payload (without the header).  On success the caller owns
 * out's strings and frees them with control_request_clear() /
 * control_response_clear(); on failure nothing is left allocated.
 */
int control_request_decode(const uint8_t *payload, size_t len,
			   struct control_request *out, struct tdm_err *err);
int control_response_decode(const uint8_t *payload, size_t len,
			    struct control_response *out, struct tdm_err *err);

void control_request_clear(struct control_request *req);
void control_response_clear(struct control_response *resp);

/**
 * Blocking client: connect to `socket_path`, send `req`, read one response.
 * Progress frames (CONTROL_F_PROGRESS) are written to stderr as they come.
 * @param timeout_ms 0 = wait forever.
 * @return 0 (the command's own status is resp->status), or TDM_ENOENT
 *         (no daemon listening), TDM_ETIMEOUT, TDM_EPROTO, TDM_EIO.
 */
int control_call(const char *socket_path, const struct control_request *req,
		 struct control_response *resp, int timeout_ms,
		 struct tdm_err *err);

#endif
