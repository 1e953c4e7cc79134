// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/staging.c: packets waiting for a tunnel are bounded
 * in bytes of skb memory (truesize) per pair and per device, not in
 * packets, and a GSO packet is segmented before it is staged, so it is
 * charged for what its segments hold and staged as far as there is room.
 *
 * Each case gets a bare struct cyph_device with one local identity and no
 * tunnel; the "tunnel needed" event and the TX path are kunit_stubs.c's.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/if_arp.h>
#include <linux/ip.h>
#include <linux/tcp.h>

#include "device.h"
#include "local.h"
#include "staging.h"
#include "tunnel.h"
#include "kunit_stubs.h"
#include "test_dev.h"

#define LOCAL4		0x0a000001	/* 10.0.0.1, the identity */

static int staging_test_init(struct kunit *test)
{
	struct cyph_local_cfg lc = { .has4 = true };
	struct netlink_ext_ack extack = {};
	struct cyph_device *cd = cyph_test_dev_new(test, "cyphs%d");
	int err;

	if (!cd)
		return -ENOMEM;
	test->priv = cd;
	cyph_stub_reset();

	lc.vip4.ip4 = htonl(LOCAL4);
	mutex_lock(&cd->lock);
	err = cyph_local_add(cd, &lc, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_ASSERT_EQ(test, err, 0);
	return 0;
}

static void staging_test_exit(struct kunit *test)
{
	struct cyph_device *cd = test->priv;

	mutex_lock(&cd->lock);
	cyph_local_del_all(cd);
	mutex_unlock(&cd->lock);
	cyph_staging_purge(cd);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes, 0U);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 0U);
	rcu_barrier();
	cyph_test_dev_free(cd);
}

static void pair_to(struct cyph_pair *p, u32 host)
{
	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->local.ip4 = htonl(LOCAL4);
	p->remote.ip4 = htonl(0x0b000000 + host);
}

/* Stage a plain @len-byte packet; return its truesize. */
static unsigned int stage(struct kunit *test, struct cyph_device *cd,
			  const struct cyph_pair *pair, unsigned int len)
{
	struct sk_buff *skb = alloc_skb(len, GFP_KERNEL);
	unsigned int truesize;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_put(skb, len);
	truesize = skb->truesize;
	local_bh_disable();
	cyph_staging_stage(cd, skb, pair);
	local_bh_enable();
	return truesize;
}

/* A pair holds as many packets as fit its bytes: small ones, many. */
static void staging_pair_bytes(struct kunit *test)
{
	struct cyph_device *cd = test->priv;
	unsigned int i, ts = 0, fit, small;
	struct cyph_pair p;

	pair_to(&p, 2);
	for (i = 0; i < 400; i++)
		ts = stage(test, cd, &p, 64);
	fit = CYPHONIC_STAGED_PAIR_BYTES / ts;
	/* More than the old limit of 16 packets, at most the bytes allowed. */
	KUNIT_EXPECT_GT(test, fit, 16U);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes, fit * ts);
	KUNIT_EXPECT_LE(test, cd->staging.bytes, CYPHONIC_STAGED_PAIR_BYTES);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_STAGED_FULL),
			(u64)(400 - fit));
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 1U);
	/* One event for the pair (rate-limited to one a second). */
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_tunnel_needed), 1);

	/* Large packets: fewer fit the same bytes. */
	small = fit * ts;
	pair_to(&p, 3);
	for (i = 0; i < 100; i++)
		ts = stage(test, cd, &p, 1400);
	KUNIT_EXPECT_LT(test, CYPHONIC_STAGED_PAIR_BYTES / ts, fit);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes,
			small + CYPHONIC_STAGED_PAIR_BYTES / ts * ts);
	kunit_info(test, "per pair: %u packets of truesize %u, or %u of %u\n",
		   fit, small / fit, CYPHONIC_STAGED_PAIR_BYTES / ts, ts);
}

