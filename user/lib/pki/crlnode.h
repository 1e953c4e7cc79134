/* SPDX-License-Identifier: MIT */
/*
 * The node id of a revoked certificate, carried in its CRL entry as a
 * non-critical entry extension (OID 2.25.108764675443610832004031267751307592421,
 * a UUID-derived arc: value an INTEGER). The NMS finds revoked nodes by
 * their certificate's serial; the TRS sees only the node id a relay grant
 * names, so it needs this (cyph_ca_revoked_nodes()). Verifiers that do
 * not know the extension ignore it.
 */
#ifndef CYPHONIC_CRLNODE_H
#define CYPHONIC_CRLNODE_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>

/* Adds the extension to r. 0 or -1. */
int cyph_crl_entry_set_node(X509_REVOKED *r, uint64_t node_id);
/* The node id of r, false when r has none (a CRL from an older AS). */
bool cyph_crl_entry_node(const X509_REVOKED *r, uint64_t *node_id);

#endif
