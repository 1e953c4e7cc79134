// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: UDP GSO trains (kmod/train.c). Packets of different tunnels for
 * one endpoint and source share a train, in the order they came; another
 * endpoint, source or kind of packet, a shorter packet or a full train
 * sends what is there; a unit that makes the train CYPH_TRAIN_GO long
 * sends it, a shorter one waits for the flush; every tunnel's packets
 * are counted as its own, sent or dropped, and the train gives back the
 * tunnel references it took. Packets classified otherwise behind us
 * (priority) do not share a train; a train sent from inside a train's
 * send (a tunnel inside a tunnel) is the next level's. The cyph_sock_send() double counts sends
 * and the packets in each.
 */

#include <kunit/test.h>
#include <linux/bottom_half.h>
#include <linux/skbuff.h>

#include "device.h"
#include "kunit_stubs.h"
#include "test_dev.h"
#include "train.h"
#include "tunnel.h"

#define NT 3

struct train_fixture {
	struct cyph_device *cd;
	struct cyph_tunnel *t[NT];
	union cyph_sockaddr ep, ep2;
	struct cyph_src src;
};

/* A tunnel as far as train.c looks at one: device, counters, refs, lock. */
static struct cyph_tunnel *fake_tunnel(struct kunit *test,
				       struct cyph_device *cd, u32 index)
{
	struct cyph_tunnel *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->cd = cd;
	t->index = index;
	t->stats = cyph_stats_alloc();
	KUNIT_ASSERT_NOT_NULL(test, t->stats);
	seqlock_init(&t->ep_lock);
	kref_init(&t->ref);
	return t;
}

static int train_test_init(struct kunit *test)
{
	struct train_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	int i;

	if (!f)
		return -ENOMEM;
	f->cd = cyph_test_dev_new(test, "cypht%d");
	if (!f->cd)
		return -ENOMEM;
	for (i = 0; i < NT; i++)
		f->t[i] = fake_tunnel(test, f->cd, i + 1);
	f->ep.sin.sin_family = AF_INET;
	f->ep.sin.sin_addr.s_addr = htonl(0xc0000201);
	f->ep.sin.sin_port = htons(4500);
	f->ep2 = f->ep;
	f->ep2.sin.sin_port = htons(4501);
	test->priv = f;
	cyph_stub_reset();
	return 0;
}

static void train_test_exit(struct kunit *test)
{
	struct train_fixture *f = test->priv;
	int i;

	local_bh_disable();
	cyph_train_flush(true);
	local_bh_enable();
	for (i = 0; i < NT; i++) {
		/* The train gave back every reference it took. */
		KUNIT_EXPECT_EQ(test, kref_read(&f->t[i]->ref), 1U);
		free_percpu(f->t[i]->stats);
	}
	cyph_test_dev_free(f->cd);
}

static u64 tstat(struct cyph_tunnel *t, enum cyphonic_stat s)
{
	u64 v[__CYPHONIC_STAT_MAX];

	cyph_stats_read(t->stats, v);
	return v[s];
}

/* A sealed packet of @len bytes, linear, with room for outer headers. */
static struct sk_buff *pkt(struct kunit *test, unsigned int len)
{
	struct sk_buff *skb = alloc_skb(128 + len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 128);
	memset(skb_put(skb, len), 0xab, len);
	return skb;
}

/* Puts one packet of tunnel @i on the train, as tx.c's release does. */
static void add(struct kunit *test, int i, unsigned int len,
		const union cyph_sockaddr *ep, const struct cyph_src *src)
{
	struct train_fixture *f = test->priv;
	struct sk_buff *skb = pkt(test, len);

	local_bh_disable();
	cyph_train_add(f->t[i], skb, ep, src, 0, len - 32);
	local_bh_enable();
}

static void unit_done(void)
{
	local_bh_disable();
	cyph_train_unit_done();
	local_bh_enable();
}

static void flush(void)
{
	local_bh_disable();
	cyph_train_flush(true);
	local_bh_enable();
}

static unsigned int sends(void)
{
	return atomic_read(&cyph_stub_calls.sock_send);
}

