// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/ring.c, the reorder ring: items leave strictly in
 * the order their sequence numbers were reserved, whatever order they were
 * completed in; a full ring refuses to reserve; numbers wrap at 2^32.
 *
 * Items are struct ritem from a small pool, picked by sequence number, and
 * carry the number they were completed for, so a popped item names exactly
 * which number it belongs to. The ring never dereferences them.
 */

#include <kunit/test.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "ring.h"
#include "test_cpus.h"

/* Larger than every ring below, a power of two so that it divides 2^32. */
#define POOL		256

struct ritem {
	u32 seq;
	u32 check;	/* a function of seq, written before the completion */
};

struct renv {
	struct cyph_ring ring;
	struct ritem *items;
};

static u32 check_of(u32 seq)
{
	return (seq * 0x9e3779b9U) ^ 0x5a5a5a5aU;
}

static int ring_test_init(struct kunit *test)
{
	struct renv *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, env);
	env->items = kunit_kcalloc(test, POOL, sizeof(*env->items), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, env->items);
	test->priv = env;
	return 0;
}

/*
 * Every case empties its ring. One that failed half way may not have, and
 * cyph_ring_free() would add a warning to a failure already reported.
 */
static void ring_drop(struct cyph_ring *r)
{
	if (!r->slot)
		return;
	if (cyph_ring_in_flight(r)) {
		kfree(r->slot);
		r->slot = NULL;
		return;
	}
	cyph_ring_free(r);
}

static void ring_test_exit(struct kunit *test)
{
	ring_drop(&((struct renv *)test->priv)->ring);
}

static struct cyph_ring *ring_new(struct kunit *test, unsigned int size,
				  u32 first)
{
	struct renv *env = test->priv;

	ring_drop(&env->ring);
	KUNIT_ASSERT_EQ(test, cyph_ring_init(&env->ring, size, first,
					     GFP_KERNEL), 0);
	return &env->ring;
}

static struct ritem *item_of(struct kunit *test, u32 seq)
{
	return &((struct renv *)test->priv)->items[seq % POOL];
}

static void complete_seq(struct kunit *test, struct cyph_ring *r, u32 seq)
{
	struct ritem *it = item_of(test, seq);

	it->seq = seq;
	it->check = check_of(seq);
	cyph_ring_complete(r, seq, it);
}

/* Whether @got is the item completed for @seq. */
static bool is_item(struct kunit *test, void *got, u32 seq)
{
	struct ritem *it = got;

	return it == item_of(test, seq) && it->seq == seq &&
	       it->check == check_of(seq);
}

static void shuffle(struct rnd_state *rs, u32 *a, unsigned int n)
{
	unsigned int i, j;

	for (i = n; i > 1; i--) {
		j = prandom_u32_state(rs) % i;
		swap(a[i - 1], a[j]);
	}
}

/* Size 0 and sizes that are not powers of two are refused; 1 .. 1024 work. */
static void ring_init_sizes(struct kunit *test)
{
	static const unsigned int bad[] = { 0, 3, 6, 12, 100, 1023, 0x80000001 };
	static const unsigned int good[] = { 1, 2, 4, 1024 };
	struct renv *env = test->priv;
	struct cyph_ring *r;
	u32 seq;
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct cyph_ring rb = {};

		KUNIT_EXPECT_EQ_MSG(test, cyph_ring_init(&rb, bad[i], 0, GFP_KERNEL),
				    -EINVAL, "size %u", bad[i]);
		KUNIT_EXPECT_NULL(test, rb.slot);
	}
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		r = ring_new(test, good[i], 7);
		/* Empty: nothing in flight, nothing to pop. */
		KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), 0U);
		KUNIT_ASSERT_TRUE(test, cyph_ring_idle(r));
		KUNIT_ASSERT_FALSE(test, cyph_ring_ready(r));
		KUNIT_ASSERT_NULL(test, cyph_ring_pop(r));
		KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(r, &seq));
		KUNIT_ASSERT_EQ(test, seq, 7U);
		complete_seq(test, r, seq);
		KUNIT_ASSERT_TRUE(test, is_item(test, cyph_ring_pop(r), 7));
	}
	cyph_ring_free(&env->ring);
	KUNIT_EXPECT_NULL(test, env->ring.slot);
}

