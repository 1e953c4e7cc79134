// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/sched.c: deficit round robin over the tunnels in a
 * crypt queue. Tunnels with units waiting get the same bytes of crypt work
 * per round whatever their units' sizes and however many they queued; a
 * tunnel that empties keeps its debt but no credit; one that comes back
 * waits behind those already waiting.
 */

#include <kunit/test.h>

#include "sched.h"

#define Q	CYPH_DRR_QUANTUM

/* A tunnel's queue as the test sees it: @left units of @cost bytes. */
struct sim {
	struct cyph_drr_flow flow;
	unsigned int left;
	unsigned int cost;
	u64 served;		/* bytes taken */
	unsigned int units;	/* units taken */
};

static void sim_add(struct cyph_drr *d, struct sim *s, unsigned int units,
		    unsigned int cost)
{
	s->left += units;
	s->cost = cost;
	if (units)
		cyph_drr_wake(d, &s->flow);
}

/* Take one unit as the crypt queue does; return whose, or NULL. */
static struct sim *take(struct cyph_drr *d)
{
	struct cyph_drr_flow *f = cyph_drr_next(d);
	struct sim *s;

	if (!f)
		return NULL;
	s = container_of(f, struct sim, flow);
	s->left--;
	s->served += s->cost;
	s->units++;
	cyph_drr_charge(f, s->cost, !s->left);
	return s;
}

/* The next takes are from these flows ('0'..'9': s[i], '-': none). */
static void expect_order(struct kunit *test, struct cyph_drr *d,
			 struct sim *s, const char *order)
{
	for (; *order; order++)
		KUNIT_EXPECT_PTR_EQ(test, take(d),
				    *order == '-' ? NULL : &s[*order - '0']);
}

static void sims_init(struct sim *s, unsigned int n)
{
	unsigned int i;

	memset(s, 0, n * sizeof(*s));
	for (i = 0; i < n; i++)
		cyph_drr_flow_init(&s[i].flow);
}

static void sched_empty(struct kunit *test)
{
	struct cyph_drr d;
	struct sim s[1];

	cyph_drr_init(&d, Q);
	sims_init(s, 1);
	expect_order(test, &d, s, "-");
	sim_add(&d, &s[0], 1, 100);
	expect_order(test, &d, s, "0");
	KUNIT_EXPECT_FALSE(test, cyph_drr_flow_active(&s[0].flow));
	expect_order(test, &d, s, "-");
	/* Waking twice does not put a flow in the round twice. */
	sim_add(&d, &s[0], 1, 100);
	sim_add(&d, &s[0], 1, 100);
	expect_order(test, &d, s, "00-");
}

/* Full-size packets: turns alternate, a quantum's worth each. */
static void sched_turns(struct kunit *test)
{
	struct cyph_drr d;
	struct sim s[2];
	unsigned int i;

	cyph_drr_init(&d, 3000);
	sims_init(s, 2);
	/* The first tunnel has queued far more, and first. */
	sim_add(&d, &s[0], 100, 1500);
	sim_add(&d, &s[1], 10, 1500);
	expect_order(test, &d, s, "00110011001100110011");
	/* The second is done: the first has the workers to itself. */
	KUNIT_EXPECT_FALSE(test, cyph_drr_flow_active(&s[1].flow));
	for (i = 0; i < 90; i++)
		expect_order(test, &d, s, "0");
	expect_order(test, &d, s, "-");
}

/* GSO bursts against single packets: equal bytes, not equal units. */
static void sched_bytes_not_units(struct kunit *test)
{
	struct cyph_drr d;
	struct sim s[2];
	unsigned int i;
	s64 diff;

	cyph_drr_init(&d, Q);
	sims_init(s, 2);
	sim_add(&d, &s[0], 1000, 64000);
	sim_add(&d, &s[1], 100000, 1400);
	for (i = 0; i < 20000; i++)
		take(&d);
	diff = (s64)s[0].served - (s64)s[1].served;
	/* Apart by at most one burst and a quantum at any time. */
	KUNIT_EXPECT_LE(test, abs(diff), 64000 + Q);
	KUNIT_EXPECT_GT(test, s[1].units, 20 * s[0].units);
}

/* Twenty backlogged tunnels of mixed sizes: each within a round's bytes. */
static void sched_many(struct kunit *test)
{
	struct cyph_drr d;
	struct sim *s;
	unsigned int i, n = 20;
	u64 lo = U64_MAX, hi = 0;

	s = kunit_kcalloc(test, n, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	cyph_drr_init(&d, Q);
	sims_init(s, n);
	for (i = 0; i < n; i++)
		sim_add(&d, &s[i], 1000000, 100 + 997 * i % 9000);
	for (i = 0; i < 50000; i++)
		take(&d);
	for (i = 0; i < n; i++) {
		lo = min(lo, s[i].served);
		hi = max(hi, s[i].served);
	}
	KUNIT_EXPECT_LE(test, hi - lo, (u64)(9100 + Q));
}

/*
 * A tunnel that empties after each large unit keeps its debt, so it gets
 * no more than one that stays backlogged; and idle time earns no credit.
 */
static void sched_debt_no_credit(struct kunit *test)
{
	struct cyph_drr d;
	struct sim s[2];
	unsigned int i;

	cyph_drr_init(&d, Q);
	sims_init(s, 2);
	sim_add(&d, &s[1], 1000000, 1000);
	for (i = 0; i < 200; i++) {
		/* One 30 KB burst, refilled as soon as it has left. */
		if (!cyph_drr_flow_active(&s[0].flow))
			sim_add(&d, &s[0], 1, 30000);
		take(&d);
	}
	KUNIT_EXPECT_LE(test, s[0].served, s[1].served + 30000 + Q);

	/* Long idle: on return it gets one quantum's turn, not a backlog. */
	cyph_drr_init(&d, Q);
	sims_init(s, 2);
	sim_add(&d, &s[0], 1, 100);
	take(&d);
	KUNIT_EXPECT_EQ(test, s[0].flow.deficit, 0);
	sim_add(&d, &s[1], 1000, 1000);
	for (i = 0; i < 10; i++)
		take(&d);
	sim_add(&d, &s[0], 1000, 1000);
	s[0].units = 0;
	s[1].units = 0;
	for (i = 0; i < 8; i++)
		take(&d);
	/* Turns of three or four units each, from its first turn on. */
	KUNIT_EXPECT_LE(test, s[0].units, 4U);
	for (i = 0; i < 92; i++)
		take(&d);
	KUNIT_EXPECT_LE(test, abs((int)s[0].units - (int)s[1].units), 4);
}

/* A tunnel that gets units again waits behind those already waiting. */
static void sched_join_at_back(struct kunit *test)
{
	struct cyph_drr d;
	struct sim s[3];

	cyph_drr_init(&d, 1000);
	sims_init(s, 3);
	sim_add(&d, &s[0], 10, 1000);
	sim_add(&d, &s[1], 10, 1000);
	expect_order(test, &d, s, "0");
	/* The third comes after the second's turn, which was due already. */
	sim_add(&d, &s[2], 10, 1000);
	expect_order(test, &d, s, "1012012");
}

static struct kunit_case sched_cases[] = {
	KUNIT_CASE(sched_empty),
	KUNIT_CASE(sched_turns),
	KUNIT_CASE(sched_bytes_not_units),
	KUNIT_CASE(sched_many),
	KUNIT_CASE(sched_debt_no_credit),
	KUNIT_CASE(sched_join_at_back),
	{}
};

static struct kunit_suite sched_suite = {
	.name = "cyphonic_sched",
	.test_cases = sched_cases,
};

kunit_test_suite(sched_suite);
