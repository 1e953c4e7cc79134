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
};

#define NMS_FAM4 0x1
#define NMS_FAM6 0x2

struct nms_reg {
	struct nms_ident ident;
	bool active;
	struct proto_keys keys;
	struct proto_replay rx;		/* node -> NMS sequence window */
	uint64_t tx_seq;		/* last NMS -> node sequence */
	struct proto_ep observed;	/* source of the latest auth'd message */
	struct proto_ep addrs[PROTO_MAX_ADDRS];
	unsigned int n_addrs;
	uint8_t nat;			/* enum proto_nat, as reported */
	uint8_t families;		/* NMS_FAM* */
	int64_t expires_ms;		/* active: registration expiry;
					 * tombstone: when to forget it */
	uint8_t *cert;			/* DER, for re-checks after a CRL */
	size_t cert_len;		/* reload */

	/* store-private links (in-process implementation) */
	struct nms_reg *next_id, *next_fqdn, *next_v4, *next_v6;
	uint64_t h_fqdn, h_v4, h_v6;	/* hashes of the keys indexed under */
	bool in_fqdn, in_v4, in_v6, counted;
};

struct nms_store;

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
};

struct nms_store {
	const struct nms_store_ops *ops;
};

/* In-process store: hash tables, at most max records (0 = unlimited). */
struct nms_store *nms_store_mem_new(size_t max);

#endif
