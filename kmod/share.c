// SPDX-License-Identifier: GPL-2.0
/*
 * Shares of a device queue. Each user (a tunnel, per direction) counts its
 * units in the queue; the queue counts its active users, those with at
 * least one unit in it. A unit is refused when its user holds more than
 * its share:
 *
 *   alone           len - len / 8: nearly all of it, while keeping room
 *                   for the first unit of any other tunnel
 *   with a others   len / (a + 1), at least CYPH_SHARE_MIN: the active
 *                   tunnels split the queue with one share left for a
 *                   tunnel that is not active yet
 *
 * A user's first unit is always let through (it cannot hold more than its
 * share), so a tunnel that is idle gets in however busy the others are; the
 * queue itself still refuses it when full. The counters are atomics kept
 * without a lock: a user's 0 <-> 1 transitions move @active exactly once
 * each, so it is exact whenever the queue is quiet and off by the few units
 * in transit otherwise, which a share does not need to be more exact than.
 */

#include <linux/minmax.h>

#include "share.h"

void cyph_share_init(struct cyph_share *sh, unsigned int len)
{
	atomic_set(&sh->active, 0);
	sh->len = len;
}

/* The most units one user may hold while @active users hold some. */
unsigned int cyph_share_limit(const struct cyph_share *sh, int active)
{
	if (active <= 1)
		return sh->len - sh->len / 8;
	return max_t(unsigned int, sh->len / (active + 1), CYPH_SHARE_MIN);
}

/**
 * cyph_share_take() - count a unit that is about to enter the queue
 * @sh: the queue's share state
 * @mine: the user's count of queued units
 *
 * Return: false if the user is over its share; nothing is counted then.
 * Otherwise the caller must cyph_share_put() once the unit has left the
 * queue (or did not get in after all).
 */
bool cyph_share_take(struct cyph_share *sh, atomic_t *mine)
{
	int n = atomic_inc_return(mine);

	if (n == 1) {
		atomic_inc(&sh->active);
		return true;
	}
	if ((unsigned int)n <= cyph_share_limit(sh, atomic_read(&sh->active)))
		return true;
	/*
	 * Undone as a unit leaving: the other units counted in n may all
	 * have been put since, leaving ours the last. Putting it makes the
	 * 1 -> 0 move that takes the user off @active, which would otherwise
	 * stay raised and shrink every share for good.
	 */
	cyph_share_put(sh, mine);
	return false;
}

void cyph_share_put(struct cyph_share *sh, atomic_t *mine)
{
	if (atomic_dec_and_test(mine))
		atomic_dec(&sh->active);
}
