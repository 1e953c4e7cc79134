/* SPDX-License-Identifier: MIT */
/*
 * The HANDSHAKE header of docs/protocol.md section 8 (kind DTLS), and a
 * cheap look at the DTLS record behind it so a responder can tell a new
 * ClientHello from anything else before it spends memory or CPU.
 */
#ifndef CYPHONIC_E2E_FRAME_H
#define CYPHONIC_E2E_FRAME_H

#include "wire/proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E2E_DGRAM_MAX 1200	/* a whole HANDSHAKE datagram, header included */
#define E2E_DTLS_MTU (E2E_DGRAM_MAX - PROTO_HS_HDR_LEN)	/* what OpenSSL may write */
#define E2E_DTLS_RECORD_HDR 13

struct e2e_hdr {
	uint8_t kind;		/* enum proto_hs_kind */
	uint32_t sender;	/* the sender's tunnel index, 0 in a HelloVerifyRequest */
	uint32_t receiver;	/* ours, 0 until the sender knows it */
};

void e2e_hdr_put(uint8_t out[PROTO_HS_HDR_LEN], uint32_t sender, uint32_t receiver);

/*
 * Parses the header of a kind-DTLS datagram: type HANDSHAKE, kind DTLS,
 * reserved 0, length within E2E_DGRAM_MAX and room for one DTLS record
 * header. false for anything else (drop it).
 */
bool e2e_hdr_parse(const uint8_t *dgram, size_t len, struct e2e_hdr *h);

/*
 * true when the datagram's first DTLS record is an epoch-0 handshake
 * record holding the first fragment of a ClientHello: the only thing that
 * may start a handshake (or a rekey) at a responder. Call after
 * e2e_hdr_parse() succeeded.
 */
bool e2e_is_client_hello(const uint8_t *dgram, size_t len);

/*
 * The server name (SNI, RFC 6066) of a ClientHello datagram, which an
 * initiator sets to the FQDN it was directed to: an adapter, one port for
 * itself and its general nodes, answers with that identity's credential.
 * true with the name in out (NUL-terminated, lower case as sent), false
 * when there is none or the record is malformed or fragmented. Call after
 * e2e_is_client_hello() returned true. Reads only within len.
 */
bool e2e_client_hello_sni(const uint8_t *dgram, size_t len, char *out, size_t cap);

#endif
