/* SPDX-License-Identifier: MIT */
/*
 * An OpenSSL BIO with datagram semantics over memory, so DTLS runs without
 * a socket: every write (one flush of OpenSSL's handshake buffer, at most
 * the MTU) becomes one HANDSHAKE datagram with the header in front, queued
 * for the caller; a read returns the one datagram being fed in, once
 * (or, in peek mode, without consuming it: DTLSv1_listen needs that).
 */
#ifndef CYPHONIC_E2E_DGRAM_BIO_H
#define CYPHONIC_E2E_DGRAM_BIO_H

#include <openssl/bio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E2E_OUTQ_MAX 32		/* queued datagrams; more are dropped (DTLS retransmits) */

struct e2e_dgram {
	struct e2e_dgram *next;
	size_t len;
	uint8_t data[];
};

/* What one BIO reads from and writes to; owned by a session. */
struct e2e_io {
	const uint8_t *in;	/* DTLS payload being fed, or NULL */
	size_t in_len;
	bool peek;
	uint32_t sender, receiver;	/* header of outgoing datagrams */
	struct e2e_dgram *head, **tail;
	unsigned int queued;
	uint64_t dropped;	/* writes lost to a full queue or no memory */
};

void e2e_io_init(struct e2e_io *io);
/* Frees queued datagrams. */
void e2e_io_clear(struct e2e_io *io);
/* Pops the oldest queued datagram into buf; its length, or 0 (none, or cap too small: dropped). */
size_t e2e_io_pop(struct e2e_io *io, uint8_t *buf, size_t cap);

/* A BIO on io (BIO_set_data() moves it to another io). NULL on failure. */
BIO *e2e_bio_new(struct e2e_io *io);

#endif
