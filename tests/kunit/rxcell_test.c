// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: receive cells (kmod/rxcell.c). A cell its holder (the serial
 * runner) holds keeps what is released into it unscheduled, and the
 * holder feeds it all to the stack itself, however long the batch,
 * along with what a softirq on its CPU released and scheduled before (up
 * to a bound); a cell whose NAPI context someone else holds (a poller,
 * another CPU's list) is left to them, its packets still queued and the
 * context marked to poll again. A cell no
 * one holds is scheduled at its first packet.
 *
 * The device is a bare one, up, with GRO: the packets (no protocol) go
 * through GRO into the stack, which counts each as unhandled, so the
 * counts tell what reached the stack and when.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#include "device.h"
#include "rxcell.h"
#include "test_dev.h"

/* test->priv once every part is set up (exit runs after a failed init). */
struct rxcell_fixture {
	struct cyph_device *cd;
};

static int rxcell_test_init(struct kunit *test)
{
	struct rxcell_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	f->cd = cyph_test_dev_new(test, "cyphc%d");
	if (!f->cd)
		return -ENOMEM;
	f->cd->dev->flags |= IFF_UP;
	f->cd->dev->features |= NETIF_F_GRO;
	if (cyph_rx_cells_init(&f->cd->rx_cells, f->cd->dev)) {
		cyph_test_dev_free(f->cd);
		return -ENOMEM;
	}
	test->priv = f;
	return 0;
}

static void rxcell_test_exit(struct kunit *test)
{
	struct rxcell_fixture *f = test->priv;

	if (!f)
		return;
	cyph_rx_cells_destroy(&f->cd->rx_cells);
	/* The cells' free waits for a grace period, and frees no device. */
	rcu_barrier();
	cyph_test_dev_free(f->cd);
}

/* What reached the stack (and was not handled there) so far. */
static u64 reached(struct rxcell_fixture *f)
{
	const struct net_device_core_stats __percpu *p;
	u64 n = 0;
	int cpu;

	p = READ_ONCE(f->cd->dev->core_stats);
	if (!p)
		return 0;
	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(p, cpu)->rx_dropped) +
		     READ_ONCE(per_cpu_ptr(p, cpu)->rx_nohandler);
	return n;
}

/* Release @n packets into this CPU's cell (bottom halves off). */
static void release(struct kunit *test, struct rxcell_fixture *f, u32 n)
{
	struct sk_buff *skb;

	while (n--) {
		skb = alloc_skb(128, GFP_ATOMIC);
		if (!skb) {
			KUNIT_FAIL(test, "out of memory");
			return;
		}
		skb_put(skb, 64);
		skb->dev = f->cd->dev;
		KUNIT_EXPECT_EQ(test, cyph_rx_cells_receive(&f->cd->rx_cells, skb),
				NET_RX_SUCCESS);
	}
}

static struct cyph_rx_cell *here(struct rxcell_fixture *f)
{
	return this_cpu_ptr(f->cd->rx_cells.cells);
}

static bool scheduled(struct cyph_rx_cell *cell)
{
	return test_bit(NAPI_STATE_SCHED, &cell->napi.state);
}

/*
 * The softirq ran at local_bh_enable(), or runs soon in ksoftirqd: what
 * reached the stack comes to @total within a second.
 */
static void expect_softirq_delivers(struct kunit *test,
				    struct rxcell_fixture *f, u64 total)
{
	int i;

	for (i = 0; i < 50 && reached(f) < total; i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, reached(f), total);
}

/*
 * A held cell waits for its holder, who feeds it all to the stack before
 * bottom halves are on again (no softirq), however long the batch.
 */
static void held_batch(struct kunit *test, u32 n)
{
	struct rxcell_fixture *f = test->priv;
	struct cyph_rx_cell *cell;
	u64 before = reached(f);

	local_bh_disable();
	cell = here(f);
	cyph_rx_cells_hold(&f->cd->rx_cells);
	release(test, f, n);
	KUNIT_EXPECT_FALSE(test, scheduled(cell));
	KUNIT_EXPECT_EQ(test, skb_queue_len(&cell->skbs), n);
	KUNIT_EXPECT_FALSE(test, cyph_rx_cell_idle(&f->cd->rx_cells,
						   smp_processor_id()));
	cyph_rx_cells_run(&f->cd->rx_cells, UINT_MAX);
	KUNIT_EXPECT_EQ(test, reached(f) - before, (u64)n);
	KUNIT_EXPECT_TRUE(test, cyph_rx_cell_idle(&f->cd->rx_cells,
						  smp_processor_id()));
	KUNIT_EXPECT_FALSE(test, cell->held);
	local_bh_enable();
}

static void rxcell_test_held_runs_here(struct kunit *test)
{
	held_batch(test, 3);
}

/* Longer than a poll's weight (64). */
static void rxcell_test_long_batch_runs_here(struct kunit *test)
{
	held_batch(test, 300);
}

/*
 * A context that a release in a softirq here scheduled waits on this
 * CPU's poll list for net_rx_action, which cannot run while bottom
 * halves are off: the holder polls it instead, feeds that release's
 * packets with its own batch, and takes the context off the list.
 */
