// SPDX-License-Identifier: MIT
/*
 * One end-to-end handshake (session.h): OpenSSL's DTLS state machine
 * driven by fed datagrams and the caller's timer, the header's indices,
 * and the RFC 5705 key export when it completes.
 */
#include "frame.h"
#include "internal.h"

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

static void leave_half_open(struct e2e_session *s)
{
	if (s->half_open) {
		s->half_open = false;
		s->ctx->stats.half_open--;
	}
}

static enum e2e_result fail(struct e2e_session *s, enum e2e_result r)
{
	s->state = E2E_ST_FAILED;
	s->result = r;
	s->ctx->stats.results[r]++;
	OPENSSL_cleanse(&s->keys, sizeof(s->keys));
	leave_half_open(s);
	return r;
}

struct e2e_session *e2e_session_new(struct e2e_ctx *ctx, SSL *ssl, bool initiator,
				    uint32_t local_index, uint32_t peer_index,
				    const struct e2e_expect *expect, int64_t now_ms)
{
	struct e2e_session *s = calloc(1, sizeof(*s));

	if (!s) {
		SSL_free(ssl);
		return NULL;
	}
	s->ctx = ctx;
	s->ssl = ssl;
	e2e_io_init(&s->io);
	BIO_set_data(SSL_get_rbio(ssl), &s->io);
	SSL_set_app_data(ssl, s);
	s->initiator = initiator;
	s->local_index = local_index;
	s->peer_index = peer_index;
	s->io.sender = local_index;
	s->io.receiver = peer_index;
	if (expect) {
		s->expect = *expect;
		s->expect.fqdn[sizeof(s->expect.fqdn) - 1] = 0;
		s->has_expect = true;
	}
	s->state = E2E_ST_HANDSHAKE;
	s->result = E2E_PENDING;
	s->verify_result = E2E_OK;
	s->deadline_ms = now_ms + ctx->cfg.handshake_timeout_ms;
	ctx->stats.sessions++;
	if (!initiator) {
		s->half_open = true;
		ctx->stats.half_open++;
	}
	return s;
}

static bool expect_empty(const struct e2e_expect *e)
{
	return !e->id && !e->fqdn[0] && !e->has_vip4 && !e->has_vip6;
}

struct e2e_session *e2e_connect(struct e2e_ctx *ctx, uint32_t local_index, uint32_t peer_index,
				const struct e2e_expect *expect, int64_t now_ms,
				enum e2e_result *why)
{
	struct e2e_session *s;
	SSL *ssl;

	*why = E2E_FAIL_INTERNAL;
	if (!local_index || !expect || expect_empty(expect))
		return NULL;	/* an initiator always knows whom it was directed to */
	ssl = e2e_ssl_new(ctx, false, NULL);
	/* The target's name as SNI: an adapter answering for many identities
	 * on one port picks the credential by it (e2e_client_hello_sni). */
	if (ssl && expect->fqdn[0] && !SSL_set_tlsext_host_name(ssl, expect->fqdn)) {
		SSL_free(ssl);
		return NULL;
	}
	if (!ssl || !(s = e2e_session_new(ctx, ssl, true, local_index, peer_index, expect, now_ms)))
		return NULL;
	if (e2e_session_step(s, now_ms) != E2E_PENDING) {
		*why = s->result;
		e2e_session_free(s);
		return NULL;
	}
	*why = E2E_PENDING;
	return s;
}

/*
 * What RFC 5705 export relies on, then the export into s->keys: E2E_OK, or
 * why not (cannot happen: verification is mandatory, the profile requires
 * the extended master secret). OpenSSL tells whether the extended master
 * secret was negotiated only once the handshake is finished: @done.
 */
static enum e2e_result export_keys(struct e2e_session *s, bool done)
{
	uint8_t km[2 * CYPHONIC_KEY_LEN], context[8];
	uint32_t ini, rsp;
	int ok;

