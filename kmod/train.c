// SPDX-License-Identifier: GPL-2.0
/*
 * UDP GSO trains. Sealed DATA packets leave for the underlay in datagram
 * trains: one route lookup, one pass through the outer IP layer,
 * netfilter and the qdisc, and one device transmit per train, where each
 * packet used to take all of them. Packets of different tunnels share a
 * train when they go to the same endpoint from the same source through
 * the same device: an adapter's general nodes all talking to one remote
 * node is the case this is for. With 20 such tunnels each carrying a slow
 * TCP flow, TCP's own bursts are one or two segments long (docs/
 * benchmark.md, "UDP GSO trains"), so trains of one tunnel's burst alone
 * stay that short.
 *
 * Each CPU builds one train at a time from what the TX serial stages
 * running there release (tx.c), in release order, so a tunnel's packets
 * keep their order (its stage always runs on one CPU). A train leaves
 * when the next packet cannot join it, when it is full, when a unit
 * (one GSO burst) leaves it at least CYPH_TRAIN_GO long, and at the
 * latest when the pass that released into it ends (the pipeline's
 * ops->flush): a serial runner's run of the stages listed on its CPU,
 * or a crypt worker's drain of its queue, which hands on after each unit
 * what has waited since an earlier tick (under a flood the queue may
 * never run empty). A packet waits for a tick and a unit at most. The
 * train is only touched with bottom halves off; only packets classified
 * alike behind us share one (see cyph_train_same_class()), and sending
 * one may nest another (a tunnel inside a tunnel: the trains of the
 * next level).
 *
 * The packets stay separate skbs: the first carries the rest as its
 * frag_list, and whoever segments the train (the egress device, or the
 * receiver's UDP layer when it crossed a veth whole) takes them apart
 * again with skb_segment(). That costs no copy for packets sealed into a
 * page fragment (their head holds at most the relay header), which is
 * how tx.c seals nearly every packet (cyph_tx_out_of_place()). A linear
 * packet would be copied whole, so only short ones ride, in trains of
 * their own kind. All but the last packet must have the first's length,
 * and the outer IP length field is 16 bits.
 */

#include <linux/percpu.h>
#include <linux/udp.h>

#include "device.h"
#include "socket.h"
#include "train.h"
#include "tunnel.h"
#include "wire.h"

#define CYPH_TRAIN_SEGS		64
#define CYPH_TRAIN_BYTES	(U16_MAX - 128)
/*
 * A train leaves once a unit makes it this long, without waiting for its
 * pass to end: long enough to share the underlay's per-skb cost 32 ways,
 * short enough that its first packet waits for the sealing of at most 31
 * more. One busy tunnel's bursts (TSO's 64 KiB) reach it on their own.
 */
#define CYPH_TRAIN_GO		32
/* The longest linear packet that rides a train (copied when cut apart). */
#define CYPH_TRAIN_LINEAR	256

enum cyph_train_kind { CYPH_TRAIN_ALONE, CYPH_TRAIN_PAGED, CYPH_TRAIN_LINEAR_KIND };

/* Consecutive packets of one tunnel in a train. */
struct cyph_train_run {
	struct cyph_tunnel *t;		/* reference held */
	unsigned int n;			/* packets */
	unsigned int len;		/* their inner bytes */
};

struct cyph_train {
	struct sk_buff *head, *tail;	/* linked through skb->next */
	unsigned int n;			/* packets */
	unsigned int bytes;		/* their UDP payload bytes */
	enum cyph_train_kind kind;
	bool closed;			/* a shorter packet ended it */
	unsigned long born;		/* jiffies when its first packet came */
	struct cyph_device *cd;
	union cyph_sockaddr ep;
	struct cyph_src src;
	/* The first run's endpoint snapshot: its route cache is used. */
	unsigned int ep_seq;
	unsigned int nruns;
	struct cyph_train_run runs[CYPH_TRAIN_SEGS];
};

/*
 * A CPU's trains, one per level of tunnels inside tunnels: sending a
 * train through a route into a cyphonic device (ours or another) sends
 * the outer packets from inside that send, where this CPU's train of
 * the level below is half sent. The network stack's own recursion limit
 * stops real loops long before; deeper nesting than this is dropped.
 */
#define CYPH_TRAIN_NEST		4

struct cyph_trains {
	unsigned int depth;		/* trains being sent right now */
	struct cyph_train train[CYPH_TRAIN_NEST];
};

static DEFINE_PER_CPU(struct cyph_trains, cyph_trains);

/* The train packets released here join, NULL when nested too deep. */
static struct cyph_train *cyph_train_here(void)
{
	struct cyph_trains *c = this_cpu_ptr(&cyph_trains);

	return c->depth < CYPH_TRAIN_NEST ? &c->train[c->depth] : NULL;
}

static enum cyph_train_kind cyph_train_kind(const struct sk_buff *skb)
{
	if (skb_has_frag_list(skb))
		return CYPH_TRAIN_ALONE;
	if (skb_shinfo(skb)->nr_frags)
		return skb_headlen(skb) <= CYPH_RELAY_HDR_LEN ?
		       CYPH_TRAIN_PAGED : CYPH_TRAIN_ALONE;
	return skb->len <= CYPH_TRAIN_LINEAR ? CYPH_TRAIN_LINEAR_KIND :
					       CYPH_TRAIN_ALONE;
}

