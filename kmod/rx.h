/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Receive: UDP -> tunnel by index -> decrypt -> checks -> stack.
 */
#ifndef _CYPH_RX_H
#define _CYPH_RX_H

#include <net/sock.h>

struct cyph_device;
struct cyph_stage_ops;

extern const struct cyph_stage_ops cyph_rx_ops;

int cyph_rx_encap_rcv(struct sock *sk, struct sk_buff *skb);
void cyph_rx_held(struct cyph_device *cd, struct sk_buff *skb);

#endif /* _CYPH_RX_H */
