// SPDX-License-Identifier: GPL-2.0
/*
 * Receive path.
 *
 * encap_rcv runs in softirq for every datagram on the device's sockets.
 * Non-DATA datagrams go on to user space untouched. A DATA packet is looked
 * up by receiver index, decrypted (possibly asynchronously), and only then,
 * authenticated, checked against the replay window, used for roaming,
 * checked for cryptokey routing and handed to the stack.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jiffies.h>
#include <linux/udp.h>
#include <net/ipv6.h>

#include "crypto.h"
#include "device.h"
#include "rx.h"
#include "tunnel.h"
#include "wire.h"

/* The outer source address:port, before the UDP header is pulled. */
static void cyph_rx_outer_source(const struct sk_buff *skb,
				 union cyph_sockaddr *src)
{
	const struct udphdr *uh = udp_hdr(skb);

	memset(src, 0, sizeof(*src));
	if (ip_hdr(skb)->version == 4) {
		src->sin.sin_family = AF_INET;
		src->sin.sin_addr.s_addr = ip_hdr(skb)->saddr;
		src->sin.sin_port = uh->source;
	} else {
		src->sin6.sin6_family = AF_INET6;
		src->sin6.sin6_addr = ipv6_hdr(skb)->saddr;
		src->sin6.sin6_port = uh->source;
		src->sin6.sin6_scope_id =
			ipv6_iface_scope_id(&ipv6_hdr(skb)->saddr,
					    inet6_iif(skb));
	}
}

/* Check the decrypted inner packet, trim padding, return its VIP pair. */
static int cyph_rx_inner(struct sk_buff *skb, struct cyph_pair *pair)
{
	int len = cyph_skb_inner_parse(skb, true, pair);

	return len < 0 ? len : pskb_trim(skb, len);
}

/* Make the skb look freshly received on the cyphonic device. */
static void cyph_rx_reset(struct cyph_device *cd, struct sk_buff *skb,
			  sa_family_t family)
{
	skb_scrub_packet(skb, true);
	skb->dev = cd->dev;
	skb->protocol = family == AF_INET ? htons(ETH_P_IP) : htons(ETH_P_IPV6);
	skb->pkt_type = PACKET_HOST;
	skb->encapsulation = 0;
	/* The AEAD covers the bytes, not the inner checksums: let the stack check. */
	skb->ip_summed = CHECKSUM_NONE;
	skb_reset_mac_header(skb);
	skb_reset_network_header(skb);
	skb_reset_transport_header(skb);
}

static void cyph_rx_deliver(struct cyph_tunnel *t, struct sk_buff *skb)
{
	struct cyph_device *cd = t->cd;
	unsigned int len = skb->len;

	if (unlikely(gro_cells_receive(&cd->gro_cells, skb) != NET_RX_SUCCESS)) {
		/* gro_cells freed it and counted it in rx_dropped. */
		cyph_count(cd, t, CYPHONIC_STAT_RX_DROP_QUEUE_FULL, 1);
		return;
	}
	dev_sw_netstats_rx_add(cd->dev, len);
	cyph_count(cd, t, CYPHONIC_STAT_RX_PACKETS, 1);
	cyph_count(cd, t, CYPHONIC_STAT_RX_BYTES, len);
}

/* After the AEAD: everything that needs an authenticated packet. */
static void cyph_rx_decrypted(struct cyph_crypt_req *req, int err)
{
	struct cyph_tunnel *t = req->tunnel;
	struct sk_buff *skb = req->skb;
	struct cyph_key *key = req->key;
	struct cyph_pair pair;
	enum cyphonic_stat why;

	if (unlikely(err)) {
		why = cyph_crypt_busy(err) ? CYPHONIC_STAT_RX_DROP_QUEUE_FULL :
					     CYPHONIC_STAT_RX_DROP_AUTH;
		goto drop;
	}
	if (unlikely(!cyph_replay_check(&key->replay, req->counter))) {
		why = CYPHONIC_STAT_RX_DROP_REPLAY;
		goto drop;
	}
	cyph_keyring_promote(&t->keys, key);
	WRITE_ONCE(t->last_rx, get_jiffies_64());
	cyph_tunnel_roam(t, &req->src);

	__skb_pull(skb, CYPH_DATA_HDR_LEN);
	if (pskb_trim(skb, skb->len - CYPHONIC_TAG_LEN) ||
	    cyph_rx_inner(skb, &pair)) {
		why = CYPHONIC_STAT_RX_DROP_BAD_INNER;
		goto drop;
	}
	/* Cryptokey routing: the key vouches for these VIPs and no others. */
	if (unlikely(!cyph_tunnel_owns(t, &pair))) {
		why = CYPHONIC_STAT_RX_DROP_CRYPTOKEY;
		goto drop;
	}
	cyph_rx_reset(t->cd, skb, pair.family);
	cyph_rx_deliver(t, skb);
	goto out;

drop:
	cyph_drop(t->cd, t, why, skb);
out:
	cyph_key_put(key);
	cyph_crypt_req_free(req);
	cyph_tunnel_put(t);
}

