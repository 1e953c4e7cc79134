/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transmit: inner packet -> tunnel -> encrypt -> UDP.
 */
#ifndef _CYPH_TX_H
#define _CYPH_TX_H

#include <linux/netdevice.h>

struct cyph_stage_ops;
struct cyph_tunnel;

extern const struct cyph_stage_ops cyph_tx_ops;

netdev_tx_t cyph_xmit(struct sk_buff *skb, struct net_device *dev);
void cyph_tx_tunnel(struct cyph_tunnel *t, struct sk_buff *skb);

#endif /* _CYPH_TX_H */
