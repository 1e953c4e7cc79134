/* SPDX-License-Identifier: MIT */
/*
 * Internal to asguard: a keyed hash of a short byte string, for tables
 * whose keys a sender chooses (the random seed keeps it from aiming at a
 * bucket), and the seed source.
 */
#ifndef CYPHONIC_ASGUARD_KEYHASH_H
#define CYPHONIC_ASGUARD_KEYHASH_H

#include "runtime/mix.h"

#include <stddef.h>
#include <stdint.h>

static inline uint64_t asguard_hash(uint64_t seed, const uint8_t *p, size_t len)
{
	uint64_t h = cyph_mix64(seed ^ len);

	for (size_t i = 0; i < len; i++)
		h = cyph_mix64(h ^ p[i] ^ seed);
	return h;
}

/* A random seed (falls back to time and address bits if getrandom fails). */
uint64_t asguard_seed(void);

#endif
