// SPDX-License-Identifier: GPL-2.0
/*
 * Receive path, in three stages (see pipeline.h):
 *
 * 1. encap_rcv (softirq) passes non-DATA datagrams on to user space
 *    untouched. A DATA packet is looked up by receiver index and key id
 *    and joins the unit being gathered on this CPU, which takes the next
 *    slot of the tunnel's RX ring and goes to the crypt queue.
 * 2. A crypt worker on any worker CPU opens the unit's packets.
 * 3. The tunnel's RX serial stage pops units in arrival order and does,
 *    packet by packet, everything that needs an authenticated packet and
 *    a single owner: replay window, key promotion, roaming, cryptokey
 *    routing, delivery.
 *
 * A unit is one tunnel's consecutive datagrams of a received train. The
 * UDP layer cuts a GSO datagram (a peer's train, train.c, crossing a veth
 * or a router whole) into its segments and hands them to encap_rcv one by
 * one, each still linked to the next (udp_queue_rcv_skb(), 6.1: a socket
 * with encap_rcv cannot take the GSO datagram whole). Those of one tunnel
 * and key, up to CYPH_RX_UNIT_SEGS, make one unit: one ring slot, one
 * queueing, one worker wake-up and one hand-over to the serial stage for
 * all of them, as a TX unit is a GSO burst. The unit waits in the
 * device's per-CPU struct cyph_rx_train only while that walk goes on: it
 * leaves with the walk's last segment, or before a datagram that is not
 * the segment the walk announced or that belongs elsewhere. Each other
 * datagram is a unit of its own at once.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jiffies.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ipv6.h>

#include "crypto.h"
#include "device.h"
#include "pipeline.h"
#include "rx.h"
#include "sealbuf.h"
#include "tunnel.h"
#include "wire.h"

/* Units the RX serial stage releases per hold of its lock. */
#define CYPH_RX_BATCH	16

/*
 * The outer source address:port, read from the outer headers, which stay
 * in the headroom however far skb->data has moved.
 */
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
					    cyph_cb((struct sk_buff *)skb)->iif);
	}
}

/*
 * The outer destination: the local address the peer sent to, and for an
 * IPv6 link-local one the interface it arrived on. A multicast or
 * broadcast destination is no address to answer from.
 */
static void cyph_rx_outer_dest(const struct sk_buff *skb,
			       struct cyph_src *local)
{
	memset(local, 0, sizeof(*local));
	if (ip_hdr(skb)->version == 4) {
		__be32 daddr = ip_hdr(skb)->daddr;

		if (!ipv4_is_multicast(daddr) && !ipv4_is_lbcast(daddr))
			local->addr.ip4 = daddr;
	} else {
		const struct in6_addr *daddr = &ipv6_hdr(skb)->daddr;

		if (ipv6_addr_is_multicast(daddr))
			return;
		local->addr.ip6 = *daddr;
		local->ifindex = ipv6_iface_scope_id(daddr,
						     cyph_cb((struct sk_buff *)skb)->iif);
	}
}

/* IPv4 with options or IPv6, and a TCP or UDP header up to its checksum. */
#define CYPH_CSUM_PULL	(60 + offsetof(struct tcphdr, check) + sizeof(__sum16))

/* Where an opened packet's transport checksum lies, if it was found. */
struct cyph_rx_csum_loc {
	u16 start;
	u16 offset;
	bool found;
};

/*
 * How much of an opened packet to pull into its head: what parsing and
 * the checksum step read, the IP header and, for TCP or UDP right behind
 * it, the transport header, but no payload: a head holding payload makes
 * GRO chain the packet on a frag_list instead of taking over its page
 * fragment (skb_gro_receive()). A packet opened in its page fragment has
 * no byte in its head, so its first bytes are read from a copy. Where
 * its checksum lies is found on the way, in @loc, for the checksum step.
 */
static unsigned int cyph_rx_hdr_len(const struct sk_buff *skb,
				    struct cyph_rx_csum_loc *loc)
{
	unsigned int len = min_t(unsigned int, skb->len, CYPH_CSUM_PULL);
	u8 copy[CYPH_CSUM_PULL];
	const u8 *data;

