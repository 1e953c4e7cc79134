// SPDX-License-Identifier: GPL-2.0
/*
 * The parallel pipeline's moving parts: the module's workqueue, the
 * device crypt queues with their per-CPU workers, the choice of CPUs, and
 * the hand-over from a worker to a tunnel's serial stage.
 *
 * Workers are the first `workers` online CPUs (all when 0). A device
 * spreads units over them round-robin; each worker drains the shared queue,
 * so a busy CPU's share is taken by the others. A tunnel's serial stage per
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

static void cyph_queue_work(struct work_struct *work)
{
	struct cyph_worker *w = container_of(work, struct cyph_worker, work);
	struct cyph_queue *q = w->queue;
	struct sk_buff *head;

	while ((head = ptr_ring_consume_bh(&q->ring))) {
		q->crypt(head);
		cond_resched();
	}
}

int cyph_queue_init(struct cyph_queue *q, struct cyph_device *cd,
		    void (*crypt)(struct sk_buff *head))
{
	int cpu, err;

	err = ptr_ring_init(&q->ring, CYPH_QUEUE_LEN, GFP_KERNEL);
	if (err)
		return err;
	q->worker = alloc_percpu(struct cyph_worker);
	if (!q->worker) {
		ptr_ring_cleanup(&q->ring, NULL);
		return -ENOMEM;
	}
	for_each_possible_cpu(cpu) {
		struct cyph_worker *w = per_cpu_ptr(q->worker, cpu);

		INIT_WORK(&w->work, cyph_queue_work);
		w->queue = q;
	}
	q->cd = cd;
	q->crypt = crypt;
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
	WARN_ON_ONCE(!__ptr_ring_empty(&q->ring));
	ptr_ring_cleanup(&q->ring, NULL);
	free_percpu(q->worker);
	q->worker = NULL;
}

/**
 * cyph_queue_enqueue() - hand a unit to the crypt workers
 * @q: the device's queue for the unit's direction
 * @head: unit head, its ring slot reserved
 *
 * Return: false if the queue is full; the caller still owns @head.
 */
bool cyph_queue_enqueue(struct cyph_queue *q, struct sk_buff *head)
{
	unsigned int cpu;

	if (unlikely(ptr_ring_produce_bh(&q->ring, head)))
		return false;
	cpu = cyph_worker_cpu(q->cd, atomic_inc_return(&q->next));
	queue_work_on(cpu, cyph_wq, &per_cpu_ptr(q->worker, cpu)->work);
	return true;
}

/**
 * cyph_serial_kick() - make sure a tunnel's serial work runs
 * @t: tunnel, kept alive by the caller's RCU read lock
 * @work: its TX or RX serial work
 * @i: which worker CPU it belongs on (stable per tunnel and direction)
 *
 * A queued work holds a tunnel reference, dropped when it has run. The
 * tunnel may already be on its way out (its last unit popped and put by
 * a concurrent run): then there is nothing left for the work to do.
 */
void cyph_serial_kick(struct cyph_tunnel *t, struct work_struct *work,
		      unsigned int i)
{
	if (!kref_get_unless_zero(&t->ref))
		return;
	if (!queue_work_on(cyph_worker_cpu(t->cd, i), cyph_wq, work))
		cyph_tunnel_put(t);
}
