/* SPDX-License-Identifier: GPL-2.0 */
/* A train as a fraglist GSO datagram, for IPv4 (fraglist.c). */
#ifndef _CYPH_FRAGLIST_H
#define _CYPH_FRAGLIST_H

#include <linux/skbuff.h>

struct net_device;

/* The outer headers of a train, as the tunnel core writes its first's. */
struct cyph_fraglist4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	u8 tos;
	u8 ttl;
};

bool cyph_fraglist4(struct sk_buff *skb, const struct cyph_fraglist4 *f,
		    const struct net_device *dev);

#endif /* _CYPH_FRAGLIST_H */
