// SPDX-License-Identifier: MIT
/* TLS 1.3 contexts (tls.h). */
#include "tls.h"
#include "runtime/sslerr.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

static SSL_CTX *base_ctx(const SSL_METHOD *m, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(m);

	if (!ctx) {
		cyph_ssl_fail(err, errlen, "SSL_CTX_new");
		return NULL;
	}
	/* TLS 1.3 only: no legacy versions, no renegotiation, no tickets */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		cyph_ssl_fail(err, errlen, "cannot restrict to TLS 1.3");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

SSL_CTX *cyph_tls_server_ctx(const char *cert_path, const char *key_path,
			     char *err, size_t errlen)
{
	SSL_CTX *ctx = base_ctx(TLS_server_method(), err, errlen);

	if (!ctx)
		return NULL;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		cyph_ssl_fail(err, errlen, "%s: cannot load TLS certificate", cert_path);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		cyph_ssl_fail(err, errlen, "%s: cannot load TLS key (or it does not match %s)",
			      key_path, cert_path);
		goto fail;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *cyph_tls_client_ctx(const char *ca_path, char *err, size_t errlen)
{
	SSL_CTX *ctx = base_ctx(TLS_client_method(), err, errlen);

	if (!ctx)
		return NULL;
	if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
		cyph_ssl_fail(err, errlen, "%s: cannot load CA certificate", ca_path);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

SSL *cyph_tls_client_new(SSL_CTX *ctx, int fd, const char *server_name,
			 char *err, size_t errlen)
{
	unsigned char ip[16];
	SSL *ssl = SSL_new(ctx);
	int ok;

	if (!ssl || !SSL_set_fd(ssl, fd)) {
		cyph_ssl_fail(err, errlen, "SSL_new");
		SSL_free(ssl);
		return NULL;
	}
	if (inet_pton(AF_INET, server_name, ip) == 1 ||
	    inet_pton(AF_INET6, server_name, ip) == 1) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name);
	} else {
		ok = SSL_set1_host(ssl, server_name) &&
		     SSL_set_tlsext_host_name(ssl, server_name);
	}
	if (!ok) {
		cyph_ssl_fail(err, errlen, "%s: bad server name", server_name);
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}
