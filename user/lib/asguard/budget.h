/* SPDX-License-Identifier: MIT */
/*
 * Failed-login budgets, one table per kind of key (accounts, source
 * addresses). A key may fail free_failures times; after that each failure
 * closes it for a backoff that doubles (backoff_ms, 2x, 4x, ... up to
 * max_backoff_ms), and it gets one attempt at a time. Attempts in flight
 * count as failures until they end, so a burst of parallel attempts
 * cannot overrun the budget before the first answer: always when the
 * policy is strict (accounts: one account rarely logs in in parallel),
 * else only once the key has failed (addresses: a NAT may log in many
 * nodes at once, but after a failure it gets no parallel head start).
 * A success clears an
 * account's count (the caller decides: an address's is not cleared, or one
 * valid account would reset the address's budget for guessing others).
 * Counts are forgotten forget_ms after the last failure.
 *
 * The table is fixed in size (set-associative, 4 ways, keyed hash): when
 * a set is full the entry least worth keeping goes (unlocked before
 * locked, then oldest); entries with attempts in flight stay, and a key
 * that finds no room is refused as if closed. Single-threaded: the AS
 * calls it from its event loop only. Times are monotonic milliseconds.
 */
#ifndef CYPHONIC_ASGUARD_BUDGET_H
#define CYPHONIC_ASGUARD_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CYPH_BUDGET_KEY_MAX 72	/* "n:" and a 63-byte name fit whole */

struct cyph_budget_policy {
	unsigned int free_failures;
	bool strict;		/* attempts in flight count before any failure */
	int64_t backoff_ms, max_backoff_ms, forget_ms;
};

struct cyph_budget;

/* Room for about `entries` keys (rounded up to a power of two, >= 16). */
struct cyph_budget *cyph_budget_new(size_t entries);
void cyph_budget_free(struct cyph_budget *b);

/*
 * May an attempt for key (len bytes, at most CYPH_BUDGET_KEY_MAX) start at
 * now? 0: yes, and it is counted in flight until cyph_budget_end. Else
 * the milliseconds to wait (> 0) before asking again.
 */
int64_t cyph_budget_begin(struct cyph_budget *b, const struct cyph_budget_policy *p,
			  const void *key, size_t len, int64_t now);

/*
 * Ends an attempt cyph_budget_begin allowed: failed, or succeeded (then
 * clear decides whether the key's failures are forgotten).
 */
void cyph_budget_end(struct cyph_budget *b, const struct cyph_budget_policy *p,
		     const void *key, size_t len, bool failed, bool clear, int64_t now);

/* Failures counted for key now (0 when unknown): for tests and metrics. */
unsigned int cyph_budget_failures(const struct cyph_budget *b, const void *key, size_t len);

#endif