/* Size 1: one number at a time, each released before the next. */
static void ring_size_one(struct kunit *test)
{
	struct cyph_ring *r = ring_new(test, 1, U32_MAX - 2);
	u32 seq, want = U32_MAX - 2;
	int i;

	for (i = 0; i < 6; i++, want++) {
		KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(r, &seq));
		KUNIT_ASSERT_EQ(test, seq, want);
		KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), 1U);
		KUNIT_ASSERT_FALSE(test, cyph_ring_idle(r));
		KUNIT_ASSERT_FALSE(test, cyph_ring_reserve(r, &seq));
		KUNIT_ASSERT_FALSE(test, cyph_ring_ready(r));
		KUNIT_ASSERT_NULL(test, cyph_ring_pop(r));
		complete_seq(test, r, want);
		/* Complete but not popped: still occupies the only slot. */
		KUNIT_ASSERT_FALSE(test, cyph_ring_reserve(r, &seq));
		KUNIT_ASSERT_TRUE(test, cyph_ring_ready(r));
		/* Complete is not idle: idle is every number popped. */
		KUNIT_ASSERT_FALSE(test, cyph_ring_idle(r));
		KUNIT_ASSERT_TRUE(test, is_item(test, cyph_ring_pop(r), want));
		KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), 0U);
		KUNIT_ASSERT_TRUE(test, cyph_ring_idle(r));
		KUNIT_ASSERT_NULL(test, cyph_ring_pop(r));
	}
	KUNIT_EXPECT_EQ(test, want, 3U);	/* through U32_MAX and 0 */
}

/*
 * Head-of-line blocking: nothing leaves while the oldest number is
 * pending, however many later ones are complete; ready() says the same.
 */
static void ring_head_of_line(struct kunit *test)
{
	struct cyph_ring *r = ring_new(test, 8, 1000);
	u32 seq;
	int i;

	for (i = 0; i < 8; i++)
		KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(r, &seq));
	for (i = 7; i >= 1; i--) {
		complete_seq(test, r, 1000 + i);
		KUNIT_ASSERT_FALSE_MSG(test, cyph_ring_ready(r), "%d done", 8 - i);
		KUNIT_ASSERT_NULL_MSG(test, cyph_ring_pop(r), "%d done", 8 - i);
	}
	KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), 8U);
	complete_seq(test, r, 1000);
	for (i = 0; i < 8; i++) {
		KUNIT_ASSERT_TRUE(test, cyph_ring_ready(r));
		KUNIT_ASSERT_TRUE_MSG(test, is_item(test, cyph_ring_pop(r), 1000 + i),
				      "pop #%d", i);
	}
	KUNIT_ASSERT_FALSE(test, cyph_ring_ready(r));
	KUNIT_ASSERT_NULL(test, cyph_ring_pop(r));

	/* A hole in the middle: release stops at it and resumes after it. */
	for (i = 0; i < 8; i++)
		KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(r, &seq));
	for (i = 0; i < 8; i++)
		if (i != 3)
			complete_seq(test, r, 1008 + i);
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_TRUE(test, is_item(test, cyph_ring_pop(r), 1008 + i));
	KUNIT_ASSERT_FALSE(test, cyph_ring_ready(r));
	KUNIT_ASSERT_NULL(test, cyph_ring_pop(r));
	KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), 5U);
	complete_seq(test, r, 1011);
	for (i = 3; i < 8; i++)
		KUNIT_ASSERT_TRUE(test, is_item(test, cyph_ring_pop(r), 1008 + i));
	KUNIT_EXPECT_NULL(test, cyph_ring_pop(r));
	KUNIT_EXPECT_EQ(test, cyph_ring_in_flight(r), 0U);
}

/*
 * Capacity: reserve is refused exactly when size numbers are in flight
 * (completed but not popped ones count), a refusal uses up no number, and
 * one pop makes room for exactly one more.
 */
