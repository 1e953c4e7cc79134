// SPDX-License-Identifier: GPL-2.0
/*
 * Tunnel table.
 *
 * Tunnels live in three RCU hash tables of their device (by receiver
 * index, by IPv4 pair, by IPv6 pair) and on a list for dumps. Lookups from
 * the data path take a reference with kref_get_unless_zero() under RCU;
 * changes happen under cd->lock. A tunnel holds a reference on its net
 * device, so unregistering the device waits for packets still in flight.
 */

#include <linux/jiffies.h>
#include <linux/slab.h>

#include "device.h"
#include "events.h"
#include "local.h"
#include "staging.h"
#include "tunnel.h"

static void cyph_tunnel_free_rcu(struct rcu_head *rcu)
{
	struct cyph_tunnel *t = container_of(rcu, struct cyph_tunnel, rcu);

	cyph_serial_free(&t->tx);
	cyph_serial_free(&t->rx);
	dst_cache_destroy(&t->route4);
	dst_cache_destroy(&t->route6);
	free_percpu(t->stats);
	netdev_put(t->cd->dev, &t->dev_tracker);
	kfree(t);
}

static void cyph_tunnel_release(struct kref *ref)
{
	struct cyph_tunnel *t = container_of(ref, struct cyph_tunnel, ref);

	cyph_keyring_destroy(&t->keys);
	call_rcu(&t->rcu, cyph_tunnel_free_rcu);
}

void cyph_tunnel_put(struct cyph_tunnel *t)
{
	kref_put(&t->ref, cyph_tunnel_release);
}

static struct cyph_tunnel *cyph_tunnel_get_rcu(struct cyph_tunnel *t)
{
	if (t && !kref_get_unless_zero(&t->ref))
		return NULL;
	return t;
}

/* Caller holds cd->lock or the RCU read lock; no reference is taken. */
static struct cyph_tunnel *cyph_tunnel_lookup_index(struct cyph_device *cd,
						    u32 index)
{
	struct cyph_tunnel *t;

	hash_for_each_possible_rcu(cd->tunnel_index, t, index_node, index,
				   lockdep_is_held(&cd->lock))
		if (t->index == index)
			return t;
	return NULL;
}

static struct cyph_tunnel *cyph_tunnel_lookup_pair(struct cyph_device *cd,
						   const struct cyph_pair *pair)
{
	u32 hash = cyph_pair_hash(pair);
	struct cyph_tunnel *t;

	if (pair->family == AF_INET) {
		hash_for_each_possible_rcu(cd->tunnel_pair4, t, pair4_node, hash,
					   lockdep_is_held(&cd->lock))
			if (cyph_pair_equal(&t->pair4, pair))
				return t;
	} else {
		hash_for_each_possible_rcu(cd->tunnel_pair6, t, pair6_node, hash,
					   lockdep_is_held(&cd->lock))
			if (cyph_pair_equal(&t->pair6, pair))
				return t;
	}
	return NULL;
}

/* An empty tunnel table with the default cap, for a new device. */
void cyph_tunnel_table_init(struct cyph_device *cd)
{
	INIT_LIST_HEAD(&cd->tunnels);
	cd->n_tunnels = 0;
	cd->max_tunnels = CYPHONIC_DEFAULT_MAX_TUNNELS;
	hash_init(cd->tunnel_index);
	hash_init(cd->tunnel_pair4);
	hash_init(cd->tunnel_pair6);
}

/* Configuration lookup: cd->lock held, no reference. */
struct cyph_tunnel *cyph_tunnel_find(struct cyph_device *cd, u32 index)
{
	lockdep_assert_held(&cd->lock);
	return cyph_tunnel_lookup_index(cd, index);
}

/* RX lookup by receiver index; returns a reference or NULL. */
struct cyph_tunnel *cyph_tunnel_get_by_index(struct cyph_device *cd, u32 index)
{
	struct cyph_tunnel *t;

