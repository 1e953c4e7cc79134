// SPDX-License-Identifier: GPL-2.0
/*
 * Transmit path, in three stages (see pipeline.h):
 *
 * 1. ndo_start_xmit classifies the inner packet by its VIP pair, finds the
 *    tunnel (or stages the packet until one exists), segments a GSO packet
 *    once, and under the tunnel's TX lock takes a ring slot for the whole
 *    unit and one counter per segment, so counters follow arrival order.
 * 2. A crypt worker on any worker CPU checksums and seals the segments.
 * 3. The tunnel's TX serial stage pops units in order and sends them.
 *
 * The device is LLTX: nothing here takes a device-wide lock.
 */

#include <linux/ip.h>
#include <linux/ipv6.h>

#include "crypto.h"
#include "device.h"
#include "gsohead.h"
#include "pipeline.h"
#include "sealbuf.h"
#include "staging.h"
#include "train.h"
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

/* Drop every segment of a unit that never got a ring slot. */
static void cyph_tx_drop_list(struct cyph_tunnel *t, struct sk_buff *segs,
			      enum cyphonic_stat why)
{
	struct sk_buff *skb, *next;

	skb_list_walk_safe(segs, skb, next) {
		skb_mark_not_on_list(skb);
		cyph_drop(t->cd, t, why, skb);
	}
}

/*
 * Stage 1 under the tunnel's TX lock: one ring slot for the unit, then a
 * counter per segment in list order, and whether it is sealed right here
 * (@here, see cyph_serial_inline()). Return false if the ring is full.
 */
static bool cyph_tx_sequence(struct cyph_tunnel *t, struct cyph_key *key,
			     struct sk_buff *segs, bool *here)
{
	struct sk_buff *skb;
	bool ok;

	spin_lock_bh(&t->tx.produce);
	cyph_serial_arrive(&t->tx);
	ok = cyph_ring_reserve(&t->tx.ring, &cyph_cb(segs)->seq);
	*here = ok && cyph_serial_inline(&t->tx, segs);
	/* The key's limits are keys.c's: a segment past them is dropped. */
	for (skb = segs; ok && skb; skb = skb->next)
		cyph_cb(skb)->why = cyph_key_tx_counter(&t->keys, key,
							&cyph_cb(skb)->counter) ?: CYPH_OK;
	spin_unlock_bh(&t->tx.produce);
	return ok;
}

/* Hand a finished unit to the serial stage, in its ring slot. */
static void cyph_tx_publish(struct sk_buff *head)
{
	struct cyph_tunnel *t = cyph_cb(head)->tunnel;

	cyph_serial_publish(&t->tx, cyph_cb(head)->seq, head);
}

static void cyph_tx_crypt(struct sk_buff *head);

/**
 * cyph_tx_tunnel() - queue a packet for encryption through a tunnel
 * @t: tunnel; the caller's reference is passed on
 * @skb: inner IP packet, possibly GSO; consumed
 *
 * Context: bottom halves disabled.
 */
