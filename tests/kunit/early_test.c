// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: DATA held for tunnels being set up (kmod/early.c). Only indices
 * user space expects are held (never 0), at most CYPHONIC_EARLY_PACKETS
 * each; a release hands them to RX (the cyph_rx_held() double counts
 * them); a full table reuses the slot ending first and drops what it
 * held; an ended expectation is swept by the next; a purge drops
 * everything.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "device.h"
#include "early.h"
#include "kunit_stubs.h"
#include "test_dev.h"

static int early_test_init(struct kunit *test)
{
	struct cyph_device *cd = cyph_test_dev_new(test, "cyphe%d");

	if (!cd)
		return -ENOMEM;
	test->priv = cd;
	cyph_stub_reset();
	return 0;
}

static void early_test_exit(struct kunit *test)
{
	struct cyph_device *cd = test->priv;

	cyph_early_purge(cd);
	cyph_test_dev_free(cd);
}

static int expect(struct cyph_device *cd, u32 index)
{
	struct netlink_ext_ack extack = {};
	int err;

	mutex_lock(&cd->lock);
	err = cyph_early_expect(cd, index, &extack);
	mutex_unlock(&cd->lock);
	return err;
}

static void release(struct cyph_device *cd, u32 index)
{
	mutex_lock(&cd->lock);
	cyph_early_release(cd, index);
	mutex_unlock(&cd->lock);
}

/* Offers a fresh packet for @index as RX would (softirqs off); held? */
static bool offer(struct kunit *test, struct cyph_device *cd, u32 index)
{
	struct sk_buff *skb = alloc_skb(128, GFP_KERNEL);
	bool held;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_put(skb, 64);
	local_bh_disable();
	held = cyph_early_hold(cd, index, skb);
	local_bh_enable();
	if (!held)
		kfree_skb(skb);
	return held;
}

static void early_only_expected(struct kunit *test)
{
	struct cyph_device *cd = test->priv;

	KUNIT_EXPECT_FALSE(test, offer(test, cd, 7));
	KUNIT_EXPECT_EQ(test, expect(cd, 7), 0);
	KUNIT_EXPECT_FALSE(test, offer(test, cd, 8));
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 7));
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_RX_EARLY_HELD), 1ULL);
}

static void early_per_index_bound(struct kunit *test)
{
	struct cyph_device *cd = test->priv;
	int i;

	KUNIT_ASSERT_EQ(test, expect(cd, 7), 0);
	for (i = 0; i < CYPHONIC_EARLY_PACKETS; i++)
		KUNIT_EXPECT_TRUE(test, offer(test, cd, 7));
	KUNIT_EXPECT_FALSE(test, offer(test, cd, 7));
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_RX_EARLY_HELD),
			(u64)CYPHONIC_EARLY_PACKETS);
	/* Expecting it again keeps what it holds. */
	KUNIT_EXPECT_EQ(test, expect(cd, 7), 0);
	release(cd, 7);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.rx_held),
			CYPHONIC_EARLY_PACKETS);
}

static void early_release_once(struct kunit *test)
{
	struct cyph_device *cd = test->priv;

	KUNIT_ASSERT_EQ(test, expect(cd, 9), 0);
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 9));
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 9));
	release(cd, 8);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.rx_held), 0);
	release(cd, 9);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.rx_held), 2);
	/* The slot is free: nothing more is held for the index. */
	KUNIT_EXPECT_FALSE(test, offer(test, cd, 9));
	release(cd, 9);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.rx_held), 2);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT), 0ULL);
}

static void early_full_table(struct kunit *test)
{
	struct cyph_device *cd = test->priv;
	u32 i;

	KUNIT_ASSERT_EQ(test, expect(cd, 100), 0);
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 100));
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 100));
	for (i = 1; i < CYPHONIC_EARLY_INDICES; i++) {
		/* later expectations end later */
		msleep(20);
		KUNIT_ASSERT_EQ(test, expect(cd, 100 + i), 0);
	}
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT), 0ULL);
	msleep(20);
	KUNIT_ASSERT_EQ(test, expect(cd, 200), 0);
	/* Index 100 ended first: its slot went to 200, its packets dropped. */
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT), 2ULL);
	KUNIT_EXPECT_FALSE(test, offer(test, cd, 100));
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 101));
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 200));
}

static void early_purge_drops(struct kunit *test)
{
	struct cyph_device *cd = test->priv;

	KUNIT_ASSERT_EQ(test, expect(cd, 5), 0);
	KUNIT_ASSERT_EQ(test, expect(cd, 6), 0);
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 5));
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 6));
	cyph_early_purge(cd);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT), 2ULL);
	KUNIT_EXPECT_FALSE(test, offer(test, cd, 5));
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.rx_held), 0);
}

/* A released slot is free: receiver index 0 matches nothing. */
static void early_index_zero(struct kunit *test)
{
	struct cyph_device *cd = test->priv;

	KUNIT_EXPECT_FALSE(test, offer(test, cd, 0));
	KUNIT_ASSERT_EQ(test, expect(cd, 7), 0);
	release(cd, 7);
	KUNIT_EXPECT_FALSE(test, offer(test, cd, 0));
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_RX_EARLY_HELD), 0ULL);
}

/* An ended expectation holds nothing more; the next one sweeps it. */
static void early_ended_swept(struct kunit *test)
{
	struct cyph_device *cd = test->priv;

	KUNIT_ASSERT_EQ(test, expect(cd, 5), 0);
	KUNIT_EXPECT_TRUE(test, offer(test, cd, 5));
	msleep(CYPHONIC_EARLY_TIMEOUT_MS + 200);
	KUNIT_EXPECT_FALSE(test, offer(test, cd, 5));
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT), 0ULL);
	KUNIT_ASSERT_EQ(test, expect(cd, 6), 0);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(cd, CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT), 1ULL);
	release(cd, 5);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.rx_held), 0);
}

static struct kunit_case early_cases[] = {
	KUNIT_CASE(early_only_expected),
	KUNIT_CASE(early_per_index_bound),
	KUNIT_CASE(early_release_once),
	KUNIT_CASE(early_full_table),
	KUNIT_CASE(early_purge_drops),
	KUNIT_CASE(early_index_zero),
	KUNIT_CASE(early_ended_swept),
	{}
};

static struct kunit_suite early_suite = {
	.name = "cyphonic_early",
	.init = early_test_init,
	.exit = early_test_exit,
	.test_cases = early_cases,
};

kunit_test_suite(early_suite);