static void train_shared_by_tunnels(struct kunit *test)
{
	struct train_fixture *f = test->priv;

	add(test, 0, 100, &f->ep, &f->src);
	add(test, 1, 100, &f->ep, &f->src);
	add(test, 0, 100, &f->ep, &f->src);
	unit_done();
	KUNIT_EXPECT_EQ(test, sends(), 0U);
	/* Held: the train took its own references. */
	KUNIT_EXPECT_EQ(test, kref_read(&f->t[0]->ref), 3U);
	KUNIT_EXPECT_EQ(test, kref_read(&f->t[1]->ref), 2U);
	flush();
	KUNIT_EXPECT_EQ(test, sends(), 1U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_segs, 3U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_len, 300U);
	KUNIT_EXPECT_EQ(test, tstat(f->t[0], CYPHONIC_STAT_TX_PACKETS), 2ULL);
	KUNIT_EXPECT_EQ(test, tstat(f->t[0], CYPHONIC_STAT_TX_BYTES), 136ULL);
	KUNIT_EXPECT_EQ(test, tstat(f->t[1], CYPHONIC_STAT_TX_PACKETS), 1ULL);
	KUNIT_EXPECT_EQ(test, tstat(f->t[0], CYPHONIC_STAT_TX_GSO_SENDS), 1ULL);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(f->cd, CYPHONIC_STAT_TX_PACKETS), 3ULL);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(f->cd, CYPHONIC_STAT_TX_GSO_SHARED), 1ULL);
	flush();
	KUNIT_EXPECT_EQ(test, sends(), 1U);
}

static void train_split_by_endpoint_and_source(struct kunit *test)
{
	struct train_fixture *f = test->priv;
	struct cyph_src other = { .addr.ip4 = htonl(0xc0000202) };

	add(test, 0, 100, &f->ep, &f->src);
	add(test, 1, 100, &f->ep2, &f->src);
	/* Another endpoint sent the first train, of one packet. */
	KUNIT_EXPECT_EQ(test, sends(), 1U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_segs, 1U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_endpoint.sin.sin_port,
			htons(4500));
	add(test, 2, 100, &f->ep2, &other);
	KUNIT_EXPECT_EQ(test, sends(), 2U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_endpoint.sin.sin_port,
			htons(4501));
	flush();
	KUNIT_EXPECT_EQ(test, sends(), 3U);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(f->cd, CYPHONIC_STAT_TX_GSO_SENDS), 0ULL);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(f->cd, CYPHONIC_STAT_TX_GSO_SHARED), 0ULL);
}

static void train_ends_at_shorter_or_long_linear(struct kunit *test)
{
	struct train_fixture *f = test->priv;

	add(test, 0, 100, &f->ep, &f->src);
	add(test, 1, 80, &f->ep, &f->src);
	/* A shorter packet is the last of its train: sent at once. */
	KUNIT_EXPECT_EQ(test, sends(), 1U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_segs, 2U);
	/* A long linear packet would be copied when cut apart: alone. */
	add(test, 0, 100, &f->ep, &f->src);
	add(test, 1, 1000, &f->ep, &f->src);
	KUNIT_EXPECT_EQ(test, sends(), 3U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_segs, 1U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_len, 1000U);
	/* A longer packet than the first cannot join either. */
	add(test, 0, 100, &f->ep, &f->src);
	add(test, 1, 120, &f->ep, &f->src);
	KUNIT_EXPECT_EQ(test, sends(), 4U);
	flush();
	KUNIT_EXPECT_EQ(test, sends(), 5U);
}

static void train_leaves_when_long_enough(struct kunit *test)
{
	struct train_fixture *f = test->priv;
	int i;

	for (i = 0; i < 31; i++)
		add(test, i % NT, 100, &f->ep, &f->src);
	unit_done();
	KUNIT_EXPECT_EQ(test, sends(), 0U);
	add(test, 0, 100, &f->ep, &f->src);
	unit_done();
	KUNIT_EXPECT_EQ(test, sends(), 1U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_segs, 32U);
	/* A unit longer than that goes on until the train is full. */
	for (i = 0; i < 70; i++)
		add(test, 1, 100, &f->ep, &f->src);
	KUNIT_EXPECT_EQ(test, sends(), 2U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_segs, 64U);
	unit_done();
	KUNIT_EXPECT_EQ(test, sends(), 2U);
	flush();
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_segs, 6U);
}

