// SPDX-License-Identifier: GPL-2.0
/*
 * A train (train.c) as a fraglist GSO datagram, for IPv4.
 *
 * A train is one UDP GSO skb: its first packet carries the others on its
 * frag_list. Whoever segments a plain SKB_GSO_UDP_L4 train (the receiver's
 * UDP layer when it crossed a veth whole, which a socket with encap_rcv
 * cannot take whole on 6.1) calls skb_segment(): a new skb and a new head
 * (1 KiB, zeroed under init_on_alloc) for each packet, whose own skb is
 * then freed. Marked SKB_GSO_FRAGLIST, the train is cut apart with
 * skb_segment_list() instead: each packet on the frag_list becomes a
 * datagram again with no allocation and no copy. That needs each packet
 * to carry its own outer IP and UDP headers in its headroom, written
 * here as the tunnel core writes the first packet's; the segmenting IP
 * layer numbers each (IP ID) and sets its length and checksum, and the
 * UDP layer rewrites addresses and ports that NAT changed on the first.
 *
 * Two fields are not carried over from the first packet by the kernel
 * (6.1): the TTL, which a router forwarding the train whole decrements
 * in the first packet only, and the TOS, which a netfilter rule may
 * change in the first packet only. Neither reaches the peer's tunnel.
 * So that what goes on a wire carries the first packet's header, only a
 * train leaving through a device that takes fraglist GSO whole (a veth,
 * loopback) is marked; a real NIC segments the plain form.
 *
 * Fraglist datagrams carry no UDP checksum (allowed for IPv4, as VXLAN
 * does by default): the segments are CHECKSUM_UNNECESSARY, as those of
 * fraglist GRO are, since the first packet's pseudo-header sum is the
 * whole train's and skb_segment_list() does not fix it. The AEAD
 * authenticates every byte behind the UDP header. IPv6 requires a UDP
 * checksum: its trains keep the plain form.
 */

#include <linux/ip.h>
#include <linux/netdevice.h>
#include <linux/udp.h>
#include <net/ip.h>

#include "fraglist.h"

#define CYPH_FRAGLIST4_HDRS	(sizeof(struct iphdr) + sizeof(struct udphdr))

/* Can every packet of the train take its headers in its own headroom? */
static bool cyph_fraglist_fits(struct sk_buff *skb, unsigned int room)
{
	struct sk_buff *p;

	skb_walk_frags(skb, p) {
		/*
		 * The headroom of a cloned head is shared; an owned packet
		 * would be given to skb_segment_list() with its socket.
		 */
		if (skb_headroom(p) < room || skb_header_cloned(p) ||
		    skb_shared(p) || p->sk || skb_has_frag_list(p))
			return false;
	}
	return true;
}

/* Write @p's outer headers in front of its UDP payload, @p->data. */
static void cyph_fraglist_hdr4(struct sk_buff *p,
			       const struct cyph_fraglist4 *f)
{
	struct udphdr *uh;
	struct iphdr *iph;

	skb_set_network_header(p, -(int)CYPH_FRAGLIST4_HDRS);
	skb_set_transport_header(p, -(int)sizeof(struct udphdr));
	uh = udp_hdr(p);
	uh->source = f->sport;
	uh->dest = f->dport;
	uh->len = htons(sizeof(*uh) + p->len);
	uh->check = 0;
	iph = ip_hdr(p);
	iph->version = 4;
	iph->ihl = sizeof(*iph) >> 2;
	iph->tos = f->tos;
	iph->tot_len = htons(CYPH_FRAGLIST4_HDRS + p->len);
	iph->id = 0;
	iph->frag_off = 0;
	iph->ttl = f->ttl;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = f->saddr;
	iph->daddr = f->daddr;
	ip_send_check(iph);
}

/**
 * cyph_fraglist4() - make an IPv4 train a fraglist GSO datagram if it can be
 * @skb: the train's first packet, UDP payload at skb->data, outer headers
 *	 still to come (or any other packet: left alone)
 * @f: the outer headers the tunnel core will write for @skb
 * @dev: the device the train leaves through
 *
 * Return: true if @skb was marked: the caller sends it with no UDP
 * checksum (nocheck), as its other packets have none.
 */
bool cyph_fraglist4(struct sk_buff *skb, const struct cyph_fraglist4 *f,
		    const struct net_device *dev)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);
	struct sk_buff *p;

	if (!skb_is_gso(skb) || !skb_has_frag_list(skb) ||
	    shinfo->gso_type != SKB_GSO_UDP_L4 ||
	    !(dev->features & NETIF_F_GSO_FRAGLIST) ||
	    !cyph_fraglist_fits(skb, CYPH_FRAGLIST4_HDRS + LL_RESERVED_SPACE(dev)))
		return false;
	skb_walk_frags(skb, p)
		cyph_fraglist_hdr4(p, f);
	shinfo->gso_type |= SKB_GSO_FRAGLIST;
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	skb->csum_level = 0;
	return true;
}
