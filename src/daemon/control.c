/*
 * Control protocol frames: encoding, strict decoding, and the blocking
 * client the command-line tools use (see control.h for the format).
 */
#include "daemon/control.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*- private: byte order ------------------------------------------------*/

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static void put_header(uint8_t *p, enum control_kind kind, uint32_t len)
{
	put_u32(p, CONTROL_MAGIC);
	put_u16(p + 4, CONTROL_VERSION);
	put_u16(p + 6, (uint16_t)kind);
	put_u32(p + 8, len);
}

/*- frames ---------------------------------------------------------------*/

int control_header_decode(const uint8_t hdr[CONTROL_HEADER_LEN],
			  enum control_kind *kind, uint32_t *payload_len,
			  struct tdm_err *err)
{
	uint16_t version = get_u16(hdr + 4), k = get_u16(hdr + 6);
	uint32_t len = get_u32(hdr + 8);
	if (get_u32(hdr) != CONTROL_MAGIC)
		return tdm_err_fail(err, TDM_EPROTO,
				    "control frame: bad magic at offset 0 (not a Tandem control socket?)");
	if (version != CONTROL_VERSION)
		return tdm_err_fail(err, TDM_EPROTO,
				    "control frame: version %u at offset 4 not supported (want %u)",
				    version, CONTROL_VERSION);
	if (k != CONTROL_REQUEST && k != CONTROL_RESPONSE)
		return tdm_err_fail(err, TDM_EPROTO,
				    "control frame: unknown kind %u at offset 6", k);
	if (len > CONTROL_MAX_PAYLOAD)
		return tdm_err_fail(err, TDM_EPROTO,
				    "control frame: payload length %u at offset 8 exceeds %u",
				    len, CONTROL_MAX_PAYLOAD);
	*kind = (enum control_kind)k;
	*payload_len = len;
	return 0;
}

int control_request_encode(const struct control_request *req, uint8_t **out,
			   size_t *len, struct tdm_err *err)
{
	size_t payload = 6, off;
	uint8_t *buf;
	int i;
	if (req->argc < 0 || req->argc > CONTROL_MAX_ARGS)
		return tdm_err_fail(err, TDM_EINVAL, "too many arguments (%d, at most %d)",
				    req->argc, CONTROL_MAX_ARGS);
	for (i = 0; i < req->argc; i++) {
		size_t n = strlen(req->argv[i]);
		if (n > CONTROL_MAX_ARG)
			return tdm_err_fail(err, TDM_EINVAL, "argument %d too long (%zu bytes)",
					    i + 1, n);
		payload += 2 + n;
	}
	if (payload > CONTROL_MAX_PAYLOAD)
		return tdm_err_fail(err, TDM_EINVAL, "command too long");
	buf = tdm_malloc(CONTROL_HEADER_LEN + payload);
	put_header(buf, CONTROL_REQUEST, (uint32_t)payload);
	off = CONTROL_HEADER_LEN;
	put_u32(buf + off, req->flags);
	put_u16(buf + off + 4, (uint16_t)req->argc);
	off += 6;
	for (i = 0; i < req->argc; i++) {
		size_t n = strlen(req->argv[i]);
		put_u16(buf + off, (uint16_t)n);
		memcpy(buf + off + 2, req->argv[i], n);
		off += 2 + n;
	}
	*out = buf;
	*len = off;
	return 0;
}

int control_response_encode(const struct control_response *resp,
			    uint8_t **out, size_t *len)
{
	size_t body = resp->body ? resp->body_len : 0;
	size_t payload = 12 + body;
	uint8_t *buf;
	if (payload > CONTROL_MAX_PAYLOAD) {
		body = CONTROL_MAX_PAYLOAD - 12; /* truncate an oversized answer */
		payload = CONTROL_MAX_PAYLOAD;
	}
	buf = tdm_malloc(CONTROL_HEADER_LEN + payload);
	put_header(buf, CONTROL_RESPONSE, (uint32_t)payload);
	put_u32(buf + CONTROL_HEADER_LEN, (uint32_t)resp->status);
	put_u32(buf + CONTROL_HEADER_LEN + 4, resp->flags);
	put_u32(buf + CONTROL_HEADER_LEN + 8, (uint32_t)body);
	if (body)
		memcpy(buf + CONTROL_HEADER_LEN + 12, resp->body, body);
	*out = buf;
	*len = CONTROL_HEADER_LEN + payload;
	return 0;
}

