// SPDX-License-Identifier: GPL-2.0
/*
 * Replay window. cyph_replay_update() is the pure algorithm (the caller
 * serialises); cyph_replay_check() is what the receive path uses.
 */

#include <linux/bitops.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "replay.h"

#define CYPH_REPLAY_BLOCK_SHIFT	ilog2(BITS_PER_LONG)

void cyph_replay_init(struct cyph_replay *r)
{
	spin_lock_init(&r->lock);
	r->top = 0;
	memset(r->bitmap, 0, sizeof(r->bitmap));
}

/**
 * cyph_replay_update() - accept a counter at most once
 * @r: window
 * @counter: counter of an authenticated packet
 *
 * Counters up to CYPHONIC_REPLAY_WINDOW - 1 below the highest accepted one
 * are accepted out of order, each once; older ones and counters at the
 * reject limit are refused.
 *
 * Return: true if the packet is new and has now been recorded.
 */
bool cyph_replay_update(struct cyph_replay *r, u64 counter)
{
	u64 c, block, cur;
	unsigned long i, n;

	if (counter >= CYPHONIC_REJECT_AFTER_MESSAGES)
		return false;
	/* Shift by one so that 0 can mean "nothing accepted yet". */
	c = counter + 1;
	if (c + CYPHONIC_REPLAY_WINDOW <= r->top)
		return false;

	block = c >> CYPH_REPLAY_BLOCK_SHIFT;
	if (c > r->top) {
		cur = r->top >> CYPH_REPLAY_BLOCK_SHIFT;
		n = min_t(u64, block - cur, CYPH_REPLAY_BLOCKS);
		for (i = 1; i <= n; i++)
			r->bitmap[(cur + i) & (CYPH_REPLAY_BLOCKS - 1)] = 0;
		/* Publish the cleared blocks before the top that uses them. */
		smp_store_release(&r->top, c);
	}
	return !__test_and_set_bit(c & (BITS_PER_LONG - 1),
				   &r->bitmap[block & (CYPH_REPLAY_BLOCKS - 1)]);
}

bool cyph_replay_check(struct cyph_replay *r, u64 counter)
{
	bool fresh;

	spin_lock_bh(&r->lock);
	fresh = cyph_replay_update(r, counter);
	spin_unlock_bh(&r->lock);
	return fresh;
}

/**
 * cyph_replay_seen() - cheap look at the window before decryption
 * @r: window
 * @counter: counter of a packet not yet authenticated
 *
 * Lockless and read-only, so a forged or replayed packet costs no AEAD and
 * no lock. It can only err towards "fresh" (a counter accepted meanwhile):
 * cyph_replay_update() after decryption stays the authority. A bit seen set
 * here is never stale for @counter: blocks are cleared before the top that
 * reaches them is published, and a bit set by a newer lap of the ring means
 * @counter has fallen out of the window anyway.
 *
 * Return: true if @counter would certainly be refused.
 */
bool cyph_replay_seen(const struct cyph_replay *r, u64 counter)
{
	/* Pairs with the release in update(): blocks cleared before top. */
	u64 top = smp_load_acquire(&r->top);
	u64 c = counter + 1;
	unsigned long word;

	if (counter >= CYPHONIC_REJECT_AFTER_MESSAGES)
		return true;
	if (c > top)
		return false;
	if (c + CYPHONIC_REPLAY_WINDOW <= top)
		return true;
	word = READ_ONCE(r->bitmap[(c >> CYPH_REPLAY_BLOCK_SHIFT) &
				   (CYPH_REPLAY_BLOCKS - 1)]);
	return word & BIT(c & (BITS_PER_LONG - 1));
}

/* The highest accepted counter, 0 if none (as CYPHONIC_KEY_A_RX_COUNTER). */
u64 cyph_replay_highest(const struct cyph_replay *r)
{
	u64 top = READ_ONCE(r->top);

	return top ? top - 1 : 0;
}
