/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CoDel (Nichols and Jacobson, RFC 8289) where our packets wait: on each
 * tunnel's FIFO in a device crypt queue (pipeline.c) and on each CPU's
 * receive cell (rxcell.c). A queue whose packets keep waiting longer
 * than CYPH_CODEL_TARGET for a whole CYPH_CODEL_INTERVAL loses one, then
 * more and more often, until its senders slow down and the wait is short
 * again. With the round robin (sched.c), each tunnel's TCP senders get
 * their congestion signal from their own queue instead of from a tail
 * drop shared by all, or from no drop at all and a standing queue of
 * hundreds of milliseconds (docs/benchmark.md, "Queue delay and
 * fairness").
 *
 * Like sched.c it knows nothing of skbs or tunnels, so KUnit tests it
 * alone; the caller serialises every call on one state (the crypt
 * queue's lock; a cell's NAPI poll). Times are ktime_get_mono_fast_ns()
 * >> 10 (about a microsecond), in a u32 that wraps every 73 minutes:
 * only differences are compared.
 */
#ifndef _CYPH_CODEL_H
#define _CYPH_CODEL_H

#include <linux/types.h>

#define CYPH_CODEL_SHIFT	10
#define CYPH_CODEL_TARGET	(5000000U >> CYPH_CODEL_SHIFT)	/* 5 ms */
#define CYPH_CODEL_INTERVAL	(100000000U >> CYPH_CODEL_SHIFT) /* 100 ms */

struct cyph_codel {
	u32 first_above;	/* when the wait may first cost a drop; 0: not above */
	u32 drop_next;		/* while dropping: when the next drop is due */
	u32 count;		/* drops in this dropping state */
	u32 lastcount;		/* count when the last dropping state began */
	bool dropping;
};

static inline void cyph_codel_init(struct cyph_codel *c)
{
	*c = (struct cyph_codel){};
}

u32 cyph_codel_now(void);
bool cyph_codel_pop(struct cyph_codel *c, u32 now, u32 enqueued, bool last);

#endif /* _CYPH_CODEL_H */