	loc->found = false;
	data = skb_header_pointer(skb, 0, len, copy);
	if (!data || !len)
		return 0;
	if (cyph_inner_csum_loc(data, len, &loc->start, &loc->offset))
		return min(len, cyph_inner_hdr_len(data[0]));
	loc->found = true;
	if (loc->offset == offsetof(struct udphdr, check))
		return loc->start + sizeof(struct udphdr);
	/* TCP: its header's length, found before its checksum field. */
	return min_t(unsigned int, skb->len,
		     loc->start + max_t(unsigned int,
					(data[loc->start + 12] >> 4) * 4,
					sizeof(struct tcphdr)));
}

/*
 * Check the decrypted inner packet, trim padding, return its VIP pair
 * and where its checksum lies (@loc). Its headers are made linear in one
 * pull, for parsing here and for the checksum step
 * (cyph_rx_csum_partial()), not in a pull for each.
 */
static int cyph_rx_inner(struct sk_buff *skb, struct cyph_pair *pair,
			 struct cyph_rx_csum_loc *loc)
{
	int len;

	if (!pskb_may_pull(skb, cyph_rx_hdr_len(skb, loc)))
		return -ENOMEM;
	len = cyph_skb_inner_parse(skb, true, pair);
	return len < 0 ? len : pskb_trim(skb, len);
}

/*
 * The sender left the transport checksum to be completed (the DATA flag):
 * its place, as the sender checked it would be found (@loc), must lie in
 * the headers cyph_rx_inner() made linear. Return false for a flagged
 * packet of another shape.
 */
static bool cyph_rx_csum_partial(struct sk_buff *skb,
				 const struct cyph_rx_csum_loc *loc)
{
	if (!loc->found ||
	    loc->start + loc->offset + sizeof(__sum16) > skb_headlen(skb))
		return false;
	return skb_partial_csum_set(skb, loc->start, loc->offset);
}

/*
 * Make the skb look freshly received on the cyphonic device, its checksum
 * state as the DATA flags say (@partial; the checksum's place in @loc).
 * Return false if the packet does not match them.
 */
static bool cyph_rx_reset(struct cyph_device *cd, struct sk_buff *skb,
			  sa_family_t family, bool partial,
			  const struct cyph_rx_csum_loc *loc)
{
	memset(skb->cb, 0, sizeof(skb->cb));
	skb_scrub_packet(skb, true);
	skb->dev = cd->dev;
	skb->protocol = family == AF_INET ? htons(ETH_P_IP) : htons(ETH_P_IPV6);
	skb->pkt_type = PACKET_HOST;
	skb->encapsulation = 0;
	skb_reset_mac_header(skb);
	skb_reset_network_header(skb);
	skb_reset_transport_header(skb);
	/*
	 * The AEAD vouches that these are the bytes the peer sent, and the
	 * peer computed the checksums of what it originated, so GRO and the
	 * transport need not read the payload again (as WireGuard does). A
	 * packet the peer forwarded with a bad checksum keeps it unchecked.
	 * One whose checksum the peer left pending (CSUM_PARTIAL) stays
	 * pending: local delivery counts it as verified, and forwarding
	 * completes it on the way out.
	 */
	if (!partial) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
		skb->csum_level = ~0;
		return true;
	}
	return cyph_rx_csum_partial(skb, loc);
}

static void cyph_rx_deliver(struct cyph_tunnel *t, struct sk_buff *skb)
{
	struct cyph_device *cd = t->cd;
	unsigned int len = skb->len;

	if (unlikely(cyph_rx_cells_receive(&cd->rx_cells, skb) != NET_RX_SUCCESS)) {
		/* Freed there, and counted in rx_dropped. */
		cyph_count(cd, t, CYPHONIC_STAT_RX_DROP_QUEUE_FULL, 1);
		return;
	}
	dev_sw_netstats_rx_add(cd->dev, len);
	cyph_count(cd, t, CYPHONIC_STAT_RX_PACKETS, 1);
	cyph_count(cd, t, CYPHONIC_STAT_RX_BYTES, len);
}

/*
 * Stage 3 for one opened (or failed) packet of a unit, which holds the
 * tunnel, the key and the CPU it arrived on (@cpu); consumes @skb.
 */
static void cyph_rx_release_one(struct cyph_tunnel *t, struct cyph_key *key,
				struct sk_buff *skb, unsigned int cpu)
{
	enum cyphonic_stat why = cyph_cb(skb)->why;
	union cyph_sockaddr src;
	struct cyph_rx_csum_loc loc;
	struct cyph_src local;
	struct cyph_pair pair;
	bool partial;

