// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit path.
 *
 * ndo_start_xmit classifies the inner packet by its (source, destination)
 * VIPs, finds the tunnel (or stages the packet until one exists), takes a
 * counter from the primary key, encrypts in place and sends the result on
 * the device's UDP socket for the endpoint's family. The device is LLTX:
 * nothing here takes a device-wide lock.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>

#include "crypto.h"
#include "device.h"
#include "events.h"
#include "socket.h"
#include "staging.h"
#include "tunnel.h"
#include "tx.h"
#include "wire.h"

/* Check the inner packet, trim padding and extract its VIP pair. */
static int cyph_tx_classify(struct sk_buff *skb, struct cyph_pair *pair)
{
	int len = cyph_skb_inner_parse(skb, false, pair);

	if (len < 0)
		return len;
	if (skb->protocol != (pair->family == AF_INET ? htons(ETH_P_IP) :
							 htons(ETH_P_IPV6)))
		return -EINVAL;
	return pskb_trim(skb, len);
}

/*
 * The packet leaves the inner path: forget its conntrack entry, dst, mark
 * and other inner state (the flow hash survives, skb_scrub_packet() keeps
 * it), and let an IPv6 underlay fragment it rather than drop it when it
 * exceeds the path MTU, as IPv4 does with DF clear.
 */
static void cyph_tx_reset(struct sk_buff *skb)
{
	skb_scrub_packet(skb, true);
	skb->ignore_df = 1;
}

/* After the AEAD: add the relay header if needed and send. */
static void cyph_tx_encrypted(struct cyph_crypt_req *req, int err)
{
	struct cyph_tunnel *t = req->tunnel;
	struct cyph_device *cd = t->cd;
	struct sk_buff *skb = req->skb;
	unsigned int len = req->len;
	union cyph_sockaddr ep;
	enum cyphonic_stat why;
	u32 relay;

	cyph_key_put(req->key);
	cyph_crypt_req_free(req);
	if (unlikely(err)) {
		why = cyph_crypt_busy(err) ? CYPHONIC_STAT_TX_DROP_QUEUE_FULL :
					     CYPHONIC_STAT_TX_DROP_SEND_ERROR;
		goto drop;
	}
	cyph_tunnel_endpoint(t, &ep, &relay);
	if (unlikely(ep.sa.sa_family == AF_UNSPEC)) {
		why = CYPHONIC_STAT_TX_DROP_NO_ENDPOINT;
		goto drop;
	}
	/* Headroom for this was reserved before encryption. */
	if (relay)
		cyph_relay_hdr_init(skb_push(skb, CYPH_RELAY_HDR_LEN), relay);
	skb->ip_summed = CHECKSUM_NONE;
	cyph_tx_reset(skb);
	err = cyph_sock_send(cd, skb, &ep);
	if (unlikely(err)) {
		why = err == -ENOTCONN ? CYPHONIC_STAT_TX_DROP_NO_ENDPOINT :
					 CYPHONIC_STAT_TX_DROP_SEND_ERROR;
		goto drop;
	}
	cyph_count(cd, t, CYPHONIC_STAT_TX_PACKETS, 1);
	cyph_count(cd, t, CYPHONIC_STAT_TX_BYTES, len);
	cyph_tunnel_put(t);
	return;

drop:
	cyph_drop(cd, t, why, skb);
	cyph_tunnel_put(t);
}

/*
 * Make the skb writable with room for the headers in front and the tag
 * behind, and allocate its crypto request. Return NULL on memory pressure.
 */
static struct cyph_crypt_req *cyph_tx_prepare(struct sk_buff *skb,
					      struct cyph_key *key)
{
	struct sk_buff *trailer;
	int nfrags;

	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb))
		return NULL;
	if (skb_cow_head(skb, CYPH_TX_HEADROOM))
		return NULL;
	nfrags = skb_cow_data(skb, CYPHONIC_TAG_LEN, &trailer);
	if (nfrags < 0)
		return NULL;
	/* Only now, with the data private to us, grow the skb. */
	pskb_put(skb, trailer, CYPHONIC_TAG_LEN);
	return cyph_crypt_req_alloc(key->tx, nfrags);
}

