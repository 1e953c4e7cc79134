// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/gsohead.c, a GSO packet's head made small before
 * segmentation. A TCP GSO packet built as TCP hands one down (a clone,
 * its headers behind the headroom TCP leaves, its payload in page
 * fragments) is segmented by the kernel's own skb_gso_segment() into the
 * same segments, byte for byte and offset for offset, as without the
 * copy, but each in a head of 512 bytes at most with the headroom asked
 * for (the segments of the packet as it came take more: checked too, so
 * the case fails if the copy stops paying), and TCP's own packet is left
 * as it was. One with less headroom than asked is copied too. The copy
 * takes over the packet's owner and charge whole: a TCP packet's owner
 * sees one release of the whole charge; a UDP socket's count balances
 * again after __udp_gso_segment() hands the charge on to the segments.
 * A packet whose owner may keep state in the skb, whose head holds
 * payload, whose headroom is small already or which has a fragment list
 * is kept as it is.
 */

#include <kunit/test.h>
#include <linux/ip.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/tcp.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/udp.h>

#include "gsohead.h"

#define TCP_HDR_LEN	(sizeof(struct iphdr) + 32)	/* timestamps */
#define UDP_HDR_LEN	(sizeof(struct iphdr) + sizeof(struct udphdr))
#define MSS		1368
#define NFRAGS		3
#define FRAG_LEN	3000
#define PAYLOAD		(NFRAGS * FRAG_LEN)
#define NSEGS		DIV_ROUND_UP(PAYLOAD, MSS)
#define ROOM		104	/* what tx.c asks for: CYPH_TX_PAGED_HEADROOM */
/* What TCP leaves in front of its headers on Debian's 6.1 kernels. */
#define TCP_ROOM	(320 - TCP_HDR_LEN)

/*
 * A GSO packet as a socket hands it down: @headroom, IPv4 and TCP (or,
 * for @proto IPPROTO_UDP, UDP) headers, @head_payload bytes of payload
 * in the head and the rest in page fragments, its checksum pending.
 */
static struct sk_buff *gh_packet(struct kunit *test, int proto,
				 unsigned int headroom, unsigned int head_payload)
{
	unsigned int hdr_len = proto == IPPROTO_TCP ? TCP_HDR_LEN : UDP_HDR_LEN;
	struct sk_buff *skb;
	struct iphdr *iph;
	unsigned int i, j;

	skb = alloc_skb(headroom + hdr_len + head_payload, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, headroom);
	iph = skb_put_zero(skb, sizeof(*iph));
	skb_put_zero(skb, hdr_len - sizeof(*iph));
	for (j = 0; j < head_payload; j++)
		skb_put_u8(skb, j);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, sizeof(*iph));
	for (i = 0; i < NFRAGS; i++) {
		struct page *page = alloc_page(GFP_KERNEL);
		u8 *p;

		KUNIT_ASSERT_NOT_NULL(test, page);
		p = page_address(page);
		for (j = 0; j < FRAG_LEN; j++)
			p[j] = i * 7 + j * 13;
		skb_fill_page_desc(skb, i, page, 0, FRAG_LEN);
		skb->len += FRAG_LEN;
		skb->data_len += FRAG_LEN;
		skb->truesize += PAGE_SIZE;
	}
	iph->version = 4;
	iph->ihl = 5;
	iph->tot_len = htons(skb->len);
	iph->id = htons(4000);
	iph->ttl = 64;
	iph->protocol = proto;
	iph->saddr = cpu_to_be32(0x0a630001);
	iph->daddr = cpu_to_be32(0x0a630002);
	ip_send_check(iph);
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = tcp_hdr(skb);

		th->source = htons(40000);
		th->dest = htons(5201);
		th->seq = htonl(123456);
		th->doff = (TCP_HDR_LEN - sizeof(*iph)) / 4;
		th->ack = 1;
		th->psh = 1;
		th->check = ~tcp_v4_check(skb->len - sizeof(*iph), iph->saddr,
					  iph->daddr, 0);
		skb->csum_offset = offsetof(struct tcphdr, check);
		skb_shinfo(skb)->gso_type = SKB_GSO_TCPV4;
	} else {
		struct udphdr *uh = udp_hdr(skb);

		uh->source = htons(40000);
		uh->dest = htons(5201);
		uh->len = htons(skb->len - sizeof(*iph));
		uh->check = ~udp_v4_check(skb->len - sizeof(*iph), iph->saddr,
					  iph->daddr, 0);
		skb->csum_offset = offsetof(struct udphdr, check);
		skb_shinfo(skb)->gso_type = SKB_GSO_UDP_L4;
	}
	skb->protocol = htons(ETH_P_IP);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_transport_header(skb) - skb->head;
	skb_shinfo(skb)->gso_size = MSS;
	skb_shinfo(skb)->gso_segs = NSEGS;
	return skb;
}

static struct sk_buff *gh_segment(struct kunit *test, struct sk_buff *skb)
{
	struct sk_buff *segs = skb_gso_segment(skb, NETIF_F_SG | NETIF_F_HW_CSUM);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, segs);
	consume_skb(skb);
	return segs;
}

