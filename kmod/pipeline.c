// SPDX-License-Identifier: GPL-2.0
/*
 * The parallel pipeline's moving parts: the module's workqueue, the
 * device crypt queues with their per-CPU workers, the choice of CPUs, and
 * the hand-over from a worker to a tunnel's serial stage.
 *
 * Workers are the first `workers` online CPUs (all when 0). A device
 * wakes them round-robin; each worker drains the shared queue, taking
 * units from the tunnels in turn (sched.c), so a busy CPU's share is taken
 * by the others and a tunnel with many units queued waits its turn like
 * one with few. A tunnel's serial stage per
 * direction stays on one of those CPUs, picked by its index: a flow leaves
 * (TX) and enters the stack (RX) from one CPU, so nothing behind us, such
 * as per-CPU backlogs or transmit queues chosen per CPU, can reorder it.
 */

#include <linux/cpumask.h>
#include <linux/slab.h>

#include "device.h"
#include "pipeline.h"
#include "tunnel.h"

static struct workqueue_struct *cyph_wq;

int cyph_pipeline_init(void)
{
	/*
	 * CPU-intensive: a crypt worker may run for long, and a tunnel's
	 * serial work on the same CPU must not wait for it to finish.
	 */
	cyph_wq = alloc_workqueue("cyphonic", WQ_CPU_INTENSIVE | WQ_MEM_RECLAIM,
				  0);
	return cyph_wq ? 0 : -ENOMEM;
}

/* Devices are gone by now, so nothing can queue work any more. */
void cyph_pipeline_exit(void)
{
	destroy_workqueue(cyph_wq);
}

/* The @i-th worker CPU of @cd, modulo the number of workers. */
unsigned int cyph_worker_cpu(const struct cyph_device *cd, unsigned int i)
{
	unsigned int online = num_online_cpus();
	unsigned int n = READ_ONCE(cd->workers);
	unsigned int cpu;

	if (!n || n > online)
		n = online;
	cpu = cpumask_nth(i % n, cpu_online_mask);
	/* A CPU went offline under us: any online one will do. */
	return cpu < nr_cpu_ids ? cpu : cpumask_first(cpu_online_mask);
}

/* @head's tunnel's pipeline for @q's direction. */
static struct cyph_serial *cyph_queue_serial(const struct cyph_queue *q,
					     struct sk_buff *head)
{
	struct cyph_tunnel *t = cyph_cb(head)->tunnel;

	return q->ops->dir == CYPH_TX ? &t->tx : &t->rx;
}

/*
 * What a unit costs in the crypt stage, for the round robin: its bytes. A
 * unit is a list: a TX unit the segments of one GSO burst, an RX unit one
 * datagram (rx.c unlinks it from the segments it arrived with).
 */
static unsigned int cyph_unit_cost(const struct sk_buff *head)
{
	unsigned int cost = 0;

	for (; head; head = head->next)
		cost += head->len;
	return cost;
}

/* Take the next unit, from the tunnel whose turn it is; NULL if none. */
static struct sk_buff *cyph_queue_pop(struct cyph_queue *q)
{
	struct cyph_drr_flow *f;
	struct cyph_serial *s;
	struct sk_buff *head;

	spin_lock_bh(&q->lock);
	f = cyph_drr_next(&q->drr);
	if (!f) {
		spin_unlock_bh(&q->lock);
		return NULL;
	}
	s = container_of(f, struct cyph_serial, flow);
	head = s->qhead;
	s->qhead = cyph_cb(head)->qnext;
	if (!s->qhead)
		s->qtail = NULL;
	q->len--;
	cyph_drr_charge(f, cyph_unit_cost(head), !s->qhead);
	spin_unlock_bh(&q->lock);
	return head;
}

static void cyph_queue_work(struct work_struct *work)
{
	struct cyph_worker *w = container_of(work, struct cyph_worker, work);
	struct cyph_queue *q = w->queue;
	struct sk_buff *head;

	while ((head = cyph_queue_pop(q))) {
		/* Out of the queue; the unit still holds its tunnel. */
		cyph_share_put(&q->share, &cyph_queue_serial(q, head)->queued);
		q->ops->crypt(head);
		cond_resched();
	}
}

int cyph_queue_init(struct cyph_queue *q, struct cyph_device *cd,
		    const struct cyph_stage_ops *ops)
{
	int cpu;

	q->worker = alloc_percpu(struct cyph_worker);
	if (!q->worker)
		return -ENOMEM;
	spin_lock_init(&q->lock);
	cyph_drr_init(&q->drr, CYPH_DRR_QUANTUM);
	q->len = 0;
	for_each_possible_cpu(cpu) {
		struct cyph_worker *w = per_cpu_ptr(q->worker, cpu);

		INIT_WORK(&w->work, cyph_queue_work);
		w->queue = q;
	}
	q->cd = cd;
	q->ops = ops;
	cyph_share_init(&q->share, CYPH_QUEUE_LEN);
	atomic_set(&q->next, 0);
	return 0;
}

/*
 * Phase two of device teardown: every unit holds a tunnel and every tunnel
 * the device, so the queue is empty; wait for workers still returning.
 */
