// SPDX-License-Identifier: MIT
/*
 * Signaling cryptography on OpenSSL 3. HMAC is built on a reused,
 * per-thread digest context and a digest fetched once: the one-shot
 * HMAC()/EVP_MAC paths fetch the algorithm on every call, which costs more
 * than the hash itself for the short messages of this protocol.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <linux/cyphonic.h>
#include "proto.h"
#include "proto_crypto.h"

static EVP_MD *sha256_md;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
/* Per-thread digest context, freed when its thread exits. */
static pthread_key_t md_key;

static void md_ctx_free(void *p)
{
	EVP_MD_CTX_free(p);
}

static void md_init(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (pthread_key_create(&md_key, md_ctx_free))
		abort();
}

static EVP_MD_CTX *md_ctx(void)
{
	EVP_MD_CTX *c;

	pthread_once(&md_once, md_init);
	c = pthread_getspecific(md_key);
	if (!c) {
		c = EVP_MD_CTX_new();
		if (!c || pthread_setspecific(md_key, c))
			abort();
	}
	if (!sha256_md || !EVP_DigestInit_ex(c, sha256_md, NULL))
		abort();	/* out of memory or no SHA-256: nothing works */
	return c;
}

void proto_sha256(const void *p, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *c = md_ctx();

	EVP_DigestUpdate(c, p, n);
	EVP_DigestFinal_ex(c, out, NULL);
}

void proto_hmac(const uint8_t *key, size_t keylen, const void *p, size_t n,
		uint8_t out[32])
{
	uint8_t k[64] = { 0 }, pad[64], inner[32];
	EVP_MD_CTX *c;
	int i;

	if (keylen > 64)
		proto_sha256(key, keylen, k);
	else
		memcpy(k, key, keylen);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	c = md_ctx();
	EVP_DigestUpdate(c, pad, 64);
	EVP_DigestUpdate(c, p, n);
	EVP_DigestFinal_ex(c, inner, NULL);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	c = md_ctx();
	EVP_DigestUpdate(c, pad, 64);
	EVP_DigestUpdate(c, inner, 32);
	EVP_DigestFinal_ex(c, out, NULL);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
}

/* RFC 5869. */
void proto_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
		size_t ikm_len, const void *info, size_t info_len,
		uint8_t *out, size_t out_len)
{
	uint8_t prk[32], t[32], buf[32 + 256 + 1];
	size_t done = 0, tlen = 0;
	uint8_t i = 1;

	if (info_len > 256)
		abort();
	proto_hmac(salt, salt_len, ikm, ikm_len, prk);
	while (done < out_len) {
		size_t n = 0, take;

		memcpy(buf, t, tlen);
		n += tlen;
		memcpy(buf + n, info, info_len);
		n += info_len;
		buf[n++] = i++;
		proto_hmac(prk, 32, buf, n, t);
		tlen = 32;
		take = out_len - done < 32 ? out_len - done : 32;
		memcpy(out + done, t, take);
		done += take;
	}
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(t, sizeof(t));
}

bool proto_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void proto_random(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1)
		abort();	/* never hand out predictable secrets */
}

int proto_ed25519_sign(EVP_PKEY *key, const uint8_t *msg, size_t len,
		       uint8_t sig[64])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t siglen = 64;
	int ok;

	ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, key) == 1 &&
	     EVP_DigestSign(c, sig, &siglen, msg, len) == 1 && siglen == 64;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

