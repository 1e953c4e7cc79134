// SPDX-License-Identifier: MIT
/* Per-source token buckets in a fixed table (budget.h). */
#include "budget.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint8_t src[E2E_SRC_MAX];
	uint8_t srclen;		/* 0 = unused */
	uint32_t milli_tokens;	/* tokens x 1000, so slow refill rates stay exact */
	int64_t stamp_ms;	/* last refill */
};

struct e2e_budget {
	unsigned int nslots;
	uint32_t burst_milli;
	unsigned int per_sec;
	uint64_t seed[2];
	struct slot slot[];
};

struct e2e_budget *e2e_budget_new(unsigned int slots, unsigned int burst, unsigned int per_sec)
{
	struct e2e_budget *b;

	if (!slots || !burst || slots > (1u << 20) || burst > 1000000)
		return NULL;
	b = calloc(1, sizeof(*b) + (size_t)slots * sizeof(struct slot));
	if (!b)
		return NULL;
	b->nslots = slots;
	b->burst_milli = burst * 1000u;
	b->per_sec = per_sec;
	if (RAND_bytes((unsigned char *)b->seed, sizeof(b->seed)) != 1) {
		free(b);
		return NULL;
	}
	return b;
}

void e2e_budget_free(struct e2e_budget *b)
{
	free(b);
}

static uint64_t rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

/* A keyed 64-bit mix of src (SipHash-1-3 rounds, 8 bytes at a time). */
static uint64_t keyed_hash(const uint64_t seed[2], const uint8_t *p, size_t len)
{
	uint64_t v0 = seed[0] ^ 0x736f6d6570736575ULL, v1 = seed[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = seed[0] ^ 0x6c7967656e657261ULL, v3 = seed[1] ^ 0x7465646279746573ULL;
	uint64_t m;
	size_t i;

	for (i = 0; i < len + 1; i += 8) {
		m = (uint64_t)len << 56;
		for (size_t j = 0; j < 8 && i + j < len; j++)
			m ^= (uint64_t)p[i + j] << (8 * j);
		v3 ^= m;
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
		v0 ^= m;
	}
	v2 ^= 0xff;
	for (int r = 0; r < 3; r++) {
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
	}
	return v0 ^ v1 ^ v2 ^ v3;
}

static void refill(struct e2e_budget *b, struct slot *s, int64_t now_ms)
{
	int64_t dt = now_ms - s->stamp_ms;
	uint64_t add;

	if (dt <= 0)
		return;		/* clock went backwards or same ms: nothing */
	add = (uint64_t)dt * b->per_sec;	/* ms x tokens/s = milli-tokens */
	if (add >= b->burst_milli - s->milli_tokens)
		s->milli_tokens = b->burst_milli;
	else
		s->milli_tokens += (uint32_t)add;
	s->stamp_ms = now_ms;
}

bool e2e_budget_take(struct e2e_budget *b, const void *src, size_t srclen, int64_t now_ms)
{
	struct slot *s;

	if (!srclen || srclen > E2E_SRC_MAX)
		return false;
	s = &b->slot[keyed_hash(b->seed, src, srclen) % b->nslots];
	if (!s->srclen) {
		s->milli_tokens = b->burst_milli;
		s->stamp_ms = now_ms;
	} else {
		refill(b, s, now_ms);
	}
	if (s->srclen != srclen || memcmp(s->src, src, srclen)) {
		/* another source, or an unused slot: take it over only when idle */
		if (s->srclen && s->milli_tokens < b->burst_milli)
			goto charge;
		memcpy(s->src, src, srclen);
		s->srclen = (uint8_t)srclen;
	}
charge:
	if (s->milli_tokens < 1000)
		return false;
	s->milli_tokens -= 1000;
	return true;
}
