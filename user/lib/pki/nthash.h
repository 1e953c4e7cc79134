/* SPDX-License-Identifier: MIT */
/*
 * The secret of a general node admitted by IEEE 802.1X (docs/as.md,
 * "Adapter and its general nodes"). The adapter's authenticator runs
 * PEAP-MSCHAPv2 (hostapd's integrated EAP server), and MSCHAPv2 needs at
 * the authenticator either the password or its NT hash, MD4 of the
 * password in UTF-16LE: the AS keeps only that hash, stored as
 *
 *	nt:<32 lower-case hex digits>
 *
 * in the principal's password-hash column, and hands it to the general
 * node's own adapter in GN_LIST_RESP. It is password-equivalent for
 * MSCHAPv2 (and nothing else of ours): docs/as.md says who holds it.
 */
#ifndef CYPHONIC_NTHASH_H
#define CYPHONIC_NTHASH_H

#include <stdbool.h>
#include <stdint.h>

#define CYPH_NT_PREFIX "nt:"
#define CYPH_NT_STR_MAX 36		/* "nt:" + 32 hex + NUL */

/*
 * The NT hash of a UTF-8 password (characters of the Basic Multilingual
 * Plane only, as MSCHAPv2 peers encode them): 0, or -1 (bad UTF-8, a
 * character beyond U+FFFF, or MD4 unavailable).
 */
int cyph_nt_hash(const char *password, uint8_t out[16]);
/* "nt:hex" of a hash / back; cyph_nt_parse is false for anything else. */
void cyph_nt_format(const uint8_t h[16], char out[CYPH_NT_STR_MAX]);
bool cyph_nt_parse(const char *s, uint8_t out[16]);

#endif
