// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/tunnel.c (with kmod/local.c): lookup by VIP pair
 * and by receiver index, the configuration rules, references across
 * deletion, and lookups racing adds and deletes under RCU.
 *
 * Each case gets a bare struct cyph_device around an unregistered
 * net_device; the netlink and TX files tunnel.c (and staging.c, which it
 * flushes) call are replaced by kunit_stubs.c.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/kthread.h>
#include <linux/slab.h>

#include "device.h"
#include "local.h"
#include "staging.h"
#include "tunnel.h"
#include "kunit_stubs.h"

#define LOCAL4		0x0a000001	/* 10.0.0.1 */
#define LOCAL4_B	0x0a000101	/* 10.0.1.1, a second identity */

/* Distinct keys: TX == RX and reuse within a tunnel are refused. */
static const u8 key_bytes[6][CYPHONIC_KEY_LEN] = {
	{ 0xc7 }, { 0xc8 }, { 0xc9 }, { 0xca }, { 0xcb }, { 0xcc },
};

struct tenv {
	struct cyph_device *cd;
	int refcnt0;		/* the device's reference count at start */
};

static void tdev_setup(struct net_device *dev)
{
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
}

static int tunnel_suite_init(struct kunit_suite *suite)
{
	return cyph_keys_init();
}

static void tunnel_suite_exit(struct kunit_suite *suite)
{
	rcu_barrier();
	cyph_keys_exit();
}

static void v6(struct in6_addr *a, u16 net, u32 host)
{
	memset(a, 0, sizeof(*a));
	a->s6_addr16[0] = htons(0xfd00);
	a->s6_addr16[1] = htons(net);
	a->s6_addr32[3] = htonl(host);
}

static int tenv_local(struct cyph_device *cd, u32 vip4, u16 net6)
{
	struct cyph_local_cfg lc = { .has4 = true, .has6 = true };
	struct netlink_ext_ack extack = {};
	int err;

	lc.vip4.ip4 = htonl(vip4);
	v6(&lc.vip6.ip6, net6, 1);
	mutex_lock(&cd->lock);
	err = cyph_local_add(cd, &lc, &extack);
	mutex_unlock(&cd->lock);
	return err;
}

static int tunnel_test_init(struct kunit *test)
{
	struct tenv *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);
	struct cyph_device *cd;
	struct net_device *dev;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, env);
	dev = alloc_netdev(0, "cyphk%d", NET_NAME_UNKNOWN, tdev_setup);
	KUNIT_ASSERT_NOT_NULL(test, dev);
	cd = kvzalloc(sizeof(*cd), GFP_KERNEL);
	if (!cd)
		free_netdev(dev);
	KUNIT_ASSERT_NOT_NULL(test, cd);
	cd->dev = dev;
	mutex_init(&cd->lock);
	cd->cipher = CYPHONIC_CIPHER_AES_GCM;
	cyph_tunnel_table_init(cd);
	cyph_local_table_init(cd);
	cyph_staging_init(&cd->staging);
	cyph_early_init(&cd->early);
	/* tunnel_many needs more than the default; the cap case lowers it. */
	cd->max_tunnels = CYPHONIC_MAX_TUNNELS_LIMIT;
	env->cd = cd;
	env->refcnt0 = netdev_refcnt_read(cd->dev);
	test->priv = env;
	cyph_stub_reset();
	KUNIT_ASSERT_EQ(test, tenv_local(cd, LOCAL4, 0), 0);
	return 0;
}

/* Delete everything, wait for the RCU frees, check the device refs. */
static void tunnel_test_exit(struct kunit *test)
{
	struct tenv *env = test->priv;
	struct cyph_device *cd = env->cd;

	mutex_lock(&cd->lock);
	cyph_local_del_all(cd);
	cyph_tunnel_del_all(cd);
	mutex_unlock(&cd->lock);
	cyph_staging_purge(cd);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, cd->n_tunnels, 0U);
	KUNIT_EXPECT_EQ_MSG(test, netdev_refcnt_read(cd->dev), env->refcnt0,
			    "tunnels leaked device references");
	free_netdev(cd->dev);
	kvfree(cd);
}

