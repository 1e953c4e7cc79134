// SPDX-License-Identifier: GPL-2.0
/*
 * DATA that arrives for a tunnel still being set up. An initiator sends
 * its first packet right behind its last handshake flight (TLS False
 * Start, RFC 7918), so that packet reaches the responder while its daemon
 * is still checking that flight: no tunnel has the index yet. The
 * responder's daemon says which index it is setting up (TUNNEL_EXPECT)
 * when it accepts a handshake; DATA for that index is held here, a few
 * packets per index, and received as if just arrived once TUNNEL_NEW
 * creates the tunnel. DATA for any other unknown index is dropped as
 * before, so only the daemon, behind its handshake door, decides what may
 * be held, and the memory is bounded by the slots.
 *
 * Expectations end after CYPHONIC_EARLY_TIMEOUT_MS; a slot is reused
 * (first a free or ended one, else the one ending first) and what it held
 * dropped (RX_DROP_EARLY_TIMEOUT). No timer: ended slots are swept at the
 * next TUNNEL_EXPECT, or when the device goes. The daemon expects only
 * after its handshake door let a ClientHello in, and past 16 half-open
 * handshakes that door wants cookies, so senders that cannot receive can
 * hold at most about half of the CYPHONIC_EARLY_INDICES slots at a time.
 *
 * DATA for an unknown index is the first thing a flood of made-up indices
 * sends: it is checked against the slots without the lock first.
 */

#include <linux/jiffies.h>
#include <linux/netdevice.h>

#include "device.h"
#include "early.h"
#include "rx.h"
#include "tunnel.h"

void cyph_early_init(struct cyph_early *e)
{
	int i;

	spin_lock_init(&e->lock);
	for (i = 0; i < CYPHONIC_EARLY_INDICES; i++) {
		e->slot[i].index = 0;
		__skb_queue_head_init(&e->slot[i].held);
	}
}

/* Frees a slot, its packets onto @drop. Context: e->lock held. */
static void cyph_early_clear(struct cyph_early_slot *s,
			     struct sk_buff_head *drop)
{
	WRITE_ONCE(s->index, 0);
	s->until = jiffies;
	skb_queue_splice_tail_init(&s->held, drop);
}

/* Counters are per-CPU, updated from softirqs too: BHs off around them. */
static void cyph_early_drop_all(struct cyph_device *cd,
				struct sk_buff_head *drop)
{
	struct sk_buff *skb;

	if (skb_queue_empty(drop))
		return;
	local_bh_disable();
	while ((skb = __skb_dequeue(drop)))
		cyph_drop(cd, NULL, CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT, skb);
	local_bh_enable();
}

static bool cyph_early_live(const struct cyph_early_slot *s)
{
	return s->index && time_before(jiffies, s->until);
}

/* The live slot of @index (never 0), or NULL. Context: e->lock held. */
static struct cyph_early_slot *cyph_early_find(struct cyph_early *e, u32 index)
{
	int i;

	for (i = 0; index && i < CYPHONIC_EARLY_INDICES; i++) {
		struct cyph_early_slot *s = &e->slot[i];

		if (s->index == index && cyph_early_live(s))
			return s;
	}
	return NULL;
}

/* Without the lock: whether some slot has @index (then look again under it). */
static bool cyph_early_maybe(const struct cyph_early *e, u32 index)
{
	int i;

	for (i = 0; index && i < CYPHONIC_EARLY_INDICES; i++)
		if (READ_ONCE(e->slot[i].index) == index)
			return true;
	return false;
}

/**
 * cyph_early_expect() - CYPHONIC_CMD_TUNNEL_EXPECT
 * @cd: device, cd->lock held
 * @index: the index of a tunnel being set up
 * @extack: error reporting
 *
 * Return: 0, or -EEXIST when a tunnel has the index already.
 */
