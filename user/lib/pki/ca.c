// SPDX-License-Identifier: MIT
/* AS certificate authority: CA creation, issuing, CRL (ca.h). */
#include "ca.h"
#include "crlnode.h"
#include "runtime/fileutil.h"
#include "runtime/sslerr.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cyph_ca_signer {
	X509 *cert;
	EVP_PKEY *key;
	uint8_t *der;
	size_t der_len;
};

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int set_serial(X509 *x, uint8_t serial[16])
{
	ASN1_INTEGER *ai;
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(serial, 16) != 1)
		return -1;
	serial[0] &= 0x7f;	/* positive */
	serial[0] |= 0x40;	/* and exactly 16 bytes in DER */
	bn = BN_bin2bn(serial, 16, NULL);
	ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ok = ai && X509_set_serialNumber(x, ai);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ok ? 0 : -1;
}

static int set_validity(X509 *x, int64_t from, int64_t to)
{
	return ASN1_TIME_set(X509_getm_notBefore(x), (time_t)from) &&
	       ASN1_TIME_set(X509_getm_notAfter(x), (time_t)to) ? 0 : -1;
}

static int write_pem_cert(X509 *x, const char *path, char *err, size_t errlen)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der), rc;

	if (n <= 0)
		return cyph_ssl_fail(err, errlen, "%s: encoding", path);
	rc = cyph_cert_save(path, der, (size_t)n, err, errlen);
	OPENSSL_free(der);
	return rc;
}

int cyph_ca_create(const char *cert_path, const char *key_path, const char *cn,
		   int days, char *err, size_t errlen)
{
	uint8_t serial[16];
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	int rc = -1;
	time_t now = time(NULL);

	if (!access(cert_path, F_OK) || !access(key_path, F_OK))
		return cyph_fail(err, errlen, "%s or %s already exists; refusing to overwrite",
				 cert_path, key_path);
	key = cyph_key_generate();
	x = X509_new();
	if (!key || !x || !X509_set_version(x, 2) || set_serial(x, serial) ||
	    set_validity(x, now - 60, now + (int64_t)days * 86400) ||
	    !X509_set_pubkey(x, key)) {
		cyph_ssl_fail(err, errlen, "creating CA");
		goto out;
	}
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) ||
	    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") ||
	    !X509_sign(x, key, NULL)) {
		cyph_ssl_fail(err, errlen, "signing CA certificate");
		goto out;
	}
	if (cyph_key_save(key, key_path, err, errlen) ||
	    write_pem_cert(x, cert_path, err, errlen))
		goto out;
	rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

struct cyph_ca_signer *cyph_ca_signer_load(const char *cert_path, const char *key_path,
					   char *err, size_t errlen)
{
	struct cyph_ca_signer *s = calloc(1, sizeof(*s));
	BIO *b = NULL;

	if (!s) {
		cyph_fail(err, errlen, "out of memory");
		return NULL;
	}
	b = BIO_new_file(cert_path, "r");
	s->cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!s->cert) {
		cyph_ssl_fail(err, errlen, "%s: cannot read CA certificate", cert_path);
		goto fail;
	}
	s->key = cyph_key_load(key_path, err, errlen);
	if (!s->key)
		goto fail;
	if (X509_check_private_key(s->cert, s->key) != 1) {
		cyph_ssl_fail(err, errlen, "%s does not match %s", key_path, cert_path);
		goto fail;
	}
	if (cyph_cert_load(cert_path, &s->der, &s->der_len, err, errlen))
		goto fail;
	return s;
fail:
	cyph_ca_signer_free(s);
	return NULL;
}

void cyph_ca_signer_free(struct cyph_ca_signer *s)
{
	if (!s)
		return;
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
	free(s->der);
	free(s);
}

const uint8_t *cyph_ca_signer_cert(struct cyph_ca_signer *s, size_t *len)
{
	*len = s->der_len;
	return s->der;
}

