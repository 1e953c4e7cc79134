// SPDX-License-Identifier: MIT
/*
 * The responder's door (user/lib/e2e): HANDSHAKE framing, per-source
 * budgets, stateless cookies, the half-open limit, and the proof that an
 * initiator without a valid cookie costs no state and no private-key
 * operation (counted by the library: sessions, signatures).
 */
#include "e2e/e2e.h"
#include "e2e/internal.h"	/* the handshake key's delegation, tested directly */
#include "e2e_fixture.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct e2e_pki pki;
static struct e2e_node na, nb;
static struct e2e_config cfg;
static int64_t t0 = 1000000;	/* the library's clock is the caller's */

static void test_frame(void)
{
	uint8_t d[64] = { 0 };
	struct e2e_hdr h;

	e2e_hdr_put(d, 0x01020304, 0x0a0b0c0d);
	TAP_CHECK(e2e_hdr_parse(d, 40, &h) && h.sender == 0x01020304 && h.receiver == 0x0a0b0c0d &&
		  h.kind == PROTO_HS_DTLS, "header round trip");
	TAP_CHECK(!e2e_hdr_parse(d, PROTO_HS_HDR_LEN + 12, &h), "too short for a record: dropped");
	TAP_CHECK(!e2e_hdr_parse(d, E2E_DGRAM_MAX + 1, &h), "longer than %d: dropped", E2E_DGRAM_MAX);
	d[1] = PROTO_HS_PROBE;
	TAP_CHECK(!e2e_hdr_parse(d, 40, &h), "kind PROBE is not ours");
	d[1] = PROTO_HS_DTLS;
	d[3] = 1;
	TAP_CHECK(!e2e_hdr_parse(d, 40, &h), "non-zero reserved: dropped");
	d[3] = 0;
	d[0] = 3;
	TAP_CHECK(!e2e_hdr_parse(d, 40, &h), "not a HANDSHAKE: dropped");
	d[0] = 2;
	TAP_CHECK(!e2e_is_client_hello(d, 40), "zeros are no ClientHello");
}

static void test_budget(void)
{
	struct e2e_budget *b = e2e_budget_new(1u << 20, 3, 2);
	int ok = 0;

	for (int i = 0; i < 5; i++)
		ok += e2e_budget_take(b, "src-a", 5, t0);
	TAP_CHECK(ok == 3, "a source gets its burst (3 of 5)");
	TAP_CHECK(e2e_budget_take(b, "src-b", 5, t0), "another source has its own bucket");
	TAP_CHECK(!e2e_budget_take(b, "src-a", 5, t0 + 400), "0.4 s refill 0.8 tokens: still empty");
	TAP_CHECK(e2e_budget_take(b, "src-a", 5, t0 + 600) &&
		  !e2e_budget_take(b, "src-a", 5, t0 + 600), "0.6 s: one token back (2/s)");
	TAP_CHECK(!e2e_budget_take(b, "x", 0, t0) &&
		  !e2e_budget_take(b, "0123456789012345678901234567890123", 34, t0),
		  "empty or overlong source refused");
	e2e_budget_free(b);

	/* memory is the table: a million sources cannot grow it; colliding
	 * sources share a bucket instead of resetting it */
	b = e2e_budget_new(1, 2, 0);
	TAP_CHECK(e2e_budget_take(b, "p", 1, t0) && e2e_budget_take(b, "q", 1, t0) &&
		  !e2e_budget_take(b, "p", 1, t0) && !e2e_budget_take(b, "r", 1, t0),
		  "one slot: sources share, never reset, a spent bucket");
	e2e_budget_free(b);
}

