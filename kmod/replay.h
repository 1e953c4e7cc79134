/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Anti-replay window (RFC 6479): a ring of bit blocks, so that moving the
 * window forward clears whole blocks instead of shifting a bitmap.
 */
#ifndef _CYPH_REPLAY_H
#define _CYPH_REPLAY_H

#include <linux/cyphonic.h>
#include <linux/log2.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/*
 * The ring must hold the window plus one block (the block being filled);
 * a power of two keeps the index arithmetic a mask on every architecture.
 */
#define CYPH_REPLAY_BITS	roundup_pow_of_two(CYPHONIC_REPLAY_WINDOW + BITS_PER_LONG)
#define CYPH_REPLAY_BLOCKS	(CYPH_REPLAY_BITS / BITS_PER_LONG)

struct cyph_replay {
	spinlock_t lock;	/* serialises cyph_replay_update() */
	u64 top;		/* highest accepted counter + 1; 0: none yet */
	unsigned long bitmap[CYPH_REPLAY_BLOCKS];
};

void cyph_replay_init(struct cyph_replay *r);
bool cyph_replay_update(struct cyph_replay *r, u64 counter);
bool cyph_replay_check(struct cyph_replay *r, u64 counter);
bool cyph_replay_seen(const struct cyph_replay *r, u64 counter);
u64 cyph_replay_highest(const struct cyph_replay *r);

#endif /* _CYPH_REPLAY_H */
