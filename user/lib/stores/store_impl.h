/* SPDX-License-Identifier: MIT */
/*
 * What the store backends share (store.c): checks on a new principal and
 * the VIP arithmetic, so SQLite and PostgreSQL validate and allocate alike.
 * Not part of the interface.
 */
#ifndef CYPHONIC_STORE_IMPL_H
#define CYPHONIC_STORE_IMPL_H

#include "store.h"

/* Name, role, adapter and IP mode of a principal about to be added. */
int cyph_store_check_new(const struct cyph_principal *p, const char *domain, char *err,
			 size_t errlen);
/* The offset-th host address of a prefix (big-endian add into the host part). */
void cyph_store_addr_at(const uint8_t *prefix, int alen, uint64_t offset, uint8_t *out);
/* Host offsets 1..count-1 are usable in a prefix of plen bits. */
uint64_t cyph_store_host_count(int alen, int plen);

#endif