static void ring_full_refuses(struct kunit *test)
{
	const u32 size = 16, first = 0x7ffffff8;
	struct cyph_ring *r = ring_new(test, size, first);
	u32 i, seq, next = first;
	int lap;

	for (lap = 0; lap < 3; lap++) {
		while (cyph_ring_in_flight(r) < size) {
			KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(r, &seq));
			KUNIT_ASSERT_EQ(test, seq, next);
			next++;
		}
		KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), size);
		KUNIT_ASSERT_FALSE(test, cyph_ring_reserve(r, &seq));
		KUNIT_ASSERT_FALSE(test, cyph_ring_reserve(r, &seq));
		/* Completed numbers still hold their slots until popped. */
		for (i = next - size; i != next; i++)
			complete_seq(test, r, i);
		KUNIT_ASSERT_FALSE(test, cyph_ring_reserve(r, &seq));
		KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), size);
		/* One pop, one reserve (no number skipped), then full again. */
		KUNIT_ASSERT_TRUE(test, is_item(test, cyph_ring_pop(r), next - size));
		KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), size - 1);
		KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(r, &seq));
		KUNIT_ASSERT_EQ(test, seq, next);
		next++;
		KUNIT_ASSERT_FALSE(test, cyph_ring_reserve(r, &seq));
		/* Drain all but the newest (still pending), then complete it. */
		for (i = next - size; i != next - 1; i++)
			KUNIT_ASSERT_TRUE(test, is_item(test, cyph_ring_pop(r), i));
		KUNIT_ASSERT_NULL(test, cyph_ring_pop(r));
		KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), 1U);
		complete_seq(test, r, next - 1);
		KUNIT_ASSERT_TRUE(test, is_item(test, cyph_ring_pop(r), next - 1));
		KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), 0U);
	}
	KUNIT_EXPECT_EQ(test, next, first + 3 * (size + 1));
}

/*
 * Rounds of a random number of reservations, completed in a random
 * permutation, with pops between completions: each pop must return the
 * oldest unreleased item if and only if it is complete. About one round
 * in four leaves one number pending, which the next round completes among
 * its own, so rounds overlap and items wait behind an older round.
 */
#define PERM_ROUNDS	600
#define PERM_SIZE	32

static int perm_pop(struct kunit *test, struct cyph_ring *r, const bool *done,
		    u32 *tail, u32 head, int round)
{
	for (;;) {
		bool want = *tail != head && done[*tail % POOL];
		bool ready = cyph_ring_ready(r);
		void *got = cyph_ring_pop(r);

		if (ready != want || !got != !want ||
		    (got && !is_item(test, got, *tail))) {
			KUNIT_FAIL(test, "round %d seq %u: pop %s, ready %d, want %s",
				   round, *tail, got ? "item" : "NULL", ready,
				   want ? "it" : "NULL");
			return -1;
		}
		if (!got)
			return 0;
		(*tail)++;
	}
}

static void ring_release_in_order(struct kunit *test)
{
	u32 first = 0x10000, head = first, tail = first, seq = 0;
	struct cyph_ring *r = ring_new(test, PERM_SIZE, first);
	unsigned int room, n, k, i, left = 0, waited = 0;
	unsigned long pops_between = 0;
	u32 order[PERM_SIZE + 1];
	bool done[POOL] = {};
	struct rnd_state rs;
	int round;

	prandom_seed_state(&rs, 0x52494e47ULL);
	for (round = 0; round < PERM_ROUNDS; round++) {
		room = PERM_SIZE - cyph_ring_in_flight(r);
		k = room ? 1 + prandom_u32_state(&rs) % room : 0;
		n = 0;
		if (left)		/* the number the last round left pending */
			order[n++] = tail;
		waited += !!left;
		for (i = 0; i < k; i++) {
			if (!cyph_ring_reserve(r, &seq) || seq != head) {
				KUNIT_FAIL(test, "round %d: reserve #%u gave %u, want %u",
					   round, i, seq, head);
				return;
			}
			done[seq % POOL] = false;
			order[n++] = head++;
		}
		shuffle(&rs, order, n);
		left = prandom_u32_state(&rs) % 4 == 0;
		for (i = 0; i < n - left; i++) {
			complete_seq(test, r, order[i]);
			done[order[i] % POOL] = true;
			if (prandom_u32_state(&rs) % 2)
				continue;
			pops_between++;
			if (perm_pop(test, r, done, &tail, head, round))
				return;
		}
		if (perm_pop(test, r, done, &tail, head, round))
			return;
		/* All but the one left pending are complete: it blocks the rest. */
		if (left && tail != order[n - 1]) {
			KUNIT_FAIL(test, "round %d: released up to %u, pending %u",
				   round, tail, order[n - 1]);
			return;
		}
		left = tail != head;
		if (cyph_ring_in_flight(r) != head - tail) {
			KUNIT_FAIL(test, "round %d: in_flight %u, want %u", round,
				   cyph_ring_in_flight(r), head - tail);
			return;
		}
	}
	if (left) {
		complete_seq(test, r, tail);
		done[tail % POOL] = true;
	}
	KUNIT_ASSERT_EQ(test, perm_pop(test, r, done, &tail, head, round), 0);
	KUNIT_EXPECT_EQ(test, tail, head);
	KUNIT_EXPECT_EQ(test, cyph_ring_in_flight(r), 0U);
	/* Both kinds of round must be common, or the test proves little. */
	KUNIT_EXPECT_GT(test, waited, PERM_ROUNDS / 8U);
	KUNIT_EXPECT_GT(test, pops_between, 1000UL);
	kunit_info(test, "%u numbers, %u rounds waited, %lu pops between",
		   head - first, waited, pops_between);
}