/*
 * A train is classified behind us as its first packet is: by its
 * priority (bands). A packet of another priority must not ride it: its
 * flow would be reordered between two classes. (Sockets, departure times
 * and flow hashes are gone by now: tx.c's cyph_tx_reset().)
 */
static bool cyph_train_same_class(const struct sk_buff *a,
				  const struct sk_buff *b)
{
	return a->priority == b->priority;
}

static bool cyph_train_joins(const struct cyph_train *tr,
			     const struct cyph_device *cd,
			     const struct sk_buff *skb,
			     enum cyph_train_kind kind,
			     const union cyph_sockaddr *ep,
			     const struct cyph_src *src)
{
	return tr->cd == cd && tr->kind == kind && kind != CYPH_TRAIN_ALONE &&
	       !tr->closed && tr->n < CYPH_TRAIN_SEGS &&
	       tr->bytes + skb->len <= CYPH_TRAIN_BYTES &&
	       skb->len <= tr->head->len && cyph_sockaddr_equal(&tr->ep, ep) &&
	       cyph_src_equal(ep->sa.sa_family, &tr->src, src) &&
	       cyph_train_same_class(tr->head, skb);
}

/*
 * Make the train one UDP GSO skb: its first packet, with the others as
 * its frag_list. Their truesize is added to the head's, as GRO does: a
 * qdisc on the underlay bounds its memory by truesize (fq_codel's
 * memory_limit, cake's buffer), and a train charged for its first packet
 * only would let it hold 32-64 times more than it counts. None of them
 * belongs to a socket (tx.c's cyph_tx_crypt()), so segmenting the train
 * gives no socket anything back. The outer checksum is left to whoever
 * segments the train, as the stack expects of a GSO skb (the tunnel core
 * writes its pseudo-header sum).
 */
static void cyph_train_build(struct sk_buff *head, unsigned int n)
{
	struct skb_shared_info *shinfo = skb_shinfo(head);
	unsigned int size = head->len;
	struct sk_buff *skb;

	shinfo->frag_list = head->next;
	head->next = NULL;
	skb_walk_frags(head, skb) {
		head->len += skb->len;
		head->data_len += skb->len;
		head->truesize += skb->truesize;
	}
	shinfo->gso_size = size;
	shinfo->gso_type = SKB_GSO_UDP_L4;
	shinfo->gso_segs = n;
	head->ip_summed = CHECKSUM_PARTIAL;
	head->csum_start = skb_headroom(head) - sizeof(struct udphdr);
	head->csum_offset = offsetof(struct udphdr, check);
}

/* Count a train that did not leave against each of its tunnels. */
static void cyph_train_dropped(struct cyph_train *tr, struct sk_buff *skb,
			       int err)
{
	struct cyph_train_run *last = &tr->runs[tr->nruns - 1];
	enum cyphonic_stat why;
	unsigned int i;

	why = err == -ENOTCONN ? CYPHONIC_STAT_TX_DROP_NO_SOCKET :
	      err == -ELOOP ? CYPHONIC_STAT_TX_DROP_ROUTE_LOOP :
			      CYPHONIC_STAT_TX_DROP_SEND_ERROR;
	for (i = 0; i + 1 < tr->nruns; i++)
		cyph_count(tr->cd, tr->runs[i].t, why, tr->runs[i].n);
	/* The skb is the whole train: dropped once, counted per packet. */
	cyph_count(tr->cd, last->t, why, last->n - 1);
	if (why == CYPHONIC_STAT_TX_DROP_SEND_ERROR)
		DEV_STATS_ADD(tr->cd->dev, tx_errors, tr->n - 1);
	else
		DEV_STATS_ADD(tr->cd->dev, tx_dropped, tr->n - 1);
	cyph_drop(tr->cd, last->t, why, skb);
}

/*
 * Every TX counter, the device's included, counts the inner packets as
 * before sealing: what the peer's RX counters count on arrival.
 */
static void cyph_train_sent(struct cyph_train *tr)
{
	unsigned int i, len = 0;

	for (i = 0; i < tr->nruns; i++) {
		struct cyph_train_run *run = &tr->runs[i];

		cyph_count(tr->cd, run->t, CYPHONIC_STAT_TX_PACKETS, run->n);
		cyph_count(tr->cd, run->t, CYPHONIC_STAT_TX_BYTES, run->len);
		len += run->len;
	}
	if (tr->n > 1)
		cyph_count(tr->cd, tr->runs[0].t, CYPHONIC_STAT_TX_GSO_SENDS, 1);
	if (tr->nruns > 1)
		cyph_count(tr->cd, NULL, CYPHONIC_STAT_TX_GSO_SHARED, 1);
	dev_sw_netstats_tx_add(tr->cd->dev, tr->n, len);
}