/* A tunnel cfg: 10.0.0.1/fd00::1 (identity 0) to remote host @host. */
static void tcfg(struct cyph_tunnel_cfg *cfg, u32 index, u32 host, bool four,
		 bool six)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->index = index;
	cfg->peer_index = index + 100000;
	cfg->has4 = four;
	cfg->has6 = six;
	cfg->pair4.family = AF_INET;
	cfg->pair4.local.ip4 = htonl(LOCAL4);
	cfg->pair4.remote.ip4 = htonl(0x0b000000 + host);
	cfg->pair6.family = AF_INET6;
	v6(&cfg->pair6.local.ip6, 0, 1);
	v6(&cfg->pair6.remote.ip6, 0xbbbb, host);
}

static int tnew(struct cyph_device *cd, const struct cyph_tunnel_cfg *cfg,
		const char **msg)
{
	struct netlink_ext_ack extack = {};
	int err;

	mutex_lock(&cd->lock);
	err = cyph_tunnel_new(cd, cfg, &extack);
	mutex_unlock(&cd->lock);
	if (msg)
		*msg = extack._msg;
	return err;
}

static int tdel(struct cyph_device *cd, u32 index)
{
	struct netlink_ext_ack extack = {};
	int err;

	mutex_lock(&cd->lock);
	err = cyph_tunnel_del(cd, index, &extack);
	mutex_unlock(&cd->lock);
	return err;
}

/* Is the tunnel found by @index and by both pairs of @cfg? */
static bool found_as(struct cyph_device *cd, const struct cyph_tunnel_cfg *cfg)
{
	struct cyph_tunnel *a, *b, *c = NULL;
	bool ok;

	a = cyph_tunnel_get_by_index(cd, cfg->index);
	b = cyph_tunnel_get_by_pair(cd, &cfg->pair4);
	if (cfg->has6)
		c = cyph_tunnel_get_by_pair(cd, &cfg->pair6);
	ok = a && a == b && (!cfg->has6 || a == c) && a->index == cfg->index;
	if (a)
		cyph_tunnel_put(a);
	if (b)
		cyph_tunnel_put(b);
	if (c)
		cyph_tunnel_put(c);
	return ok;
}

static bool gone(struct cyph_device *cd, const struct cyph_tunnel_cfg *cfg)
{
	struct cyph_tunnel *a, *b;

	a = cyph_tunnel_get_by_index(cd, cfg->index);
	b = cyph_tunnel_get_by_pair(cd, &cfg->pair4);
	if (a)
		cyph_tunnel_put(a);
	if (b)
		cyph_tunnel_put(b);
	return !a && !b;
}

static void tunnel_lookup(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	struct cyph_tunnel_cfg cfg;
	struct cyph_tunnel *t;

	tcfg(&cfg, 7, 2, true, true);
	KUNIT_ASSERT_EQ(test, tnew(cd, &cfg, NULL), 0);
	KUNIT_EXPECT_EQ(test, cd->n_tunnels, 1U);
	KUNIT_EXPECT_TRUE(test, found_as(cd, &cfg));

	t = cyph_tunnel_get_by_index(cd, 7);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_EQ(test, t->peer_index, 100007U);
	/* The table's reference and ours. */
	KUNIT_EXPECT_EQ(test, kref_read(&t->ref), 2U);
	cyph_tunnel_put(t);
	KUNIT_EXPECT_EQ(test, kref_read(&t->ref), 1U);
}