/*
 * Random reserve/complete/pop steps against a model, for several sizes and
 * starting numbers (some just below 2^32, so the numbers wrap): the model
 * knows head, tail and which numbers are complete.
 */
#define MODEL_STEPS	12000

struct model {
	u32 head, tail, size;
	u32 pending[POOL];	/* reserved, not completed, in no order */
	unsigned int npending;
	bool done[POOL];
};

static int model_step(struct kunit *test, struct cyph_ring *r, struct model *m,
		      struct rnd_state *rs, int step)
{
	u32 pick = prandom_u32_state(rs) % 100, seq = 0;

	if (pick < 40) {
		bool want = m->head - m->tail < m->size;
		bool got = cyph_ring_reserve(r, &seq);

		if (got != want || (got && seq != m->head)) {
			KUNIT_FAIL(test, "step %d: reserve gave %d (seq %u), want %d (seq %u)",
				   step, got, seq, want, m->head);
			return -1;
		}
		if (got) {
			m->done[seq % POOL] = false;
			m->pending[m->npending++] = m->head++;
		}
	} else if (pick < 75 && m->npending) {
		u32 i = prandom_u32_state(rs) % m->npending;

		seq = m->pending[i];
		m->pending[i] = m->pending[--m->npending];
		complete_seq(test, r, seq);
		m->done[seq % POOL] = true;
	} else {
		bool want = m->tail != m->head && m->done[m->tail % POOL];
		bool ready = cyph_ring_ready(r);
		void *got = cyph_ring_pop(r);

		if (ready != want || !got != !want ||
		    (got && !is_item(test, got, m->tail))) {
			KUNIT_FAIL(test, "step %d seq %u: pop %s, ready %d, want %s",
				   step, m->tail, got ? "item" : "NULL", ready,
				   want ? "it" : "NULL");
			return -1;
		}
		m->tail += !!got;
	}
	if (cyph_ring_in_flight(r) != m->head - m->tail) {
		KUNIT_FAIL(test, "step %d: in_flight %u, want %u", step,
			   cyph_ring_in_flight(r), m->head - m->tail);
		return -1;
	}
	return 0;
}

