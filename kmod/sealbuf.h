/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Buffers that sealed and opened DATA packets are written into, carved from pages
 * that are recycled per CPU once the stack has let go of every buffer
 * in them (see sealbuf.c).
 */
#ifndef CYPH_SEALBUF_H
#define CYPH_SEALBUF_H

#include <linux/mm_types.h>

struct sk_buff;

/* Pages a CPU recycles, oldest first. */
#define CYPH_SEALBUF_PAGES	16

struct cyph_sealbuf_cache {
	struct page *page[CYPH_SEALBUF_PAGES];	/* one reference each */
	unsigned int cur;	/* the slot being carved */
	unsigned int offset;	/* bytes carved from it */
	unsigned int size;	/* its bytes, 0 with no page to carve */
	unsigned int bias;	/* references taken ahead, not handed out */
};

void *cyph_sealbuf_take(struct cyph_sealbuf_cache *c, unsigned int len);
unsigned int cyph_sealbuf_drain(struct cyph_sealbuf_cache *c);

void *cyph_sealbuf_alloc(unsigned int len);
unsigned int cyph_sealbuf_release(int cpu);

void cyph_skb_drop_frags(struct sk_buff *skb);
void cyph_sealbuf_to_skb(struct sk_buff *skb, void *buf, unsigned int len);

#endif /* CYPH_SEALBUF_H */
