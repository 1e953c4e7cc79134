// SPDX-License-Identifier: GPL-2.0
/*
 * A bare cyph_device for the suites (test_dev.h).
 */

#include <linux/if_arp.h>
#include <linux/netdevice.h>

#include "device.h"
#include "local.h"
#include "stats.h"
#include "tunnel.h"
#include "test_dev.h"

static void test_dev_setup(struct net_device *dev)
{
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
}

struct cyph_device *cyph_test_dev_new(struct kunit *test, const char *name)
{
	struct cyph_device *cd;
	struct net_device *dev;

	dev = alloc_netdev(0, name, NET_NAME_UNKNOWN, test_dev_setup);
	cd = dev ? kvzalloc(sizeof(*cd), GFP_KERNEL) : NULL;
	if (cd)
		cd->stats = cyph_stats_alloc();
	if (!cd || !cd->stats) {
		kvfree(cd);
		if (dev)
			free_netdev(dev);
		KUNIT_FAIL(test, "out of memory");
		return NULL;
	}
	cd->dev = dev;
	mutex_init(&cd->lock);
	cyph_tunnel_table_init(cd);
	cyph_local_table_init(cd);
	cyph_staging_init(&cd->staging);
	cyph_early_init(&cd->early);
	return cd;
}

void cyph_test_dev_free(struct cyph_device *cd)
{
	free_percpu(cd->stats);
	free_netdev(cd->dev);
	kvfree(cd);
}

u64 cyph_test_stat(struct cyph_device *cd, enum cyphonic_stat s)
{
	u64 v[__CYPHONIC_STAT_MAX];

	cyph_stats_read(cd->stats, v);
	return v[s];
}
