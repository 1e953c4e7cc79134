/* SPDX-License-Identifier: MIT */
/*
 * Queries waiting for a name the table does not hold yet: the responder
 * said DNS_MISS, the daemon asks the NMS (tunnel on demand), and the
 * waiting queries are answered when it knows, or with SERVFAIL when the
 * deadline passes. Pure bookkeeping, no I/O and no clock of its own.
 *
 * The list is bounded (entries given at creation, each query at most
 * DNS_PENDING_QUERY_MAX bytes): a full list refuses, so a flood of
 * unknown names costs a fixed amount of memory and gets SERVFAIL. Every
 * operation scans the whole list, which is fine for the hundreds of
 * entries a node needs.
 */
#ifndef CYPHONIC_DNS_PENDING_H
#define CYPHONIC_DNS_PENDING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "names.h"
#include "responder.h"

/* Real queries are well below this (a name, a type, an OPT record). */
#define DNS_PENDING_QUERY_MAX 512

struct dns_pending_query {
	char name[DNS_NAME_TEXT_MAX + 1];	/* normalized, as in DNS_MISS */
	uint64_t deadline_ms;
	enum dns_transport transport;
	struct sockaddr_storage src;		/* DNS_UDP: where to answer */
	socklen_t srclen;
	uint64_t conn_id;			/* DNS_TCP: the connection */
	uint16_t len;
	uint8_t msg[DNS_PENDING_QUERY_MAX];
};

struct dns_pending;

/* max 1..65536 entries; NULL on OOM or a bad size. */
struct dns_pending *dns_pending_new(size_t max);
void dns_pending_free(struct dns_pending *p);

/*
 * Copies q in. Returns 1 when it is the first query waiting for its name
 * (the caller starts a lookup), 0 when a lookup for the name is already
 * waiting, -1 when the list is full or q->len is 0 or too big.
 */
int dns_pending_add(struct dns_pending *p, const struct dns_pending_query *q);

/*
 * Each removes the matching queries and calls cb with each (a copy: cb
 * may add to the list). Return how many matched.
 */
typedef void (*dns_pending_cb)(void *arg, const struct dns_pending_query *q);
/* Those waiting for name (any case, trailing dot accepted). */
size_t dns_pending_take(struct dns_pending *p, const char *name,
			dns_pending_cb cb, void *arg);
/* Those whose deadline is at or before now_ms. */
size_t dns_pending_expire(struct dns_pending *p, uint64_t now_ms,
			  dns_pending_cb cb, void *arg);
/* Drops (without cb) those of a TCP connection that went away. */
size_t dns_pending_drop_conn(struct dns_pending *p, uint64_t conn_id);

size_t dns_pending_count(const struct dns_pending *p);
/* The earliest deadline, or UINT64_MAX when the list is empty. */
uint64_t dns_pending_next_deadline(const struct dns_pending *p);

#endif
