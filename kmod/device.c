// SPDX-License-Identifier: GPL-2.0
/*
 * The net device and its link type.
 *
 * Teardown is two-phase. ndo_uninit (phase one) unpublishes everything
 * under cd->lock: sockets (with synchronize_net(), so no receive is in
 * progress), tunnels, identities, staged packets. Packets still in the
 * pipeline (crypt queues, rings, asynchronous AEAD) hold tunnel references
 * and every tunnel holds the device, so unregister_netdevice() waits for
 * them; only then does the destructor (phase two) free what the data path
 * touches: crypt queues, receive cells and counters.
 */

#include <linux/if_arp.h>
#include <linux/ip.h>
#include <net/addrconf.h>
#include <net/ip.h>

#include "crypto.h"
#include "device.h"
#include "local.h"
#include "rx.h"
#include "socket.h"
#include "staging.h"
#include "trim.h"
#include "tunnel.h"
#include "tx.h"
#include "wire.h"

#define CYPH_NETDEV_FEATURES	(NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_RXCSUM | \
				 NETIF_F_HIGHDMA | NETIF_F_GSO_SOFTWARE)

static int cyph_dev_init(struct net_device *dev)
{
	struct cyph_device *cd = netdev_priv(dev);
	int err;

	/*
	 * Per-CPU state is charged to the creator's memory cgroup, as the
	 * stack charges the device itself: anyone root in a user namespace
	 * of its own may create devices, and one costs some 600 bytes per
	 * possible CPU (a NAPI context among them) besides the counters.
	 */
	dev->tstats = __netdev_alloc_pcpu_stats(struct pcpu_sw_netstats,
						GFP_KERNEL_ACCOUNT);
	if (!dev->tstats)
		return -ENOMEM;
	cd->stats = cyph_stats_alloc();
	if (!cd->stats) {
		err = -ENOMEM;
		goto err_tstats;
	}
	cd->rx_trains = alloc_percpu_gfp(struct cyph_rx_train, GFP_KERNEL_ACCOUNT);
	if (!cd->rx_trains) {
		err = -ENOMEM;
		goto err_stats;
	}
	err = cyph_rx_cells_init(&cd->rx_cells, dev);
	if (err)
		goto err_trains;
	err = cyph_queue_init(&cd->tx_queue, cd, &cyph_tx_ops);
	if (err)
		goto err_cells;
	err = cyph_queue_init(&cd->rx_queue, cd, &cyph_rx_ops);
	if (err)
		goto err_txq;
	cyph_trim_device_added();
	return 0;

err_txq:
	cyph_queue_destroy(&cd->tx_queue);
err_cells:
	cyph_rx_cells_destroy(&cd->rx_cells);
err_trains:
	free_percpu(cd->rx_trains);
	cd->rx_trains = NULL;
err_stats:
	free_percpu(cd->stats);
	cd->stats = NULL;
err_tstats:
	free_percpu(dev->tstats);
	dev->tstats = NULL;
	return err;
}

static void cyph_dev_uninit(struct net_device *dev)
{
	struct cyph_device *cd = netdev_priv(dev);

	mutex_lock(&cd->lock);
	cd->dead = true;
	cyph_sock_release_all(cd);
	cyph_tunnel_del_all(cd);
	cyph_local_del_all(cd);
	mutex_unlock(&cd->lock);
	cyph_sock_stop_checks(cd);

	/* The device is down: once running transmits are done, none follow. */
	synchronize_net();
	cyph_staging_purge(cd);
	cyph_early_purge(cd);
	/* No receive is left to hand a train's units on: we do. */
	cyph_rx_trains_flush(cd);
}

static void cyph_dev_destruct(struct net_device *dev)
{
	struct cyph_device *cd = netdev_priv(dev);

	cyph_queue_destroy(&cd->tx_queue);
	cyph_queue_destroy(&cd->rx_queue);
	cyph_rx_cells_destroy(&cd->rx_cells);
	free_percpu(cd->rx_trains);
	free_percpu(cd->stats);
	free_percpu(dev->tstats);
	/* Lets tests see that a namespace's deletion freed its devices. */
	pr_debug("cyphonic: %s destroyed\n", dev->name);
	cyph_trim_device_gone();
}

/*
 * The overlay has no link layer and no neighbours: an IPv6 link-local
 * address would only make the stack send router solicitations that no
 * tunnel can carry (and that would be counted as drops). Start without
 * one; `ip link set DEV addrgenmode random` brings it back if wanted.
 */