	if (unlikely(why != CYPH_OK))
		goto drop;
	if (unlikely(!cyph_replay_check(&key->replay, cyph_cb(skb)->counter))) {
		why = CYPHONIC_STAT_RX_DROP_REPLAY;
		goto drop;
	}
	/* Authentic: its arrival CPU may draw the stage (placement.c). */
	WRITE_ONCE(t->rx.hint, cpu);
	/* Promotion (and its event) is keys.c's. */
	cyph_keyring_promote(&t->keys, key);
	WRITE_ONCE(t->last_rx, get_jiffies_64());
	cyph_rx_outer_source(skb, &src);
	cyph_rx_outer_dest(skb, &local);
	cyph_tunnel_roam(t, &src, &local);

	partial = ((struct cyphonic_data_hdr *)skb->data)->flags &
		  CYPHONIC_DATA_F_CSUM_PARTIAL;
	__skb_pull(skb, CYPH_DATA_HDR_LEN);
	if (pskb_trim(skb, skb->len - CYPHONIC_TAG_LEN) ||
	    cyph_rx_inner(skb, &pair, &loc)) {
		why = CYPHONIC_STAT_RX_DROP_BAD_INNER;
		goto drop;
	}
	/* Cryptokey routing: the key vouches for these VIPs and no others. */
	if (unlikely(!cyph_tunnel_owns(t, &pair))) {
		why = CYPHONIC_STAT_RX_DROP_CRYPTOKEY;
		goto drop;
	}
	if (unlikely(!cyph_rx_reset(t->cd, skb, pair.family, partial, &loc))) {
		why = CYPHONIC_STAT_RX_DROP_BAD_INNER;
		goto drop;
	}
	cyph_rx_deliver(t, skb);
	return;

drop:
	cyph_drop(t->cd, t, why, skb);
}

/*
 * Stage 3: a unit's packets, in order; consumes the unit with its
 * references. Context: the tunnel's RX serial stage (t->rx.release held,
 * BH off).
 */
static void cyph_rx_release(struct cyph_tunnel *t, struct sk_buff *head)
{
	/* Read before the head's delivery makes skb->cb the stack's. */
	struct cyph_key *key = cyph_cb(head)->key;
	unsigned int cpu = cyph_cb(head)->cpu;
	struct sk_buff *skb, *next;

	skb_list_walk_safe(head, skb, next) {
		skb_mark_not_on_list(skb);
		cyph_rx_release_one(t, key, skb, cpu);
	}
	cyph_key_put(key);
	cyph_tunnel_put(t);
}

/* Hand an opened (or failed) unit to the serial stage, in its slot. */
static void cyph_rx_publish(struct sk_buff *head)
{
	struct cyph_tunnel *t = cyph_cb(head)->tunnel;

	cyph_serial_publish(&t->rx, cyph_cb(head)->seq, head);
}

/* One packet less in the AEAD; the last one publishes the unit. */
static void cyph_rx_unit_put(struct sk_buff *head)
{
	if (atomic_dec_and_test(&cyph_cb(head)->pending))
		cyph_rx_publish(head);
}

/*
 * Opened out of place (cyph_rx_writable()): the skb becomes its header,
 * kept in the head, and the buffer behind it: the plaintext, then the
 * tag, which cyph_rx_release_one() trims as for any packet. The tag is
 * copied in, so that a packet dropped before that trim (a replay) shows
 * a drop monitor its own bytes, not what the recycled buffer held.
 */
static void cyph_rx_to_frag(struct sk_buff *skb, u8 *buf)
{
	unsigned int len = skb->len - CYPH_DATA_HDR_LEN;

	if (skb_copy_bits(skb, skb->len - CYPHONIC_TAG_LEN,
			  buf + skb->len - CYPHONIC_TAG_LEN, CYPHONIC_TAG_LEN))
		memset(buf + skb->len - CYPHONIC_TAG_LEN, 0, CYPHONIC_TAG_LEN);
	skb->len -= skb_headlen(skb) - CYPH_DATA_HDR_LEN;
	skb_set_tail_pointer(skb, CYPH_DATA_HDR_LEN);
	cyph_sealbuf_to_skb(skb, buf + CYPH_DATA_HDR_LEN, len);
}

