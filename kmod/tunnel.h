/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tunnels: one per (local identity, remote node), found by VIP pair on TX
 * and by receiver index on RX.
 */
#ifndef _CYPH_TUNNEL_H
#define _CYPH_TUNNEL_H

#include <linux/cyphonic.h>
#include <linux/kref.h>
#include <linux/netdevice.h>
#include <linux/seqlock.h>
#include <linux/workqueue.h>
#include <net/dst_cache.h>

#include "addr.h"
#include "keys.h"
#include "pipeline.h"
#include "stats.h"

struct cyph_device;
struct cyph_local;

/* A parsed TUNNEL nest. */
struct cyph_tunnel_cfg {
	u32 index;
	u32 peer_index;
	bool has4;
	bool has6;
	bool has_endpoint;
	bool has_relay;
	struct cyph_pair pair4;
	struct cyph_pair pair6;
	union cyph_sockaddr endpoint;
	u32 relay;
	struct cyph_key_cfg key[__CYPHONIC_KEY_SLOT_MAX];
};

struct cyph_tunnel {
	struct cyph_device *cd;
	struct cyph_local *local;	/* under cd->lock */
	struct hlist_node index_node;
	struct hlist_node pair4_node;
	struct hlist_node pair6_node;
	struct list_head list;		/* cd->tunnels, under cd->lock */

	u32 index;			/* ours: peers put it in DATA */
	u32 peer_index;			/* theirs: we put it in DATA */
	bool has4;
	bool has6;
	struct cyph_pair pair4;		/* (local VIP, remote VIP) */
	struct cyph_pair pair6;

	seqlock_t ep_lock;		/* endpoint, relay, src change together */
	union cyph_sockaddr endpoint;
	u32 relay;			/* relay session id, 0: direct */
	struct cyph_src src;		/* our address the peer contacted */
	/* routes to the endpoint, per family; only the TX serial stage uses them */
	struct dst_cache route4;
	struct dst_cache route6;

	struct cyph_keyring keys;

	/* The pipeline, per direction (see pipeline.h). */
	struct cyph_serial tx;
	struct cyph_serial rx;

	u64 last_rx;			/* jiffies64, 0: never */
	struct cyph_stats __percpu *stats;

	netdevice_tracker dev_tracker;
	struct kref ref;
	struct rcu_head rcu;
};

int cyph_tunnel_new(struct cyph_device *cd, const struct cyph_tunnel_cfg *cfg,
		    struct netlink_ext_ack *extack);
int cyph_tunnel_set(struct cyph_device *cd, const struct cyph_tunnel_cfg *cfg,
		    struct netlink_ext_ack *extack);
int cyph_tunnel_del(struct cyph_device *cd, u32 index,
		    struct netlink_ext_ack *extack);
int cyph_tunnel_swap(struct cyph_device *cd, u32 index,
		     struct netlink_ext_ack *extack);
void cyph_tunnel_table_init(struct cyph_device *cd);
void cyph_tunnel_del_local(struct cyph_device *cd, struct cyph_local *local);
void cyph_tunnel_del_all(struct cyph_device *cd);
void cyph_tunnel_reset_routes(struct cyph_device *cd);

struct cyph_tunnel *cyph_tunnel_find(struct cyph_device *cd, u32 index);
struct cyph_tunnel *cyph_tunnel_get_by_index(struct cyph_device *cd, u32 index);
struct cyph_tunnel *cyph_tunnel_get_by_pair(struct cyph_device *cd,
					    const struct cyph_pair *pair);
void cyph_tunnel_put(struct cyph_tunnel *t);

unsigned int cyph_tunnel_endpoint(struct cyph_tunnel *t,
				  union cyph_sockaddr *ep,
				  struct cyph_src *src, u32 *relay);
void cyph_tunnel_endpoint_end(struct cyph_tunnel *t, unsigned int seq);
struct dst_cache *cyph_tunnel_route(struct cyph_tunnel *t, sa_family_t family);
bool cyph_tunnel_has_endpoint(struct cyph_tunnel *t);
void cyph_tunnel_roam(struct cyph_tunnel *t, const union cyph_sockaddr *peer,
		      const struct cyph_src *local);
void cyph_tunnel_forget_src(struct cyph_tunnel *t, const struct cyph_src *old);
bool cyph_tunnel_owns(const struct cyph_tunnel *t, const struct cyph_pair *pair);

#endif /* _CYPH_TUNNEL_H */