void cyph_queue_destroy(struct cyph_queue *q)
{
	int cpu;

	if (!q->worker)
		return;
	for_each_possible_cpu(cpu)
		flush_work(&per_cpu_ptr(q->worker, cpu)->work);
	WARN_ON_ONCE(q->len || !list_empty(&q->drr.active));
	free_percpu(q->worker);
	q->worker = NULL;
}

/**
 * cyph_queue_enqueue() - hand a unit to the crypt workers
 * @q: the device's queue for the unit's direction
 * @head: unit head, its ring slot reserved, cyph_cb(head)->tunnel set
 *
 * The unit joins the back of its tunnel's FIFO; the tunnel joins the
 * round robin if it was not in it. Units of one tunnel are taken in the
 * order they came, though the ring slots would keep order anyway.
 *
 * Return: 0, -EBUSY if the unit's tunnel is over its share of the queue,
 * -ENOSPC if the queue is full; on error the caller still owns @head.
 */
int cyph_queue_enqueue(struct cyph_queue *q, struct sk_buff *head)
{
	struct cyph_serial *s = cyph_queue_serial(q, head);
	unsigned int cpu;

	if (unlikely(!cyph_share_take(&q->share, &s->queued)))
		return -EBUSY;
	spin_lock_bh(&q->lock);
	if (unlikely(q->len >= CYPH_QUEUE_LEN)) {
		spin_unlock_bh(&q->lock);
		cyph_share_put(&q->share, &s->queued);
		return -ENOSPC;
	}
	cyph_cb(head)->qnext = NULL;
	if (s->qtail)
		cyph_cb(s->qtail)->qnext = head;
	else
		s->qhead = head;
	s->qtail = head;
	q->len++;
	cyph_drr_wake(&q->drr, &s->flow);
	spin_unlock_bh(&q->lock);
	cpu = cyph_worker_cpu(q->cd, atomic_inc_return(&q->next));
	queue_work_on(cpu, cyph_wq, &per_cpu_ptr(q->worker, cpu)->work);
	return 0;
}

static unsigned int cyph_serial_cpu(const struct cyph_serial *s)
{
	return cyph_worker_cpu(s->tunnel->cd, s->tunnel->index + s->ops->dir);
}

/*
 * Make sure the serial work runs. A queued work holds a tunnel reference,
 * dropped when it has run. The caller holds a reference or the RCU read
 * lock: in the latter case the tunnel may be on its way out (its last
 * unit released by a concurrent drain), and then nothing is left to do.
 */
static void cyph_serial_kick(struct cyph_serial *s)
{
	struct cyph_tunnel *t = s->tunnel;

	if (!kref_get_unless_zero(&t->ref))
		return;
	if (!queue_work_on(cyph_serial_cpu(s), cyph_wq, &s->work))
		cyph_tunnel_put(t);
}

/* Release up to @budget units in order; s->release held, BH off. */
static unsigned int cyph_serial_drain(struct cyph_serial *s,
				      unsigned int budget)
{
	unsigned int n = 0;
	void *item;

	while (n < budget && (item = cyph_ring_pop(&s->ring))) {
		s->ops->release(s->tunnel, item);
		n++;
	}
	return n;
}

/**
 * cyph_serial_work() - a tunnel's serial stage for one direction
 * @work: &cyph_serial.work
 *
 * Releases in batches under s->release with bottom halves off (so that RX
 * deliveries of a batch meet in one GRO run), yielding in between.
 */
void cyph_serial_work(struct work_struct *work)
{
	struct cyph_serial *s = container_of(work, struct cyph_serial, work);
	unsigned int budget, n;

	for (budget = CYPH_SERIAL_BUDGET; budget; budget -= n) {
		local_bh_disable();
		spin_lock(&s->release);
		n = cyph_serial_drain(s, min(budget, s->ops->batch));
		spin_unlock(&s->release);
		local_bh_enable();
		if (!n)
			break;
		cond_resched();
	}
	/* Out of budget with more ready: go to the back of the queue. */
	if (!budget && cyph_ring_ready(&s->ring))
		cyph_serial_kick(s);
	cyph_tunnel_put(s->tunnel);
}

/*
 * The serial stage, right here if the direction allows it, this is its
 * CPU and no one else is in it. Return true if nothing that is ready was
 * left for the work.
 */
static bool cyph_serial_release_here(struct cyph_serial *s)
{
	struct cyph_tunnel *t = s->tunnel;

	if (!s->ops->release_in_worker ||
	    smp_processor_id() != cyph_serial_cpu(s) ||
	    !kref_get_unless_zero(&t->ref))
		return false;
	if (!spin_trylock(&s->release)) {
		cyph_tunnel_put(t);
		return false;
	}
	cyph_serial_drain(s, s->ops->batch);
	spin_unlock(&s->release);
	cyph_tunnel_put(t);
	/* The caller's RCU read lock keeps the ring readable. */
	return !cyph_ring_ready(&s->ring);
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
 * finds the release lock taken kicks the work instead, so no unit is left
 * behind. Otherwise (RX) always through the work, whose batches let GRO
 * merge a flow's packets.
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
