/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cyphonic net device: per-device state and the link type.
 */
#ifndef _CYPH_DEVICE_H
#define _CYPH_DEVICE_H

#include <linux/cyphonic.h>
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <net/rtnetlink.h>

#include "early.h"
#include "pipeline.h"
#include "rx.h"
#include "rxcell.h"
#include "staging.h"
#include "stats.h"

struct cyph_sock;

#define CYPH_TUNNEL_HASH_BITS	10
#define CYPH_LOCAL_HASH_BITS	8

struct cyph_device {
	struct net_device *dev;

	/*
	 * Serialises configuration (netlink, teardown). The data path never
	 * takes it: it finds tunnels, identities and sockets under RCU.
	 */
	struct mutex lock;
	bool dead;		/* being unregistered: refuse configuration */
	u32 generation;		/* changes with every add/del, for dumps */
	/*
	 * Never the same for two devices, unlike the ifindex (`ip link add
	 * ... index N` takes one a deleted device had): names the device
	 * of a dump across its parts.
	 */
	u64 id;

	u8 cipher;		/* enum cyphonic_cipher */
	u32 workers;		/* 0: all online CPUs */

	struct cyph_sock __rcu *sock4;
	struct cyph_sock __rcu *sock6;
	struct delayed_work sock_check;	/* socket.c: sockets taken back */

	/* What user space (possibly on behalf of a LAN) can make us hold. */
	u32 max_tunnels;	/* CYPHONIC_A_MAX_TUNNELS */
	u32 max_locals;		/* CYPHONIC_A_MAX_LOCALS */

	struct list_head tunnels;	/* in creation order, for dumps */
	unsigned int n_tunnels;
	DECLARE_HASHTABLE(tunnel_index, CYPH_TUNNEL_HASH_BITS);
	DECLARE_HASHTABLE(tunnel_pair4, CYPH_TUNNEL_HASH_BITS);
	DECLARE_HASHTABLE(tunnel_pair6, CYPH_TUNNEL_HASH_BITS);

	struct list_head locals;
	unsigned int n_locals;
	DECLARE_HASHTABLE(local4, CYPH_LOCAL_HASH_BITS);
	DECLARE_HASHTABLE(local6, CYPH_LOCAL_HASH_BITS);

	struct cyph_queue tx_queue;	/* units waiting for a crypt worker */
	struct cyph_queue rx_queue;
	struct cyph_staging staging;
	struct cyph_early early;	/* DATA for tunnels being set up */
	struct cyph_stats __percpu *stats;
	struct cyph_rx_cells rx_cells;	/* where opened packets meet GRO */
	struct cyph_rx_train __percpu *rx_trains; /* RX units being gathered */
};

extern struct rtnl_link_ops cyph_link_ops;

int cyph_device_init(void);
void cyph_device_exit(void);

static inline bool cyph_is_device(const struct net_device *dev)
{
	return dev->rtnl_link_ops == &cyph_link_ops;
}

#endif /* _CYPH_DEVICE_H */
