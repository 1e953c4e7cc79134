// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/codel.c: CoDel's decision per unit leaving a
 * tunnel's FIFO in a crypt queue. A short wait never costs a drop, nor
 * does a tunnel's last unit however long it waited; a wait above target
 * for a whole interval costs one, then drops come closer together as the
 * square root of their count, stop once the wait is short again, and
 * resume near the last rate when it soon is not. Times are the caller's
 * (codel.h units), so the cases run a clock of their own, across the
 * u32 wrap too, and one read a little behind the enqueuer's.
 */

#include <kunit/test.h>
#include <linux/math.h>

#include "codel.h"

#define T	CYPH_CODEL_TARGET
#define I	CYPH_CODEL_INTERVAL
/* One pop every STEP; a unit waited WAIT (above target) unless told. */
#define STEP	(I / 100)
#define WAIT	(2 * T)

/* Pop every STEP from @now for @span, units waiting @wait; count drops. */
static unsigned int run(struct cyph_codel *c, u32 *now, u32 span, u32 wait,
			u32 *first)
{
	unsigned int drops = 0;
	u32 end = *now + span;

	for (; (s32)(end - *now) > 0; *now += STEP) {
		if (cyph_codel_pop(c, *now, *now - wait, false)) {
			if (!drops && first)
				*first = *now;
			drops++;
		}
	}
	return drops;
}

static void codel_short_wait(struct kunit *test)
{
	struct cyph_codel c;
	u32 now = 1;

	cyph_codel_init(&c);
	KUNIT_EXPECT_EQ(test, run(&c, &now, 10 * I, T - 1, NULL), 0U);
	KUNIT_EXPECT_FALSE(test, c.dropping);
}

static void codel_first_drop_after_interval(struct kunit *test)
{
	struct cyph_codel c;
	u32 now = 1000, start = now, first = 0;

	cyph_codel_init(&c);
	/* Above target, but not yet for a whole interval. */
	KUNIT_EXPECT_EQ(test, run(&c, &now, I - STEP, WAIT, NULL), 0U);
	KUNIT_EXPECT_GT(test, run(&c, &now, 2 * STEP, WAIT, &first), 0U);
	KUNIT_EXPECT_GE(test, first - start, I);
	KUNIT_EXPECT_TRUE(test, c.dropping);
	KUNIT_EXPECT_EQ(test, c.count, 1U);
}

static void codel_drops_speed_up(struct kunit *test)
{
	struct cyph_codel c;
	u32 now = 1, last = 0, gap, prev_gap = 2 * I;
	unsigned int n = 0;

	cyph_codel_init(&c);
	for (; n < 10; now += STEP / 10) {
		if (!cyph_codel_pop(&c, now, now - WAIT, false))
			continue;
		if (n++) {
			gap = now - last;
			/* interval / sqrt(count), to a pop's resolution */
			KUNIT_EXPECT_LE(test, gap, prev_gap);
			KUNIT_EXPECT_LE(test, gap,
					I / int_sqrt(n - 1) + STEP / 10);
			prev_gap = gap;
		}
		last = now;
	}
	KUNIT_EXPECT_EQ(test, c.count, 10U);
	/* The tenth gap: I / sqrt(9) = I / 3. */
	KUNIT_EXPECT_LE(test, prev_gap, I / 3 + STEP / 10);
	KUNIT_EXPECT_GE(test, prev_gap, I / 3 - STEP / 10);
}

/* 1000 pops, one every STEP, of units that waited @wait: none dropped. */
static void expect_kept(struct kunit *test, struct cyph_codel *c, u32 *now,
			s32 wait, bool last)
{
	unsigned int i;

	for (i = 0; i < 1000; i++, *now += STEP)
		KUNIT_EXPECT_FALSE(test, cyph_codel_pop(c, *now, *now - wait,
							last));
}

static void codel_last_unit_kept(struct kunit *test)
{
	struct cyph_codel c;
	u32 now = 1;

	cyph_codel_init(&c);
	/* One unit at a time, each waiting long for the others' turns. */
	expect_kept(test, &c, &now, 10 * T, true);
	/* And it resets the clock: a queue that forms again waits anew. */
	KUNIT_EXPECT_EQ(test, run(&c, &now, I - STEP, WAIT, NULL), 0U);
}

static void codel_stops_when_short(struct kunit *test)
{
	struct cyph_codel c;
	u32 now = 1;

	cyph_codel_init(&c);
	KUNIT_EXPECT_GT(test, run(&c, &now, 3 * I, WAIT, NULL), 1U);
	KUNIT_EXPECT_TRUE(test, c.dropping);
	KUNIT_EXPECT_FALSE(test, cyph_codel_pop(&c, now, now, false));
	KUNIT_EXPECT_FALSE(test, c.dropping);
	KUNIT_EXPECT_EQ(test, run(&c, &now, 10 * I, T / 2, NULL), 0U);
}

static void codel_resumes_rate(struct kunit *test)
{
	struct cyph_codel c;
	u32 now = 1, count;

	cyph_codel_init(&c);
	run(&c, &now, 5 * I, WAIT, NULL);
	count = c.count;
	KUNIT_ASSERT_GT(test, count, 2U);
	/* Short for a moment, then long again within 16 intervals. */
	run(&c, &now, I / 2, 0, NULL);
	KUNIT_EXPECT_FALSE(test, c.dropping);
	run(&c, &now, 2 * I, WAIT, NULL);
	KUNIT_EXPECT_TRUE(test, c.dropping);
	/* Resumed from the drops of the last state, not from one. */
	KUNIT_EXPECT_GE(test, c.count, count - 1);

	/* Long after: from one again. */
	run(&c, &now, 40 * I, 0, NULL);
	run(&c, &now, I + 2 * STEP, WAIT, NULL);
	KUNIT_EXPECT_TRUE(test, c.dropping);
	KUNIT_EXPECT_EQ(test, c.count, 1U);
}

static void codel_clock_behind(struct kunit *test)
{
	struct cyph_codel c;
	u32 now = 1000;

	cyph_codel_init(&c);
	/* Queued "after" now (another CPU's clock a little ahead): no wait. */
	expect_kept(test, &c, &now, -50, false);
	KUNIT_EXPECT_EQ(test, c.first_above, 0U);
}

static void codel_clock_wraps(struct kunit *test)
{
	struct cyph_codel c;
	u32 now = (u32)-(I / 2), first = 0, start = now;

	cyph_codel_init(&c);
	KUNIT_EXPECT_GT(test, run(&c, &now, 2 * I, WAIT, &first), 0U);
	KUNIT_EXPECT_GE(test, first - start, I);
	KUNIT_EXPECT_LT(test, first - start, I + 2 * STEP);
}

static struct kunit_case codel_cases[] = {
	KUNIT_CASE(codel_short_wait),
	KUNIT_CASE(codel_first_drop_after_interval),
	KUNIT_CASE(codel_drops_speed_up),
	KUNIT_CASE(codel_last_unit_kept),
	KUNIT_CASE(codel_stops_when_short),
	KUNIT_CASE(codel_resumes_rate),
	KUNIT_CASE(codel_clock_behind),
	KUNIT_CASE(codel_clock_wraps),
	{}
};

static struct kunit_suite codel_suite = {
	.name = "cyphonic_codel",
	.test_cases = codel_cases,
};

kunit_test_suite(codel_suite);
