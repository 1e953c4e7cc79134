// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/fraglist.c, an IPv4 train made a fraglist GSO
 * datagram: the kernel's own segmentation (skb_gso_segment()) cuts it
 * back into its packets, the very skbs, each with valid outer headers
 * (addresses, ports, lengths, consecutive IP IDs, IP checksum) and its
 * payload; a NAT rewrite of the first packet's source reaches them all;
 * and a train that cannot carry the headers keeps the plain form.
 *
 * A train is built here as train.c builds one, and the first packet's
 * headers are written as the tunnel core writes them.
 */

#include <kunit/test.h>
#include <linux/ip.h>
#include <linux/netdevice.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>

#include "fraglist.h"

#define NPKT		3
#define ROOM		128
#define FIRST_ID	1000

static const unsigned int pkt_len[NPKT] = { 200, 200, 120 };

static const struct cyph_fraglist4 hdrs = {
	.saddr = cpu_to_be32(0x0a000001),
	.daddr = cpu_to_be32(0x0a000002),
	.sport = cpu_to_be16(51820),
	.dport = cpu_to_be16(51821),
	.ttl = 64,
};

struct fenv {
	struct net_device *dev;
	struct sk_buff *pkt[NPKT];	/* the train's packets, in order */
};

static struct sk_buff *fl_packet(struct kunit *test, unsigned int i,
				 unsigned int room)
{
	struct sk_buff *skb = alloc_skb(room + pkt_len[i], GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, room);
	memset(skb_put(skb, pkt_len[i]), 'a' + i, pkt_len[i]);
	return skb;
}

/* A train of NPKT packets, the last @room_last bytes of headroom. */
static struct sk_buff *fl_train(struct kunit *test, unsigned int room_last)
{
	struct fenv *env = test->priv;
	struct skb_shared_info *shinfo;
	struct sk_buff *head;
	unsigned int i;

	for (i = 0; i < NPKT; i++)
		env->pkt[i] = fl_packet(test, i, i + 1 < NPKT ? ROOM : room_last);
	head = env->pkt[0];
	shinfo = skb_shinfo(head);
	shinfo->frag_list = env->pkt[1];
	for (i = 1; i < NPKT; i++) {
		env->pkt[i]->next = i + 1 < NPKT ? env->pkt[i + 1] : NULL;
		head->len += pkt_len[i];
		head->data_len += pkt_len[i];
	}
	shinfo->gso_size = pkt_len[0];
	shinfo->gso_type = SKB_GSO_UDP_L4;
	shinfo->gso_segs = NPKT;
	head->ip_summed = CHECKSUM_PARTIAL;
	return head;
}

/*
 * The first packet's headers, as udp_tunnel_xmit_skb() writes them with
 * no UDP checksum (nocheck).
 */
static void fl_tunnel_core(struct sk_buff *skb)
{
	struct udphdr *uh;
	struct iphdr *iph;

	uh = skb_push(skb, sizeof(*uh));
	skb_reset_transport_header(skb);
	uh->source = hdrs.sport;
	uh->dest = hdrs.dport;
	uh->len = htons(skb->len);
	uh->check = 0;
	iph = skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	skb_reset_mac_header(skb);
	skb_reset_mac_len(skb);
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = 0;
	iph->tot_len = htons(skb->len);
	iph->id = htons(FIRST_ID);
	iph->frag_off = 0;
	iph->ttl = hdrs.ttl;
	iph->protocol = IPPROTO_UDP;
	iph->saddr = hdrs.saddr;
	iph->daddr = hdrs.daddr;
	ip_send_check(iph);
	skb->protocol = htons(ETH_P_IP);
}

static int fraglist_test_init(struct kunit *test)
{
	struct fenv *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, env);
	env->dev = kunit_kzalloc(test, sizeof(*env->dev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env->dev);
	env->dev->features = NETIF_F_SG | NETIF_F_GSO_SOFTWARE;
	env->dev->hard_header_len = ETH_HLEN;
	test->priv = env;
	return 0;
}

/*
 * Cut @head apart with the kernel's software segmentation and check each
 * datagram against packet @i of the train, its source @saddr:@sport.
 */
