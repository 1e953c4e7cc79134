/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packets waiting for a tunnel ("tunnel needed").
 */
#ifndef _CYPH_STAGING_H
#define _CYPH_STAGING_H

#include <linux/hashtable.h>
#include <linux/netlink.h>
#include <linux/ratelimit.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/timer.h>

#include "addr.h"

struct cyph_device;
struct cyph_tunnel;

#define CYPH_STAGING_HASH_BITS	8

struct cyph_staging {
	spinlock_t lock;	/* the table, its queues, @pairs and @bytes */
	unsigned int pairs;
	unsigned int bytes;	/* truesize of every staged packet */
	struct timer_list timer;	/* expires staged packets */
	/* events for pairs that found the table full, so have no last_ntf */
	struct ratelimit_state full_ntf;
	DECLARE_HASHTABLE(table, CYPH_STAGING_HASH_BITS);
};

void cyph_staging_init(struct cyph_staging *st);
void cyph_staging_stage(struct cyph_device *cd, struct sk_buff *skb,
			const struct cyph_pair *pair);
int cyph_staging_unreachable(struct cyph_device *cd,
			     const struct cyph_pair *pair,
			     struct netlink_ext_ack *extack);
void cyph_staging_flush(struct cyph_device *cd, struct cyph_tunnel *t);
void cyph_staging_purge(struct cyph_device *cd);

#endif /* _CYPH_STAGING_H */