void cyph_tx_tunnel(struct cyph_tunnel *t, struct sk_buff *skb)
{
	struct cyph_device *cd = t->cd;
	enum cyphonic_stat why;
	struct sk_buff *segs;
	struct cyph_key *key;
	bool here;
	int err;

	/*
	 * The inner route is of no use from here on (the device keeps it
	 * only for ICMP errors): drop it before segmentation would copy it
	 * into every segment, and before the packet waits in the pipeline.
	 */
	skb_dst_drop(skb);
	key = cyph_keyring_primary(&t->keys);
	if (unlikely(!key)) {
		why = CYPHONIC_STAT_TX_DROP_NO_KEY;
		goto drop;
	}
	/* Checked again when sending; here it saves a slot and the AEAD. */
	if (unlikely(!cyph_tunnel_has_endpoint(t))) {
		why = CYPHONIC_STAT_TX_DROP_NO_ENDPOINT;
		goto drop_key;
	}
	if (skb_is_gso(skb)) {
		/*
		 * Segment once, here, keeping the payload in shared pages
		 * with checksums pending: the copy and the checksum happen
		 * in the crypt workers, in parallel, with the encryption.
		 * The segments' heads are made small first (gsohead.c).
		 */
		skb = cyph_gso_small_head(skb, CYPH_TX_PAGED_HEADROOM);
		segs = skb_gso_segment(skb, NETIF_F_SG | NETIF_F_HW_CSUM);
		if (IS_ERR_OR_NULL(segs)) {
			why = PTR_ERR(segs) == -ENOMEM ?
				CYPHONIC_STAT_TX_DROP_QUEUE_FULL :
				CYPHONIC_STAT_TX_DROP_BAD_INNER;
			goto drop_key;
		}
		consume_skb(skb);
	} else {
		segs = skb;
		skb_mark_not_on_list(segs);
	}
	if (unlikely(!cyph_tx_sequence(t, key, segs, &here))) {
		cyph_tx_drop_list(t, segs, CYPHONIC_STAT_TX_DROP_QUEUE_FULL);
		cyph_key_put(key);
		cyph_tunnel_put(t);
		return;
	}
	cyph_cb(segs)->tunnel = t;
	cyph_cb(segs)->key = key;
	if (here) {
		cyph_tx_crypt(segs);
		return;
	}
	err = cyph_queue_enqueue(&cd->tx_queue, segs);
	if (unlikely(err)) {
		/* The slot is ours: fill it with drops so the ring moves on. */
		why = err == -EBUSY ? CYPHONIC_STAT_TX_DROP_QUEUE_SHARE :
				      CYPHONIC_STAT_TX_DROP_QUEUE_FULL;
		for (skb = segs; skb; skb = skb->next)
			cyph_cb(skb)->why = why;
		cyph_tx_publish(segs);
	}
	return;

drop_key:
	cyph_key_put(key);
drop:
	cyph_drop(cd, t, why, skb);
	cyph_tunnel_put(t);
}

/* ---- stage 2: crypt workers ------------------------------------------- */

/* One segment less in the AEAD; the last one publishes the unit. */
static void cyph_tx_unit_put(struct sk_buff *head)
{
	if (atomic_dec_and_test(&cyph_cb(head)->pending))
		cyph_tx_publish(head);
}

/*
 * Sealed into the head: the whole DATA packet, @len bytes, is there now.
 * The fragments still hold the plaintext (pages that may be the sending
 * socket's, kept for retransmission): let go of them.
 */
static void cyph_tx_unfrag(struct sk_buff *skb, unsigned int len)
{
	cyph_skb_drop_frags(skb);
	__skb_put(skb, len - skb->len);
}

/*
 * Sealed into a page fragment of its own: the skb becomes that one
 * fragment. A train of such segments is cut apart again with no copy (see
 * train.c). The head's bytes are sealed now and the head is ours
 * (cyph_tx_grow_head()), so its data starts again behind just the room
 * for the outer headers, however much headroom the packet came with: a
 * receiver on the same host that cuts apart a train this packet leads
 * gives every packet a head as large as this headroom (skb_segment()).
 */
static void cyph_tx_to_frag(struct sk_buff *skb, void *buf, unsigned int len)
{
	cyph_sealbuf_to_skb(skb, buf, len);
	skb->data = skb->head + CYPH_TX_PAGED_HEADROOM - CYPH_DATA_HDR_LEN;
	skb_reset_tail_pointer(skb);
	skb->len = len;
}

static void cyph_tx_sealed(struct cyph_crypt_req *req, int err)
{
	struct sk_buff *head = req->unit;

	if (unlikely(err)) {
		cyph_cb(req->skb)->why =
			cyph_crypt_busy(err) ? CYPHONIC_STAT_TX_DROP_QUEUE_FULL :
					       CYPHONIC_STAT_TX_DROP_SEND_ERROR;
		if (req->dst_buf)
			skb_free_frag(req->dst_buf);
	} else if (req->dst_buf) {
		cyph_tx_to_frag(req->skb, req->dst_buf, req->dst_len);
	} else if (req->dst_len) {
		cyph_tx_unfrag(req->skb, req->dst_len);
	}
	cyph_crypt_req_free(req);
	cyph_tx_unit_put(head);
}