static void gh_free_list(struct sk_buff *segs)
{
	struct sk_buff *skb, *next;

	skb_list_walk_safe(segs, skb, next) {
		skb_mark_not_on_list(skb);
		kfree_skb(skb);
	}
}

/* The bytes of @skb from its network header on, into a buffer of its own. */
static u8 *gh_bytes(struct kunit *test, struct sk_buff *skb)
{
	u8 *buf = kunit_kmalloc(test, skb->len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, 0, buf, skb->len), 0);
	return buf;
}

/* Check @small's segments against @ref's: the same, in 512-byte heads. */
static void gh_expect_same(struct kunit *test, struct sk_buff *ref,
			   struct sk_buff *small, bool ref_big)
{
	struct sk_buff *a, *b;
	unsigned int n = 0;

	for (a = ref, b = small; a && b; a = a->next, b = b->next, n++) {
		KUNIT_EXPECT_EQ(test, a->len, b->len);
		KUNIT_EXPECT_EQ(test, skb_headlen(a), skb_headlen(b));
		KUNIT_EXPECT_EQ(test, skb_network_offset(a), skb_network_offset(b));
		KUNIT_EXPECT_EQ(test, skb_transport_offset(a),
				skb_transport_offset(b));
		KUNIT_EXPECT_EQ(test, skb_checksum_start_offset(a),
				skb_checksum_start_offset(b));
		KUNIT_EXPECT_EQ(test, a->csum_offset, b->csum_offset);
		KUNIT_EXPECT_EQ(test, (int)a->ip_summed, (int)b->ip_summed);
		if (a->len == b->len)
			KUNIT_EXPECT_EQ(test, memcmp(gh_bytes(test, a),
						     gh_bytes(test, b), a->len), 0);
		/* The 1 KiB heads the copy saves, and the 512 it gives. */
		if (ref_big)
			KUNIT_EXPECT_GT(test, skb_end_offset(a), CYPH_GSO_SEG_HEAD);
		KUNIT_EXPECT_LE(test, skb_end_offset(b), CYPH_GSO_SEG_HEAD);
		KUNIT_EXPECT_EQ(test, skb_headroom(b), ROOM);
	}
	KUNIT_EXPECT_EQ(test, n, NSEGS);
	KUNIT_EXPECT_TRUE(test, !a && !b);
	gh_free_list(ref);
	gh_free_list(small);
}

/*
 * TCP hands down a clone and keeps its packet for retransmission: the
 * clone's segments come out the same in small heads, and TCP's packet
 * is untouched.
 */
static void gsohead_segments_fit_512(struct kunit *test)
{
	struct sk_buff *tcp_own, *ref, *small;
	u8 *before;

	tcp_own = gh_packet(test, IPPROTO_TCP, TCP_ROOM, 0);
	before = gh_bytes(test, tcp_own);
	ref = gh_segment(test, gh_packet(test, IPPROTO_TCP, TCP_ROOM, 0));
	small = skb_clone(tcp_own, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, small);
	small = cyph_gso_small_head(small, ROOM);
	KUNIT_ASSERT_EQ(test, skb_headroom(small), ROOM);
	gh_expect_same(test, ref, gh_segment(test, small), true);
	KUNIT_EXPECT_EQ(test, skb_headroom(tcp_own), TCP_ROOM);
	KUNIT_EXPECT_EQ(test, memcmp(before, gh_bytes(test, tcp_own),
				     tcp_own->len), 0);
	kfree_skb(tcp_own);
}

/* Less headroom than asked: copied, else every segment would be grown. */
static void gsohead_short_headroom_copied(struct kunit *test)
{
	struct sk_buff *ref, *small;

	ref = gh_segment(test, gh_packet(test, IPPROTO_TCP, 64, 0));
	small = cyph_gso_small_head(gh_packet(test, IPPROTO_TCP, 64, 0), ROOM);
	KUNIT_ASSERT_EQ(test, skb_headroom(small), ROOM);
	gh_expect_same(test, ref, gh_segment(test, small), false);
}

static atomic_t gh_released, gh_calls;

/* An owner's release that records what it was charged back. */
static void gh_wfree(struct sk_buff *skb)
{
	atomic_add(skb->truesize, &gh_released);
	atomic_inc(&gh_calls);
}

static struct socket *gh_socket(struct kunit *test, int type, int proto)
{
	struct socket *sock;

	KUNIT_ASSERT_EQ(test, sock_create_kern(&init_net, AF_INET, type, proto,
					       &sock), 0);
	return sock;
}

/*
 * A TCP socket's GSO packet moves to the copy with its owner; the release
 * sees the charge the packet was given, once, and only when the copy is
 * freed.
 */