/* Send the train, with its first tunnel's route cache, and start anew. */
static void cyph_train_send(struct cyph_train *tr)
{
	struct cyph_tunnel *first = tr->runs[0].t;
	sa_family_t family = tr->ep.sa.sa_family;
	struct cyph_src tried = tr->src;
	struct sk_buff *skb = tr->head;
	unsigned int i;
	int err;

	if (tr->n > 1)
		cyph_train_build(skb, tr->n);
	/*
	 * Packets released from inside the send (a tunnel inside this one,
	 * on this CPU) go on the train of the next level, sent before this
	 * one is done with: nothing is left on it for a pass far away.
	 */
	this_cpu_inc(cyph_trains.depth);
	err = cyph_sock_send(tr->cd, skb, &tr->ep, &tr->src,
			     cyph_tunnel_route(first, family));
	cyph_train_flush(true);
	this_cpu_dec(cyph_trains.depth);
	if (unlikely(err))
		cyph_train_dropped(tr, skb, err);
	else
		cyph_train_sent(tr);
	/* The endpoint moved meanwhile: the route cached may be stale. */
	cyph_tunnel_endpoint_end(first, tr->ep_seq);
	for (i = 0; i < tr->nruns; i++) {
		/* The address the peers contacted is gone: routing picks. */
		if (unlikely(!cyph_src_equal(family, &tr->src, &tried)))
			cyph_tunnel_forget_src(tr->runs[i].t, &tried);
		/* Sent first: a stage that reads zero sees the send (placement.c). */
		smp_mb__before_atomic();
		atomic_dec(&tr->runs[i].t->tx.on_train);
		cyph_tunnel_put(tr->runs[i].t);
	}
	tr->head = NULL;
	tr->tail = NULL;
	tr->n = 0;
	tr->bytes = 0;
	tr->nruns = 0;
	tr->closed = false;
}

/**
 * cyph_train_add() - put a sealed packet on this CPU's train
 * @t: its tunnel; the train takes a reference of its own
 * @skb: the packet, outer headers still to come; consumed
 * @ep: where it goes
 * @src: the local address to send it from (none: routing picks)
 * @ep_seq: @t's endpoint snapshot that @ep and @src come from
 * @inner_len: its inner packet's length, for the counters
 *
 * Context: the tunnel's TX serial stage, bottom halves off.
 */
void cyph_train_add(struct cyph_tunnel *t, struct sk_buff *skb,
		    const union cyph_sockaddr *ep, const struct cyph_src *src,
		    unsigned int ep_seq, unsigned int inner_len)
{
	struct cyph_train *tr = cyph_train_here();
	enum cyph_train_kind kind = cyph_train_kind(skb);
	struct cyph_train_run *run;

	if (unlikely(!tr)) {
		cyph_drop(t->cd, t, CYPHONIC_STAT_TX_DROP_ROUTE_LOOP, skb);
		return;
	}
	if (tr->n && !cyph_train_joins(tr, t->cd, skb, kind, ep, src))
		cyph_train_send(tr);
	skb->next = NULL;
	if (!tr->n) {
		tr->born = jiffies;
		tr->head = skb;
		tr->kind = kind;
		tr->cd = t->cd;
		tr->ep = *ep;
		tr->src = *src;
		tr->ep_seq = ep_seq;
	} else {
		tr->tail->next = skb;
		/* A shorter packet can only be the last of a train. */
		tr->closed = skb->len < tr->head->len;
	}
	tr->tail = skb;
	tr->n++;
	tr->bytes += skb->len;
	run = tr->nruns ? &tr->runs[tr->nruns - 1] : NULL;
	if (!run || run->t != t) {
		run = &tr->runs[tr->nruns++];
		kref_get(&t->ref);
		/* Its stage may not move while this run waits (placement.c). */
		atomic_inc(&t->tx.on_train);
		run->t = t;
		run->n = 0;
		run->len = 0;
	}
	run->n++;
	run->len += inner_len;
	if (kind == CYPH_TRAIN_ALONE || tr->closed || tr->n == CYPH_TRAIN_SEGS)
		cyph_train_send(tr);
}

/*
 * A unit's packets are all on the train: send it now if it is long
 * enough. Context: as for cyph_train_add().
 */
void cyph_train_unit_done(void)
{
	struct cyph_train *tr = cyph_train_here();

	if (tr && tr->n >= CYPH_TRAIN_GO)
		cyph_train_send(tr);
}

/*
 * Send this CPU's train, if any (@all), or if it has waited since an
 * earlier tick. Context: bottom halves off.
 */
void cyph_train_flush(bool all)
{
	struct cyph_train *tr = cyph_train_here();

	if (tr && tr->n && (all || time_after(jiffies, tr->born)))
		cyph_train_send(tr);
}

/*
 * Send every train of this CPU (a CPU going offline: placement.c). Context:
 * bottom halves off.
 */
void cyph_train_send_all(void)
{
	struct cyph_trains *c = this_cpu_ptr(&cyph_trains);
	int i;

	for (i = 0; i < CYPH_TRAIN_NEST; i++)
		if (c->train[i].n)
			cyph_train_send(&c->train[i]);
}