/* Near misses find nothing: reversed pair, other remote, other index. */
static void tunnel_lookup_misses(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	struct cyph_tunnel_cfg cfg;
	struct cyph_pair p;

	tcfg(&cfg, 7, 2, true, false);
	KUNIT_ASSERT_EQ(test, tnew(cd, &cfg, NULL), 0);
	KUNIT_EXPECT_NULL(test, cyph_tunnel_get_by_index(cd, 8));
	KUNIT_EXPECT_NULL(test, cyph_tunnel_get_by_index(cd, 0));
	p = cfg.pair4;
	swap(p.local, p.remote);
	KUNIT_EXPECT_NULL(test, cyph_tunnel_get_by_pair(cd, &p));
	p = cfg.pair4;
	p.remote.ip4 ^= htonl(1);
	KUNIT_EXPECT_NULL(test, cyph_tunnel_get_by_pair(cd, &p));
	/* It has no IPv6 pair. */
	KUNIT_EXPECT_NULL(test, cyph_tunnel_get_by_pair(cd, &cfg.pair6));
}

static void tunnel_config_rules(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	struct cyph_tunnel_cfg cfg;
	const char *msg;

	tcfg(&cfg, 7, 2, true, true);
	KUNIT_ASSERT_EQ(test, tnew(cd, &cfg, NULL), 0);
	/* Same index. */
	tcfg(&cfg, 7, 3, true, true);
	KUNIT_EXPECT_EQ(test, tnew(cd, &cfg, &msg), -EEXIST);
	KUNIT_EXPECT_NOT_NULL(test, msg);
	/* Same IPv4 pair, same IPv6 pair. */
	tcfg(&cfg, 8, 2, true, false);
	KUNIT_EXPECT_EQ(test, tnew(cd, &cfg, &msg), -EEXIST);
	KUNIT_EXPECT_NOT_NULL(test, msg);
	tcfg(&cfg, 8, 2, false, true);
	KUNIT_EXPECT_EQ(test, tnew(cd, &cfg, &msg), -EEXIST);
	/* A local VIP that is no local identity's. */
	tcfg(&cfg, 9, 4, true, false);
	cfg.pair4.local.ip4 = htonl(0x0a0000ff);
	KUNIT_EXPECT_EQ(test, tnew(cd, &cfg, &msg), -EINVAL);
	KUNIT_EXPECT_NOT_NULL(test, msg);
	/* LOCAL4 and LOCAL6 of two different identities. */
	KUNIT_ASSERT_EQ(test, tenv_local(cd, LOCAL4_B, 1), 0);
	tcfg(&cfg, 10, 5, true, true);
	cfg.pair4.local.ip4 = htonl(LOCAL4_B);
	KUNIT_EXPECT_EQ(test, tnew(cd, &cfg, &msg), -EINVAL);
	/* Nothing of the refused ones was published. */
	KUNIT_EXPECT_EQ(test, cd->n_tunnels, 1U);
	KUNIT_EXPECT_NULL(test, cyph_tunnel_get_by_index(cd, 8));
	KUNIT_EXPECT_NULL(test, cyph_tunnel_get_by_index(cd, 10));
	KUNIT_EXPECT_EQ(test, tdel(cd, 8), -ENOENT);
}

