/*
 * Numeric address parsing (see address.h).
 */
#include "daemon/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int daemon_parse_address(const char *address, struct sockaddr_storage *out,
			 struct tdm_err *err)
{
	char host[128];
	const char *colon;
	char *end;
	long port;
	size_t hlen;
	memset(out, 0, sizeof *out);
	if (address[0] == '[') {
		const char *close = strchr(address, ']');
		if (close == NULL || close[1] != ':')
			return tdm_err_fail(err, TDM_EINVAL, "address %s: expected [v6]:port", address);
		hlen = (size_t)(close - address - 1);
		if (hlen >= sizeof host)
			return tdm_err_fail(err, TDM_EINVAL, "address %s: host too long", address);
		memcpy(host, address + 1, hlen);
		host[hlen] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(address, ':');
		if (colon == NULL)
			return tdm_err_fail(err, TDM_EINVAL, "address %s: expected host:port", address);
		hlen = (size_t)(colon - address);
		if (hlen >= sizeof host)
			return tdm_err_fail(err, TDM_EINVAL, "address %s: host too long", address);
		memcpy(host, address, hlen);
		host[hlen] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		return tdm_err_fail(err, TDM_EINVAL, "address %s: bad port", address);
	if (address[0] == '[') {
		struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *)out;
		sa6->sin6_family = AF_INET6;
		sa6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sa6->sin6_addr) != 1)
			return tdm_err_fail(err, TDM_EINVAL, "address %s: bad IPv6 address", address);
	} else {
		struct sockaddr_in *sa4 = (struct sockaddr_in *)out;
		sa4->sin_family = AF_INET;
		sa4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sa4->sin_addr) != 1)
			return tdm_err_fail(err, TDM_EINVAL,
					    "address %s: bad IPv4 address (numeric a.b.c.d only)", address);
	}
	return 0;
}

int daemon_address_shift_port(const char *address, int delta, char *out,
			      size_t cap, struct tdm_err *err)
{
	struct sockaddr_storage ss;
	const char *colon = strrchr(address, ':');
	long port;
	int rc = daemon_parse_address(address, &ss, err);
	if (rc != 0)
		return rc;
	port = strtol(colon + 1, NULL, 10) + delta;
	if (port <= 0 || port > 65535)
		return tdm_err_fail(err, TDM_EINVAL, "address %s: port %+d is out of range",
				    address, delta);
	if ((size_t)snprintf(out, cap, "%.*s:%ld", (int)(colon - address), address, port) >= cap)
		return tdm_err_fail(err, TDM_EINVAL, "address %s: too long", address);
	return 0;
}
