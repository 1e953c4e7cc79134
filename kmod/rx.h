/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Receive: UDP -> tunnel by index -> decrypt -> checks -> stack.
 */
#ifndef _CYPH_RX_H
#define _CYPH_RX_H

#include <net/sock.h>

struct cyph_tunnel;

int cyph_rx_encap_rcv(struct sock *sk, struct sk_buff *skb);
void cyph_rx_crypt(struct sk_buff *skb);
void cyph_rx_release(struct cyph_tunnel *t, struct sk_buff *skb);

#endif /* _CYPH_RX_H */