static void cyph_rx_opened(struct cyph_crypt_req *req, int err)
{
	struct sk_buff *head = req->unit;

	if (unlikely(err)) {
		cyph_cb(req->skb)->why =
			cyph_crypt_busy(err) ? CYPHONIC_STAT_RX_DROP_QUEUE_FULL :
					       CYPHONIC_STAT_RX_DROP_AUTH;
		if (req->dst_buf)
			skb_free_frag(req->dst_buf);
	} else if (req->dst_buf) {
		cyph_rx_to_frag(req->skb, req->dst_buf);
	}
	cyph_crypt_req_free(req);
	cyph_rx_unit_put(head);
}

/*
 * Scatterlist entries to open @skb, and where: in place, or out of place
 * into *@buf. A linear skb whose head is not a clone's is opened in place.
 * Page fragments are opened out of place, into a buffer of our own
 * (sealbuf.c), whatever the skb says of them: the UDP layer cuts a GSO
 * datagram (a train crossing a veth or a bridge whole) into segments
 * that take references on its pages without marking them shared
 * (skb_segment()), while a clone of that datagram may live on in a
 * packet socket's queue or a bridge's flood to another port, to be read
 * later; opened in place, its pages would show that reader our
 * plaintext. Out of place costs no extra pass (the AEAD writes every
 * byte either way), and the pages go back to their owner sooner. A
 * clone, a fragment list or a packet larger than a page is made
 * private and linear first (skb_cow_data(), a copy), and opened in
 * place.
 */
static int cyph_rx_writable(struct sk_buff *skb, u8 **buf)
{
	struct sk_buff *trailer;

	*buf = NULL;
	if (!skb_cloned(skb) && !skb_has_frag_list(skb)) {
		if (!skb_shinfo(skb)->nr_frags)
			return 1;
		if (skb->len <= PAGE_SIZE)
			*buf = cyph_sealbuf_alloc(skb->len);
		if (*buf)
			return 1 + skb_shinfo(skb)->nr_frags;
	}
	return skb_cow_data(skb, 0, &trailer);
}

/* Open one DATA packet of @head's unit (skb->data at its header). */
static void cyph_rx_open(struct sk_buff *head, struct sk_buff *skb)
{
	struct cyph_crypt_req *req;
	int nfrags;
	u8 *buf;

	nfrags = cyph_rx_writable(skb, &buf);
	req = nfrags < 0 ? NULL :
			   cyph_crypt_req_alloc(cyph_cb(head)->key->rx, nfrags);
	if (unlikely(!req)) {
		if (buf)
			skb_free_frag(buf);
		cyph_cb(skb)->why = CYPHONIC_STAT_RX_DROP_QUEUE_FULL;
		cyph_rx_unit_put(head);
		return;
	}
	req->skb = skb;
	req->unit = head;
	req->counter = cyph_cb(skb)->counter;
	if (buf) {
		req->dst_buf = buf;
		req->dst_len = skb->len - CYPHONIC_TAG_LEN;
	}
	req->done = cyph_rx_opened;
	cyph_decrypt(req);
}

/* Stage 2, a crypt worker: open every packet of a unit. */
static void cyph_rx_crypt(struct sk_buff *head)
{
	cyph_unit_crypt(head, cyph_rx_open, cyph_rx_unit_put);
}

/* Keep what the runner's batch opens in this CPU's receive cell... */
static void cyph_rx_hold(struct cyph_tunnel *t)
{
	cyph_rx_cells_hold(&t->cd->rx_cells);
}

/*
 * ...and feed it to the stack from the runner, not the CPU's softirq:
 * the batch whole, and about a poll's weight of what softirqs here had
 * queued before it (the rest stays theirs).
 */
static void cyph_rx_hand_on(struct cyph_tunnel *t)
{
	cyph_rx_cells_run(&t->cd->rx_cells,
			  CYPH_RX_BATCH * CYPH_RX_UNIT_SEGS + NAPI_POLL_WEIGHT);
}

/*
 * The RX side of the pipeline. A unit is a train's datagrams of one
 * tunnel, often one datagram: many per lock hold, always in the serial
 * runner, so that a flow's packets meet in one GRO run; at most
 * CYPH_RX_BATCH * CYPH_RX_UNIT_SEGS packets, and the cell's feed, with
 * bottom halves off. A unit of any length may be opened where it
 * arrived: its datagrams could each have been, one by one, and the
 * inline budgets count bytes.
 */
const struct cyph_stage_ops cyph_rx_ops = {
	.dir = CYPH_RX,
	.crypt = cyph_rx_crypt,
	.release = cyph_rx_release,
	.hold = cyph_rx_hold,
	.hand_on = cyph_rx_hand_on,
	.batch = CYPH_RX_BATCH,
	.inline_segs = CYPH_RX_UNIT_SEGS,
	.queue_packets = true,
	.release_in_worker = false,
};