static void test_cookie(void)
{
	struct e2e_cookie_jar j;
	uint8_t c[E2E_COOKIE_LEN];

	TAP_CHECK(!e2e_cookie_init(&j, 1000, t0), "cookie secret");
	e2e_cookie_make(&j, "10.0.0.1:5", 10, 77, c);
	TAP_CHECK(e2e_cookie_check(&j, "10.0.0.1:5", 10, 77, c, sizeof(c)), "cookie verifies");
	TAP_CHECK(!e2e_cookie_check(&j, "10.0.0.2:5", 10, 77, c, sizeof(c)), "other source: no");
	TAP_CHECK(!e2e_cookie_check(&j, "10.0.0.1:5", 10, 78, c, sizeof(c)), "other index: no");
	TAP_CHECK(!e2e_cookie_check(&j, "10.0.0.1:5", 10, 77, c, sizeof(c) - 1), "truncated: no");
	e2e_cookie_tick(&j, t0 + 500);
	TAP_CHECK(e2e_cookie_check(&j, "10.0.0.1:5", 10, 77, c, sizeof(c)), "before rotation: yes");
	e2e_cookie_tick(&j, t0 + 1000);
	TAP_CHECK(e2e_cookie_check(&j, "10.0.0.1:5", 10, 77, c, sizeof(c)),
		  "after one rotation: still (previous secret)");
	e2e_cookie_tick(&j, t0 + 2000);
	TAP_CHECK(!e2e_cookie_check(&j, "10.0.0.1:5", 10, 77, c, sizeof(c)),
		  "after two rotations: expired");
}

static struct e2e_ctx *ctx_for(const struct e2e_node *n, const struct e2e_config *c)
{
	char err[512] = "";
	struct e2e_ctx *ctx = e2e_ctx_new(c, pki.ca, n->key, n->der, n->len, t0, err, sizeof(err));

	if (!ctx)
		printf("# e2e_ctx_new: %s\n", err);
	return ctx;
}

/* A fresh initiator session to nb and its ClientHello. */
static struct e2e_session *hello(struct e2e_ctx *ca, uint32_t index, uint8_t *d, size_t *len)
{
	struct e2e_expect ex;
	enum e2e_result why;
	struct e2e_session *s;

	e2e_expect_node(&nb, &ex);
	s = e2e_connect(ca, index, 0, &ex, t0, &why);
	*len = s ? e2e_session_output(s, d, E2E_DGRAM_MAX) : 0;
	return s;
}

/* Plays a and b against each other without loss until both finish. */
static bool finish(struct e2e_session *a, struct e2e_session *b)
{
	uint8_t d[E2E_DGRAM_MAX];
	size_t n;

	for (int i = 0; i < 100; i++) {
		while ((n = e2e_session_output(a, d, sizeof(d))))
			e2e_session_input(b, d, n, t0);
		while ((n = e2e_session_output(b, d, sizeof(d))))
			e2e_session_input(a, d, n, t0);
		if (e2e_session_state(a) != E2E_ST_HANDSHAKE &&
		    e2e_session_state(b) != E2E_ST_HANDSHAKE)
			break;
	}
	return e2e_session_state(a) == E2E_ST_DONE && e2e_session_state(b) == E2E_ST_DONE;
}

/* The initiator names its target (SNI); an adapter picks the identity by it. */
static void test_sni(const uint8_t *ch, size_t chlen)
{
	char name[256], tiny[4];
	bool cut_ok = true;

	TAP_CHECK(e2e_client_hello_sni(ch, chlen, name, sizeof(name)) &&
		  !strcmp(name, nb.id.fqdn), "the ClientHello names the expected peer (SNI %s)",
		  name);
	TAP_CHECK(!e2e_client_hello_sni(ch, chlen, tiny, sizeof(tiny)),
		  "a name longer than the buffer is refused, not cut");
	for (size_t n = PROTO_HS_HDR_LEN + E2E_DTLS_RECORD_HDR + 12; n < chlen; n++)
		if (e2e_client_hello_sni(ch, n, name, sizeof(name)))
			cut_ok = false;
	TAP_CHECK(cut_ok, "no truncation of the ClientHello yields a name");
}

