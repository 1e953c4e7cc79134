// SPDX-License-Identifier: MIT
/*
 * The responder's door (session.h, e2e_accept): everything a stranger can
 * make us do before it has proved it receives at its source address costs
 * a header check, a ClientHello peek, a token and, under load, one HMAC.
 * Certificates, ECDH and signatures come only after that.
 */
#include "frame.h"
#include "internal.h"

#include <openssl/err.h>

static enum e2e_result drop(struct e2e_ctx *ctx, enum e2e_result r)
{
	ctx->stats.results[r]++;
	return r;
}

static bool under_load(const struct e2e_ctx *ctx)
{
	return ctx->under_load || ctx->stats.half_open >= ctx->cfg.cookie_threshold;
}

/*
 * DTLSv1_listen on the reusable listener: E2E_PENDING when the ClientHello
 * carries a valid cookie (the listener then holds the handshake and
 * becomes the session's SSL), E2E_COOKIE_SENT with a HelloVerifyRequest
 * in reply, or a drop. Keeps no state per source either way.
 */
static enum e2e_result listen_stateless(struct e2e_ctx *ctx, const uint8_t *dgram, size_t len,
					uint32_t sender, uint8_t *reply, size_t *reply_len)
{
	size_t n;
	int rc;

	if (!ctx->listener && !(ctx->listener = e2e_ssl_new(ctx, true, &ctx->listen_io)))
		return E2E_DROP_FULL;	/* out of memory: shed load */
	e2e_io_clear(&ctx->listen_io);
	ctx->listen_io.sender = 0;	/* no tunnel index: nothing is kept */
	ctx->listen_io.receiver = sender;
	ctx->listen_io.in = dgram + PROTO_HS_HDR_LEN;
	ctx->listen_io.in_len = len - PROTO_HS_HDR_LEN;
	ERR_clear_error();
	rc = DTLSv1_listen(ctx->listener, ctx->listen_addr);
	ERR_clear_error();
	if (rc == 1)
		return E2E_PENDING;
	ctx->listen_io.in = NULL;
	if (rc < 0) {
		SSL_free(ctx->listener);	/* start the next one clean */
		ctx->listener = NULL;
	}
	n = reply && reply_len ? e2e_io_pop(&ctx->listen_io, reply, E2E_DGRAM_MAX) : 0;
	e2e_io_clear(&ctx->listen_io);
	if (!n)
		return E2E_DROP_NOT_HELLO;
	*reply_len = n;
	return E2E_COOKIE_SENT;
}

/*
 * One token from src's bucket: under load, the bucket of its budget key
 * (e2e_config.budget_key: its host), so a sender rotating ports gets no
 * fresh budget once it has made the responder ask for cookies; else the
 * bucket of src itself, so hosts behind one NAT do not wait for each
 * other while nothing is amiss (WireGuard limits per host under load only).
 */
static bool take_budget(struct e2e_ctx *ctx, const void *src, size_t srclen, int64_t now_ms)
{
	uint8_t key[E2E_SRC_MAX];

	if (!ctx->cfg.budget_key || !under_load(ctx))
		return e2e_budget_take(ctx->budget, src, srclen, now_ms);
	return e2e_budget_take(ctx->budget, key,
			       ctx->cfg.budget_key(src, srclen, key, sizeof(key)), now_ms);
}

enum e2e_result e2e_accept(struct e2e_ctx *ctx, const uint8_t *dgram, size_t len,
			   const void *src, size_t srclen, uint32_t local_index,
			   const struct e2e_expect *expect, int64_t now_ms,
			   struct e2e_session **out, uint8_t *reply, size_t *reply_len)
{
	struct e2e_session *s;
	struct e2e_hdr h;
	enum e2e_result r;
	SSL *ssl;

	*out = NULL;
	if (reply_len)
		*reply_len = 0;
	/* s->src holds E2E_SRC_MAX bytes; under load the budget sees a key, not src */
	if (srclen > E2E_SRC_MAX)
		return drop(ctx, E2E_DROP_MALFORMED);
	if (!e2e_hdr_parse(dgram, len, &h) || !h.sender || !local_index)
		return drop(ctx, E2E_DROP_MALFORMED);
	if (!e2e_is_client_hello(dgram, len))
		return drop(ctx, E2E_DROP_NOT_HELLO);
	if (!take_budget(ctx, src, srclen, now_ms))
		return drop(ctx, E2E_DROP_BUDGET);
	if (ctx->stats.half_open >= ctx->cfg.max_half_open)
		return drop(ctx, E2E_DROP_FULL);
	if (under_load(ctx)) {
		e2e_cookie_tick(&ctx->jar, now_ms);
		ctx->cur_src = src;
		ctx->cur_srclen = srclen;
		ctx->cur_sender = h.sender;
		r = listen_stateless(ctx, dgram, len, h.sender, reply, reply_len);
		ctx->cur_src = NULL;
		if (r != E2E_PENDING)
			return drop(ctx, r);
		ssl = ctx->listener;	/* it holds the verified ClientHello */
		ctx->listener = NULL;
		ctx->listen_io.in = NULL;
	} else if (!(ssl = e2e_ssl_new(ctx, true, NULL))) {
		return drop(ctx, E2E_DROP_FULL);
	}
	s = e2e_session_new(ctx, ssl, false, local_index, h.sender, expect, now_ms);
	if (!s)
		return drop(ctx, E2E_DROP_FULL);
	memcpy(s->src, src, srclen);	/* the budget took only srclen <= E2E_SRC_MAX */
	s->srclen = srclen;
	*out = s;
	s->io.in = dgram + PROTO_HS_HDR_LEN;
	s->io.in_len = len - PROTO_HS_HDR_LEN;
	r = e2e_session_step(s, now_ms);
	s->io.in = NULL;
	return r;
}
