/* SPDX-License-Identifier: MIT */
/*
 * kv: shared state of replicated daemons in Redis (hiredis). The NMS keeps
 * registrations, replay windows and pending notifications there, the TRS
 * its relay sessions (docs/scale-out.md).
 *
 *	kvconfig.h	the [store] redis/prefix/timeout keys of a daemon's config
 *	kvclient.h	one connection: timeouts, reconnect, commands, logged errors
 *
 * May include: runtime
 *
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_KV_H
#define CYPHONIC_LIB_KV_H
#include "kvclient.h"
#include "kvconfig.h"
#endif
