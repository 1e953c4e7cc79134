/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CYPHONIC wire format: DATA and relay headers, nonces, inner packets.
 * Everything here is pure (no skb, no state) so KUnit can reach it.
 */
#ifndef _CYPH_WIRE_H
#define _CYPH_WIRE_H

#include <linux/cyphonic.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/udp.h>

#include "addr.h"

#define CYPH_DATA_HDR_LEN	sizeof(struct cyphonic_data_hdr)
#define CYPH_RELAY_HDR_LEN	sizeof(struct cyphonic_relay_hdr)

/* The smallest DATA payload: a header and a tag around nothing. */
#define CYPH_DATA_MIN_LEN	(CYPH_DATA_HDR_LEN + CYPHONIC_TAG_LEN)

/* Worst case in front of an inner packet: IPv6, UDP, relay, DATA. */
#define CYPH_TX_OVERHEAD	(sizeof(struct ipv6hdr) + sizeof(struct udphdr) + \
				 CYPH_RELAY_HDR_LEN + CYPH_DATA_HDR_LEN)
#define CYPH_TX_HEADROOM	(LL_MAX_HEADER + CYPH_TX_OVERHEAD)
/*
 * In front of a packet sealed into a buffer of its own (tx.c), before and
 * after sealing: the worst case, and 32 bytes for the link layer
 * (Ethernet, VLAN). Small on purpose: a receiver on the same host that
 * cuts a train apart gives each packet a head as large as the first one's
 * headroom (skb_segment()), and this one leaves those heads within the
 * 512-byte slab bucket with room for the headers the receiver pulls. A
 * device that asks for more (Hyper-V's netvsc, mac80211) gets its room
 * from the stack (ip_finish_output2()), at a copy of the head per outer
 * skb: per train, not per packet.
 */
#define CYPH_TX_PAGED_HEADROOM	(CYPH_TX_OVERHEAD + 32)

/* The largest inner packet that still fits one IPv6 datagram (max MTU). */
#define CYPH_INNER_MAX_LEN	(IP_MAX_MTU - CYPH_TX_OVERHEAD - CYPHONIC_TAG_LEN)
/* So no peer of ours sends a longer DATA payload than this. */
#define CYPH_DATA_MAX_LEN	(CYPH_DATA_HDR_LEN + CYPH_INNER_MAX_LEN + \
				 CYPHONIC_TAG_LEN)

int cyph_data_hdr_check(const struct cyphonic_data_hdr *hdr, unsigned int len);
void cyph_data_hdr_init(struct cyphonic_data_hdr *hdr, u8 key_id, u32 receiver,
			u64 counter);
void cyph_relay_hdr_init(struct cyphonic_relay_hdr *hdr, u32 session);
void cyph_nonce_init(u8 nonce[CYPHONIC_NONCE_LEN], u64 counter);
unsigned int cyph_inner_hdr_len(u8 first_byte);
int cyph_inner_parse(const void *data, unsigned int len, bool rx,
		     struct cyph_pair *pair);
int cyph_skb_inner_parse(struct sk_buff *skb, bool rx, struct cyph_pair *pair);
int cyph_inner_csum_loc(const void *data, unsigned int len, u16 *start,
			u16 *offset);

#endif /* _CYPH_WIRE_H */
