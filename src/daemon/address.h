/*
 * Network addresses as the configuration writes them: "a.b.c.d:port" or
 * "[v6]:port", numeric only (libraft 0.15 cannot resolve names).  Shared
 * by the HTTP listener, the forward listener and the peer client.
 */
#ifndef TDM_DAEMON_ADDRESS_H
#define TDM_DAEMON_ADDRESS_H

#include <stddef.h>
#include <sys/socket.h>

#include "common/error.h"

/** Split "host:port" / "[v6]:port" into a sockaddr.  0 or TDM_EINVAL. */
int daemon_parse_address(const char *address, struct sockaddr_storage *out,
			 struct tdm_err *err);

/**
 * The address with its port moved by `delta` ("127.0.0.1:5400", 1 ->
 * "127.0.0.1:5401"): the default forward listener of a node is its Raft
 * address, port + 1.
 * @param out room for `cap` bytes.  @return 0 or TDM_EINVAL (bad address,
 *        port out of range).
 */
int daemon_address_shift_port(const char *address, int delta, char *out,
			      size_t cap, struct tdm_err *err);

#endif
