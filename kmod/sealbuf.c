// SPDX-License-Identifier: GPL-2.0
/*
 * Buffers that sealed and opened DATA packets are written into (tx.c
 * seals a segment whose payload is in the sending socket's pages out of
 * place, into a buffer of its own, which then rides the train as the
 * segment's one page fragment; rx.c opens a packet with page fragments
 * into one, see cyph_rx_writable()).
 *
 * The stack's page-fragment cache (netdev_alloc_frag()) takes a fresh
 * page for almost every 32 KiB it hands out: it reuses its page only if
 * every fragment of it was freed by the time it runs out, and the last
 * ones carved are still in flight then. With init_on_alloc (Debian's
 * default) every fresh page is zeroed first, 1.4 KB per packet sealed,
 * which under TCG costs about as much as the
 * cipher's own work on those bytes (docs/benchmark.md, "An instruction
 * profile"). Here each CPU keeps its last CYPH_SEALBUF_PAGES pages and
 * carves them in turn; by the time it comes back to one, the stack has
 * usually let go of every buffer in it, and the page is carved again
 * with no allocation and no zeroing. One still in flight is left to the
 * stack, which frees it as any page fragment, and a fresh page takes its
 * place, so a slow receiver costs what netdev_alloc_frag() always did.
 *
 * A page is idle when its reference count is the cache's own one: every
 * buffer carved from it held a reference, dropped by skb_free_frag() or
 * skb_frag_unref(), and no one can take a new reference without holding
 * one. While a page is carved the cache holds the references it will
 * hand out as one bias (as netdev_alloc_frag() does), so a buffer costs
 * no atomic operation.
 *
 * Pages are never from the emergency reserves (__GFP_NOMEMALLOC), so
 * the stack's pfmemalloc rules never concern them. A CPU holds at most
 * CYPH_SEALBUF_PAGES pages of 32 KiB (512 KiB) idle, and only once it
 * has sealed that much; it keeps them until it goes offline or the last
 * device is gone (trim.c).
 */

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <linux/topology.h>

#include "crypto.h"
#include "sealbuf.h"

#define CYPH_SEALBUF_ORDER	get_order(SZ_32K)
/* The most buffers a page can be carved into: as many references. */
#define CYPH_SEALBUF_BIAS	(SZ_32K / SMP_CACHE_BYTES)

static struct page *cyph_sealbuf_new_page(void)
{
	const gfp_t gfp = GFP_ATOMIC | __GFP_NOWARN | __GFP_NOMEMALLOC;
	struct page *page;

	page = alloc_pages(gfp | __GFP_COMP | __GFP_NORETRY,
			   CYPH_SEALBUF_ORDER);
	return page ?: alloc_page(gfp);
}

/* Only the cache's reference is left, and the page is on this node. */
static bool cyph_sealbuf_idle(struct page *page)
{
	if (page_ref_count(page) != 1 || page_to_nid(page) != numa_mem_id())
		return false;
	/* The stack's last put was fully ordered: writing may begin. */
	smp_acquire__after_ctrl_dep();
	return true;
}

/* Let go of slot @i's page: freed now if idle, else by the stack. */
static void cyph_sealbuf_forget(struct cyph_sealbuf_cache *c, unsigned int i)
{
	put_page(c->page[i]);
	c->page[i] = NULL;
}

/* Stop carving the current page: give back the references not handed out. */
static void cyph_sealbuf_retire(struct cyph_sealbuf_cache *c)
{
	struct page *page = c->page[c->cur];

	if (page && c->bias)
		page_ref_sub(page, c->bias);
	c->bias = 0;
	c->size = 0;
}

/* Move on to the next slot, recycling its page if idle; NULL if none. */
static struct page *cyph_sealbuf_next(struct cyph_sealbuf_cache *c)
{
	struct page *page;

	cyph_sealbuf_retire(c);
	c->cur = (c->cur + 1) % CYPH_SEALBUF_PAGES;
	page = c->page[c->cur];
	if (page && !cyph_sealbuf_idle(page)) {
		cyph_sealbuf_forget(c, c->cur);
		page = NULL;
	}
	if (!page) {
		page = cyph_sealbuf_new_page();
		if (!page)
			return NULL;
		c->page[c->cur] = page;
	}
	page_ref_add(page, CYPH_SEALBUF_BIAS);
	c->bias = CYPH_SEALBUF_BIAS;
	c->offset = 0;
	c->size = page_size(page);
	return page;
}