	if (!s->peer_known || SSL_get_verify_result(s->ssl) != X509_V_OK)
		return E2E_FAIL_PROTOCOL;
	/* without the extended master secret (RFC 7627) exported keys are not
	 * bound to the handshake transcript */
	if ((done && SSL_get_extms_support(s->ssl) != 1) || !s->peer_index)
		return E2E_FAIL_PROTOCOL;
	ini = s->initiator ? s->local_index : s->peer_index;
	rsp = s->initiator ? s->peer_index : s->local_index;
	for (int i = 0; i < 4; i++) {
		context[i] = (uint8_t)(ini >> (24 - 8 * i));
		context[4 + i] = (uint8_t)(rsp >> (24 - 8 * i));
	}
	ok = SSL_export_keying_material(s->ssl, km, sizeof(km), E2E_EXPORTER_LABEL,
					strlen(E2E_EXPORTER_LABEL), context, sizeof(context), 1);
	if (ok == 1) {
		memcpy(s->initiator ? s->keys.tx : s->keys.rx, km, CYPHONIC_KEY_LEN);
		memcpy(s->initiator ? s->keys.rx : s->keys.tx, km + CYPHONIC_KEY_LEN,
		       CYPHONIC_KEY_LEN);
		s->keys.local_index = s->local_index;
		s->keys.peer_index = s->peer_index;
	}
	OPENSSL_cleanse(km, sizeof(km));
	if (ok != 1 || !CRYPTO_memcmp(s->keys.tx, s->keys.rx, CYPHONIC_KEY_LEN))
		return E2E_FAIL_INTERNAL;
	return E2E_OK;
}

/* The handshake completed: the keys. */
static enum e2e_result finish(struct e2e_session *s, int64_t now_ms)
{
	enum e2e_result r = export_keys(s, true);

	if (r != E2E_OK)
		return fail(s, r);
	s->state = E2E_ST_DONE;
	s->result = E2E_OK;
	s->ctx->stats.results[E2E_OK]++;
	s->linger_until_ms = now_ms + s->ctx->cfg.linger_ms;
	leave_half_open(s);
	return E2E_OK;
}

/*
 * False Start (RFC 7918), the initiator only: once its last flight is
 * written (after the responder's certificate and its signature over the
 * ECDHE share were checked), it holds the master secret, so the keys can
 * be exported before the responder's Finished arrives, and the first
 * packet can go right behind that flight: one round trip less. RFC 7918's
 * conditions hold by the profile: only ECDHE suites with an AEAD are
 * offered. Whatever goes under these keys before the Finished can only be
 * read by the holder of the certificate checked (the expected identity).
 * The Finished and the extended master secret (known to OpenSSL only then)
 * are still checked: a handshake that fails after this takes the keys
 * back (E2E_ST_FAILED).
 */
static void false_start(struct e2e_session *s)
{
	if (!s->initiator || s->early || SSL_get_state(s->ssl) != TLS_ST_CW_FINISHED)
		return;
	if (export_keys(s, false) == E2E_OK)
		s->early = true;
}

static enum e2e_result why_failed(struct e2e_session *s)
{
	unsigned long e = ERR_peek_last_error();

	if (s->verify_result != E2E_OK)
		return s->verify_result;
	if (s->alert_received)
		return E2E_FAIL_PEER_ALERT;
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_READ_TIMEOUT_EXPIRED)
		return E2E_FAIL_TIMEOUT;
	return E2E_FAIL_PROTOCOL;
}

enum e2e_result e2e_session_step(struct e2e_session *s, int64_t now_ms)
{
	uint8_t sink[256];
	enum e2e_result r;
	int rc;

	ERR_clear_error();
	if (s->state == E2E_ST_HANDSHAKE) {
		rc = SSL_do_handshake(s->ssl);
		if (rc == 1)
			r = finish(s, now_ms);
		else if (SSL_get_error(s->ssl, rc) == SSL_ERROR_WANT_READ ||
			 SSL_get_error(s->ssl, rc) == SSL_ERROR_WANT_WRITE)
			r = (false_start(s), E2E_PENDING);
		else
			r = fail(s, why_failed(s));
	} else if (s->state == E2E_ST_DONE) {
		/* answers a retransmitted last flight; nobody sends us data here */
		rc = SSL_read(s->ssl, sink, sizeof(sink));
		if (rc <= 0 && SSL_get_error(s->ssl, rc) == SSL_ERROR_SSL && s->alert_received)
			r = fail(s, E2E_FAIL_PEER_ALERT);	/* it did not finish: no tunnel */
		else
			r = s->result;
	} else {
		r = s->result;
	}
	ERR_clear_error();
	return r;
}