/* Mark every packet of a unit to be dropped for @why at its release. */
static void cyph_rx_mark(struct sk_buff *head, enum cyphonic_stat why)
{
	for (; head; head = head->next)
		cyph_cb(head)->why = why;
}

/*
 * Stage 1: take the tunnel's next RX slot and queue the unit, which owns
 * the references to its tunnel and key (see cyph_rx_gather()).
 */
static void cyph_rx_queue(struct sk_buff *head)
{
	struct cyph_cb *cb = cyph_cb(head);
	struct cyph_tunnel *t = cb->tunnel;
	struct sk_buff *skb, *next;
	bool ok, here;
	int err;

	spin_lock(&t->rx.produce);
	cyph_serial_arrive(&t->rx);
	ok = cyph_ring_reserve(&t->rx.ring, &cb->seq);
	here = ok && cyph_serial_inline(&t->rx, head);
	spin_unlock(&t->rx.produce);
	if (unlikely(!ok)) {
		cyph_key_put(cb->key);
		skb_list_walk_safe(head, skb, next) {
			skb_mark_not_on_list(skb);
			cyph_drop(t->cd, t, CYPHONIC_STAT_RX_DROP_QUEUE_FULL, skb);
		}
		cyph_tunnel_put(t);
		return;
	}
	cb->cpu = smp_processor_id();
	if (head->next)
		cyph_count(t->cd, t, CYPHONIC_STAT_RX_TRAIN_UNITS, 1);
	if (here) {
		cyph_rx_crypt(head);
		return;
	}
	err = cyph_queue_enqueue(&t->cd->rx_queue, head);
	if (unlikely(err)) {
		/* The slot is ours: fill it with drops so the ring moves on. */
		cyph_rx_mark(head, err == -EBUSY ?
				   CYPHONIC_STAT_RX_DROP_QUEUE_SHARE :
				   CYPHONIC_STAT_RX_DROP_QUEUE_FULL);
		cyph_rx_publish(head);
	}
}

/* Queue the unit gathered on this CPU, if any. */
static void cyph_rx_train_end(struct cyph_rx_train *tr)
{
	struct sk_buff *head = tr->head;

	tr->head = NULL;
	tr->expect = NULL;
	if (head)
		cyph_rx_queue(head);
}

/*
 * Add a DATA packet to the unit gathered on this CPU, starting a new one
 * if it cannot join (another tunnel or key, not the segment the walk
 * announced, or the unit full), and queue the unit unless the walk
 * announced a @next segment. Owns @t's and @key's references: a unit
 * keeps its first packet's. Context: BH off.
 */
static void cyph_rx_gather(struct cyph_device *cd, struct cyph_tunnel *t,
			   struct cyph_key *key, struct sk_buff *skb,
			   u64 counter, struct sk_buff *next)
{
	struct cyph_rx_train *tr = this_cpu_ptr(cd->rx_trains);
	struct cyph_cb *cb = cyph_cb(skb);
	int iif = ip_hdr(skb)->version == 6 ? inet6_iif(skb) : 0;

	/*
	 * The packet waits for a worker: let go of what it holds from the
	 * underlay (a route that may not even be refcounted, conntrack).
	 * skb->cb becomes ours, so keep the IPv6 arrival interface first.
	 */
	skb_dst_drop(skb);
	nf_reset_ct(skb);
	cb->counter = counter;
	cb->iif = iif;
	cb->why = CYPH_OK;
	if (tr->head && (tr->expect != skb || tr->n >= CYPH_RX_UNIT_SEGS ||
			 cyph_cb(tr->head)->tunnel != t ||
			 cyph_cb(tr->head)->key != key))
		cyph_rx_train_end(tr);
	if (tr->head) {
		cyph_key_put(key);
		cyph_tunnel_put(t);
		tr->tail->next = skb;
		tr->n++;
	} else {
		cb->tunnel = t;
		cb->key = key;
		tr->head = skb;
		tr->n = 1;
	}
	tr->tail = skb;
	tr->expect = next;
	if (!next)
		cyph_rx_train_end(tr);
}

/**
 * cyph_rx_trains_flush() - queue the units left gathering on every CPU
 * @cd: device, its sockets released (no receive in progress or to come)
 *
 * A walk's remaining segments can fail to reach encap_rcv (an IPsec
 * policy dropping them, the socket released in between); its unit then
 * waits for the next DATA on that CPU, or for this at teardown.
 */
