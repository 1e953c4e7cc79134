/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DATA that arrives for a tunnel still being set up (TUNNEL_EXPECT).
 */
#ifndef _CYPH_EARLY_H
#define _CYPH_EARLY_H

#include <linux/cyphonic.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>

struct cyph_device;

struct cyph_early_slot {
	u32 index;		/* 0: free */
	unsigned long until;	/* jiffies: the expectation ends */
	struct sk_buff_head held;
};

struct cyph_early {
	spinlock_t lock;	/* every slot */
	struct cyph_early_slot slot[CYPHONIC_EARLY_INDICES];
};

void cyph_early_init(struct cyph_early *e);
int cyph_early_expect(struct cyph_device *cd, u32 index,
		      struct netlink_ext_ack *extack);
bool cyph_early_hold(struct cyph_device *cd, u32 index, struct sk_buff *skb);
void cyph_early_release(struct cyph_device *cd, u32 index);
void cyph_early_purge(struct cyph_device *cd);

#endif /* _CYPH_EARLY_H */
