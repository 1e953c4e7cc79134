/* SPDX-License-Identifier: MIT */
/*
 * The AS certificate authority: creates the CA, issues node certificates
 * (the format cred.h verifies) and writes the CRL. Used by cyphonic-as and
 * cyphonic-admin; verifiers only need cred.h.
 */
#ifndef CYPHONIC_CA_H
#define CYPHONIC_CA_H

#include "cred.h"

#include <stddef.h>
#include <stdint.h>

struct cyph_ca_signer;

/*
 * Creates an Ed25519 CA key (mode 0600) and a self-signed CA certificate
 * (mode 0644) valid for days. Refuses to overwrite existing files.
 */
int cyph_ca_create(const char *cert_path, const char *key_path, const char *cn,
		   int days, char *err, size_t errlen);

struct cyph_ca_signer *cyph_ca_signer_load(const char *cert_path, const char *key_path,
					   char *err, size_t errlen);
void cyph_ca_signer_free(struct cyph_ca_signer *s);

/*
 * Issues a certificate for id->pubkey binding id->id, role, fqdn and the
 * VIPs, valid from now - 60 s (clock skew) to now + lifetime_s. Fills
 * id->serial, id->serial_len and id->not_after. *der is malloc'd (free()).
 */
int cyph_ca_issue(struct cyph_ca_signer *s, struct cyph_node_id *id, int64_t now,
		  int64_t lifetime_s, uint8_t **der, size_t *len,
		  char *err, size_t errlen);

struct cyph_crl_entry {
	uint8_t serial[20];
	size_t serial_len;
	int64_t revoked_at;	/* Unix seconds */
	uint64_t node_id;	/* 0: none; else written as crlnode.h says */
};

/*
 * Writes a CRL (PEM) listing entries, thisUpdate now, nextUpdate
 * now + next_update_s, atomically (temp file + rename, mode 0644).
 */
int cyph_ca_write_crl(struct cyph_ca_signer *s, const struct cyph_crl_entry *e,
		      size_t n, int64_t now, int64_t next_update_s, const char *path,
		      char *err, size_t errlen);

/*
 * Creates a TLS server key (Ed25519, 0600) and certificate for sans
 * (an OpenSSL subjectAltName list, e.g. "DNS:as.example,IP:127.0.0.1"),
 * extendedKeyUsage serverAuth, valid for days. The certificate file holds
 * the leaf followed by the CA certificate.
 */
int cyph_ca_issue_tls(struct cyph_ca_signer *s, const char *cert_path, const char *key_path,
		      const char *sans, int days, char *err, size_t errlen);

/* The CA certificate as DER (owned by the signer). */
const uint8_t *cyph_ca_signer_cert(struct cyph_ca_signer *s, size_t *len);

#endif