/* "URI:cyphonic:node:1,URI:cyphonic:role:node,DNS:x,IP:a,IP:b" */
static int san_string(const struct cyph_node_id *id, char *buf, size_t len)
{
	char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	const char *role = cyph_role_name(id->role);
	int n;

	if (!role)
		return -1;
	n = snprintf(buf, len, "URI:cyphonic:node:%" PRIu64 ",URI:cyphonic:role:%s",
		     id->id, role);
	if (id->fqdn[0]) {
		/* the FQDN came from our store, but keep the SAN list unambiguous */
		if (strpbrk(id->fqdn, ", \t\r\n"))
			return -1;
		n += snprintf(buf + n, len - (size_t)n, ",DNS:%s", id->fqdn);
	}
	if (id->has_vip4 && inet_ntop(AF_INET, &id->vip4, a4, sizeof(a4)))
		n += snprintf(buf + n, len - (size_t)n, ",IP:%s", a4);
	if (id->has_vip6 && inet_ntop(AF_INET6, &id->vip6, a6, sizeof(a6)))
		n += snprintf(buf + n, len - (size_t)n, ",IP:%s", a6);
	return n < (int)len ? 0 : -1;
}

static int build_leaf(struct cyph_ca_signer *s, X509 *x, struct cyph_node_id *id,
		      int64_t now, int64_t lifetime_s, EVP_PKEY *pub)
{
	char san[700], cn[64];
	X509_NAME *name = X509_get_subject_name(x);

	if (san_string(id, san, sizeof(san)))
		return -1;
	snprintf(cn, sizeof(cn), "cyphonic node %" PRIu64, id->id);
	if (!X509_set_version(x, 2) || set_serial(x, id->serial) ||
	    set_validity(x, now - 60, now + lifetime_s) ||
	    !X509_set_pubkey(x, pub) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(s->cert)) ||
	    add_ext(x, s->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, s->cert, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, s->cert, NID_authority_key_identifier, "keyid") ||
	    add_ext(x, s->cert, NID_subject_alt_name, san) ||
	    cyph_policy_ext_add(x, id->policy_text[0] ? id->policy_text
						      : cyph_policy_default_text(id->role)) ||
	    !X509_sign(x, s->key, NULL))
		return -1;
	id->serial_len = 16;
	id->not_after = now + lifetime_s;
	return 0;
}

int cyph_ca_issue(struct cyph_ca_signer *s, struct cyph_node_id *id, int64_t now,
		  int64_t lifetime_s, uint8_t **der, size_t *len,
		  char *err, size_t errlen)
{
	EVP_PKEY *pub = cyph_key_from_public(id->pubkey);
	X509 *x = X509_new();
	unsigned char *out = NULL;
	int n = 0, rc = -1;

	if (!pub || !x || build_leaf(s, x, id, now, lifetime_s, pub)) {
		cyph_ssl_fail(err, errlen, "issuing certificate for node %" PRIu64, id->id);
		goto out;
	}
	n = i2d_X509(x, &out);
	*der = n > 0 ? malloc((size_t)n) : NULL;
	if (!*der) {
		cyph_ssl_fail(err, errlen, "encoding certificate");
		goto out;
	}
	memcpy(*der, out, (size_t)n);
	*len = (size_t)n;
	rc = 0;
out:
	OPENSSL_free(out);
	X509_free(x);
	EVP_PKEY_free(pub);
	return rc;
}

static int crl_add(X509_CRL *crl, const struct cyph_crl_entry *e)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *ai = NULL;
	ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)e->revoked_at);
	BIGNUM *bn = BN_bin2bn(e->serial, (int)e->serial_len, NULL);
	int ok = 0;

	ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	if (r && ai && t && X509_REVOKED_set_serialNumber(r, ai) &&
	    X509_REVOKED_set_revocationDate(r, t) &&
	    (!e->node_id || !cyph_crl_entry_set_node(r, e->node_id)) &&
	    X509_CRL_add0_revoked(crl, r)) {
		ok = 1;
		r = NULL;	/* owned by the CRL now */
	}
	X509_REVOKED_free(r);
	ASN1_INTEGER_free(ai);
	ASN1_TIME_free(t);
	BN_free(bn);
	return ok ? 0 : -1;
}