/*
 * A checksum the stack left to us (CHECKSUM_PARTIAL) is not computed when
 * the receiver can find its place again: the AEAD authenticates every
 * byte, and the receiver hands the packet on as CHECKSUM_PARTIAL (see
 * CYPHONIC_DATA_F_CSUM_PARTIAL). Return the DATA flag to set, or 0 once
 * the checksum is done here.
 */
static int cyph_tx_csum(struct sk_buff *skb)
{
	u16 start, offset;

	if (skb->ip_summed != CHECKSUM_PARTIAL)
		return 0;
	if (!cyph_inner_csum_loc(skb->data, skb_headlen(skb), &start, &offset) &&
	    skb_checksum_start_offset(skb) == start && skb->csum_offset == offset)
		return CYPHONIC_DATA_F_CSUM_PARTIAL;
	return skb_checksum_help(skb) ? -ENOMEM : 0;
}

/*
 * A packet is sealed out of place: the AEAD reads its head and fragments
 * and writes the whole DATA packet into a buffer of its own from
 * sealbuf.c, on pages recycled per CPU (or, larger than a page, into the
 * skb's head grown to hold it). For a segment whose payload is in page
 * fragments (a GSO segment shares the pages of the sender's queue, which
 * TCP keeps for retransmission) that costs no copy, where making the
 * fragments private (skb_cow_data()) copies every byte before encrypting
 * it. A linear packet (TCP's ACKs) costs the same either way, and sealed
 * into a fragment it rides a train that is cut apart again with no copy
 * (train.c), where a linear one is copied whole. Fragment lists and
 * zerocopy user pages take the in-place path.
 */
static bool cyph_tx_out_of_place(struct sk_buff *skb)
{
	return !skb_has_frag_list(skb) && !skb_zcopy(skb);
}

/*
 * @room bytes in front of the data and, sealing into the head, @more bytes
 * behind it: the payload now in fragments and the tag. skb_tailroom() is 0
 * for a paged skb, so the head is grown whenever the fragments hold
 * anything: a segment's head has room for its headers only.
 */
static int cyph_tx_grow_head(struct sk_buff *skb, unsigned int room,
			     unsigned int more)
{
	int head = (int)room - (int)skb_headroom(skb);
	int tail = (int)more - (int)skb_tailroom(skb);

	if (head <= 0 && tail <= 0 && !skb_cloned(skb))
		return 0;
	return pskb_expand_head(skb, max(head, 0), max(tail, 0), GFP_ATOMIC);
}

/*
 * Make the segment writable, its checksum done or left to the receiver
 * (@flags), with room for the headers in front and the tag behind; for an
 * out-of-place seal set @dst_len to the sealed length (from the DATA
 * header) and @dst_buf to a page fragment, or NULL to seal into the head.
 * Return the number of scatterlist entries of the skb, or < 0.
 */
static int cyph_tx_prepare(struct sk_buff *skb, u8 *flags,
			   unsigned int *dst_len, void **dst_buf)
{
	struct sk_buff *trailer;
	int nfrags, csum, err;

	csum = cyph_tx_csum(skb);
	if (csum < 0)
		return csum;
	*flags = csum;
	if (cyph_tx_out_of_place(skb)) {
		*dst_len = CYPH_DATA_MIN_LEN + skb->len;
		if (*dst_len <= PAGE_SIZE)
			*dst_buf = cyph_sealbuf_alloc(*dst_len);
		/*
		 * With no buffer, a linear packet is sealed in place: sealed
		 * into its own head out of place, its source and destination
		 * would be the same bytes in two scatterlists, which an AEAD
		 * need not support. A paged one is sealed into its head,
		 * which the DATA packet then fills to the tail.
		 */
		if (*dst_buf)
			err = cyph_tx_grow_head(skb, CYPH_TX_PAGED_HEADROOM, 0);
		else if (!skb_shinfo(skb)->nr_frags)
			goto in_place;
		else
			err = cyph_tx_grow_head(skb, CYPH_TX_HEADROOM, skb->data_len +
						CYPHONIC_TAG_LEN);
		if (err) {
			if (*dst_buf)
				skb_free_frag(*dst_buf);
			return -ENOMEM;
		}
		/* The head (DATA header included) and each fragment. */
		return 1 + skb_shinfo(skb)->nr_frags;
	}
in_place:
	*dst_len = 0;
	if (skb_cow_head(skb, CYPH_TX_HEADROOM))
		return -ENOMEM;
	nfrags = skb_cow_data(skb, CYPHONIC_TAG_LEN, &trailer);
	if (nfrags < 0)
		return nfrags;
	/* Only now, with the data private to us, grow the skb. */
	pskb_put(skb, trailer, CYPHONIC_TAG_LEN);
	return nfrags;
}

