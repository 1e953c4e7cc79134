/* SPDX-License-Identifier: MIT */
/*
 * Stateless DTLS cookies (RFC 6347 4.2.1): HMAC-SHA256 over the source
 * and the initiator's tunnel index with a secret that rotates; the
 * previous secret still verifies, so a cookie lives between one and two
 * rotation periods. A responder checks one before it keeps any state.
 */
#ifndef CYPHONIC_E2E_COOKIE_H
#define CYPHONIC_E2E_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E2E_COOKIE_LEN 16	/* truncated HMAC-SHA256 */

struct e2e_cookie_jar {
	uint8_t cur[32], prev[32];
	int64_t rotated_ms;
	unsigned int rotate_ms;
};

/* 0, or -1 when the RNG fails. */
int e2e_cookie_init(struct e2e_cookie_jar *j, unsigned int rotate_ms, int64_t now_ms);
/* Rotates the secret when rotate_ms has passed. 0, or -1 (RNG). */
int e2e_cookie_tick(struct e2e_cookie_jar *j, int64_t now_ms);
void e2e_cookie_make(const struct e2e_cookie_jar *j, const void *src, size_t srclen,
		     uint32_t sender, uint8_t out[E2E_COOKIE_LEN]);
bool e2e_cookie_check(const struct e2e_cookie_jar *j, const void *src, size_t srclen,
		      uint32_t sender, const uint8_t *cookie, size_t len);
/*
 * The first n (1..E2E_COOKIE_LEN) bytes of a cookie, for protocols whose
 * field for it is fixed and shorter (the TRS's 48-bit challenge): n comes
 * from the protocol, never from the packet.
 */
bool e2e_cookie_check_prefix(const struct e2e_cookie_jar *j, const void *src, size_t srclen,
			     uint32_t sender, const uint8_t *cookie, size_t n);

#endif
