// SPDX-License-Identifier: MIT
/*
 * The e2e context (session.h): one DTLS 1.2 SSL_CTX for both roles with
 * the node's credential, and the callbacks OpenSSL calls back into.
 */
#include "frame.h"
#include "internal.h"
#include "runtime/sslerr.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

/*
 * ECDHE only (forward secrecy), AEAD only; the handshake key is ECDSA
 * P-256, its certificate is signed with the Ed25519 node key (hskey.c).
 */
#define E2E_CIPHERS "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"
#define E2E_GROUPS "X25519:P-256"
#define E2E_SIGALGS "ECDSA+SHA256:ed25519"

void e2e_config_defaults(struct e2e_config *c)
{
	*c = (struct e2e_config){
		.rto_initial_ms = 400,
		.rto_max_ms = 3200,
		.handshake_timeout_ms = 10000,
		.linger_ms = 10000,
		.max_half_open = 256,
		.cookie_threshold = 16,
		.cookie_rotate_ms = 30000,
		.budget_slots = 4096,
		.budget_burst = 8,
		.budget_per_sec = 2,
	};
}

static struct e2e_ctx *ctx_of(SSL *ssl)
{
	return SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
}

/*
 * Retransmission interval: rto_initial_ms, or three round trips of the
 * path when that is longer, doubling up to rto_max_ms. A first timer
 * shorter than the round trip plus the peer's signature fires before the
 * answer can come: the spurious copy makes the peer send its flight again
 * and the initiator its next one (bench-node's trace showed both on a
 * 200 ms path), work that delays the handshake it was meant to speed up.
 */
static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
	struct e2e_ctx *ctx = ctx_of(ssl);
	unsigned int max_us = ctx->cfg.rto_max_ms * 1000u, first = ctx->cfg.rto_initial_ms;

	if (3 * ctx->rtt_ms > first)
		first = 3 * ctx->rtt_ms < ctx->cfg.rto_max_ms ? 3 * ctx->rtt_ms : ctx->cfg.rto_max_ms;
	if (!prev_us)
		return first * 1000u;
	return prev_us >= max_us / 2 ? max_us : prev_us * 2;
}

void e2e_ctx_set_rtt(struct e2e_ctx *ctx, unsigned int rtt_ms)
{
	if (ctx)
		ctx->rtt_ms = rtt_ms;
}

/* Who the cookie is for: the session's source, or the datagram at the door. */
static bool cookie_subject(SSL *ssl, const void **src, size_t *srclen, uint32_t *sender)
{
	struct e2e_session *s = SSL_get_app_data(ssl);
	struct e2e_ctx *ctx = ctx_of(ssl);

	if (s) {
		*src = s->src;
		*srclen = s->srclen;
		*sender = s->peer_index;
	} else {
		*src = ctx->cur_src;
		*srclen = ctx->cur_srclen;
		*sender = ctx->cur_sender;
	}
	return *src && *srclen;
}

static int cookie_gen_cb(SSL *ssl, unsigned char *cookie, unsigned int *len)
{
	const void *src;
	size_t srclen;
	uint32_t sender;

	if (!cookie_subject(ssl, &src, &srclen, &sender))
		return 0;
	e2e_cookie_make(&ctx_of(ssl)->jar, src, srclen, sender, cookie);
	*len = E2E_COOKIE_LEN;
	return 1;
}

static int cookie_verify_cb(SSL *ssl, const unsigned char *cookie, unsigned int len)
{
	const void *src;
	size_t srclen;
	uint32_t sender;

	return cookie_subject(ssl, &src, &srclen, &sender) &&
	       e2e_cookie_check(&ctx_of(ssl)->jar, src, srclen, sender, cookie, len);
}

/*
 * Sees every handshake message and alert: counts the messages that cost a
 * private-key signature (once per session: retransmissions re-send, they
 * do not re-sign) and notes fatal alerts from the peer.
 */