static void cyph_tx_seal(struct sk_buff *head, struct sk_buff *skb)
{
	struct cyph_tunnel *t = cyph_cb(head)->tunnel;
	struct cyph_key *key = cyph_cb(head)->key;
	struct cyph_crypt_req *req;
	struct cyphonic_data_hdr *hdr;
	unsigned int dst_len = 0;
	void *dst_buf = NULL;
	u8 flags = 0;
	int nfrags;

	nfrags = cyph_tx_prepare(skb, &flags, &dst_len, &dst_buf);
	req = nfrags < 0 ? NULL : cyph_crypt_req_alloc(key->tx, nfrags);
	if (unlikely(!req)) {
		if (dst_buf)
			skb_free_frag(dst_buf);
		cyph_cb(skb)->why = CYPHONIC_STAT_TX_DROP_QUEUE_FULL;
		cyph_tx_unit_put(head);
		return;
	}
	skb_reset_inner_headers(skb);
	skb_set_inner_network_header(skb, 0);
	hdr = skb_push(skb, CYPH_DATA_HDR_LEN);
	cyph_data_hdr_init(hdr, key->id, t->peer_index, cyph_cb(skb)->counter);
	hdr->flags |= flags;
	req->skb = skb;
	req->unit = head;
	req->counter = cyph_cb(skb)->counter;
	req->dst_len = dst_len;
	req->dst_buf = dst_buf;
	req->done = cyph_tx_sealed;
	cyph_encrypt(req);
}

/*
 * Stage 2, a crypt worker: seal every segment of a unit.
 *
 * A locally sent unit stops counting against its socket here, when the
 * cipher takes it, not when it is released. TCP small queues let a
 * socket have about two of its GSO packets below it: counted up to the
 * release, one flow had two units in the pipeline, one per worker, and
 * the worker done first sat idle until the sender was woken to send the
 * next (one stream kept the vCPUs 85-93% busy, docs/benchmark.md). What
 * waits in the crypt queue still counts, so the socket is still held
 * back by what the workers have not begun; what is past them is bounded
 * by the ring. Bottom halves are off so that TCP's small-queue tasklet,
 * if the socket was waiting for this, runs here when they are back on,
 * not in ksoftirqd.
 */
static void cyph_tx_crypt(struct sk_buff *head)
{
	struct sk_buff *skb;

	/*
	 * Each packet, not only the first: segmenting may have moved the
	 * owner to another one (skb_segment() gives it to the last segment
	 * of a packet socket's GSO packet), and a train must belong to no
	 * socket (train.c).
	 */
	for (skb = head; skb && !skb->destructor; skb = skb->next)
		;
	if (skb) {
		local_bh_disable();
		for (; skb; skb = skb->next)
			skb_orphan(skb);
		local_bh_enable();
	}
	cyph_unit_crypt(head, cyph_tx_seal, cyph_tx_unit_put);
}

/* ---- stage 3: the tunnel's serial stage ------------------------------- */

/*
 * The packet leaves the inner path: forget its conntrack entry, dst, mark
 * and other inner state, and let an IPv6 underlay fragment it rather than
 * drop it when it exceeds the path MTU, as IPv4 does with DF clear. The
 * inner flow hash goes too: a train carries the packets of many inner
 * flows under its first packet's hash, and a flow whose packets were
 * classified by two hashes (a multi-queue device's queues, fq_codel's
 * flows) would be reordered between them. Without one, the stack hashes
 * the outer header: every packet for one endpoint is one flow.
 */
