// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/replay.c, the anti-replay window.
 *
 * Definitions used below: W = CYPHONIC_REPLAY_WINDOW; "highest" is the
 * highest accepted counter. A counter is accepted iff it is below the
 * reject limit, was never accepted before, and is > highest - W.
 */

#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#include "replay.h"

#define W		((u64)CYPHONIC_REPLAY_WINDOW)
#define RING		((u64)CYPH_REPLAY_BITS)

static int replay_test_init(struct kunit *test)
{
	struct cyph_replay *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	cyph_replay_init(r);
	test->priv = r;
	return 0;
}

static void replay_first_and_duplicate(struct kunit *test)
{
	struct cyph_replay *r = test->priv;

	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), 0ULL);
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, 0));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, 0));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, 0));
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), 1ULL);
}

/* The first packet seen need not be counter 0 (packets before it lost). */
static void replay_first_is_not_zero(struct kunit *test)
{
	struct cyph_replay *r = test->priv;

	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, 1000));
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), 1000ULL);
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, 0));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, 999));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, 1000));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, 999));
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), 1000ULL);
}

static void replay_in_order(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	u64 c, bad = U64_MAX;

	for (c = 0; c < 3 * RING; c++)
		if (!cyph_replay_update(r, c) && bad == U64_MAX)
			bad = c;
	KUNIT_EXPECT_EQ_MSG(test, bad, U64_MAX, "in-order counter refused");
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), 3 * RING - 1);
}

/* Out of order inside the window: each accepted once; highest unchanged. */
static void replay_in_window_out_of_order(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	u64 top = 10 * W + 17, c;
	unsigned int refused = 0, dup_accepted = 0;

	KUNIT_ASSERT_TRUE(test, cyph_replay_update(r, top));
	/* Every other counter of the window, downwards, then the rest. */
	for (c = top - 1; c > top - W; c -= 2)
		refused += !cyph_replay_update(r, c);
	for (c = top - 2; c > top - W; c -= 2)
		refused += !cyph_replay_update(r, c);
	for (c = top - W + 1; c <= top; c++)
		dup_accepted += cyph_replay_update(r, c);
	KUNIT_EXPECT_EQ(test, refused, 0U);
	KUNIT_EXPECT_EQ(test, dup_accepted, 0U);
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), top);
}

/* The window's lower edge: highest - (W - 1) in, highest - W out. */
static void replay_window_edges(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	u64 top = 5 * W + 3;

	KUNIT_ASSERT_TRUE(test, cyph_replay_update(r, top));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, top - W));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, top - W + 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, top - W + 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, top - W - 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, 0));
	/* One step forward moves the edge by one. */
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, top + 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, top - W + 1));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, top - W + 2));
}

/* Counters on both sides of a bitmap block (BITS_PER_LONG) boundary. */
static void replay_block_boundaries(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	u64 b = 7 * BITS_PER_LONG;

	/* Counter c lives in bit c + 1, so c = b - 1 starts a block. */
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, b - 2));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, b));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, b - 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, b - 2));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, b - 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, b));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, b + BITS_PER_LONG));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, b + 1));
}

/* A jump far ahead forgets the old window but not the new one. */
static void replay_far_ahead(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	u64 far = 1000000;

	KUNIT_ASSERT_TRUE(test, cyph_replay_update(r, 5));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, far));
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), far);
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, 5));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, 6));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, far - W));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, far - 1));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, far - W + 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, far));
	/* Near the top of the counter space. */
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, U64_MAX >> 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, far));
}

/*
 * Wrap of the bitmap ring: after a full window of counters, jumps of whole
 * ring sizes land on bits that were set before. They must have been
 * cleared, or fresh packets would be refused as replays.
 */
static void replay_ring_wrap(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	unsigned int refused = 0, dup = 0;
	u64 c, base;

	for (c = 0; c < W; c++)
		refused += !cyph_replay_update(r, c);
	for (base = RING; base <= 4 * RING; base += RING) {
		/* Highest first, then the window below it. */
		refused += !cyph_replay_update(r, base + W - 1);
		for (c = base; c < base + W - 1; c++)
			refused += !cyph_replay_update(r, c);
		for (c = base; c < base + W; c++)
			dup += cyph_replay_update(r, c);
	}
	KUNIT_EXPECT_EQ(test, refused, 0U);
	KUNIT_EXPECT_EQ(test, dup, 0U);
	/* A jump of less than a ring but more than a window. */
	base = 4 * RING + W - 1 + W + BITS_PER_LONG / 2;
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, base));
	for (c = base - W + 1; c < base; c++)
		refused += !cyph_replay_update(r, c);
	KUNIT_EXPECT_EQ(test, refused, 0U);
}

static void replay_reject_limit(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	u64 lim = CYPHONIC_REJECT_AFTER_MESSAGES;

	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, lim));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, U64_MAX));
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), 0ULL);
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, lim - 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, lim - 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_update(r, lim));
	KUNIT_EXPECT_TRUE(test, cyph_replay_update(r, lim - 2));
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), lim - 1);
}

/* The locked entry point the receive path uses behaves the same. */
static void replay_check_locked(struct kunit *test)
{
	struct cyph_replay *r = test->priv;

	KUNIT_EXPECT_TRUE(test, cyph_replay_check(r, 42));
	KUNIT_EXPECT_FALSE(test, cyph_replay_check(r, 42));
	KUNIT_EXPECT_TRUE(test, cyph_replay_check(r, 41));
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), 42ULL);
}

/*
 * The lockless pre-check never refuses what update() would accept, and
 * refuses what it certainly would not: seen, too old, at the limit.
 */
