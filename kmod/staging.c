// SPDX-License-Identifier: GPL-2.0
/*
 * Staging: a packet from a local identity to a VIP with no tunnel waits
 * here while user space establishes one ("tunnel needed" event). Bounded
 * in bytes of memory (skb truesize) per pair and per device, and expired
 * by a timer, so a flood of packets to unknown peers costs a fixed amount
 * of memory whatever their size. A GSO packet is segmented first: a 64 KiB
 * burst is charged for what it holds and staged as far as there is room.
 *
 * A packet that can never be delivered (staged until the timeout, from no
 * local identity, or for a pair user space declared unreachable) is
 * answered with an ICMP host (ICMPv6 address) unreachable, so that its
 * sender fails fast instead of waiting for its own timeout.
 */

#include <linux/icmpv6.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <net/icmp.h>

#include "device.h"
#include "events.h"
#include "local.h"
#include "staging.h"
#include "tunnel.h"
#include "tx.h"

struct cyph_staged {
	struct hlist_node node;
	struct cyph_pair pair;
	struct sk_buff_head queue;
	unsigned int bytes;		/* truesize of the queue */
	unsigned long last_ntf;		/* jiffies of the last event */
	/* user space said no tunnel can be made: refuse until @until */
	bool unreachable;
	unsigned long until;
};

struct cyph_staged_cb {
	unsigned long since;		/* jiffies when staged */
};

#define CYPH_STAGED_CB(skb)	((struct cyph_staged_cb *)(skb)->cb)
#define CYPH_STAGED_TIMEOUT	msecs_to_jiffies(CYPHONIC_STAGED_TIMEOUT_MS)
/* At most one "tunnel needed" event per pair and second. */
#define CYPH_STAGED_NTF_INTERVAL	HZ

static void cyph_staging_expire(struct timer_list *timer);

void cyph_staging_init(struct cyph_staging *st)
{
	spin_lock_init(&st->lock);
	st->pairs = 0;
	st->bytes = 0;
	hash_init(st->table);
	timer_setup(&st->timer, cyph_staging_expire, 0);
	/* As many as a full table of pairs could send, and never a printk. */
	ratelimit_state_init(&st->full_ntf, CYPH_STAGED_NTF_INTERVAL,
			     CYPHONIC_STAGED_PAIRS);
	ratelimit_set_flags(&st->full_ntf, RATELIMIT_MSG_ON_RELEASE);
}

static struct cyph_staged *cyph_staged_find(struct cyph_staging *st,
					    const struct cyph_pair *pair)
{
	struct cyph_staged *s;

	lockdep_assert_held(&st->lock);
	hash_for_each_possible(st->table, s, node, cyph_pair_hash(pair))
		if (cyph_pair_equal(&s->pair, pair))
			return s;
	return NULL;
}

static struct cyph_staged *cyph_staged_new(struct cyph_staging *st,
					   const struct cyph_pair *pair)
{
	struct cyph_staged *s;

	lockdep_assert_held(&st->lock);
	if (st->pairs >= CYPHONIC_STAGED_PAIRS)
		return NULL;
	s = kzalloc(sizeof(*s), GFP_ATOMIC);
	if (!s)
		return NULL;
	s->pair = *pair;
	__skb_queue_head_init(&s->queue);
	s->last_ntf = jiffies - CYPH_STAGED_NTF_INTERVAL;
	hash_add(st->table, &s->node, cyph_pair_hash(pair));
	st->pairs++;
	/* The timer frees the pair if it never gets a packet. */
	if (!timer_pending(&st->timer))
		mod_timer(&st->timer, jiffies + CYPH_STAGED_TIMEOUT);
	return s;
}

/* Remove a pair, moving its packets (if any) to @out. */
static void cyph_staged_free(struct cyph_staging *st, struct cyph_staged *s,
			     struct sk_buff_head *out)
{
	lockdep_assert_held(&st->lock);
	st->bytes -= s->bytes;
	skb_queue_splice_tail_init(&s->queue, out);
	hash_del(&s->node);
	st->pairs--;
	kfree(s);
}

static bool cyph_staged_refused(struct cyph_staged *s)
{
	if (s->unreachable && time_after_eq(jiffies, s->until))
		s->unreachable = false;
	return s->unreachable;
}

/*
 * Drop an undeliverable packet, telling its sender. The packet still has
 * the route it came with (staging keeps it for this), which ICMP needs to
 * pick the error's source; the ICMP code rate-limits what it sends.
 */
static void cyph_staging_reject(struct cyph_device *cd, struct sk_buff *skb,
				enum cyphonic_stat why)
{
	bool sent = true;

