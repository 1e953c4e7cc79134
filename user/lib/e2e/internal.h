/* SPDX-License-Identifier: MIT */
/*
 * What the files of e2e/ share behind session.h: the context and session
 * structures and the OpenSSL callbacks' glue. Not for use outside e2e/.
 */
#ifndef CYPHONIC_E2E_INTERNAL_H
#define CYPHONIC_E2E_INTERNAL_H

#include "budget.h"
#include "cookie.h"
#include "dgram_bio.h"
#include "session.h"

#include <openssl/ssl.h>

struct e2e_ctx {
	struct e2e_config cfg;
	SSL_CTX *ssl_ctx;
	struct cyph_ca *ca;
	struct cyph_policy self_policy;	/* from our own certificate */
	struct e2e_budget *budget;
	struct e2e_cookie_jar jar;
	bool under_load;
	unsigned int rtt_ms;		/* e2e_ctx_set_rtt: the path's round trip, 0: unknown */
	struct e2e_stats stats;
	/* the stateless listener (DTLSv1_listen), reused until a cookie verifies */
	SSL *listener;
	BIO_ADDR *listen_addr;
	struct e2e_io listen_io;
	/* the datagram being judged, for the cookie callbacks */
	const void *cur_src;
	size_t cur_srclen;
	uint32_t cur_sender;
};

struct e2e_session {
	struct e2e_ctx *ctx;
	SSL *ssl;
	struct e2e_io io;
	bool initiator;
	uint32_t local_index, peer_index;
	struct e2e_expect expect;
	bool has_expect;
	struct cyph_node_id peer;
	bool peer_known;
	enum e2e_state state;
	enum e2e_result result;
	enum e2e_result verify_result;	/* E2E_OK unless the certificate check refused */
	bool alert_received;		/* a fatal alert came from the peer */
	bool half_open;			/* counted in ctx->stats.half_open */
	bool early;			/* initiator: keys exported before the peer's Finished */
	unsigned int signed_msgs;	/* bit per signing message type counted */
	int64_t deadline_ms, linger_until_ms;
	struct e2e_keys keys;
	/* responder: the source the ClientHello came from (OpenSSL checks
	 * the cookie once more when it processes that ClientHello) */
	uint8_t src[E2E_SRC_MAX];
	size_t srclen;
};

/* ctx.c: a new SSL for a session or the listener, on a BIO over io. */
SSL *e2e_ssl_new(struct e2e_ctx *ctx, bool server, struct e2e_io *io);
/* session.c: a session around ssl (takes it; frees it on failure). */
struct e2e_session *e2e_session_new(struct e2e_ctx *ctx, SSL *ssl, bool initiator,
				    uint32_t local_index, uint32_t peer_index,
				    const struct e2e_expect *expect, int64_t now_ms);
/* session.c: runs OpenSSL on the datagram in s->io (if any). */
enum e2e_result e2e_session_step(struct e2e_session *s, int64_t now_ms);
/*
 * hskey.c: an ECDSA P-256 handshake key and its certificate signed by the
 * node key (why: hskey.c). 0, or -1 with err.
 */
int e2e_hskey_make(EVP_PKEY *node_key, X509 *node_cert, EVP_PKEY **hs_key, X509 **hs_cert,
		   char *err, size_t errlen);
/* true when node_cert's key signed hs_cert and hs_cert is valid now. */
bool e2e_hskey_delegated(X509 *hs_cert, X509 *node_cert);
/* verify.c: the certificate verification callback of the SSL_CTX. */
int e2e_verify_cb(X509_STORE_CTX *xs, void *arg);

#endif
