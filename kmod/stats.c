// SPDX-License-Identifier: GPL-2.0
/*
 * Counting and dropping. Every drop has exactly one reason, counted on the
 * device, on the tunnel when there is one, and in the netdev statistics.
 */

#include "device.h"
#include "stats.h"
#include "tunnel.h"

struct cyph_stats __percpu *cyph_stats_alloc(void)
{
	struct cyph_stats __percpu *stats;
	int cpu;

	stats = alloc_percpu_gfp(struct cyph_stats, GFP_KERNEL_ACCOUNT);
	if (!stats)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(stats, cpu)->syncp);
	return stats;
}

void cyph_stats_read(struct cyph_stats __percpu *stats,
		     u64 out[__CYPHONIC_STAT_MAX])
{
	u64 v[__CYPHONIC_STAT_MAX];
	unsigned int start;
	int cpu, i;

	memset(out, 0, sizeof(v));
	for_each_possible_cpu(cpu) {
		const struct cyph_stats *s = per_cpu_ptr(stats, cpu);

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < __CYPHONIC_STAT_MAX; i++)
				v[i] = u64_stats_read(&s->c[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < __CYPHONIC_STAT_MAX; i++)
			out[i] += v[i];
	}
}

/* Whether a counter can be attributed to a tunnel (the rest are per device). */
bool cyph_stat_per_tunnel(enum cyphonic_stat stat)
{
	switch (stat) {
	case CYPHONIC_STAT_UNSPEC:
	case CYPHONIC_STAT_RX_CONTROL:
	case CYPHONIC_STAT_RX_DROP_BAD_HEADER:
	case CYPHONIC_STAT_RX_DROP_UNKNOWN_INDEX:
	case CYPHONIC_STAT_RX_DROP_TOO_LONG:
	case CYPHONIC_STAT_TX_DROP_NO_TUNNEL:
	case CYPHONIC_STAT_TX_DROP_STAGED_FULL:
	case CYPHONIC_STAT_TX_DROP_STAGED_TIMEOUT:
	case CYPHONIC_STAT_TX_DROP_BAD_INNER:
	case CYPHONIC_STAT_TX_DROP_UNREACHABLE:
	case CYPHONIC_STAT_TX_ICMP_UNREACHABLE:
	case CYPHONIC_STAT_RX_EARLY_HELD:
	case CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT:
	case CYPHONIC_STAT_TX_GSO_SHARED:
		return false;
	default:
		return true;
	}
}

void cyph_count(struct cyph_device *cd, struct cyph_tunnel *t,
		enum cyphonic_stat stat, u64 n)
{
	cyph_stats_add(cd->stats, stat, n);
	if (t)
		cyph_stats_add(t->stats, stat, n);
}

/*
 * Per drop reason: its name for debug messages (as user space prints it),
 * the closest of the kernel's drop reasons (6.1 has no room for a module's
 * own: the exact reason is our counter) and which netdev counter it feeds.
 */
struct cyph_drop_info {
	const char *name;
	enum skb_drop_reason reason;
	bool tx;
};

