/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How busy the serial stages keep each CPU, for placing them (serial.c).
 *
 * A stage follows its units to the CPU they arrive on (docs/pipeline.md,
 * "Where a stage runs"). Where arrivals are spread (a NIC's receive
 * queues, senders on every CPU) that spreads the stages too, with no
 * hand-over. Where they are not, it piles them up: every tunnel to one
 * remote endpoint arrives on the CPU that endpoint's outer flow is
 * steered to, a single-queue NIC delivers everything on one CPU, and on
 * one host a flow's sender, its tunnels' stages and the stack's work for
 * it draw each other onto whichever CPU they met on. The flows of the
 * crowded CPU then wait longer (its runner, its receive cell, its
 * softirqs) and TCP gives them less: with 18 of 20 devices' stages on
 * one CPU those 18 ran at a third of the other two's rate
 * (docs/benchmark.md, "Stages spread by load").
 *
 * So each CPU keeps a decaying count of the packets its stages released,
 * and so does each stage. Pure arithmetic: KUnit tests it alone.
 */
#ifndef _CYPH_LOAD_H
#define _CYPH_LOAD_H

#include <linux/types.h>

/* A load halves every this many milliseconds (at least a jiffy). */
#define CYPH_LOAD_HALF_MS	32

/*
 * Packets released, halved every half-life since. One writer (a CPU with
 * bottom halves off; a stage under its release lock); readers elsewhere
 * may see a stale value, which only makes a placement a little worse.
 */
struct cyph_load {
	unsigned long stamp;	/* jiffies when the current half-life began */
	u32 packets;
};

unsigned long cyph_load_half(void);
u32 cyph_load_read(const struct cyph_load *l, unsigned long now);
void cyph_load_add(struct cyph_load *l, unsigned long now, u32 packets);
bool cyph_load_prefer(u32 here, u32 there, u32 own);

#endif /* _CYPH_LOAD_H */
