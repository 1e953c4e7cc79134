/* SPDX-License-Identifier: MIT */
/*
 * A 64-bit mixing function for hash tables: MurmurHash3's finalizer
 * (fmix64), in which every input bit changes every output bit with
 * probability about one half, so the low bits a table indexes with
 * depend on all of the key. Not keyed and not a MAC: where senders
 * choose keys, mix in a random secret first.
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

#endif
