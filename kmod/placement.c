// SPDX-License-Identifier: GPL-2.0
/*
 * Where a tunnel's serial stage runs (serial.c runs it): its CPU, its
 * moves to the CPU its units arrive on or to a less loaded one, and how
 * it leaves a CPU that stops being one of the device's workers, taken
 * offline or `workers` lowered, without letting a release elsewhere
 * overtake what it released there (docs/pipeline.md, "Where a stage
 * runs" and ordering guarantee 2).
 */

#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/random.h>

#include "device.h"
#include "pipeline.h"
#include "rxcell.h"
#include "train.h"
#include "trim.h"
#include "tunnel.h"

DEFINE_PER_CPU(struct cyph_load, cyph_serial_load[2]);

DEFINE_PER_CPU(unsigned long, cyph_serial_evened);

/*
 * The stage's CPU: where its units arrived when it last moved (see
 * cyph_serial_arrive()), or, before its first unit or once that CPU is
 * no longer one of the device's workers, the one its tunnel index picks.
 * A CPU that stopped being a worker is forgotten, not just passed over:
 * when it comes back (online again, `workers` raised), the stage is
 * running elsewhere and returns only as any move does, after a pause.
 * The cmpxchg() leaves a move made meanwhile in place. Where the stage
 * last released may still hold its packets: see cyph_serial_here().
 */
unsigned int cyph_serial_cpu(struct cyph_serial *s)
{
	int cpu = READ_ONCE(s->cpu);

	if (cpu >= 0) {
		if (cyph_worker_cpu_is(s->tunnel->cd, cpu))
			return cpu;
		cmpxchg(&s->cpu, cpu, -1);
	}
	return cyph_worker_cpu(s->tunnel->cd, s->tunnel->index + s->ops->dir);
}

/* Nanoseconds since the stage last released (negative: just now). */
static s64 cyph_serial_since(struct cyph_serial *s)
{
	return (s64)(ktime_get_mono_fast_ns() - atomic64_read(&s->released));
}

/*
 * Has the stage nothing left behind its releases on @cpu that a release
 * on another CPU could overtake? None of its packets on a train (they
 * are sent from the CPU they were released on); its last release
 * CYPH_SERIAL_SETTLE_NS ago, for the queues we cannot see; and what
 * those releases set off handed on: opened packets (RX) wait in @cpu's
 * receive cell (rxcell.c) for its next softirq, and from there, or from
 * a veth, packets on their way (an outer packet sent to another
 * namespace, an inner one forwarded to a device's peer) wait in @cpu's
 * backlog, checked too if @backlog. A busy backlog, whoever fills it,
 * keeps the stage where it is: safe, if not always where it would cost
 * least. A CPU going offline runs both empty before it dies
 * (cyph_serial_cpu_down()). Context: s->release held (the releases are
 * visible; on_train read first, acquire: so are the trains' sends).
 */
static bool cyph_serial_left(struct cyph_serial *s, unsigned int cpu,
			     bool backlog)
{
	if (atomic_read_acquire(&s->on_train) ||
	    cyph_serial_since(s) < CYPH_SERIAL_SETTLE_NS)
		return false;
	if (s->ops->dir == CYPH_RX &&
	    !cyph_rx_cell_idle(&s->tunnel->cd->rx_cells, cpu))
		return false;
	/* The cell's poll queues into the backlog before it completes. */
	smp_rmb();
	/*
	 * process_backlog() (net/core/dev.c, 6.1) clears its state only
	 * once both its queues are empty, what it queued to itself while
	 * running (a hop through a veth) included. Check again on a rebase.
	 */
	return !backlog ||
	       !test_bit(NAPI_STATE_SCHED,
			 &per_cpu(softnet_data, cpu).backlog.state);
}

/*
 * May the stage release on this CPU now? Only on its CPU, and only once
 * what its releases on another CPU set off has left that one: when its
 * CPU stops being a worker (going offline, `workers` lowered) the stage
 * runs elsewhere at once, but releases there only after that pause. A
 * CPU going offline lets its softirqs hand on what it holds before it
 * dies (cyph_serial_cpu_down()). An active CPU whose backlog others keep
 * busy is waited for up to CYPH_SERIAL_LEAVE_NS, not for ever: our
 * packets in it are long gone by then. Context: s->release held,
 * bottom halves off.
 */
