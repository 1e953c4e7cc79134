/* SPDX-License-Identifier: MIT */
/*
 * Cheap proofs of address (issue 12, points 1 and 3), both stateless
 * HMACs under a secret that rotates every NMS_COOKIE_ROTATE_MS (the
 * previous one still verifies, as DTLS and WireGuard cookies do):
 *
 *   cookie    = HMAC(secret, source endpoint || node id), asked for (op
 *               COOKIE) before any certificate or signature work on a full
 *               REGISTER while the NMS is under load. A spoofed source
 *               never receives it, so a flood from spoofed sources costs
 *               one HMAC per packet and never a signature check.
 *   challenge = the same with another domain byte, sent (MACed) to a new
 *               source address of a registered node; the node's observed
 *               endpoint moves there only when a MACed message from that
 *               address echoes it (return routability).
 *
 * "Under load": more than `load` full REGISTERs arrived in the current or
 * the previous second (0: always).
 */
#ifndef CYPHONIC_NMS_COOKIE_H
#define CYPHONIC_NMS_COOKIE_H

#include <stdbool.h>
#include <stdint.h>
#include "e2e/cookie.h"
#include "wire/proto.h"

#define NMS_COOKIE_ROTATE_MS 120000

struct nms_cookies {
	struct e2e_cookie_jar jar;
	int64_t win_ms;			/* start of the current second */
	uint32_t cur, prev;		/* full REGISTERs in it and the one before */
};

/* 0, or -1 when the RNG fails. */
int nms_cookies_init(struct nms_cookies *c, int64_t now_ms);
/* Rotates the secret when due. */
void nms_cookies_tick(struct nms_cookies *c, int64_t now_ms);
/* Counts one full REGISTER; true when a cookie is required for it. */
bool nms_cookies_loaded(struct nms_cookies *c, uint32_t load, int64_t now_ms);

enum nms_proof { NMS_PROOF_COOKIE = 0, NMS_PROOF_CHALLENGE = 1 };

void nms_proof_make(const struct nms_cookies *c, enum nms_proof kind,
		    const struct proto_ep *from, uint64_t node_id, uint8_t out[16]);
bool nms_proof_check(const struct nms_cookies *c, enum nms_proof kind,
		     const struct proto_ep *from, uint64_t node_id, const uint8_t in[16]);

#endif