	rcu_read_lock();
	t = cyph_tunnel_get_rcu(cyph_tunnel_lookup_index(cd, index));
	rcu_read_unlock();
	return t;
}

/* TX lookup by (inner source, inner destination); returns a reference. */
struct cyph_tunnel *cyph_tunnel_get_by_pair(struct cyph_device *cd,
					    const struct cyph_pair *pair)
{
	struct cyph_tunnel *t;

	rcu_read_lock();
	t = cyph_tunnel_get_rcu(cyph_tunnel_lookup_pair(cd, pair));
	rcu_read_unlock();
	return t;
}

/* Cryptokey routing: is @pair (as received: local = destination) ours? */
bool cyph_tunnel_owns(const struct cyph_tunnel *t, const struct cyph_pair *pair)
{
	if (pair->family == AF_INET)
		return t->has4 && cyph_pair_equal(&t->pair4, pair);
	return t->has6 && cyph_pair_equal(&t->pair6, pair);
}

/*
 * Cached routes are only valid for the endpoint they were looked up for.
 * Writers of the endpoint forget them inside their write section; the TX
 * serial stage, which sends a whole unit to one endpoint snapshot, forgets
 * them again if the endpoint changed meanwhile (cyph_tunnel_endpoint_end),
 * since it may have cached a route to the old one after the writer's reset.
 */
static void cyph_tunnel_forget_routes(struct cyph_tunnel *t)
{
	dst_cache_reset(&t->route4);
	dst_cache_reset(&t->route6);
}

/* The route cache for sending to an endpoint of @family. */
struct dst_cache *cyph_tunnel_route(struct cyph_tunnel *t, sa_family_t family)
{
	return family == AF_INET6 ? &t->route6 : &t->route4;
}

/**
 * cyph_tunnel_endpoint() - a consistent snapshot of endpoint and relay
 * @t: tunnel
 * @ep: the endpoint
 * @src: the local address to send from (see struct cyph_src), or NULL
 * @relay: its relay session, 0 for direct
 *
 * Return: a cookie for cyph_tunnel_endpoint_end(), which the TX serial
 * stage (the only user of the route caches) calls once it has sent to @ep.
 */
unsigned int cyph_tunnel_endpoint(struct cyph_tunnel *t,
				  union cyph_sockaddr *ep,
				  struct cyph_src *src, u32 *relay)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&t->ep_lock);
		*ep = t->endpoint;
		if (src)
			*src = t->src;
		*relay = t->relay;
	} while (read_seqretry(&t->ep_lock, seq));
	return seq;
}

void cyph_tunnel_endpoint_end(struct cyph_tunnel *t, unsigned int seq)
{
	if (unlikely(read_seqretry(&t->ep_lock, seq)))
		cyph_tunnel_forget_routes(t);
}

bool cyph_tunnel_has_endpoint(struct cyph_tunnel *t)
{
	union cyph_sockaddr ep;
	u32 relay;

	cyph_tunnel_endpoint(t, &ep, NULL, &relay);
	return ep.sa.sa_family != AF_UNSPEC;
}

static void cyph_tunnel_set_endpoint(struct cyph_tunnel *t,
				     const struct cyph_tunnel_cfg *cfg)
{
	write_seqlock_bh(&t->ep_lock);
	if (cfg->has_endpoint) {
		t->endpoint = cfg->endpoint;
		/* Which of our addresses it will contact is not known yet. */
		memset(&t->src, 0, sizeof(t->src));
	}
	if (cfg->has_relay)
		t->relay = cfg->relay;
	cyph_tunnel_forget_routes(t);
	write_sequnlock_bh(&t->ep_lock);
}

/**
 * cyph_tunnel_roam() - follow the peer to the source of its latest packet
 * @t: tunnel
 * @peer: outer source of an authenticated, non-replayed packet
 * @local: its outer destination, the local address the peer contacted:
 *	   from now on the source of what we send to the peer
 *
 * While relaying, the endpoint is the relay, so a packet from any other
 * source came straight from the peer: the direct path works, leave relay
 * mode. Context: the tunnel's RX serial stage.
 */
