/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parallel packet pipeline shared by TX and RX (see docs/pipeline.md).
 *
 *   arrival ──► reserve seq in the tunnel's ring ──► device crypt queue:
 *          (drop + count here when full)   the tunnel's own FIFO, served
 *                                          in turn with the others (DRR);
 *                                          drop + count when full or the
 *                                          tunnel is over its share
 *                                                          │
 *                    per-CPU crypt workers (any order) ◄───┘
 *                                 │ publish into the ring slot
 *                                 ▼
 *          the tunnel's serial stage, always on one CPU: pop in seq order,
 *          TX: send on the UDP socket; RX: replay check, roam, deliver
 *
 * A unit is what occupies one ring slot, a list linked through skb->next:
 * on TX the segments of one GSO packet, on RX one tunnel's consecutive
 * datagrams of a received train (rx.c), often just one. The unit's head
 * carries the state below in skb->cb while it is inside the pipeline.
 */
#ifndef _CYPH_PIPELINE_H
#define _CYPH_PIPELINE_H

#include <linux/cyphonic.h>
#include <linux/llist.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>

#include "codel.h"
#include "load.h"
#include "ring.h"
#include "sched.h"
#include "share.h"

struct cyph_device;
struct cyph_key;
struct cyph_tunnel;

/*
 * Units in one device queue (per direction; RX counts datagrams, see
 * ops->queue_packets) and in one tunnel's rings. A TX unit may be a GSO
 * burst of many packets, an RX unit is often one datagram: the RX ring
 * is larger so that a peer's bursts fit.
 */
#define CYPH_QUEUE_LEN		1024
#define CYPH_TX_RING_LEN	512
#define CYPH_RX_RING_LEN	1024
/* Units a serial stage releases per run of its CPU's runner. */
#define CYPH_SERIAL_BUDGET	128

/* skb->cb->why of a packet that is fine so far. */
#define CYPH_OK			__CYPHONIC_STAT_MAX

struct cyph_cb {
	struct cyph_tunnel *tunnel;	/* unit head: reference held */
	struct cyph_key *key;		/* unit head: reference held */
	u64 counter;			/* every packet: its DATA counter */
	/* unit head: the next unit of its tunnel in the crypt queue */
	struct sk_buff *qnext;
	u32 seq;			/* unit head: its ring slot */
	union {
		/* unit head, in the crypt queue: when it came (codel.h) */
		u32 enqueued;
		/* unit head, in its crypt: packets in the AEAD */
		atomic_t pending;
	};
	int iif;			/* RX: arrival interface, for IPv6 scope */
	u16 why;			/* every packet: CYPH_OK or a drop reason */
	u16 cpu;			/* RX unit head: the CPU it arrived on */
};

static inline struct cyph_cb *cyph_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct cyph_cb) > sizeof(skb->cb));
	return (struct cyph_cb *)skb->cb;
}

enum cyph_dir { CYPH_TX, CYPH_RX };

/*
 * What a direction plugs into the pipeline: its two stages and how its
 * serial stage batches. The pipeline calls them and knows nothing else
 * of TX or RX.
 */
struct cyph_stage_ops {
	enum cyph_dir dir;
	/* Stage 2, in a crypt worker: the unit ends in cyph_serial_publish(). */
	void (*crypt)(struct sk_buff *head);
	/* Stage 3, in order: consumes the unit and its references. */
	void (*release)(struct cyph_tunnel *t, struct sk_buff *head);
	/*
	 * Hand on what release() kept back to batch with other tunnels'
	 * units (TX: the CPU's train), or NULL: all of it (@all), or what
	 * has waited since an earlier tick. Called with BH off: with @all at
	 * the end of every pass of serial stages or crypt workers on a CPU,
	 * after a runner's stage that fed the stack (hand_on), and right
	 * after a release outside any pass; without, after each unit of a
	 * crypt worker's pass and each other stage of a runner's.
	 */
	void (*flush)(bool all);
	/*
	 * Around each batch the serial runner releases, with BH off, or
	 * NULL: keep what the batch releases (RX: in the CPU's receive cell),
	 * then hand it on from the runner itself (RX: feed it to the stack
	 * there, instead of waiting for the CPU's softirq).
	 */
	void (*hold)(struct cyph_tunnel *t);
	void (*hand_on)(struct cyph_tunnel *t);
	/* Units released per hold of the release lock. */
	unsigned int batch;
	/* Packets of a unit crypted where it arrives, at most (inline). */
	unsigned int inline_segs;
	/*
	 * Charge a unit's packets, not the unit, to the crypt queue's
	 * length (RX: a sender makes units of datagrams not authenticated
	 * yet, so the queue bounds those; TX units are GSO bursts already
	 * charged to their sockets).
	 */
	bool queue_packets;
	/*
	 * Release right in the crypt worker that completes the oldest unit
	 * when it runs on the stage's CPU (TX), instead of always waking the
	 * serial runner (RX, whose batches let GRO merge a flow's packets).
	 */
	bool release_in_worker;
};

