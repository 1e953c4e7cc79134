// SPDX-License-Identifier: MIT
/*
 * How the daemon counts handshake starts (cyphonicd.h): the e2e library's
 * budget per source is counted per host, not per socket address. A source
 * there is the peer's sockaddr, followed for a relayed ClientHello by the
 * relay session id (tunnels.c); counted whole, a sender rotating its
 * source port (or its address within an IPv6 /64) would get a fresh
 * budget, and its handshakes' signatures, with every datagram. The key is
 * the address's srckey (IPv4 address, IPv6 /64), plus the session id, so
 * that peers one TRS relays do not share one budget. The cookie still
 * binds the whole socket address.
 */
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "asguard/srckey.h"
#include "e2e/session.h"
#include "cyphonicd.h"

size_t cyd_hs_budget_key(const void *src, size_t srclen, void *key, size_t cap)
{
	struct sockaddr_storage ss = { 0 };
	struct cyph_srckey k;
	size_t salen = 0, tail;

	memcpy(&ss, src, srclen < sizeof(ss) ? srclen : sizeof(ss));
	if (ss.ss_family == AF_INET)
		salen = sizeof(struct sockaddr_in);
	else if (ss.ss_family == AF_INET6)
		salen = sizeof(struct sockaddr_in6);
	if (!salen || salen > srclen ||
	    cyph_srckey_from((const struct sockaddr *)&ss, (socklen_t)salen, &k)) {
		/* no IP address: counted as it is */
		if (srclen > cap)
			return cap + 1;	/* the budget refuses what is too long */
		memcpy(key, src, srclen);
		return srclen;
	}
	tail = srclen - salen;
	if (k.len + tail > cap)
		return cap + 1;
	memcpy(key, k.b, k.len);
	memcpy((uint8_t *)key + k.len, (const uint8_t *)src + salen, tail);
	return k.len + tail;
}

void cyd_e2e_config(struct e2e_config *c)
{
	e2e_config_defaults(c);
	c->budget_key = cyd_hs_budget_key;
}
