// SPDX-License-Identifier: GPL-2.0
/*
 * Two CPUs racing, for the suites' concurrent cases (test_cpus.h). On a
 * single CPU both simply share it.
 */

#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/smp.h>

#include "test_cpus.h"

void cyph_test_run_beside(struct task_struct *t)
{
	unsigned int this = raw_smp_processor_id();
	unsigned int other = cpumask_any_but(cpu_online_mask, this);

	if (other < nr_cpu_ids) {
		kthread_bind(t, other);
		set_cpus_allowed_ptr(current, cpumask_of(this));
	}
	wake_up_process(t);
}

void cyph_test_unpin(void)
{
	set_cpus_allowed_ptr(current, cpu_possible_mask);
}
