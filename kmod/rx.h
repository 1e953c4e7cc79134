/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Receive: UDP -> tunnel by index -> decrypt -> checks -> stack.
 */
#ifndef _CYPH_RX_H
#define _CYPH_RX_H

#include <linux/workqueue.h>
#include <net/sock.h>

int cyph_rx_encap_rcv(struct sock *sk, struct sk_buff *skb);
void cyph_rx_crypt(struct sk_buff *skb);
void cyph_rx_serial(struct work_struct *work);

#endif /* _CYPH_RX_H */