static void train_dropped_counts_each_tunnel(struct kunit *test)
{
	struct train_fixture *f = test->priv;

	cyph_stub_calls.sock_send_err = -ENOTCONN;
	add(test, 0, 100, &f->ep, &f->src);
	add(test, 1, 100, &f->ep, &f->src);
	add(test, 1, 100, &f->ep, &f->src);
	add(test, 2, 100, &f->ep, &f->src);
	flush();
	KUNIT_EXPECT_EQ(test, sends(), 1U);
	KUNIT_EXPECT_EQ(test, tstat(f->t[0], CYPHONIC_STAT_TX_DROP_NO_SOCKET), 1ULL);
	KUNIT_EXPECT_EQ(test, tstat(f->t[1], CYPHONIC_STAT_TX_DROP_NO_SOCKET), 2ULL);
	KUNIT_EXPECT_EQ(test, tstat(f->t[2], CYPHONIC_STAT_TX_DROP_NO_SOCKET), 1ULL);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(f->cd, CYPHONIC_STAT_TX_DROP_NO_SOCKET), 4ULL);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(f->cd, CYPHONIC_STAT_TX_PACKETS), 0ULL);
	KUNIT_EXPECT_EQ(test, tstat(f->t[1], CYPHONIC_STAT_TX_PACKETS), 0ULL);
}

static void train_split_by_class(struct kunit *test)
{
	struct train_fixture *f = test->priv;
	struct sk_buff *a = pkt(test, 100), *b = pkt(test, 100);

	/* fq and priority bands classify a train by its first packet. */
	b->priority = 6;
	local_bh_disable();
	cyph_train_add(f->t[0], a, &f->ep, &f->src, 0, 68);
	cyph_train_add(f->t[1], b, &f->ep, &f->src, 0, 68);
	local_bh_enable();
	KUNIT_EXPECT_EQ(test, sends(), 1U);
	flush();
	KUNIT_EXPECT_EQ(test, sends(), 2U);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(f->cd, CYPHONIC_STAT_TX_GSO_SHARED), 0ULL);
}

/*
 * A tunnel inside a tunnel: sending a train sends, from inside, a packet
 * of another tunnel on this CPU. It goes on the next level's train and
 * leaves before the outer send returns; the outer train is not touched.
 */
static struct kunit *nest_test;
static struct sk_buff *nest_skb;

static void nest_on_send(struct sk_buff *outer)
{
	struct train_fixture *f = nest_test->priv;
	struct sk_buff *skb = nest_skb;

	cyph_stub_calls.on_send = NULL;
	nest_skb = NULL;
	/* The same endpoint: it would join the outer train if it could. */
	cyph_train_add(f->t[2], skb, &f->ep, &f->src, 0, 68);
}

static void train_nested_send(struct kunit *test)
{
	struct train_fixture *f = test->priv;

	nest_test = test;
	nest_skb = pkt(test, 100);
	add(test, 0, 100, &f->ep, &f->src);
	add(test, 1, 100, &f->ep, &f->src);
	cyph_stub_calls.on_send = nest_on_send;
	flush();
	KUNIT_EXPECT_PTR_EQ(test, nest_skb, NULL);
	/* The outer train and, from inside it, the inner one: two sends. */
	KUNIT_EXPECT_EQ(test, sends(), 2U);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_segs, 1U);
	KUNIT_EXPECT_EQ(test, tstat(f->t[0], CYPHONIC_STAT_TX_PACKETS), 1ULL);
	KUNIT_EXPECT_EQ(test, tstat(f->t[1], CYPHONIC_STAT_TX_PACKETS), 1ULL);
	KUNIT_EXPECT_EQ(test, tstat(f->t[2], CYPHONIC_STAT_TX_PACKETS), 1ULL);
	KUNIT_EXPECT_EQ(test, cyph_test_stat(f->cd, CYPHONIC_STAT_TX_GSO_SHARED), 1ULL);
	flush();
	KUNIT_EXPECT_EQ(test, sends(), 2U);
}

static struct kunit_case train_cases[] = {
	KUNIT_CASE(train_shared_by_tunnels),
	KUNIT_CASE(train_split_by_endpoint_and_source),
	KUNIT_CASE(train_ends_at_shorter_or_long_linear),
	KUNIT_CASE(train_leaves_when_long_enough),
	KUNIT_CASE(train_dropped_counts_each_tunnel),
	KUNIT_CASE(train_split_by_class),
	KUNIT_CASE(train_nested_send),
	{}
};

static struct kunit_suite train_suite = {
	.name = "cyphonic_train",
	.init = train_test_init,
	.exit = train_test_exit,
	.test_cases = train_cases,
};

kunit_test_suite(train_suite);
