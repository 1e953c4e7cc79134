// SPDX-License-Identifier: GPL-2.0
/*
 * skb_gso_segment() gives every segment a head as large as the GSO
 * packet's headroom and headers. TCP reserves MAX_TCP_HEADER in front of
 * its packets, so each segment's head, with its shared info, takes a
 * 1 KiB slab object, zeroed whole under init_on_alloc (Debian's default);
 * and a receiver on the same host cuts each packet of a train led by such
 * a segment into a head as large again (skb_segment() sizes them by the
 * first packet's headroom). A segment sealed into a buffer of its own
 * needs in front of it only the outer headers.
 *
 * So before segmenting, a GSO packet whose head holds its headers only is
 * copied into a head with just the headroom asked for, which keeps each
 * segment's head within the 512-byte bucket: one small copy per GSO
 * packet, against half the zeroing for every segment it is cut into, on
 * both sides. Its page fragments are shared, not copied.
 */

#include <net/sock.h>

#include "gsohead.h"

/*
 * The copy takes over the packet's owner with its charge: whole, as if
 * it had been charged for the copy, so the owner's accounting balances
 * when the copy (or, after segmentation, its segments) is freed. That is
 * right for the owners that account by skb->sk and skb->truesize alone:
 * sock_wfree() (UDP's, and __udp_gso_segment() hands it on), and TCP's
 * GSO packets, which TCP gives tcp_wfree() (not exported, so known by
 * their socket and type; tcp_gso_segment() hands it on). Other owners
 * may keep state in the skb itself (a packet socket's mapped ring), so
 * their packets are not copied.
 */
static bool cyph_gso_owner_moves(const struct sk_buff *skb)
{
	const struct sock *sk = skb->sk;

	if (!skb->destructor || skb->destructor == sock_wfree)
		return true;
	return sk && sk_fullsock(sk) && sk->sk_protocol == IPPROTO_TCP &&
	       skb_shinfo(skb)->gso_type & (SKB_GSO_TCPV4 | SKB_GSO_TCPV6);
}

/**
 * cyph_gso_small_head() - give a GSO packet a head its segments fit 512 in
 * @skb: a GSO packet about to be segmented; consumed if a copy is returned
 * @headroom: the headroom each segment needs
 *
 * A packet with less headroom than @headroom is copied too: each of its
 * segments would otherwise be reallocated to make room.
 *
 * Return: @skb itself if its segments' heads are small already and have
 * the room, if its head is too long for @headroom in 512 bytes (it holds
 * payload), if its fragments are zerocopy user pages or a fragment list,
 * if its owner cannot be moved, or if no memory was left; otherwise the
 * copy, with @headroom in front.
 */
struct sk_buff *cyph_gso_small_head(struct sk_buff *skb, unsigned int headroom)
{
	unsigned int hlen = skb_headlen(skb);
	struct sk_buff *nskb;

	if ((skb_headroom(skb) >= headroom &&
	     skb_headroom(skb) + hlen <= CYPH_GSO_SEG_HEAD) ||
	    headroom + hlen > CYPH_GSO_SEG_HEAD || skb_zcopy(skb) ||
	    skb_has_frag_list(skb) || !cyph_gso_owner_moves(skb))
		return skb;
	nskb = __pskb_copy(skb, headroom, GFP_ATOMIC);
	if (unlikely(!nskb))
		return skb;
	/* __pskb_copy() keeps the header offsets for the same headroom. */
	skb_headers_offset_update(nskb, skb_headroom(nskb) - skb_headroom(skb));
	swap(nskb->sk, skb->sk);
	swap(nskb->destructor, skb->destructor);
	if (nskb->destructor)
		nskb->truesize = skb->truesize;
	consume_skb(skb);
	return nskb;
}
