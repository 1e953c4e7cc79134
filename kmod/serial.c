// SPDX-License-Identifier: GPL-2.0
/*
 * The serial stage: each tunnel direction's in-order release, and the
 * per-CPU runner that carries it out.
 *
 * A tunnel's stage for one direction runs on one CPU at a time, so a flow
 * leaves or enters the stack from one CPU: the CPU its units arrive on,
 * or a less loaded one (load.h), moving only after the flow paused; which
 * one is placement.c's (cyph_serial_cpu(), cyph_serial_arrive()).
 * Each CPU has one work item that runs every stage with units ready there:
 * a stage joins the CPU's list when a unit of it is published, once until
 * it is run. With many tunnels each carrying a packet at a time, one wake-
 * up then releases them all, where a work item per stage cost a queueing,
 * a wake-up and (the workqueue being CPU-intensive) often a thread of its
 * own per packet (docs/benchmark.md, "Work items per packet").
 */

#include <linux/delay.h>
#include <linux/llist.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>

#include "device.h"
#include "pipeline.h"
#include "tunnel.h"

/* The stages with units ready on one CPU, and the work that runs them. */
struct cyph_serial_cpu {
	struct llist_head ready;
	struct work_struct work;
};

static DEFINE_PER_CPU(struct cyph_serial_cpu, cyph_serial_cpus);

/*
 * Passes: a crypt worker's drain of its queue, a serial runner's run of
 * the stages listed on its CPU (a bounded list, each stage at most
 * CYPH_SERIAL_BUDGET units). A release inside one may keep its units
 * back to batch them with the next ones (ops->flush); the end of every
 * pass hands on all that was kept back on its CPU, and within one, after
 * each unit of a worker (whose queue may never run empty) and each stage
 * of a runner, what has waited since an earlier tick (all of it after a
 * stage that fed the stack: its replies): nothing waits longer than a
 * tick and a unit, or a stage's run. A
 * release anywhere else (a completion in a softirq, a unit sealed where
 * it was sent) hands on at once, and so does a work item that runs off
 * its own CPU (unbound from one going offline): it may move on between
 * two releases. What a pass kept back on a CPU going offline,
 * cyph_serial_cpu_down() sends from there before the pass is unbound.
 */
static bool cyph_in_pass(void)
{
	struct work_struct *w;

	if (!in_task())
		return false;
	w = current_work();
	if (!w)
		return false;
	/*
	 * Only its CPU's own work item, run there: one unbound from a CPU
	 * going offline (or not yet back on it) may move on between its
	 * releases, so it hands on at once what it would keep back.
	 */
	if (w->func == cyph_serial_cpu_work)
		return w == &this_cpu_ptr(&cyph_serial_cpus)->work;
	if (w->func == cyph_queue_work) {
		struct cyph_worker *cw = container_of(w, struct cyph_worker,
						      work);

		return per_cpu_ptr(cw->queue->worker, smp_processor_id()) == cw;
	}
	return false;
}

/*
 * The directions whose releases in this CPU's pass may have kept units
 * back, whatever the pass: a serial runner feeding received packets to
 * the stack (ops->hand_on) releases the TX units its replies make.
 * Written and read with bottom halves off.
 */
static DEFINE_PER_CPU(const struct cyph_stage_ops *, cyph_pass_kept[2]);

/* A release in a pass may have kept units back (context: BH off). */
static void cyph_pass_keep(const struct cyph_stage_ops *ops)
{
	if (ops->flush)
		__this_cpu_write(cyph_pass_kept[ops->dir], ops);
}

/*
 * Hand on what the releases of this CPU's pass kept back: all of it at
 * the end of the pass (@all), or within one what has waited since an
 * earlier tick.
 */