/* The device's bytes bound all pairs together. */
static void staging_device_bytes(struct kunit *test)
{
	struct cyph_device *cd = test->priv;
	unsigned int host, i, staged = 0, offered = 0, ts;
	struct cyph_pair p;
	u64 full0;

	for (host = 1; host <= 40; host++) {
		pair_to(&p, host);
		for (i = 0; i < 40; i++) {
			ts = stage(test, cd, &p, 1400);
			offered++;
		}
	}
	full0 = cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_STAGED_FULL);
	staged = offered - full0;
	KUNIT_EXPECT_LE(test, cd->staging.bytes, CYPHONIC_STAGED_BYTES);
	KUNIT_EXPECT_GT(test, cd->staging.bytes, CYPHONIC_STAGED_BYTES - 2 * ts);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes, staged * ts);
	KUNIT_EXPECT_LE(test, cd->staging.pairs, (unsigned int)CYPHONIC_STAGED_PAIRS);
	kunit_info(test, "staged %u of %u packets of truesize %u: %u bytes\n",
		   staged, offered, ts, cd->staging.bytes);
}

/* A TCP GSO packet of @segs segments of @mss bytes, checksum pending. */
static struct sk_buff *gso_skb(struct kunit *test, unsigned int segs,
			       unsigned int mss)
{
	unsigned int hl = sizeof(struct iphdr) + sizeof(struct tcphdr);
	unsigned int len = hl + segs * mss;
	struct sk_buff *skb = alloc_skb(len, GFP_KERNEL);
	struct tcphdr *th;
	struct iphdr *iph;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	memset(skb_put(skb, len), 0, len);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, sizeof(*iph));
	iph = ip_hdr(skb);
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = IPPROTO_TCP;
	iph->tot_len = htons(len);
	iph->saddr = htonl(LOCAL4);
	iph->daddr = htonl(0x0b000009);
	th = tcp_hdr(skb);
	th->doff = 5;
	th->source = htons(1000);
	th->dest = htons(2000);
	skb->protocol = htons(ETH_P_IP);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_transport_header(skb) - skb->head;
	skb->csum_offset = offsetof(struct tcphdr, check);
	skb_shinfo(skb)->gso_size = mss;
	skb_shinfo(skb)->gso_type = SKB_GSO_TCPV4;
	skb_shinfo(skb)->gso_segs = segs;
	return skb;
}

/* GSO packets are segmented first: each segment is staged on its own. */
static void staging_gso_segmented(struct kunit *test)
{
	struct cyph_device *cd = test->priv;
	struct cyph_pair p;
	struct sk_buff *skb;
	u64 full;

	pair_to(&p, 9);
	skb = gso_skb(test, 4, 1000);
	local_bh_disable();
	cyph_staging_stage(cd, skb, &p);
	local_bh_enable();
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_STAGED_FULL), 0ULL);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_BAD_INNER), 0ULL);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 1U);
	KUNIT_EXPECT_GT(test, cd->staging.bytes, 4 * 1000U);

	/* 64 segments do not fit a pair: part is staged, the rest dropped. */
	skb = gso_skb(test, 64, 1400);
	local_bh_disable();
	cyph_staging_stage(cd, skb, &p);
	local_bh_enable();
	full = cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_STAGED_FULL);
	KUNIT_EXPECT_GT(test, full, 0ULL);
	KUNIT_EXPECT_LT(test, full, 64ULL);
	KUNIT_EXPECT_LE(test, cd->staging.bytes, CYPHONIC_STAGED_PAIR_BYTES);
	kunit_info(test, "64-segment GSO: %llu segments dropped, %u bytes staged\n",
		   full, cd->staging.bytes);
}

/* Expired packets give their bytes back, also while the pair stays. */
static void staging_expiry_bytes(struct kunit *test)
{
	struct cyph_device *cd = test->priv;
	struct cyph_pair p;
	unsigned int ts;

	pair_to(&p, 4);
	ts = stage(test, cd, &p, 200);
	stage(test, cd, &p, 200);
	msleep(CYPHONIC_STAGED_TIMEOUT_MS / 2);
	stage(test, cd, &p, 200);
	stage(test, cd, &p, 200);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes, 4 * ts);
	/* The first two expire, the last two still wait. */
	msleep(CYPHONIC_STAGED_TIMEOUT_MS / 2 + 1000);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_STAGED_TIMEOUT), 2ULL);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes, 2 * ts);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 1U);
}