/* Tunnels and local identities stop at the device's caps, with a message. */
static void tunnel_caps(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	struct cyph_local_cfg lc = { .has4 = true };
	struct netlink_ext_ack extack = {};
	struct cyph_tunnel_cfg cfg;
	const char *msg = NULL;
	unsigned int i;
	int err;

	cd->max_tunnels = 5;
	for (i = 1; i <= 5; i++) {
		tcfg(&cfg, i, i, true, false);
		KUNIT_ASSERT_EQ(test, tnew(cd, &cfg, NULL), 0);
	}
	tcfg(&cfg, 6, 6, true, false);
	KUNIT_EXPECT_EQ(test, tnew(cd, &cfg, &msg), -ENOSPC);
	KUNIT_EXPECT_NOT_NULL(test, strstr(msg ?: "", "max-tunnels"));
	KUNIT_EXPECT_EQ(test, cd->n_tunnels, 5U);
	KUNIT_EXPECT_TRUE(test, gone(cd, &cfg));
	/* A deletion makes room again. */
	KUNIT_EXPECT_EQ(test, tdel(cd, 3), 0);
	KUNIT_EXPECT_EQ(test, tnew(cd, &cfg, NULL), 0);

	/* The env has one identity; allow two. */
	cd->max_locals = 2;
	KUNIT_EXPECT_EQ(test, tenv_local(cd, LOCAL4_B, 1), 0);
	KUNIT_EXPECT_EQ(test, cd->n_locals, 2U);
	lc.vip4.ip4 = htonl(0x0a000201);
	mutex_lock(&cd->lock);
	err = cyph_local_add(cd, &lc, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_EXPECT_EQ(test, err, -ENOSPC);
	KUNIT_EXPECT_NOT_NULL(test, strstr(extack._msg ?: "", "max-locals"));
	KUNIT_EXPECT_EQ(test, cd->n_locals, 2U);
	/* Deleting an identity (and its tunnels) counts down. */
	lc.vip4.ip4 = htonl(LOCAL4);
	mutex_lock(&cd->lock);
	err = cyph_local_del(cd, &lc, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, cd->n_locals, 1U);
	KUNIT_EXPECT_EQ(test, cd->n_tunnels, 0U);
}

/* More tunnels than hash buckets, so chains are walked; delete half. */
#define MANY	3000

static void tunnel_many(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	unsigned int i, missing = 0, stale = 0;
	struct cyph_tunnel_cfg cfg;

	for (i = 1; i <= MANY; i++) {
		tcfg(&cfg, i * 2654435761U, i, true, i % 3 == 0);
		KUNIT_ASSERT_EQ_MSG(test, tnew(cd, &cfg, NULL), 0, "tunnel %u", i);
	}
	KUNIT_EXPECT_EQ(test, cd->n_tunnels, (unsigned int)MANY);
	for (i = 1; i <= MANY; i++) {
		tcfg(&cfg, i * 2654435761U, i, true, i % 3 == 0);
		missing += !found_as(cd, &cfg);
	}
	KUNIT_EXPECT_EQ(test, missing, 0U);
	for (i = 1; i <= MANY; i += 2)
		KUNIT_EXPECT_EQ(test, tdel(cd, i * 2654435761U), 0);
	for (i = 1; i <= MANY; i++) {
		tcfg(&cfg, i * 2654435761U, i, true, i % 3 == 0);
		if (i % 2)
			stale += !gone(cd, &cfg);
		else
			missing += !found_as(cd, &cfg);
	}
	KUNIT_EXPECT_EQ(test, missing, 0U);
	KUNIT_EXPECT_EQ(test, stale, 0U);
	KUNIT_EXPECT_EQ(test, cd->n_tunnels, (unsigned int)MANY / 2);
}

/*
 * A packet holding a tunnel keeps it usable after TUNNEL_DEL; the memory
 * and the device reference go only when the last reference does.
 */
static void tunnel_del_keeps_references(struct kunit *test)
{
	struct tenv *env = test->priv;
	struct cyph_device *cd = env->cd;
	struct cyph_tunnel_cfg cfg;
	struct cyph_tunnel *t;

	tcfg(&cfg, 7, 2, true, true);
	KUNIT_ASSERT_EQ(test, tnew(cd, &cfg, NULL), 0);
	KUNIT_EXPECT_EQ(test, netdev_refcnt_read(cd->dev), env->refcnt0 + 1);
	t = cyph_tunnel_get_by_index(cd, 7);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_EQ(test, tdel(cd, 7), 0);
	KUNIT_EXPECT_TRUE(test, gone(cd, &cfg));
	rcu_barrier();
	/* Still ours: KASAN would report a use after free here. */
	KUNIT_EXPECT_EQ(test, t->index, 7U);
	KUNIT_EXPECT_EQ(test, kref_read(&t->ref), 1U);
	KUNIT_EXPECT_EQ(test, netdev_refcnt_read(cd->dev), env->refcnt0 + 1);
	cyph_tunnel_put(t);
	rcu_barrier();
	KUNIT_EXPECT_EQ(test, netdev_refcnt_read(cd->dev), env->refcnt0);
	/* The index and pairs can be used again. */
	KUNIT_EXPECT_EQ(test, tnew(cd, &cfg, NULL), 0);
	KUNIT_EXPECT_TRUE(test, found_as(cd, &cfg));
}

/*
 * Readers look tunnels up by index and by pair the way TX and RX do,
 * while the test thread adds and deletes them. A reader must never see a
 * tunnel under a key it was not added with, nor one whose memory is gone
 * (KASAN), and lockdep checks the RCU annotations.
 */
#define RACE_SLOTS	64
#define RACE_ROUNDS	400

struct race {
	struct cyph_device *cd;
	atomic_t bad;
	atomic_long_t hits, lookups;
};

static int race_reader(void *arg)
{
	struct race *rc = arg;
	struct cyph_tunnel_cfg cfg;
	unsigned int i = 0;

	while (!kthread_should_stop()) {
		struct cyph_tunnel *t;
		u32 slot = i++ % RACE_SLOTS;

		tcfg(&cfg, 1000 + slot, slot, true, true);
		t = cyph_tunnel_get_by_index(rc->cd, cfg.index);
		if (t) {
			if (t->index != cfg.index || !cyph_tunnel_owns(t, &cfg.pair4))
				atomic_inc(&rc->bad);
			atomic_long_inc(&rc->hits);
			cyph_tunnel_put(t);
		}
		t = cyph_tunnel_get_by_pair(rc->cd, &cfg.pair6);
		if (t) {
			if (t->index != cfg.index || !cyph_tunnel_owns(t, &cfg.pair6))
				atomic_inc(&rc->bad);
			atomic_long_inc(&rc->hits);
			cyph_tunnel_put(t);
		}
		atomic_long_add(2, &rc->lookups);
		if (!(i % 64))
			cond_resched();
	}
	return 0;
}

static void tunnel_rcu_race(struct kunit *test)
{
	struct race *rc = kunit_kzalloc(test, sizeof(*rc), GFP_KERNEL);
	struct task_struct *readers[2];
	struct cyph_tunnel_cfg cfg;
	unsigned int round, slot;
	int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, rc);
	rc->cd = ((struct tenv *)test->priv)->cd;
	for (i = 0; i < ARRAY_SIZE(readers); i++) {
		readers[i] = kthread_run(race_reader, rc, "cyph_kunit_rd%d", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(readers[i]));
	}
	for (round = 0; round < RACE_ROUNDS; round++) {
		slot = (round * 7) % RACE_SLOTS;
		tcfg(&cfg, 1000 + slot, slot, true, true);
		if (tnew(rc->cd, &cfg, NULL) == -EEXIST)
			tdel(rc->cd, cfg.index);
		if (!(round % 16))
			usleep_range(100, 200);
	}
	for (i = 0; i < ARRAY_SIZE(readers); i++)
		kthread_stop(readers[i]);
	KUNIT_EXPECT_EQ(test, atomic_read(&rc->bad), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&rc->lookups), 0L);
	kunit_info(test, "%ld lookups, %ld hits", atomic_long_read(&rc->lookups),
		   atomic_long_read(&rc->hits));
}

