// SPDX-License-Identifier: MIT
/* Stateless DTLS cookies with a rotating secret (cookie.h). */
#include "cookie.h"
#include "wire/proto_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

int e2e_cookie_init(struct e2e_cookie_jar *j, unsigned int rotate_ms, int64_t now_ms)
{
	memset(j, 0, sizeof(*j));
	j->rotate_ms = rotate_ms;
	j->rotated_ms = now_ms;
	if (RAND_bytes(j->cur, sizeof(j->cur)) != 1 ||
	    RAND_bytes(j->prev, sizeof(j->prev)) != 1)
		return -1;
	return 0;
}

int e2e_cookie_tick(struct e2e_cookie_jar *j, int64_t now_ms)
{
	if (now_ms - j->rotated_ms < (int64_t)j->rotate_ms)
		return 0;
	memcpy(j->prev, j->cur, sizeof(j->cur));
	j->rotated_ms = now_ms;
	return RAND_bytes(j->cur, sizeof(j->cur)) == 1 ? 0 : -1;
}

static void mac(const uint8_t key[32], const void *src, size_t srclen, uint32_t sender,
		uint8_t out[E2E_COOKIE_LEN])
{
	uint8_t msg[4 + 255], md[32];

	if (srclen > sizeof(msg) - 4)
		srclen = sizeof(msg) - 4;
	msg[0] = (uint8_t)(sender >> 24);
	msg[1] = (uint8_t)(sender >> 16);
	msg[2] = (uint8_t)(sender >> 8);
	msg[3] = (uint8_t)sender;
	memcpy(msg + 4, src, srclen);
	/*
	 * wire's HMAC with a per-thread, pre-fetched SHA-256: OpenSSL's
	 * one-shot HMAC() fetches the algorithm every call, several times the
	 * cost of the hash; a cookie is computed for every datagram of a
	 * flood (NMS, TRS, the DTLS door).
	 */
	proto_hmac(key, 32, msg, 4 + srclen, md);
	memcpy(out, md, E2E_COOKIE_LEN);
}

void e2e_cookie_make(const struct e2e_cookie_jar *j, const void *src, size_t srclen,
		     uint32_t sender, uint8_t out[E2E_COOKIE_LEN])
{
	mac(j->cur, src, srclen, sender, out);
}

bool e2e_cookie_check(const struct e2e_cookie_jar *j, const void *src, size_t srclen,
		      uint32_t sender, const uint8_t *cookie, size_t len)
{
	return len == E2E_COOKIE_LEN &&
	       e2e_cookie_check_prefix(j, src, srclen, sender, cookie, len);
}

bool e2e_cookie_check_prefix(const struct e2e_cookie_jar *j, const void *src, size_t srclen,
			     uint32_t sender, const uint8_t *cookie, size_t len)
{
	uint8_t want[E2E_COOKIE_LEN];
	bool ok;

	if (!len || len > E2E_COOKIE_LEN)
		return false;
	mac(j->cur, src, srclen, sender, want);
	ok = !CRYPTO_memcmp(want, cookie, len);
	mac(j->prev, src, srclen, sender, want);
	ok |= !CRYPTO_memcmp(want, cookie, len);
	return ok;
}