static void ring_random_vs_model(struct kunit *test)
{
	static const struct { u32 size, first; bool wraps; } runs[] = {
		{ 1, U32_MAX - 100, true }, { 2, 0, false },
		{ 8, U32_MAX - 1000, true }, { 64, U32_MAX - 1000, true },
		{ 128, 12345, false },
	};
	struct model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	unsigned long full = 0, blocked = 0;
	struct rnd_state rs;
	int run, step;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
	prandom_seed_state(&rs, 0x6d6f64656cULL);
	for (run = 0; run < ARRAY_SIZE(runs); run++) {
		struct cyph_ring *r = ring_new(test, runs[run].size, runs[run].first);

		memset(m, 0, sizeof(*m));
		m->size = runs[run].size;
		m->head = runs[run].first;
		m->tail = runs[run].first;
		for (step = 0; step < MODEL_STEPS; step++) {
			if (model_step(test, r, m, &rs, step)) {
				kunit_info(test, "size %u first %u", m->size,
					   runs[run].first);
				return;
			}
			full += m->head - m->tail == m->size;
			blocked += m->tail != m->head && !m->done[m->tail % POOL];
		}
		/* Finish: complete the rest, then everything must leave. */
		while (m->npending) {
			u32 seq = m->pending[--m->npending];

			complete_seq(test, r, seq);
			m->done[seq % POOL] = true;
		}
		while (m->tail != m->head) {
			if (!is_item(test, cyph_ring_pop(r), m->tail)) {
				KUNIT_FAIL(test, "size %u: drain stops at %u",
					   m->size, m->tail);
				return;
			}
			m->tail++;
		}
		KUNIT_EXPECT_NULL(test, cyph_ring_pop(r));
		/* The runs that start near 2^32 must have crossed it. */
		KUNIT_EXPECT_EQ_MSG(test, m->head < runs[run].first,
				    runs[run].wraps, "size %u: %u numbers",
				    m->size, m->head - runs[run].first);
	}
	/* Both the full ring and head-of-line blocking must be common. */
	KUNIT_EXPECT_GT(test, full, 1000UL);
	KUNIT_EXPECT_GT(test, blocked, 1000UL);
	kunit_info(test, "%lu steps full, %lu blocked", full, blocked);
}

/*
 * Wrap-around: starting just below 2^32, numbers come out consecutive mod
 * 2^32 (U32_MAX is followed by 0), batches completed in a random order
 * leave in order across the wrap, in_flight is right while head has
 * wrapped and tail has not, and the ring is full at exactly its size.
 */
#define WRAP_SIZE	8
#define WRAP_TOTAL	64

static void ring_wrap_from(struct kunit *test, struct rnd_state *rs, u32 first)
{
	struct cyph_ring *r = ring_new(test, WRAP_SIZE, first);
	u32 seq = 0, prev = first - 1, tail = first, order[WRAP_SIZE];
	bool done[POOL] = {};
	unsigned int n, i;

	for (n = 0; n < WRAP_TOTAL; n += WRAP_SIZE) {
		for (i = 0; i < WRAP_SIZE; i++) {
			KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(r, &seq));
			KUNIT_ASSERT_EQ_MSG(test, seq, prev + 1, "first %u", first);
			prev = seq;
			order[i] = seq;
			done[seq % POOL] = false;
			KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), i + 1);
		}
		KUNIT_ASSERT_FALSE(test, cyph_ring_reserve(r, &seq));
		shuffle(rs, order, WRAP_SIZE);
		for (i = 0; i < WRAP_SIZE; i++) {
			complete_seq(test, r, order[i]);
			done[order[i] % POOL] = true;
			/* Pop what is ready, checking the order. */
			while (tail != prev + 1 && done[tail % POOL]) {
				KUNIT_ASSERT_TRUE_MSG(test,
						      is_item(test, cyph_ring_pop(r), tail),
						      "first %u: %u", first, tail);
				tail++;
			}
			KUNIT_ASSERT_NULL_MSG(test, cyph_ring_pop(r), "first %u: %u",
					      first, tail);
			KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), prev + 1 - tail);
		}
	}
	KUNIT_EXPECT_EQ(test, tail, first + WRAP_TOTAL);
	KUNIT_EXPECT_LT(test, tail, first);	/* it did wrap */
}

static void ring_wrap(struct kunit *test)
{
	static const u32 firsts[] = { U32_MAX - 5, U32_MAX, U32_MAX - 7,
				      U32_MAX - 15 };
	struct cyph_ring *r;
	struct rnd_state rs;
	u32 seq = 0;
	int i;

	prandom_seed_state(&rs, 0x77726170ULL);
	for (i = 0; i < ARRAY_SIZE(firsts); i++)
		ring_wrap_from(test, &rs, firsts[i]);

	/* Full at exactly its size while head is past 0 and tail is not. */
	r = ring_new(test, WRAP_SIZE, U32_MAX - 2);
	for (i = 0; i < WRAP_SIZE; i++)
		KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(r, &seq));
	KUNIT_ASSERT_EQ(test, seq, 4U);		/* U32_MAX - 2 + 7 */
	KUNIT_ASSERT_EQ(test, cyph_ring_in_flight(r), WRAP_SIZE);
	KUNIT_ASSERT_FALSE(test, cyph_ring_reserve(r, &seq));
	for (i = WRAP_SIZE - 1; i >= 0; i--)
		complete_seq(test, r, U32_MAX - 2 + i);
	for (i = 0; i < WRAP_SIZE; i++)
		KUNIT_ASSERT_TRUE(test, is_item(test, cyph_ring_pop(r),
						U32_MAX - 2 + i));
	KUNIT_EXPECT_EQ(test, cyph_ring_in_flight(r), 0U);
}

