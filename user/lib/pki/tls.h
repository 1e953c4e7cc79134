/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3-only contexts for the AS (server) and its clients.
 *
 * The server presents a certificate chained to the AS CA; clients trust
 * exactly that CA file and check the server's name (DNS or IP SAN).
 */
#ifndef CYPHONIC_TLS_H
#define CYPHONIC_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

/* Server context with cert_path (PEM chain) and key_path. NULL + err. */
SSL_CTX *cyph_tls_server_ctx(const char *cert_path, const char *key_path,
			     char *err, size_t errlen);

/* Client context verifying the peer against ca_path. NULL + err. */
SSL_CTX *cyph_tls_client_ctx(const char *ca_path, char *err, size_t errlen);

/*
 * Client SSL on fd expecting server_name (a DNS name or an IP literal) in
 * the server certificate. NULL + err.
 */
SSL *cyph_tls_client_new(SSL_CTX *ctx, int fd, const char *server_name,
			 char *err, size_t errlen);

#endif
