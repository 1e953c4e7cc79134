/* SPDX-License-Identifier: MIT */
/*
 * dns: the node's DNS responder for the CYPHONIC domain, so that
 * `ping peer.<domain>` resolves to the peer's VIP (docs/dns.md). ldns
 * (libldns) reads and writes the messages.
 *
 *	names.h		the name table: FQDN -> VIPs with TTLs, bounded
 *	responder.h	one query in, one response out (no I/O)
 *	pending.h	queries waiting for a name to be looked up elsewhere
 *	ratelimit.h	per-source token buckets
 *	server.h	UDP and TCP on the event loop, counters, misses
 *
 * May include: runtime
 *
 * runtime only for the event loop (server.c). The "May include:" line is
 * the rule scripts/check-lib-deps.sh enforces on every file in this
 * folder.
 */
#ifndef CYPHONIC_LIB_DNS_H
#define CYPHONIC_LIB_DNS_H
#include "names.h"
#include "pending.h"
#include "ratelimit.h"
#include "responder.h"
#include "server.h"
#endif