/*
 * Concurrency, as the pipeline runs: numbers are completed on two CPUs at
 * once while the consumer pops. Numbers come in batches of CONC_BATCH;
 * a kernel thread completes the odd batches and this thread the even ones,
 * each batch in a random order, writing the item before the completion
 * publishes it. This thread also reserves and pops, checking order,
 * contents and that nothing is lost; ready() true must mean pop() returns
 * an item (only the consumer takes items away), and a refused reserve
 * must mean exactly size in flight (only the consumer lowers in_flight).
 * The numbers wrap half way.
 *
 * Two threads, one per CPU, and both spin: a third thread, or two on one
 * CPU, would wait for a time slice (no preemption in this kernel), and a
 * sleeper wakes up late on an idle TCG CPU.
 *
 * No deadlock: whoever owns the oldest pending number needs at most
 * CONC_BATCH numbers reserved past it, and the ring holds CONC_RING.
 */
#define CONC_ITEMS	100000
#define CONC_RING	64
#define CONC_BATCH	16
#define CONC_FIRST	(U32_MAX - CONC_ITEMS / 2)

static_assert(CONC_BATCH <= CONC_RING);
static_assert(2 * CONC_RING <= POOL);

struct conc {
	struct cyph_ring *ring;
	struct ritem *items;	/* items[i % POOL] for the i-th number */
	u32 seq[POOL];		/* seq[i % POOL]: the i-th number */
	unsigned int reserved;	/* numbers in seq[]: release/acquire */
	bool stop;		/* the consumer gave up */
	struct rnd_state rs[2];	/* [0]: this thread's, [1]: the worker's */
};

/* Complete batch @b (numbers b * CONC_BATCH ...), reserved, in a random order. */
static void conc_complete_batch(struct conc *c, unsigned int b)
{
	unsigned int base = b * CONC_BATCH, end = min(base + CONC_BATCH, CONC_ITEMS);
	unsigned int i, n;
	u32 idx[CONC_BATCH];

	for (n = 0, i = base; i < end; i++)
		idx[n++] = i;
	shuffle(&c->rs[b % 2], idx, n);
	for (i = 0; i < n; i++) {
		struct ritem *it = &c->items[idx[i] % POOL];
		u32 seq = c->seq[idx[i] % POOL];

		it->seq = seq;
		it->check = check_of(seq);
		cyph_ring_complete(c->ring, seq, it);
	}
}

/* The worker: the odd batches, each once it is wholly reserved. */
static int conc_worker(void *arg)
{
	struct conc *c = arg;
	unsigned int b, end;

	for (b = 1; b * CONC_BATCH < CONC_ITEMS; b += 2) {
		end = min((b + 1) * CONC_BATCH, CONC_ITEMS);
		/* Pairs with the release in conc_pass(): seq[] is written. */
		while (smp_load_acquire(&c->reserved) < end) {
			if (READ_ONCE(c->stop))
				goto out;
			cond_resched();
		}
		conc_complete_batch(c, b);
	}
out:
	/* kthread_stop() needs the thread alive. */
	while (!kthread_should_stop())
		schedule_timeout_idle(1);
	return 0;
}

/*
 * One pass of this thread: reserve what fits, complete its own batches
 * that became wholly reserved, pop what is ready.
 * Return: how many numbers it reserved or popped, or -1 on a failure.
 */