/* Cryptokey routing: a tunnel owns exactly its own pairs. */
static void tunnel_owns(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	struct cyph_tunnel_cfg cfg;
	struct cyph_tunnel *t;
	struct cyph_pair p;

	tcfg(&cfg, 7, 2, true, false);
	KUNIT_ASSERT_EQ(test, tnew(cd, &cfg, NULL), 0);
	t = cyph_tunnel_get_by_index(cd, 7);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_TRUE(test, cyph_tunnel_owns(t, &cfg.pair4));
	/* No IPv6 pair configured: nothing IPv6 is its. */
	KUNIT_EXPECT_FALSE(test, cyph_tunnel_owns(t, &cfg.pair6));
	p = cfg.pair4;
	p.remote.ip4 ^= htonl(0x100);
	KUNIT_EXPECT_FALSE(test, cyph_tunnel_owns(t, &p));
	p = cfg.pair4;
	swap(p.local, p.remote);
	KUNIT_EXPECT_FALSE(test, cyph_tunnel_owns(t, &p));
	cyph_tunnel_put(t);
}

/* Staged packets are flushed when, and only when, a tunnel gets a key. */
/* A packet for @pair that finds no tunnel: staging.c takes it. */
static void stage_one(struct kunit *test, struct cyph_device *cd,
		      const struct cyph_pair *pair)
{
	struct sk_buff *skb = alloc_skb(100, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_put(skb, 100);
	local_bh_disable();
	cyph_staging_stage(cd, skb, pair);
	local_bh_enable();
}

/* Packets staged before the tunnel existed go out once it has a key. */
static void tunnel_keys_flush_staging(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	struct netlink_ext_ack extack = {};
	struct cyph_tunnel_cfg cfg;
	int err;

	tcfg(&cfg, 7, 2, true, false);
	stage_one(test, cd, &cfg.pair4);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 1U);
	KUNIT_ASSERT_EQ(test, tnew(cd, &cfg, NULL), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.tx_tunnel), 0);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 1U);

	/* No next key to swap in yet. */
	mutex_lock(&cd->lock);
	err = cyph_tunnel_swap(cd, 7, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_EXPECT_EQ(test, err, -ENOKEY);

	cfg.key[CYPHONIC_KEY_SLOT_PRIMARY] = (struct cyph_key_cfg){
		.set = true, .id = 0, .tx = key_bytes[0], .rx = key_bytes[1] };
	mutex_lock(&cd->lock);
	err = cyph_tunnel_set(cd, &cfg, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.tx_tunnel), 1);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 0U);
	KUNIT_EXPECT_EQ(test, cd->staging.bytes, 0U);

	/* A next key with the primary's id is refused. */
	cfg.key[CYPHONIC_KEY_SLOT_PRIMARY].set = false;
	cfg.key[CYPHONIC_KEY_SLOT_NEXT] = (struct cyph_key_cfg){
		.set = true, .id = 0, .tx = key_bytes[2], .rx = key_bytes[3] };
	mutex_lock(&cd->lock);
	err = cyph_tunnel_set(cd, &cfg, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_EXPECT_EQ(test, err, -EINVAL);

	cfg.key[CYPHONIC_KEY_SLOT_NEXT].id = 1;
	mutex_lock(&cd->lock);
	err = cyph_tunnel_set(cd, &cfg, &extack);
	if (!err)
		err = cyph_tunnel_swap(cd, 7, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_EXPECT_EQ(test, err, 0);

	/* A tunnel created with a key flushes at once. */
	tcfg(&cfg, 8, 3, true, false);
	stage_one(test, cd, &cfg.pair4);
	cfg.key[CYPHONIC_KEY_SLOT_PRIMARY] = (struct cyph_key_cfg){
		.set = true, .id = 2, .tx = key_bytes[4], .rx = key_bytes[5] };
	KUNIT_EXPECT_EQ(test, tnew(cd, &cfg, NULL), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.tx_tunnel), 2);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_tunnel->index, 8U);
	KUNIT_EXPECT_EQ(test, cd->staging.pairs, 0U);

	mutex_lock(&cd->lock);
	err = cyph_tunnel_set(cd, &(struct cyph_tunnel_cfg){ .index = 99 }, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_EXPECT_EQ(test, err, -ENOENT);
}

