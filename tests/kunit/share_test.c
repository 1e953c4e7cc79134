// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/share.c: one tunnel's share of a device queue. A
 * busy tunnel alone may use most of the queue but not all of it; once
 * others have units waiting it is held to its share, and an idle tunnel's
 * first unit always gets in.
 */

#include <kunit/test.h>
#include <linux/kthread.h>

#include "share.h"
#include "test_cpus.h"

#define LEN	1024U

/* Take units for @mine until refused or @max taken; return how many. */
static unsigned int take_all(struct cyph_share *sh, atomic_t *mine,
			     unsigned int max)
{
	unsigned int n = 0;

	while (n < max && cyph_share_take(sh, mine))
		n++;
	return n;
}

static void put_n(struct cyph_share *sh, atomic_t *mine, unsigned int n)
{
	while (n--)
		cyph_share_put(sh, mine);
}

static void share_limits(struct kunit *test)
{
	struct cyph_share sh;

	cyph_share_init(&sh, LEN);
	KUNIT_EXPECT_EQ(test, cyph_share_limit(&sh, 0), LEN - LEN / 8);
	KUNIT_EXPECT_EQ(test, cyph_share_limit(&sh, 1), LEN - LEN / 8);
	KUNIT_EXPECT_EQ(test, cyph_share_limit(&sh, 2), LEN / 3);
	KUNIT_EXPECT_EQ(test, cyph_share_limit(&sh, 3), LEN / 4);
	KUNIT_EXPECT_EQ(test, cyph_share_limit(&sh, 1000), (unsigned int)CYPH_SHARE_MIN);
}

/* Alone, a tunnel keeps an eighth of the queue free for the others. */
static void share_alone(struct kunit *test)
{
	struct cyph_share sh;
	atomic_t a = ATOMIC_INIT(0);

	cyph_share_init(&sh, LEN);
	KUNIT_EXPECT_EQ(test, take_all(&sh, &a, 2 * LEN), LEN - LEN / 8);
	KUNIT_EXPECT_EQ(test, atomic_read(&a), (int)(LEN - LEN / 8));
	KUNIT_EXPECT_EQ(test, atomic_read(&sh.active), 1);
	put_n(&sh, &a, 10);
	KUNIT_EXPECT_EQ(test, take_all(&sh, &a, 2 * LEN), 10U);
	put_n(&sh, &a, LEN - LEN / 8);
	KUNIT_EXPECT_EQ(test, atomic_read(&a), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&sh.active), 0);
}

/* A flood cannot keep a second tunnel out, and is held once it waits. */
static void share_flood_and_ping(struct kunit *test)
{
	struct cyph_share sh;
	atomic_t flood = ATOMIC_INIT(0), ping = ATOMIC_INIT(0);
	unsigned int held;

	cyph_share_init(&sh, LEN);
	held = take_all(&sh, &flood, 2 * LEN);
	/* The ping's first unit gets in however much the flood holds. */
	KUNIT_EXPECT_TRUE(test, cyph_share_take(&sh, &ping));
	KUNIT_EXPECT_EQ(test, atomic_read(&sh.active), 2);
	/* While the ping waits, the flood gets nothing more... */
	KUNIT_EXPECT_FALSE(test, cyph_share_take(&sh, &flood));
	KUNIT_EXPECT_EQ(test, atomic_read(&flood), (int)held);
	/* ...until it is back under its share of two users. */
	put_n(&sh, &flood, held - LEN / 3);
	KUNIT_EXPECT_FALSE(test, cyph_share_take(&sh, &flood));
	cyph_share_put(&sh, &flood);
	KUNIT_EXPECT_TRUE(test, cyph_share_take(&sh, &flood));
	/* The second tunnel may grow to the same share. */
	KUNIT_EXPECT_EQ(test, 1 + take_all(&sh, &ping, 2 * LEN), LEN / 3);
	/* Both together leave room for a third tunnel's first unit. */
	KUNIT_EXPECT_LT(test, atomic_read(&flood) + atomic_read(&ping), (int)LEN);
	/* The ping's units leave: the flood is alone again. */
	put_n(&sh, &ping, LEN / 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&sh.active), 1);
	KUNIT_EXPECT_GT(test, take_all(&sh, &flood, 2 * LEN), 0U);
	put_n(&sh, &flood, atomic_read(&flood));
	KUNIT_EXPECT_EQ(test, atomic_read(&sh.active), 0);
}

