// SPDX-License-Identifier: MIT
/* Backoff with jitter for the node's cloud requests (retry.h). */
#include "retry.h"
#include "wire/asproto.h"
#include "wire/proto.h"

void cyph_retry_begin(struct cyph_retry *r, const struct cyph_retry_policy *p,
		      int64_t now_ms, uint64_t seed)
{
	r->p = *p;
	if (r->p.first_ms < 1)
		r->p.first_ms = 1;
	if (r->p.max_ms < r->p.first_ms)
		r->p.max_ms = r->p.first_ms;
	r->start_ms = now_ms;
	r->tries = 0;
	/* xorshift must not start at 0 */
	r->rng = seed ^ 0x9e3779b97f4a7c15ull;
	if (!r->rng)
		r->rng = 1;
}

static uint64_t next_rand(struct cyph_retry *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

int64_t cyph_retry_next(struct cyph_retry *r, int64_t now_ms)
{
	int64_t step = r->p.first_ms, left, half;
	unsigned int i;

	left = r->start_ms + r->p.budget_ms - now_ms;
	if (left <= 0)
		return -1;
	for (i = 0; i < r->tries && step < r->p.max_ms; i++)
		step *= 2;
	if (step > r->p.max_ms)
		step = r->p.max_ms;
	r->tries++;
	half = step / 2;
	step = half + (int64_t)(next_rand(r) % (uint64_t)(step - half + 1));
	return step < left ? step : left;
}

void cyph_retry_budget_deposit(struct cyph_retry_budget *b)
{
	b->tokens += b->ratio;
	if (b->tokens > b->max)
		b->tokens = b->max;
}

bool cyph_retry_budget_take(struct cyph_retry_budget *b, int64_t now_ms)
{
	if (b->last_ms && now_ms > b->last_ms)
		b->tokens += b->min_per_s * (double)(now_ms - b->last_ms) / 1000.0;
	b->last_ms = now_ms;
	if (b->tokens > b->max)
		b->tokens = b->max;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

bool cyph_nms_retryable(uint16_t proto_err)
{
	switch (proto_err) {
	case PROTO_E_DRAINING:		/* this replica is leaving */
	case PROTO_E_RATE_LIMITED:	/* later, more slowly */
	case PROTO_E_INTERNAL:		/* a replica's store hiccup */
	case PROTO_E_FULL:		/* this replica's table */
	case PROTO_E_STALE:		/* a clock step: a new try has a new time */
	case PROTO_E_REPLAY:		/* a new try has a new sequence number */
		return true;
	}
	return false;
}

bool cyph_as_retryable(int rc)
{
	return rc < 0 || rc == CYPH_AS_E_DRAINING || rc == CYPH_AS_E_INTERNAL;
}
