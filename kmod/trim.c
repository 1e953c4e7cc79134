// SPDX-License-Identifier: GPL-2.0
/*
 * The data path keeps memory per CPU for reuse: sealbuf.c's pages (up to
 * 512 KiB a CPU) and crypto.c's requests (up to 64 KiB). Once the last
 * cyphonic device is gone nothing reuses it, so each CPU lets go of its
 * own: a CPU's caches are touched only on that CPU with bottom halves
 * off, so only it can empty them safely, in a work item of its own. A
 * device created meanwhile just fills them again.
 *
 * A CPU that goes offline before its work item runs has its sealbuf
 * pages drained by sealbuf.c's hotplug callback; the work item then runs
 * elsewhere and empties that CPU's caches instead, which is as harmless.
 */

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include <linux/workqueue.h>

#include "crypto.h"
#include "sealbuf.h"
#include "trim.h"

static atomic_t cyph_trim_devices = ATOMIC_INIT(0);
static DEFINE_PER_CPU(struct work_struct, cyph_trim_work);

static void cyph_trim_cpu(struct work_struct *work)
{
	unsigned int pages, reqs;

	local_bh_disable();
	pages = cyph_sealbuf_trim();
	reqs = cyph_crypt_req_trim();
	local_bh_enable();
	/* Lets tests see the caches go (tests/selftests/sockets.sh). */
	pr_debug("cyphonic: no device left: cpu %d let go of %u pages, %u requests\n",
		 raw_smp_processor_id(), pages, reqs);
}

/* A device now exists that may fill the caches. */
void cyph_trim_device_added(void)
{
	atomic_inc(&cyph_trim_devices);
}

/* A device is gone; if it was the last one, every online CPU lets go. */
void cyph_trim_device_gone(void)
{
	int cpu;

	if (!atomic_dec_and_test(&cyph_trim_devices))
		return;
	/*
	 * No CPU hotplug lock: this may run under RTNL (a registration that
	 * failed). A CPU coming up now has nothing cached, and a work item
	 * queued on one going down still runs, elsewhere.
	 */
	for_each_online_cpu(cpu)
		queue_work_on(cpu, system_wq, per_cpu_ptr(&cyph_trim_work, cpu));
}

void cyph_trim_init(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		INIT_WORK(per_cpu_ptr(&cyph_trim_work, cpu), cyph_trim_cpu);
}

/* Module exit, every device gone: no work item may run past it. */
void cyph_trim_exit(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		cancel_work_sync(per_cpu_ptr(&cyph_trim_work, cpu));
}
