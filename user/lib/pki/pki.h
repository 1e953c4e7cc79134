/* SPDX-License-Identifier: MIT */
/*
 * pki: identities and secrets of nodes and servers.
 *
 *	cred.h		node credentials: verify AS-issued certificates and the
 *			CRL, Ed25519 node keys and signatures (cred.c, credkey.c)
 *	ca.h		the AS certificate authority: create, issue, write CRLs
 *	tls.h		TLS 1.3 server and client contexts
 *	pwhash.h	PBKDF2-SHA256 password hashes
 *	nthash.h	NT hashes: the 802.1X (PEAP-MSCHAPv2) secret of a general node
 *	policy.h	access policy (groups, reach) carried in node certificates
 *
 * May include: runtime
 *
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_PKI_H
#define CYPHONIC_LIB_PKI_H
#include "ca.h"
#include "cred.h"
#include "nthash.h"
#include "policy.h"
#include "pwhash.h"
#include "tls.h"
#endif
