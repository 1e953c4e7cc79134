// SPDX-License-Identifier: MIT
/* Node credential verification: CA trust store, CRL, SAN parsing (cred.h). */
#include "cred.h"
#include "crlnode.h"
#include "runtime/dnsname.h"
#include "runtime/sslerr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct cyph_ca {
	atomic_uint refs;		/* cyph_ca_ref(); freed at 0 */
	pthread_rwlock_t lock;
	X509 *cert;
	X509_STORE *store;
	X509_CRL *crl;
	char crl_path[4096];
	struct timespec crl_mtime;
	off_t crl_size;
	char error[4700];
};

static const char *const role_names[] = {
	[CYPH_ROLE_NODE] = "node", [CYPH_ROLE_ADAPTER] = "adapter",
	[CYPH_ROLE_GENERAL] = "general",
};

const char *cyph_role_name(uint8_t role)
{
	return role >= CYPH_ROLE_NODE && role <= CYPH_ROLE_GENERAL ? role_names[role] : NULL;
}

uint8_t cyph_role_parse(const char *s)
{
	for (uint8_t r = CYPH_ROLE_NODE; r <= CYPH_ROLE_GENERAL; r++)
		if (!strcmp(s, role_names[r]))
			return r;
	return CYPH_ROLE_NONE;
}

struct cyph_ca *cyph_ca_load(const char *path, char *err, size_t errlen)
{
	struct cyph_ca *ca = calloc(1, sizeof(*ca));
	BIO *b = BIO_new_file(path, "r");

	if (ca)
		atomic_init(&ca->refs, 1);
	if (!ca || !b) {
		cyph_ssl_fail(err, errlen, "%s: cannot open CA certificate", path);
		goto fail;
	}
	ca->cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	if (!ca->cert) {
		cyph_ssl_fail(err, errlen, "%s: not a PEM certificate", path);
		goto fail;
	}
	if (X509_check_ca(ca->cert) != 1) {
		cyph_fail(err, errlen, "%s: not a CA certificate", path);
		goto fail;
	}
	ca->store = X509_STORE_new();
	if (!ca->store || !X509_STORE_add_cert(ca->store, ca->cert)) {
		cyph_ssl_fail(err, errlen, "%s: building trust store", path);
		goto fail;
	}
	pthread_rwlock_init(&ca->lock, NULL);
	BIO_free(b);
	return ca;
fail:
	BIO_free(b);
	if (ca) {
		X509_STORE_free(ca->store);
		X509_free(ca->cert);
		free(ca);
	}
	return NULL;
}

struct cyph_ca *cyph_ca_ref(struct cyph_ca *ca)
{
	atomic_fetch_add_explicit(&ca->refs, 1, memory_order_relaxed);
	return ca;
}

void cyph_ca_free(struct cyph_ca *ca)
{
	if (!ca || atomic_fetch_sub_explicit(&ca->refs, 1, memory_order_acq_rel) != 1)
		return;
	X509_CRL_free(ca->crl);
	X509_STORE_free(ca->store);
	X509_free(ca->cert);
	pthread_rwlock_destroy(&ca->lock);
	free(ca);
}

const char *cyph_ca_error(struct cyph_ca *ca)
{
	return ca->error;
}

