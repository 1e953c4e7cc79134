// SPDX-License-Identifier: GPL-2.0
/*
 * The data path keeps memory per CPU for reuse: sealbuf.c's pages (up to
 * 512 KiB a CPU) and crypto.c's requests (up to 64 KiB). This file lets
 * go of it when nothing will reuse it:
 *
 * - when the last cyphonic device is gone, each online CPU empties its
 *   own caches in a work item. The caches are used only on their CPU
 *   with bottom halves off, so no other CPU may empty them while it runs.
 *   A work item whose CPU went offline before it ran runs on another
 *   CPU and empties that one's caches, which is as harmless; a device
 *   created meanwhile just fills them again;
 * - when a CPU goes offline, a live CPU empties the dead one's;
 * - at module exit, every CPU's.
 */

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/workqueue.h>

#include "crypto.h"
#include "sealbuf.h"
#include "trim.h"

static atomic_t cyph_trim_devices = ATOMIC_INIT(0);
static DEFINE_PER_CPU(struct work_struct, cyph_trim_work);
static int cyph_trim_hp_state;

/* Empty @cpu's caches (see the Context of the release functions). */
static void cyph_trim_release(int cpu, const char *why)
{
	unsigned int pages = cyph_sealbuf_release(cpu);
	unsigned int reqs = cyph_crypt_req_release(cpu);

	/* Lets tests see the caches go (tests/selftests/sockets.sh). */
	pr_debug("cyphonic: %s: cpu %d let go of %u pages, %u requests\n",
		 why, cpu, pages, reqs);
}

static void cyph_trim_cpu(struct work_struct *work)
{
	local_bh_disable();
	cyph_trim_release(smp_processor_id(), "no device left");
	local_bh_enable();
}

/* A device now exists that may fill the caches. */
void cyph_trim_device_added(void)
{
	atomic_inc(&cyph_trim_devices);
}

/* Does any device exist (that may have filled caches or run stages)? */
bool cyph_trim_have_devices(void)
{
	return atomic_read(&cyph_trim_devices) > 0;
}

/* A device is gone; if it was the last one, every online CPU lets go. */
void cyph_trim_device_gone(void)
{
	int cpu;

	if (!atomic_dec_and_test(&cyph_trim_devices))
		return;
	/*
	 * No CPU hotplug lock is needed: a CPU coming up now has had its
	 * caches emptied when it went down, and a work item queued on one
	 * going down still runs, elsewhere.
	 */
	for_each_online_cpu(cpu)
		queue_work_on(cpu, system_wq, per_cpu_ptr(&cyph_trim_work, cpu));
}

/* Called on a live CPU once @cpu is gone: nothing uses its caches. */
static int cyph_trim_cpu_dead(unsigned int cpu)
{
	cyph_trim_release(cpu, "cpu offline");
	return 0;
}

int cyph_trim_init(void)
{
	int cpu, ret;

	for_each_possible_cpu(cpu)
		INIT_WORK(per_cpu_ptr(&cyph_trim_work, cpu), cyph_trim_cpu);
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN,
					"net/cyphonic:caches", NULL,
					cyph_trim_cpu_dead);
	if (ret < 0)
		return ret;
	cyph_trim_hp_state = ret;
	return 0;
}

/*
 * Module exit (or its init failing), every device gone and every packet
 * freed: no work item may run past it, and every CPU's caches are empty.
 */
void cyph_trim_exit(void)
{
	int cpu;

	cpuhp_remove_state_nocalls(cyph_trim_hp_state);
	for_each_possible_cpu(cpu) {
		cancel_work_sync(per_cpu_ptr(&cyph_trim_work, cpu));
		cyph_trim_release(cpu, "module exit");
	}
}
