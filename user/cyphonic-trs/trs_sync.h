/* SPDX-License-Identifier: MIT */
/*
 * TRS replicas sharing relay sessions through Redis (trs_sync.c,
 * docs/scale-out.md). The forwarding threads never wait on Redis: they
 * forward from the local table (trs_core.c) and only queue work through
 * the trs_hooks; two threads of this module do the talking.
 */
#ifndef CYPHONIC_TRS_SYNC_H
#define CYPHONIC_TRS_SYNC_H

#include <stdint.h>
#include "kv/kvconfig.h"
#include "trs.h"

struct trs_sync;

struct trs_sync_stats {
	uint64_t published;	/* session changes written */
	uint64_t lookups;	/* sessions read from Redis */
	uint64_t installed;	/* of those, merged into the local table */
	uint64_t invalidations;	/* changes announced by other replicas */
	uint64_t dropped;	/* queue full or lookup budget spent */
};

/*
 * Connects (two connections: commands and the invalidation channel),
 * installs the hooks into t and starts the threads. idle_ms is the
 * sessions' idle timeout, which their Redis TTL follows. NULL with err.
 */
struct trs_sync *trs_sync_start(struct trs *t, const struct cyph_kv_config *c,
				int64_t idle_ms, char *err, size_t errlen);
/* Stops the threads, removes the hooks, closes the connections. */
void trs_sync_stop(struct trs_sync *s);
void trs_sync_get_stats(struct trs_sync *s, struct trs_sync_stats *out);

#endif
