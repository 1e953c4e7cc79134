// SPDX-License-Identifier: GPL-2.0
/*
 * Receive cells: where the RX serial stage hands opened packets to the
 * stack. Each CPU has one per device, a queue and a NAPI context that
 * feeds it through GRO, so the packets a stage releases together meet in
 * one GRO run (the kernel's gro_cells do the same). They are ours, not
 * gro_cells', so that a stage about to move to another CPU can see
 * whether the old CPU's cell still holds packets it released there
 * (cyph_rx_cell_idle(), used by placement.c): one released on the new CPU
 * must not overtake them.
 *
 * The serial runner, which releases what the crypt workers opened, holds
 * its CPU's cell while it releases a batch and then runs the cell's poll
 * itself (cyph_rx_cells_run()), as a busy poller would. Left to the
 * CPU's softirq, the batch would wait for ksoftirqd's turn beside the
 * workers once the CPU is busy enough for that thread to run (the 6.1
 * kernel then leaves every softirq to it): 9-22 ms per cell with 20
 * devices in `make bench-adapter` (docs/benchmark.md).
 *
 * What is released in a softirq (a unit opened where it arrived)
 * schedules the cell, and waits for that softirq unless a runner on
 * the CPU releases a batch first: the runner then feeds it along with
 * its own (cyph_rx_cell_waiting_here()). Without a bound but
 * netdev_max_backlog, hundreds of packets stood in cells left to the
 * softirq (about 150 ms of 20 devices' TCP streams), and a tail drop
 * past it hit whichever flows came then. So the poll runs CoDel
 * (codel.h) on each packet's wait in the cell: a wait that stays above
 * target drops packets, counted as rx_drop_queue_delay, each flow's in
 * proportion to what it has queued, until the senders have slowed down.
 */

#include <linux/netpoll.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "device.h"
#include "rxcell.h"
#include "stats.h"

/* In a packet's skb->cb while it waits in a cell (GRO takes cb after). */
struct cyph_rx_cell_cb {
	u32 queued;		/* cyph_codel_now() */
};

static struct cyph_rx_cell_cb *cyph_rx_cell_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct cyph_rx_cell_cb) > sizeof(skb->cb));
	return (struct cyph_rx_cell_cb *)skb->cb;
}

/*
 * Context: softirq, a threaded NAPI's kthread (`threaded` set on the
 * device), which may run on another CPU than the cell's (hence the
 * queue's lock), or the serial runner that held the cell
 * (cyph_rx_cells_run()). Bottom halves are off in each.
 */
static int cyph_rx_cell_poll(struct napi_struct *napi, int budget)
{
	struct cyph_rx_cell *cell = container_of(napi, struct cyph_rx_cell,
						 napi);
	struct sk_buff_head batch;
	struct sk_buff *skb;
	bool more;
	int done = 0;
	u32 now;

	__skb_queue_head_init(&batch);
	spin_lock(&cell->skbs.lock);
	while (done < budget && (skb = __skb_dequeue(&cell->skbs))) {
		__skb_queue_tail(&batch, skb);
		done++;
	}
	more = !skb_queue_empty(&cell->skbs);
	spin_unlock(&cell->skbs.lock);
	now = cyph_codel_now();
	while ((skb = __skb_dequeue(&batch))) {
		if (cyph_codel_pop(&cell->codel, now,
				   cyph_rx_cell_cb(skb)->queued,
				   !more && skb_queue_empty(&batch))) {
			cyph_drop(netdev_priv(napi->dev), NULL,
				  CYPHONIC_STAT_RX_DROP_QUEUE_DELAY, skb);
			continue;
		}
		napi_gro_receive(napi, skb);
	}
	if (done < budget) {
		/*
		 * All of it into the stack before the context completes,
		 * even with gro_flush_timeout set (which would keep recent
		 * packets back behind a timer): placement.c reads a completed
		 * cell as one that holds nothing.
		 */
		napi_gro_flush(napi, false);
		napi_complete_done(napi, done);
	}
	return done;
}

int cyph_rx_cells_init(struct cyph_rx_cells *rc, struct net_device *dev)
{
	int cpu;

	/* Charged to the device's creator, as all its per-CPU state. */
	rc->cells = alloc_percpu_gfp(struct cyph_rx_cell, GFP_KERNEL_ACCOUNT);
	if (!rc->cells)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct cyph_rx_cell *cell = per_cpu_ptr(rc->cells, cpu);

		skb_queue_head_init(&cell->skbs);
		cyph_codel_init(&cell->codel);
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
	/* GRO cannot take these: this CPU's backlog, which placement.c watches too. */
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
	cyph_rx_cell_cb(skb)->queued = cyph_codel_now();
	__skb_queue_tail(&cell->skbs, skb);
	first = skb_queue_len(&cell->skbs) == 1;
	spin_unlock(&cell->skbs.lock);
	/* A held cell is run by its holder (cyph_rx_cells_run()). */
	if (first && !cell->held)
		napi_schedule(&cell->napi);
	return NET_RX_SUCCESS;
}

/*
 * Is @napi, or with NULL any device's receive cell, on this CPU's poll
 * list? The list is this CPU's and changes only with interrupts off here.
 */
static bool cyph_rx_cell_listed_here(const struct napi_struct *napi)
{
	struct softnet_data *sd = this_cpu_ptr(&softnet_data);
	struct napi_struct *n;
	unsigned long flags;
	bool found = false;

	local_irq_save(flags);
	list_for_each_entry(n, &sd->poll_list, poll_list) {
		if (napi ? n == napi : n->poll == cyph_rx_cell_poll) {
			found = true;
			break;
		}
	}
	local_irq_restore(flags);
	return found;
}

