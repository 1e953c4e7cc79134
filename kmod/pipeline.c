// SPDX-License-Identifier: GPL-2.0
/*
 * The parallel pipeline's moving parts: the module's workqueue, the
 * device crypt queues with their per-CPU workers, and the choice of CPUs.
 * The serial stage that follows is serial.c's.
 *
 * Workers are the first `workers` active CPUs (all when 0): online and
 * not on their way down, whose per-CPU work still runs there (a CPU
 * going offline stops being active first, while its work items and
 * softirqs still run on it; see placement.c). Each worker
 * drains the shared queue, taking units from the tunnels in turn
 * (sched.c), so a busy CPU's share is taken by the others and a tunnel
 * with many units queued waits its turn like one with few. A unit wakes
 * an idle worker, the next one round-robin, and none when every worker is
 * already draining: those take it in turn, and a wake-up would only run
 * a worker once more to find the queue empty. A tunnel's serial stage per
 * direction runs on one of those CPUs at a time (serial.c): a flow leaves
 * (TX) and enters the stack (RX) from one CPU, so nothing behind us, such
 * as per-CPU backlogs or transmit queues chosen per CPU, can reorder it.
 */

#include <linux/cpumask.h>
#include <linux/slab.h>

#include "device.h"
#include "pipeline.h"
#include "tunnel.h"

struct workqueue_struct *cyph_wq;

int cyph_pipeline_init(void)
{
	/*
	 * CPU-intensive: a crypt worker may run for long, and the
	 * serial runner on the same CPU must not wait for it to finish.
	 */
	cyph_wq = alloc_workqueue("cyphonic", WQ_CPU_INTENSIVE | WQ_MEM_RECLAIM,
				  0);
	if (!cyph_wq)
		return -ENOMEM;
	cyph_serial_init_cpus();
	return 0;
}

/* Devices are gone by now, so nothing can queue work any more. */
void cyph_pipeline_exit(void)
{
	destroy_workqueue(cyph_wq);
}

/* How many CPUs @cd's workers are on. */
unsigned int cyph_worker_count(const struct cyph_device *cd)
{
	unsigned int active = num_active_cpus();
	unsigned int n = READ_ONCE(cd->workers);

	return !n || n > active ? active : n;
}

/* The @i-th worker CPU of @cd, modulo the number of workers. */
unsigned int cyph_worker_cpu(const struct cyph_device *cd, unsigned int i)
{
	unsigned int cpu = cpumask_nth(i % cyph_worker_count(cd),
				       cpu_active_mask);

	/* A CPU went away under us: any active one will do. */
	return cpu < nr_cpu_ids ? cpu : cpumask_first(cpu_active_mask);
}

/* Is @cpu one of @cd's workers (the first `workers` active CPUs)? */
bool cyph_worker_cpu_is(const struct cyph_device *cd, unsigned int cpu)
{
	unsigned int n = READ_ONCE(cd->workers);

	if (!cpu_active(cpu))
		return false;
	return !n || n >= num_active_cpus() ||
	       cpu <= cpumask_nth(n - 1, cpu_active_mask);
}

/* Is this CPU one of @cd's workers? Context: preemption off. */
bool cyph_worker_cpu_here(const struct cyph_device *cd)
{
	return cyph_worker_cpu_is(cd, smp_processor_id());
}

/* @head's tunnel's pipeline for @q's direction. */
static struct cyph_serial *cyph_queue_serial(const struct cyph_queue *q,
					     struct sk_buff *head)
{
	struct cyph_tunnel *t = cyph_cb(head)->tunnel;

	return q->ops->dir == CYPH_TX ? &t->tx : &t->rx;
}

/*
 * What a unit takes of its queue's length (1, or with ops->queue_packets
 * its packets) and, in @bytes, what it costs in the crypt stage for the
 * round robin. A unit is a list: a TX unit the segments of one GSO burst,
 * an RX unit a tunnel's consecutive datagrams of one received train.
 */
static unsigned int cyph_unit_room(const struct cyph_queue *q,
				   const struct sk_buff *head,
				   unsigned int *bytes)
{
	unsigned int n = 0, cost = 0;

	if (!bytes && !q->ops->queue_packets)
		return 1;
	for (; head; head = head->next) {
		cost += head->len;
		n++;
	}
	if (bytes)
		*bytes = cost;
	return q->ops->queue_packets ? n : 1;
}

/*
 * CoDel (codel.h) drops one packet per decision, the unit's first that is
 * still fine, not a whole GSO burst: marked, it still takes its ring
 * slot through the crypt stage, which skips it, to its release, which
 * counts it.
 */
static void cyph_queue_mark_late(const struct cyph_queue *q,
				 struct sk_buff *head)
{
	u16 why = q->ops->dir == CYPH_TX ? CYPHONIC_STAT_TX_DROP_QUEUE_DELAY :
					   CYPHONIC_STAT_RX_DROP_QUEUE_DELAY;

	for (; head; head = head->next) {
		if (cyph_cb(head)->why == CYPH_OK) {
			cyph_cb(head)->why = why;
			return;
		}
	}
}

/*
 * Take the next unit, from the tunnel whose turn it is; NULL if none, and
 * then @w is idle: the next unit queued wakes it.
 */