/* A packet from no local identity is not staged at all. */
static void staging_not_local(struct kunit *test)
{
	struct cyph_device *cd = test->priv;
	struct cyph_pair p;

	pair_to(&p, 2);
	p.local.ip4 = htonl(0x0a000063);
	stage(test, cd, &p, 64);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_NO_TUNNEL), 1ULL);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 0U);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes, 0U);
}

/* Stage an IPv4 packet from the identity to 11.0.0.@host. */
static void stage_ip(struct kunit *test, struct cyph_device *cd,
		     const struct cyph_pair *pair)
{
	struct sk_buff *skb = alloc_skb(64, GFP_KERNEL);
	struct iphdr *iph;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	iph = skb_put_zero(skb, sizeof(*iph) + 8);
	skb_reset_network_header(skb);
	iph->version = 4;
	iph->ihl = 5;
	iph->ttl = 64;
	iph->protocol = IPPROTO_UDP;
	iph->tot_len = htons(skb->len);
	iph->saddr = pair->local.ip4;
	iph->daddr = pair->remote.ip4;
	skb->protocol = htons(ETH_P_IP);
	skb->dev = cd->dev;
	local_bh_disable();
	cyph_staging_stage(cd, skb, pair);
	local_bh_enable();
}

/*
 * User space says no tunnel can be made: the pair's staged packets go at
 * once, each with an ICMP error, and so does every new one for a while,
 * without an event; then the mark expires with the pair's entry.
 */
static void staging_unreachable(struct kunit *test)
{
	struct netlink_ext_ack extack = {};
	struct cyph_device *cd = test->priv;
	struct cyph_pair p, other;

	pair_to(&p, 5);
	stage_ip(test, cd, &p);
	stage_ip(test, cd, &p);
	stage_ip(test, cd, &p);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_tunnel_needed), 1);
	KUNIT_EXPECT_GT(test, cd->staging.bytes, 0U);

	KUNIT_EXPECT_EQ(test, cyph_staging_unreachable(cd, &p, &extack), 0);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_UNREACHABLE), 3ULL);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_TX_ICMP_UNREACHABLE), 3ULL);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes, 0U);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 1U);

	/* Refused at once, not staged, no new event (even a second later). */
	msleep(1100);
	stage_ip(test, cd, &p);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_UNREACHABLE), 4ULL);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes, 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_tunnel_needed), 1);

	/* Other pairs are not affected. */
	pair_to(&other, 6);
	stage_ip(test, cd, &other);
	KUNIT_EXPECT_GT(test, cd->staging.bytes, 0U);

	/* Only for a local identity's VIP. */
	other.local.ip4 = htonl(0x0a000063);
	KUNIT_EXPECT_EQ(test, cyph_staging_unreachable(cd, &other, &extack),
			-ENOENT);

	/* After the timeout the mark and its entry are gone: staged again. */
	msleep(CYPHONIC_STAGED_TIMEOUT_MS + 500);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 0U);
	stage_ip(test, cd, &p);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_TX_DROP_UNREACHABLE), 4ULL);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 1U);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_tunnel_needed), 3);
}

static struct kunit_case staging_cases[] = {
	KUNIT_CASE(staging_pair_bytes),
	KUNIT_CASE(staging_device_bytes),
	KUNIT_CASE(staging_gso_segmented),
	KUNIT_CASE(staging_not_local),
	KUNIT_CASE(staging_expiry_bytes),
	KUNIT_CASE(staging_unreachable),
	{}
};

static struct kunit_suite staging_suite = {
	.name = "cyphonic_staging",
	.init = staging_test_init,
	.exit = staging_test_exit,
	.test_cases = staging_cases,
};

kunit_test_suite(staging_suite);
