// SPDX-License-Identifier: MIT
/*
 * The login page's attempt budget per source address (portal.c): BURST
 * attempts, one more every REFILL_MS, in a table of CYD_BUDGET_SLOTS
 * addresses. Pure logic (the clock is an argument), so the unit test
 * drives it.
 */
#include <string.h>
#include "internal.h"

#define BURST 5
#define REFILL_MS 10000

/* The slot's budget at now: refilled, as far as time allows. */
static void refill(struct cyd_budget_slot *b, uint64_t now)
{
	while (b->tokens < BURST && now - b->last_ms >= REFILL_MS) {
		b->tokens++;
		b->last_ms += REFILL_MS;
	}
	if (b->tokens == BURST)
		b->last_ms = now;
}

/*
 * Takes one attempt from addr's budget: false when it is spent. A new
 * address takes a free slot or one whose budget has refilled (dropping
 * it loses nothing); never one that still limits its address, or a
 * device could wipe its spent budget by sending from other addresses
 * until its slot is reused. With every slot limiting, the new address
 * waits (false) until one has refilled.
 */
bool cyd_budget_take(struct cyd_budget *t, const uint8_t addr[16], uint64_t now)
{
	struct cyd_budget_slot *b = NULL, *spare = NULL;

	for (int i = 0; i < CYD_BUDGET_SLOTS && !b; i++) {
		struct cyd_budget_slot *x = &t->slots[i];

		if (x->last_ms && !memcmp(x->addr, addr, 16)) {
			b = x;
		} else if (!spare) {
			if (x->last_ms)
				refill(x, now);
			if (!x->last_ms || x->tokens == BURST)
				spare = x;
		}
	}
	if (!b) {
		if (!spare)
			return false;
		b = spare;
		memcpy(b->addr, addr, 16);
		b->tokens = BURST;
		b->last_ms = now;
	}
	refill(b, now);
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}
