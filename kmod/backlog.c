// SPDX-License-Identifier: GPL-2.0
/*
 * Has a CPU's backlog received what a stage's releases queued there,
 * and what receiving that queued on in turn? The first hop is told by
 * the backlog's counts (RPS's): process_backlog() advances
 * input_queue_head only once __netif_receive_skb() is done with a
 * packet, so a head past the tail noted after the packets were queued
 * means they were received. Receiving them may queue them again on the
 * same backlog (an outer packet through a router namespace: a veth
 * behind a veth), past that note. Those are told by a watch that each
 * CPU keeps of its own backlog as it runs our code (cyph_backlog_watch()):
 * a head and tail read together at most every CYPH_WATCH_NS. A watch
 * whose head had passed the first note was read after the first hop was
 * received, so its tail is past everything that hop queued on: a head
 * past that tail means the second hop was received too. A CPU held up
 * (its softirqs deferred to a starved ksoftirqd) advances neither head
 * nor watch, so a stage cannot move away from packets it still holds.
 * Further hops have only the stage's settle time (docs/pipeline.md,
 * ordering guarantee 2).
 */

#include <linux/cpumask.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>

#include "backlog.h"

/* A CPU's last two watches of its backlog, each head << 32 | tail. */
struct cyph_backlog_watches {
	u64 stamp;			/* of watch[0], ktime_get_mono_fast_ns() */
	u64 watch[2];			/* [0] the newer */
};

static DEFINE_PER_CPU(struct cyph_backlog_watches, cyph_backlog_watches);

/* Often enough to move a stage soon after its flow paused (1 ms). */
#define CYPH_WATCH_NS	(250 * NSEC_PER_USEC)

/* Has every online CPU's backlog received all it was given? */
bool cyph_backlogs_idle(void)
{
	unsigned int cpu;

	for_each_online_cpu(cpu)
		if (!cyph_backlog_idle(cpu))
			return false;
	return true;
}

/**
 * cyph_backlog_watch() - note this CPU's backlog counts, if it is time
 *
 * Context: bottom halves off (our receive cell's poll, a stage's
 * release), so the CPU stays this one.
 */
void cyph_backlog_watch(void)
{
#ifdef CONFIG_RPS
	struct cyph_backlog_watches *w = this_cpu_ptr(&cyph_backlog_watches);
	struct softnet_data *sd = this_cpu_ptr(&softnet_data);
	u64 now = ktime_get_mono_fast_ns(), head;

	if (now - w->stamp < CYPH_WATCH_NS)
		return;
	/* The head first: the tail is then past what it had received. */
	head = READ_ONCE(sd->input_queue_head);
	barrier();
	WRITE_ONCE(w->watch[1], w->watch[0]);
	WRITE_ONCE(w->watch[0], head << 32 | READ_ONCE(sd->input_queue_tail));
	w->stamp = now;
#endif
}

/* Is count @a at or past count @b (both wrap)? */
static bool cyph_count_past(u32 a, u32 b)
{
	return (s32)(a - b) >= 0;
}

/**
 * cyph_backlog_counts_passed() - the rule of cyph_backlog_passed()
 * @head: the backlog's input_queue_head now
 * @mark: its tail noted after the packets were queued
 * @watch: its CPU's last two watches, [0] the newer
 *
 * Return: true if the head is past @mark and past the tail of a watch
 * whose head was past @mark (the older such watch).
 */
bool cyph_backlog_counts_passed(u32 head, u32 mark, const u64 watch[2])
{
	int i;

	if (!cyph_count_past(head, mark))
		return false;
	/* The older watch first: its tail is the nearer. */
	for (i = 1; i >= 0; i--)
		if (cyph_count_past(watch[i] >> 32, mark))
			return cyph_count_past(head, (u32)watch[i]);
	return false;
}

/**
 * cyph_backlog_passed() - has @cpu's backlog received what @mark notes?
 * @cpu: the CPU whose backlog it is
 * @mark: cyph_backlog_tail() of @cpu, read after the packets were queued
 *
 * Return: true if the packets counted before @mark and what receiving
 * them queued on that backlog again have been received, or if it is
 * idle. Without RPS's counts only idle tells.
 */
bool cyph_backlog_passed(unsigned int cpu, unsigned int mark)
{
#ifdef CONFIG_RPS
	const struct cyph_backlog_watches *w = per_cpu_ptr(&cyph_backlog_watches,
							   cpu);
	u32 head = READ_ONCE(per_cpu(softnet_data, cpu).input_queue_head);
	u64 watch[2] = { READ_ONCE(w->watch[0]), READ_ONCE(w->watch[1]) };

	if (cyph_backlog_counts_passed(head, mark, watch))
		return true;
#endif
	return cyph_backlog_idle(cpu);
}