/**
 * cyph_sealbuf_take() - carve a buffer from a cache
 * @c: the cache, used by one context at a time
 * @len: bytes, at most PAGE_SIZE
 *
 * Return: a cache-line aligned buffer holding one page reference, freed
 * with skb_free_frag() or as an skb's page fragment; NULL if no page
 * could be had.
 */
void *cyph_sealbuf_take(struct cyph_sealbuf_cache *c, unsigned int len)
{
	struct page *page;

	/*
	 * A buffer is at least a cache line, so a page runs out of bytes
	 * before the cache runs out of the references it took for it.
	 */
	len = ALIGN(max(len, 1U), SMP_CACHE_BYTES);
	if (unlikely(len > PAGE_SIZE))
		return NULL;
	if (c->offset + len > c->size) {
		page = cyph_sealbuf_next(c);
		if (!page)
			return NULL;
	} else {
		page = c->page[c->cur];
	}
	c->bias--;
	c->offset += len;
	return page_address(page) + c->offset - len;
}

/*
 * Let go of every page; buffers still in flight keep theirs alive.
 * Return: the pages let go.
 */
unsigned int cyph_sealbuf_drain(struct cyph_sealbuf_cache *c)
{
	unsigned int i, n = 0;

	cyph_sealbuf_retire(c);
	for (i = 0; i < CYPH_SEALBUF_PAGES; i++) {
		if (c->page[i]) {
			cyph_sealbuf_forget(c, i);
			n++;
		}
	}
	c->offset = 0;
	return n;
}

static DEFINE_PER_CPU(struct cyph_sealbuf_cache, cyph_sealbufs);

/**
 * cyph_sealbuf_alloc() - a buffer for one sealed packet
 * @len: bytes, at most PAGE_SIZE
 *
 * Where recycling is not wanted (cyph_recycle_ok()), a fragment from the
 * stack's cache. Context: process or softirq, hard interrupts on (the
 * device has no netpoll).
 *
 * Return: the buffer, freed with skb_free_frag() or as an skb's page
 * fragment; NULL if out of memory.
 */
void *cyph_sealbuf_alloc(unsigned int len)
{
	void *buf;

	if (!cyph_recycle_ok())
		return netdev_alloc_frag(len);
	local_bh_disable();
	buf = cyph_sealbuf_take(this_cpu_ptr(&cyph_sealbufs), len);
	local_bh_enable();
	return buf;
}

/**
 * cyph_skb_drop_frags() - let go of an skb's page fragments
 * @skb: not a clone (its fragments are its own to drop), no frag_list
 *
 * Its head's bytes are left as they are.
 */
void cyph_skb_drop_frags(struct sk_buff *skb)
{
	struct skb_shared_info *shinfo = skb_shinfo(skb);
	int i;

	for (i = 0; i < shinfo->nr_frags; i++)
		skb_frag_unref(skb, i);
	shinfo->nr_frags = 0;
	skb->len -= skb->data_len;
	skb->data_len = 0;
}

/**
 * cyph_sealbuf_to_skb() - make a buffer an skb's only page fragment
 * @skb: as for cyph_skb_drop_frags(); its fragments are let go
 * @buf: from cyph_sealbuf_alloc() (or a pointer into one); its page
 *	 reference goes to @skb
 * @len: bytes of @buf the fragment holds
 *
 * The buffer replaces the fragments in the memory the skb holds; its head
 * is left as it is. The fragment is ours alone, so whatever the old ones
 * said of sharing no longer holds (a shared one makes the stack copy the
 * skb before writing a checksum into it, skb_checksum_help()).
 */
void cyph_sealbuf_to_skb(struct sk_buff *skb, void *buf, unsigned int len)
{
	struct page *page = virt_to_head_page(buf);

	skb->truesize = skb->truesize - skb->data_len + len;
	cyph_skb_drop_frags(skb);
	skb_shinfo(skb)->flags &= ~SKBFL_SHARED_FRAG;
	skb_fill_page_desc(skb, 0, page, buf - page_address(page), len);
	skb->len += len;
	skb->data_len = len;
}

/**
 * cyph_sealbuf_release() - let go of a CPU's pages
 * @cpu: the CPU
 *
 * Context: on @cpu with bottom halves off, or with @cpu gone, or at
 * module exit: nothing else may carve its cache meanwhile.
 * Return: the pages let go.
 */
unsigned int cyph_sealbuf_release(int cpu)
{
	return cyph_sealbuf_drain(per_cpu_ptr(&cyph_sealbufs, cpu));
}