void cyph_tunnel_roam(struct cyph_tunnel *t, const union cyph_sockaddr *peer,
		      const struct cyph_src *local)
{
	union cyph_sockaddr cur;
	struct cyph_src src;
	bool moved;
	u32 relay;

	cyph_tunnel_endpoint(t, &cur, &src, &relay);
	moved = !cyph_sockaddr_equal(&cur, peer);
	if (likely(!moved && cyph_src_equal(peer->sa.sa_family, &src, local)))
		return;
	write_seqlock_bh(&t->ep_lock);
	if (moved) {
		t->endpoint = *peer;
		t->relay = 0;
	}
	t->src = *local;
	cyph_tunnel_forget_routes(t);
	write_sequnlock_bh(&t->ep_lock);
	if (moved)
		cyph_ntf_endpoint(t, peer, 0);
}

/**
 * cyph_tunnel_forget_src() - the local address the peer contacted is gone
 * @t: tunnel
 * @old: the source the TX serial stage tried, from its endpoint snapshot
 *
 * Routing picks the source from now on, until the peer's next packet
 * (unless the peer moved on meanwhile and the source is already another).
 * The route cache already holds the route looked up without a source.
 */
void cyph_tunnel_forget_src(struct cyph_tunnel *t, const struct cyph_src *old)
{
	write_seqlock_bh(&t->ep_lock);
	if (cyph_src_equal(t->endpoint.sa.sa_family, &t->src, old))
		memset(&t->src, 0, sizeof(t->src));
	write_sequnlock_bh(&t->ep_lock);
}

/**
 * cyph_tunnel_reset_routes() - forget every tunnel's cached route
 * @cd: device, cd->lock held
 *
 * A new socket may be bound to another address, device or mark.
 */
void cyph_tunnel_reset_routes(struct cyph_device *cd)
{
	struct cyph_tunnel *t;

	lockdep_assert_held(&cd->lock);
	list_for_each_entry(t, &cd->tunnels, list)
		cyph_tunnel_forget_routes(t);
}

/* The tunnel's local VIPs must be those of one local identity. */
static int cyph_tunnel_check_vips(struct cyph_device *cd,
				  const struct cyph_tunnel_cfg *cfg,
				  struct cyph_local **local,
				  struct netlink_ext_ack *extack)
{
	struct cyph_local *l4 = NULL, *l6 = NULL;

	if (cfg->has4) {
		l4 = cyph_local_find(cd, AF_INET, &cfg->pair4.local);
		if (!l4) {
			NL_SET_ERR_MSG(extack, "LOCAL4 is not the VIP4 of a local identity");
			return -EINVAL;
		}
		if (cyph_tunnel_lookup_pair(cd, &cfg->pair4)) {
			NL_SET_ERR_MSG(extack, "a tunnel for this IPv4 VIP pair exists");
			return -EEXIST;
		}
	}
	if (cfg->has6) {
		l6 = cyph_local_find(cd, AF_INET6, &cfg->pair6.local);
		if (!l6) {
			NL_SET_ERR_MSG(extack, "LOCAL6 is not the VIP6 of a local identity");
			return -EINVAL;
		}
		if (cyph_tunnel_lookup_pair(cd, &cfg->pair6)) {
			NL_SET_ERR_MSG(extack, "a tunnel for this IPv6 VIP pair exists");
			return -EEXIST;
		}
	}
	if (l4 && l6 && l4 != l6) {
		NL_SET_ERR_MSG(extack, "LOCAL4 and LOCAL6 belong to different local identities");
		return -EINVAL;
	}
	*local = l4 ?: l6;
	return 0;
}

