/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Receive: UDP -> tunnel by index -> decrypt -> checks -> stack.
 */
#ifndef _CYPH_RX_H
#define _CYPH_RX_H

#include <net/sock.h>

struct cyph_device;
struct cyph_stage_ops;

/* Datagrams of one received train that make one RX unit, at most. */
#define CYPH_RX_UNIT_SEGS	32

/*
 * One CPU's RX unit being gathered from a received train (see rx.c),
 * per device: one tunnel's consecutive datagrams under one key.
 */
struct cyph_rx_train {
	struct sk_buff *head, *tail;
	/* The segment the UDP layer's walk hands to encap_rcv next, if any. */
	struct sk_buff *expect;
	unsigned int n;
};

extern const struct cyph_stage_ops cyph_rx_ops;

int cyph_rx_encap_rcv(struct sock *sk, struct sk_buff *skb);
void cyph_rx_held(struct cyph_device *cd, struct sk_buff *skb);
void cyph_rx_trains_flush(struct cyph_device *cd);

#endif /* _CYPH_RX_H */