static void replay_seen_precheck(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	u64 top = 3 * W + 17;

	KUNIT_EXPECT_FALSE(test, cyph_replay_seen(r, 0));
	KUNIT_EXPECT_TRUE(test, cyph_replay_seen(r, CYPHONIC_REJECT_AFTER_MESSAGES));
	KUNIT_ASSERT_TRUE(test, cyph_replay_update(r, top));
	KUNIT_ASSERT_TRUE(test, cyph_replay_update(r, top - 5));
	KUNIT_EXPECT_TRUE(test, cyph_replay_seen(r, top));
	KUNIT_EXPECT_TRUE(test, cyph_replay_seen(r, top - 5));
	KUNIT_EXPECT_FALSE(test, cyph_replay_seen(r, top - 4));
	KUNIT_EXPECT_FALSE(test, cyph_replay_seen(r, top + 1));
	KUNIT_EXPECT_FALSE(test, cyph_replay_seen(r, top + RING));
	KUNIT_EXPECT_FALSE(test, cyph_replay_seen(r, top - W + 1));
	KUNIT_EXPECT_TRUE(test, cyph_replay_seen(r, top - W));
	KUNIT_EXPECT_TRUE(test, cyph_replay_seen(r, 0));
}

/* Agrees with update() on random counters: seen implies refused. */
static void replay_seen_vs_update(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	struct rnd_state rs;
	u64 c, top = 0;
	int i, refused = 0;
	u32 x;

	prandom_seed_state(&rs, 42);
	for (i = 0; i < 20000; i++) {
		/* Mostly back inside (or just below) the window, often repeats. */
		x = prandom_u32_state(&rs);
		if (x % 10 == 0)
			c = top + 1 + x % 4;
		else
			c = top - min_t(u64, top, (x >> 4) % (W + 64));
		if (cyph_replay_seen(r, c)) {
			refused++;
			if (cyph_replay_update(r, c)) {
				KUNIT_FAIL(test, "counter %llu pre-refused but fresh", c);
				return;
			}
		} else if (cyph_replay_update(r, c) && c > top) {
			top = c;
		}
	}
	/* The random walk revisits counters: the pre-check caught some. */
	KUNIT_EXPECT_GT(test, refused, 1000);
}

/*
 * Random counters against a model written differently: a table of the
 * last counter accepted in each slot (counter % 2W). Two counters of one
 * window never share a slot, so "seen" is exact where it matters. The
 * counters are mostly slightly ahead, often back just below the top (where
 * most are taken) or anywhere down to below the window's edge, sometimes
 * repeats or far jumps.
 */
#define MODEL_SLOTS	(2 * CYPHONIC_REPLAY_WINDOW)
#define MODEL_STEPS	30000

static u64 replay_next_counter(struct rnd_state *rs, s64 highest, u64 last)
{
	u32 pick = prandom_u32_state(rs) % 100, x = prandom_u32_state(rs);
	s64 c;

	if (pick < 45)
		c = highest + 1 + x % 8;
	else if (pick < 65)
		c = highest - (s64)(x % BITS_PER_LONG);
	else if (pick < 85)
		c = highest - (s64)(x % (W + 2 * BITS_PER_LONG));
	else if (pick < 95)
		c = last;
	else
		c = highest + x % (2 * RING);
	return max_t(s64, c, 0);
}

static void replay_random_vs_model(struct kunit *test)
{
	struct cyph_replay *r = test->priv;
	unsigned int accepted = 0;
	struct rnd_state rs;
	s64 highest = -1;
	u64 c = 0, *slot;
	int i;

	slot = kunit_kcalloc(test, MODEL_SLOTS, sizeof(*slot), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, slot);
	prandom_seed_state(&rs, 0xc7f0a1c5ULL);
	for (i = 0; i < MODEL_STEPS; i++) {
		bool want, got;

		c = replay_next_counter(&rs, highest, c);
		/* slot holds counter + 1, so 0 means empty. */
		want = slot[c % MODEL_SLOTS] != c + 1 && (s64)(c + W) > highest;
		got = cyph_replay_update(r, c);
		if (want != got) {
			KUNIT_FAIL(test, "step %d counter %llu highest %lld: got %d want %d",
				   i, c, highest, got, want);
			return;
		}
		if (got) {
			slot[c % MODEL_SLOTS] = c + 1;
			highest = max_t(s64, highest, c);
			accepted++;
		}
	}
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(r), (u64)highest);
	/* Both outcomes must be common, or the test proves little. */
	KUNIT_EXPECT_GT(test, accepted, MODEL_STEPS / 4U);
	KUNIT_EXPECT_LT(test, accepted, MODEL_STEPS * 9U / 10);
	kunit_info(test, "%d steps, %u accepted, highest %lld", i, accepted,
		   highest);
}

static struct kunit_case replay_cases[] = {
	KUNIT_CASE(replay_first_and_duplicate),
	KUNIT_CASE(replay_first_is_not_zero),
	KUNIT_CASE(replay_in_order),
	KUNIT_CASE(replay_in_window_out_of_order),
	KUNIT_CASE(replay_window_edges),
	KUNIT_CASE(replay_block_boundaries),
	KUNIT_CASE(replay_far_ahead),
	KUNIT_CASE(replay_ring_wrap),
	KUNIT_CASE(replay_reject_limit),
	KUNIT_CASE(replay_check_locked),
	KUNIT_CASE(replay_seen_precheck),
	KUNIT_CASE(replay_seen_vs_update),
	KUNIT_CASE(replay_random_vs_model),
	{}
};

static struct kunit_suite replay_suite = {
	.name = "cyphonic_replay",
	.init = replay_test_init,
	.test_cases = replay_cases,
};

kunit_test_suite(replay_suite);