/* Take the next counter of the primary key; false once it is exhausted. */
static bool cyph_tx_counter(struct cyph_tunnel *t, struct cyph_key *key,
			    u64 *counter)
{
	/*
	 * Never let the counter wrap: stop incrementing at the reject limit
	 * so that a (key, nonce) pair cannot repeat however long we run.
	 */
	*counter = (u64)atomic64_fetch_add_unless(&key->tx_counter, 1,
						  (s64)CYPHONIC_REJECT_AFTER_MESSAGES);
	if (unlikely(*counter >= CYPHONIC_REJECT_AFTER_MESSAGES))
		return false;
	if (unlikely(*counter == CYPHONIC_REKEY_AFTER_MESSAGES))
		cyph_ntf_key_limit(t, key, *counter);
	return true;
}

/**
 * cyph_tx_tunnel() - encrypt and send a packet through a tunnel
 * @t: tunnel; the caller's reference is passed on
 * @skb: inner IP packet; consumed
 *
 * Context: bottom halves disabled.
 */
void cyph_tx_tunnel(struct cyph_tunnel *t, struct sk_buff *skb)
{
	struct cyph_device *cd = t->cd;
	struct cyph_crypt_req *req;
	unsigned int len = skb->len;
	enum cyphonic_stat why;
	struct cyph_key *key;
	u64 counter;

	key = cyph_keyring_primary(&t->keys);
	if (unlikely(!key)) {
		why = CYPHONIC_STAT_TX_DROP_NO_KEY;
		goto drop;
	}
	/* Checked again when sending; here it saves a counter and the AEAD. */
	if (unlikely(!cyph_tunnel_has_endpoint(t))) {
		why = CYPHONIC_STAT_TX_DROP_NO_ENDPOINT;
		goto drop_key;
	}
	if (unlikely(!cyph_tx_counter(t, key, &counter))) {
		why = CYPHONIC_STAT_TX_DROP_KEY_EXHAUSTED;
		goto drop_key;
	}
	req = cyph_tx_prepare(skb, key);
	if (unlikely(!req)) {
		why = CYPHONIC_STAT_TX_DROP_QUEUE_FULL;
		goto drop_key;
	}
	/* The tunnel's tx_bytes count from here: the inner packet and tag. */
	skb_reset_inner_headers(skb);
	skb_set_inner_network_header(skb, 0);
	cyph_data_hdr_init(skb_push(skb, CYPH_DATA_HDR_LEN), key->id,
			   t->peer_index, counter);
	req->skb = skb;
	req->tunnel = t;
	req->key = key;
	req->counter = counter;
	req->len = len;
	req->done = cyph_tx_encrypted;
	cyph_encrypt(req);
	return;

drop_key:
	cyph_key_put(key);
drop:
	cyph_drop(cd, t, why, skb);
	cyph_tunnel_put(t);
}

/**
 * cyph_xmit() - ndo_start_xmit
 * @skb: inner IPv4 or IPv6 packet, skb->data at the IP header
 * @dev: the cyphonic device
 *
 * Return: NETDEV_TX_OK always; every packet is sent, staged or dropped.
 */
netdev_tx_t cyph_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct cyph_device *cd = netdev_priv(dev);
	struct cyph_tunnel *t;
	struct cyph_pair pair;

	if (unlikely(cyph_tx_classify(skb, &pair))) {
		cyph_drop(cd, NULL, CYPHONIC_STAT_TX_DROP_BAD_INNER, skb);
		return NETDEV_TX_OK;
	}
	t = cyph_tunnel_get_by_pair(cd, &pair);
	if (likely(t))
		cyph_tx_tunnel(t, skb);
	else
		cyph_staging_stage(cd, skb, &pair);
	return NETDEV_TX_OK;
}
