/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reorder ring: per-tunnel, per-direction sequence numbers and the
 * buffer that releases items strictly in that order.
 *
 * A producer reserves the next sequence number when a packet arrives; any
 * context may later complete that number with the finished item, in any
 * order; the consumer pops items only while the oldest reserved number is
 * complete, so they leave in arrival order whatever order the workers
 * finished in. The ring holds at most its size of reserved numbers: a
 * producer that finds it full is refused and drops the packet before it
 * gets a number, so a drop never leaves a hole that stalls the ring.
 *
 * Sequence numbers are u32 and wrap; only differences are compared.
 * This file knows nothing of skbs or tunnels, so KUnit tests it alone.
 */
#ifndef _CYPH_RING_H
#define _CYPH_RING_H

#include <linux/types.h>

struct cyph_ring {
	void **slot;		/* NULL: free, CYPH_RING_PENDING, or an item */
	u32 mask;		/* size - 1; size is a power of two */
	u32 head;		/* next number to reserve; producers serialise */
	u32 tail;		/* next number to pop; the consumer owns it */
};

/* Reserved but not yet completed. Never a valid item pointer. */
#define CYPH_RING_PENDING	((void *)1UL)

int cyph_ring_init(struct cyph_ring *r, unsigned int size, u32 first,
		   gfp_t gfp);
void cyph_ring_free(struct cyph_ring *r);

bool cyph_ring_reserve(struct cyph_ring *r, u32 *seq);
void cyph_ring_complete(struct cyph_ring *r, u32 seq, void *item);
void *cyph_ring_pop(struct cyph_ring *r);
bool cyph_ring_ready(const struct cyph_ring *r);
bool cyph_ring_idle(const struct cyph_ring *r);
u32 cyph_ring_in_flight(const struct cyph_ring *r);

#endif /* _CYPH_RING_H */