static void test_cookie_door(void)
{
	struct e2e_ctx *ca = ctx_for(&na, &cfg), *cb = ctx_for(&nb, &cfg);
	const struct e2e_stats *st = cb ? e2e_ctx_stats(cb) : NULL;
	uint8_t ch[E2E_DGRAM_MAX], reply[E2E_DGRAM_MAX], d[E2E_DGRAM_MAX];
	struct e2e_session *a, *b = NULL;
	size_t chlen, rlen = 0, n = 0;
	struct e2e_hdr h;
	enum e2e_result r;
	int cookies = 0;
	char src[16];

	if (!ca || !cb)
		return;
	e2e_ctx_set_under_load(cb, true);
	a = hello(ca, 0x51, ch, &chlen);
	TAP_CHECK(a && chlen && e2e_is_client_hello(ch, chlen), "initiator sends a ClientHello");
	test_sni(ch, chlen);

	/* a flood of ClientHellos without cookies from many sources */
	for (int i = 0; i < 300; i++) {
		snprintf(src, sizeof(src), "flood-%d", i);
		r = e2e_accept(cb, ch, chlen, src, strlen(src), 0x99, NULL, t0, &b, reply, &rlen);
		cookies += r == E2E_COOKIE_SENT && !b;
	}
	TAP_CHECK(cookies == 300, "under load every new initiator gets a cookie request (%d/300)",
		  cookies);
	TAP_CHECK(st->sessions == 0 && st->half_open == 0 && st->signatures == 0,
		  "and costs no session and no private-key operation (sessions %llu, signatures %llu)",
		  (unsigned long long)st->sessions, (unsigned long long)st->signatures);

	/* the real exchange: cookie request, ClientHello with the cookie */
	r = e2e_accept(cb, ch, chlen, "A", 1, 0x99, NULL, t0, &b, reply, &rlen);
	TAP_CHECK(r == E2E_COOKIE_SENT && !b && rlen > PROTO_HS_HDR_LEN &&
		  e2e_hdr_parse(reply, rlen, &h) && h.sender == 0 && h.receiver == 0x51,
		  "HelloVerifyRequest: sender index 0 (nothing kept), receiver the initiator's");
	TAP_CHECK(a && e2e_session_input(a, reply, rlen, t0) == E2E_PENDING &&
		  (n = e2e_session_output(a, d, sizeof(d))) && e2e_is_client_hello(d, n),
		  "initiator answers with a second ClientHello");
	r = e2e_accept(cb, d, n, "A-spoofed", 9, 0x99, NULL, t0, &b, reply, &rlen);
	TAP_CHECK(r == E2E_COOKIE_SENT && !b && st->sessions == 0 && st->signatures == 0,
		  "the cookie does not work from another source (%s)", e2e_result_name(r));
	r = e2e_accept(cb, d, n, "A", 1, 0x99, NULL, t0, &b, reply, &rlen);
	TAP_CHECK(r == E2E_PENDING && b && st->sessions == 1 && st->half_open == 1,
		  "valid cookie: now a session (%s)", e2e_result_name(r));
	TAP_CHECK(st->signatures == 1, "and only now a signature (ServerKeyExchange)");
	TAP_CHECK(b && finish(a, b), "the handshake completes after the cookie exchange");
	TAP_CHECK(st->half_open == 0, "half-open count back to 0");
	e2e_session_free(a);
	e2e_session_free(b);

	/* automatic: from cookie_threshold half-open sessions on */
	{
		struct e2e_config c = cfg;
		struct e2e_ctx *cc;
		struct e2e_session *s1 = NULL, *s2 = NULL;

		c.cookie_threshold = 1;
		cc = ctx_for(&nb, &c);
		a = hello(ca, 0x52, ch, &chlen);
		r = e2e_accept(cc, ch, chlen, "A", 1, 0x77, NULL, t0, &s1, reply, &rlen);
		TAP_CHECK(r == E2E_PENDING && s1, "below the threshold: no cookie needed (%s)",
			  e2e_result_name(r));
		r = e2e_accept(cc, ch, chlen, "B", 1, 0x78, NULL, t0, &s2, reply, &rlen);
		TAP_CHECK(r == E2E_COOKIE_SENT && !s2, "at the threshold: cookie required (%s)",
			  e2e_result_name(r));
		e2e_session_free(s1);
		e2e_session_free(a);
		e2e_ctx_free(cc);
	}

	/* a spoofed flood with the defaults: the first cookie_threshold
	 * ClientHellos cost a session each, every later one a cookie only */
	{
		struct e2e_config c;
		struct e2e_ctx *cc;
		struct e2e_session *held[64] = { 0 };
		int made = 0, asked = 0;

		e2e_config_defaults(&c);
		cc = ctx_for(&nb, &c);
		a = hello(ca, 0x53, ch, &chlen);
		for (int i = 0; cc && i < 64; i++) {
			snprintf(src, sizeof(src), "spoof-%d", i);
			r = e2e_accept(cc, ch, chlen, src, strlen(src), 0x100 + (uint32_t)i, NULL, t0,
				       &held[i], reply, &rlen);
			made += r == E2E_PENDING;
			asked += r == E2E_COOKIE_SENT;
		}
		TAP_CHECK(cc && made == (int)c.cookie_threshold && asked == 64 - made &&
			  e2e_ctx_stats(cc)->signatures == c.cookie_threshold,
			  "spoofed flood: %d sessions and signatures (threshold %u), %d cookies",
			  made, c.cookie_threshold, asked);
		for (int i = 0; i < 64; i++)
			e2e_session_free(held[i]);
		e2e_session_free(a);
		e2e_ctx_free(cc);
	}
	e2e_ctx_free(ca);
	e2e_ctx_free(cb);
}

