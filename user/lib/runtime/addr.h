/* SPDX-License-Identifier: MIT */
/*
 * Strict parsing and printing of IP addresses and UDP endpoints.
 *
 * An endpoint is "A.B.C.D:PORT" or "[IPV6]:PORT" (optionally "[IPV6%SCOPE]"
 * with a numeric scope id or an interface name), with PORT 1..65535: the
 * same forms `wg` and `ss` use, so an endpoint can be pasted between them.
 */
#ifndef CYPHONIC_ADDR_H
#define CYPHONIC_ADDR_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Longest "[v6%scope]:port" plus NUL. */
#define ADDR_ENDPOINT_STRLEN (INET6_ADDRSTRLEN + 2 + 1 + 16 + 1 + 5 + 1)

/* Each returns 0, or -1 when the whole string is not a valid value. */
int addr_parse_ip4(const char *s, struct in_addr *out);
int addr_parse_ip6(const char *s, struct in6_addr *out);
int addr_parse_port(const char *s, unsigned short *out);	/* 0..65535 */

/*
 * Fills *ss with a sockaddr_in or sockaddr_in6 and *len with its size.
 * Port 0 is rejected: an endpoint is where packets are sent.
 */
int addr_parse_endpoint(const char *s, struct sockaddr_storage *ss,
			socklen_t *len);

/* Prints an endpoint as addr_parse_endpoint() reads it; -1 if not IP. */
int addr_format_endpoint(const struct sockaddr *sa, socklen_t len,
			 char *buf, size_t size);

#endif
