/* SPDX-License-Identifier: MIT */
/*
 * Per-source budgets for handshake starts: a token bucket per source in a
 * fixed, direct-mapped table (memory does not grow with the number of
 * sources). The slot is chosen by a keyed hash (an ARX mix in SipHash's
 * round structure, keyed with a random seed), so a sender cannot aim at
 * another source's slot. A source whose slot holds another source with a
 * partly spent bucket shares that bucket: collisions only ever make a
 * budget stricter, never larger. An idle slot (full bucket) is taken over.
 */
#ifndef CYPHONIC_E2E_BUDGET_H
#define CYPHONIC_E2E_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E2E_SRC_MAX 32		/* longest source identifier (a sockaddr_in6 fits) */

struct e2e_budget;

/* slots sources tracked, burst tokens each, refilled at per_sec tokens/s. */
struct e2e_budget *e2e_budget_new(unsigned int slots, unsigned int burst, unsigned int per_sec);
void e2e_budget_free(struct e2e_budget *b);

/*
 * Takes one token from src's bucket at now_ms (monotonic). false when the
 * bucket is empty (or src is longer than E2E_SRC_MAX): drop the datagram.
 */
bool e2e_budget_take(struct e2e_budget *b, const void *src, size_t srclen, int64_t now_ms);

#endif
