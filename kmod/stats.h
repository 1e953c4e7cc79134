/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-CPU counters, one per enum cyphonic_stat, for devices and tunnels.
 */
#ifndef _CYPH_STATS_H
#define _CYPH_STATS_H

#include <linux/cyphonic.h>
#include <linux/percpu.h>
#include <linux/skbuff.h>
#include <linux/u64_stats_sync.h>

struct cyph_device;
struct cyph_tunnel;

struct cyph_stats {
	u64_stats_t c[__CYPHONIC_STAT_MAX];
	struct u64_stats_sync syncp;
};

struct cyph_stats __percpu *cyph_stats_alloc(void);
void cyph_stats_read(struct cyph_stats __percpu *stats,
		     u64 out[__CYPHONIC_STAT_MAX]);
bool cyph_stat_per_tunnel(enum cyphonic_stat stat);

void cyph_count(struct cyph_device *cd, struct cyph_tunnel *t,
		enum cyphonic_stat stat, u64 n);
enum skb_drop_reason cyph_drop_reason(enum cyphonic_stat why);
void cyph_drop(struct cyph_device *cd, struct cyph_tunnel *t,
	       enum cyphonic_stat why, struct sk_buff *skb);

static inline void cyph_stats_add(struct cyph_stats __percpu *stats,
				  enum cyphonic_stat stat, u64 n)
{
	struct cyph_stats *s = get_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_add(&s->c[stat], n);
	u64_stats_update_end(&s->syncp);
	put_cpu_ptr(stats);
}

#endif /* _CYPH_STATS_H */
