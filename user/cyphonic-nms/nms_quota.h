/* SPDX-License-Identifier: MIT */
/*
 * Per-node quotas of the NMS (issue 12): token buckets for route requests
 * and relay grants, and a count of the notification slots a node's
 * requests occupy. One node registered at the NMS could otherwise ask for
 * 13k routes a second, make the NMS notify (and the TRS relay for) peers
 * at that rate, and fill the notification table for everyone.
 *
 * The state lives in a fixed table indexed by a hash of the node id: a
 * node whose slot another node took starts with full buckets again, which
 * is lenient but bounds memory whatever the number of nodes. Per replica
 * (not in the shared store): N replicas allow N times the rate to a node
 * that spreads its requests, which ECMP's per-flow hashing does not do.
 */
#ifndef CYPHONIC_NMS_QUOTA_H
#define CYPHONIC_NMS_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "asguard/srckey.h"

#define NMS_QUOTA_SLOTS 8192

struct nms_bucket {
	double tokens;
	int64_t ms;		/* last refill; 0: never used (full) */
};

struct nms_quota_slot {
	uint64_t id;		/* node id; 0: free */
	struct nms_bucket route, relay;
	uint32_t pending;	/* notifications its requests have in the table */
};

/* Takes one token of a bucket filling at rate/s up to burst; rate 0: unlimited. */
bool nms_bucket_take(struct nms_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ms);
/* The slot of node id in table[NMS_QUOTA_SLOTS], reset if it held another node. */
struct nms_quota_slot *nms_quota_slot(struct nms_quota_slot *table, uint64_t id);
/* Node id's slot if it still holds id, else NULL (for releasing). */
struct nms_quota_slot *nms_quota_find(struct nms_quota_slot *table, uint64_t id);

/*
 * Per-source budget for unauthenticated work (full REGISTERs: a chain
 * check and a signature check each): one bucket per source key (asguard
 * srckey.h: an IPv4 address, or the /64 of an IPv6 one, as the AS counts;
 * ports ignored: one host, which owns a whole /64 as a rule and would
 * otherwise get 2^64 budgets), in a table of NMS_SOURCE_SLOTS hashed by
 * the key. It bounds what one source costs; spoofed sources need the
 * stateless cookie (nms_cookie.h).
 * A second bucket bounds the COOKIE answers one address gets: a flood from
 * spoofed sources would otherwise cost a send per datagram (on loopback
 * three quarters of the NMS's time under a 50k/s flood went to sending
 * COOKIEs) and reflect that many datagrams at the addresses it names.
 *
 * Unlike the per-node table, a slot is not reset when another source
 * lands in it: sources are the sender's choice, and two that share a
 * slot would get a full burst at every alternation. The slot is chosen
 * by a hash keyed with a random seed (no aiming at another source's
 * slot), one of two candidates; a slot of another source is taken over
 * only once its buckets are full again (idle). When both candidates are
 * busy the source shares the first: a collision makes a budget
 * stricter, never larger.
 */
#define NMS_SOURCE_SLOTS 4096

struct nms_source_slot {
	struct cyph_srckey key;
	struct nms_bucket reg;		/* full REGISTERs */
	struct nms_bucket cookie;	/* COOKIE answers */
};

/* The buckets' rates and bursts (rate 0: unlimited), to tell an idle slot. */
struct nms_source_limits {
	uint32_t reg_rate, reg_burst;
	uint32_t cookie_rate, cookie_burst;
};

struct proto_ep;
/*
 * The slot for from's source key in table[NMS_SOURCE_SLOTS], by a hash
 * keyed with seed (cyph_srckey_seed()): its own, an idle candidate taken
 * over, or the busy slot of another source, shared.
 */
struct nms_source_slot *nms_source_slot(struct nms_source_slot *table, uint64_t seed,
					const struct proto_ep *from,
					const struct nms_source_limits *lim, int64_t now_ms);

#endif