/* A budget key of the source's first byte. */
static size_t first_byte_key(const void *src, size_t srclen, void *key, size_t cap)
{
	(void)cap;
	memcpy(key, src, srclen ? 1 : 0);
	return srclen ? 1 : 0;
}

static void test_limits(void)
{
	struct e2e_config c = cfg;
	struct e2e_ctx *ca, *cb;
	uint8_t ch[E2E_DGRAM_MAX], reply[E2E_DGRAM_MAX], junk[100];
	struct e2e_session *a, *s[4] = { 0 };
	enum e2e_result r;
	size_t chlen, rlen;
	int ok = 0;

	c.budget_burst = 3;
	c.budget_per_sec = 2;
	c.max_half_open = 2;
	ca = ctx_for(&na, &c);
	cb = ctx_for(&nb, &c);
	if (!ca || !cb)
		return;
	a = hello(ca, 0x61, ch, &chlen);

	/* per-source budget */
	for (int i = 0; i < 4; i++) {
		r = e2e_accept(cb, ch, chlen, "S", 1, 0x70, NULL, t0, &s[0], reply, &rlen);
		ok += r == E2E_PENDING;
		e2e_session_free(s[0]);
		s[0] = NULL;
	}
	TAP_CHECK(ok == 3 && r == E2E_DROP_BUDGET, "budget: 3 starts, the 4th dropped (%s)",
		  e2e_result_name(r));
	r = e2e_accept(cb, ch, chlen, "S", 1, 0x70, NULL, t0 + 500, &s[0], reply, &rlen);
	TAP_CHECK(r == E2E_PENDING, "after 0.5 s one more (%s)", e2e_result_name(r));
	e2e_session_free(s[0]);
	s[0] = NULL;
	TAP_CHECK(e2e_ctx_stats(cb)->results[E2E_DROP_BUDGET] == 1, "budget drops counted");

	/* a budget key (e2e_config.budget_key) counts sources together */
	{
		struct e2e_config k = c;
		struct e2e_ctx *ck;
		char src[8];

		k.budget_key = first_byte_key;
		ck = ctx_for(&nb, &k);
		ok = 0;
		for (int i = 0; ck && i < 4; i++) {
			snprintf(src, sizeof(src), "P%d", i);
			r = e2e_accept(ck, ch, chlen, src, 2, 0x80, NULL, t0, &s[0], reply, &rlen);
			ok += r == E2E_PENDING;
			e2e_session_free(s[0]);
			s[0] = NULL;
		}
		TAP_CHECK(ck && ok == 4, "budget key: not under load, each source its own (%d of 4)",
			  ok);
		e2e_ctx_free(ck);
		ck = ctx_for(&nb, &k);
		if (ck)
			e2e_ctx_set_under_load(ck, true);
		ok = 0;
		for (int i = 0; ck && i < 4; i++) {
			snprintf(src, sizeof(src), "P%d", i);	/* "P0".."P3": one key */
			r = e2e_accept(ck, ch, chlen, src, 2, 0x80, NULL, t0, &s[0], reply, &rlen);
			ok += r == E2E_COOKIE_SENT;	/* past the budget */
			e2e_session_free(s[0]);
			s[0] = NULL;
		}
		TAP_CHECK(ck && ok == 3 && r == E2E_DROP_BUDGET &&
			  e2e_ctx_stats(ck)->results[E2E_DROP_BUDGET] == 1,
			  "budget key: under load, 4 sources of one key share 3 starts (%s)",
			  e2e_result_name(r));
		r = ck ? e2e_accept(ck, ch, chlen, "Q0", 2, 0x80, NULL, t0, &s[0], reply, &rlen) : 0;
		TAP_CHECK(r == E2E_COOKIE_SENT, "budget key: another key has its own (%s)",
			  e2e_result_name(r));
		e2e_session_free(s[0]);
		s[0] = NULL;
		e2e_ctx_free(ck);
	}

	/* a source longer than a session keeps is refused, key or not */
	{
		char longsrc[E2E_SRC_MAX + 8];

		memset(longsrc, 'L', sizeof(longsrc));
		r = e2e_accept(cb, ch, chlen, longsrc, sizeof(longsrc), 0x81, NULL, t0, &s[0],
			       reply, &rlen);
		TAP_CHECK(r == E2E_DROP_MALFORMED && !s[0], "a source over E2E_SRC_MAX: refused (%s)",
			  e2e_result_name(r));
	}

	/* half-open limit */
	r = e2e_accept(cb, ch, chlen, "T1", 2, 0x71, NULL, t0, &s[1], reply, &rlen);
	r = e2e_accept(cb, ch, chlen, "T2", 2, 0x72, NULL, t0, &s[2], reply, &rlen);
	r = e2e_accept(cb, ch, chlen, "T3", 2, 0x73, NULL, t0, &s[3], reply, &rlen);
	TAP_CHECK(s[1] && s[2] && !s[3] && r == E2E_DROP_FULL,
		  "half-open limit: the third handshake is dropped (%s)", e2e_result_name(r));
	e2e_session_free(s[1]);
	r = e2e_accept(cb, ch, chlen, "T3", 2, 0x73, NULL, t0, &s[3], reply, &rlen);
	TAP_CHECK(r == E2E_PENDING && s[3], "room again once one is gone (%s)", e2e_result_name(r));

	/* what is not a ClientHello never reaches OpenSSL's state */
	memset(junk, 0x41, sizeof(junk));
	r = e2e_accept(cb, junk, sizeof(junk), "J", 1, 0x74, NULL, t0, &s[1], reply, &rlen);
	TAP_CHECK(r == E2E_DROP_MALFORMED && !s[1], "garbage: dropped as malformed");
	e2e_hdr_put(junk, 5, 0);
	r = e2e_accept(cb, junk, sizeof(junk), "J", 1, 0x74, NULL, t0, &s[1], reply, &rlen);
	TAP_CHECK(r == E2E_DROP_NOT_HELLO && !s[1], "a header with junk behind: not a ClientHello");
	TAP_CHECK(s[2] && e2e_session_input(s[2], ch, chlen - 1, t0) != E2E_DROP_MALFORMED,
		  "a session takes its peer's datagrams");
	e2e_hdr_put(junk, 0x61, 0x12345);
	TAP_CHECK(s[2] && e2e_session_input(s[2], junk, sizeof(junk), t0) == E2E_DROP_MALFORMED,
		  "a datagram for another receiver index is dropped by the session");
	e2e_hdr_put(junk, 0x62, 0);
	TAP_CHECK(s[2] && e2e_session_input(s[2], junk, sizeof(junk), t0) == E2E_DROP_MALFORMED,
		  "a datagram from another sender index is dropped by the session");
	/* three here, and the source over E2E_SRC_MAX above */
	TAP_CHECK(e2e_ctx_stats(cb)->results[E2E_DROP_MALFORMED] == 4,
		  "malformed drops counted (%llu)",
		  (unsigned long long)e2e_ctx_stats(cb)->results[E2E_DROP_MALFORMED]);
	for (int i = 0; i < 4; i++)
		e2e_session_free(s[i]);
	e2e_session_free(a);
	e2e_ctx_free(ca);
	e2e_ctx_free(cb);
}

