/* SPDX-License-Identifier: MIT */
/*
 * The cryptography of the signaling protocol (docs/protocol.md, section
 * "Authentication"): SHA-256, HMAC-SHA256, HKDF-SHA256, Ed25519, X25519,
 * the per-registration session keys, sealing of secrets in NMS replies,
 * relay bind secrets and the hole-punch probe MAC. OpenSSL underneath.
 */
#ifndef CYPHONIC_PROTO_CRYPTO_H
#define CYPHONIC_PROTO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "proto.h"

#define PROTO_KEY_LEN 32

void proto_sha256(const void *p, size_t n, uint8_t out[32]);
void proto_hmac(const uint8_t *key, size_t keylen, const void *p, size_t n,
		uint8_t out[32]);
void proto_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
		size_t ikm_len, const void *info, size_t info_len,
		uint8_t *out, size_t out_len);
/* Constant-time equality. */
bool proto_ct_equal(const void *a, const void *b, size_t n);
void proto_random(void *p, size_t n);

/* Ed25519. sign: 0 or -1. verify: true when valid. */
int proto_ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
		       uint8_t sig[64]);
bool proto_ed25519_verify(const uint8_t pub[32], const uint8_t *msg,
			  size_t len, const uint8_t sig[64]);
int proto_ed25519_public(EVP_PKEY *key, uint8_t pub[32]);

/* X25519: a fresh key pair; the shared secret (-1 if all-zero/invalid). */
void proto_x25519_keypair(uint8_t priv[32], uint8_t pub[32]);
int proto_x25519_shared(const uint8_t priv[32], const uint8_t peer[32],
			uint8_t out[32]);

/* The session keys of one registration. */
struct proto_keys {
	uint8_t n2s[PROTO_KEY_LEN];	/* MACs node -> NMS */
	uint8_t s2n[PROTO_KEY_LEN];	/* MACs NMS -> node */
	uint8_t seal[PROTO_KEY_LEN];	/* seals secrets NMS -> node */
};

/*
 * keys = HKDF-SHA256(salt = req_hash, ikm = X25519 shared secret,
 *                    info = "cyphonic nms v1" || node_id (u64 BE)), 96 bytes.
 */
void proto_session_keys(const uint8_t shared[32], const uint8_t req_hash[32],
			uint64_t node_id, struct proto_keys *k);

/* Appends the auth trailer to a finished message of length len. */
int proto_sign_append(uint8_t *pkt, size_t len, size_t cap, EVP_PKEY *key);
int proto_mac_append(uint8_t *pkt, size_t len, size_t cap,
		     const uint8_t key[PROTO_KEY_LEN]);
bool proto_mac_check(const uint8_t *pkt, size_t signed_len,
		     const uint8_t *tag, const uint8_t key[PROTO_KEY_LEN]);

/*
 * Seals (or opens: the operation is its own inverse) a 32-byte secret in a
 * message with sequence number seq: out = in XOR HMAC(seal, "seal" || seq
 * || tlv). The message MAC covers the sealed value.
 */
void proto_seal(const uint8_t key[PROTO_KEY_LEN], uint64_t seq, uint16_t tlv,
		const uint8_t in[32], uint8_t out[32]);

/*
 * Bind secret of one end of a relay session, known to the NMS (which gives
 * it to the end, sealed) and recomputed by the TRS:
 * HMAC(relay_key, "cyphonic relay v1" || session u32 || end u8 ||
 *      node_id u64 || expiry u64).
 */
void proto_bind_secret(const uint8_t relay_key[PROTO_KEY_LEN],
		       uint32_t session, uint8_t end, uint64_t node_id,
		       uint64_t expiry, uint8_t out[32]);

/*
 * Hole-punch probes (HANDSHAKE kind PROBE / PROBE_REPLY, docs/protocol.md
 * section 8): header (type 2, kind, 0, sender index, receiver index),
 * punch id, nonce, HMAC-SHA256(punch secret, the 28 bytes before it).
 * build returns PROTO_PROBE_LEN; check returns true for an authentic probe
 * of punch_id and gives its kind, indexes and nonce.
 */
size_t proto_probe_build(uint8_t out[PROTO_PROBE_LEN], uint8_t kind,
			 uint32_t sender, uint32_t receiver, uint64_t punch_id,
			 uint64_t nonce, const uint8_t secret[32]);
bool proto_probe_check(const uint8_t *pkt, size_t len, uint64_t punch_id,
		       const uint8_t secret[32], uint8_t *kind,
		       uint32_t *sender, uint32_t *receiver, uint64_t *nonce);

#endif