static X509_CRL *build_crl(struct cyph_ca_signer *s, const struct cyph_crl_entry *e,
			   size_t n, int64_t now, int64_t next_s)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_set(NULL, (time_t)now);
	ASN1_TIME *next = ASN1_TIME_set(NULL, (time_t)(now + next_s));
	bool ok = crl && last && next && X509_CRL_set_version(crl, 1) &&
		  X509_CRL_set_issuer_name(crl, X509_get_subject_name(s->cert)) &&
		  X509_CRL_set1_lastUpdate(crl, last) &&
		  X509_CRL_set1_nextUpdate(crl, next);

	for (size_t i = 0; ok && i < n; i++)
		ok = !crl_add(crl, &e[i]);
	if (ok) {
		X509_CRL_sort(crl);
		ok = X509_CRL_sign(crl, s->key, NULL) > 0;
	}
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	if (!ok) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

int cyph_ca_write_crl(struct cyph_ca_signer *s, const struct cyph_crl_entry *e,
		      size_t n, int64_t now, int64_t next_update_s, const char *path,
		      char *err, size_t errlen)
{
	X509_CRL *crl = build_crl(s, e, n, now, next_update_s);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc = -1;

	if (!crl || !b || !PEM_write_bio_X509_CRL(b, crl)) {
		cyph_ssl_fail(err, errlen, "%s: building CRL", path);
	} else {
		len = BIO_get_mem_data(b, &data);
		rc = cyph_write_file_atomic(path, data, (size_t)len, 0644, err, errlen);
	}
	BIO_free(b);
	X509_CRL_free(crl);
	return rc;
}

static int build_tls(struct cyph_ca_signer *s, X509 *x, EVP_PKEY *key, const char *sans,
		     int days)
{
	uint8_t serial[16];
	time_t now = time(NULL);
	X509_NAME *name = X509_get_subject_name(x);

	return X509_set_version(x, 2) && !set_serial(x, serial) &&
	       !set_validity(x, now - 60, now + (int64_t)days * 86400) &&
	       X509_set_pubkey(x, key) &&
	       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					  (const unsigned char *)"cyphonic AS", -1, -1, 0) &&
	       X509_set_issuer_name(x, X509_get_subject_name(s->cert)) &&
	       !add_ext(x, s->cert, NID_basic_constraints, "critical,CA:FALSE") &&
	       !add_ext(x, s->cert, NID_key_usage, "critical,digitalSignature") &&
	       !add_ext(x, s->cert, NID_ext_key_usage, "serverAuth") &&
	       !add_ext(x, s->cert, NID_subject_alt_name, sans) &&
	       X509_sign(x, s->key, NULL) ? 0 : -1;
}

int cyph_ca_issue_tls(struct cyph_ca_signer *s, const char *cert_path, const char *key_path,
		      const char *sans, int days, char *err, size_t errlen)
{
	EVP_PKEY *key = cyph_key_generate();
	X509 *x = X509_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc = -1;

	if (!key || !x || !b || build_tls(s, x, key, sans, days) ||
	    !PEM_write_bio_X509(b, x) || !PEM_write_bio_X509(b, s->cert)) {
		cyph_ssl_fail(err, errlen, "issuing TLS certificate for '%s'", sans);
		goto out;
	}
	len = BIO_get_mem_data(b, &data);
	if (cyph_key_save(key, key_path, err, errlen) ||
	    cyph_write_file_atomic(cert_path, data, (size_t)len, 0644, err, errlen))
		goto out;
	rc = 0;
out:
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}