	if (skb->protocol == htons(ETH_P_IP))
		icmp_ndo_send(skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
	else if (skb->protocol == htons(ETH_P_IPV6))
		icmpv6_ndo_send(skb, ICMPV6_DEST_UNREACH, ICMPV6_ADDR_UNREACH, 0);
	else
		sent = false;
	if (sent)
		cyph_count(cd, NULL, CYPHONIC_STAT_TX_ICMP_UNREACHABLE, 1);
	cyph_drop(cd, NULL, why, skb);
}

static bool cyph_staged_ntf_due(struct cyph_staged *s)
{
	if (time_before(jiffies, s->last_ntf + CYPH_STAGED_NTF_INTERVAL))
		return false;
	s->last_ntf = jiffies;
	return true;
}

/*
 * Queue one packet; return whether to notify. The caller has checked
 * that no tunnel exists, under st->lock.
 */
static int cyph_staging_queue(struct cyph_staging *st, struct sk_buff *skb,
			      const struct cyph_pair *pair, bool *notify)
{
	struct cyph_staged *s;

	lockdep_assert_held(&st->lock);
	s = cyph_staged_find(st, pair) ?: cyph_staged_new(st, pair);
	if (!s) {
		/* No room to wait, but user space may still set up a tunnel. */
		*notify = __ratelimit(&st->full_ntf);
		return -ENOSPC;
	}
	if (cyph_staged_refused(s))
		return -EHOSTUNREACH;
	*notify = cyph_staged_ntf_due(s);
	if (s->bytes + skb->truesize > CYPHONIC_STAGED_PAIR_BYTES ||
	    st->bytes + skb->truesize > CYPHONIC_STAGED_BYTES)
		return -ENOSPC;
	/*
	 * A packet that may wait for seconds must not hold its sender's send
	 * buffer (ping's is a few packets small). Its route stays, with a
	 * reference of its own, for the ICMP error if no tunnel comes; it is
	 * looked up again when the packet finally goes.
	 */
	if (!skb_dst_force(skb))
		skb_dst_drop(skb);
	skb_orphan(skb);
	CYPH_STAGED_CB(skb)->since = jiffies;
	__skb_queue_tail(&s->queue, skb);
	s->bytes += skb->truesize;
	st->bytes += skb->truesize;
	if (!timer_pending(&st->timer))
		mod_timer(&st->timer, jiffies + CYPH_STAGED_TIMEOUT);
	return 0;
}

/* Stage one packet (not GSO) or send it if its tunnel appeared. */
static void cyph_staging_stage_one(struct cyph_device *cd, struct sk_buff *skb,
				   const struct cyph_pair *pair)
{
	struct cyph_staging *st = &cd->staging;
	struct cyph_tunnel *t;
	bool notify = false;
	int err;

	spin_lock(&st->lock);
	/*
	 * Look again under the lock: a tunnel added since the lookup in
	 * cyph_xmit() has already flushed this pair and would never see us.
	 */
	t = cyph_tunnel_get_by_pair(cd, pair);
	err = t ? 0 : cyph_staging_queue(st, skb, pair, &notify);
	spin_unlock(&st->lock);

	if (t)
		cyph_tx_tunnel(t, skb);
	else if (err == -EHOSTUNREACH)
		cyph_staging_reject(cd, skb, CYPHONIC_STAT_TX_DROP_UNREACHABLE);
	else if (err)
		cyph_drop(cd, NULL, CYPHONIC_STAT_TX_DROP_STAGED_FULL, skb);
	if (notify)
		cyph_ntf_tunnel_needed(cd, pair);
}

/**
 * cyph_staging_stage() - handle a packet that found no tunnel
 * @cd: device
 * @skb: inner packet, possibly GSO; consumed
 * @pair: its (source, destination) VIPs
 *
 * Context: bottom halves disabled (ndo_start_xmit).
 */
void cyph_staging_stage(struct cyph_device *cd, struct sk_buff *skb,
			const struct cyph_pair *pair)
{
	struct sk_buff *segs, *next;
	bool local;

	rcu_read_lock();
	local = cyph_local_find(cd, pair->family, &pair->local);
	rcu_read_unlock();
	if (!local) {
		/* No tunnel can carry it: tunnels start at local identities. */
		cyph_staging_reject(cd, skb, CYPHONIC_STAT_TX_DROP_NO_TUNNEL);
		return;
	}
	if (!skb_is_gso(skb)) {
		skb_mark_not_on_list(skb);
		cyph_staging_stage_one(cd, skb, pair);
		return;
	}
	/* As cyph_tx_tunnel() does: pages shared, checksums left pending. */
	segs = skb_gso_segment(skb, NETIF_F_SG | NETIF_F_HW_CSUM);
	if (IS_ERR_OR_NULL(segs)) {
		cyph_drop(cd, NULL, PTR_ERR(segs) == -ENOMEM ?
			  CYPHONIC_STAT_TX_DROP_STAGED_FULL :
			  CYPHONIC_STAT_TX_DROP_BAD_INNER, skb);
		return;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, skb, next) {
		skb_mark_not_on_list(skb);
		cyph_staging_stage_one(cd, skb, pair);
	}
}

/* Timer: drop packets staged for longer than the timeout. */
static void cyph_staging_expire(struct timer_list *timer)
{
	struct cyph_staging *st = from_timer(st, timer, timer);
	struct cyph_device *cd = container_of(st, struct cyph_device, staging);
	unsigned long next = 0, exp;
	struct cyph_staged *s;
	struct hlist_node *tmp;
	struct sk_buff_head dead;
	struct sk_buff *skb;
	bool rearm = false;
	int bkt;

	__skb_queue_head_init(&dead);
	spin_lock(&st->lock);
	hash_for_each_safe(st->table, bkt, tmp, s, node) {
		while ((skb = skb_peek(&s->queue))) {
			exp = CYPH_STAGED_CB(skb)->since + CYPH_STAGED_TIMEOUT;
			if (time_before(jiffies, exp))
				break;
			__skb_unlink(skb, &s->queue);
			s->bytes -= skb->truesize;
			st->bytes -= skb->truesize;
			__skb_queue_tail(&dead, skb);
		}
		if (!skb) {
			/* Empty: kept only to refuse packets for a while. */
			if (!cyph_staged_refused(s)) {
				cyph_staged_free(st, s, &dead);
				continue;
			}
			exp = s->until;
		}
		if (!rearm || time_before(exp, next))
			next = exp;
		rearm = true;
	}
	if (rearm)
		mod_timer(&st->timer, next);
	spin_unlock(&st->lock);

	while ((skb = __skb_dequeue(&dead)))
		cyph_staging_reject(cd, skb,
				    CYPHONIC_STAT_TX_DROP_STAGED_TIMEOUT);
}

/**
 * cyph_staging_unreachable() - user space cannot make a tunnel for a pair
 * @cd: device
 * @pair: (local VIP, remote VIP)
 * @extack: error reporting
 *
 * Packets staged for @pair are rejected now, and new ones for
 * CYPHONIC_STAGED_TIMEOUT_MS (TX_DROP_UNREACHABLE, with an ICMP error);
 * the next packet after that is staged and notified again.
 *
 * Return: 0, -ENOENT if @pair's local VIP is no local identity's, or
 * -ENOSPC if the staging table has no room for the pair.
 */
int cyph_staging_unreachable(struct cyph_device *cd,
			     const struct cyph_pair *pair,
			     struct netlink_ext_ack *extack)
{
	struct cyph_staging *st = &cd->staging;
	struct cyph_staged *s;
	struct sk_buff_head dead;
	struct sk_buff *skb;
	bool local;