static void msg_cb(int write_p, int version, int content_type, const void *buf,
		   size_t len, SSL *ssl, void *arg)
{
	struct e2e_session *s = SSL_get_app_data(ssl);
	const uint8_t *p = buf;
	unsigned int bit;

	(void)version;
	(void)arg;
	if (!s || !len)
		return;
	if (!write_p && content_type == SSL3_RT_ALERT && p[0] == SSL3_AL_FATAL) {
		s->alert_received = true;
		return;
	}
	if (!write_p || content_type != SSL3_RT_HANDSHAKE)
		return;
	if (p[0] == SSL3_MT_SERVER_KEY_EXCHANGE)
		bit = 1;
	else if (p[0] == SSL3_MT_CERTIFICATE_VERIFY)
		bit = 2;
	else
		return;
	if (!(s->signed_msgs & bit)) {
		s->signed_msgs |= bit;
		s->ctx->stats.signatures++;
	}
}

/*
 * The credential DTLS presents: the handshake key with its delegation
 * certificate, followed by the AS-issued node certificate (hskey.c).
 */
static int use_credential(SSL_CTX *c, EVP_PKEY *key, const uint8_t *der, size_t len,
			  char *err, size_t errlen)
{
	const unsigned char *p = der;
	X509 *node = d2i_X509(NULL, &p, (long)len), *hs_cert = NULL;
	EVP_PKEY *hs_key = NULL;
	int rc = -1;

	if (!node || p != der + len) {
		cyph_ssl_fail(err, errlen, "node certificate: not DER");
		goto out;
	}
	if (X509_check_private_key(node, key) != 1) {
		cyph_ssl_fail(err, errlen, "node key does not match the node certificate");
		goto out;
	}
	if (e2e_hskey_make(key, node, &hs_key, &hs_cert, err, errlen))
		goto out;
	if (SSL_CTX_use_certificate(c, hs_cert) != 1 || SSL_CTX_use_PrivateKey(c, hs_key) != 1 ||
	    SSL_CTX_check_private_key(c) != 1 || SSL_CTX_clear_chain_certs(c) != 1 ||
	    SSL_CTX_add1_chain_cert(c, node) != 1) {
		cyph_ssl_fail(err, errlen, "e2e credential");
		goto out;
	}
	rc = 0;
out:
	X509_free(node);
	X509_free(hs_cert);
	EVP_PKEY_free(hs_key);
	return rc;
}

static SSL_CTX *make_ssl_ctx(struct e2e_ctx *ctx, char *err, size_t errlen)
{
	SSL_CTX *c = SSL_CTX_new(DTLS_method());

	if (!c) {
		cyph_ssl_fail(err, errlen, "SSL_CTX_new(DTLS)");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(c, E2E_CIPHERS) ||
	    !SSL_CTX_set1_groups_list(c, E2E_GROUPS) ||
	    !SSL_CTX_set1_sigalgs_list(c, E2E_SIGALGS)) {
		cyph_ssl_fail(err, errlen, "DTLS 1.2 parameters");
		SSL_CTX_free(c);
		return NULL;
	}
	/* full handshakes only: no tickets, no resumption, no renegotiation */
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
			       SSL_OP_NO_QUERY_MTU | SSL_OP_CIPHER_SERVER_PREFERENCE |
			       SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(c, SSL_MODE_NO_AUTO_CHAIN);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(c, e2e_verify_cb, ctx);
	SSL_CTX_set_max_cert_list(c, 16384);	/* bounds what a peer's chain may cost */
	SSL_CTX_set_cookie_generate_cb(c, cookie_gen_cb);
	SSL_CTX_set_cookie_verify_cb(c, cookie_verify_cb);
	SSL_CTX_set_msg_callback(c, msg_cb);
	SSL_CTX_set_app_data(c, ctx);
	return c;
}