int cyph_early_expect(struct cyph_device *cd, u32 index,
		      struct netlink_ext_ack *extack)
{
	struct cyph_early *e = &cd->early;
	struct cyph_early_slot *s, *unused = NULL, *oldest = NULL;
	struct sk_buff_head drop;
	int i;

	lockdep_assert_held(&cd->lock);
	if (cyph_tunnel_find(cd, index)) {
		NL_SET_ERR_MSG(extack, "a tunnel with this INDEX exists");
		return -EEXIST;
	}
	__skb_queue_head_init(&drop);
	spin_lock_bh(&e->lock);
	s = cyph_early_find(e, index);
	for (i = 0; i < CYPHONIC_EARLY_INDICES; i++) {
		struct cyph_early_slot *c = &e->slot[i];

		if (c == s)
			continue;
		if (!cyph_early_live(c)) {
			/* ended: what it held goes now, the slot is free */
			cyph_early_clear(c, &drop);
			if (!unused)
				unused = c;
		} else if (!oldest || time_before(c->until, oldest->until)) {
			oldest = c;
		}
	}
	if (!s) {
		s = unused ?: oldest;
		cyph_early_clear(s, &drop);
	}
	WRITE_ONCE(s->index, index);
	s->until = jiffies + msecs_to_jiffies(CYPHONIC_EARLY_TIMEOUT_MS);
	spin_unlock_bh(&e->lock);
	cyph_early_drop_all(cd, &drop);
	return 0;
}

/**
 * cyph_early_hold() - keep DATA for an expected index
 * @cd: device
 * @index: its receiver index, which no tunnel has
 * @skb: the packet, skb->data at the DATA header
 *
 * Context: softirq.
 * Return: true if held (the skb is ours), false if @index is not expected
 * or its slot is full.
 */
bool cyph_early_hold(struct cyph_device *cd, u32 index, struct sk_buff *skb)
{
	struct cyph_early *e = &cd->early;
	struct cyph_early_slot *s;
	bool held = false;

	if (!cyph_early_maybe(e, index))
		return false;
	spin_lock(&e->lock);
	s = cyph_early_find(e, index);
	if (s && skb_queue_len(&s->held) < CYPHONIC_EARLY_PACKETS) {
		/* It may wait for seconds: nothing of the underlay's. */
		skb_dst_drop(skb);
		nf_reset_ct(skb);
		__skb_queue_tail(&s->held, skb);
		held = true;
	}
	spin_unlock(&e->lock);
	if (held)
		cyph_count(cd, NULL, CYPHONIC_STAT_RX_EARLY_HELD, 1);
	return held;
}

/**
 * cyph_early_release() - receive what was held for a tunnel just created
 * @cd: device, cd->lock held
 * @index: the new tunnel's index
 */
void cyph_early_release(struct cyph_device *cd, u32 index)
{
	struct cyph_early *e = &cd->early;
	struct cyph_early_slot *s;
	struct sk_buff_head list;
	struct sk_buff *skb;

	__skb_queue_head_init(&list);
	spin_lock_bh(&e->lock);
	s = cyph_early_find(e, index);
	if (s)
		cyph_early_clear(s, &list);
	spin_unlock_bh(&e->lock);
	if (skb_queue_empty(&list))
		return;
	/* As the UDP core calls encap_rcv: softirqs off, under RCU. */
	local_bh_disable();
	rcu_read_lock();
	while ((skb = __skb_dequeue(&list)))
		cyph_rx_held(cd, skb);
	rcu_read_unlock();
	local_bh_enable();
}

/* Device teardown, after the sockets are gone: nothing arrives any more. */
void cyph_early_purge(struct cyph_device *cd)
{
	struct cyph_early *e = &cd->early;
	struct sk_buff_head drop;
	int i;

	__skb_queue_head_init(&drop);
	spin_lock_bh(&e->lock);
	for (i = 0; i < CYPHONIC_EARLY_INDICES; i++)
		cyph_early_clear(&e->slot[i], &drop);
	spin_unlock_bh(&e->lock);
	cyph_early_drop_all(cd, &drop);
}