void cyph_pass_flush(bool all)
{
	const struct cyph_stage_ops *ops;
	int dir;

	local_bh_disable();
	for (dir = CYPH_TX; dir <= CYPH_RX; dir++) {
		ops = __this_cpu_read(cyph_pass_kept[dir]);
		if (!ops)
			continue;
		if (all)
			__this_cpu_write(cyph_pass_kept[dir], NULL);
		ops->flush(all);
	}
	local_bh_enable();
}

/*
 * Make sure the stage runs. A listed stage holds a tunnel reference,
 * dropped when it has run. The caller holds a reference or the RCU read
 * lock: in the latter case the tunnel may be on its way out (its last
 * unit released by a concurrent drain), and then nothing is left to do.
 */
static void cyph_serial_kick(struct cyph_serial *s)
{
	struct cyph_tunnel *t = s->tunnel;
	struct cyph_serial_cpu *c;
	unsigned int cpu;

	if (test_and_set_bit(CYPH_SERIAL_LISTED, &s->flags))
		return;
	if (!kref_get_unless_zero(&t->ref)) {
		clear_bit(CYPH_SERIAL_LISTED, &s->flags);
		return;
	}
	cpu = cyph_serial_cpu(s);
	c = per_cpu_ptr(&cyph_serial_cpus, cpu);
	/* The first on an empty list wakes the CPU's runner. */
	if (llist_add(&s->node, &c->ready))
		queue_work_on(cpu, cyph_wq, &c->work);
}

/* Release up to @budget units in order; s->release held, BH off. */
static unsigned int cyph_serial_drain(struct cyph_serial *s,
				      unsigned int budget)
{
	enum cyph_dir dir = s->ops->dir;
	unsigned long now = jiffies;
	/* Once per half-life: a stage counts, not its packets. */
	bool count = cyph_load_fresh(&s->load, now), fine = false;
	struct sk_buff *skb;
	unsigned int n = 0;
	void *item;

	while (n < budget && (item = cyph_ring_pop(&s->ring))) {
		/*
		 * Only packets still fine (authenticated, on RX) make a
		 * stage count: forged ones must not push others away. One
		 * is enough, and none is looked for once the stage counts.
		 */
		for (skb = item; count && !fine && skb; skb = skb->next)
			fine = cyph_cb(skb)->why == CYPH_OK;
		s->ops->release(s->tunnel, item);
		n++;
	}
	if (n) {
		/* Under s->release, which cyph_serial_arrive() takes to move. */
		atomic64_set(&s->released, ktime_get_mono_fast_ns());
		s->ran = smp_processor_id();
		if (fine) {
			cyph_load_add(&s->load, now, CYPH_LOAD_STAGE);
			cyph_load_add(this_cpu_ptr(&cyph_serial_load[dir]),
				      now, CYPH_LOAD_STAGE);
		}
	}
	return n;
}

/* How long a runner waits for a stage's old CPU to hand on (µs). */
#define CYPH_SERIAL_WAIT_US	(CYPH_SERIAL_SETTLE_NS / NSEC_PER_USEC)

/*
 * Run one stage: release in batches under s->release with bottom halves
 * off (so that RX deliveries of a batch meet in one GRO run, which the
 * runner then runs itself: ops->hold, ops->hand_on), yielding in between,
 * up to CYPH_SERIAL_BUDGET units; then back to the end of the list if
 * more are ready, so one busy tunnel does not hold up the others.
 * Return false if the stage may not release here now
 * (cyph_serial_here()): the caller lists it again.
 */
static bool cyph_serial_run(struct cyph_serial *s)
{
	const struct cyph_stage_ops *ops = s->ops;
	unsigned int budget, n;

	for (budget = CYPH_SERIAL_BUDGET; budget; budget -= n) {
		local_bh_disable();
		spin_lock(&s->release);
		if (!cyph_serial_here(s)) {
			spin_unlock(&s->release);
			local_bh_enable();
			/* Nothing ready: the next unit lists it anyway. */
			return !cyph_ring_ready(&s->ring);
		}
		if (ops->hold)
			ops->hold(s->tunnel);
		n = cyph_serial_drain(s, min(budget, ops->batch));
		spin_unlock(&s->release);
		if (cyph_in_pass())
			cyph_pass_keep(ops);
		else if (ops->flush)
			ops->flush(true);
		if (ops->hand_on)
			ops->hand_on(s->tunnel);
		local_bh_enable();
		if (!n)
			break;
		cond_resched();
	}
	if (!budget && cyph_ring_ready(&s->ring))
		cyph_serial_kick(s);
	return true;
}