/* Tunnel @index (see tcfg()) to 192.0.2.1:5000 over relay 55, referenced. */
static struct cyph_tunnel *relayed_tunnel(struct kunit *test,
					  struct cyph_device *cd,
					  struct cyph_tunnel_cfg *cfg,
					  u32 index, u32 host)
{
	struct cyph_tunnel *t;

	tcfg(cfg, index, host, true, false);
	cfg->has_endpoint = true;
	cfg->endpoint.sin.sin_family = AF_INET;
	cfg->endpoint.sin.sin_addr.s_addr = htonl(0xc0000201);
	cfg->endpoint.sin.sin_port = htons(5000);
	cfg->has_relay = true;
	cfg->relay = 55;
	KUNIT_ASSERT_EQ(test, tnew(cd, cfg, NULL), 0);
	t = cyph_tunnel_get_by_index(cd, index);
	KUNIT_ASSERT_NOT_NULL(test, t);
	return t;
}

/* Roaming follows the peer's new address once, and leaves relay mode. */
static void tunnel_endpoint_roam(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	union cyph_sockaddr ep, src = {};
	const struct cyph_src none = {};
	struct cyph_tunnel_cfg cfg;
	struct cyph_tunnel *t;
	u32 relay;

	/* A tunnel without an endpoint has nowhere to send yet. */
	tcfg(&cfg, 6, 1, true, false);
	KUNIT_ASSERT_EQ(test, tnew(cd, &cfg, NULL), 0);
	t = cyph_tunnel_get_by_index(cd, 6);
	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_EXPECT_FALSE(test, cyph_tunnel_has_endpoint(t));
	cyph_tunnel_put(t);

	t = relayed_tunnel(test, cd, &cfg, 7, 2);
	KUNIT_EXPECT_TRUE(test, cyph_tunnel_has_endpoint(t));
	cyph_tunnel_endpoint(t, &ep, NULL, &relay);
	KUNIT_EXPECT_TRUE(test, cyph_sockaddr_equal(&ep, &cfg.endpoint));
	KUNIT_EXPECT_EQ(test, relay, 55U);

	/* Same source: nothing changes, no event. */
	cyph_tunnel_roam(t, &cfg.endpoint, &none);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_endpoint), 0);

	src.sin6.sin6_family = AF_INET6;
	v6(&src.sin6.sin6_addr, 0x2001, 7);
	src.sin6.sin6_port = htons(6000);
	cyph_tunnel_roam(t, &src, &none);
	cyph_tunnel_endpoint(t, &ep, NULL, &relay);
	KUNIT_EXPECT_TRUE(test, cyph_sockaddr_equal(&ep, &src));
	KUNIT_EXPECT_EQ(test, relay, 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_endpoint), 1);
	KUNIT_EXPECT_PTR_EQ(test, cyph_stub_calls.last_tunnel, t);
	KUNIT_EXPECT_TRUE(test, cyph_sockaddr_equal(&cyph_stub_calls.last_endpoint,
						    &src));
	cyph_tunnel_put(t);
}

