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

bool cyph_backlogs_idle(void);
void cyph_backlog_watch(void);
bool cyph_backlog_passed(unsigned int cpu, unsigned int mark);
/* The rule itself, for KUnit. */
bool cyph_backlog_counts_passed(u32 head, u32 mark, const u64 watch[2]);

#endif /* _CYPH_BACKLOG_H */
