// SPDX-License-Identifier: GPL-2.0
/*
 * Local identities. TX consults them (under RCU) only when a packet has no
 * tunnel, to tell "tunnel needed" from "not ours to send".
 */

#include <linux/slab.h>

#include "device.h"
#include "local.h"
#include "tunnel.h"

/* No identities yet, the default cap: for a new device. */
void cyph_local_table_init(struct cyph_device *cd)
{
	INIT_LIST_HEAD(&cd->locals);
	cd->n_locals = 0;
	cd->max_locals = CYPHONIC_DEFAULT_MAX_LOCALS;
	hash_init(cd->local4);
	hash_init(cd->local6);
}

/* Caller holds cd->lock or the RCU read lock. */
struct cyph_local *cyph_local_find(struct cyph_device *cd, sa_family_t family,
				   const union cyph_vip *vip)
{
	u32 hash = cyph_vip_hash(family, vip);
	struct cyph_local *l;

	if (family == AF_INET) {
		hash_for_each_possible_rcu(cd->local4, l, node4, hash,
					   lockdep_is_held(&cd->lock))
			if (l->vips.vip4.ip4 == vip->ip4)
				return l;
	} else {
		hash_for_each_possible_rcu(cd->local6, l, node6, hash,
					   lockdep_is_held(&cd->lock))
			if (ipv6_addr_equal(&l->vips.vip6.ip6, &vip->ip6))
				return l;
	}
	return NULL;
}

int cyph_local_add(struct cyph_device *cd, const struct cyph_local_cfg *cfg,
		   struct netlink_ext_ack *extack)
{
	struct cyph_local *l;

	lockdep_assert_held(&cd->lock);
	if (cd->n_locals >= cd->max_locals) {
		NL_SET_ERR_MSG(extack, "the device is at its max-locals limit");
		return -ENOSPC;
	}
	if (cfg->has4 && cyph_local_find(cd, AF_INET, &cfg->vip4)) {
		NL_SET_ERR_MSG(extack, "VIP4 already belongs to a local identity");
		return -EEXIST;
	}
	if (cfg->has6 && cyph_local_find(cd, AF_INET6, &cfg->vip6)) {
		NL_SET_ERR_MSG(extack, "VIP6 already belongs to a local identity");
		return -EEXIST;
	}
	l = kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);
	if (!l)
		return -ENOMEM;
	l->vips = *cfg;
	list_add_tail(&l->list, &cd->locals);
	cd->n_locals++;
	if (cfg->has4)
		hash_add_rcu(cd->local4, &l->node4,
			     cyph_vip_hash(AF_INET, &cfg->vip4));
	if (cfg->has6)
		hash_add_rcu(cd->local6, &l->node6,
			     cyph_vip_hash(AF_INET6, &cfg->vip6));
	cd->generation++;
	return 0;
}

static void cyph_local_unlink(struct cyph_device *cd, struct cyph_local *l)
{
	lockdep_assert_held(&cd->lock);
	cyph_tunnel_del_local(cd, l);
	if (l->vips.has4)
		hash_del_rcu(&l->node4);
	if (l->vips.has6)
		hash_del_rcu(&l->node6);
	list_del(&l->list);
	cd->n_locals--;
	cd->generation++;
	kfree_rcu(l, rcu);
}

/* Find the identity by any of the given VIPs; they must agree. */
int cyph_local_del(struct cyph_device *cd, const struct cyph_local_cfg *cfg,
		   struct netlink_ext_ack *extack)
{
	struct cyph_local *l4 = NULL, *l6 = NULL;

	lockdep_assert_held(&cd->lock);
	if (cfg->has4) {
		l4 = cyph_local_find(cd, AF_INET, &cfg->vip4);
		if (!l4) {
			NL_SET_ERR_MSG(extack, "no local identity has this VIP4");
			return -ENOENT;
		}
	}
	if (cfg->has6) {
		l6 = cyph_local_find(cd, AF_INET6, &cfg->vip6);
		if (!l6) {
			NL_SET_ERR_MSG(extack, "no local identity has this VIP6");
			return -ENOENT;
		}
	}
	if (!l4 && !l6) {
		NL_SET_ERR_MSG(extack, "give VIP4 and/or VIP6 of the identity");
		return -EINVAL;
	}
	if (l4 && l6 && l4 != l6) {
		NL_SET_ERR_MSG(extack, "VIP4 and VIP6 belong to different local identities");
		return -EINVAL;
	}
	cyph_local_unlink(cd, l4 ?: l6);
	return 0;
}

void cyph_local_del_all(struct cyph_device *cd)
{
	struct cyph_local *l, *tmp;

	lockdep_assert_held(&cd->lock);
	list_for_each_entry_safe(l, tmp, &cd->locals, list)
		cyph_local_unlink(cd, l);
}
