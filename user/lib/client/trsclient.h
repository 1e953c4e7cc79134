/* SPDX-License-Identifier: MIT */
/*
 * Node side of the TRS relay protocol: BIND/CLOSE under the bind secret
 * the NMS handed out (sealed) in ROUTE_RESP or PEER_NOTIFY, and wrapping
 * of end-to-end packets in the relay header. No I/O.
 */
#ifndef CYPHONIC_TRSCLIENT_H
#define CYPHONIC_TRSCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "wire/proto.h"

struct trsc {
	uint32_t session;
	uint8_t end;
	uint64_t node_id, expiry;
	uint8_t secret[32];
	uint64_t seq;
	struct proto_ep relay;	/* where to send */
	uint32_t idle_s;	/* from BIND_ACK: refresh well before */
	uint64_t proof;		/* the TRS's challenge for our address, echoed in BINDs */
};

/* trsc_input(): the TRS wants our address proven; trsc_bind() again now. */
#define TRSC_CHALLENGED (-2)

/* From a decoded ROUTE_RESP / PEER_NOTIFY in relay mode. */
int trsc_init(struct trsc *t, uint64_t node_id, const struct proto_msg *m,
	      int64_t now_ms);
size_t trsc_bind(struct trsc *t, uint8_t out[PROTO_RC_LEN], int64_t now_ms);
size_t trsc_close(struct trsc *t, uint8_t out[PROTO_RC_LEN], int64_t now_ms);
/*
 * Authenticates a RELAY_CTRL answer. Returns 0 for a BIND_ACK, the error
 * code for an authentic ERROR, TRSC_CHALLENGED for an authentic ERROR
 * CHALLENGE (return routability, docs/protocol.md 7.2: the next BIND
 * carries the echo), or -1 for anything else (ignore it).
 */
int trsc_input(struct trsc *t, const uint8_t *pkt, size_t len);
/* relay header + inner packet into out; 0 if it does not fit. */
size_t trsc_wrap(const struct trsc *t, const uint8_t *inner, size_t len,
		 uint8_t *out, size_t cap);

/* Computes the MAC of a RELAY_CTRL message (both sides use it). */
void trs_rc_seal(struct proto_rc *rc, const uint8_t secret[32],
		 uint8_t out[PROTO_RC_LEN]);

#endif
