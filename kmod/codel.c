// SPDX-License-Identifier: GPL-2.0
/*
 * CoDel's dequeue decision (see codel.h), after RFC 8289's pseudocode,
 * one unit or packet at a time: the caller drops it (in the crypt queue,
 * marks one packet, which goes on through its ring slot to keep order)
 * and takes the next one in the usual way instead of looping here.
 */

#include <linux/ktime.h>
#include <linux/math.h>
#include <linux/math64.h>

#include "codel.h"

u32 cyph_codel_now(void)
{
	/* Never 0, which first_above keeps for "not above". */
	return (u32)(ktime_get_mono_fast_ns() >> CYPH_CODEL_SHIFT) | 1;
}

static bool cyph_codel_reached(u32 now, u32 t)
{
	return (s32)(now - t) >= 0;
}

/*
 * Drops come closer together as the square root of their count (never 0
 * here): interval / sqrt(count), as sqrt(interval^2 / count) for
 * precision where int_sqrt(count) would round 2 and 3 down to 1.
 */
static u32 cyph_codel_control(u32 t, u32 count)
{
	u64 i2 = (u64)CYPH_CODEL_INTERVAL * CYPH_CODEL_INTERVAL;

	return t + (u32)int_sqrt64(div_u64(i2, count));
}

/*
 * Has the wait been above target for an interval? @last: the unit is
 * the only one queued (a tunnel's in its FIFO, a cell's), which is never
 * dropped (RFC 8289's "less than an MTU queued"): one unit cannot be a
 * standing queue of its own, however long it waited for others' turns.
 */
static bool cyph_codel_above(struct cyph_codel *c, u32 now, u32 enqueued,
			     bool last)
{
	/* Signed: a clock read a little behind on another CPU is no wait. */
	if ((s32)(now - enqueued) < (s32)CYPH_CODEL_TARGET || last) {
		c->first_above = 0;
		return false;
	}
	if (!c->first_above) {
		c->first_above = (now + CYPH_CODEL_INTERVAL) | 1;
		return false;
	}
	return cyph_codel_reached(now, c->first_above);
}

/**
 * cyph_codel_pop() - a unit leaves its tunnel's FIFO: drop it?
 * @c: the tunnel's state for this queue
 * @now: cyph_codel_now()
 * @enqueued: cyph_codel_now() when the unit was queued
 * @last: no other unit of the tunnel is queued behind it
 *
 * Return: true if the unit is to be dropped.
 */
bool cyph_codel_pop(struct cyph_codel *c, u32 now, u32 enqueued, bool last)
{
	bool above = cyph_codel_above(c, now, enqueued, last);
	u32 delta;

	if (c->dropping) {
		if (!above) {
			c->dropping = false;
			return false;
		}
		if (!cyph_codel_reached(now, c->drop_next))
			return false;
		c->count++;
		c->drop_next = cyph_codel_control(c->drop_next, c->count);
		return true;
	}
	if (!above)
		return false;
	c->dropping = true;
	/*
	 * Back in the dropping state soon after leaving it: resume near the
	 * drop rate that was needed last time rather than from one.
	 */
	delta = c->count - c->lastcount;
	if (delta > 1 &&
	    !cyph_codel_reached(now, c->drop_next + 16 * CYPH_CODEL_INTERVAL))
		c->count = delta;
	else
		c->count = 1;
	c->lastcount = c->count;
	c->drop_next = cyph_codel_control(now, c->count);
	return true;
}