static void fl_expect_cut(struct kunit *test, struct sk_buff *head,
			  __be32 saddr, __be16 sport)
{
	struct fenv *env = test->priv;
	struct sk_buff *segs, *seg;
	unsigned int i = 0, j;

	segs = skb_gso_segment(head, NETIF_F_SG);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, segs);
	/* Cut apart in place: the head gave the caller a reference. */
	KUNIT_EXPECT_PTR_EQ(test, segs, head);
	consume_skb(head);
	for (seg = segs; seg; seg = seg->next, i++) {
		const struct iphdr *iph = ip_hdr(seg);
		const struct udphdr *uh = udp_hdr(seg);
		const u8 *payload = (const u8 *)(uh + 1);

		KUNIT_ASSERT_LT(test, i, NPKT);
		KUNIT_EXPECT_PTR_EQ(test, seg, env->pkt[i]);
		KUNIT_EXPECT_FALSE(test, skb_is_gso(seg));
		KUNIT_EXPECT_FALSE(test, skb_has_frag_list(seg));
		KUNIT_EXPECT_EQ(test, (int)seg->ip_summed, CHECKSUM_UNNECESSARY);
		KUNIT_EXPECT_EQ(test, skb_network_offset(seg), 0);
		KUNIT_EXPECT_EQ(test, seg->len,
				sizeof(*iph) + sizeof(*uh) + pkt_len[i]);
		KUNIT_EXPECT_EQ(test, (int)iph->version, 4);
		KUNIT_EXPECT_EQ(test, (int)iph->ihl, 5);
		KUNIT_EXPECT_EQ(test, ntohs(iph->tot_len), seg->len);
		KUNIT_EXPECT_EQ(test, ntohs(iph->id), FIRST_ID + i);
		KUNIT_EXPECT_EQ(test, iph->ttl, hdrs.ttl);
		KUNIT_EXPECT_EQ(test, iph->protocol, IPPROTO_UDP);
		KUNIT_EXPECT_EQ(test, iph->frag_off, 0);
		KUNIT_EXPECT_EQ(test, ip_fast_csum(iph, iph->ihl), 0);
		KUNIT_EXPECT_EQ(test, iph->saddr, saddr);
		KUNIT_EXPECT_EQ(test, iph->daddr, hdrs.daddr);
		KUNIT_EXPECT_EQ(test, uh->source, sport);
		KUNIT_EXPECT_EQ(test, uh->dest, hdrs.dport);
		KUNIT_EXPECT_EQ(test, ntohs(uh->len), sizeof(*uh) + pkt_len[i]);
		KUNIT_EXPECT_EQ(test, uh->check, 0);
		KUNIT_ASSERT_EQ(test, skb_headlen(seg), seg->len);
		for (j = 0; j < pkt_len[i]; j++)
			if (payload[j] != 'a' + i)
				break;
		KUNIT_EXPECT_EQ(test, j, pkt_len[i]);
	}
	KUNIT_EXPECT_EQ(test, i, NPKT);
	kfree_skb_list(segs);
}

static void fraglist_cut_in_place(struct kunit *test)
{
	struct fenv *env = test->priv;
	struct sk_buff *head = fl_train(test, ROOM);

	KUNIT_ASSERT_TRUE(test, cyph_fraglist4(head, &hdrs, env->dev));
	KUNIT_EXPECT_EQ(test, skb_shinfo(head)->gso_type,
			SKB_GSO_UDP_L4 | SKB_GSO_FRAGLIST);
	KUNIT_EXPECT_EQ(test, (int)head->ip_summed, CHECKSUM_UNNECESSARY);
	fl_tunnel_core(head);
	fl_expect_cut(test, head, hdrs.saddr, hdrs.sport);
}

/* NAT rewrites the first packet's source only; the cut carries it on. */
static void fraglist_follows_nat(struct kunit *test)
{
	struct fenv *env = test->priv;
	struct sk_buff *head = fl_train(test, ROOM);
	__be32 nat_addr = cpu_to_be32(0xc0000201);
	__be16 nat_port = cpu_to_be16(40000);
	struct iphdr *iph;

	KUNIT_ASSERT_TRUE(test, cyph_fraglist4(head, &hdrs, env->dev));
	fl_tunnel_core(head);
	iph = ip_hdr(head);
	csum_replace4(&iph->check, iph->saddr, nat_addr);
	iph->saddr = nat_addr;
	udp_hdr(head)->source = nat_port;
	fl_expect_cut(test, head, nat_addr, nat_port);
}

/* A device that would segment the train itself gets the plain form. */
static void fraglist_plain_for_nic(struct kunit *test)
{
	struct fenv *env = test->priv;
	struct sk_buff *head = fl_train(test, ROOM);

	env->dev->features &= ~NETIF_F_GSO_FRAGLIST;
	KUNIT_EXPECT_FALSE(test, cyph_fraglist4(head, &hdrs, env->dev));
	KUNIT_EXPECT_EQ(test, skb_shinfo(head)->gso_type, SKB_GSO_UDP_L4);
	KUNIT_EXPECT_EQ(test, (int)head->ip_summed, CHECKSUM_PARTIAL);
	kfree_skb(head);
}

/* One packet short of room for its headers: the whole train stays plain. */
static void fraglist_plain_without_room(struct kunit *test)
{
	struct fenv *env = test->priv;
	unsigned int need = sizeof(struct iphdr) + sizeof(struct udphdr) +
			    LL_RESERVED_SPACE(env->dev);
	struct sk_buff *head = fl_train(test, need - 1);

	KUNIT_EXPECT_FALSE(test, cyph_fraglist4(head, &hdrs, env->dev));
	KUNIT_EXPECT_EQ(test, skb_shinfo(head)->gso_type, SKB_GSO_UDP_L4);
	kfree_skb(head);
}

/* Not a train (one packet): left alone. */
static void fraglist_ignores_single(struct kunit *test)
{
	struct fenv *env = test->priv;
	struct sk_buff *skb = fl_packet(test, 0, ROOM);

	KUNIT_EXPECT_FALSE(test, cyph_fraglist4(skb, &hdrs, env->dev));
	KUNIT_EXPECT_EQ(test, skb_shinfo(skb)->gso_type, 0);
	kfree_skb(skb);
}

static struct kunit_case fraglist_cases[] = {
	KUNIT_CASE(fraglist_cut_in_place),
	KUNIT_CASE(fraglist_follows_nat),
	KUNIT_CASE(fraglist_plain_for_nic),
	KUNIT_CASE(fraglist_plain_without_room),
	KUNIT_CASE(fraglist_ignores_single),
	{}
};

static struct kunit_suite fraglist_suite = {
	.name = "cyphonic_fraglist",
	.init = fraglist_test_init,
	.test_cases = fraglist_cases,
};

kunit_test_suite(fraglist_suite);
