/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual IP pairs and underlay socket addresses.
 */
#ifndef _CYPH_ADDR_H
#define _CYPH_ADDR_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/jhash.h>
#include <linux/socket.h>
#include <net/ipv6.h>

/* A virtual IP of either family. */
union cyph_vip {
	__be32 ip4;
	struct in6_addr ip6;
};

/*
 * A (local VIP, remote VIP) pair of one family: the key of a tunnel on TX
 * and the identity cryptokey routing checks on RX.
 */
struct cyph_pair {
	union cyph_vip local;
	union cyph_vip remote;
	sa_family_t family;
};

/* An underlay address; sa_family AF_UNSPEC means "none". */
union cyph_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/*
 * The local underlay address a peer's packets arrived at: our source
 * address when answering it (WireGuard's endpoint "src"), so that a
 * multi-homed host answers from the address the peer contacted. Zero (or
 * ::) means none: routing picks. The family is the endpoint's.
 */
struct cyph_src {
	union cyph_vip addr;
	int ifindex;		/* IPv6 link-local: the interface, else 0 */
};

static inline bool cyph_vip_equal(sa_family_t family, const union cyph_vip *a,
				  const union cyph_vip *b)
{
	if (family == AF_INET)
		return a->ip4 == b->ip4;
	return ipv6_addr_equal(&a->ip6, &b->ip6);
}

static inline bool cyph_src_equal(sa_family_t family, const struct cyph_src *a,
				  const struct cyph_src *b)
{
	return cyph_vip_equal(family, &a->addr, &b->addr) &&
	       a->ifindex == b->ifindex;
}

static inline u32 cyph_vip_hash(sa_family_t family, const union cyph_vip *vip)
{
	if (family == AF_INET)
		return jhash_1word((__force u32)vip->ip4, 0);
	return jhash2((const u32 *)&vip->ip6, 4, 0);
}

static inline bool cyph_pair_equal(const struct cyph_pair *a,
				   const struct cyph_pair *b)
{
	return a->family == b->family &&
	       cyph_vip_equal(a->family, &a->local, &b->local) &&
	       cyph_vip_equal(a->family, &a->remote, &b->remote);
}

static inline u32 cyph_pair_hash(const struct cyph_pair *p)
{
	if (p->family == AF_INET)
		return jhash_2words((__force u32)p->local.ip4,
				    (__force u32)p->remote.ip4, 0);
	return jhash2((const u32 *)&p->local.ip6, 4,
		      jhash2((const u32 *)&p->remote.ip6, 4, 0));
}

static inline bool cyph_sockaddr_equal(const union cyph_sockaddr *a,
				       const union cyph_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	switch (a->sa.sa_family) {
	case AF_INET:
		return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr &&
		       a->sin.sin_port == b->sin.sin_port;
	case AF_INET6:
		return ipv6_addr_equal(&a->sin6.sin6_addr, &b->sin6.sin6_addr) &&
		       a->sin6.sin6_port == b->sin6.sin6_port &&
		       a->sin6.sin6_scope_id == b->sin6.sin6_scope_id;
	default:
		return true;
	}
}

#endif /* _CYPH_ADDR_H */
