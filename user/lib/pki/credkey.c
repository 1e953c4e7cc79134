// SPDX-License-Identifier: MIT
/* Ed25519 keys, signatures and certificate files (cred.h). */
#include "cred.h"
#include "runtime/fileutil.h"
#include "runtime/sslerr.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

EVP_PKEY *cyph_key_generate(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

EVP_PKEY *cyph_key_load(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key;
	BIO *b = BIO_new_file(path, "r");

	if (!b) {
		cyph_ssl_fail(err, errlen, "%s: cannot open key", path);
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!key) {
		cyph_ssl_fail(err, errlen, "%s: not a PEM private key", path);
		return NULL;
	}
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(key);
		cyph_fail(err, errlen, "%s: not an Ed25519 key", path);
		return NULL;
	}
	return key;
}

int cyph_key_save(EVP_PKEY *key, const char *path, char *err, size_t errlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc;

	if (!b || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(b);
		return cyph_ssl_fail(err, errlen, "%s: encoding key", path);
	}
	len = BIO_get_mem_data(b, &data);
	rc = cyph_write_file_atomic(path, data, (size_t)len, 0600, err, errlen);
	BIO_free(b);
	return rc;
}

int cyph_key_public(EVP_PKEY *key, uint8_t pub[32])
{
	size_t len = 32;

	if (!key || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519 ||
	    !EVP_PKEY_get_raw_public_key(key, pub, &len) || len != 32)
		return -1;
	return 0;
}

EVP_PKEY *cyph_key_from_public(const uint8_t pub[32])
{
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
}

int cyph_sig_verify(const uint8_t pubkey[32], const uint8_t *msg, size_t len,
		    const uint8_t sig[64])
{
	EVP_PKEY *pk = cyph_key_from_public(pubkey);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0;

	if (pk && md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1)
		ok = EVP_DigestVerify(md, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	ERR_clear_error();	/* a bad signature is an answer, not an error */
	return ok ? 0 : -1;
}

int cyph_sig_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t slen = 64;
	int ok = 0;

	if (md && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestSign(md, sig, &slen, msg, len) == 1 && slen == 64;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

int cyph_cert_load(const char *path, uint8_t **der, size_t *len, char *err, size_t errlen)
{
	X509 *x = NULL;
	BIO *b = BIO_new_file(path, "r");
	unsigned char *out = NULL;
	int n;

	if (!b)
		return cyph_ssl_fail(err, errlen, "%s: cannot open certificate", path);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (!x) {
		ERR_clear_error();
		(void)BIO_reset(b);
		x = d2i_X509_bio(b, NULL);
	}
	BIO_free(b);
	if (!x)
		return cyph_ssl_fail(err, errlen, "%s: not a PEM or DER certificate", path);
	n = i2d_X509(x, &out);
	X509_free(x);
	if (n <= 0)
		return cyph_ssl_fail(err, errlen, "%s: encoding certificate", path);
	*der = malloc((size_t)n);	/* plain malloc: callers free() it */
	if (!*der) {
		OPENSSL_free(out);
		return cyph_fail(err, errlen, "%s: out of memory", path);
	}
	memcpy(*der, out, (size_t)n);
	OPENSSL_free(out);
	*len = (size_t)n;
	return 0;
}

int cyph_cert_save(const char *path, const uint8_t *der, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	if (!x || !b || !PEM_write_bio_X509(b, x)) {
		cyph_ssl_fail(err, errlen, "%s: encoding certificate", path);
	} else {
		n = BIO_get_mem_data(b, &data);
		rc = cyph_write_file_atomic(path, data, (size_t)n, 0644, err, errlen);
	}
	BIO_free(b);
	X509_free(x);
	return rc;
}
