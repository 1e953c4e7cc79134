// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: where a tunnel's serial stage runs (kmod/serial.c, and the
 * worker CPUs of kmod/pipeline.c). A stage moves to the CPU its units
 * arrive on only when it has nothing left anywhere: no unit taken and
 * not released, no drain going on, not listed on a CPU's runner, no
 * packet on a train, (received) the old CPU's receive cell idle, the last
 * release CYPH_SERIAL_SETTLE_NS ago; a
 * received stage only to the CPU its last authenticated packet came on,
 * and only to a worker CPU. Units are released on the stage's CPU by
 * that CPU's runner; a CPU that stopped being a worker is forgotten, so
 * the stage does not jump back to it when it is a worker again, and the
 * stage releases elsewhere only once nothing of its is left there. A stage
 * on a CPU whose stages release more than another's leaves it, once per
 * half-life of the loads per CPU, and weighs that once per half-life.
 */

#include <kunit/test.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/netdevice.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>

#include "device.h"
#include "pipeline.h"
#include "test_dev.h"
#include "tunnel.h"

struct serial_fixture {
	struct cyph_device *cd;
	struct cyph_tunnel *t;
	struct cyph_queue q;		/* only its ops, for cyph_serial_init() */
	struct cyph_stage_ops ops;
};

/* What the fake release saw, for the one test that runs at a time. */
static atomic_t released;
static int released_cpu;

/* Short names, so that a failed expectation's message stays short. */
static int release_cpu(void)
{
	return READ_ONCE(released_cpu);
}

static int stage_cpu(const struct cyph_serial *s)
{
	return READ_ONCE(s->cpu);
}

static void fake_release(struct cyph_tunnel *t, struct sk_buff *head)
{
	WRITE_ONCE(released_cpu, raw_smp_processor_id());
	kfree_skb(head);
	atomic_inc(&released);
}

/* No CPU's stages have released anything, so no load moves a stage. */
static void loads_clear(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct cyph_load *tx = per_cpu_ptr(&cyph_serial_load[CYPH_TX], cpu);
		struct cyph_load *rx = per_cpu_ptr(&cyph_serial_load[CYPH_RX], cpu);

		*tx = (struct cyph_load){ .stamp = jiffies };
		*rx = *tx;
	}
}

static int serial_test_init(struct kunit *test)
{
	struct serial_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	loads_clear();
	if (!f)
		return -ENOMEM;
	f->cd = cyph_test_dev_new(test, "cyphs%d");
	f->t = kunit_kzalloc(test, sizeof(*f->t), GFP_KERNEL);
	if (!f->cd || !f->t)
		return -ENOMEM;
	f->ops.dir = CYPH_TX;
	f->ops.release = fake_release;
	f->ops.batch = 4;
	f->q.ops = &f->ops;
	f->t->cd = f->cd;
	/* Its index picks the first CPU when two are workers. */
	f->t->index = 2;
	kref_init(&f->t->ref);
	if (cyph_serial_init(&f->t->tx, f->t, &f->q, 8))
		return -ENOMEM;
	atomic_set(&released, 0);
	released_cpu = -1;
	test->priv = f;
	return 0;
}

static void serial_test_exit(struct kunit *test)
{
	struct serial_fixture *f = test->priv;

	/* Every listing's run (and its tunnel reference) is over. */
	flush_workqueue(cyph_wq);
	KUNIT_EXPECT_EQ(test, kref_read(&f->t->ref), 1U);
	cyph_serial_free(&f->t->tx);
	cyph_test_dev_free(f->cd);
}

static int serial_suite_init(struct kunit_suite *suite)
{
	return cyph_pipeline_init();
}

static void serial_suite_exit(struct kunit_suite *suite)
{
	cyph_pipeline_exit();
}

/*
 * Is the stage on this CPU after a unit arrived here? For a received
 * stage, its last authenticated packet came on this CPU (@hint_here) or
 * elsewhere.
 */
static bool arrive_hint(struct cyph_serial *s, bool hint_here)
{
	unsigned int cpu;
	bool moved;

	spin_lock_bh(&s->produce);	/* and so preemption off */
	cpu = smp_processor_id();
	if (s->ops->dir == CYPH_RX)
		s->hint = hint_here ? cpu : cpu + 1;
	cyph_serial_arrive(s);
	moved = READ_ONCE(s->cpu) == cpu;
	spin_unlock_bh(&s->produce);
	return moved;
}

static bool arrive_here(struct cyph_serial *s)
{
	return arrive_hint(s, true);
}