/*
 * The reply source follows the outer destination of what the peer sends,
 * without an endpoint event (nor leaving relay mode) when only it changed;
 * the TX stage forgets it
 * only if it is still the one it tried; a new endpoint from user space
 * forgets it too.
 */
static void tunnel_reply_source(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	struct cyph_src a = {}, b = {}, got;
	struct cyph_tunnel_cfg cfg;
	struct netlink_ext_ack extack = {};
	union cyph_sockaddr ep;
	struct cyph_tunnel *t;
	u32 relay;
	int err;

	t = relayed_tunnel(test, cd, &cfg, 8, 3);
	cyph_tunnel_endpoint(t, &ep, &got, &relay);
	KUNIT_EXPECT_EQ(test, got.addr.ip4, 0U);

	a.addr.ip4 = htonl(0xc6336402);	/* 198.51.100.2 */
	b.addr.ip4 = htonl(0xc6336403);
	cyph_tunnel_roam(t, &cfg.endpoint, &a);
	cyph_tunnel_endpoint(t, &ep, &got, &relay);
	KUNIT_EXPECT_TRUE(test, cyph_src_equal(AF_INET, &got, &a));
	KUNIT_EXPECT_TRUE(test, cyph_sockaddr_equal(&ep, &cfg.endpoint));
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_endpoint), 0);
	/* The same source (the relay) keeps relay mode. */
	KUNIT_EXPECT_EQ(test, relay, 55U);

	/* A stale forget (the peer moved to b meanwhile) changes nothing. */
	cyph_tunnel_roam(t, &cfg.endpoint, &b);
	cyph_tunnel_forget_src(t, &a);
	cyph_tunnel_endpoint(t, &ep, &got, &relay);
	KUNIT_EXPECT_TRUE(test, cyph_src_equal(AF_INET, &got, &b));
	cyph_tunnel_forget_src(t, &b);
	cyph_tunnel_endpoint(t, &ep, &got, &relay);
	KUNIT_EXPECT_EQ(test, got.addr.ip4, 0U);

	cyph_tunnel_roam(t, &cfg.endpoint, &a);
	cfg.endpoint.sin.sin_port = htons(5001);
	mutex_lock(&cd->lock);
	err = cyph_tunnel_set(cd, &(struct cyph_tunnel_cfg){
		.index = 8, .has_endpoint = true, .endpoint = cfg.endpoint,
	}, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_EXPECT_EQ(test, err, 0);
	cyph_tunnel_endpoint(t, &ep, &got, &relay);
	KUNIT_EXPECT_EQ(test, got.addr.ip4, 0U);
	cyph_tunnel_put(t);
}