static void cyph_dev_no_linklocal(struct net_device *dev)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct inet6_dev *idev = __in6_dev_get(dev);

	ASSERT_RTNL();
	if (idev)
		WRITE_ONCE(idev->cnf.addr_gen_mode, IN6_ADDR_GEN_MODE_NONE);
#endif
}

/*
 * A device gets a new IPv6 state when registered, and again in each
 * namespace it moves to (NETDEV_REGISTER there): start each without a
 * link-local address. Runs after addrconf's notifier, which creates it.
 */
static int cyph_netdev_event(struct notifier_block *nb, unsigned long event,
			     void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_REGISTER && cyph_is_device(dev))
		cyph_dev_no_linklocal(dev);
	return NOTIFY_DONE;
}

static struct notifier_block cyph_netdev_notifier = {
	.notifier_call = cyph_netdev_event,
	.priority = ADDRCONF_NOTIFY_PRIORITY - 1,
};

int cyph_device_init(void)
{
	return register_netdevice_notifier(&cyph_netdev_notifier);
}

void cyph_device_exit(void)
{
	unregister_netdevice_notifier(&cyph_netdev_notifier);
}

static int cyph_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	struct cyph_device *cd = netdev_priv(dev);
	int err;

	err = register_netdevice(dev);
	if (err)
		return err;
	cyph_aead_warm(cd->cipher);
	pr_debug("cyphonic: %s created\n", dev->name);
	return 0;
}

static const struct net_device_ops cyph_netdev_ops = {
	.ndo_init = cyph_dev_init,
	.ndo_uninit = cyph_dev_uninit,
	.ndo_start_xmit = cyph_xmit,
	.ndo_get_stats64 = dev_get_tstats64,
};

static atomic64_t cyph_dev_ids = ATOMIC64_INIT(0);

static void cyph_dev_setup(struct net_device *dev)
{
	struct cyph_device *cd = netdev_priv(dev);

	dev->netdev_ops = &cyph_netdev_ops;
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
	/*
	 * Netpoll (netconsole) transmits with interrupts off; the data path
	 * takes bottom-half locks and may seal inline, so it refuses it.
	 */
	dev->priv_flags |= IFF_NO_QUEUE | IFF_DISABLE_NETPOLL;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	dev->needed_headroom = CYPH_TX_HEADROOM;
	dev->needed_tailroom = CYPHONIC_TAG_LEN;
	dev->mtu = CYPHONIC_DEFAULT_MTU;
	dev->min_mtu = IPV4_MIN_MTU;
	dev->max_mtu = CYPH_INNER_MAX_LEN;
	/*
	 * LLTX: transmit needs no device lock (tunnels and keys are RCU).
	 * The device may move to another namespace (`ip link set DEV netns
	 * NS`, how a container gets a tunnel): its UDP sockets stay in the
	 * namespace that created them, which is the underlay's; what crosses
	 * between the two is scrubbed on the way (tx: the tunnel core, rx:
	 * cyph_rx_reset()).
	 */
	dev->features |= NETIF_F_LLTX;
	/*
	 * Keep the route on packets handed to us: a packet no tunnel will
	 * carry is answered with an ICMP error, which needs it. A packet
	 * going into a tunnel lets go of it at once (cyph_tx_tunnel()).
	 */
	netif_keep_dst(dev);
	/*
	 * Take GSO packets and leave checksums to us: a 64 KiB TCP burst
	 * crosses the stack once, is segmented once in ndo_start_xmit, and
	 * its checksums are computed by the crypt workers in parallel.
	 */
	dev->features |= CYPH_NETDEV_FEATURES;
	dev->hw_features |= CYPH_NETDEV_FEATURES;
	dev->hw_enc_features |= CYPH_NETDEV_FEATURES;
	dev->needs_free_netdev = true;
	dev->priv_destructor = cyph_dev_destruct;

	cd->dev = dev;
	cd->id = atomic64_inc_return(&cyph_dev_ids);
	mutex_init(&cd->lock);
	cyph_sock_init(cd);
	cd->generation = 1;
	cd->cipher = CYPHONIC_CIPHER_AES_GCM;
	cyph_tunnel_table_init(cd);
	cyph_local_table_init(cd);
	cyph_staging_init(&cd->staging);
	cyph_early_init(&cd->early);
}

struct rtnl_link_ops cyph_link_ops __read_mostly = {
	.kind = CYPHONIC_LINK_KIND,
	.priv_size = sizeof(struct cyph_device),
	.setup = cyph_dev_setup,
	.newlink = cyph_newlink,
};
