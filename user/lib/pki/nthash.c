// SPDX-License-Identifier: MIT
/* NT hashes for PEAP-MSCHAPv2 admission (nthash.h). */
#include "nthash.h"

#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#define PW_MAX_UNITS 1024

/* Next code point of UTF-8 s at *i, or -1 (malformed, overlong, surrogate, > U+FFFF). */
static long utf8_next(const unsigned char *s, size_t *i)
{
	unsigned char c = s[*i];
	long cp;
	int more;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if ((c & 0xe0) == 0xc0) {
		cp = c & 0x1f;
		more = 1;
	} else if ((c & 0xf0) == 0xe0) {
		cp = c & 0x0f;
		more = 2;
	} else {
		return -1;	/* 4-byte sequences: beyond the BMP */
	}
	for (int k = 1; k <= more; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	}
	*i += (size_t)more + 1;
	if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	return cp;
}

/*
 * MD4 is in OpenSSL 3's legacy provider only: load it into a library
 * context of our own so the rest of the process keeps the default set.
 */
static int md4(const uint8_t *in, size_t len, uint8_t out[16])
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *prov = ctx ? OSSL_PROVIDER_load(ctx, "legacy") : NULL;
	EVP_MD *md = prov ? EVP_MD_fetch(ctx, "MD4", NULL) : NULL;
	unsigned int n = 0;
	int rc = md && EVP_Digest(in, len, out, &n, md, NULL) && n == 16 ? 0 : -1;

	EVP_MD_free(md);
	if (prov)
		OSSL_PROVIDER_unload(prov);
	OSSL_LIB_CTX_free(ctx);
	return rc;
}

int cyph_nt_hash(const char *password, uint8_t out[16])
{
	const unsigned char *s = (const unsigned char *)password;
	uint8_t utf16[2 * PW_MAX_UNITS];
	size_t i = 0, n = 0;
	long cp;
	int rc;

	while (s[i]) {
		cp = utf8_next(s, &i);
		if (cp < 0 || n == PW_MAX_UNITS) {
			OPENSSL_cleanse(utf16, sizeof(utf16));
			return -1;
		}
		utf16[2 * n] = (uint8_t)(cp & 0xff);
		utf16[2 * n + 1] = (uint8_t)(cp >> 8);
		n++;
	}
	rc = md4(utf16, 2 * n, out);
	OPENSSL_cleanse(utf16, sizeof(utf16));
	return rc;
}

void cyph_nt_format(const uint8_t h[16], char out[CYPH_NT_STR_MAX])
{
	strcpy(out, CYPH_NT_PREFIX);
	for (int i = 0; i < 16; i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", h[i]);
}

bool cyph_nt_parse(const char *s, uint8_t out[16])
{
	unsigned int b;

	if (strncmp(s, CYPH_NT_PREFIX, 3) || strlen(s) != 3 + 32)
		return false;
	for (int i = 0; i < 16; i++) {
		const char *p = s + 3 + 2 * i;

		if (!strchr("0123456789abcdef", p[0]) || !strchr("0123456789abcdef", p[1]) ||
		    sscanf(p, "%2x", &b) != 1)
			return false;
		out[i] = (uint8_t)b;
	}
	return true;
}