static void gsohead_owner_moves(struct kunit *test)
{
	struct socket *sock = gh_socket(test, SOCK_STREAM, IPPROTO_TCP);
	struct sk_buff *skb, *copy;
	unsigned int charged;

	atomic_set(&gh_released, 0);
	atomic_set(&gh_calls, 0);
	skb = gh_packet(test, IPPROTO_TCP, TCP_ROOM, 0);
	skb->sk = sock->sk;
	skb->destructor = gh_wfree;
	charged = skb->truesize;
	copy = cyph_gso_small_head(skb, ROOM);
	KUNIT_ASSERT_PTR_NE(test, copy, skb);
	KUNIT_EXPECT_EQ(test, atomic_read(&gh_calls), 0);
	KUNIT_EXPECT_PTR_EQ(test, copy->sk, sock->sk);
	KUNIT_EXPECT_PTR_EQ(test, (void *)copy->destructor, (void *)gh_wfree);
	KUNIT_EXPECT_EQ(test, copy->truesize, charged);
	kfree_skb(copy);
	KUNIT_EXPECT_EQ(test, atomic_read(&gh_calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&gh_released), charged);
	sock_release(sock);
}

/*
 * A UDP socket's GSO packet (sock_wfree()): __udp_gso_segment() hands the
 * copy's charge on to the segments, adjusted to theirs, and the socket's
 * count is back where it was once they are freed.
 */
static void gsohead_udp_charge_balances(struct kunit *test)
{
	struct socket *sock = gh_socket(test, SOCK_DGRAM, IPPROTO_UDP);
	struct sk_buff *skb, *copy, *segs, *seg;
	unsigned int base = refcount_read(&sock->sk->sk_wmem_alloc);

	skb = gh_packet(test, IPPROTO_UDP, TCP_ROOM, 0);
	skb_set_owner_w(skb, sock->sk);
	copy = cyph_gso_small_head(skb, ROOM);
	KUNIT_ASSERT_PTR_NE(test, copy, skb);
	KUNIT_EXPECT_PTR_EQ(test, copy->sk, sock->sk);
	KUNIT_EXPECT_GT(test, refcount_read(&sock->sk->sk_wmem_alloc), base);
	segs = gh_segment(test, copy);
	for (seg = segs; seg; seg = seg->next) {
		KUNIT_EXPECT_PTR_EQ(test, seg->sk, sock->sk);
		KUNIT_EXPECT_LE(test, skb_end_offset(seg), CYPH_GSO_SEG_HEAD);
	}
	gh_free_list(segs);
	KUNIT_EXPECT_EQ(test, refcount_read(&sock->sk->sk_wmem_alloc), base);
	sock_release(sock);
}

/* A @proto packet with an unknown owner on a @type socket is kept. */
static void gh_expect_owner_kept(struct kunit *test, int type, int sock_proto,
				 int proto)
{
	struct socket *sock = gh_socket(test, type, sock_proto);
	struct sk_buff *skb = gh_packet(test, proto, TCP_ROOM, 0);

	skb->sk = sock->sk;
	skb->destructor = gh_wfree;
	KUNIT_EXPECT_PTR_EQ(test, cyph_gso_small_head(skb, ROOM), skb);
	skb->destructor = NULL;
	kfree_skb(skb);
	sock_release(sock);
}

/* Packets the copy does not pay for, or whose owner it cannot move. */
static void gsohead_kept(struct kunit *test)
{
	struct sk_buff *skb, *list;

	/* An owner that is not known to account by truesize alone. */
	gh_expect_owner_kept(test, SOCK_DGRAM, IPPROTO_UDP, IPPROTO_TCP);
	/* A TCP socket's, on a packet that is not TCP's GSO packet. */
	gh_expect_owner_kept(test, SOCK_STREAM, IPPROTO_TCP, IPPROTO_UDP);

	/* Payload in the head: its segments' heads hold it too. */
	skb = gh_packet(test, IPPROTO_TCP, TCP_ROOM, 200);
	KUNIT_EXPECT_PTR_EQ(test, cyph_gso_small_head(skb, ROOM), skb);
	kfree_skb(skb);

	/* Headroom small already. */
	skb = gh_packet(test, IPPROTO_TCP, ROOM, 0);
	KUNIT_EXPECT_PTR_EQ(test, cyph_gso_small_head(skb, ROOM), skb);
	kfree_skb(skb);

	/* A fragment list. */
	skb = gh_packet(test, IPPROTO_TCP, TCP_ROOM, 0);
	list = alloc_skb(64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, list);
	skb_put_zero(list, 64);
	skb_shinfo(skb)->frag_list = list;
	skb->len += 64;
	skb->data_len += 64;
	KUNIT_EXPECT_PTR_EQ(test, cyph_gso_small_head(skb, ROOM), skb);
	kfree_skb(skb);
}

static struct kunit_case gsohead_cases[] = {
	KUNIT_CASE(gsohead_segments_fit_512),
	KUNIT_CASE(gsohead_short_headroom_copied),
	KUNIT_CASE(gsohead_owner_moves),
	KUNIT_CASE(gsohead_udp_charge_balances),
	KUNIT_CASE(gsohead_kept),
	{}
};

static struct kunit_suite gsohead_suite = {
	.name = "cyphonic_gsohead",
	.test_cases = gsohead_cases,
};

kunit_test_suite(gsohead_suite);
