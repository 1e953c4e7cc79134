/* SPDX-License-Identifier: MIT */
/*
 * Concurrent connections per source key (srckey.h), so one address cannot
 * take every connection slot. A chained hash table keyed with a random
 * seed (senders choose their addresses, not their bucket); an entry lives
 * while the source has a connection, so memory follows the connections.
 */
#ifndef CYPHONIC_ASGUARD_CONNCAP_H
#define CYPHONIC_ASGUARD_CONNCAP_H

#include "srckey.h"

#include <stdbool.h>
#include <stddef.h>

struct cyph_conncap;

/* buckets: about the expected number of sources (rounded to a power of 2). */
struct cyph_conncap *cyph_conncap_new(size_t buckets);
void cyph_conncap_free(struct cyph_conncap *c);

/* Counts one more connection of k; false (nothing counted) at limit or OOM. */
bool cyph_conncap_add(struct cyph_conncap *c, const struct cyph_srckey *k, unsigned int limit);
/* Forgets one connection of k (a key not counted is ignored). */
void cyph_conncap_del(struct cyph_conncap *c, const struct cyph_srckey *k);
unsigned int cyph_conncap_count(const struct cyph_conncap *c, const struct cyph_srckey *k);
/* Sources with at least one connection. */
size_t cyph_conncap_sources(const struct cyph_conncap *c);

#endif