bool cyph_serial_here(struct cyph_serial *s)
{
	unsigned int cpu = smp_processor_id();
	int ran = s->ran;

	if (cyph_serial_cpu(s) != cpu)
		return false;
	return ran < 0 || ran == cpu ||
	       cyph_serial_left(s, ran, !cpu_active(ran) ||
				cyph_serial_since(s) < CYPH_SERIAL_LEAVE_NS);
}

/* @load less @own, or 0. */
static u32 cyph_load_less(u32 load, u32 own)
{
	return load > own ? load - own : 0;
}

/*
 * Where a stage that may move (it has nothing left anywhere) should run
 * next: @cpu, where its units arrive, or another worker CPU that runs
 * fewer stages (load.h). A stage that runs where its units arrive
 * weighs a worker CPU picked at random (two random choices balance about
 * as well as a search of every CPU, at the cost of one); one that runs
 * elsewhere weighs only going home against staying. A stage leaves a CPU
 * to even the load out at most once a half-life of the loads, so that
 * its stages do not all leave before its load shows that some did.
 */
static unsigned int cyph_serial_place(struct cyph_serial *s, unsigned int cpu)
{
	struct cyph_device *cd = s->tunnel->cd;
	unsigned int n = cyph_worker_count(cd), cur = cyph_serial_cpu(s);
	unsigned long now = jiffies, *evened, then;
	enum cyph_dir dir = s->ops->dir;
	unsigned int other = cur;
	u32 own, here, there;

	lockdep_assert_held(&s->release);
	if (n < 2)
		return cpu;
	if (cur == cpu) {
		/* A random worker CPU other than @cpu. */
		other = cyph_worker_cpu(cd, get_random_u32_below(n - 1));
		if (other == cpu)
			other = cyph_worker_cpu(cd, n - 1);
		if (other == cpu)
			return cpu;	/* the workers changed under us */
	}
	own = cyph_load_read(&s->load, now);
	here = cyph_load_read(per_cpu_ptr(&cyph_serial_load[dir], cpu), now);
	there = cyph_load_read(per_cpu_ptr(&cyph_serial_load[dir], other), now);
	if (cur == cpu)
		here = cyph_load_less(here, own);
	else
		there = cyph_load_less(there, own);
	if (!cyph_load_prefer(here, there, own))
		return cpu;
	if (other == cur)
		return cur;
	evened = per_cpu_ptr(&cyph_serial_evened, cur);
	then = READ_ONCE(*evened);
	if (now - then < cyph_load_half() || cmpxchg(evened, then, now) != then)
		return cur;
	return other;
}

/**
 * cyph_serial_arrive() - a unit arrives: move the stage here if it may
 * @s: its tunnel's direction, before the unit takes its slot
 *
 * Context: s->produce held, so this CPU stays ours.
 *
 * A stage released on another CPU than its units arrive on costs a hand-
 * over per unit: a wake-up of that CPU's runner, often a thread switch,
 * and what the release sets off (the underlay's send, the stack's
 * receive) runs there too. A received flow arrives on the CPU its
 * underlay delivers it to, a sent one where its sender runs, so the
 * stage goes where its units come, but only between bursts, when it has
 * nothing left anywhere: every unit it took released (no drain going on,
 * since that holds s->release), it is on no CPU's ready list, none of
 * its packets wait on a train, the old CPU's queues behind us (its
 * receive cell, its backlog) are empty (cyph_serial_left()), and the
 * last release was at least CYPH_SERIAL_SETTLE_NS ago, for queues we
 * cannot see (docs/pipeline.md, ordering guarantee 2). So the flow still
 * leaves or enters the stack in order, however long that CPU's softirqs
 * were held up.
 * Unless the CPU its units arrive on already runs more stages than
 * another worker CPU, by more than half a stage (cyph_serial_place()):
 * then the stage goes to, or stays on, the other one, at the price of a
 * hand-over per unit. A stage whose units arrive where it runs weighs
 * leaving at most once a half-life of the loads.
 * A received stage only moves when a unit arrives on the CPU its last
 * authenticated packet came on: a forged packet cannot steer it. A flow
 * that never pauses stays where it is.
 */
