// SPDX-License-Identifier: GPL-2.0
/*
 * Receive cells: where the RX serial stage hands opened packets to the
 * stack. Each CPU has one per device, a queue and a NAPI context that
 * feeds it through GRO at the CPU's next softirq, so the packets a stage
 * releases together meet in one GRO run (the kernel's gro_cells do the
 * same). They are ours, not gro_cells', so that a stage about to move to
 * another CPU can see whether the old CPU's cell still holds packets it
 * released there (cyph_rx_cell_idle(), used by serial.c): one released
 * on the new CPU must not overtake them.
 */

#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "backlog.h"
#include "rxcell.h"

/*
 * The cell's last @n packets are in the stack: count them, with the
 * backlog count past what they queued there (a veth on the way).
 */
static void cyph_rx_cell_handed(struct cyph_rx_cell *cell, unsigned int n)
{
	int cpu = smp_processor_id();

	if (!n)
		return;
	WRITE_ONCE(cell->backlog_cpu, cpu);
	WRITE_ONCE(cell->backlog_mark, cyph_backlog_tail(cpu));
	/* The marks first: cyph_rx_cell_passed() reads them after. */
	smp_store_release(&cell->handed, cell->handed + n);
}

/*
 * Context: softirq, or a threaded NAPI's kthread (`threaded` set on the
 * device), which may run on another CPU than the cell's: hence the
 * queue's lock. Bottom halves are off either way.
 */
static int cyph_rx_cell_poll(struct napi_struct *napi, int budget)
{
	struct cyph_rx_cell *cell = container_of(napi, struct cyph_rx_cell,
						 napi);
	struct sk_buff_head batch;
	struct sk_buff *skb;
	int done = 0;

	/* The last poll's packets reached the stack when it returned. */
	cyph_rx_cell_handed(cell, cell->unhanded);
	cell->unhanded = 0;
	__skb_queue_head_init(&batch);
	spin_lock(&cell->skbs.lock);
	while (done < budget && (skb = __skb_dequeue(&cell->skbs))) {
		__skb_queue_tail(&batch, skb);
		done++;
	}
	spin_unlock(&cell->skbs.lock);
	while ((skb = __skb_dequeue(&batch)))
		napi_gro_receive(napi, skb);
	/*
	 * All of it out of GRO before the context completes, even with
	 * gro_flush_timeout set (which would keep recent packets back
	 * behind a timer): serial.c reads a completed cell as one that
	 * holds nothing.
	 */
	napi_gro_flush(napi, false);
	if (done < budget && napi_complete_done(napi, done)) {
		/* It handed the rest to the stack (gro_normal_list()). */
		cyph_rx_cell_handed(cell, done);
	} else {
		/*
		 * The packets out of GRO reach the stack when this poll
		 * returns (__napi_poll()), so they count at the next one,
		 * which comes: the context is still scheduled.
		 */
		cell->unhanded += done;
	}
	return done;
}

int cyph_rx_cells_init(struct cyph_rx_cells *rc, struct net_device *dev)
{
	int cpu;

	rc->cells = alloc_percpu(struct cyph_rx_cell);
	if (!rc->cells)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct cyph_rx_cell *cell = per_cpu_ptr(rc->cells, cpu);

		skb_queue_head_init(&cell->skbs);
		cell->backlog_cpu = -1;		/* nothing handed on yet */
		/* A busy poller would run the cell on its own CPU. */
		set_bit(NAPI_STATE_NO_BUSY_POLL, &cell->napi.state);
		netif_napi_add(dev, &cell->napi, cyph_rx_cell_poll);
		napi_enable(&cell->napi);
	}
	return 0;
}

struct cyph_rx_cells_free {
	struct rcu_head rcu;
	struct cyph_rx_cell __percpu *cells;
};

static void cyph_rx_cells_free_rcu(struct rcu_head *head)
{
	struct cyph_rx_cells_free *f = container_of(head, struct cyph_rx_cells_free,
						    rcu);

	free_percpu(f->cells);
	kfree(f);
}

/*
 * The device is unregistered: no packet is released any more. netpoll
 * may still walk the device's NAPI list under RCU, so the cells go after
 * a grace period, without waiting for it here: a namespace's cleanup
 * destroys its devices one after the other.
 */
void cyph_rx_cells_destroy(struct cyph_rx_cells *rc)
{
	struct cyph_rx_cells_free *f;
	int cpu;

	if (!rc->cells)
		return;
	for_each_possible_cpu(cpu) {
		struct cyph_rx_cell *cell = per_cpu_ptr(rc->cells, cpu);

		napi_disable(&cell->napi);
		__netif_napi_del(&cell->napi);
		__skb_queue_purge(&cell->skbs);
	}
	f = kmalloc(sizeof(*f), GFP_KERNEL | __GFP_NOWARN);
	if (f) {
		f->cells = rc->cells;
		call_rcu(&f->rcu, cyph_rx_cells_free_rcu);
	} else {
		synchronize_rcu_expedited();
		free_percpu(rc->cells);
	}
	rc->cells = NULL;
}

