// SPDX-License-Identifier: MIT
/* Strict parsing and printing of IP addresses and UDP endpoints. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int addr_parse_ip4(const char *s, struct in_addr *out)
{
	/* inet_pton (unlike inet_aton) refuses "10.1", "010.0.0.1", hex. */
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
}

int addr_parse_ip6(const char *s, struct in6_addr *out)
{
	return inet_pton(AF_INET6, s, out) == 1 ? 0 : -1;
}

int addr_parse_port(const char *s, unsigned short *out)
{
	unsigned long v;
	char *end;

	/* strtoul accepts sign and space; a port is digits only. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -1;
	*out = (unsigned short)v;
	return 0;
}

static int parse_scope(const char *s, uint32_t *scope)
{
	unsigned long v;
	char *end;

	if (!*s)
		return -1;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || *end || v > UINT32_MAX)
			return -1;
		*scope = (uint32_t)v;
		return 0;
	}
	*scope = if_nametoindex(s);
	return *scope ? 0 : -1;
}

static int parse_ep6(const char *s, struct sockaddr_in6 *sin6)
{
	char host[INET6_ADDRSTRLEN + 1 + IF_NAMESIZE + 1];
	const char *close = strchr(s, ']');
	unsigned short port;
	uint32_t scope = 0;
	size_t n;
	char *pct;

	if (!close || close[1] != ':')
		return -1;
	n = (size_t)(close - (s + 1));
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s + 1, n);
	host[n] = '\0';
	pct = strchr(host, '%');
	if (pct) {
		*pct = '\0';
		if (parse_scope(pct + 1, &scope))
			return -1;
	}
	if (addr_parse_ip6(host, &sin6->sin6_addr) ||
	    addr_parse_port(close + 2, &port) || !port)
		return -1;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_scope_id = scope;
	return 0;
}

static int parse_ep4(const char *s, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	unsigned short port;
	size_t n;

	if (!colon)
		return -1;
	n = (size_t)(colon - s);
	if (n == 0 || n >= sizeof(host))
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (addr_parse_ip4(host, &sin->sin_addr) ||
	    addr_parse_port(colon + 1, &port) || !port)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return 0;
}

int addr_parse_endpoint(const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		if (parse_ep6(s, (struct sockaddr_in6 *)ss))
			return -1;
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	if (parse_ep4(s, (struct sockaddr_in *)ss))
		return -1;
	*len = sizeof(struct sockaddr_in);
	return 0;
}

int addr_format_endpoint(const struct sockaddr *sa, socklen_t len,
			 char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		n = snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6 &&
		   len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		if (sin6->sin6_scope_id)
			n = snprintf(buf, size, "[%s%%%u]:%u", host,
				     sin6->sin6_scope_id, ntohs(sin6->sin6_port));
		else
			n = snprintf(buf, size, "[%s]:%u", host,
				     ntohs(sin6->sin6_port));
	} else {
		return -1;
	}
	return n > 0 && (size_t)n < size ? 0 : -1;
}