static X509_CRL *read_crl(struct cyph_ca *ca, const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509_CRL *crl;
	EVP_PKEY *pk;

	if (!b) {
		cyph_ssl_fail(ca->error, sizeof(ca->error), "%s: cannot open CRL", path);
		return NULL;
	}
	crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
	if (!crl) {
		ERR_clear_error();
		(void)BIO_reset(b);
		crl = d2i_X509_CRL_bio(b, NULL);
	}
	BIO_free(b);
	if (!crl) {
		cyph_ssl_fail(ca->error, sizeof(ca->error), "%s: not a CRL", path);
		return NULL;
	}
	pk = X509_get0_pubkey(ca->cert);
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca->cert))) {
		snprintf(ca->error, sizeof(ca->error), "%s: CRL not signed by the CA (issuer differs)", path);
		X509_CRL_free(crl);
		return NULL;
	}
	if (X509_CRL_verify(crl, pk) != 1) {
		cyph_ssl_fail(ca->error, sizeof(ca->error), "%s: CRL not signed by the CA", path);
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

int cyph_ca_load_crl(struct cyph_ca *ca, const char *path)
{
	struct stat st;
	X509_CRL *crl;

	if (stat(path, &st)) {
		snprintf(ca->error, sizeof(ca->error), "%s: %s", path, strerror(errno));
		return -1;
	}
	crl = read_crl(ca, path);
	if (!crl)
		return -1;
	pthread_rwlock_wrlock(&ca->lock);
	X509_CRL_free(ca->crl);
	ca->crl = crl;
	if (ca->crl_path != path)
		snprintf(ca->crl_path, sizeof(ca->crl_path), "%s", path);
	ca->crl_mtime = st.st_mtim;
	ca->crl_size = st.st_size;
	pthread_rwlock_unlock(&ca->lock);
	return 0;
}

int cyph_ca_crl_refresh(struct cyph_ca *ca)
{
	struct stat st;
	bool changed;

	if (!ca->crl_path[0])
		return 0;
	if (stat(ca->crl_path, &st)) {
		snprintf(ca->error, sizeof(ca->error), "%s: %s", ca->crl_path, strerror(errno));
		return -1;
	}
	changed = st.st_mtim.tv_sec != ca->crl_mtime.tv_sec ||
		  st.st_mtim.tv_nsec != ca->crl_mtime.tv_nsec ||
		  st.st_size != ca->crl_size;
	if (!changed)
		return 0;
	return cyph_ca_load_crl(ca, ca->crl_path) ? -1 : 1;
}

size_t cyph_ca_crl_count(struct cyph_ca *ca)
{
	size_t n = 0;

	pthread_rwlock_rdlock(&ca->lock);
	if (ca->crl) {
		STACK_OF(X509_REVOKED) *r = X509_CRL_get_REVOKED(ca->crl);

		n = r ? (size_t)sk_X509_REVOKED_num(r) : 0;
	}
	pthread_rwlock_unlock(&ca->lock);
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t cyph_ca_revoked_nodes(struct cyph_ca *ca, uint64_t **ids)
{
	STACK_OF(X509_REVOKED) *r;
	size_t n = 0;
	int i, num;

	*ids = NULL;
	pthread_rwlock_rdlock(&ca->lock);
	r = ca->crl ? X509_CRL_get_REVOKED(ca->crl) : NULL;
	num = r ? sk_X509_REVOKED_num(r) : 0;
	if (num > 0)
		*ids = malloc((size_t)num * sizeof(**ids));
	for (i = 0; *ids && i < num; i++)
		if (cyph_crl_entry_node(sk_X509_REVOKED_value(r, i), &(*ids)[n]))
			n++;
	pthread_rwlock_unlock(&ca->lock);
	if (n)
		qsort(*ids, n, sizeof(**ids), cmp_u64);
	return n;
}

static int parse_uri(const char *uri, size_t len, struct cyph_node_id *out,
		     int *nid, int *nrole, char *err, size_t errlen)
{
	char buf[128], *end;

	if (len >= sizeof(buf) || memchr(uri, '\0', len))
		return 0;	/* not ours */
	memcpy(buf, uri, len);
	buf[len] = '\0';
	if (!strncmp(buf, "cyphonic:node:", 14)) {
		const char *d = buf + 14;

		errno = 0;
		out->id = strtoull(d, &end, 10);
		if (!*d || *end || errno || *d == '-' || *d == '+')
			return cyph_fail(err, errlen, "bad node id URI '%s'", buf);
		(*nid)++;
	} else if (!strncmp(buf, "cyphonic:role:", 14)) {
		out->role = cyph_role_parse(buf + 14);
		if (out->role == CYPH_ROLE_NONE)
			return cyph_fail(err, errlen, "unknown role '%s'", buf + 14);
		(*nrole)++;
	}
	return 0;
}

static int parse_ip(const ASN1_OCTET_STRING *ip, struct cyph_node_id *out,
		    char *err, size_t errlen)
{
	int len = ASN1_STRING_length(ip);
	const unsigned char *d = ASN1_STRING_get0_data(ip);

	if (len == 4 && !out->has_vip4) {
		memcpy(&out->vip4, d, 4);
		out->has_vip4 = true;
	} else if (len == 16 && !out->has_vip6) {
		memcpy(&out->vip6, d, 16);
		out->has_vip6 = true;
	} else {
		return cyph_fail(err, errlen, "bad or duplicate IP SAN");
	}
	return 0;
}

static int parse_dns(const ASN1_IA5STRING *dns, struct cyph_node_id *out,
		     char *err, size_t errlen)
{
	int len = ASN1_STRING_length(dns);
	const unsigned char *d = ASN1_STRING_get0_data(dns);

	if (out->fqdn[0])
		return cyph_fail(err, errlen, "more than one DNS SAN");
	if (len <= 0 || (size_t)len >= sizeof(out->fqdn) || memchr(d, '\0', (size_t)len))
		return cyph_fail(err, errlen, "bad DNS SAN");
	memcpy(out->fqdn, d, (size_t)len);
	out->fqdn[len] = '\0';
	/* the adapter writes it (its domain) into dnsmasq's configuration */
	if (!cyph_dns_name_valid(out->fqdn))
		return cyph_fail(err, errlen, "DNS SAN is no DNS name");
	return 0;
}

static int parse_sans(X509 *x, struct cyph_node_id *out, char *err, size_t errlen)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int nid = 0, nrole = 0, rc = 0;

	if (!gens)
		return cyph_fail(err, errlen, "no subjectAltName");
	for (int i = 0; !rc && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_URI)
			rc = parse_uri((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
				       (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier),
				       out, &nid, &nrole, err, errlen);
		else if (g->type == GEN_DNS)
			rc = parse_dns(g->d.dNSName, out, err, errlen);
		else if (g->type == GEN_IPADD)
			rc = parse_ip(g->d.iPAddress, out, err, errlen);
	}
	GENERAL_NAMES_free(gens);
	if (!rc && (nid != 1 || nrole != 1))
		rc = cyph_fail(err, errlen, "need exactly one node id and one role URI SAN");
	return rc;
}

/* The access policy extension, or the role's default without one. */
static int parse_policy(X509 *x, struct cyph_node_id *out, char *err, size_t errlen)
{
	int rc = cyph_policy_ext_get(x, out->policy_text, sizeof(out->policy_text));

	if (rc < 0)
		return cyph_fail(err, errlen, "malformed access policy extension");
	if (!rc)
		snprintf(out->policy_text, sizeof(out->policy_text), "%s",
			 cyph_policy_default_text(out->role));
	if (cyph_policy_parse(out->policy_text, strlen(out->policy_text), &out->policy))
		return cyph_fail(err, errlen, "malformed access policy \"%s\"", out->policy_text);
	return 0;
}

static int parse_x509(X509 *x, struct cyph_node_id *out, char *err, size_t errlen)
{
	const ASN1_INTEGER *ser = X509_get0_serialNumber(x);
	const ASN1_TIME *na = X509_get0_notAfter(x);
	struct tm tm;

	memset(out, 0, sizeof(*out));
	if (cyph_key_public(X509_get0_pubkey(x), out->pubkey))
		return cyph_fail(err, errlen, "certificate key is not Ed25519");
	if (!na || !ASN1_TIME_to_tm(na, &tm))
		return cyph_fail(err, errlen, "bad notAfter");
	out->not_after = (int64_t)timegm(&tm);
	if (ASN1_STRING_length(ser) <= 0 || ASN1_STRING_length(ser) > 20)
		return cyph_fail(err, errlen, "bad serial number");
	out->serial_len = (size_t)ASN1_STRING_length(ser);
	memcpy(out->serial, ASN1_STRING_get0_data(ser), out->serial_len);
	if (parse_sans(x, out, err, errlen))
		return -1;
	return parse_policy(x, out, err, errlen);
}

static X509 *decode(const uint8_t *der, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = der;
	X509 *x;

	if (!der || !len || len > 16384) {
		cyph_fail(err, errlen, "certificate size %zu out of range", len);
		return NULL;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (!x || p != der + len) {
		X509_free(x);
		cyph_ssl_fail(err, errlen, "malformed certificate");
		return NULL;
	}
	return x;
}

int cyph_cred_parse(const uint8_t *der, size_t len, struct cyph_node_id *out,
		    char *err, size_t errlen)
{
	X509 *x = decode(der, len, err, errlen);
	int rc;

	if (!x)
		return -1;
	rc = parse_x509(x, out, err, errlen);
	X509_free(x);
	return rc;
}

static enum cyph_cred_status verify_chain(struct cyph_ca *ca, X509 *x, int64_t now,
					  char *err, size_t errlen)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	enum cyph_cred_status st = CYPH_CRED_UNTRUSTED;
	int e;

	if (!ctx || !X509_STORE_CTX_init(ctx, ca->store, x, NULL)) {
		cyph_ssl_fail(err, errlen, "verify context");
		goto out;
	}
	X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		cyph_fail(err, errlen, "certificate rejected: %s",
			  X509_verify_cert_error_string(e));
		ERR_clear_error();
		if (e == X509_V_ERR_CERT_HAS_EXPIRED)
			st = CYPH_CRED_EXPIRED;
		else if (e == X509_V_ERR_CERT_NOT_YET_VALID)
			st = CYPH_CRED_NOT_YET_VALID;
		goto out;
	}
	st = CYPH_CRED_OK;
out:
	X509_STORE_CTX_free(ctx);
	return st;
}