/* Our groups and reach, for the policy check of every peer (verify.c). */
static int own_policy(struct e2e_ctx *ctx, const uint8_t *der, size_t len, char *err,
		      size_t errlen)
{
	struct cyph_node_id id;

	if (cyph_cred_parse(der, len, &id, err, errlen))
		return -1;
	ctx->self_policy = id.policy;
	return 0;
}

struct e2e_ctx *e2e_ctx_new(const struct e2e_config *cfg, struct cyph_ca *ca, EVP_PKEY *key,
			    const uint8_t *cert_der, size_t cert_len, int64_t now_ms,
			    char *err, size_t errlen)
{
	struct e2e_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx) {
		cyph_fail(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg)
		ctx->cfg = *cfg;
	else
		e2e_config_defaults(&ctx->cfg);
	ctx->ca = ca;
	e2e_io_init(&ctx->listen_io);
	if (!ctx->cfg.rto_initial_ms || ctx->cfg.rto_max_ms < ctx->cfg.rto_initial_ms ||
	    ctx->cfg.rto_max_ms > 60000 || !ctx->cfg.handshake_timeout_ms ||
	    !ctx->cfg.max_half_open || !ctx->cfg.cookie_rotate_ms) {
		cyph_fail(err, errlen, "e2e configuration out of range");
		goto fail;
	}
	ctx->budget = e2e_budget_new(ctx->cfg.budget_slots, ctx->cfg.budget_burst,
				     ctx->cfg.budget_per_sec);
	if (!ctx->budget) {
		cyph_fail(err, errlen, "e2e budget table (slots %u, burst %u)",
			  ctx->cfg.budget_slots, ctx->cfg.budget_burst);
		goto fail;
	}
	if (e2e_cookie_init(&ctx->jar, ctx->cfg.cookie_rotate_ms, now_ms)) {
		cyph_ssl_fail(err, errlen, "cookie secret");
		goto fail;
	}
	ctx->listen_addr = BIO_ADDR_new();
	ctx->ssl_ctx = make_ssl_ctx(ctx, err, errlen);
	if (!ctx->listen_addr || !ctx->ssl_ctx ||
	    use_credential(ctx->ssl_ctx, key, cert_der, cert_len, err, errlen) ||
	    own_policy(ctx, cert_der, cert_len, err, errlen))
		goto fail;
	return ctx;
fail:
	e2e_ctx_free(ctx);
	return NULL;
}

void e2e_ctx_free(struct e2e_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_free(ctx->listener);
	e2e_io_clear(&ctx->listen_io);
	BIO_ADDR_free(ctx->listen_addr);
	SSL_CTX_free(ctx->ssl_ctx);
	e2e_budget_free(ctx->budget);
	OPENSSL_cleanse(&ctx->jar, sizeof(ctx->jar));
	free(ctx);
}

int e2e_ctx_set_credential(struct e2e_ctx *ctx, EVP_PKEY *key, const uint8_t *cert_der,
			   size_t cert_len, char *err, size_t errlen)
{
	if (use_credential(ctx->ssl_ctx, key, cert_der, cert_len, err, errlen))
		return -1;
	return own_policy(ctx, cert_der, cert_len, err, errlen);
}

void e2e_ctx_set_under_load(struct e2e_ctx *ctx, bool on)
{
	ctx->under_load = on;
}

const struct e2e_stats *e2e_ctx_stats(const struct e2e_ctx *ctx)
{
	return &ctx->stats;
}

SSL *e2e_ssl_new(struct e2e_ctx *ctx, bool server, struct e2e_io *io)
{
	SSL *ssl = SSL_new(ctx->ssl_ctx);
	BIO *b;

	if (!ssl)
		return NULL;
	b = e2e_bio_new(io);
	if (!b) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_bio(ssl, b, b);
	if (!SSL_set_mtu(ssl, E2E_DTLS_MTU)) {
		SSL_free(ssl);
		return NULL;
	}
	DTLS_set_timer_cb(ssl, timer_cb);
	if (server)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	return ssl;
}