/*
 * A device's crypt queue for one direction, drained by per-CPU workers.
 * Each tunnel waits in its own FIFO (in its struct cyph_serial) and the
 * workers take from the tunnels in turn, by bytes (sched.c); each tunnel
 * is held to its share of the queue's units (share.c).
 */
struct cyph_worker {
	struct work_struct work;
	struct cyph_queue *queue;
	/* Woken and not yet found the queue empty; under the queue's lock. */
	bool busy;
};

struct cyph_queue {
	spinlock_t lock;		/* @drr, @len and every tunnel's FIFO */
	struct cyph_drr drr;		/* tunnels with units, in turn order */
	/* units queued (ops->queue_packets: packets), at most CYPH_QUEUE_LEN */
	unsigned int len;
	struct cyph_worker __percpu *worker;
	struct cyph_device *cd;
	atomic_t next;			/* round-robin over the worker CPUs */
	struct cyph_share share;
	const struct cyph_stage_ops *ops;
};

/* A token bucket of bytes, refilled per jiffy. */
struct cyph_bucket {
	unsigned long stamp;		/* jiffies of the last refill */
	unsigned int tokens;		/* bytes */
};

/*
 * One direction of a tunnel's pipeline: its reorder ring and its serial
 * stage (serial.c). The stage runs on one CPU at a time (@cpu), under
 * @release: in that CPU's serial runner or, on TX, right in the crypt
 * worker that completed the oldest unit when it runs on that CPU.
 */
struct cyph_serial {
	spinlock_t produce;	/* producers: ring slot (TX: and counters) */
	spinlock_t release;	/* the consumer: pop and release in order */
	struct cyph_ring ring;
	struct llist_node node;	/* on its CPU's ready list */
	unsigned long flags;	/* CYPH_SERIAL_LISTED below */
	struct cyph_tunnel *tunnel;
	const struct cyph_stage_ops *ops;	/* the device queue's */
	atomic_t queued;	/* units in the device's crypt queue */
	/* Its units in the device's crypt queue, under the queue's lock. */
	struct sk_buff *qhead, *qtail;
	struct cyph_drr_flow flow;
	struct cyph_codel codel;	/* its FIFO's wait, under the queue's lock */
	/* Inline budget (cyph_serial_inline()), under @produce. */
	struct cyph_bucket inline_budget;
	/* The CPU it runs on, -1 until its first unit; see cyph_serial_arrive(). */
	int cpu;
	/*
	 * Under @release: the CPU it last released on while it may still
	 * hold its packets, -1 once a move found nothing left there.
	 */
	int ran;
	/* RX: the CPU the last authenticated packet arrived on, -1: none. */
	int hint;
	/* TX: its runs of packets on CPUs' trains, not yet sent. */
	atomic_t on_train;
	/* When it last released a unit (ktime_get_mono_fast_ns()). */
	atomic64_t released;
	/* Half-lives it released in, decaying (load.h), under @release. */
	struct cyph_load load;
	/* Under @produce: when it may next weigh leaving its CPU (jiffies). */
	unsigned long weigh_at;
};

/* Set while the stage is on a CPU's ready list, cleared when it runs. */
#define CYPH_SERIAL_LISTED	0

/*
 * A unit of at most ops->inline_segs packets (TX: CYPH_INLINE_SEGS; RX:
 * a received train's, whose datagrams were each a unit of their own
 * before they were gathered) is crypted right where it
 * arrives (the sender's xmit, the UDP receive softirq), without the hand-
 * over to a worker, on one of the device's worker CPUs, while the crypt
 * queue is empty and the tunnel stays within CYPH_INLINE_RATE bytes per
 * second (bursts of CYPH_INLINE_BURST) and the CPU, over all tunnels and
 * devices, within CYPH_INLINE_CPU_RATE per direction: what is crypted
 * inline often runs in a softirq, outside the queue's round robin, and
 * one remote endpoint's datagrams, whatever their tunnels, arrive on
 * one CPU. A slow flow's short bursts (TCP sizes them to its rate) and
 * its ACKs would otherwise pay a queueing, a wake-up and a thread switch
 * per packet or two. Faster tunnels go
 * through the workers, in parallel, and a flood through the queue and
 * its fair share like any.
 */