void cyph_serial_arrive(struct cyph_serial *s)
{
	unsigned int cpu = smp_processor_id();
	bool home = READ_ONCE(s->cpu) == cpu;

	lockdep_assert_held(&s->produce);
	if ((home && time_before(jiffies, s->weigh_at)) ||
	    (s->ops->dir == CYPH_RX && READ_ONCE(s->hint) != cpu) ||
	    test_bit(CYPH_SERIAL_LISTED, &s->flags) ||
	    atomic_read_acquire(&s->on_train) ||
	    !cyph_worker_cpu_is(s->tunnel->cd, cpu))
		return;
	/*
	 * Not without a pause: checked again under the lock, against the
	 * same clock (a release since can only make the pause shorter).
	 */
	if (cyph_serial_since(s) < CYPH_SERIAL_SETTLE_NS ||
	    !spin_trylock(&s->release))
		return;
	if (cyph_ring_idle(&s->ring) &&
	    (s->ran < 0 || cyph_serial_left(s, s->ran, true))) {
		if (home)
			s->weigh_at = jiffies + cyph_load_half();
		WRITE_ONCE(s->cpu, cyph_serial_place(s, cpu));
		/* Nothing left anywhere: the next release need not wait. */
		s->ran = -1;
	}
	spin_unlock(&s->release);
}

/*
 * A CPU going offline waits this long at most for its softirqs to hand
 * on what its stages released there (cyph_serial_cpu_down()).
 */
#define CYPH_SERIAL_DOWN_MS	100

/*
 * A CPU is going offline: teardown of CPUHP_AP_ONLINE_DYN, on that CPU,
 * before its work items are unbound from it. It stopped being active
 * first, and sched_cpu_deactivate() waited for a grace period after, so
 * no stage releases on it any more (cyph_serial_here() runs with bottom
 * halves off). What its stages released there has to leave from here:
 * once the CPU is dead, the kernel hands its backlog and NAPI contexts to
 * another CPU (dev_cpu_dead()), where they would meet what the stages
 * release meanwhile out of order. So send its trains (a pass that kept
 * them back could move on without them) and let its softirqs run its
 * receive cells and backlog empty; the stages that released here wait
 * for both (cyph_serial_left()). A backlog that others keep busy (RPS,
 * a NIC's interrupts still landing here) is waited for up to
 * CYPH_SERIAL_DOWN_MS: what of ours it still holds then may be
 * overtaken once.
 */
static int cyph_serial_cpu_down(unsigned int cpu)
{
	struct softnet_data *sd = per_cpu_ptr(&softnet_data, cpu);
	unsigned long start = jiffies;
	unsigned long end = start + msecs_to_jiffies(CYPH_SERIAL_DOWN_MS);
	bool busy;

	WARN_ON_ONCE(cpu != raw_smp_processor_id());
	/* With no device, no stage ever released here: nothing to wait for. */
	if (!cyph_trim_have_devices())
		return 0;
	local_bh_disable();
	cyph_train_send_all();
	local_bh_enable();
	for (;;) {
		/* As cyph_serial_left() reads them, for every device. */
		busy = cyph_rx_cells_listed_here() ||
		       test_bit(NAPI_STATE_SCHED, &sd->backlog.state);
		if (!busy || time_after(jiffies, end))
			break;
		usleep_range(500, 1000);
	}
	/* Lets tests see it (tests/selftests/ordering.sh). */
	pr_debug("cyphonic: cpu %u going offline: %s after %u ms\n", cpu,
		 busy ? "its backlog still busy" : "handed on",
		 jiffies_to_msecs(jiffies - start));
	return 0;
}

static int cyph_serial_hp_state;

int cyph_serial_hotplug_init(void)
{
	int ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN,
					    "net/cyphonic:serial", NULL,
					    cyph_serial_cpu_down);

	if (ret < 0)
		return ret;
	cyph_serial_hp_state = ret;
	return 0;
}

void cyph_serial_hotplug_exit(void)
{
	cpuhp_remove_state_nocalls(cyph_serial_hp_state);
}