/* Many tunnels: each keeps at least CYPH_SHARE_MIN. */
static void share_many(struct kunit *test)
{
	struct cyph_share sh;
	atomic_t *u;
	unsigned int i, n = 200, got = 0;

	u = kunit_kcalloc(test, n, sizeof(*u), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, u);
	cyph_share_init(&sh, LEN);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE(test, cyph_share_take(&sh, &u[i]));
	KUNIT_EXPECT_EQ(test, atomic_read(&sh.active), (int)n);
	for (i = 0; i < n; i++)
		got += 1 + take_all(&sh, &u[i], LEN);
	KUNIT_EXPECT_EQ(test, got, n * CYPH_SHARE_MIN);
	for (i = 0; i < n; i++)
		put_n(&sh, &u[i], atomic_read(&u[i]));
	KUNIT_EXPECT_EQ(test, atomic_read(&sh.active), 0);
}

/*
 * A producer takes units on this CPU while a worker on the other puts
 * them back, as the device queues do. With a queue of one unit every
 * second take is refused, and a put landing between the refused take's
 * increment and its undo leaves the undo to end the user's last unit:
 * @active must still come back to zero. (An undo that only decremented
 * the user's count left @active raised for good.)
 */
struct share_race {
	struct cyph_share sh;
	atomic_t mine;
	atomic_t held;		/* units taken and not yet put */
	bool stop;
};

static int share_race_worker(void *arg)
{
	struct share_race *r = arg;

	while (!READ_ONCE(r->stop)) {
		if (atomic_dec_if_positive(&r->held) >= 0)
			cyph_share_put(&r->sh, &r->mine);
		else
			cond_resched();	/* one CPU: let the producer on */
	}
	while (!kthread_should_stop())
		schedule_timeout_idle(1);
	return 0;
}

static void share_concurrent(struct kunit *test)
{
	struct share_race *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	unsigned long end = jiffies + 2 * HZ, refused = 0, taken = 0, i;
	struct task_struct *t;

	KUNIT_ASSERT_NOT_NULL(test, r);
	cyph_share_init(&r->sh, 1);
	t = kthread_create(share_race_worker, r, "cyph_kunit_share");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	cyph_test_run_beside(t);
	for (i = 1; time_before(jiffies, end); i++) {
		if (cyph_share_take(&r->sh, &r->mine)) {
			atomic_inc(&r->held);
			taken++;
		} else {
			refused++;
		}
		if (!(i % 1024))
			cond_resched();
	}
	WRITE_ONCE(r->stop, true);
	kthread_stop(t);
	cyph_test_unpin();
	while (atomic_dec_if_positive(&r->held) >= 0)
		cyph_share_put(&r->sh, &r->mine);
	kunit_info(test, "%lu units taken, %lu refused", taken, refused);
	KUNIT_EXPECT_GT(test, refused, 0UL);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->mine), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->sh.active), 0);
}

static struct kunit_case share_cases[] = {
	KUNIT_CASE(share_limits),
	KUNIT_CASE(share_alone),
	KUNIT_CASE(share_flood_and_ping),
	KUNIT_CASE(share_many),
	KUNIT_CASE(share_concurrent),
	{}
};

static struct kunit_suite share_suite = {
	.name = "cyphonic_share",
	.test_cases = share_cases,
};

kunit_test_suite(share_suite);
