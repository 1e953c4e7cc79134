/* SPDX-License-Identifier: MIT */
/*
 * e2e: the end-to-end key agreement between two nodes (docs/protocol.md
 * section 8): DTLS 1.2 with the AS-issued node certificates on both sides,
 * tunnel keys exported with RFC 5705. No sockets: the caller feeds
 * HANDSHAKE datagrams in and sends the ones it gets out.
 *
 *	session.h	contexts and handshakes: connect, accept, input,
 *			timers, keys (ctx.c, session.c, accept.c, verify.c,
 *			hskey.c: the ECDSA handshake key the node key signs,
 *			because OpenSSL 3.0 has no Ed25519 in DTLS 1.2)
 *	result.h	why a handshake or a datagram was refused
 *	frame.h		HANDSHAKE header codec and the ClientHello peek
 *	budget.h	per-source token buckets in a fixed table
 *	cookie.h	stateless DTLS cookies: HMAC with a rotating secret
 *	dgram_bio.h	the OpenSSL BIO that turns records into datagrams
 *	internal.h	what the files above share (not for outside e2e/)
 *
 * May include: runtime, pki, wire
 *
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_E2E_H
#define CYPHONIC_LIB_E2E_H
#include "budget.h"
#include "cookie.h"
#include "dgram_bio.h"
#include "frame.h"
#include "result.h"
#include "session.h"
#endif
