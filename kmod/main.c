// SPDX-License-Identifier: GPL-2.0
/*
 * cyphonic: the data plane of the CYPHONIC secure overlay network.
 *
 * A layer-3 device per overlay node; user space (cyphonicd, cyphctl)
 * configures it over the "cyphonic" generic netlink family.
 */

#include <linux/module.h>
#include <linux/rcupdate.h>
#include <net/genetlink.h>
#include <net/rtnetlink.h>

#include "crypto.h"
#include "device.h"
#include "keys.h"
#include "netlink.h"
#include "pipeline.h"
#include "trim.h"

static int __init cyph_mod_init(void)
{
	int err;

	err = cyph_keys_init();
	if (err)
		return err;
	err = cyph_pipeline_init();
	if (err)
		goto err_keys;
	err = cyph_serial_hotplug_init();
	if (err)
		goto err_pipeline;
	err = cyph_trim_init();
	if (err)
		goto err_serial;
	err = cyph_device_init();
	if (err)
		goto err_trim;
	err = rtnl_link_register(&cyph_link_ops);
	if (err)
		goto err_device;
	err = cyph_genl_init();
	if (err)
		goto err_link;
	return 0;

err_link:
	rtnl_link_unregister(&cyph_link_ops);
	/* A device created meanwhile may have queued it (cyph_newlink()). */
	cyph_aead_warm_cancel();
err_device:
	cyph_device_exit();
err_trim:
	cyph_trim_exit();
err_serial:
	cyph_serial_hotplug_exit();
err_pipeline:
	cyph_pipeline_exit();
err_keys:
	cyph_keys_exit();
	return err;
}

static void __exit cyph_mod_exit(void)
{
	/*
	 * Devices first (this waits for in-flight packets): their teardown
	 * may still send events on the family, which must outlive them.
	 */
	rtnl_link_unregister(&cyph_link_ops);
	cyph_device_exit();
	cyph_genl_exit();
	cyph_aead_warm_cancel();
	cyph_serial_hotplug_exit();
	cyph_pipeline_exit();
	/* Tunnel frees and key frees are queued behind RCU: let them run. */
	rcu_barrier();
	cyph_keys_exit();
	/* Every packet is freed: the per-CPU caches can be emptied. */
	cyph_trim_exit();
}

module_init(cyph_mod_init);
module_exit(cyph_mod_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("CYPHONIC secure overlay network data plane");
MODULE_AUTHOR("The cyphonic authors");
MODULE_VERSION(CYPHONIC_VERSION);
MODULE_ALIAS_RTNL_LINK(CYPHONIC_LINK_KIND);
MODULE_ALIAS_GENL_FAMILY(CYPHONIC_GENL_NAME);
