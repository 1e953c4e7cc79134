// SPDX-License-Identifier: GPL-2.0
/*
 * The reorder ring (see ring.h for the contract).
 *
 * Memory ordering: a completer publishes an item with a release store into
 * its slot; the consumer reads the slot with an acquire load, so everything
 * the worker wrote to the packet is visible before the consumer touches it.
 * The consumer frees a slot before it advances @tail (release), and a
 * producer reads @tail (acquire) before it reuses the slot, so a reserved
 * slot is always empty.
 */

#include <linux/bug.h>
#include <linux/log2.h>
#include <linux/slab.h>

#include "ring.h"

/**
 * cyph_ring_init() - allocate an empty ring
 * @r: ring
 * @size: number of slots, a power of two
 * @first: the first sequence number to hand out (tests start near 2^32)
 * @gfp: allocation flags
 *
 * Return: 0 or -ENOMEM/-EINVAL.
 */
int cyph_ring_init(struct cyph_ring *r, unsigned int size, u32 first,
		   gfp_t gfp)
{
	if (!size || !is_power_of_2(size))
		return -EINVAL;
	r->slot = kcalloc(size, sizeof(*r->slot), gfp);
	if (!r->slot)
		return -ENOMEM;
	r->mask = size - 1;
	r->head = first;
	r->tail = first;
	return 0;
}

/* The ring must be empty: every reserved number popped. */
void cyph_ring_free(struct cyph_ring *r)
{
	WARN_ON_ONCE(r->slot && cyph_ring_in_flight(r));
	kfree(r->slot);
	r->slot = NULL;
}

/**
 * cyph_ring_reserve() - take the next sequence number
 * @r: ring
 * @seq: the number, on success
 *
 * Context: producers are serialised by the caller.
 * Return: false if the ring is full; the caller drops the packet.
 */
bool cyph_ring_reserve(struct cyph_ring *r, u32 *seq)
{
	/* Pairs with the release in cyph_ring_pop(): the slot is free. */
	u32 tail = smp_load_acquire(&r->tail);

	if (r->head - tail > r->mask)
		return false;
	WRITE_ONCE(r->slot[r->head & r->mask], CYPH_RING_PENDING);
	*seq = r->head;
	/* in_flight() may read it from outside the producers' lock. */
	WRITE_ONCE(r->head, r->head + 1);
	return true;
}

/**
 * cyph_ring_complete() - publish the item for a reserved number
 * @r: ring
 * @seq: a number from cyph_ring_reserve(), completed once
 * @item: the finished item, never NULL or CYPH_RING_PENDING
 *
 * Context: any, concurrently with other completers and the consumer.
 */
void cyph_ring_complete(struct cyph_ring *r, u32 seq, void *item)
{
	void **slot = &r->slot[seq & r->mask];

	WARN_ON_ONCE(READ_ONCE(*slot) != CYPH_RING_PENDING);
	/* Pairs with the acquire in cyph_ring_pop(): the item is complete. */
	smp_store_release(slot, item);
}

/**
 * cyph_ring_pop() - take the oldest item if it is complete
 * @r: ring
 *
 * Context: one consumer at a time.
 * Return: the item, or NULL if the ring is empty or the oldest reserved
 * number is still being worked on.
 */
void *cyph_ring_pop(struct cyph_ring *r)
{
	void **slot = &r->slot[r->tail & r->mask];
	/* Pairs with the release in cyph_ring_complete(). */
	void *item = smp_load_acquire(slot);

	if (!item || item == CYPH_RING_PENDING)
		return NULL;
	WRITE_ONCE(*slot, NULL);
	/* Pairs with the acquire in cyph_ring_reserve(): slot freed first. */
	smp_store_release(&r->tail, r->tail + 1);
	return item;
}

/* True if cyph_ring_pop() would return an item now. */
bool cyph_ring_ready(const struct cyph_ring *r)
{
	/* Pairs with the release in cyph_ring_complete(). */
	void *item = smp_load_acquire(&r->slot[READ_ONCE(r->tail) & r->mask]);

	return item && item != CYPH_RING_PENDING;
}

/*
 * True if every reserved number has been popped; then whatever the
 * consumer wrote before its last pop is visible too. Context: producers
 * are serialised by the caller.
 */
bool cyph_ring_idle(const struct cyph_ring *r)
{
	/* Pairs with the release in cyph_ring_pop(). */
	return r->head == smp_load_acquire(&r->tail);
}

/* Reserved numbers not yet popped: the ring's occupancy. */
u32 cyph_ring_in_flight(const struct cyph_ring *r)
{
	return READ_ONCE(r->head) - READ_ONCE(r->tail);
}