static void cyph_tx_reset(struct sk_buff *skb)
{
	memset(skb->cb, 0, sizeof(skb->cb));
	skb_scrub_packet(skb, true);
	skb_clear_hash(skb);
	/*
	 * The sealed packet belongs to the tunnel's outer flow, not to the
	 * inner socket: it let go of the socket when the cipher took it
	 * (cyph_tx_crypt()), and lets go of its departure time here. What
	 * classifies packets behind us by socket (sch_fq's flows, a socket's
	 * transmit queue) or paces them by departure time then sees one flow
	 * per endpoint, which a train of many sockets' packets (train.c)
	 * cannot reorder.
	 */
	skb->mono_delivery_time = 0;
	skb->tstamp = 0;
	skb->ignore_df = 1;
	skb->ip_summed = CHECKSUM_NONE;
	/*
	 * An inner packet that was itself a tunnel's (VXLAN with checksum
	 * offload) must not make the outer one look encapsulated: a NIC
	 * would then take its checksum place from the inner headers'
	 * offsets, which point into what is now ciphertext.
	 */
	skb->encapsulation = 0;
}

/*
 * Ready a sealed segment for the underlay: drop it (counted) if it failed
 * or has nowhere to go, else push the relay header. Return false if it
 * was dropped.
 */
static bool cyph_tx_ready(struct cyph_tunnel *t, struct sk_buff *skb,
			  const union cyph_sockaddr *ep, u32 relay)
{
	enum cyphonic_stat why = cyph_cb(skb)->why;

	if (unlikely(why == CYPH_OK && ep->sa.sa_family == AF_UNSPEC))
		why = CYPHONIC_STAT_TX_DROP_NO_ENDPOINT;
	if (unlikely(why != CYPH_OK)) {
		cyph_drop(t->cd, t, why, skb);
		return false;
	}
	/* Headroom for this was reserved before sealing. */
	if (relay)
		cyph_relay_hdr_init(skb_push(skb, CYPH_RELAY_HDR_LEN), relay);
	cyph_tx_reset(skb);
	return true;
}

/*
 * Stage 3: put a unit's segments, in order, on this CPU's train (train.c),
 * or drop them as marked; consumes the unit with its references. Context:
 * the tunnel's TX serial stage (t->tx.release held, BH off), the only user
 * of the tunnel's route caches.
 */
static void cyph_tx_release(struct cyph_tunnel *t, struct sk_buff *head)
{
	unsigned int seq, overhead;
	struct sk_buff *skb, *next;
	union cyph_sockaddr ep;
	struct cyph_src src;
	u32 relay;

	cyph_key_put(cyph_cb(head)->key);
	seq = cyph_tunnel_endpoint(t, &ep, &src, &relay);
	overhead = CYPH_DATA_MIN_LEN + (relay ? CYPH_RELAY_HDR_LEN : 0);
	skb_list_walk_safe(head, skb, next) {
		skb_mark_not_on_list(skb);
		if (cyph_tx_ready(t, skb, &ep, relay))
			cyph_train_add(t, skb, &ep, &src, seq,
				       skb->len - overhead);
	}
	cyph_train_unit_done();
	/* The unit's reference; the caller and the train hold their own. */
	cyph_tunnel_put(t);
}

/*
 * The TX side of the pipeline. A unit is a GSO burst: a few per lock hold
 * keep the serial stage's latency low; the crypt worker that completes
 * the oldest unit on the stage's CPU releases it at once, onto the CPU's
 * train, which the end of the worker's or runner's pass sends.
 */
const struct cyph_stage_ops cyph_tx_ops = {
	.dir = CYPH_TX,
	.crypt = cyph_tx_crypt,
	.release = cyph_tx_release,
	.flush = cyph_train_flush,
	.batch = 8,
	.inline_segs = CYPH_INLINE_SEGS,
	.release_in_worker = true,
};

/**
 * cyph_xmit() - ndo_start_xmit
 * @skb: inner IPv4 or IPv6 packet, skb->data at the IP header
 * @dev: the cyphonic device
 *
 * Return: NETDEV_TX_OK always; every packet is queued, staged or dropped.
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
