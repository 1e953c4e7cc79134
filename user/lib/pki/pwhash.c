// SPDX-License-Identifier: MIT
/* PBKDF2-SHA256 password hashes (pwhash.h). */
#include "pwhash.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN 16
#define KEY_LEN 32

static int b64(const unsigned char *in, int len, char *out, size_t cap)
{
	if ((size_t)(4 * ((len + 2) / 3) + 1) > cap)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, in, len);
	return 0;
}

/* Decodes exactly want bytes of standard base64. */
static int unb64(const char *in, size_t inlen, unsigned char *out, int want)
{
	unsigned char buf[64];
	int n, pad = 0;

	if (inlen == 0 || inlen % 4 || inlen > 4 * sizeof(buf) / 3)
		return -1;
	n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)inlen);
	if (n < 0)
		return -1;
	if (in[inlen - 1] == '=')
		pad++;
	if (inlen > 1 && in[inlen - 2] == '=')
		pad++;
	if (n - pad != want)
		return -1;
	memcpy(out, buf, (size_t)want);
	return 0;
}

static int derive(const char *pw, const unsigned char *salt, unsigned int iter,
		  unsigned char key[KEY_LEN])
{
	size_t len = strnlen(pw, CYPH_PW_MAX_LEN + 1);

	if (len > CYPH_PW_MAX_LEN)
		return -1;
	return PKCS5_PBKDF2_HMAC(pw, (int)len, salt, SALT_LEN, (int)iter,
				 EVP_sha256(), KEY_LEN, key) == 1 ? 0 : -1;
}

int cyph_pw_hash(const char *password, unsigned int iterations, char out[CYPH_PW_HASH_MAX])
{
	unsigned char salt[SALT_LEN], key[KEY_LEN];
	char s64[32], k64[48];

	if (iterations < CYPH_PW_MIN_ITER || iterations > CYPH_PW_MAX_ITER)
		return -1;
	if (RAND_bytes(salt, SALT_LEN) != 1 || derive(password, salt, iterations, key))
		return -1;
	if (b64(salt, SALT_LEN, s64, sizeof(s64)) || b64(key, KEY_LEN, k64, sizeof(k64)))
		return -1;
	snprintf(out, CYPH_PW_HASH_MAX, "$pbkdf2-sha256$%u$%s$%s", iterations, s64, k64);
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

struct parsed {
	unsigned int iter;
	unsigned char salt[SALT_LEN], key[KEY_LEN];
};

static int parse(const char *hash, struct parsed *p)
{
	static const char pfx[] = "$pbkdf2-sha256$";
	const char *s, *k;
	unsigned long it;
	char *end;

	if (strncmp(hash, pfx, sizeof(pfx) - 1))
		return -1;
	s = hash + sizeof(pfx) - 1;
	errno = 0;
	it = strtoul(s, &end, 10);
	if (end == s || *end != '$' || errno || it < CYPH_PW_MIN_ITER || it > CYPH_PW_MAX_ITER)
		return -1;
	p->iter = (unsigned int)it;
	s = end + 1;
	k = strchr(s, '$');
	if (!k || unb64(s, (size_t)(k - s), p->salt, SALT_LEN) ||
	    unb64(k + 1, strlen(k + 1), p->key, KEY_LEN))
		return -1;
	return 0;
}

/* The dummy derivation: same work as a real one of iter iterations. */
static void spend(const char *password, unsigned int iter)
{
	static const unsigned char salt[SALT_LEN] = { 0 };
	unsigned char key[KEY_LEN];

	if (iter && !derive(password, salt, iter, key))
		OPENSSL_cleanse(key, sizeof(key));
}

bool cyph_pw_verify_cost(const char *password, const char *hash, unsigned int cost)
{
	unsigned char key[KEY_LEN];
	struct parsed p;
	bool ok;

	if (!hash || parse(hash, &p)) {
		/* no cost given: the default, so a broken entry is not faster */
		spend(password, cost ? cost : CYPH_PW_DEFAULT_ITER);
		return false;
	}
	if (derive(password, p.salt, p.iter, key)) {
		spend(password, cost > p.iter ? cost - p.iter : 0);
		return false;
	}
	ok = CRYPTO_memcmp(key, p.key, KEY_LEN) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	spend(password, cost > p.iter ? cost - p.iter : 0);
	return ok;
}

void cyph_pw_dummy_verify_cost(const char *password, unsigned int cost)
{
	spend(password, cost);
}

bool cyph_pw_verify(const char *password, const char *hash)
{
	return cyph_pw_verify_cost(password, hash, 0);
}

void cyph_pw_dummy_verify(const char *password)
{
	spend(password, CYPH_PW_DEFAULT_ITER);
}