/* A CPU's runner: every stage listed so far, in the order they came. */
void cyph_serial_cpu_work(struct work_struct *work)
{
	struct cyph_serial_cpu *c = container_of(work, struct cyph_serial_cpu,
						 work);
	struct llist_node *list = llist_reverse_order(llist_del_all(&c->ready));
	struct cyph_serial *s, *next;
	bool waited = false;

	llist_for_each_entry_safe(s, next, list, node) {
		/*
		 * Unlisted before it runs: a unit published from here on
		 * lists it again, so none is left behind. (The next entry
		 * was read first; listing again rewrites s->node.)
		 */
		clear_bit(CYPH_SERIAL_LISTED, &s->flags);
		/*
		 * Pairs with the full barrier of test_and_set_bit() in
		 * cyph_serial_kick(): a publisher that found the bit still
		 * set completed its slot before, and the drain sees it.
		 */
		smp_mb__after_atomic();
		if (!cyph_serial_run(s)) {
			/*
			 * Not its CPU, or its old CPU still holds its
			 * packets: listed again where it now runs. Should
			 * that be this list (the old CPU has yet to hand
			 * them on), give it time first, once a pass.
			 */
			if (!waited &&
			    per_cpu_ptr(&cyph_serial_cpus, cyph_serial_cpu(s)) == c) {
				cyph_pass_flush(true);
				usleep_range(CYPH_SERIAL_WAIT_US / 2,
					     CYPH_SERIAL_WAIT_US);
				waited = true;
			}
			cyph_serial_kick(s);
		}
		/*
		 * The replies the stack made to a stage's packets (its
		 * ops->hand_on) leave with the stage; what other stages
		 * kept back, with the pass or within a tick.
		 */
		cyph_pass_flush(!!s->ops->hand_on);
		/* The listing's reference: @s may go with it. */
		cyph_tunnel_put(s->tunnel);
		cond_resched();
	}
	cyph_pass_flush(true);
}

void cyph_serial_init_cpus(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct cyph_serial_cpu *c = per_cpu_ptr(&cyph_serial_cpus, cpu);

		init_llist_head(&c->ready);
		INIT_WORK(&c->work, cyph_serial_cpu_work);
		per_cpu_ptr(&cyph_serial_load[CYPH_TX], cpu)->stamp = jiffies;
		per_cpu_ptr(&cyph_serial_load[CYPH_RX], cpu)->stamp = jiffies;
		/* Whatever jiffies' start, a stage may leave at once. */
		per_cpu(cyph_serial_evened, cpu) = jiffies - cyph_load_half();
	}
}

/*
 * The serial stage, right here if the direction allows it (TX), or in a
 * softirq (a unit opened where it arrived, see cyph_serial_inline(), or
 * any other completion there), if this is its CPU and no one else is in
 * it. Return true if nothing that is ready was left for the runner.
 */
static bool cyph_serial_release_here(struct cyph_serial *s)
{
	struct cyph_tunnel *t = s->tunnel;

	if (!(s->ops->release_in_worker || in_serving_softirq()) ||
	    smp_processor_id() != cyph_serial_cpu(s) ||
	    !kref_get_unless_zero(&t->ref))
		return false;
	if (!spin_trylock(&s->release)) {
		cyph_tunnel_put(t);
		return false;
	}
	if (!cyph_serial_here(s)) {
		spin_unlock(&s->release);
		cyph_tunnel_put(t);
		return false;
	}
	cyph_serial_drain(s, s->ops->batch);
	spin_unlock(&s->release);
	if (cyph_in_pass())
		cyph_pass_keep(s->ops);
	else if (s->ops->flush)
		s->ops->flush(true);
	cyph_tunnel_put(t);
	/* The caller's RCU read lock keeps the ring readable. */
	return !cyph_ring_ready(&s->ring);
}