/* Header checks: the indices must be those of this session. */
static bool indices_ok(struct e2e_session *s, const struct e2e_hdr *h)
{
	if (s->initiator) {
		if (h->receiver != s->local_index)
			return false;
		if (!h->sender)	/* a HelloVerifyRequest: stateless, no index yet */
			return s->state == E2E_ST_HANDSHAKE;
		if (!s->peer_index) {
			s->peer_index = h->sender;	/* the responder's answer names it */
			s->io.receiver = h->sender;
		}
		return h->sender == s->peer_index;
	}
	return h->sender == s->peer_index && (!h->receiver || h->receiver == s->local_index);
}

enum e2e_result e2e_session_input(struct e2e_session *s, const uint8_t *dgram, size_t len,
				  int64_t now_ms)
{
	struct e2e_hdr h;
	enum e2e_result r;

	if (s->state == E2E_ST_FAILED || s->state == E2E_ST_CLOSED)
		return s->result;
	if (!e2e_hdr_parse(dgram, len, &h) || !indices_ok(s, &h)) {
		s->ctx->stats.results[E2E_DROP_MALFORMED]++;
		return E2E_DROP_MALFORMED;
	}
	s->io.in = dgram + PROTO_HS_HDR_LEN;
	s->io.in_len = len - PROTO_HS_HDR_LEN;
	r = e2e_session_step(s, now_ms);
	s->io.in = NULL;
	return r;
}

int64_t e2e_session_next_timer(const struct e2e_session *s, int64_t now_ms)
{
	struct timeval tv;
	int64_t t, left;

	switch (s->state) {
	case E2E_ST_HANDSHAKE:
		left = s->deadline_ms > now_ms ? s->deadline_ms - now_ms : 0;
		if (!DTLSv1_get_timeout(s->ssl, &tv))
			return left;
		t = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
		return t < left ? t : left;
	case E2E_ST_DONE:
		return s->linger_until_ms > now_ms ? s->linger_until_ms - now_ms : 0;
	default:
		return -1;
	}
}

enum e2e_result e2e_session_timer(struct e2e_session *s, int64_t now_ms)
{
	if (s->state == E2E_ST_HANDSHAKE) {
		if (now_ms >= s->deadline_ms)
			return fail(s, E2E_FAIL_TIMEOUT);
		ERR_clear_error();
		if (DTLSv1_handle_timeout(s->ssl) < 0) {
			ERR_clear_error();
			return fail(s, E2E_FAIL_TIMEOUT);	/* OpenSSL's retransmission limit */
		}
		ERR_clear_error();
	} else if (s->state == E2E_ST_DONE && now_ms >= s->linger_until_ms) {
		s->state = E2E_ST_CLOSED;
	}
	return s->result;
}

size_t e2e_session_output(struct e2e_session *s, uint8_t *buf, size_t cap)
{
	return e2e_io_pop(&s->io, buf, cap);
}

enum e2e_state e2e_session_state(const struct e2e_session *s)
{
	return s->state;
}

enum e2e_result e2e_session_result(const struct e2e_session *s)
{
	return s->result;
}

int e2e_session_keys(const struct e2e_session *s, struct e2e_keys *out)
{
	if (s->state != E2E_ST_DONE && s->state != E2E_ST_CLOSED &&
	    !(s->state == E2E_ST_HANDSHAKE && s->early))
		return -1;
	*out = s->keys;
	return 0;
}

const struct cyph_node_id *e2e_session_peer(const struct e2e_session *s)
{
	return s->peer_known ? &s->peer : NULL;
}

void e2e_session_set_peer_index(struct e2e_session *s, uint32_t peer_index)
{
	if (s->initiator && !s->peer_index && peer_index) {
		s->peer_index = peer_index;
		s->io.receiver = peer_index;
	}
}

bool e2e_session_early(const struct e2e_session *s)
{
	return s->state == E2E_ST_HANDSHAKE && s->early;
}

bool e2e_session_is_initiator(const struct e2e_session *s)
{
	return s->initiator;
}

uint32_t e2e_session_local_index(const struct e2e_session *s)
{
	return s->local_index;
}

uint32_t e2e_session_peer_index(const struct e2e_session *s)
{
	return s->peer_index;
}

void e2e_session_free(struct e2e_session *s)
{
	if (!s)
		return;
	leave_half_open(s);
	SSL_free(s->ssl);
	e2e_io_clear(&s->io);
	OPENSSL_cleanse(&s->keys, sizeof(s->keys));
	free(s);
}
