// SPDX-License-Identifier: MIT
/* Per-source token buckets (ratelimit.h), in thousandths of a token. */
#include "ratelimit.h"

#include "runtime/mix.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RL_MAX_SLOTS (1u << 20)

struct rl_slot {
	uint8_t addr[16];	/* IPv4 as ::ffff:a.b.c.d */
	uint64_t last_ms;
	uint64_t milli;		/* tokens * 1000 */
	bool used;
};

struct dns_ratelimit {
	struct rl_slot *slots;
	size_t nslots;
	uint64_t rate, burst;	/* per second, tokens */
	uint64_t key[2];
};

struct dns_ratelimit *dns_ratelimit_new(size_t slots, uint32_t rate, uint32_t burst)
{
	struct dns_ratelimit *rl;

	if (slots == 0 || slots > RL_MAX_SLOTS)
		return NULL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->slots = calloc(slots, sizeof(*rl->slots));
	if (!rl->slots ||
	    getrandom(rl->key, sizeof(rl->key), 0) != (ssize_t)sizeof(rl->key)) {
		dns_ratelimit_free(rl);
		return NULL;
	}
	rl->nslots = slots;
	rl->rate = rate;
	rl->burst = burst ? burst : rate;
	return rl;
}

void dns_ratelimit_free(struct dns_ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->slots);
	free(rl);
}

/* Address bytes of sa as 16 bytes; false for anything but IPv4/IPv6. */
static bool addr_key(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	if (sa->sa_family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	return false;
}

/*
 * A keyed mix of the address (not a MAC: it only has to keep a sender
 * from choosing which slot it lands in without knowing the key).
 */
static size_t slot_of(const struct dns_ratelimit *rl, const uint8_t a[16])
{
	uint64_t lo, hi;

	memcpy(&lo, a, 8);
	memcpy(&hi, a + 8, 8);
	return (size_t)(cyph_mix64(cyph_mix64(lo ^ rl->key[0]) ^ hi ^ rl->key[1]) % rl->nslots);
}

bool dns_ratelimit_allow(struct dns_ratelimit *rl, const struct sockaddr *sa,
			 uint64_t now_ms)
{
	uint8_t a[16];
	struct rl_slot *s;
	uint64_t cap;

	if (rl->rate == 0)
		return true;
	if (!addr_key(sa, a))
		return false;
	s = &rl->slots[slot_of(rl, a)];
	cap = rl->burst * 1000;
	if (!s->used || memcmp(s->addr, a, 16) != 0) {
		memcpy(s->addr, a, 16);
		s->used = true;
		s->milli = cap;
		s->last_ms = now_ms;
	} else if (now_ms > s->last_ms) {
		/* rate tokens per 1000 ms = rate milli-tokens per ms */
		uint64_t elapsed = now_ms - s->last_ms;
		uint64_t add = (elapsed > 3600000 ? 3600000 : elapsed) * rl->rate;

		s->milli = (cap - s->milli < add) ? cap : s->milli + add;
		s->last_ms = now_ms;
	}
	if (s->milli < 1000)
		return false;
	s->milli -= 1000;
	return true;
}
