// SPDX-License-Identifier: MIT
/*
 * The peer's certificates (e2e): [handshake certificate, node certificate]
 * (hskey.c). The node certificate is verified by pki (chain to the AS CA,
 * validity, CRL, cyphonic SANs) in place of OpenSSL's own chain check, the
 * handshake certificate must be signed by it, the identity must be the
 * one the caller expects, and the access policy in the two node
 * certificates must let the initiator reach the responder.
 */
#include "internal.h"

#include <openssl/x509.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool matches(const struct e2e_expect *e, const struct cyph_node_id *id)
{
	if (e->id && e->id != id->id)
		return false;
	if (e->fqdn[0] && strcasecmp(e->fqdn, id->fqdn))
		return false;
	if (e->has_vip4 && (!id->has_vip4 || e->vip4.s_addr != id->vip4.s_addr))
		return false;
	if (e->has_vip6 && (!id->has_vip6 || memcmp(&e->vip6, &id->vip6, sizeof(id->vip6))))
		return false;
	return true;
}

/* Refuses with r, and an X509 error OpenSSL turns into the right alert. */
static int refuse(X509_STORE_CTX *xs, struct e2e_session *s, enum e2e_result r, int x509_err)
{
	s->verify_result = r;
	X509_STORE_CTX_set_error(xs, x509_err);
	return 0;
}

int e2e_verify_cb(X509_STORE_CTX *xs, void *arg)
{
	struct e2e_ctx *ctx = arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct e2e_session *s = ssl ? SSL_get_app_data(ssl) : NULL;
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(xs);
	X509 *leaf = X509_STORE_CTX_get0_cert(xs), *node;
	unsigned char *der = NULL;
	struct cyph_node_id id;
	enum cyph_cred_status st;
	char err[256];
	int len;

	if (!s)
		return 0;
	if (!leaf || !chain || sk_X509_num(chain) != 2 || sk_X509_value(chain, 0) != leaf)
		return refuse(xs, s, E2E_FAIL_BAD_CERT, X509_V_ERR_UNSPECIFIED);
	node = sk_X509_value(chain, 1);
	if ((len = i2d_X509(node, &der)) <= 0)
		return refuse(xs, s, E2E_FAIL_BAD_CERT, X509_V_ERR_UNSPECIFIED);
	/* pki builds the node certificate's chain from the CA alone */
	st = cyph_cred_check(ctx->ca, der, (size_t)len, (int64_t)time(NULL), &id, err, sizeof(err));
	OPENSSL_free(der);
	switch (st) {
	case CYPH_CRED_OK:
		break;
	case CYPH_CRED_UNTRUSTED:
		return refuse(xs, s, E2E_FAIL_UNTRUSTED, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	case CYPH_CRED_EXPIRED:
		return refuse(xs, s, E2E_FAIL_EXPIRED, X509_V_ERR_CERT_HAS_EXPIRED);
	case CYPH_CRED_NOT_YET_VALID:
		return refuse(xs, s, E2E_FAIL_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID);
	case CYPH_CRED_REVOKED:
		return refuse(xs, s, E2E_FAIL_REVOKED, X509_V_ERR_CERT_REVOKED);
	default:
		return refuse(xs, s, E2E_FAIL_BAD_CERT, X509_V_ERR_UNSPECIFIED);
	}
	if (!e2e_hskey_delegated(leaf, node))
		return refuse(xs, s, E2E_FAIL_BAD_CERT, X509_V_ERR_CERT_SIGNATURE_FAILURE);
	if (s->has_expect && !matches(&s->expect, &id))
		return refuse(xs, s, E2E_FAIL_PEER_MISMATCH, X509_V_ERR_HOSTNAME_MISMATCH);
	/* The access policy: the side that starts must be allowed to reach the other. */
	if (!(s->initiator ? cyph_policy_allows(&ctx->self_policy, &id.policy)
			   : cyph_policy_allows(&id.policy, &ctx->self_policy)))
		return refuse(xs, s, E2E_FAIL_POLICY, X509_V_ERR_APPLICATION_VERIFICATION);
	s->peer = id;
	s->peer_known = true;
	X509_STORE_CTX_set_error(xs, X509_V_OK);
	return 1;
}
