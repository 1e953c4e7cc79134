/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-tunnel shares of a device's crypt queue, so that one busy tunnel
 * cannot fill the queue that every tunnel of the device goes through.
 */
#ifndef _CYPH_SHARE_H
#define _CYPH_SHARE_H

#include <linux/atomic.h>
#include <linux/types.h>

/* Units a tunnel may always have queued, however many others wait. */
#define CYPH_SHARE_MIN		8

struct cyph_share {
	atomic_t active;	/* users with at least one unit queued */
	unsigned int len;	/* units the queue holds */
};

void cyph_share_init(struct cyph_share *sh, unsigned int len);
unsigned int cyph_share_limit(const struct cyph_share *sh, int active);
bool cyph_share_take(struct cyph_share *sh, atomic_t *mine);
void cyph_share_put(struct cyph_share *sh, atomic_t *mine);

#endif /* _CYPH_SHARE_H */