static void rxcell_test_listed_here_runs_here(struct kunit *test)
{
	struct rxcell_fixture *f = test->priv;
	struct cyph_rx_cell *cell;
	u64 before = reached(f);

	local_bh_disable();
	cell = here(f);
	release(test, f, 2);
	KUNIT_EXPECT_TRUE(test, scheduled(cell));
	KUNIT_EXPECT_FALSE(test, list_empty(&cell->napi.poll_list));
	cyph_rx_cells_hold(&f->cd->rx_cells);
	release(test, f, 3);
	cyph_rx_cells_run(&f->cd->rx_cells, UINT_MAX);
	KUNIT_EXPECT_EQ(test, reached(f) - before, 5ULL);
	KUNIT_EXPECT_FALSE(test, scheduled(cell));
	KUNIT_EXPECT_TRUE(test, list_empty(&cell->napi.poll_list));
	KUNIT_EXPECT_TRUE(test, cyph_rx_cell_idle(&f->cd->rx_cells,
						  smp_processor_id()));
	local_bh_enable();
	/* net_rx_action, if it runs, finds nothing more to hand on. */
	msleep(20);
	KUNIT_EXPECT_EQ(test, reached(f) - before, 5ULL);
}

/*
 * What softirqs here queued before the holder's batch is fed with it up
 * to the holder's bound, in whole polls (64 each); the rest stays on the
 * softirq's list and arrives when bottom halves are on again.
 */
static void rxcell_test_listed_here_bounded(struct kunit *test)
{
	struct rxcell_fixture *f = test->priv;
	struct cyph_rx_cell *cell;
	u64 before = reached(f);

	local_bh_disable();
	cell = here(f);
	release(test, f, 290);
	cyph_rx_cells_hold(&f->cd->rx_cells);
	release(test, f, 10);
	cyph_rx_cells_run(&f->cd->rx_cells, 100);
	/* Two polls; 128 is whole batches of GRO's list (gro_normal_batch, 8). */
	KUNIT_EXPECT_EQ(test, reached(f) - before, 128ULL);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&cell->skbs), 172U);
	KUNIT_EXPECT_TRUE(test, scheduled(cell));
	KUNIT_EXPECT_FALSE(test, list_empty(&cell->napi.poll_list));
	local_bh_enable();
	expect_softirq_delivers(test, f, before + 300);
}

/*
 * A context someone else holds is theirs: here the test holds it, as a
 * poller would (a NAPI thread), or as if it were on another CPU's list
 * (@listed: a list of the test's own). The holder leaves the packets
 * queued and marks the context missed, so that its owner's completion
 * polls once more and hands them on. None is lost.
 */
static void taken_context_left(struct kunit *test, bool listed)
{
	struct rxcell_fixture *f = test->priv;
	struct cyph_rx_cell *cell;
	u64 before = reached(f);
	LIST_HEAD(elsewhere);

	local_bh_disable();
	cell = here(f);
	if (!napi_schedule_prep(&cell->napi)) {
		local_bh_enable();
		KUNIT_FAIL(test, "the cell's context was scheduled already");
		return;
	}
	if (listed)
		list_add_tail(&cell->napi.poll_list, &elsewhere);
	cyph_rx_cells_hold(&f->cd->rx_cells);
	release(test, f, 2);
	cyph_rx_cells_run(&f->cd->rx_cells, UINT_MAX);
	KUNIT_EXPECT_EQ(test, reached(f) - before, 0ULL);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&cell->skbs), 2U);
	KUNIT_EXPECT_TRUE(test, test_bit(NAPI_STATE_MISSED, &cell->napi.state));
	list_del_init(&cell->napi.poll_list);
	/* The owner is done: missed, so the context is scheduled again. */
	KUNIT_EXPECT_FALSE(test, napi_complete_done(&cell->napi, 0));
	KUNIT_EXPECT_TRUE(test, scheduled(cell));
	local_bh_enable();
	expect_softirq_delivers(test, f, before + 2);
}

static void rxcell_test_taken_context_left(struct kunit *test)
{
	taken_context_left(test, false);
}

static void rxcell_test_listed_elsewhere_left(struct kunit *test)
{
	taken_context_left(test, true);
}

/* A cell no one holds is scheduled at its first packet. */
static void rxcell_test_unheld_scheduled(struct kunit *test)
{
	struct rxcell_fixture *f = test->priv;
	struct cyph_rx_cell *cell;
	u64 before = reached(f);

	local_bh_disable();
	cell = here(f);
	release(test, f, 1);
	KUNIT_EXPECT_TRUE(test, scheduled(cell));
	KUNIT_EXPECT_EQ(test, reached(f) - before, 0ULL);
	local_bh_enable();
	expect_softirq_delivers(test, f, before + 1);
}

static struct kunit_case rxcell_test_cases[] = {
	KUNIT_CASE(rxcell_test_held_runs_here),
	KUNIT_CASE(rxcell_test_long_batch_runs_here),
	KUNIT_CASE(rxcell_test_listed_here_runs_here),
	KUNIT_CASE(rxcell_test_listed_here_bounded),
	KUNIT_CASE(rxcell_test_taken_context_left),
	KUNIT_CASE(rxcell_test_listed_elsewhere_left),
	KUNIT_CASE(rxcell_test_unheld_scheduled),
	{}
};

static struct kunit_suite rxcell_test_suite = {
	.name = "cyphonic_rxcell",
	.init = rxcell_test_init,
	.exit = rxcell_test_exit,
	.test_cases = rxcell_test_cases,
};

kunit_test_suite(rxcell_test_suite);