bool proto_ed25519_verify(const uint8_t pub[32], const uint8_t *msg,
			  size_t len, const uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok;

	ok = k && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
	     EVP_DigestVerify(c, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}

int proto_ed25519_public(EVP_PKEY *key, uint8_t pub[32])
{
	size_t n = 32;

	return EVP_PKEY_get_raw_public_key(key, pub, &n) == 1 && n == 32 ? 0 : -1;
}

void proto_x25519_keypair(uint8_t priv[32], uint8_t pub[32])
{
	EVP_PKEY *k;
	size_t n = 32;

	proto_random(priv, 32);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	if (!k || EVP_PKEY_get_raw_public_key(k, pub, &n) != 1)
		abort();
	EVP_PKEY_free(k);
}

int proto_x25519_shared(const uint8_t priv[32], const uint8_t peer[32],
			uint8_t out[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, 32);
	EVP_PKEY_CTX *c = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
	size_t n = 32;
	int rc = -1;

	/* OpenSSL rejects an all-zero result (small-order peer key). */
	if (c && p && EVP_PKEY_derive_init(c) == 1 &&
	    EVP_PKEY_derive_set_peer(c, p) == 1 &&
	    EVP_PKEY_derive(c, out, &n) == 1 && n == 32)
		rc = 0;
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(p);
	EVP_PKEY_free(k);
	return rc;
}

void proto_session_keys(const uint8_t shared[32], const uint8_t req_hash[32],
			uint64_t node_id, struct proto_keys *k)
{
	uint8_t info[15 + 8], out[96];
	int i;

	memcpy(info, "cyphonic nms v1", 15);
	for (i = 0; i < 8; i++)
		info[15 + i] = (uint8_t)(node_id >> (56 - 8 * i));
	proto_hkdf(req_hash, 32, shared, 32, info, sizeof(info), out, 96);
	memcpy(k->n2s, out, 32);
	memcpy(k->s2n, out + 32, 32);
	memcpy(k->seal, out + 64, 32);
	OPENSSL_cleanse(out, sizeof(out));
}

int proto_sign_append(uint8_t *pkt, size_t len, size_t cap, EVP_PKEY *key)
{
	if (!len || cap - len < PROTO_SIG_LEN)
		return -1;
	return proto_ed25519_sign(key, pkt, len, pkt + len);
}

int proto_mac_append(uint8_t *pkt, size_t len, size_t cap,
		     const uint8_t key[PROTO_KEY_LEN])
{
	if (!len || cap - len < PROTO_MAC_LEN)
		return -1;
	proto_hmac(key, PROTO_KEY_LEN, pkt, len, pkt + len);
	return 0;
}

bool proto_mac_check(const uint8_t *pkt, size_t signed_len,
		     const uint8_t *tag, const uint8_t key[PROTO_KEY_LEN])
{
	uint8_t mac[32];

	proto_hmac(key, PROTO_KEY_LEN, pkt, signed_len, mac);
	return proto_ct_equal(mac, tag, 32);
}

void proto_seal(const uint8_t key[PROTO_KEY_LEN], uint64_t seq, uint16_t tlv,
		const uint8_t in[32], uint8_t out[32])
{
	uint8_t msg[4 + 8 + 2], ks[32];
	int i;

	memcpy(msg, "seal", 4);
	for (i = 0; i < 8; i++)
		msg[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
	msg[12] = (uint8_t)(tlv >> 8);
	msg[13] = (uint8_t)tlv;
	proto_hmac(key, PROTO_KEY_LEN, msg, sizeof(msg), ks);
	for (i = 0; i < 32; i++)
		out[i] = in[i] ^ ks[i];
}

void proto_bind_secret(const uint8_t relay_key[PROTO_KEY_LEN],
		       uint32_t session, uint8_t end, uint64_t node_id,
		       uint64_t expiry, uint8_t out[32])
{
	uint8_t mem[17 + 4 + 1 + 8 + 8];
	struct proto_buf b = { .p = mem, .cap = sizeof(mem) };

	proto_put_bytes(&b, "cyphonic relay v1", 17);
	proto_put_u32(&b, session);
	proto_put_u8(&b, end);
	proto_put_u64(&b, node_id);
	proto_put_u64(&b, expiry);
	proto_hmac(relay_key, PROTO_KEY_LEN, mem, b.len, out);
}

size_t proto_probe_build(uint8_t out[PROTO_PROBE_LEN], uint8_t kind,
			 uint32_t sender, uint32_t receiver, uint64_t punch_id,
			 uint64_t nonce, const uint8_t secret[32])
{
	struct proto_buf b = { .p = out, .cap = PROTO_PROBE_LEN };

	proto_put_u8(&b, CYPHONIC_MSG_HANDSHAKE);
	proto_put_u8(&b, kind);
	proto_put_u16(&b, 0);
	proto_put_u32(&b, sender);
	proto_put_u32(&b, receiver);
	proto_put_u64(&b, punch_id);
	proto_put_u64(&b, nonce);
	proto_hmac(secret, 32, out, b.len, out + b.len);
	return PROTO_PROBE_LEN;
}

bool proto_probe_check(const uint8_t *pkt, size_t len, uint64_t punch_id,
		       const uint8_t secret[32], uint8_t *kind,
		       uint32_t *sender, uint32_t *receiver, uint64_t *nonce)
{
	uint8_t mac[32];
	const size_t body = PROTO_PROBE_LEN - PROTO_MAC_LEN;

	if (len != PROTO_PROBE_LEN || pkt[0] != CYPHONIC_MSG_HANDSHAKE ||
	    (pkt[1] != PROTO_HS_PROBE && pkt[1] != PROTO_HS_PROBE_REPLY) ||
	    pkt[2] || pkt[3] || proto_get_u64(pkt + 12) != punch_id)
		return false;
	proto_hmac(secret, 32, pkt, body, mac);
	if (!proto_ct_equal(mac, pkt + body, 32))
		return false;
	*kind = pkt[1];
	*sender = proto_get_u32(pkt + 4);
	*receiver = proto_get_u32(pkt + 8);
	*nonce = proto_get_u64(pkt + 20);
	return true;
}
