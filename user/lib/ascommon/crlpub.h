/* SPDX-License-Identifier: MIT */
/*
 * Publishes the CRL from the registry: every revoked certificate that has
 * not expired yet, signed by the CA. Shared by cyphonic-as (start-up,
 * timer, SIGHUP) and cyphonic-admin (revoke, node del).
 */
#ifndef CYPHONIC_CRLPUB_H
#define CYPHONIC_CRLPUB_H

#include <stddef.h>
#include <stdint.h>

struct cyph_store;
struct cyph_ca_signer;

/* Returns the number of entries written, or -1 with err. */
int cyph_crl_publish(struct cyph_store *store, struct cyph_ca_signer *s, const char *path,
		     int64_t validity_s, char *err, size_t errlen);

#endif
