/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two CPUs racing: the test's thread on its CPU, a helper kthread on
 * another, so that neither spinner holds up the other for a tick.
 */
#ifndef _CYPH_TEST_CPUS_H
#define _CYPH_TEST_CPUS_H

#include <linux/sched.h>

/* Start @t (from kthread_create()) beside this thread, pinned apart. */
void cyph_test_run_beside(struct task_struct *t);
/* After kthread_stop(): this thread may run anywhere again. */
void cyph_test_unpin(void);

#endif /* _CYPH_TEST_CPUS_H */