/* Deleting a local identity deletes its tunnels, and only those. */
static void tunnel_del_with_local(struct kunit *test)
{
	struct cyph_device *cd = ((struct tenv *)test->priv)->cd;
	struct cyph_local_cfg lc = { .has4 = true };
	struct netlink_ext_ack extack = {};
	struct cyph_tunnel_cfg a, b;
	int err;

	KUNIT_ASSERT_EQ(test, tenv_local(cd, LOCAL4_B, 1), 0);
	tcfg(&a, 7, 2, true, false);
	tcfg(&b, 8, 2, true, false);
	b.pair4.local.ip4 = htonl(LOCAL4_B);
	KUNIT_ASSERT_EQ(test, tnew(cd, &a, NULL), 0);
	KUNIT_ASSERT_EQ(test, tnew(cd, &b, NULL), 0);
	lc.vip4.ip4 = htonl(LOCAL4_B);
	mutex_lock(&cd->lock);
	err = cyph_local_del(cd, &lc, &extack);
	mutex_unlock(&cd->lock);
	KUNIT_EXPECT_EQ(test, err, 0);
	KUNIT_EXPECT_TRUE(test, gone(cd, &b));
	KUNIT_EXPECT_TRUE(test, found_as(cd, &a));
	KUNIT_EXPECT_EQ(test, cd->n_tunnels, 1U);
}

static struct kunit_case tunnel_cases[] = {
	KUNIT_CASE(tunnel_lookup),
	KUNIT_CASE(tunnel_lookup_misses),
	KUNIT_CASE(tunnel_config_rules),
	KUNIT_CASE(tunnel_many),
	KUNIT_CASE(tunnel_caps),
	KUNIT_CASE(tunnel_del_keeps_references),
	KUNIT_CASE(tunnel_rcu_race),
	KUNIT_CASE(tunnel_owns),
	KUNIT_CASE(tunnel_keys_flush_staging),
	KUNIT_CASE(tunnel_endpoint_roam),
	KUNIT_CASE(tunnel_reply_source),
	KUNIT_CASE(tunnel_del_with_local),
	{}
};

static struct kunit_suite tunnel_suite = {
	.name = "cyphonic_tunnel",
	.suite_init = tunnel_suite_init,
	.suite_exit = tunnel_suite_exit,
	.init = tunnel_test_init,
	.exit = tunnel_test_exit,
	.test_cases = tunnel_cases,
};

kunit_test_suite(tunnel_suite);
