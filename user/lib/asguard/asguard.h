/* SPDX-License-Identifier: MIT */
/*
 * asguard: what keeps the AS available to legitimate clients while it is
 * attacked, as pure logic over explicit times so it can be unit-tested.
 *
 *	srckey.h	the source key of a peer (IPv4 address, IPv6 /64)
 *	conncap.h	concurrent connections per source key
 *	budget.h	failed-login budgets with exponential backoff
 *	deadline.h	absolute per-phase deadlines of a connection
 *
 * May include: runtime
 *
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_ASGUARD_H
#define CYPHONIC_LIB_ASGUARD_H
#include "budget.h"
#include "conncap.h"
#include "deadline.h"
#include "srckey.h"
#endif
