// SPDX-License-Identifier: GPL-2.0
/*
 * Decaying counts of the stages each CPU runs, and the rule that places a
 * paused stage by them (load.h).
 */

#include <linux/jiffies.h>
#include <linux/minmax.h>

#include "load.h"

/* The half-life in jiffies. */
unsigned long cyph_load_half(void)
{
	return max(msecs_to_jiffies(CYPH_LOAD_HALF_MS), 1UL);
}

/* Whole half-lives from @stamp to @now; 32 or more: nothing is left. */
static unsigned int cyph_load_halvings(unsigned long stamp, unsigned long now)
{
	long age = (long)(now - stamp);

	/* A reader may see a stamp its writer moved past @now. */
	if (age <= 0)
		return 0;
	return min_t(unsigned long, age / cyph_load_half(), 32);
}

/* Has nothing been added to @l in the half-life @now (jiffies) is in? */
bool cyph_load_fresh(const struct cyph_load *l, unsigned long now)
{
	return !l->count || cyph_load_halvings(l->stamp, now);
}

/* @l's count as of @now (jiffies). */
u32 cyph_load_read(const struct cyph_load *l, unsigned long now)
{
	unsigned int h = cyph_load_halvings(READ_ONCE(l->stamp), now);

	return h >= 32 ? 0 : READ_ONCE(l->count) >> h;
}

/* Add @n at @now (jiffies); saturates, never wraps. */
void cyph_load_add(struct cyph_load *l, unsigned long now, u32 n)
{
	unsigned int h = cyph_load_halvings(l->stamp, now);
	u32 c = l->count;

	if (h >= 32) {
		c = 0;
		WRITE_ONCE(l->stamp, now);
	} else if (h) {
		/* Whole half-lives only, so frequent adds still decay. */
		c >>= h;
		WRITE_ONCE(l->stamp, l->stamp + h * cyph_load_half());
	}
	WRITE_ONCE(l->count, c > U32_MAX - n ? U32_MAX : c + n);
}

/**
 * cyph_load_prefer() - should a paused stage run on another CPU?
 * @here: the load of the CPU its units arrive on, its own part excluded
 * @there: another worker CPU's load, its own part excluded
 * @own: the stage's own load
 *
 * Moving the stage turns the difference between the two CPUs from
 * @here + @own - @there into @here - @there - @own. Where its units
 * arrive it costs no hand-over, so it goes elsewhere only when @here
 * exceeds @there by more than half its own load: stages alike spread
 * until two CPUs differ by one stage at most, and one stage never leaves
 * a CPU for its own load.
 *
 * Return: true to run on the other CPU.
 */
bool cyph_load_prefer(u32 here, u32 there, u32 own)
{
	return (u64)here > (u64)there + own / 2;
}