static bool revoked(struct cyph_ca *ca, X509 *x)
{
	X509_REVOKED *r = NULL;

	return ca->crl && X509_CRL_get0_by_serial(ca->crl, &r,
			(ASN1_INTEGER *)X509_get0_serialNumber(x)) == 1;
}

enum cyph_cred_status cyph_cred_check(struct cyph_ca *ca, const uint8_t *der, size_t len,
				      int64_t now, struct cyph_node_id *out,
				      char *err, size_t errlen)
{
	X509 *x = decode(der, len, err, errlen);
	enum cyph_cred_status st;

	if (!x)
		return CYPH_CRED_MALFORMED;
	pthread_rwlock_rdlock(&ca->lock);
	st = verify_chain(ca, x, now, err, errlen);
	if (st != CYPH_CRED_OK)
		goto out;
	if (revoked(ca, x)) {
		cyph_fail(err, errlen, "certificate revoked");
		st = CYPH_CRED_REVOKED;
		goto out;
	}
	if (parse_x509(x, out, err, errlen))
		st = CYPH_CRED_BAD_FIELDS;
out:
	pthread_rwlock_unlock(&ca->lock);
	X509_free(x);
	return st;
}

int cyph_cred_verify(struct cyph_ca *ca, const uint8_t *der, size_t len,
		     int64_t now, struct cyph_node_id *out, char *err, size_t errlen)
{
	return cyph_cred_check(ca, der, len, now, out, err, errlen) == CYPH_CRED_OK ? 0 : -1;
}