/* The key rules (reuse, TX == RX, ids) are keys.c's. */
static int cyph_tunnel_set_keys(struct cyph_tunnel *t,
				const struct cyph_tunnel_cfg *cfg,
				struct netlink_ext_ack *extack)
{
	return cyph_keyring_set(&t->keys, t->cd->cipher, cfg->key, extack);
}

static bool cyph_cfg_has_key(const struct cyph_tunnel_cfg *cfg)
{
	return cfg->key[CYPHONIC_KEY_SLOT_PRIMARY].set ||
	       cfg->key[CYPHONIC_KEY_SLOT_NEXT].set;
}

static struct cyph_tunnel *cyph_tunnel_alloc(struct cyph_device *cd,
					     const struct cyph_tunnel_cfg *cfg,
					     struct cyph_local *local)
{
	struct cyph_tunnel *t;

	/* Accounted to the creator's memory cgroup, like all it holds. */
	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return NULL;
	t->stats = cyph_stats_alloc();
	if (!t->stats || dst_cache_init(&t->route4, GFP_KERNEL_ACCOUNT) ||
	    dst_cache_init(&t->route6, GFP_KERNEL_ACCOUNT) ||
	    cyph_serial_init(&t->tx, t, &cd->tx_queue, CYPH_TX_RING_LEN) ||
	    cyph_serial_init(&t->rx, t, &cd->rx_queue, CYPH_RX_RING_LEN))
		goto err;
	t->cd = cd;
	t->local = local;
	t->index = cfg->index;
	t->peer_index = cfg->peer_index;
	t->has4 = cfg->has4;
	t->has6 = cfg->has6;
	t->pair4 = cfg->pair4;
	t->pair6 = cfg->pair6;
	seqlock_init(&t->ep_lock);
	cyph_keyring_init(&t->keys, t);
	kref_init(&t->ref);
	netdev_hold(cd->dev, &t->dev_tracker, GFP_KERNEL);
	return t;

err:
	cyph_serial_free(&t->tx);
	cyph_serial_free(&t->rx);
	dst_cache_destroy(&t->route4);
	dst_cache_destroy(&t->route6);
	free_percpu(t->stats);
	kfree(t);
	return NULL;
}

static void cyph_tunnel_link(struct cyph_device *cd, struct cyph_tunnel *t)
{
	lockdep_assert_held(&cd->lock);
	hash_add_rcu(cd->tunnel_index, &t->index_node, t->index);
	if (t->has4)
		hash_add_rcu(cd->tunnel_pair4, &t->pair4_node,
			     cyph_pair_hash(&t->pair4));
	if (t->has6)
		hash_add_rcu(cd->tunnel_pair6, &t->pair6_node,
			     cyph_pair_hash(&t->pair6));
	list_add_tail(&t->list, &cd->tunnels);
	cd->n_tunnels++;
	cd->generation++;
}

/*
 * Unpublish a tunnel and drop the table's reference. Packets that already
 * hold a reference finish; the memory goes after an RCU grace period.
 */
static void cyph_tunnel_unlink(struct cyph_tunnel *t)
{
	struct cyph_device *cd = t->cd;

	lockdep_assert_held(&cd->lock);
	hash_del_rcu(&t->index_node);
	if (t->has4)
		hash_del_rcu(&t->pair4_node);
	if (t->has6)
		hash_del_rcu(&t->pair6_node);
	list_del(&t->list);
	cd->n_tunnels--;
	cd->generation++;
	cyph_tunnel_put(t);
}

/**
 * cyph_tunnel_new() - CYPHONIC_CMD_TUNNEL_NEW
 * @cd: device, cd->lock held
 * @cfg: parsed request
 * @extack: error reporting
 *
 * Packets staged for the tunnel's VIP pairs go out once it has a key, and
 * DATA held for its index (TUNNEL_EXPECT) is received now.
 *
 * Return: 0 or a negative errno with @extack set.
 */
int cyph_tunnel_new(struct cyph_device *cd, const struct cyph_tunnel_cfg *cfg,
		    struct netlink_ext_ack *extack)
{
	struct cyph_local *local;
	struct cyph_tunnel *t;
	int err;