#define CYPH_INLINE_SEGS	2
#define CYPH_INLINE_RATE	(1024U * 1024)
#define CYPH_INLINE_BURST	(64U * 1024)
#define CYPH_INLINE_CPU_RATE	(16U * 1024 * 1024)
#define CYPH_INLINE_CPU_BURST	(256U * 1024)

/*
 * A stage follows its units to the CPU they arrive on, but only between
 * bursts: when everything it took was released this long ago.
 */
#define CYPH_SERIAL_SETTLE_NS	(1 * NSEC_PER_MSEC)
/*
 * A stage whose CPU stopped being a worker waits for that CPU to hand on
 * what it released there; past this, a backlog still busy is others'.
 */
#define CYPH_SERIAL_LEAVE_NS	(20 * NSEC_PER_MSEC)

/*
 * The stages that released on each CPU lately, decaying (load.h), per
 * direction: a tunnel's TX and RX stages are one flow's two halves (its
 * data and its ACKs), best on one CPU, so neither weighs the other.
 */
DECLARE_PER_CPU(struct cyph_load, cyph_serial_load[2]);
/* When a stage last left each CPU to even the load out (jiffies). */
DECLARE_PER_CPU(unsigned long, cyph_serial_evened);

/* Where a stage runs (placement.c). */
unsigned int cyph_serial_cpu(struct cyph_serial *s);
bool cyph_serial_here(struct cyph_serial *s);
void cyph_serial_arrive(struct cyph_serial *s);
bool cyph_serial_inline(struct cyph_serial *s, const struct sk_buff *head);

void cyph_serial_publish(struct cyph_serial *s, u32 seq, void *item);
void cyph_serial_init_cpus(void);
/* A CPU going offline hands on what its stages released (placement.c). */
int cyph_serial_hotplug_init(void);
void cyph_serial_hotplug_exit(void);
void cyph_pass_flush(bool all);
/* The work functions of the passes (see serial.c). */
void cyph_queue_work(struct work_struct *work);
void cyph_serial_cpu_work(struct work_struct *work);

static inline int cyph_serial_init(struct cyph_serial *s,
				   struct cyph_tunnel *t,
				   const struct cyph_queue *q, unsigned int size)
{
	spin_lock_init(&s->produce);
	spin_lock_init(&s->release);
	s->flags = 0;
	s->tunnel = t;
	s->ops = q->ops;
	atomic_set(&s->queued, 0);
	s->qhead = NULL;
	s->qtail = NULL;
	cyph_drr_flow_init(&s->flow);
	cyph_codel_init(&s->codel);
	s->inline_budget.stamp = jiffies;
	s->inline_budget.tokens = CYPH_INLINE_BURST;
	s->cpu = -1;
	s->ran = -1;
	s->hint = -1;
	atomic_set(&s->on_train, 0);
	atomic64_set(&s->released, 0);
	s->load = (struct cyph_load){ .stamp = jiffies };
	s->weigh_at = jiffies;
	return cyph_ring_init(&s->ring, size, 0, GFP_KERNEL_ACCOUNT);
}

/* Every unit has been released: units hold the tunnel, the tunnel this. */
static inline void cyph_serial_free(struct cyph_serial *s)
{
	cyph_ring_free(&s->ring);
}

/* The module's workqueue: crypt workers and serial runners. */
extern struct workqueue_struct *cyph_wq;

int cyph_pipeline_init(void);
void cyph_pipeline_exit(void);

int cyph_queue_init(struct cyph_queue *q, struct cyph_device *cd,
		    const struct cyph_stage_ops *ops);
void cyph_queue_destroy(struct cyph_queue *q);
int cyph_queue_enqueue(struct cyph_queue *q, struct sk_buff *head);
void cyph_unit_crypt(struct sk_buff *head,
		     void (*one)(struct sk_buff *head, struct sk_buff *skb),
		     void (*put)(struct sk_buff *head));

unsigned int cyph_worker_count(const struct cyph_device *cd);
unsigned int cyph_worker_cpu(const struct cyph_device *cd, unsigned int i);
bool cyph_worker_cpu_is(const struct cyph_device *cd, unsigned int cpu);
bool cyph_worker_cpu_here(const struct cyph_device *cd);

#endif /* _CYPH_PIPELINE_H */
