/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A GSO packet's head made small before it is segmented (see gsohead.c).
 */
#ifndef CYPH_GSOHEAD_H
#define CYPH_GSOHEAD_H

#include <linux/skbuff.h>

/* What a segment's head may hold in all to stay in the 512-byte bucket. */
#define CYPH_GSO_SEG_HEAD	SKB_WITH_OVERHEAD(512)

struct sk_buff *cyph_gso_small_head(struct sk_buff *skb,
				    unsigned int headroom);

#endif /* CYPH_GSOHEAD_H */