	lockdep_assert_held(&cd->lock);
	if (cyph_tunnel_lookup_index(cd, cfg->index)) {
		NL_SET_ERR_MSG(extack, "a tunnel with this INDEX exists");
		return -EEXIST;
	}
	if (cd->n_tunnels >= cd->max_tunnels) {
		NL_SET_ERR_MSG(extack, "the device is at its max-tunnels limit");
		return -ENOSPC;
	}
	err = cyph_tunnel_check_vips(cd, cfg, &local, extack);
	if (err)
		return err;
	t = cyph_tunnel_alloc(cd, cfg, local);
	if (!t)
		return -ENOMEM;
	cyph_tunnel_set_endpoint(t, cfg);
	err = cyph_tunnel_set_keys(t, cfg, extack);
	if (err) {
		cyph_tunnel_put(t);
		return err;
	}
	cyph_tunnel_link(cd, t);
	if (cyph_keyring_has_primary(&t->keys))
		cyph_staging_flush(cd, t);
	cyph_early_release(cd, t->index);
	return 0;
}

static struct cyph_tunnel *cyph_tunnel_find_ext(struct cyph_device *cd,
						u32 index,
						struct netlink_ext_ack *extack)
{
	struct cyph_tunnel *t = cyph_tunnel_find(cd, index);

	if (!t)
		NL_SET_ERR_MSG(extack, "no tunnel with this INDEX");
	return t;
}

/* CYPHONIC_CMD_TUNNEL_SET: endpoint, relay and keys of an existing tunnel. */
int cyph_tunnel_set(struct cyph_device *cd, const struct cyph_tunnel_cfg *cfg,
		    struct netlink_ext_ack *extack)
{
	struct cyph_tunnel *t;
	int err;

	lockdep_assert_held(&cd->lock);
	t = cyph_tunnel_find_ext(cd, cfg->index, extack);
	if (!t)
		return -ENOENT;
	if (cyph_cfg_has_key(cfg)) {
		err = cyph_tunnel_set_keys(t, cfg, extack);
		if (err)
			return err;
	}
	cyph_tunnel_set_endpoint(t, cfg);
	if (cyph_cfg_has_key(cfg) && cyph_keyring_has_primary(&t->keys))
		cyph_staging_flush(cd, t);
	return 0;
}

int cyph_tunnel_del(struct cyph_device *cd, u32 index,
		    struct netlink_ext_ack *extack)
{
	struct cyph_tunnel *t;

	lockdep_assert_held(&cd->lock);
	t = cyph_tunnel_find_ext(cd, index, extack);
	if (!t)
		return -ENOENT;
	cyph_tunnel_unlink(t);
	return 0;
}

int cyph_tunnel_swap(struct cyph_device *cd, u32 index,
		     struct netlink_ext_ack *extack)
{
	struct cyph_tunnel *t;
	int err;

	lockdep_assert_held(&cd->lock);
	t = cyph_tunnel_find_ext(cd, index, extack);
	if (!t)
		return -ENOENT;
	err = cyph_keyring_swap(&t->keys, extack);
	if (!err)
		cd->generation++;
	return err;
}

/* Deleting a local identity deletes its tunnels. */
void cyph_tunnel_del_local(struct cyph_device *cd, struct cyph_local *local)
{
	struct cyph_tunnel *t, *tmp;

	lockdep_assert_held(&cd->lock);
	list_for_each_entry_safe(t, tmp, &cd->tunnels, list)
		if (t->local == local)
			cyph_tunnel_unlink(t);
}

void cyph_tunnel_del_all(struct cyph_device *cd)
{
	struct cyph_tunnel *t, *tmp;

	lockdep_assert_held(&cd->lock);
	list_for_each_entry_safe(t, tmp, &cd->tunnels, list)
		cyph_tunnel_unlink(t);
}
