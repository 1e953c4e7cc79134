/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Transmit: inner packet -> tunnel -> encrypt -> UDP.
 */
#ifndef _CYPH_TX_H
#define _CYPH_TX_H

#include <linux/netdevice.h>

struct cyph_tunnel;

netdev_tx_t cyph_xmit(struct sk_buff *skb, struct net_device *dev);
void cyph_tx_tunnel(struct cyph_tunnel *t, struct sk_buff *skb);
void cyph_tx_crypt(struct sk_buff *head);
void cyph_tx_release(struct cyph_tunnel *t, struct sk_buff *head);

#endif /* _CYPH_TX_H */