static X509 *x509_of(const struct e2e_node *n)
{
	const unsigned char *p = n->der;

	return d2i_X509(NULL, &p, (long)n->len);
}

static void test_credentials(void)
{
	X509 *xa = x509_of(&na), *xb = x509_of(&nb), *hs = NULL;
	EVP_PKEY *hk = NULL;
	struct e2e_session *a, *b = NULL;
	struct e2e_ctx *ca, *cb;
	struct e2e_node renewed;
	uint8_t ch[E2E_DGRAM_MAX], reply[E2E_DGRAM_MAX];
	size_t chlen, rlen;
	char err[256] = "";

	TAP_CHECK(xa && xb && !e2e_hskey_make(na.key, xa, &hk, &hs, err, sizeof(err)),
		  "handshake key made (%s)", err);
	TAP_CHECK(hs && e2e_hskey_delegated(hs, xa), "its certificate is signed by the node key");
	TAP_CHECK(hs && !e2e_hskey_delegated(hs, xb), "and by no other node's key");
	TAP_CHECK(hs && !ASN1_TIME_compare(X509_get0_notAfter(hs), X509_get0_notAfter(xa)) &&
		  !ASN1_TIME_compare(X509_get0_notBefore(hs), X509_get0_notBefore(xa)),
		  "it is valid exactly when the node certificate is");
	TAP_CHECK(!e2e_ctx_new(&cfg, pki.ca, na.key, nb.der, nb.len, t0, err, sizeof(err)),
		  "a context refuses a key that is not the certificate's (%s)", err);

	/* a renewed credential serves the handshakes started after it */
	ca = ctx_for(&na, &cfg);
	cb = ctx_for(&nb, &cfg);
	if (ca && cb && !e2e_node_issue(&pki, &renewed, 2, time(NULL), 7200)) {
		TAP_CHECK(!e2e_ctx_set_credential(cb, renewed.key, renewed.der, renewed.len,
						  err, sizeof(err)), "renewed credential taken (%s)", err);
		a = hello(ca, 0x81, ch, &chlen);
		e2e_accept(cb, ch, chlen, "A", 1, 0x82, NULL, t0, &b, reply, &rlen);
		TAP_CHECK(a && b && finish(a, b) && e2e_session_peer(a) &&
			  !memcmp(e2e_session_peer(a)->serial, renewed.id.serial, renewed.id.serial_len),
			  "the peer sees the renewed certificate");
		e2e_session_free(a);
		e2e_session_free(b);
		e2e_node_free(&renewed);
	}
	e2e_ctx_free(ca);
	e2e_ctx_free(cb);
	X509_free(xa);
	X509_free(xb);
	X509_free(hs);
	EVP_PKEY_free(hk);
}

int main(void)
{
	int64_t now = time(NULL);

	e2e_config_defaults(&cfg);
	cfg.cookie_threshold = 1000;
	test_frame();
	test_budget();
	test_cookie();
	if (e2e_pki_init(&pki, "e2e door CA") || e2e_node_issue(&pki, &na, 1, now, 3600) ||
	    e2e_node_issue(&pki, &nb, 2, now, 3600)) {
		TAP_CHECK(0, "test PKI");
		return tap_done();
	}
	test_cookie_door();
	test_limits();
	test_credentials();
	e2e_node_free(&na);
	e2e_node_free(&nb);
	e2e_pki_fini(&pki);
	return tap_done();
}
