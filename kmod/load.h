/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How many serial stages each CPU runs lately, for placing them
 * (placement.c).
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
 * So each CPU keeps a decaying count of the stages that released there
 * (per direction, serial.c), CYPH_LOAD_STAGE for each stage in each
 * half-life it released anything, and so does each stage of itself.
 * Stages, not packets: flows that share a CPU share its time, so what
 * makes them fair is as many flows on each CPU; weighed by packets, a
 * flow that happened to run fast on a quiet CPU would keep that CPU to
 * itself. Pure arithmetic: KUnit tests it alone.
 */
#ifndef _CYPH_LOAD_H
#define _CYPH_LOAD_H

#include <linux/types.h>

/* A load halves every this many milliseconds (at least a jiffy). */
#define CYPH_LOAD_HALF_MS	32
/*
 * What a stage adds in each half-life it releases in: a stage that
 * releases in every one settles at twice this, so that half of it (the
 * margin of cyph_load_prefer()) is still a whole number.
 */
#define CYPH_LOAD_STAGE		16

/*
 * A count, halved every half-life since it began. One writer (a CPU with
 * bottom halves off; a stage under its release lock); readers elsewhere
 * may see a stale value, which only makes a placement a little worse.
 */
struct cyph_load {
	unsigned long stamp;	/* jiffies when the current half-life began */
	u32 count;
};

unsigned long cyph_load_half(void);
bool cyph_load_fresh(const struct cyph_load *l, unsigned long now);
u32 cyph_load_read(const struct cyph_load *l, unsigned long now);
void cyph_load_add(struct cyph_load *l, unsigned long now, u32 n);
bool cyph_load_prefer(u32 here, u32 there, u32 own);

#endif /* _CYPH_LOAD_H */