/*
 * Is a receive cell of any device on this CPU's poll list (scheduled,
 * its packets not yet fed to the stack)? For a CPU going offline
 * (placement.c). Context: the CPU's own, in a task.
 */
bool cyph_rx_cells_listed_here(void)
{
	bool found;

	/* Not in the middle of its softirq (RT runs them preemptibly). */
	local_bh_disable();
	found = cyph_rx_cell_listed_here(NULL);
	local_bh_enable();
	return found;
}

/**
 * cyph_rx_cells_hold() - keep what is released here for cyph_rx_cells_run()
 * @rc: the device's cells (none in some KUnit devices: nothing to hold)
 *
 * Context: bottom halves off until the matching cyph_rx_cells_run(), so
 * that only the holder releases into this CPU's cell meanwhile.
 */
void cyph_rx_cells_hold(struct cyph_rx_cells *rc)
{
	if (rc->cells)
		this_cpu_ptr(rc->cells)->held = true;
}

/*
 * Is @napi on this CPU's list of contexts its next net_rx_action polls
 * (scheduled by a release in a softirq here, say)? Then that poll is
 * all that would hand the cell on, and it waits for ksoftirqd once the
 * CPU is busy (the reason the runner feeds its cell at all). A listed
 * context is that net_rx_action's to poll, and nothing else can poll
 * it meanwhile: net_rx_action cannot start here, nor be half-way
 * through, while bottom halves are off; a NAPI thread is woken instead
 * of listed; busy polling never finds the cell (NAPI_STATE_NO_BUSY_POLL);
 * netpoll is held off by netpoll_poll_lock(). So the runner may poll it
 * as its owner would: napi_complete_done() takes a listed context off
 * its CPU's list, and net_rx_action never sees it. A context on another
 * CPU's list (rare: a NAPI thread switched off as it completed) is not
 * found here, and stays that CPU's.
 */
static bool cyph_rx_cell_waiting_here(struct napi_struct *napi)
{
	if (list_empty_careful(&napi->poll_list))
		return false;
	return cyph_rx_cell_listed_here(napi);
}

/**
 * cyph_rx_cells_run() - feed this CPU's held cell to the stack right here
 * @rc: the device's cells, held by cyph_rx_cells_hold()
 * @max: packets to feed at most (the holder's batch is fed whole)
 *
 * Takes the cell's NAPI context and polls it until it is empty. An
 * unscheduled cell holds only what its holder released since
 * cyph_rx_cells_hold() (a softirq's release would have scheduled it);
 * a context listed on this CPU (cyph_rx_cell_waiting_here()) also holds
 * what softirqs here released before, up to netdev_max_backlog. So
 * after @max packets, in whole polls, the rest is left to the softirq,
 * as net_rx_action's budget would leave it: bottom halves stay off for
 * the holder's batch and not much more. If a poller elsewhere holds the
 * context (a NAPI thread, another CPU's net_rx_action), all of it is
 * that poller's: napi_schedule_prep() marks the context missed, so its
 * poll runs once more and finds it.
 *
 * Context: bottom halves off since cyph_rx_cells_hold().
 */
void cyph_rx_cells_run(struct cyph_rx_cells *rc, unsigned int max)
{
	struct cyph_rx_cell *cell;
	unsigned int fed = 0;
	bool listed;
	void *have;
	int done;

	if (!rc->cells)
		return;
	cell = this_cpu_ptr(rc->cells);
	cell->held = false;
	if (skb_queue_empty_lockless(&cell->skbs))
		return;
	listed = cyph_rx_cell_waiting_here(&cell->napi);
	if (!listed && !napi_schedule_prep(&cell->napi))
		return;
	have = netpoll_poll_lock(&cell->napi);
	/* A poll short of its weight found the queue empty and completed. */
	do {
		done = cyph_rx_cell_poll(&cell->napi, cell->napi.weight);
		fed += done;
	} while (done == cell->napi.weight && fed < max);
	if (done == cell->napi.weight) {
		napi_gro_flush(&cell->napi, false);
		/* Listed, it is on the softirq's list still; else put it there. */
		if (!listed)
			__napi_schedule(&cell->napi);
	}
	netpoll_poll_unlock(have);
}

/**
 * cyph_rx_cell_idle() - has @cpu's cell handed on all it was given?
 * @rc: the device's cells (none in some KUnit devices: idle)
 * @cpu: any possible CPU
 *
 * The caller must be ordered after the releases it cares about (placement.c
 * holds the stage's release lock). A packet is queued either with the
 * NAPI context scheduled or into a held cell, whose holder schedules the
 * context (takes it) after the release lock is dropped; only a poll that
 * owns the context takes packets off the queue, and it completes (clears
 * the scheduled bit) after it has flushed GRO (cyph_rx_cell_poll()). So
 * the queue is read first: empty, then a context not scheduled means
 * every packet has been fed to the stack, where the other order could
 * see a held batch unscheduled and then, polled meanwhile, gone.
 */
bool cyph_rx_cell_idle(const struct cyph_rx_cells *rc, unsigned int cpu)
{
	const struct cyph_rx_cell *cell;

	if (!rc->cells)
		return true;
	cell = per_cpu_ptr(rc->cells, cpu);
	if (!skb_queue_empty_lockless(&cell->skbs))
		return false;
	/* Pairs with the poll's dequeue before its completion's cmpxchg. */
	smp_rmb();
	return !test_bit(NAPI_STATE_SCHED, &cell->napi.state);
}
