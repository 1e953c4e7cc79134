/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Local identities: the VIPs one device serves (the node itself, or an
 * adapter and each of its general nodes).
 */
#ifndef _CYPH_LOCAL_H
#define _CYPH_LOCAL_H

#include <linux/list.h>
#include <linux/netlink.h>
#include <linux/rcupdate.h>

#include "addr.h"

struct cyph_device;

struct cyph_local_cfg {
	bool has4;
	bool has6;
	union cyph_vip vip4;
	union cyph_vip vip6;
};

struct cyph_local {
	struct list_head list;		/* cd->locals, under cd->lock */
	struct hlist_node node4;	/* cd->local4 */
	struct hlist_node node6;	/* cd->local6 */
	struct cyph_local_cfg vips;
	struct rcu_head rcu;
};

int cyph_local_add(struct cyph_device *cd, const struct cyph_local_cfg *cfg,
		   struct netlink_ext_ack *extack);
int cyph_local_del(struct cyph_device *cd, const struct cyph_local_cfg *cfg,
		   struct netlink_ext_ack *extack);
void cyph_local_table_init(struct cyph_device *cd);
void cyph_local_del_all(struct cyph_device *cd);
struct cyph_local *cyph_local_find(struct cyph_device *cd, sa_family_t family,
				   const union cyph_vip *vip);

#endif /* _CYPH_LOCAL_H */
