/* SPDX-License-Identifier: MIT */
/*
 * The NMS registration table behind a small interface, so that a shared
 * store (Redis) can replace the in-process one when the NMS is replicated.
 *
 * A record is either active (routable) or a tombstone: after expiry or
 * DEREGISTER the record keeps its replay window for tomb_ms, so a captured
 * REGISTER cannot be replayed inside the timestamp window to resurrect the
 * registration. The in-process store hands out pointers into its table;
 * a remote store would hand out a cached copy and write it back on
 * update().
 */
#ifndef CYPHONIC_NMS_STORE_H
#define CYPHONIC_NMS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "pki/policy.h"
#include "wire/proto.h"
#include "wire/proto_crypto.h"

/* The identity a verified certificate binds. */
struct nms_ident {
	uint64_t id;
	char fqdn[256];
	uint8_t role;
	struct in_addr vip4;
	struct in6_addr vip6;
	bool has_vip4, has_vip6;
	uint8_t pubkey[32];
	int64_t not_after;	/* Unix seconds */
	struct cyph_policy policy;	/* groups and reach (access policy) */
};

#define NMS_FAM4 0x1
#define NMS_FAM6 0x2

struct nms_reg {
	struct nms_ident ident;
	bool active;
	struct proto_keys keys;
	struct proto_replay rx;		/* node -> NMS sequence window */
	uint64_t tx_seq;		/* last NMS -> node sequence */
	uint64_t reg_seq;		/* the full REGISTER that set keys */
	struct proto_ep observed;	/* source of the latest auth'd message */
	struct proto_ep addrs[PROTO_MAX_ADDRS];
	unsigned int n_addrs;
	uint8_t nat;			/* enum proto_nat, as reported */
	uint8_t families;		/* NMS_FAM* */
	int64_t expires_ms;		/* active: registration expiry;
					 * tombstone: when to forget it */
	uint8_t *cert;			/* DER, for re-checks after a CRL */
	size_t cert_len;		/* reload */
	uint32_t checked_gen;		/* engine's CRL generation it passed
					 * (shared stores: kept in the cache) */

	/* store-private links (in-process implementation) */
	struct nms_reg *next_id, *next_fqdn, *next_v4, *next_v6;
	uint64_t h_fqdn, h_v4, h_v6;	/* hashes of the keys indexed under */
	bool in_fqdn, in_v4, in_v6, counted;
	uint32_t fetch_gen;		/* shared store: read in this batch */
	uint32_t ready_gen;		/* ... and tx_seq_ready reserved in it */
	uint64_t tx_seq_ready;
};

/* A PEER_NOTIFY awaiting its NOTIFY_ACK (retransmitted with backoff). */
#define NMS_PEND_PKT_MAX 1200
struct nms_pend {
	uint64_t notify_id, node_id;
	uint64_t src_id;		/* whose request caused it (quota); 0: adopted */
	struct proto_ep to;
	int64_t next_ms;
	uint32_t rto_ms, tries;
	size_t len;
	uint8_t pkt[NMS_PEND_PKT_MAX];
};

struct nms_store;

/* Records prefetch() reads at most per batch (a receive batch). */
#define NMS_PREFETCH_MAX 64

/* An authenticated request of a batch (prepare()). */
struct nms_batch_req {
	struct nms_reg *r;		/* its sender's record, as prefetched */
	uint64_t seq;			/* to claim for claim_ttl_ms */
	int64_t claim_ttl_ms;
	const char *target_fqdn;	/* a route request's target by name, or NULL */
};