/* Long enough ago for a move. */
static void settle(struct cyph_serial *s)
{
	atomic64_set(&s->released,
		     ktime_get_mono_fast_ns() - 2 * CYPH_SERIAL_SETTLE_NS);
}

static void serial_test_first_unit_moves(struct kunit *test)
{
	struct serial_fixture *f = test->priv;

	KUNIT_EXPECT_EQ(test, f->t->tx.cpu, -1);
	KUNIT_EXPECT_TRUE(test, arrive_here(&f->t->tx));
}

/* Each thing that keeps a stage where it is, one at a time. */
static void serial_test_busy_stays(struct kunit *test)
{
	struct serial_fixture *f = test->priv;
	struct cyph_serial *s = &f->t->tx;
	struct cyph_rx_cell *cell;
	struct sk_buff *skb;
	u32 seq;

	/* A unit taken and not released. */
	KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(&s->ring, &seq));
	KUNIT_EXPECT_FALSE(test, arrive_here(s));
	cyph_ring_complete(&s->ring, seq, s);
	KUNIT_EXPECT_FALSE(test, arrive_here(s));
	KUNIT_EXPECT_PTR_EQ(test, cyph_ring_pop(&s->ring), (void *)s);

	/* Listed on a CPU's runner. */
	set_bit(CYPH_SERIAL_LISTED, &s->flags);
	KUNIT_EXPECT_FALSE(test, arrive_here(s));
	clear_bit(CYPH_SERIAL_LISTED, &s->flags);

	/* Packets on a train. */
	atomic_inc(&s->on_train);
	KUNIT_EXPECT_FALSE(test, arrive_here(s));
	atomic_dec(&s->on_train);

	/* A drain going on. */
	spin_lock_bh(&s->release);
	KUNIT_EXPECT_FALSE(test, arrive_here(s));
	spin_unlock_bh(&s->release);

	/*
	 * Released just now, however long this CPU is held up before the
	 * check: under TCG an interrupt between two statements can outlast
	 * CYPH_SERIAL_SETTLE_NS, so the release is dated a second ahead.
	 */
	atomic64_set(&s->released, ktime_get_mono_fast_ns() + NSEC_PER_SEC);
	KUNIT_EXPECT_FALSE(test, arrive_here(s));
	settle(s);

	/*
	 * A received stage that released on a CPU: that CPU's receive cell
	 * scheduled, as while it holds packets released there (a disabled
	 * NAPI context stays scheduled).
	 */
	f->ops.dir = CYPH_RX;
	if (cyph_rx_cells_init(&f->cd->rx_cells, f->cd->dev)) {
		KUNIT_FAIL(test, "out of memory");
		return;
	}
	s->ran = cyph_worker_cpu(f->cd, f->t->index + CYPH_RX);
	cell = per_cpu_ptr(f->cd->rx_cells.cells, s->ran);
	napi_disable(&cell->napi);
	KUNIT_EXPECT_FALSE(test, arrive_here(s));
	napi_enable(&cell->napi);
	/* Its cell holding a batch the runner has yet to feed: unscheduled. */
	skb = alloc_skb(0, GFP_KERNEL);
	if (!skb) {
		KUNIT_FAIL(test, "out of memory");
	} else {
		skb_queue_tail(&cell->skbs, skb);
		KUNIT_EXPECT_FALSE(test, arrive_here(s));
		skb_queue_purge(&cell->skbs);
	}

	KUNIT_EXPECT_TRUE(test, arrive_here(s));
	KUNIT_EXPECT_EQ_MSG(test, s->ran, -1, "a move found nothing left there");
	cyph_rx_cells_destroy(&f->cd->rx_cells);
	/* Its free is queued behind a grace period; the module may go. */
	rcu_barrier();
}

/* A received stage follows authenticated packets only. */
static void serial_test_rx_follows_hint(struct kunit *test)
{
	struct serial_fixture *f = test->priv;
	struct cyph_serial *s = &f->t->tx;

	f->ops.dir = CYPH_RX;		/* the stage is a received one now */

	KUNIT_EXPECT_FALSE(test, arrive_hint(s, false));
	KUNIT_EXPECT_TRUE(test, arrive_hint(s, true));
}

/* workers=N: the first N active CPUs (here every online one). */
static void serial_test_worker_cpus(struct kunit *test)
{
	struct serial_fixture *f = test->priv;
	unsigned int first = cpumask_first(cpu_active_mask);
	unsigned int cpu;

	for_each_online_cpu(cpu)
		KUNIT_EXPECT_TRUE(test, cyph_worker_cpu_is(f->cd, cpu));
	KUNIT_EXPECT_FALSE(test, cyph_worker_cpu_is(f->cd, nr_cpu_ids));
	WRITE_ONCE(f->cd->workers, 1);
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ(test, cyph_worker_cpu_is(f->cd, cpu), cpu == first);
	KUNIT_EXPECT_EQ(test, cyph_worker_cpu(f->cd, 5), first);
}