int control_request_decode(const uint8_t *p, size_t len,
			   struct control_request *out, struct tdm_err *err)
{
	size_t off = 6;
	uint16_t argc;
	char **argv;
	int i;
	if (len < 6)
		return tdm_err_fail(err, TDM_EPROTO,
				    "control request: truncated at offset %zu (need 6 bytes of flags and argc)",
				    len);
	argc = get_u16(p + 4);
	if (argc > CONTROL_MAX_ARGS)
		return tdm_err_fail(err, TDM_EPROTO,
				    "control request: argc %u at offset 4 exceeds %d",
				    argc, CONTROL_MAX_ARGS);
	argv = tdm_calloc((size_t)argc + 1, sizeof *argv);
	for (i = 0; i < argc; i++) {
		uint16_t n;
		if (len - off < 2) {
			tdm_err_set(err, "control request: argument %d truncated at offset %zu",
				    i + 1, off);
			goto bad;
		}
		n = get_u16(p + off);
		off += 2;
		if (len - off < n) {
			tdm_err_set(err, "control request: argument %d (length %u at offset %zu) runs past the end",
				    i + 1, n, off - 2);
			goto bad;
		}
		if (memchr(p + off, '\0', n) != NULL) {
			tdm_err_set(err, "control request: argument %d at offset %zu contains a NUL byte",
				    i + 1, off);
			goto bad;
		}
		argv[i] = tdm_malloc((size_t)n + 1);
		memcpy(argv[i], p + off, n);
		argv[i][n] = '\0';
		off += n;
	}
	if (off != len) {
		tdm_err_set(err, "control request: %zu bytes of trailing garbage at offset %zu",
			    len - off, off);
		goto bad;
	}
	out->flags = get_u32(p);
	out->argc = argc;
	out->argv = argv;
	return 0;
bad:
	for (i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return TDM_EPROTO;
}

int control_response_decode(const uint8_t *p, size_t len,
			    struct control_response *out, struct tdm_err *err)
{
	uint32_t body;
	if (len < 12)
		return tdm_err_fail(err, TDM_EPROTO,
				    "control response: truncated at offset %zu (need 12 bytes)", len);
	body = get_u32(p + 8);
	if (body != len - 12)
		return tdm_err_fail(err, TDM_EPROTO,
				    "control response: body length %u at offset 8 does not match the %zu bytes present",
				    body, len - 12);
	out->status = (int32_t)get_u32(p);
	out->flags = get_u32(p + 4);
	out->body = tdm_malloc((size_t)body + 1);
	memcpy(out->body, p + 12, body);
	out->body[body] = '\0';
	out->body_len = body;
	return 0;
}

void control_request_clear(struct control_request *req)
{
	int i;
	if (req->argv != NULL) {
		for (i = 0; i < req->argc; i++)
			free(req->argv[i]);
		free(req->argv);
	}
	memset(req, 0, sizeof *req);
}

void control_response_clear(struct control_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof *resp);
}

/*- client ---------------------------------------------------------------*/

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly n bytes before the deadline (0 = none). */
static int read_full(int fd, uint8_t *buf, size_t n, int64_t deadline,
		     struct tdm_err *err)
{
	size_t got = 0;
	while (got < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait = -1;
		ssize_t r;
		if (deadline) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return tdm_err_fail(err, TDM_ETIMEOUT,
						    "no answer from tandemd in time");
			wait = (int)left;
		}
		if (poll(&pfd, 1, wait) < 0) {
			if (errno == EINTR)
				continue;
			return tdm_err_fail(err, TDM_EIO, "poll: %s", strerror(errno));
		}
		if (pfd.revents == 0)
			continue;
		r = read(fd, buf + got, n - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return tdm_err_fail(err, TDM_EIO, "read: %s", strerror(errno));
		}
		if (r == 0)
			return tdm_err_fail(err, TDM_EIO,
					    "tandemd closed the connection before answering");
		got += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t n, struct tdm_err *err)
{
	while (n > 0) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return tdm_err_fail(err, TDM_EIO, "write: %s", strerror(errno));
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int control_call(const char *socket_path, const struct control_request *req,
		 struct control_response *resp, int timeout_ms,
		 struct tdm_err *err)
{
	struct sockaddr_un sa;
	uint8_t *frame = NULL;
	size_t frame_len;
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int fd, rc;

	memset(resp, 0, sizeof *resp);
	if (strlen(socket_path) >= sizeof sa.sun_path)
		return tdm_err_fail(err, TDM_EINVAL, "control socket path too long: %s",
				    socket_path);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return tdm_err_fail(err, TDM_EIO, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		rc = (errno == ENOENT || errno == ECONNREFUSED) ? TDM_ENOENT : TDM_EIO;
		tdm_err_set(err, "cannot reach tandemd at %s: %s (is it running?)",
			    socket_path, strerror(errno));
		close(fd);
		return rc;
	}
	rc = control_request_encode(req, &frame, &frame_len, err);
	if (rc == 0)
		rc = write_full(fd, frame, frame_len, err);
	free(frame);
	while (rc == 0) {
		uint8_t hdr[CONTROL_HEADER_LEN], *payload;
		enum control_kind kind;
		uint32_t len;
		rc = read_full(fd, hdr, sizeof hdr, deadline, err);
		if (rc == 0)
			rc = control_header_decode(hdr, &kind, &len, err);
		if (rc == 0 && kind != CONTROL_RESPONSE)
			rc = tdm_err_fail(err, TDM_EPROTO, "tandemd sent a request frame");
		if (rc != 0)
			break;
		payload = tdm_malloc(len ? len : 1);
		rc = read_full(fd, payload, len, deadline, err);
		if (rc == 0)
			rc = control_response_decode(payload, len, resp, err);
		free(payload);
		if (rc != 0)
			break;
		if (!(resp->flags & CONTROL_F_PROGRESS))
			break;
		fputs(resp->body, stderr);
		control_response_clear(resp);
	}
	close(fd);
	return rc;
}