#define CYPH_RX(stat, n, r) \
	[CYPHONIC_STAT_##stat] = { n, SKB_DROP_REASON_##r, false }
#define CYPH_TX(stat, n, r) \
	[CYPHONIC_STAT_##stat] = { n, SKB_DROP_REASON_##r, true }

static const struct cyph_drop_info cyph_drops[__CYPHONIC_STAT_MAX] = {
	CYPH_RX(RX_DROP_BAD_HEADER, "rx_drop_bad_header", HDR_TRUNC),
	CYPH_RX(RX_DROP_TOO_LONG, "rx_drop_too_long", PKT_TOO_BIG),
	CYPH_RX(RX_DROP_UNKNOWN_INDEX, "rx_drop_unknown_index", NO_SOCKET),
	CYPH_RX(RX_DROP_NO_KEY, "rx_drop_no_key", NOT_SPECIFIED),
	CYPH_RX(RX_DROP_AUTH, "rx_drop_auth", SKB_CSUM),
	CYPH_RX(RX_DROP_REPLAY, "rx_drop_replay", NOT_SPECIFIED),
	CYPH_RX(RX_DROP_CRYPTOKEY, "rx_drop_cryptokey", IP_RPFILTER),
	CYPH_RX(RX_DROP_BAD_INNER, "rx_drop_bad_inner", INVALID_PROTO),
	CYPH_RX(RX_DROP_QUEUE_FULL, "rx_drop_queue_full", FULL_RING),
	CYPH_RX(RX_DROP_QUEUE_SHARE, "rx_drop_queue_share", FULL_RING),
	CYPH_RX(RX_DROP_QUEUE_DELAY, "rx_drop_queue_delay", QDISC_DROP),
	CYPH_RX(RX_DROP_KEY_EXPIRED, "rx_drop_key_expired", NOT_SPECIFIED),
	CYPH_RX(RX_DROP_EARLY_TIMEOUT, "rx_drop_early_timeout", NO_SOCKET),
	CYPH_TX(TX_DROP_NO_TUNNEL, "tx_drop_no_tunnel", IP_OUTNOROUTES),
	CYPH_TX(TX_DROP_STAGED_FULL, "tx_drop_staged_full", NEIGH_QUEUEFULL),
	CYPH_TX(TX_DROP_STAGED_TIMEOUT, "tx_drop_staged_timeout", NEIGH_FAILED),
	CYPH_TX(TX_DROP_NO_KEY, "tx_drop_no_key", NOT_SPECIFIED),
	CYPH_TX(TX_DROP_NO_ENDPOINT, "tx_drop_no_endpoint", NEIGH_FAILED),
	CYPH_TX(TX_DROP_BAD_INNER, "tx_drop_bad_inner", INVALID_PROTO),
	CYPH_TX(TX_DROP_QUEUE_FULL, "tx_drop_queue_full", FULL_RING),
	CYPH_TX(TX_DROP_QUEUE_SHARE, "tx_drop_queue_share", FULL_RING),
	CYPH_TX(TX_DROP_QUEUE_DELAY, "tx_drop_queue_delay", QDISC_DROP),
	CYPH_TX(TX_DROP_SEND_ERROR, "tx_drop_send_error", IP_OUTNOROUTES),
	CYPH_TX(TX_DROP_KEY_EXHAUSTED, "tx_drop_key_exhausted", NOT_SPECIFIED),
	CYPH_TX(TX_DROP_KEY_EXPIRED, "tx_drop_key_expired", NOT_SPECIFIED),
	CYPH_TX(TX_DROP_NO_SOCKET, "tx_drop_no_socket", NO_SOCKET),
	CYPH_TX(TX_DROP_ROUTE_LOOP, "tx_drop_route_loop", IP_OUTNOROUTES),
	CYPH_TX(TX_DROP_UNREACHABLE, "tx_drop_unreachable", NEIGH_FAILED),
};

/* The kernel's drop reason for one of ours (NOT_SPECIFIED if none). */
enum skb_drop_reason cyph_drop_reason(enum cyphonic_stat why)
{
	if (why >= __CYPHONIC_STAT_MAX || !cyph_drops[why].name)
		return SKB_DROP_REASON_NOT_SPECIFIED;
	return cyph_drops[why].reason;
}

/**
 * cyph_drop() - count a dropped packet and free it
 * @cd: device
 * @t: tunnel the packet belongs to, or NULL
 * @why: the drop reason, a CYPHONIC_STAT_*_DROP_* counter
 * @skb: the packet, consumed
 *
 * The skb leaves through kfree_skb_reason(), so drop monitors and the
 * skb:kfree_skb tracepoint see a reason, and a rate-limited debug message
 * (dynamic debug, net_ratelimit()) names ours.
 */
void cyph_drop(struct cyph_device *cd, struct cyph_tunnel *t,
	       enum cyphonic_stat why, struct sk_buff *skb)
{
	const struct cyph_drop_info *info;

	if (WARN_ON_ONCE(why >= __CYPHONIC_STAT_MAX || !cyph_drops[why].name)) {
		kfree_skb(skb);
		return;
	}
	info = &cyph_drops[why];
	cyph_count(cd, t, why, 1);
	if (why == CYPHONIC_STAT_TX_DROP_SEND_ERROR)
		DEV_STATS_INC(cd->dev, tx_errors);
	else if (info->tx)
		DEV_STATS_INC(cd->dev, tx_dropped);
	else
		DEV_STATS_INC(cd->dev, rx_dropped);
	net_dbg_ratelimited("%s: drop %s, tunnel %u, %u bytes\n",
			    netdev_name(cd->dev), info->name,
			    t ? t->index : 0, skb->len);
	kfree_skb_reason(skb, info->reason);
}
