/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A CPU's backlog (softnet_data: where netif_rx() queues, a veth's
 * packets among them) seen from another CPU: how a serial stage tells
 * that the packets its releases queued there have been received, before
 * it moves away (serial.c). RPS reads the same counts before it moves a
 * flow (net/core/dev.c, get_rps_cpu()).
 */
#ifndef _CYPH_BACKLOG_H
#define _CYPH_BACKLOG_H

#include <linux/cpumask.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>

/* Packets ever queued on @cpu's backlog, read after those it must count. */
static inline unsigned int cyph_backlog_tail(unsigned int cpu)
{
#ifdef CONFIG_RPS
	return READ_ONCE(per_cpu(softnet_data, cpu).input_queue_tail);
#else
	return 0;
#endif
}

/* Has @cpu's backlog received all it was given? */
static inline bool cyph_backlog_idle(unsigned int cpu)
{
	/* process_backlog() clears it once both its queues are empty. */
	return !test_bit(NAPI_STATE_SCHED,
			 &per_cpu(softnet_data, cpu).backlog.state);
}

/*
 * Has @cpu's backlog received every packet counted before @mark (a
 * cyph_backlog_tail() of that CPU)? process_backlog() counts a packet
 * once __netif_receive_skb() is done with it, so what that queued on
 * (another hop through a veth) is past the count by then. An idle
 * backlog has received all; without RPS's counts only that tells.
 */
static inline bool cyph_backlog_passed(unsigned int cpu, unsigned int mark)
{
#ifdef CONFIG_RPS
	if ((int)(READ_ONCE(per_cpu(softnet_data, cpu).input_queue_head) -
		  mark) >= 0)
		return true;
#endif
	return cyph_backlog_idle(cpu);
}

/* Has every online CPU's backlog received all it was given? */
static inline bool cyph_backlogs_idle(void)
{
	unsigned int cpu;

	for_each_online_cpu(cpu)
		if (!cyph_backlog_idle(cpu))
			return false;
	return true;
}

#endif /* _CYPH_BACKLOG_H */
