// SPDX-License-Identifier: MIT
/*
 * Which reported addresses (ADDR TLVs of a REGISTER) the NMS keeps and
 * later hands to peers (issue 12: they were passed on unchecked, so a node
 * could make its peers probe any address). Kept are unicast addresses a
 * peer could reach: no unspecified, multicast, broadcast or zero-network
 * address, no port 0, no IPv6 link-local (useless without a scope) and no
 * IPv4-mapped form; loopback only when the node itself is seen from
 * loopback (a node on the NMS's own host). Duplicates are dropped. The
 * count is bounded by the parser (PROTO_MAX_ADDRS, a ninth ADDR makes the
 * message malformed).
 */
#include <string.h>
#include <arpa/inet.h>
#include "nms.h"

static bool loopback(const struct proto_ep *e)
{
	return e->family == 4 ? (ntohl(e->v4.s_addr) >> 24) == 127
			      : IN6_IS_ADDR_LOOPBACK(&e->v6);
}

bool nms_addr_plausible(const struct proto_ep *e, const struct proto_ep *observed)
{
	if (!e->port)
		return false;
	if (e->family == 4) {
		uint32_t a = ntohl(e->v4.s_addr);

		if ((a >> 24) == 0 || (a >> 28) == 0xe || a == 0xffffffffu)
			return false;	/* 0/8, multicast 224/4, broadcast */
		if ((a >> 28) == 0xf)
			return false;	/* 240/4 reserved */
	} else if (e->family == 6) {
		const struct in6_addr *a = &e->v6;

		if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_MULTICAST(a) ||
		    IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_V4MAPPED(a))
			return false;
	} else {
		return false;
	}
	return !loopback(e) || (observed->family == e->family && loopback(observed));
}

size_t nms_addrs_filter(const struct proto_ep *in, size_t n, const struct proto_ep *observed,
			struct proto_ep *out)
{
	size_t i, j, k = 0;

	for (i = 0; i < n; i++) {
		if (!nms_addr_plausible(&in[i], observed))
			continue;
		for (j = 0; j < k && !proto_ep_equal(&out[j], &in[i]); j++)
			;
		if (j == k)
			out[k++] = in[i];
	}
	return k;
}