void cyph_rx_trains_flush(struct cyph_device *cd)
{
	int cpu;

	local_bh_disable();
	for_each_possible_cpu(cpu)
		cyph_rx_train_end(per_cpu_ptr(cd->rx_trains, cpu));
	local_bh_enable();
}

/*
 * A DATA packet, skb->data at the UDP header, and the segment the UDP
 * layer hands us next (NULL: none). Always consumes the skb.
 */
static void cyph_rx_data(struct cyph_device *cd, struct sk_buff *skb,
			 struct sk_buff *next)
{
	const struct cyphonic_data_hdr *hdr;
	enum cyphonic_stat why;
	struct cyph_tunnel *t;
	struct cyph_key *key;
	u64 counter;
	int err;

	if (!pskb_may_pull(skb, sizeof(struct udphdr) + CYPH_DATA_HDR_LEN))
		goto drop_bad_header;
	__skb_pull(skb, sizeof(struct udphdr));
	hdr = (const struct cyphonic_data_hdr *)skb->data;
	err = cyph_data_hdr_check(hdr, skb->len);
	if (err == -EMSGSIZE)
		goto drop_too_long;
	if (err)
		goto drop_bad_header;

	t = cyph_tunnel_get_by_index(cd, be32_to_cpu(hdr->receiver_index));
	if (!t) {
		if (cyph_early_hold(cd, be32_to_cpu(hdr->receiver_index), skb))
			return;
		goto drop_unknown_index;
	}
	counter = be64_to_cpu(hdr->counter);
	/* Key, its limits and its replay window, before any decryption. */
	why = cyph_keyring_rx_key(&t->keys, hdr->flags & CYPHONIC_DATA_F_KEY_ID_MASK,
				  counter, &key);
	if (why)
		goto drop_key;
	cyph_rx_gather(cd, t, key, skb, counter, next);
	return;

drop_too_long:
	cyph_drop(cd, NULL, CYPHONIC_STAT_RX_DROP_TOO_LONG, skb);
	return;
drop_bad_header:
	cyph_drop(cd, NULL, CYPHONIC_STAT_RX_DROP_BAD_HEADER, skb);
	return;
drop_unknown_index:
	cyph_drop(cd, NULL, CYPHONIC_STAT_RX_DROP_UNKNOWN_INDEX, skb);
	return;
drop_key:
	cyph_drop(cd, t, why, skb);
	cyph_tunnel_put(t);
}

/**
 * cyph_rx_held() - receive DATA early.c held for a tunnel just created
 * @cd: device
 * @skb: as cyph_early_hold() took it, skb->data at the DATA header
 *
 * Context: softirqs disabled, RCU read lock held, as for encap_rcv.
 */
void cyph_rx_held(struct cyph_device *cd, struct sk_buff *skb)
{
	__skb_push(skb, sizeof(struct udphdr));
	cyph_rx_data(cd, skb, NULL);
}

/**
 * cyph_rx_encap_rcv() - encap_rcv hook of the device's UDP sockets
 * @sk: the socket
 * @skb: datagram, skb->data at the UDP header
 *
 * Context: softirq, RCU read lock held by the UDP core.
 * Return: 0 if the packet was consumed (queued or dropped), >0 to pass it
 * on to the user-space socket.
 */
int cyph_rx_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct cyph_device *cd = rcu_dereference_sk_user_data(sk);
	struct sk_buff *next = skb->next;
	int ret = 0;

	if (unlikely(!cd))
		return 1;
	/*
	 * A segment of a GSO datagram comes still linked to the next one,
	 * which the UDP layer's walk hands us next (udp_queue_rcv_skb()).
	 */
	skb_mark_not_on_list(skb);
	if (!pskb_may_pull(skb, sizeof(struct udphdr) + 1) ||
	    skb->data[sizeof(struct udphdr)] != CYPHONIC_MSG_DATA) {
		cyph_count(cd, NULL, CYPHONIC_STAT_RX_CONTROL, 1);
		ret = 1;
	} else {
		cyph_rx_data(cd, skb, next);
	}
	/*
	 * The walk is over, whatever became of its last datagram (passed
	 * on, dropped, held for its tunnel): so is the unit it was making.
	 */
	if (!next)
		cyph_rx_train_end(this_cpu_ptr(cd->rx_trains));
	return ret;
}
