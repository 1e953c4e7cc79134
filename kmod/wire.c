// SPDX-License-Identifier: GPL-2.0
/*
 * Header codec and inner packet checks. Callers make sure the bytes these
 * functions read are linear; the functions only check lengths and values.
 */

#include <linux/skbuff.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <net/ip.h>
#include <asm/unaligned.h>

#include "wire.h"

/**
 * cyph_data_hdr_check() - validate a received DATA header
 * @hdr: the header, linear
 * @len: bytes from the header to the end of the datagram
 *
 * Return: 0 if the datagram can be a DATA packet, -EMSGSIZE if it is longer
 * than any a peer sends (checked first: it is all a flood of them costs),
 * -EINVAL otherwise.
 */
int cyph_data_hdr_check(const struct cyphonic_data_hdr *hdr, unsigned int len)
{
	if (len > CYPH_DATA_MAX_LEN)
		return -EMSGSIZE;
	if (len < CYPH_DATA_MIN_LEN)
		return -EINVAL;
	if (hdr->type != CYPHONIC_MSG_DATA)
		return -EINVAL;
	if (hdr->flags & ~CYPHONIC_DATA_F_ALL || hdr->reserved)
		return -EINVAL;
	return 0;
}

void cyph_data_hdr_init(struct cyphonic_data_hdr *hdr, u8 key_id, u32 receiver,
			u64 counter)
{
	hdr->type = CYPHONIC_MSG_DATA;
	hdr->flags = key_id & CYPHONIC_DATA_F_KEY_ID_MASK;
	hdr->reserved = 0;
	hdr->receiver_index = cpu_to_be32(receiver);
	put_unaligned_be64(counter, &hdr->counter);
}

void cyph_relay_hdr_init(struct cyphonic_relay_hdr *hdr, u32 session)
{
	hdr->type = CYPHONIC_MSG_RELAY;
	hdr->flags = 0;
	hdr->reserved = 0;
	hdr->session = cpu_to_be32(session);
}

/* The nonce is four zero bytes and the counter in big-endian order. */
void cyph_nonce_init(u8 nonce[CYPHONIC_NONCE_LEN], u64 counter)
{
	memset(nonce, 0, CYPHONIC_NONCE_LEN - sizeof(u64));
	put_unaligned_be64(counter, nonce + CYPHONIC_NONCE_LEN - sizeof(u64));
}

/* How many bytes of IP header must be linear for cyph_inner_parse(). */
unsigned int cyph_inner_hdr_len(u8 first_byte)
{
	switch (first_byte >> 4) {
	case 4:
		return sizeof(struct iphdr);
	case 6:
		return sizeof(struct ipv6hdr);
	default:
		return 0;
	}
}

static int cyph_inner_parse4(const struct iphdr *iph, unsigned int len,
			     bool rx, struct cyph_pair *pair)
{
	unsigned int tot = ntohs(iph->tot_len);

	if (len < sizeof(*iph) || iph->version != 4 || iph->ihl < 5)
		return -EINVAL;
	if (tot < iph->ihl * 4 || tot > len)
		return -EINVAL;
	memset(pair, 0, sizeof(*pair));
	pair->family = AF_INET;
	pair->local.ip4 = rx ? iph->daddr : iph->saddr;
	pair->remote.ip4 = rx ? iph->saddr : iph->daddr;
	return tot;
}

static int cyph_inner_parse6(const struct ipv6hdr *ip6h, unsigned int len,
			     bool rx, struct cyph_pair *pair)
{
	unsigned int tot = sizeof(*ip6h) + ntohs(ip6h->payload_len);

	if (len < sizeof(*ip6h) || ip6h->version != 6 || tot > len)
		return -EINVAL;
	memset(pair, 0, sizeof(*pair));
	pair->family = AF_INET6;
	pair->local.ip6 = rx ? ip6h->daddr : ip6h->saddr;
	pair->remote.ip6 = rx ? ip6h->saddr : ip6h->daddr;
	return tot;
}

/**
 * cyph_inner_parse() - check an inner IP packet and extract its VIP pair
 * @data: start of the packet; cyph_inner_hdr_len() bytes must be readable
 * @len: bytes available from @data
 * @rx: true for a received packet (local = destination), false on TX
 * @pair: filled with the packet's (local, remote) VIPs
 *
 * Return: the packet length its header claims (<= @len), or -EINVAL.
 */
int cyph_inner_parse(const void *data, unsigned int len, bool rx,
		     struct cyph_pair *pair)
{
	if (!len)
		return -EINVAL;
	switch (cyph_inner_hdr_len(*(const u8 *)data)) {
	case sizeof(struct iphdr):
		return cyph_inner_parse4(data, len, rx, pair);
	case sizeof(struct ipv6hdr):
		return cyph_inner_parse6(data, len, rx, pair);
	default:
		return -EINVAL;
	}
}

/*
 * Make the inner IP header linear, check it and return its VIP pair in
 * @pair. Returns the inner packet's length (the skb may be longer because of
 * link-layer padding) or a negative errno.
 */
int cyph_skb_inner_parse(struct sk_buff *skb, bool rx, struct cyph_pair *pair)
{
	unsigned int hlen;

	if (!pskb_may_pull(skb, 1))
		return -EINVAL;
	hlen = cyph_inner_hdr_len(skb->data[0]);
	if (!hlen || !pskb_may_pull(skb, hlen))
		return -EINVAL;
	return cyph_inner_parse(skb->data, skb->len, rx, pair);
}

/* The checksum field's offset in a TCP or UDP header, 0 for others. */
static u16 cyph_l4_csum_offset(u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return offsetof(struct tcphdr, check);
	case IPPROTO_UDP:
		return offsetof(struct udphdr, check);
	default:
		return 0;
	}
}

/**
 * cyph_inner_csum_loc() - where an inner packet's transport checksum lies
 * @data: start of the inner IP packet, linear for @len bytes
 * @len: bytes readable from @data
 * @start: the transport header's offset from @data, on success
 * @offset: the checksum field's offset from @start, on success
 *
 * Only the shapes a receiver can find again from the packet alone carry
 * CYPHONIC_DATA_F_CSUM_PARTIAL: TCP or UDP right after the IPv4 header
 * (options allowed) or the fixed IPv6 header, not a fragment, with the
 * checksum field inside @len. The sender checks that the stack's
 * csum_start/csum_offset are these, the receiver rebuilds them from here.
 *
 * Return: 0, or -EINVAL for any other packet.
 */
int cyph_inner_csum_loc(const void *data, unsigned int len, u16 *start,
			u16 *offset)
{
	const struct ipv6hdr *ip6h = data;
	const struct iphdr *iph = data;
	u16 off;

	if (len >= sizeof(*iph) && iph->version == 4) {
		if (iph->ihl < 5 || ip_is_fragment(iph))
			return -EINVAL;
		*start = iph->ihl * 4;
		off = cyph_l4_csum_offset(iph->protocol);
	} else if (len >= sizeof(*ip6h) && ip6h->version == 6) {
		*start = sizeof(*ip6h);
		off = cyph_l4_csum_offset(ip6h->nexthdr);
	} else {
		return -EINVAL;
	}
	if (!off || *start + off + sizeof(__sum16) > len)
		return -EINVAL;
	*offset = off;
	return 0;
}
