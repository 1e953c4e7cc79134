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

	stats = alloc_percpu_gfp(struct cyph_stats, GFP_KERNEL);
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
	case CYPHONIC_STAT_TX_DROP_NO_TUNNEL:
	case CYPHONIC_STAT_TX_DROP_STAGED_FULL:
	case CYPHONIC_STAT_TX_DROP_STAGED_TIMEOUT:
	case CYPHONIC_STAT_TX_DROP_BAD_INNER:
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

static bool cyph_stat_is_tx(enum cyphonic_stat stat)
{
	return stat >= CYPHONIC_STAT_TX_DROP_NO_TUNNEL &&
	       stat != CYPHONIC_STAT_RX_DROP_KEY_EXPIRED;
}

/**
 * cyph_drop() - count a dropped packet and free it
 * @cd: device
 * @t: tunnel the packet belongs to, or NULL
 * @why: the drop reason, a CYPHONIC_STAT_*_DROP_* counter
 * @skb: the packet, consumed
 */
void cyph_drop(struct cyph_device *cd, struct cyph_tunnel *t,
	       enum cyphonic_stat why, struct sk_buff *skb)
{
	cyph_count(cd, t, why, 1);
	if (why == CYPHONIC_STAT_TX_DROP_SEND_ERROR)
		DEV_STATS_INC(cd->dev, tx_errors);
	else if (cyph_stat_is_tx(why))
		DEV_STATS_INC(cd->dev, tx_dropped);
	else
		DEV_STATS_INC(cd->dev, rx_dropped);
	kfree_skb(skb);
}
