// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/sealbuf.c, the buffers sealed packets are written
 * into: buffers are carved in turn from a CPU's pages; a page whose
 * buffers were all freed is carved again when the cache comes back to
 * it; a page with a buffer still out is left to that buffer and replaced;
 * and every reference the cache took is given back, none twice.
 *
 * Each case uses a cache of its own (the per-CPU ones are the module's),
 * and sizes its buffers as a full-sized sealed packet.
 */

#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/skbuff.h>

#include "sealbuf.h"

#define BUF_LEN		1400
/* Far more buffers than the cache's pages hold, whatever their order. */
#define MAX_TAKES	100000

struct senv {
	struct cyph_sealbuf_cache cache;
};

static int sealbuf_test_init(struct kunit *test)
{
	struct senv *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, env);
	test->priv = env;
	return 0;
}

static void sealbuf_test_exit(struct kunit *test)
{
	struct senv *env = test->priv;

	cyph_sealbuf_drain(&env->cache);
}

/*
 * Take and at once free buffers until @turns pages have begun after the
 * one the first buffer came from; set @last to the page carved last.
 * Fail the case if a buffer came from @avoid once that first page was
 * left behind (a page with a buffer still out must not be carved again).
 */
static void sealbuf_churn(struct kunit *test, struct cyph_sealbuf_cache *c,
			  unsigned int turns, struct page *avoid,
			  struct page **last)
{
	struct page *page;
	unsigned int n, begun = 0;
	void *buf;

	*last = NULL;
	for (n = 0; n < MAX_TAKES && begun < turns; n++) {
		buf = cyph_sealbuf_take(c, BUF_LEN);
		KUNIT_ASSERT_NOT_NULL(test, buf);
		page = virt_to_head_page(buf);
		skb_free_frag(buf);
		if (*last && page != *last)
			begun++;
		if (begun)
			KUNIT_ASSERT_PTR_NE(test, page, avoid);
		*last = page;
	}
	KUNIT_ASSERT_EQ(test, begun, turns);
}

/* Buffers come one after another from a page, cache-line aligned. */
static void sealbuf_carves_in_turn(struct kunit *test)
{
	struct senv *env = test->priv;
	void *a, *b;

	a = cyph_sealbuf_take(&env->cache, BUF_LEN);
	b = cyph_sealbuf_take(&env->cache, BUF_LEN);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, (unsigned long)a % SMP_CACHE_BYTES, 0UL);
	KUNIT_EXPECT_PTR_EQ(test, b, a + ALIGN(BUF_LEN, SMP_CACHE_BYTES));
	KUNIT_EXPECT_PTR_EQ(test, virt_to_head_page(a), virt_to_head_page(b));
	/* The whole buffer is ours to write. */
	memset(a, 0xa5, BUF_LEN);
	memset(b, 0x5a, BUF_LEN);
	skb_free_frag(a);
	skb_free_frag(b);
}

/* A buffer longer than a page is refused, not carved across pages. */
static void sealbuf_refuses_longer_than_page(struct kunit *test)
{
	struct senv *env = test->priv;
	void *buf;

	KUNIT_EXPECT_NULL(test, cyph_sealbuf_take(&env->cache, PAGE_SIZE + 1));
	buf = cyph_sealbuf_take(&env->cache, PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	skb_free_frag(buf);
}

/*
 * With every buffer freed, a full round of the cache comes back to the
 * page it began with and carves it again: no page beyond the cache's
 * own was needed. The same page freed and allocated again would come
 * back too (the page allocator's per-CPU lists are last in, first out),
 * so the page carries a mark that an allocation clears (page->private).
 */
static void sealbuf_recycles_idle_page(struct kunit *test)
{
	struct senv *env = test->priv;
	struct page *first, *last;
	void *buf;

	buf = cyph_sealbuf_take(&env->cache, BUF_LEN);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	first = virt_to_head_page(buf);
	KUNIT_ASSERT_EQ(test, page_private(first), 0UL);
	set_page_private(first, 0x5ea1);
	skb_free_frag(buf);
	sealbuf_churn(test, &env->cache, CYPH_SEALBUF_PAGES, NULL, &last);
	KUNIT_EXPECT_PTR_EQ(test, last, first);
	KUNIT_EXPECT_EQ(test, page_private(last), 0x5ea1UL);
	set_page_private(last, 0);
}

/*
 * A page with a buffer still out is not carved again: the cache lets go
 * of it and takes another, and the buffer keeps its page alive, with
 * the one reference it holds, until it is freed.
 */
static void sealbuf_leaves_busy_page(struct kunit *test)
{
	struct senv *env = test->priv;
	struct page *held_page, *last;
	void *held;

	held = cyph_sealbuf_take(&env->cache, BUF_LEN);
	KUNIT_ASSERT_NOT_NULL(test, held);
	held_page = virt_to_head_page(held);
	sealbuf_churn(test, &env->cache, 2 * CYPH_SEALBUF_PAGES, held_page,
		      &last);
	cyph_sealbuf_drain(&env->cache);
	KUNIT_EXPECT_EQ(test, page_ref_count(held_page), 1);
	memset(held, 0xa5, BUF_LEN);
	skb_free_frag(held);
}

/*
 * Every reference the cache took ahead is given back when it drains:
 * with an outside reference on a page it carved, that one is all that
 * is left, whether the page was being carved or had been retired.
 */
static void sealbuf_drain_balances(struct kunit *test)
{
	struct senv *env = test->priv;
	struct page *retired, *current_page;
	void *buf;

	buf = cyph_sealbuf_take(&env->cache, BUF_LEN);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	retired = virt_to_head_page(buf);
	skb_free_frag(buf);
	sealbuf_churn(test, &env->cache, 1, NULL, &current_page);
	KUNIT_ASSERT_PTR_EQ(test, current_page, env->cache.page[env->cache.cur]);
	KUNIT_ASSERT_PTR_NE(test, current_page, retired);
	get_page(retired);
	get_page(current_page);
	cyph_sealbuf_drain(&env->cache);
	KUNIT_EXPECT_EQ(test, page_ref_count(retired), 1);
	KUNIT_EXPECT_EQ(test, page_ref_count(current_page), 1);
	put_page(retired);
	put_page(current_page);
}

static struct kunit_case sealbuf_cases[] = {
	KUNIT_CASE(sealbuf_carves_in_turn),
	KUNIT_CASE(sealbuf_refuses_longer_than_page),
	KUNIT_CASE(sealbuf_recycles_idle_page),
	KUNIT_CASE(sealbuf_leaves_busy_page),
	KUNIT_CASE(sealbuf_drain_balances),
	{}
};

static struct kunit_suite sealbuf_suite = {
	.name = "cyphonic_sealbuf",
	.init = sealbuf_test_init,
	.exit = sealbuf_test_exit,
	.test_cases = sealbuf_cases,
};

kunit_test_suite(sealbuf_suite);
