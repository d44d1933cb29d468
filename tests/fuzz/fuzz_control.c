/*
 * Fuzz target of the control protocol decoders (src/daemon/control.c):
 * the header, a request and a response payload, and a stream split into
 * frames as the control server does.  Whatever decodes must encode back
 * to a frame that decodes to the same words.
 */
#include "daemon/control.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct control_request *req)
{
	struct control_request back;
	struct tdm_err err = { "" };
	uint8_t *frame;
	size_t len;
	if (control_request_encode(req, &frame, &len, &err) != 0)
		return;
	if (control_request_decode(frame + CONTROL_HEADER_LEN, len - CONTROL_HEADER_LEN, &back,
				   &err) != 0)
		abort();
	if (back.argc != req->argc || back.flags != req->flags)
		abort();
	for (int i = 0; i < req->argc; i++)
		if (strcmp(back.argv[i], req->argv[i]) != 0)
			abort();
	control_request_clear(&back);
	free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tdm_err err = { "" };
	struct control_request req;
	struct control_response resp;
	size_t off = 0;

	/* Payloads on their own. */
	if (control_request_decode(data, size, &req, &err) == 0) {
		round_trip(&req);
		control_request_clear(&req);
	}
	if (control_response_decode(data, size, &resp, &err) == 0) {
		if (strlen(resp.body) > resp.body_len)
			abort();
		control_response_clear(&resp);
	}
	/* A stream of frames, as read from a socket. */
	while (size - off >= CONTROL_HEADER_LEN) {
		enum control_kind kind;
		uint32_t plen;
		if (control_header_decode(data + off, &kind, &plen, &err) != 0)
			break;
		off += CONTROL_HEADER_LEN;
		if (plen > size - off)
			break;
		if (kind == CONTROL_REQUEST &&
		    control_request_decode(data + off, plen, &req, &err) == 0) {
			round_trip(&req);
			control_request_clear(&req);
		} else if (kind == CONTROL_RESPONSE &&
			   control_response_decode(data + off, plen, &resp, &err) == 0) {
			control_response_clear(&resp);
		}
		off += plen;
	}
	return 0;
}
