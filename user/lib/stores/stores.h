/* SPDX-License-Identifier: MIT */
/*
 * stores: the AS registry (principals, VIPs, certificates, revocations)
 * behind one interface, and its backends.
 *
 *	store.h		the interface, the principal record, the VIP pool
 *	store_sqlite.c	the embedded SQLite backend (cyph_store_open("sqlite:..."))
 *	store_pg.c	the PostgreSQL backend, shared by AS replicas
 *			(cyph_store_open("postgresql://...") or "postgres:CONNINFO")
 *	store_impl.h	what the backends share: checks, VIP arithmetic
 *
 * May include: runtime, pki
 *
 * pki for enum cyph_role (cred.h), which the principal record carries.
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_STORES_H
#define CYPHONIC_LIB_STORES_H
#include "store.h"
#endif