/* Hand a DATA packet (skb->data at the DATA header) to the AEAD. */
static void cyph_rx_decrypt(struct cyph_tunnel *t, struct cyph_key *key,
			    struct sk_buff *skb, u64 counter,
			    const union cyph_sockaddr *src)
{
	struct cyph_crypt_req *req;
	struct sk_buff *trailer;
	int nfrags;

	nfrags = skb_cow_data(skb, 0, &trailer);
	if (unlikely(nfrags < 0))
		goto drop;
	req = cyph_crypt_req_alloc(key->rx, nfrags);
	if (unlikely(!req))
		goto drop;
	req->skb = skb;
	req->tunnel = t;
	req->key = key;
	req->counter = counter;
	req->src = *src;
	req->done = cyph_rx_decrypted;
	cyph_decrypt(req);
	return;

drop:
	cyph_drop(t->cd, t, CYPHONIC_STAT_RX_DROP_QUEUE_FULL, skb);
	cyph_key_put(key);
	cyph_tunnel_put(t);
}

/* A DATA packet, skb->data at the UDP header. Always consumes the skb. */
static void cyph_rx_data(struct cyph_device *cd, struct sk_buff *skb)
{
	const struct cyphonic_data_hdr *hdr;
	union cyph_sockaddr src;
	struct cyph_tunnel *t;
	struct cyph_key *key;

	cyph_rx_outer_source(skb, &src);
	if (!pskb_may_pull(skb, sizeof(struct udphdr) + CYPH_DATA_HDR_LEN))
		goto drop_bad_header;
	__skb_pull(skb, sizeof(struct udphdr));
	hdr = (const struct cyphonic_data_hdr *)skb->data;
	if (cyph_data_hdr_check(hdr, skb->len))
		goto drop_bad_header;

	t = cyph_tunnel_get_by_index(cd, be32_to_cpu(hdr->receiver_index));
	if (!t)
		goto drop_unknown_index;
	key = cyph_keyring_by_id(&t->keys, hdr->flags & CYPHONIC_DATA_F_KEY_ID_MASK);
	if (!key)
		goto drop_no_key;
	cyph_rx_decrypt(t, key, skb, be64_to_cpu(hdr->counter), &src);
	return;

drop_bad_header:
	cyph_drop(cd, NULL, CYPHONIC_STAT_RX_DROP_BAD_HEADER, skb);
	return;
drop_unknown_index:
	cyph_drop(cd, NULL, CYPHONIC_STAT_RX_DROP_UNKNOWN_INDEX, skb);
	return;
drop_no_key:
	cyph_drop(cd, t, CYPHONIC_STAT_RX_DROP_NO_KEY, skb);
	cyph_tunnel_put(t);
}

/**
 * cyph_rx_encap_rcv() - encap_rcv hook of the device's UDP sockets
 * @sk: the socket
 * @skb: datagram, skb->data at the UDP header
 *
 * Context: softirq, RCU read lock held by the UDP core.
 * Return: 0 if the packet was consumed (delivered or dropped), >0 to pass
 * it on to the user-space socket.
 */
int cyph_rx_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct cyph_device *cd = rcu_dereference_sk_user_data(sk);

	if (unlikely(!cd))
		return 1;
	if (!pskb_may_pull(skb, sizeof(struct udphdr) + 1) ||
	    skb->data[sizeof(struct udphdr)] != CYPHONIC_MSG_DATA) {
		cyph_count(cd, NULL, CYPHONIC_STAT_RX_CONTROL, 1);
		return 1;
	}
	cyph_rx_data(cd, skb);
	return 0;
}