static int conc_pass(struct kunit *test, struct conc *c, unsigned int *popped)
{
	struct cyph_ring *r = c->ring;
	unsigned int next = c->reserved, moved = 0, b;
	u32 seq;

	while (next < CONC_ITEMS && cyph_ring_reserve(r, &seq)) {
		if (seq != (u32)(CONC_FIRST + next)) {
			KUNIT_FAIL(test, "reserve #%u gave %u", next, seq);
			return -1;
		}
		c->seq[next % POOL] = seq;
		/* Publishes seq[] to the worker (the acquire in conc_worker()). */
		smp_store_release(&c->reserved, ++next);
		moved++;
		b = (next - 1) / CONC_BATCH;
		if (!(b % 2) && (next % CONC_BATCH == 0 || next == CONC_ITEMS))
			conc_complete_batch(c, b);
	}
	if (next < CONC_ITEMS && cyph_ring_in_flight(r) != CONC_RING) {
		KUNIT_FAIL(test, "refused at in_flight %u", cyph_ring_in_flight(r));
		return -1;
	}
	for (;;) {
		bool ready = cyph_ring_ready(r);
		struct ritem *it = cyph_ring_pop(r);
		u32 want = CONC_FIRST + *popped;

		if (!it) {
			if (ready) {
				KUNIT_FAIL(test, "ready but pop NULL at %u", want);
				return -1;
			}
			return moved;
		}
		if (it != &c->items[*popped % POOL] || it->seq != want ||
		    it->check != check_of(want)) {
			/* Only a pool item may be read: the ring can return junk. */
			if (it >= c->items && it < c->items + POOL)
				KUNIT_FAIL(test, "pop #%u: item of %u, want %u",
					   *popped, it->seq, want);
			else
				KUNIT_FAIL(test, "pop #%u: %s, want %u", *popped,
					   (void *)it == CYPH_RING_PENDING ?
					   "CYPH_RING_PENDING" : "not an item", want);
			return -1;
		}
		(*popped)++;
		moved++;
	}
}

static void ring_concurrent(struct kunit *test)
{
	struct conc *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	unsigned long t0 = jiffies, last = jiffies, idle = 0;
	unsigned int popped = 0;
	struct task_struct *t;
	int moved = 0;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, c);
	c->ring = ring_new(test, CONC_RING, CONC_FIRST);
	c->items = ((struct renv *)test->priv)->items;
	prandom_seed_state(&c->rs[0], 0x636f6e63ULL);
	prandom_seed_state(&c->rs[1], 0x776f726bULL);
	t = kthread_create(conc_worker, c, "cyph_kunit_ring");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	cyph_test_run_beside(t);
	while (popped < CONC_ITEMS) {
		moved = conc_pass(test, c, &popped);
		if (moved < 0)
			break;
		if (moved) {
			last = jiffies;
			continue;
		}
		/* Waiting for the worker; a lost completion would stall. */
		idle++;
		if (time_after(jiffies, last + 20 * HZ)) {
			KUNIT_FAIL(test, "stalled at %u popped, %u reserved",
				   popped, c->reserved);
			break;
		}
		cond_resched();
	}
	WRITE_ONCE(c->stop, true);
	kthread_stop(t);
	cyph_test_unpin();
	if (moved < 0 || popped < CONC_ITEMS)
		return;
	KUNIT_EXPECT_EQ(test, cyph_ring_in_flight(c->ring), 0U);
	KUNIT_EXPECT_NULL(test, cyph_ring_pop(c->ring));
	kunit_info(test, "%u items in %u ms, %lu passes waited for the worker",
		   popped, jiffies_to_msecs(jiffies - t0), idle);
}

static struct kunit_case ring_cases[] = {
	KUNIT_CASE(ring_init_sizes),
	KUNIT_CASE(ring_size_one),
	KUNIT_CASE(ring_head_of_line),
	KUNIT_CASE(ring_full_refuses),
	KUNIT_CASE(ring_release_in_order),
	KUNIT_CASE(ring_random_vs_model),
	KUNIT_CASE(ring_wrap),
	KUNIT_CASE(ring_concurrent),
	{}
};

static struct kunit_suite ring_suite = {
	.name = "cyphonic_ring",
	.init = ring_test_init,
	.exit = ring_test_exit,
	.test_cases = ring_cases,
};

kunit_test_suite(ring_suite);
