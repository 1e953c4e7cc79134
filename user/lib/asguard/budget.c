// SPDX-License-Identifier: MIT
/* Failed-login budgets with exponential backoff (budget.h). */
#include "budget.h"
#include "keyhash.h"

#include <stdlib.h>
#include <string.h>

#define WAYS 4

struct entry {
	uint8_t len;			/* 0: free */
	uint8_t key[CYPH_BUDGET_KEY_MAX];
	unsigned int failures, inflight;
	int64_t last_ms;		/* last attempt start or end */
	int64_t last_fail_ms;
	int64_t next_ok_ms;		/* closed until then */
};

struct cyph_budget {
	uint64_t seed;
	size_t sets;			/* power of two */
	struct entry *e;		/* sets * WAYS */
};

struct cyph_budget *cyph_budget_new(size_t entries)
{
	struct cyph_budget *b = calloc(1, sizeof(*b));
	size_t sets = 4;

	if (!b)
		return NULL;
	while (sets * WAYS < entries && sets < ((size_t)1 << 20))
		sets <<= 1;
	b->e = calloc(sets * WAYS, sizeof(*b->e));
	if (!b->e) {
		free(b);
		return NULL;
	}
	b->sets = sets;
	b->seed = asguard_seed();
	return b;
}

void cyph_budget_free(struct cyph_budget *b)
{
	if (!b)
		return;
	free(b->e);
	free(b);
}

static struct entry *set_of(const struct cyph_budget *b, const void *key, size_t len)
{
	return b->e + (asguard_hash(b->seed, key, len) & (b->sets - 1)) * WAYS;
}

static struct entry *find(const struct cyph_budget *b, const void *key, size_t len)
{
	struct entry *s = set_of(b, key, len);

	for (int i = 0; i < WAYS; i++)
		if (s[i].len == len && !memcmp(s[i].key, key, len))
			return &s[i];
	return NULL;
}

/* Forgets failures older than the policy keeps them. */
static void age(struct entry *e, const struct cyph_budget_policy *p, int64_t now)
{
	if (e->failures && !e->inflight && now - e->last_fail_ms >= p->forget_ms &&
	    now >= e->next_ok_ms) {
		e->failures = 0;
		e->next_ok_ms = 0;
	}
}

/* A free way, else the one least worth keeping; NULL if all are in flight. */
static struct entry *victim(struct entry *s, const struct cyph_budget_policy *p, int64_t now)
{
	struct entry *best = NULL;

	for (int i = 0; i < WAYS; i++) {
		struct entry *e = &s[i];

		if (!e->len)
			return e;
		if (e->inflight)
			continue;
		age(e, p, now);
		if (!best)
			best = e;
		else if ((e->next_ok_ms > now) != (best->next_ok_ms > now))
			best = e->next_ok_ms > now ? best : e;	/* keep the closed */
		else if (e->last_ms < best->last_ms)
			best = e;
	}
	return best;
}

int64_t cyph_budget_begin(struct cyph_budget *b, const struct cyph_budget_policy *p,
			  const void *key, size_t len, int64_t now)
{
	struct entry *e;

	if (!len || len > CYPH_BUDGET_KEY_MAX)
		return p->backoff_ms > 0 ? p->backoff_ms : 1;
	e = find(b, key, len);
	if (!e) {
		e = victim(set_of(b, key, len), p, now);
		if (!e)
			return p->backoff_ms > 0 ? p->backoff_ms : 1;	/* no room: closed */
		memset(e, 0, sizeof(*e));
		e->len = (uint8_t)len;
		memcpy(e->key, key, len);
	}
	age(e, p, now);
	if (e->failures + ((p->strict || e->failures) ? e->inflight : 0) >= p->free_failures) {
		/* over budget: one attempt at a time, once the backoff is over */
		if (e->next_ok_ms > now)
			return e->next_ok_ms - now;
		if (e->inflight)
			return p->backoff_ms > 0 ? p->backoff_ms : 1;
	}
	e->inflight++;
	e->last_ms = now;
	return 0;
}

static int64_t backoff(const struct cyph_budget_policy *p, unsigned int over)
{
	int64_t d = p->backoff_ms;

	while (over-- && d < p->max_backoff_ms)
		d *= 2;
	return d < p->max_backoff_ms ? d : p->max_backoff_ms;
}

void cyph_budget_end(struct cyph_budget *b, const struct cyph_budget_policy *p,
		     const void *key, size_t len, bool failed, bool clear, int64_t now)
{
	struct entry *e = len && len <= CYPH_BUDGET_KEY_MAX ? find(b, key, len) : NULL;

	if (!e)
		return;	/* cannot happen: in-flight entries are never evicted */
	if (e->inflight)
		e->inflight--;
	e->last_ms = now;
	if (!failed) {
		if (clear) {
			e->failures = 0;
			e->next_ok_ms = 0;
		}
		return;
	}
	e->failures++;
	e->last_fail_ms = now;
	if (e->failures >= p->free_failures)
		e->next_ok_ms = now + backoff(p, e->failures - p->free_failures);
}

unsigned int cyph_budget_failures(const struct cyph_budget *b, const void *key, size_t len)
{
	const struct entry *e = len && len <= CYPH_BUDGET_KEY_MAX ? find(b, key, len) : NULL;

	return e ? e->failures : 0;
}