/**
 * cyph_rx_cells_receive() - hand an opened packet to the stack
 * @rc: the device's cells
 * @skb: the inner packet, skb->dev set
 *
 * Context: bottom halves off (the RX serial stage).
 * Return: NET_RX_SUCCESS, or NET_RX_DROP with @skb freed and counted in
 * the device's rx_dropped (device down, or this CPU's cell full, or for
 * a packet GRO cannot take, this CPU's backlog full).
 */
int cyph_rx_cells_receive(struct cyph_rx_cells *rc, struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	struct cyph_rx_cell *cell;
	bool first;

	if (unlikely(!(dev->flags & IFF_UP))) {
		dev_core_stats_rx_dropped_inc(dev);
		kfree_skb_reason(skb, SKB_DROP_REASON_DEV_READY);
		return NET_RX_DROP;
	}
	/* GRO cannot take these: this CPU's backlog, which serial.c watches too. */
	if (skb_cloned(skb) || netif_elide_gro(dev))
		return netif_rx(skb);
	cell = this_cpu_ptr(rc->cells);
	spin_lock(&cell->skbs.lock);
	if (unlikely(skb_queue_len(&cell->skbs) > READ_ONCE(netdev_max_backlog))) {
		spin_unlock(&cell->skbs.lock);
		dev_core_stats_rx_dropped_inc(dev);
		kfree_skb_reason(skb, SKB_DROP_REASON_CPU_BACKLOG);
		return NET_RX_DROP;
	}
	__skb_queue_tail(&cell->skbs, skb);
	WRITE_ONCE(cell->queued, cell->queued + 1);
	first = skb_queue_len(&cell->skbs) == 1;
	spin_unlock(&cell->skbs.lock);
	if (first)
		napi_schedule(&cell->napi);
	return NET_RX_SUCCESS;
}

/**
 * cyph_rx_cell_mark() - this CPU's cell's count of packets queued
 * @rc: the device's cells (none in some KUnit devices: 0)
 *
 * Context: bottom halves off, after the packets it is to count were
 * queued on this CPU (the RX serial stage, after a drain).
 */
u32 cyph_rx_cell_mark(const struct cyph_rx_cells *rc)
{
	return rc->cells ? READ_ONCE(this_cpu_ptr(rc->cells)->queued) : 0;
}

/**
 * cyph_rx_cell_passed() - has @cpu's cell handed on what @mark counts?
 * @rc: the device's cells
 * @cpu: the CPU @mark was read on
 * @mark: cyph_rx_cell_mark() read there after the packets were queued
 * @backlog_cpu: set to the CPU whose backlog they may have gone to
 * @backlog_mark: set to that backlog's count past them (cyph_backlog_tail())
 *
 * A busy cell, shared by every tunnel of the device, is rarely idle; its
 * count of packets handed whole to the stack tells when the ones before
 * @mark were, as RPS tells by its backlogs' counts when a flow may move
 * (net/core/dev.c, get_rps_cpu()). What they set off on this CPU's
 * backlog (a veth on the way) is past the backlog count returned, which
 * the caller must see passed too. With threaded NAPI (`threaded` set on
 * the device) polls run on any CPU: only an idle cell and idle backlogs
 * count then, and there is no backlog count left to check.
 *
 * Return: true if they have all been handed on; then @backlog_cpu is -1
 * or names the backlog that @backlog_mark is a count of.
 */
bool cyph_rx_cell_passed(const struct cyph_rx_cells *rc, unsigned int cpu,
			 u32 mark, int *backlog_cpu, unsigned int *backlog_mark)
{
	const struct cyph_rx_cell *cell;

	*backlog_cpu = -1;
	if (!rc->cells)
		return true;
	cell = per_cpu_ptr(rc->cells, cpu);
	if (test_bit(NAPI_STATE_THREADED, &cell->napi.state))
		return cyph_rx_cell_idle(rc, cpu) && cyph_backlogs_idle();
	/* Pairs with cyph_rx_cell_handed(): the backlog marks after. */
	if ((s32)(smp_load_acquire(&cell->handed) - mark) < 0 &&
	    !cyph_rx_cell_idle(rc, cpu))
		return false;
	*backlog_cpu = READ_ONCE(cell->backlog_cpu);
	*backlog_mark = READ_ONCE(cell->backlog_mark);
	return true;
}

/**
 * cyph_rx_cell_idle() - has @cpu's cell handed on all it was given?
 * @rc: the device's cells (none in some KUnit devices: idle)
 * @cpu: any possible CPU
 *
 * The caller must be ordered after the releases it cares about (serial.c
 * holds the stage's release lock). A packet queued keeps the NAPI context
 * scheduled until a poll has taken the queue empty and flushed GRO
 * (cyph_rx_cell_poll()).
 */
bool cyph_rx_cell_idle(const struct cyph_rx_cells *rc, unsigned int cpu)
{
	const struct cyph_rx_cell *cell;

	if (!rc->cells)
		return true;
	cell = per_cpu_ptr(rc->cells, cpu);
	return !test_bit(NAPI_STATE_SCHED, &cell->napi.state) &&
	       skb_queue_empty_lockless(&cell->skbs);
}
