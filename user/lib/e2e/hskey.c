// SPDX-License-Identifier: MIT
/*
 * The DTLS handshake key and its delegation by the node key (e2e).
 *
 * OpenSSL 3.0 (Debian 12's libssl) refuses Ed25519 certificates in DTLS
 * 1.2: ssl_set_masks() in ssl/t1_lib.c admits Ed25519 for aECDSA only
 * when TLS1_get_version() is TLS1_2_VERSION, which a DTLS connection never
 * is, so a handshake with the AS-issued Ed25519 node certificate alone
 * finds "no shared cipher". Each node therefore makes an ECDSA P-256
 * handshake key and a certificate for it signed by its Ed25519 node key
 * (issuer = the node certificate's subject, the node certificate's
 * validity period), and presents the chain [handshake certificate, node
 * certificate]. The peer accepts the chain only when the node certificate
 * passes pki's full check (AS CA, validity, CRL, SANs) and the handshake
 * certificate's signature verifies under the node certificate's key; DTLS
 * then proves possession of the handshake key. The identity is the node
 * certificate's, exactly as if it had been the leaf.
 */
#include "internal.h"
#include "runtime/sslerr.h"

#include <openssl/rand.h>
#include <openssl/x509.h>
#include <time.h>

int e2e_hskey_make(EVP_PKEY *node_key, X509 *node_cert, EVP_PKEY **hs_key, X509 **hs_cert,
		   char *err, size_t errlen)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	unsigned char serial[16];
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	bool ok;

	ok = k && x && RAND_bytes(serial, sizeof(serial)) == 1;
	if (ok) {
		serial[0] &= 0x7f;	/* positive */
		bn = BN_bin2bn(serial, sizeof(serial), NULL);
		sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	}
	ok = ok && sn && X509_set_version(x, 2) && X509_set_serialNumber(x, sn) &&
	     X509_set1_notBefore(x, X509_get0_notBefore(node_cert)) &&
	     X509_set1_notAfter(x, X509_get0_notAfter(node_cert)) &&
	     X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
					(const unsigned char *)"cyphonic e2e handshake key",
					-1, -1, 0) &&
	     X509_set_issuer_name(x, X509_get_subject_name(node_cert)) &&
	     X509_set_pubkey(x, k) &&
	     X509_sign(x, node_key, NULL) > 0;	/* Ed25519: no separate digest */
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	if (!ok) {
		EVP_PKEY_free(k);
		X509_free(x);
		return cyph_ssl_fail(err, errlen, "e2e handshake key");
	}
	*hs_key = k;
	*hs_cert = x;
	return 0;
}

bool e2e_hskey_delegated(X509 *hs_cert, X509 *node_cert)
{
	EVP_PKEY *node_pub = X509_get0_pubkey(node_cert);
	time_t now = time(NULL);

	return node_pub && X509_verify(hs_cert, node_pub) == 1 &&
	       X509_cmp_time(X509_get0_notBefore(hs_cert), &now) < 0 &&
	       X509_cmp_time(X509_get0_notAfter(hs_cert), &now) > 0;
}
