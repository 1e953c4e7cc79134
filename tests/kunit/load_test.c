// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/load.c: the decaying counts of the stages each CPU
 * runs, and the rule that weighs a move. A count halves every half-life,
 * by whole half-lives however often it is added to, reads nothing after
 * 32 of them and never wraps; a reader that sees a stamp ahead of its
 * clock reads no decay; a stage counts once per half-life, settling at
 * twice what it adds. A stage leaves the CPU its units
 * arrive on only when another CPU ends less uneven by more than half the
 * stage: one stage never leaves an idle machine, and stages of equal
 * load spread until two CPUs' counts differ by one at most.
 */

#include <kunit/test.h>
#include <linux/jiffies.h>
#include <linux/limits.h>

#include "load.h"

static void load_halves(struct kunit *test)
{
	unsigned long h = cyph_load_half(), t = 1000;
	struct cyph_load l = { .stamp = t };

	cyph_load_add(&l, t, 64);
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, t), 64U);
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, t + h - 1), 64U);
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, t + h), 32U);
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, t + 5 * h), 2U);
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, t + 32 * h), 0U);
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, t + 1000 * h), 0U);
	/* A stamp its writer moved past this reader's clock: no decay. */
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, t - 1), 64U);
}

/* Adds more often than a half-life still decay, by whole half-lives. */
static void load_frequent_adds_decay(struct kunit *test)
{
	unsigned long h = cyph_load_half(), t = 5000, i;
	struct cyph_load l = { .stamp = t };

	cyph_load_add(&l, t, 64);
	for (i = 1; i <= 4 * h; i++)
		cyph_load_add(&l, t + i, 0);
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, t + 4 * h), 4U);
	KUNIT_EXPECT_EQ(test, l.stamp, t + 4 * h);
	/* Long idle: a fresh count from the next add. */
	cyph_load_add(&l, t + 100 * h, 3);
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, t + 100 * h), 3U);
}

/* A stage that releases all the time counts once per half-life. */
static void load_stage_counts_once(struct kunit *test)
{
	unsigned long h = cyph_load_half(), t = 9000, i;
	struct cyph_load l = { .stamp = t };
	unsigned int adds = 0;

	KUNIT_EXPECT_TRUE(test, cyph_load_fresh(&l, t));
	for (i = 0; i < 40 * h; i++) {
		if (cyph_load_fresh(&l, t + i)) {
			cyph_load_add(&l, t + i, CYPH_LOAD_STAGE);
			adds++;
		}
		KUNIT_EXPECT_FALSE(test, cyph_load_fresh(&l, t + i));
	}
	KUNIT_EXPECT_EQ(test, adds, 40U);
	/* x = x / 2 + 16 settles at 31 in integers: about twice. */
	KUNIT_EXPECT_GE(test, cyph_load_read(&l, t + 40 * h - 1),
			2 * CYPH_LOAD_STAGE - 1);
	KUNIT_EXPECT_TRUE(test, cyph_load_fresh(&l, t + 40 * h));
}

static void load_saturates(struct kunit *test)
{
	struct cyph_load l = { .stamp = 7 };

	cyph_load_add(&l, 7, U32_MAX - 1);
	cyph_load_add(&l, 7, 10);
	KUNIT_EXPECT_EQ(test, cyph_load_read(&l, 7), U32_MAX);
	KUNIT_EXPECT_FALSE(test, cyph_load_prefer(U32_MAX, U32_MAX, U32_MAX));
	KUNIT_EXPECT_TRUE(test, cyph_load_prefer(U32_MAX, 0, U32_MAX));
}

static void load_one_stage_stays(struct kunit *test)
{
	/* Alone on its CPU: nothing is left there without it. */
	KUNIT_EXPECT_FALSE(test, cyph_load_prefer(0, 0, 100));
	KUNIT_EXPECT_FALSE(test, cyph_load_prefer(0, 50, 100));
	/* Two alike on one CPU, none on the other: one of them goes. */
	KUNIT_EXPECT_TRUE(test, cyph_load_prefer(100, 0, 100));
	/* One each: neither. */
	KUNIT_EXPECT_FALSE(test, cyph_load_prefer(100, 100, 100));
	/* A new stage (no load yet) goes wherever less is released. */
	KUNIT_EXPECT_TRUE(test, cyph_load_prefer(1, 0, 0));
}

/* Stages of equal load, all on one CPU: they spread to within one. */
static void load_equal_stages_spread(struct kunit *test)
{
	const u32 u = 40;
	unsigned int a = 20, b = 0, moves = 0;

	/* Each round, a stage of the fuller CPU weighs the other one. */
	for (;;) {
		unsigned int *from = a >= b ? &a : &b, *to = a >= b ? &b : &a;

		if (!cyph_load_prefer((*from - 1) * u, *to * u, u))
			break;
		(*from)--;
		(*to)++;
		moves++;
		KUNIT_ASSERT_LE(test, moves, 20U);
	}
	KUNIT_EXPECT_EQ(test, a, 10U);
	KUNIT_EXPECT_EQ(test, b, 10U);
	KUNIT_EXPECT_EQ(test, moves, 10U);
	/* 21 stages: 11 and 10, and the 11th does not flip back and forth. */
	KUNIT_EXPECT_FALSE(test, cyph_load_prefer(10 * u, 10 * u, u));
}

static struct kunit_case load_test_cases[] = {
	KUNIT_CASE(load_halves),
	KUNIT_CASE(load_frequent_adds_decay),
	KUNIT_CASE(load_stage_counts_once),
	KUNIT_CASE(load_saturates),
	KUNIT_CASE(load_one_stage_stays),
	KUNIT_CASE(load_equal_stages_spread),
	{}
};

static struct kunit_suite load_test_suite = {
	.name = "cyphonic_load",
	.test_cases = load_test_cases,
};

kunit_test_suite(load_test_suite);
