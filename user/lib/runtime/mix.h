/* SPDX-License-Identifier: MIT */
/*
 * Hashing for hash tables: MurmurHash3's 64-bit finalizer (fmix64), in
 * which every input bit changes every output bit with probability about
 * one half, so the low bits a table indexes with depend on all of the
 * key; and strings as FNV-1a finished with it. Neither is keyed nor a
 * MAC: where senders choose the keys, mix in a random secret first.
 */
#ifndef CYPHONIC_MIX_H
#define CYPHONIC_MIX_H

#include <stdint.h>

static inline uint64_t cyph_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static inline uint64_t cyph_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return cyph_mix64(h);
}

#endif
