/* SPDX-License-Identifier: MIT */
/*
 * Retries of the node's cloud requests: exponential backoff with jitter,
 * within a time budget (docs/scale-out.md, "Client retry").
 *
 * Why a retry reaches another replica: behind BGP ECMP a replica that
 * dies (SIGKILL) or drains has its route withdrawn within about a second
 * (docs/ecmp.md); the same flow then hashes to a surviving replica, which
 * knows the node from the shared store. A TLS client (the AS) reconnects,
 * a new flow that the edge hashes afresh. Backoff keeps the retries of
 * many nodes from arriving at once after an outage; jitter spreads them.
 *
 * What is safe to repeat (each retry is a NEW request, never the same
 * bytes again: the NMS claims every request's sequence number in the
 * shared store, so a copy that reached a replica before it died would be
 * refused as REPLAY by every replica):
 *   NMS REGISTER (full)  replaces the session keys; the node accepts only
 *                        the ACK of its latest REGISTER (request hash), and
 *                        the NMS refuses a full REGISTER older than the one
 *                        that set the current keys, so an earlier try
 *                        processed late cannot replace them;
 *   REGISTER (refresh), KEEPALIVE, DEREGISTER, NOTIFY_ACK   idempotent;
 *   ROUTE_REQ            not idempotent in effect (each answer grants a
 *                        new relay session or punch id, and notifies the
 *                        peer again), made safe by the grants being
 *                        stateless: a session exists at a TRS only once
 *                        bound, an unbound grant expires with its
 *                        expiry, and the node uses the answer to its
 *                        latest try (echo sequence) only;
 *   TRS BIND, CLOSE      carry a sequence number; the store keeps the
 *                        newest per end (trs_sync.c): idempotent;
 *   AS AUTH, GN_AUTH     issue a fresh credential for the same identity
 *                        and key each time: the last one wins; GN_LIST
 *                        only reads.
 * Errors that a retry cannot cure (a bad certificate, an unknown target,
 * a wrong password) end the sequence at once: cyph_*_retryable().
 */
#ifndef CYPHONIC_CLIENT_RETRY_H
#define CYPHONIC_CLIENT_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct cyph_retry_policy {
	int first_ms;		/* wait after the first try */
	int max_ms;		/* the wait stops doubling here */
	int budget_ms;		/* no new try this long after the first */
};

/*
 * The default: 250 ms doubling to 2 s, 10 s in all. The budget covers a
 * dead replica's route withdrawal (the readiness watcher plus BGP, up to
 * ~1.4 s measured on a loaded machine) several times over.
 */
#define CYPH_RETRY_DEFAULT { .first_ms = 250, .max_ms = 2000, .budget_ms = 10000 }

struct cyph_retry {
	struct cyph_retry_policy p;
	int64_t start_ms;
	unsigned int tries;	/* tries made so far (the first included) */
	uint64_t rng;
};

/* The first try is being made now; seed varies the jitter per client. */
void cyph_retry_begin(struct cyph_retry *r, const struct cyph_retry_policy *p,
		      int64_t now_ms, uint64_t seed);
/*
 * How long to wait for an answer to the try just made before the next
 * one: the backoff step (first_ms doubling up to max_ms) with "equal
 * jitter" (between half of it and all of it), cut to what is left of the
 * budget. Returns -1 when the budget is spent (give up: a failed
 * sequence). Call once per try made; it counts the try.
 */
int64_t cyph_retry_next(struct cyph_retry *r, int64_t now_ms);

/*
 * A retry budget for a client with many requests in flight (an adapter's
 * general nodes, the load generator): retries at most `ratio` of the
 * first tries, plus `min_per_s`, with at most `max` saved up. Without it
 * an overloaded replica whose answers come later than the first wait
 * gets every request again, and again: the retries become the overload
 * (congestion collapse). A try the budget refuses is not sent; the
 * request waits for its next backoff step (its answer may still come).
 */
struct cyph_retry_budget {
	double tokens, ratio, min_per_s, max;
	int64_t last_ms;
};

#define CYPH_RETRY_BUDGET_DEFAULT { .tokens = 100, .ratio = 0.2, .min_per_s = 10, .max = 1000 }

/* A first try was made (deposits ratio). */
void cyph_retry_budget_deposit(struct cyph_retry_budget *b);
/* May a retry be sent now? Takes a token when it may. */
bool cyph_retry_budget_take(struct cyph_retry_budget *b, int64_t now_ms);

/* An NMS/TRS error (PROTO_E_*) another try, perhaps elsewhere, may cure. */
bool cyph_nms_retryable(uint16_t proto_err);
/* An asclient result (-1 transport, or a cyph_as_err) worth a new connection. */
bool cyph_as_retryable(int rc);

#endif