	rcu_read_lock();
	local = cyph_local_find(cd, pair->family, &pair->local);
	rcu_read_unlock();
	if (!local) {
		NL_SET_ERR_MSG(extack, "the local VIP is no local identity's");
		return -ENOENT;
	}
	__skb_queue_head_init(&dead);
	spin_lock_bh(&st->lock);
	s = cyph_staged_find(st, pair) ?: cyph_staged_new(st, pair);
	if (!s) {
		spin_unlock_bh(&st->lock);
		NL_SET_ERR_MSG(extack, "the staging table is full");
		return -ENOSPC;
	}
	s->unreachable = true;
	s->until = jiffies + CYPH_STAGED_TIMEOUT;
	st->bytes -= s->bytes;
	s->bytes = 0;
	skb_queue_splice_tail_init(&s->queue, &dead);
	if (!timer_pending(&st->timer))
		mod_timer(&st->timer, s->until);
	spin_unlock_bh(&st->lock);

	local_bh_disable();
	while ((skb = __skb_dequeue(&dead)))
		cyph_staging_reject(cd, skb, CYPHONIC_STAT_TX_DROP_UNREACHABLE);
	local_bh_enable();
	return 0;
}

static void cyph_staging_take(struct cyph_staging *st,
			      const struct cyph_pair *pair,
			      struct sk_buff_head *out)
{
	struct cyph_staged *s;

	spin_lock_bh(&st->lock);
	s = cyph_staged_find(st, pair);
	if (s)
		cyph_staged_free(st, s, out);
	spin_unlock_bh(&st->lock);
}

/**
 * cyph_staging_flush() - send the packets staged for a tunnel's pairs
 * @cd: device, cd->lock held
 * @t: a linked tunnel that has a primary key
 */
void cyph_staging_flush(struct cyph_device *cd, struct cyph_tunnel *t)
{
	struct sk_buff_head q;
	struct sk_buff *skb;

	lockdep_assert_held(&cd->lock);
	__skb_queue_head_init(&q);
	if (t->has4)
		cyph_staging_take(&cd->staging, &t->pair4, &q);
	if (t->has6)
		cyph_staging_take(&cd->staging, &t->pair6, &q);

	local_bh_disable();
	while ((skb = __skb_dequeue(&q))) {
		kref_get(&t->ref);
		cyph_tx_tunnel(t, skb);
	}
	local_bh_enable();
}

/* Device teardown: no transmit can run any more. */
void cyph_staging_purge(struct cyph_device *cd)
{
	struct cyph_staging *st = &cd->staging;
	struct cyph_staged *s;
	struct hlist_node *tmp;
	struct sk_buff_head dead;
	int bkt;

	del_timer_sync(&st->timer);
	__skb_queue_head_init(&dead);
	spin_lock_bh(&st->lock);
	hash_for_each_safe(st->table, bkt, tmp, s, node)
		cyph_staged_free(st, s, &dead);
	spin_unlock_bh(&st->lock);
	__skb_queue_purge(&dead);
}
