/* SPDX-License-Identifier: MIT */
/*
 * Node credentials: short-lived X.509 certificates issued by the AS CA
 * for Ed25519 node keys. Anyone holding the CA certificate (and the CRL
 * the AS publishes) can verify a credential without calling the AS.
 *
 * A node certificate binds, in its subjectAltName:
 *	URI  cyphonic:node:<decimal id>		exactly one
 *	URI  cyphonic:role:node|adapter|general	exactly one
 *	DNS  <fqdn>				at most one
 *	IP   <vip4>, <vip6>			at most one of each family
 * plus the Ed25519 public key, notBefore/notAfter and a random serial.
 * The CA certificate is a self-signed Ed25519 CA (basicConstraints CA:TRUE).
 *
 * Revocation: the AS writes a CRL (PEM) signed by the CA; verifiers load
 * it with cyph_ca_load_crl() and poll cyph_ca_crl_refresh() (mtime check)
 * on a timer and on SIGHUP. A struct cyph_ca may be shared by threads:
 * verification takes a read lock, (re)loading the CRL a write lock.
 */
#ifndef CYPHONIC_CRED_H
#define CYPHONIC_CRED_H

#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy.h"

enum cyph_role {
	CYPH_ROLE_NONE = 0,
	CYPH_ROLE_NODE = 1,
	CYPH_ROLE_ADAPTER = 2,
	CYPH_ROLE_GENERAL = 3,	/* a general node behind an adapter */
};

struct cyph_node_id {
	uint64_t id;
	char fqdn[256];
	uint8_t role;		/* enum cyph_role */
	struct in_addr vip4;
	struct in6_addr vip6;
	bool has_vip4, has_vip6;
	uint8_t pubkey[32];	/* Ed25519 */
	int64_t not_after;	/* Unix seconds */
	uint8_t serial[20];
	size_t serial_len;
	/*
	 * Access policy (policy.h): the text the certificate carries (or, to
	 * issue, "" for the role's default) and its parsed form.
	 */
	char policy_text[CYPH_POLICY_TEXT_MAX + 1];
	struct cyph_policy policy;
};

/* "node" / "adapter" / "general" <-> enum; NULL / CYPH_ROLE_NONE if unknown. */
const char *cyph_role_name(uint8_t role);
uint8_t cyph_role_parse(const char *s);

/* --- verification side (NMS, TRS, nodes) --- */

struct cyph_ca;

struct cyph_ca *cyph_ca_load(const char *ca_cert_pem_path, char *err, size_t errlen);
/*
 * Another reference to ca, for a thread that verifies with it while its
 * owner may replace it (a reload): cyph_ca_free() drops one reference and
 * frees at the last. Verification and CRL reloads are safe from any thread.
 */
struct cyph_ca *cyph_ca_ref(struct cyph_ca *ca);
void cyph_ca_free(struct cyph_ca *ca);

/*
 * Loads the CRL at path (PEM or DER), after checking it is signed by the
 * CA, replacing the previous one. Returns 0, or -1 keeping the old CRL
 * (reason in cyph_ca_error()). A missing file is an error here.
 */
int cyph_ca_load_crl(struct cyph_ca *ca, const char *path);
/*
 * Reloads the CRL loaded last if its mtime or size changed. Returns 1
 * when reloaded, 0 when unchanged or no CRL was loaded, -1 on error
 * (old CRL kept).
 */
int cyph_ca_crl_refresh(struct cyph_ca *ca);
const char *cyph_ca_error(struct cyph_ca *ca);	/* last load error */
size_t cyph_ca_crl_count(struct cyph_ca *ca);	/* revoked serials */
/*
 * Node ids named by the loaded CRL's entries (the AS writes the id of the
 * revoked certificate's node with each; crlnode.h), sorted, in a malloc'd
 * *ids (free()). Returns the count; 0 and *ids NULL when there are none.
 */
size_t cyph_ca_revoked_nodes(struct cyph_ca *ca, uint64_t **ids);

/*
 * Verifies a DER node certificate: signed by the CA, valid at now (Unix
 * seconds), not revoked, Ed25519 key, well-formed cyphonic SANs. Fills
 * out. Returns 0, or -1 with the reason in err.
 */
int cyph_cred_verify(struct cyph_ca *ca, const uint8_t *der, size_t len,
		     int64_t now, struct cyph_node_id *out, char *err, size_t errlen);

/* Why cyph_cred_check() refused a certificate (for counting and logs). */
enum cyph_cred_status {
	CYPH_CRED_OK = 0,
	CYPH_CRED_MALFORMED,		/* not a DER certificate, or too large */
	CYPH_CRED_UNTRUSTED,		/* does not chain to the CA (or bad signature) */
	CYPH_CRED_EXPIRED,		/* past notAfter */
	CYPH_CRED_NOT_YET_VALID,	/* before notBefore */
	CYPH_CRED_REVOKED,		/* serial listed in the loaded CRL */
	CYPH_CRED_BAD_FIELDS,		/* not Ed25519, or cyphonic SANs malformed */
};

/* cyph_cred_verify() that also says why it refused. */
enum cyph_cred_status cyph_cred_check(struct cyph_ca *ca, const uint8_t *der, size_t len,
				      int64_t now, struct cyph_node_id *out,
				      char *err, size_t errlen);

/* Parses the cyphonic fields of a certificate without verifying it. */
int cyph_cred_parse(const uint8_t *der, size_t len, struct cyph_node_id *out,
		    char *err, size_t errlen);

/* --- Ed25519 signatures --- */

/* 0 when sig is a valid signature of msg by pubkey, -1 otherwise. */
int cyph_sig_verify(const uint8_t pubkey[32], const uint8_t *msg, size_t len,
		    const uint8_t sig[64]);
/* 0 or -1. key must be an Ed25519 private key. */
int cyph_sig_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64]);

/* --- key and certificate files --- */

EVP_PKEY *cyph_key_generate(void);			/* Ed25519 */
/* PEM (PKCS#8) private key; must be Ed25519. */
EVP_PKEY *cyph_key_load(const char *path, char *err, size_t errlen);
/* Writes PEM PKCS#8 with mode 0600 (atomically: temp file + rename). */
int cyph_key_save(EVP_PKEY *key, const char *path, char *err, size_t errlen);
int cyph_key_public(EVP_PKEY *key, uint8_t pub[32]);	/* 0 or -1 */
EVP_PKEY *cyph_key_from_public(const uint8_t pub[32]);

/* Reads a certificate (PEM or DER) into malloc'd DER (free()). 0 or -1. */
int cyph_cert_load(const char *path, uint8_t **der, size_t *len, char *err, size_t errlen);
/* Writes DER as PEM (mode 0644, temp file + rename). 0 or -1. */
int cyph_cert_save(const char *path, const uint8_t *der, size_t len, char *err, size_t errlen);

#endif