/* Hand one unit to the stage from this thread and wait for its runner. */
static void publish_one(struct kunit *test, struct cyph_serial *s)
{
	struct sk_buff *skb = alloc_skb(0, GFP_KERNEL);
	u32 seq;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	spin_lock_bh(&s->produce);
	KUNIT_ASSERT_TRUE(test, cyph_ring_reserve(&s->ring, &seq));
	spin_unlock_bh(&s->produce);
	cyph_serial_publish(s, seq, skb);
	flush_workqueue(cyph_wq);
}

/*
 * Units are released on the stage's CPU; once that CPU is no longer a
 * worker they go to the index's CPU, and stay there when it is again.
 */
static void serial_test_release_cpu(struct kunit *test)
{
	struct serial_fixture *f = test->priv;
	struct cyph_serial *s = &f->t->tx;
	unsigned int first = cpumask_first(cpu_online_mask);
	unsigned int second = cpumask_next(first, cpu_online_mask);

	KUNIT_ASSERT_LT_MSG(test, second, nr_cpu_ids,
			    "needs two online CPUs (tests/kunit/run.sh boots two)");
	WRITE_ONCE(s->cpu, second);
	publish_one(test, s);
	KUNIT_EXPECT_EQ(test, atomic_read(&released), 1);
	KUNIT_EXPECT_EQ(test, release_cpu(), (int)second);

	/* workers=1: the second CPU is no longer one. */
	settle(s);
	WRITE_ONCE(f->cd->workers, 1);
	publish_one(test, s);
	KUNIT_EXPECT_EQ(test, atomic_read(&released), 2);
	KUNIT_EXPECT_EQ(test, release_cpu(), (int)first);
	KUNIT_ASSERT_EQ(test, stage_cpu(s), -1);

	/* Back to every CPU: the stage does not jump back by itself. */
	WRITE_ONCE(f->cd->workers, 0);
	publish_one(test, s);
	KUNIT_EXPECT_EQ(test, release_cpu(), (int)first);
	KUNIT_EXPECT_EQ(test, stage_cpu(s), -1);
}

/*
 * A stage whose CPU stopped being a worker runs elsewhere at once, but
 * releases there only once nothing of its is left on the old CPU: here,
 * a packet still on that CPU's train.
 */
static void serial_test_waits_for_old_cpu(struct kunit *test)
{
	struct serial_fixture *f = test->priv;
	struct cyph_serial *s = &f->t->tx;
	unsigned int first = cpumask_first(cpu_active_mask);
	unsigned int second = cpumask_next(first, cpu_active_mask);
	int i;

	KUNIT_ASSERT_LT_MSG(test, second, nr_cpu_ids,
			    "needs two active CPUs (tests/kunit/run.sh boots two)");
	WRITE_ONCE(s->cpu, second);
	publish_one(test, s);
	KUNIT_ASSERT_EQ(test, release_cpu(), (int)second);
	atomic_set(&s->on_train, 1);
	settle(s);
	WRITE_ONCE(f->cd->workers, 1);
	publish_one(test, s);
	msleep(50);
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&released), 1,
			    "released while its packet waited on the old CPU's train");
	atomic_set(&s->on_train, 0);
	for (i = 0; i < 100 && atomic_read(&released) < 2; i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&released), 2);
	KUNIT_EXPECT_EQ(test, release_cpu(), (int)first);
	/* Failed or not, no runner may still be waiting at the exit. */
	spin_lock_bh(&s->release);
	s->ran = -1;
	spin_unlock_bh(&s->release);
	for (i = 0; i < 100 && atomic_read(&released) < 2; i++)
		msleep(20);
}

/* A stage weighing its place: where it runs, what the CPUs released. */
struct weighing {
	bool away;	/* it runs on another worker CPU than this one */
	u32 here;	/* the load of this CPU's other stages (load.h) */
	u32 there;	/* of the other CPU's other stages */
	u32 own;	/* of the stage itself */
	u32 reverse;	/* of this CPU's stages of the other direction */
	bool due;	/* its last weighing a half-life ago or more */
	bool left;	/* a stage left its CPU to even the load just now */
};

/*
 * A unit of @s arrives on this CPU after a pause, in the state @w says.
 * Return where the stage runs next: 0 here, 1 on the other CPU. Loads,
 * stamps and the limiter are set for this very call (bottom halves off,
 * this CPU ours), far from their thresholds but for "just now", whose
 * call is made again should the host hold this vCPU up for a quarter of
 * a half-life in between.
 */
