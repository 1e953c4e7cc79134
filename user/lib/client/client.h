/* SPDX-License-Identifier: MIT */
/*
 * client: the node side of the cloud services.
 *
 *	asclient.h	blocking AS client over TLS (tests, load generator, node)
 *	nmsclient.h	NMS requests and replies, no I/O
 *	trsclient.h	TRS relay bind/close and packet wrapping, no I/O
 *	retry.h		backoff with jitter, and what may be retried
 *
 * May include: runtime, pki, stores, wire
 *
 * stores only for the principal record asclient returns.
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_CLIENT_H
#define CYPHONIC_LIB_CLIENT_H
#include "asclient.h"
#include "nmsclient.h"
#include "trsclient.h"
#include "retry.h"
#endif