/* Inline budgets of each CPU, per direction, over every tunnel. */
static DEFINE_PER_CPU(struct cyph_bucket, cyph_inline_cpu[2]);

/* Refill @b for the time since its last refill, at most to @burst. */
static void cyph_bucket_refill(struct cyph_bucket *b, unsigned int rate,
			       unsigned int burst)
{
	unsigned long now = jiffies, elapsed = now - b->stamp;

	if (!elapsed)
		return;
	/* A long idle bucket is full: no product to overflow. */
	if (elapsed >= HZ)
		b->tokens = burst;
	else
		b->tokens = min_t(u64, burst,
				  b->tokens + (u64)elapsed * rate / HZ);
	b->stamp = now;
}

/**
 * cyph_serial_inline() - may this unit be crypted where it arrived?
 * @s: its tunnel's direction, s->produce held
 * @head: the unit
 *
 * Return: true, and its bytes taken from the tunnel's and this CPU's
 * inline budgets, if it is short enough, the workers are idle and both
 * budgets have room (see CYPH_INLINE_SEGS).
 */
bool cyph_serial_inline(struct cyph_serial *s, const struct sk_buff *head)
{
	struct cyph_device *cd = s->tunnel->cd;
	const struct cyph_queue *q = s->ops->dir == CYPH_TX ? &cd->tx_queue :
							     &cd->rx_queue;
	struct cyph_bucket *cpu = this_cpu_ptr(&cyph_inline_cpu[s->ops->dir]);
	unsigned int bytes = 0, n = 0;
	const struct sk_buff *skb;

	for (skb = head; skb; skb = skb->next) {
		if (++n > s->ops->inline_segs)
			return false;
		bytes += skb->len;
	}
	/*
	 * Only while the workers are idle: a unit crypted here (often in a
	 * softirq) runs before any queued one, so while some wait, all wait,
	 * and the queue's round robin stays fair.
	 */
	if (atomic_read(&s->queued) || READ_ONCE(q->len) ||
	    !cyph_worker_cpu_here(cd))
		return false;
	cyph_bucket_refill(&s->inline_budget, CYPH_INLINE_RATE,
			   CYPH_INLINE_BURST);
	cyph_bucket_refill(cpu, CYPH_INLINE_CPU_RATE, CYPH_INLINE_CPU_BURST);
	if (s->inline_budget.tokens < bytes || cpu->tokens < bytes)
		return false;
	s->inline_budget.tokens -= bytes;
	cpu->tokens -= bytes;
	return true;
}

/**
 * cyph_serial_publish() - hand a finished unit to the serial stage
 * @s: the tunnel's direction
 * @seq: the unit's ring slot
 * @item: the unit
 *
 * Context: any but hard interrupt. With ops->release_in_worker (TX), when
 * this is the stage's CPU and no one else is releasing, release right
 * here: the unit (and any it was holding up) leaves without waking another
 * thread, still from the one CPU that keeps the flow in order. Whoever
 * finds the release lock taken lists the stage instead, so no unit is
 * left behind. Otherwise (RX) through the CPU's runner, whose batches let
 * GRO merge a flow's packets, except in a softirq: a unit opened where it
 * arrived is released there too, the softirq being a batch of its own.
 */
void cyph_serial_publish(struct cyph_serial *s, u32 seq, void *item)
{
	rcu_read_lock();
	local_bh_disable();
	cyph_ring_complete(&s->ring, seq, item);
	if (!cyph_serial_release_here(s))
		cyph_serial_kick(s);
	local_bh_enable();
	rcu_read_unlock();
}