static int weigh(struct kunit *test, struct cyph_serial *s,
		 const struct weighing *w)
{
	unsigned long now, far = 100 * cyph_load_half();
	unsigned int cpu, other, to, tries = 0;
	int where = -1;

again:
	spin_lock_bh(&s->produce);
	now = jiffies;
	cpu = smp_processor_id();
	other = cpumask_any_but(cpu_online_mask, cpu);
	loads_clear();
	settle(s);
	WRITE_ONCE(s->cpu, w->away ? other : cpu);
	s->weigh_at = w->due ? now - far : now + far;
	per_cpu(cyph_serial_evened, w->away ? other : cpu) =
		w->left ? now : now - far;
	s->load = (struct cyph_load){ .stamp = now };
	cyph_load_add(&s->load, now, w->own);
	cyph_load_add(per_cpu_ptr(&cyph_serial_load[s->ops->dir], cpu), now,
		      w->here + (w->away ? 0 : w->own));
	cyph_load_add(per_cpu_ptr(&cyph_serial_load[!s->ops->dir], cpu), now,
		      w->reverse);
	cyph_load_add(per_cpu_ptr(&cyph_serial_load[s->ops->dir], other), now,
		      w->there + (w->away ? w->own : 0));
	cyph_serial_arrive(s);
	to = READ_ONCE(s->cpu);
	if (jiffies - now > cyph_load_half() / 4 && ++tries < 10) {
		spin_unlock_bh(&s->produce);
		goto again;
	}
	if (to == cpu)
		where = 0;
	else if (to == other)
		where = 1;
	spin_unlock_bh(&s->produce);
	KUNIT_EXPECT_GE_MSG(test, where, 0, "the stage went to CPU %u", to);
	return where;
}

static void serial_test_evens_load(struct kunit *test)
{
	struct serial_fixture *f = test->priv;
	struct cyph_serial *s = &f->t->tx;
	const struct weighing crowded = { .here = 900, .own = 100, .due = true };
	struct weighing w;

	KUNIT_ASSERT_GE_MSG(test, num_online_cpus(), 2U,
			    "needs two online CPUs (tests/kunit/run.sh boots two)");
	/* Other stages where it runs: it goes to the other CPU. */
	KUNIT_EXPECT_EQ(test, weigh(test, s, &crowded), 1);
	/* Weighed less than a half-life ago: not yet. */
	w = crowded;
	w.due = false;
	KUNIT_EXPECT_EQ(test, weigh(test, s, &w), 0);
	/* A stage left this CPU just now: it stays. */
	w = crowded;
	w.left = true;
	KUNIT_EXPECT_EQ(test, weigh(test, s, &w), 0);
	/* Alone on a busy CPU: nothing to even out. */
	w = crowded;
	w.here = 0;
	w.own = 1000;
	KUNIT_EXPECT_EQ(test, weigh(test, s, &w), 0);
	/* Only the other direction's stages where it runs: it stays. */
	w = crowded;
	w.here = 0;
	w.reverse = 900;
	KUNIT_EXPECT_EQ(test, weigh(test, s, &w), 0);
	/* As busy elsewhere: it stays. */
	w = crowded;
	w.there = 900;
	KUNIT_EXPECT_EQ(test, weigh(test, s, &w), 0);
	/* Running away from a crowded CPU: it stays away, whenever due. */
	w = crowded;
	w.away = true;
	w.due = false;
	KUNIT_EXPECT_EQ(test, weigh(test, s, &w), 1);
	/* Once its units' CPU is no busier than its own, it goes home. */
	w.here = 100;
	w.there = 100;
	KUNIT_EXPECT_EQ(test, weigh(test, s, &w), 0);
}

static struct kunit_case serial_test_cases[] = {
	KUNIT_CASE(serial_test_first_unit_moves),
	KUNIT_CASE(serial_test_busy_stays),
	KUNIT_CASE(serial_test_rx_follows_hint),
	KUNIT_CASE(serial_test_worker_cpus),
	KUNIT_CASE(serial_test_release_cpu),
	KUNIT_CASE(serial_test_waits_for_old_cpu),
	KUNIT_CASE(serial_test_evens_load),
	{}
};

static struct kunit_suite serial_test_suite = {
	.name = "cyphonic_serial",
	.suite_init = serial_suite_init,
	.suite_exit = serial_suite_exit,
	.init = serial_test_init,
	.exit = serial_test_exit,
	.test_cases = serial_test_cases,
};

kunit_test_suite(serial_test_suite);