struct nms_store_ops {
	/* Any record (active or tombstone) by node id, or NULL. */
	struct nms_reg *(*get)(struct nms_store *s, uint64_t id);
	/* Active records by name or VIP, or NULL. */
	struct nms_reg *(*by_fqdn)(struct nms_store *s, const char *fqdn);
	struct nms_reg *(*by_vip4)(struct nms_store *s, struct in_addr a);
	struct nms_reg *(*by_vip6)(struct nms_store *s, const struct in6_addr *a);
	/* Inserts a new zeroed record for id (ident.id set); NULL when full. */
	struct nms_reg *(*create)(struct nms_store *s, uint64_t id);
	/* After changing identity/activity of r: refresh the indexes. */
	void (*update)(struct nms_store *s, struct nms_reg *r);
	void (*remove)(struct nms_store *s, struct nms_reg *r);
	/* Calls fn for every record; fn may remove the record it is given. */
	void (*foreach)(struct nms_store *s,
			void (*fn)(struct nms_reg *r, void *arg), void *arg);
	size_t (*count)(struct nms_store *s);	/* active records */
	void (*destroy)(struct nms_store *s);

	/*
	 * What a store shared by replicas needs besides records. Each may be
	 * NULL, meaning the in-process behaviour: the record pointers are
	 * the store, the replay window and the NMS -> node sequence live in
	 * the record, and pending notifications in the engine only.
	 */
	/* Writes back r's location, expiry or keys (identity unchanged). */
	void (*save)(struct nms_store *s, struct nms_reg *r);
	/*
	 * Claims sequence seq of node id: false when any replica has seen it
	 * in the last ttl_ms (a replay); also true when the store cannot
	 * tell (unreachable), so an outage refuses no node.
	 */
	bool (*replay_claim)(struct nms_store *s, uint64_t id, uint64_t seq,
			     int64_t ttl_ms);
	/* The next NMS -> node sequence number, unique across replicas. */
	uint64_t (*next_tx_seq)(struct nms_store *s, struct nms_reg *r);
	/* A PEER_NOTIFY sent and awaiting its ACK; retransmission due at next_ms. */
	void (*pend_add)(struct nms_store *s, const struct nms_pend *p);
	/* Acknowledged (at any replica) or given up. */
	void (*pend_done)(struct nms_store *s, uint64_t node_id, uint64_t notify_id);
	/* Still unacknowledged? Then records the next retransmission time. */
	bool (*pend_live)(struct nms_store *s, const struct nms_pend *p);
	/*
	 * Hands fn every notification whose retransmission is overdue by
	 * more than overdue_ms (its replica is gone), claimed for this one.
	 */
	void (*pend_adopt)(struct nms_store *s, int64_t now_ms, int64_t overdue_ms,
			   void (*fn)(void *arg, const struct nms_pend *p), void *arg);
	/*
	 * Batching (nms.h nms_batch_begin/nms_batch_end): the records of ids read
	 * in one round trip and served from the cache until flush(); writes
	 * (save, update, remove, pend_add, pend_done) may be deferred until
	 * the next read or flush(), which waits for them.
	 */
	void (*prefetch)(struct nms_store *s, const uint64_t *ids, size_t n);
	/*
	 * After prefetch(), for the requests whose MAC checked out: their
	 * replay claims, an NMS -> node sequence number per sender and the
	 * route targets named, in two round trips; replay_claim(),
	 * next_tx_seq() and by_fqdn() answer from those until flush().
	 */
	void (*prepare)(struct nms_store *s, const struct nms_batch_req *reqs, size_t n);
	void (*flush)(struct nms_store *s);
};

struct nms_store {
	const struct nms_store_ops *ops;
	/*
	 * The engine's clock (Unix ms) of the datagram or tick being
	 * handled, set before any call: a store computing TTLs uses it
	 * instead of its own, so tests can drive time.
	 */
	int64_t now_ms;
};

/* In-process store: hash tables, at most max records (0 = unlimited). */
struct nms_store *nms_store_mem_new(size_t max);

struct cyph_kv;
/*
 * Redis store shared by replicas (nms_store_redis.c): records, replay
 * claims, sequence numbers and pending notifications in Redis through kv
 * (owned by the store from now on), with a local cache of at most max
 * records. A record outlives its expiry by tomb_ms in Redis.
 */
struct nms_store *nms_store_redis_new(struct cyph_kv *kv, size_t max, int64_t tomb_ms);

#endif