static struct sk_buff *cyph_queue_pop(struct cyph_queue *q,
				      struct cyph_worker *w)
{
	unsigned int room, bytes;
	struct cyph_drr_flow *f;
	struct cyph_serial *s;
	struct sk_buff *head;
	bool late;

	spin_lock_bh(&q->lock);
	f = cyph_drr_next(&q->drr);
	if (!f) {
		w->busy = false;
		spin_unlock_bh(&q->lock);
		return NULL;
	}
	s = container_of(f, struct cyph_serial, flow);
	head = s->qhead;
	s->qhead = cyph_cb(head)->qnext;
	if (!s->qhead)
		s->qtail = NULL;
	room = cyph_unit_room(q, head, &bytes);
	q->len -= room;
	cyph_drr_charge(f, bytes, !s->qhead);
	late = cyph_codel_pop(&s->codel, cyph_codel_now(),
			      cyph_cb(head)->enqueued, !s->qhead);
	spin_unlock_bh(&q->lock);
	if (late)
		cyph_queue_mark_late(q, head);
	return head;
}

/**
 * cyph_unit_crypt() - stage 2 for every packet of a unit still fine
 * @head: the unit
 * @one: seals or opens one packet, ending in @put (at once, or in the
 *	 completion of an asynchronous cipher)
 * @put: one packet less in the AEAD; the last one publishes the unit
 */
void cyph_unit_crypt(struct sk_buff *head,
		     void (*one)(struct sk_buff *head, struct sk_buff *skb),
		     void (*put)(struct sk_buff *head))
{
	struct sk_buff *skb;

	/* One count for this loop, so no completion publishes too early. */
	atomic_set(&cyph_cb(head)->pending, 1);
	for (skb = head; skb; skb = skb->next) {
		if (cyph_cb(skb)->why != CYPH_OK)
			continue;
		atomic_inc(&cyph_cb(head)->pending);
		one(head, skb);
	}
	put(head);
}

void cyph_queue_work(struct work_struct *work)
{
	struct cyph_worker *w = container_of(work, struct cyph_worker, work);
	struct cyph_queue *q = w->queue;
	struct sk_buff *head;

	while ((head = cyph_queue_pop(q, w))) {
		/* Out of the queue; the unit still holds its tunnel. */
		cyph_share_put(&q->share, &cyph_queue_serial(q, head)->queued);
		q->ops->crypt(head);
		/*
		 * The queue may never run empty under a flood: what was
		 * released a tick ago leaves now, not with the pass.
		 */
		cyph_pass_flush(false);
		cond_resched();
	}
	cyph_pass_flush(true);
}

int cyph_queue_init(struct cyph_queue *q, struct cyph_device *cd,
		    const struct cyph_stage_ops *ops)
{
	int cpu;

	/* Charged to the device's creator, as all its per-CPU state. */
	q->worker = alloc_percpu_gfp(struct cyph_worker, GFP_KERNEL_ACCOUNT);
	if (!q->worker)
		return -ENOMEM;
	spin_lock_init(&q->lock);
	cyph_drr_init(&q->drr, CYPH_DRR_QUANTUM);
	q->len = 0;
	for_each_possible_cpu(cpu) {
		struct cyph_worker *w = per_cpu_ptr(q->worker, cpu);

		INIT_WORK(&w->work, cyph_queue_work);
		w->queue = q;
		w->busy = false;
	}
	q->cd = cd;
	q->ops = ops;
	cyph_share_init(&q->share, CYPH_QUEUE_LEN);
	atomic_set(&q->next, 0);
	return 0;
}

/*
 * The worker to wake for a unit just queued, marked busy, or nr_cpu_ids
 * when every worker is busy. Context: q->lock held.
 */
static unsigned int cyph_queue_idle_worker(struct cyph_queue *q)
{
	unsigned int n = cyph_worker_count(q->cd);
	unsigned int i = atomic_inc_return(&q->next);
	unsigned int end = i + n;

	for (; i != end; i++) {
		unsigned int cpu = cyph_worker_cpu(q->cd, i);
		struct cyph_worker *w = per_cpu_ptr(q->worker, cpu);

		if (!w->busy) {
			w->busy = true;
			return cpu;
		}
	}
	return nr_cpu_ids;
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
	unsigned int room = cyph_unit_room(q, head, NULL), cpu;

	if (unlikely(!cyph_share_take(&q->share, &s->queued)))
		return -EBUSY;
	spin_lock_bh(&q->lock);
	if (unlikely(q->len + room > CYPH_QUEUE_LEN)) {
		spin_unlock_bh(&q->lock);
		cyph_share_put(&q->share, &s->queued);
		return -ENOSPC;
	}
	cyph_cb(head)->qnext = NULL;
	cyph_cb(head)->enqueued = cyph_codel_now();
	if (s->qtail)
		cyph_cb(s->qtail)->qnext = head;
	else
		s->qhead = head;
	s->qtail = head;
	q->len += room;
	cyph_drr_wake(&q->drr, &s->flow);
	cpu = cyph_queue_idle_worker(q);
	spin_unlock_bh(&q->lock);
	if (cpu < nr_cpu_ids)
		queue_work_on(cpu, cyph_wq, &per_cpu_ptr(q->worker, cpu)->work);
	return 0;
}
