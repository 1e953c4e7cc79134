/* SPDX-License-Identifier: MIT */
/*
 * Per-source query budgets: a token bucket per source address (the port
 * is ignored: one host, one budget), rate queries per second with bursts
 * of up to burst.
 *
 * The table has a fixed number of slots, indexed by a keyed hash of the
 * address (the key is random per table, so a sender cannot aim at the
 * slot of another). A source whose slot holds another address takes it
 * over with a full bucket: memory stays bounded at the price of letting
 * many colliding sources through, which on the loopback address the
 * server binds to only local programs can do.
 */
#ifndef CYPHONIC_DNS_RATELIMIT_H
#define CYPHONIC_DNS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dns_ratelimit;

/*
 * slots 1..1048576; rate 0 turns limiting off (every query allowed);
 * burst 0 means burst = rate. NULL on OOM or bad arguments.
 */
struct dns_ratelimit *dns_ratelimit_new(size_t slots, uint32_t rate,
					uint32_t burst);
void dns_ratelimit_free(struct dns_ratelimit *rl);

/* Takes one token for sa's address at now_ms; false when none is left. */
bool dns_ratelimit_allow(struct dns_ratelimit *rl, const struct sockaddr *sa,
			 uint64_t now_ms);

#endif
