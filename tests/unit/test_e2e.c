// SPDX-License-Identifier: MIT
/*
 * The end-to-end key agreement (user/lib/e2e) between two endpoints in
 * one process: real OpenSSL DTLS 1.2, real AS-issued credentials (test
 * PKI), datagrams carried by in-memory links that drop, reorder and
 * tamper deterministically. Retransmission timers run on the real clock
 * (short RTOs); no assertion depends on how long anything took.
 */
#include "e2e/e2e.h"
#include "e2e/internal.h"	/* ctx->self_policy: an initiator that cheats */
#include "e2e_fixture.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINK_MAX 64

/* One direction: a queue plus the faults to inject, by datagram number. */
struct link {
	uint8_t buf[LINK_MAX][E2E_DGRAM_MAX];
	size_t len[LINK_MAX];
	int n;
	unsigned int seen;		/* datagrams offered so far */
	uint64_t drop;			/* bit i: drop the i-th datagram offered */
	bool reverse;			/* deliver each batch last-first */
	int tamper;			/* datagram number to alter, -1 none */
	size_t tamper_off;
	size_t longest;
	bool drop_all;
	bool drop_final;		/* drop what the sender sends as it finishes */
	bool tamper_final;		/* or flip its last byte (inside the Finished's tag) */
	unsigned int after_done;	/* datagrams the sender sent once finished */
};

struct end {
	struct e2e_ctx *ctx;
	struct e2e_session *s;
	struct e2e_expect expect;	/* what a responder expects (if has_expect) */
	bool has_expect;
	uint32_t index;			/* our tunnel index */
	char src[16];			/* how the peer sees us */
	enum e2e_result last_accept;
	unsigned int accepts, cookies;
};

static struct e2e_pki pki, other_pki;
static struct e2e_config cfg;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void link_init(struct link *l)
{
	memset(l, 0, sizeof(*l));
	l->tamper = -1;
}

static void link_push(struct link *l, const uint8_t *d, size_t len)
{
	unsigned int i = l->seen++;

	if (len > l->longest)
		l->longest = len;
	if (l->drop_all || (i < 64 && (l->drop >> i) & 1) || l->n == LINK_MAX)
		return;
	memcpy(l->buf[l->n], d, len);
	if ((int)i == l->tamper && l->tamper_off < len)
		l->buf[l->n][l->tamper_off] ^= 0x01;
	l->len[l->n++] = len;
}

static void pump(struct end *e, struct link *out)
{
	bool finished = e->s && e2e_session_state(e->s) == E2E_ST_DONE;
	bool first = finished && !out->after_done;
	uint8_t d[E2E_DGRAM_MAX];
	size_t n;

	while (e->s && (n = e2e_session_output(e->s, d, sizeof(d)))) {
		if (finished)
			out->after_done++;
		if (first && out->tamper_final)
			d[n - 1] ^= 0x80;
		if (first && out->drop_final)
			out->seen++;	/* the final flight, lost */
		else
			link_push(out, d, n);
	}
}

/* Delivers l's queue to e; a responder without a session accepts. */
static void deliver(struct link *l, struct end *e, struct link *back, int64_t now)
{
	struct link batch;
	uint8_t reply[E2E_DGRAM_MAX];
	size_t rlen;

	memcpy(batch.buf, l->buf, sizeof(l->buf));
	memcpy(batch.len, l->len, sizeof(l->len));
	batch.n = l->n;
	l->n = 0;
	for (int k = 0; k < batch.n; k++) {
		int i = l->reverse ? batch.n - 1 - k : k;

		if (e->s) {
			e2e_session_input(e->s, batch.buf[i], batch.len[i], now);
			continue;
		}
		e->accepts++;
		e->last_accept = e2e_accept(e->ctx, batch.buf[i], batch.len[i], e->src,
					    strlen(e->src), e->index,
					    e->has_expect ? &e->expect : NULL, now, &e->s,
					    reply, &rlen);
		if (e->last_accept == E2E_COOKIE_SENT) {
			e->cookies++;
			link_push(back, reply, rlen);
		}
	}
}

static bool settled(const struct end *e)
{
	return e->s && e2e_session_state(e->s) != E2E_ST_HANDSHAKE;
}

static int64_t min_timer(const struct end *a, const struct end *b, int64_t now)
{
	int64_t t = -1, u;

	if (a->s && e2e_session_state(a->s) == E2E_ST_HANDSHAKE)
		t = e2e_session_next_timer(a->s, now);
	if (b->s && e2e_session_state(b->s) == E2E_ST_HANDSHAKE) {
		u = e2e_session_next_timer(b->s, now);
		if (t < 0 || (u >= 0 && u < t))
			t = u;
	}
	return t;
}

/*
 * Runs the handshake a (initiator, session made) <-> b until both sides
 * left the handshake state, or one failed and nothing is in flight, or
 * 30 s passed (a bound, not an expectation).
 */
static void run(struct end *a, struct end *b, struct link *ab, struct link *ba)
{
	int64_t start = mono_ms(), now, t;

	for (;;) {
		now = mono_ms();
		pump(a, ab);
		pump(b, ba);
		if (ab->n || ba->n) {
			deliver(ab, b, ba, now);
			deliver(ba, a, ab, now);
			continue;
		}
		if (settled(a) && (settled(b) || e2e_session_state(a->s) == E2E_ST_FAILED))
			break;
		if (b->s && e2e_session_state(b->s) == E2E_ST_FAILED && settled(a))
			break;
		if (now - start > 30000)
			break;
		t = min_timer(a, b, now);
		if (t < 0)
			break;	/* nothing will ever happen again */
		if (t > 0) {
			struct timespec ts = { .tv_sec = t / 1000, .tv_nsec = (t % 1000) * 1000000 };

			nanosleep(&ts, NULL);
		}
		now = mono_ms();
		if (a->s && e2e_session_state(a->s) == E2E_ST_HANDSHAKE)
			e2e_session_timer(a->s, now);
		if (b->s && e2e_session_state(b->s) == E2E_ST_HANDSHAKE)
			e2e_session_timer(b->s, now);
	}
}

static struct e2e_ctx *ctx_for(const struct e2e_node *n, struct e2e_pki *trust,
			       const struct e2e_config *c)
{
	char err[512] = "";
	struct e2e_ctx *ctx = e2e_ctx_new(c, trust->ca, n->key, n->der, n->len, mono_ms(),
					  err, sizeof(err));

	if (!ctx)
		printf("# e2e_ctx_new: %s\n", err);
	return ctx;
}

static void end_init(struct end *e, struct e2e_ctx *ctx, uint32_t index, const char *src)
{
	memset(e, 0, sizeof(*e));
	e->ctx = ctx;
	e->index = index;
	snprintf(e->src, sizeof(e->src), "%s", src);
}

static void end_reset(struct end *e)
{
	e2e_session_free(e->s);
	e->s = NULL;
}

/*
 * One handshake from a to b (contexts given) with the links' faults;
 * a's session is started with expect and peer_index.
 */
static void handshake(struct end *a, struct end *b, struct link *ab, struct link *ba,
		      const struct e2e_expect *expect, uint32_t peer_index)
{
	enum e2e_result why;

	end_reset(a);
	end_reset(b);
	a->s = e2e_connect(a->ctx, a->index, peer_index, expect, mono_ms(), &why);
	if (!a->s) {
		printf("# e2e_connect: %s\n", e2e_result_name(why));
		return;
	}
	run(a, b, ab, ba);
}

static bool done(const struct end *e)
{
	return e->s && e2e_session_state(e->s) == E2E_ST_DONE;
}

static enum e2e_result res(const struct end *e)
{
	return e->s ? e2e_session_result(e->s) : E2E_PENDING;
}

static bool keys_pair(const struct end *a, const struct end *b, struct e2e_keys *ka,
		      struct e2e_keys *kb)
{
	return !e2e_session_keys(a->s, ka) && !e2e_session_keys(b->s, kb) &&
	       !memcmp(ka->tx, kb->rx, sizeof(ka->tx)) && !memcmp(ka->rx, kb->tx, sizeof(ka->rx)) &&
	       memcmp(ka->tx, ka->rx, sizeof(ka->tx));
}

static struct e2e_node na, nb;

static void test_basic(void)
{
	struct e2e_ctx *ca = ctx_for(&na, &pki, &cfg), *cb = ctx_for(&nb, &pki, &cfg);
	struct e2e_keys ka, kb, ka2, kb2, ka3, kb3;
	struct end a, b;
	struct link ab, ba;
	struct e2e_expect ex;
	const struct cyph_node_id *peer;

	end_init(&a, ca, 0x1111, "A");
	end_init(&b, cb, 0x2222, "B");
	e2e_expect_node(&nb, &ex);
	e2e_expect_node(&na, &b.expect);	/* the responder was told who comes */
	b.has_expect = true;
	link_init(&ab);
	link_init(&ba);
	handshake(&a, &b, &ab, &ba, &ex, 0);
	TAP_CHECK(done(&a) && done(&b), "handshake completes (initiator %s, responder %s)",
		  e2e_result_name(res(&a)), e2e_result_name(res(&b)));
	TAP_CHECK(a.s && b.s && keys_pair(&a, &b, &ka, &kb),
		  "both sides derive the same keys in opposite directions, TX != RX");
	TAP_CHECK(ka.local_index == 0x1111 && ka.peer_index == 0x2222 &&
		  kb.local_index == 0x2222 && kb.peer_index == 0x1111,
		  "the keys come with both tunnel indices (%x/%x, %x/%x)",
		  ka.local_index, ka.peer_index, kb.local_index, kb.peer_index);
	peer = b.s ? e2e_session_peer(b.s) : NULL;
	TAP_CHECK(peer && peer->id == na.id.id && !strcmp(peer->fqdn, na.id.fqdn),
		  "the responder learns the initiator's verified identity");
	peer = a.s ? e2e_session_peer(a.s) : NULL;
	TAP_CHECK(peer && peer->id == nb.id.id, "the initiator verified the responder");
	TAP_CHECK(ab.longest <= E2E_DGRAM_MAX && ba.longest <= E2E_DGRAM_MAX && ab.longest > 0,
		  "every datagram fits in %d bytes (longest %zu / %zu)", E2E_DGRAM_MAX,
		  ab.longest, ba.longest);
	TAP_CHECK(e2e_ctx_stats(ca)->signatures == 1 && e2e_ctx_stats(cb)->signatures == 1,
		  "one signature per side (CertificateVerify, ServerKeyExchange)");
	TAP_CHECK(e2e_ctx_stats(cb)->half_open == 0, "no half-open session left");

	/* a second handshake between the same nodes: fresh keys */
	link_init(&ab);
	link_init(&ba);
	handshake(&a, &b, &ab, &ba, &ex, 0);
	TAP_CHECK(done(&a) && done(&b) && keys_pair(&a, &b, &ka2, &kb2) &&
		  memcmp(ka.tx, ka2.tx, sizeof(ka.tx)) && memcmp(ka.rx, ka2.rx, sizeof(ka.rx)),
		  "a second handshake gives different keys");

	/* rekey: same indices, the initiator knows the peer's index */
	link_init(&ab);
	link_init(&ba);
	handshake(&a, &b, &ab, &ba, &ex, 0x2222);
	TAP_CHECK(done(&a) && done(&b) && keys_pair(&a, &b, &ka3, &kb3) &&
		  ka3.peer_index == 0x2222 && memcmp(ka3.tx, ka2.tx, sizeof(ka.tx)) &&
		  memcmp(ka3.tx, ka.tx, sizeof(ka.tx)),
		  "rekey over the same tunnel indices gives new keys");

	/* linger: a finished session closes after linger_ms */
	TAP_CHECK(b.s && e2e_session_next_timer(b.s, mono_ms()) > 0 &&
		  e2e_session_timer(b.s, mono_ms() + cfg.linger_ms + 1) == E2E_OK &&
		  e2e_session_state(b.s) == E2E_ST_CLOSED,
		  "a finished session lingers, then closes");
	end_reset(&a);
	end_reset(&b);
	e2e_ctx_free(ca);
	e2e_ctx_free(cb);
}

static void test_loss_reorder(void)
{
	struct e2e_ctx *ca = ctx_for(&na, &pki, &cfg), *cb = ctx_for(&nb, &pki, &cfg);
	struct e2e_keys ka, kb;
	struct end a, b;
	struct link ab, ba;
	struct e2e_expect ex;

	end_init(&a, ca, 7, "A");
	end_init(&b, cb, 9, "B");
	e2e_expect_node(&nb, &ex);

	/* first ClientHello lost, the responder's first answer lost, and
	 * everything delivered in reverse order of sending */
	link_init(&ab);
	link_init(&ba);
	ab.drop = 1u << 0 | 1u << 2;
	ba.drop = 1u << 0;
	ab.reverse = ba.reverse = true;
	handshake(&a, &b, &ab, &ba, &ex, 0);
	TAP_CHECK(done(&a) && done(&b) && keys_pair(&a, &b, &ka, &kb),
		  "completes through loss and reordering (%s / %s, %u+%u datagrams)",
		  e2e_result_name(res(&a)), e2e_result_name(res(&b)), ab.seen, ba.seen);

	/* the responder's last flight lost: it is finished, the initiator
	 * retransmits, the lingering responder answers; or its Finished
	 * altered on the way: the record fails its MAC and is discarded
	 * (RFC 6347 4.1.2.7), and the retransmitted, intact flight completes */
	for (int tamper = 0; tamper < 2; tamper++) {
		link_init(&ab);
		link_init(&ba);
		ba.drop_final = !tamper;
		ba.tamper_final = tamper;
		handshake(&a, &b, &ab, &ba, &ex, 0);
		TAP_CHECK(done(&a) && done(&b) && keys_pair(&a, &b, &ka, &kb) &&
			  ba.after_done >= 2, "%s (%s / %s, %u sent after finishing)",
			  tamper ? "an altered encrypted record is discarded, the retransmission completes"
				 : "a lost last flight is answered by the finished responder",
			  e2e_result_name(res(&a)), e2e_result_name(res(&b)), ba.after_done);
	}
	end_reset(&a);
	end_reset(&b);
	e2e_ctx_free(ca);
	e2e_ctx_free(cb);
}

/* a with cred an (trusting ta) to b with cred bn (trusting tb). */
static bool cheat_policy;

static void failing(const struct e2e_node *an, struct e2e_pki *ta, const struct e2e_node *bn,
		    struct e2e_pki *tb, const struct e2e_expect *a_expects,
		    const struct e2e_expect *b_expects, enum e2e_result *ra, enum e2e_result *rb,
		    bool *keys_any, struct link *ab_faults)
{
	struct e2e_ctx *ca = ctx_for(an, ta, &cfg), *cb = ctx_for(bn, tb, &cfg);
	struct end a, b;
	struct link ab, ba;
	struct e2e_keys k;

	if (cheat_policy && ca)
		ca->self_policy.reach_all = true;	/* a modified initiator */

	end_init(&a, ca, 21, "A");
	end_init(&b, cb, 22, "B");
	if (b_expects) {
		b.expect = *b_expects;
		b.has_expect = true;
	}
	if (ab_faults)
		ab = *ab_faults;
	else
		link_init(&ab);
	link_init(&ba);
	handshake(&a, &b, &ab, &ba, a_expects, 0);
	*ra = res(&a);
	*rb = res(&b);
	*keys_any = (a.s && !e2e_session_keys(a.s, &k)) || (b.s && !e2e_session_keys(b.s, &k));
	end_reset(&a);
	end_reset(&b);
	e2e_ctx_free(ca);
	e2e_ctx_free(cb);
}

/* The access policy in the two certificates (pki/policy.h). */
static void test_policy_refusals(void)
{
	struct e2e_node guest, cam;
	struct e2e_expect ex_b, ex_cam;
	enum e2e_result ra, rb;
	bool keys;
	int64_t now = time(NULL);

	if (e2e_node_issue_policy(&pki, &guest, 81, now, 3600, "g=guests;r=guests") ||
	    e2e_node_issue_policy(&pki, &cam, 82, now, 3600, "g=cams;r="))
		return;
	e2e_expect_node(&nb, &ex_b);
	e2e_expect_node(&cam, &ex_cam);
	failing(&guest, &pki, &nb, &pki, &ex_b, NULL, &ra, &rb, &keys, NULL);
	TAP_CHECK(ra == E2E_FAIL_POLICY && !keys,
		  "policy: a guest does not start a handshake to a node it may not reach (%s / %s)",
		  e2e_result_name(ra), e2e_result_name(rb));
	cheat_policy = true;
	failing(&guest, &pki, &nb, &pki, &ex_b, NULL, &ra, &rb, &keys, NULL);
	cheat_policy = false;
	TAP_CHECK(rb == E2E_FAIL_POLICY && !keys,
		  "policy: a modified initiator is refused by the responder (%s / %s)",
		  e2e_result_name(ra), e2e_result_name(rb));
	failing(&na, &pki, &cam, &pki, &ex_cam, NULL, &ra, &rb, &keys, NULL);
	TAP_CHECK(ra == E2E_FAIL_POLICY && !keys,
		  "policy: nodes do not reach a group no rule names (%s)", e2e_result_name(ra));
	failing(&cam, &pki, &nb, &pki, &ex_b, NULL, &ra, &rb, &keys, NULL);
	TAP_CHECK(ra == E2E_FAIL_POLICY && !keys, "policy: a camera reaches nothing (%s)",
		  e2e_result_name(ra));
	e2e_node_free(&guest);
	e2e_node_free(&cam);
}

static void test_refusals(void)
{
	struct e2e_node stranger, expired, revoked;
	struct e2e_expect ex_b, ex;
	enum e2e_result ra, rb;
	bool keys;
	int64_t now = time(NULL);

	e2e_expect_node(&nb, &ex_b);

	/* responder's credential from another CA */
	if (e2e_node_issue(&other_pki, &stranger, nb.id.id, now, 3600))
		return;
	failing(&na, &pki, &stranger, &pki, &ex_b, NULL, &ra, &rb, &keys, NULL);
	TAP_CHECK(ra == E2E_FAIL_UNTRUSTED && !keys,
		  "wrong CA: the initiator refuses, no keys (%s / %s)",
		  e2e_result_name(ra), e2e_result_name(rb));
	TAP_CHECK(rb == E2E_FAIL_PEER_ALERT, "and the responder learns it was refused (%s)",
		  e2e_result_name(rb));

	/* initiator's credential expired an hour ago */
	if (e2e_node_issue(&pki, &expired, 77, now - 7200, 3600))
		return;
	failing(&expired, &pki, &nb, &pki, &ex_b, NULL, &ra, &rb, &keys, NULL);
	TAP_CHECK(rb == E2E_FAIL_EXPIRED && !keys,
		  "expired initiator: the responder refuses, no keys (%s / %s)",
		  e2e_result_name(ra), e2e_result_name(rb));

	/* responder's credential revoked in the CRL the initiator loaded */
	if (e2e_node_issue(&pki, &revoked, nb.id.id, now, 3600) || e2e_pki_revoke(&pki, &revoked))
		return;
	failing(&na, &pki, &revoked, &pki, &ex_b, NULL, &ra, &rb, &keys, NULL);
	TAP_CHECK(ra == E2E_FAIL_REVOKED && !keys,
		  "revoked responder (CRL): the initiator refuses, no keys (%s / %s)",
		  e2e_result_name(ra), e2e_result_name(rb));

	/* a valid credential of someone else */
	ex = ex_b;
	snprintf(ex.fqdn, sizeof(ex.fqdn), "someone-else.e2e.test");
	failing(&na, &pki, &nb, &pki, &ex, NULL, &ra, &rb, &keys, NULL);
	TAP_CHECK(ra == E2E_FAIL_PEER_MISMATCH && !keys, "name mismatch refused (%s)",
		  e2e_result_name(ra));
	ex = ex_b;
	ex.vip4.s_addr ^= htonl(1);
	failing(&na, &pki, &nb, &pki, &ex, NULL, &ra, &rb, &keys, NULL);
	TAP_CHECK(ra == E2E_FAIL_PEER_MISMATCH && !keys, "VIPv4 mismatch refused (%s)",
		  e2e_result_name(ra));
	ex = ex_b;
	ex.vip6.s6_addr[15] ^= 1;
	failing(&na, &pki, &nb, &pki, &ex, NULL, &ra, &rb, &keys, NULL);
	TAP_CHECK(ra == E2E_FAIL_PEER_MISMATCH && !keys, "VIPv6 mismatch refused (%s)",
		  e2e_result_name(ra));
	e2e_expect_node(&nb, &ex);	/* the responder expected nb, na came */
	failing(&na, &pki, &nb, &pki, &ex_b, &ex, &ra, &rb, &keys, NULL);
	TAP_CHECK(rb == E2E_FAIL_PEER_MISMATCH && !keys,
		  "responder with an expectation refuses another node (%s)", e2e_result_name(rb));

	e2e_node_free(&stranger);
	e2e_node_free(&expired);
	e2e_node_free(&revoked);
	test_policy_refusals();
}

static void test_tamper(void)
{
	struct e2e_ctx *ca = ctx_for(&na, &pki, &cfg), *cb = ctx_for(&nb, &pki, &cfg);
	struct e2e_expect ex;
	struct link ab, ba;
	struct end a, b;
	struct e2e_keys k;

	/* one bit of the ServerHello's random (header 12, record 13,
	 * handshake header 12, version 2): the signature and Finished fail */
	e2e_expect_node(&nb, &ex);
	end_init(&a, ca, 31, "A");
	end_init(&b, cb, 32, "B");
	link_init(&ab);
	link_init(&ba);
	ba.tamper = 0;
	ba.tamper_off = 12 + 13 + 12 + 2 + 5;
	handshake(&a, &b, &ab, &ba, &ex, 0);
	TAP_CHECK(res(&a) == E2E_FAIL_PROTOCOL && a.s && e2e_session_keys(a.s, &k) &&
		  !(b.s && !e2e_session_keys(b.s, &k)),
		  "a tampered ServerHello fails the handshake, no keys (%s / %s)",
		  e2e_result_name(res(&a)), e2e_result_name(res(&b)));

	/* one bit of the ClientHello's random: the responder's Finished check
	 * fails (the initiator's signature covers its own view) */
	link_init(&ab);
	link_init(&ba);
	ab.tamper = 0;
	ab.tamper_off = 12 + 13 + 12 + 2 + 5;
	handshake(&a, &b, &ab, &ba, &ex, 0);
	TAP_CHECK(a.s && e2e_session_state(a.s) != E2E_ST_DONE &&
		  !(b.s && !e2e_session_keys(b.s, &k)) &&
		  (res(&a) == E2E_FAIL_PROTOCOL || res(&b) == E2E_FAIL_PROTOCOL),
		  "a tampered ClientHello fails the handshake, no keys (%s / %s)",
		  e2e_result_name(res(&a)), e2e_result_name(res(&b)));
	end_reset(&a);
	end_reset(&b);
	e2e_ctx_free(ca);
	e2e_ctx_free(cb);
}

static void test_timeout(void)
{
	struct e2e_config c = cfg;
	struct e2e_ctx *ca;
	struct e2e_expect ex;
	struct link ab, ba;
	struct end a, b;
	struct e2e_keys k;

	c.handshake_timeout_ms = 300;
	ca = ctx_for(&na, &pki, &c);
	e2e_expect_node(&nb, &ex);
	end_init(&a, ca, 41, "A");
	end_init(&b, ca, 42, "B");
	link_init(&ab);
	link_init(&ba);
	ab.drop_all = true;
	handshake(&a, &b, &ab, &ba, &ex, 0);
	TAP_CHECK(res(&a) == E2E_FAIL_TIMEOUT && a.s && e2e_session_keys(a.s, &k),
		  "no answer: the handshake times out, no keys (%s, %u sent)",
		  e2e_result_name(res(&a)), ab.seen);
	end_reset(&a);
	e2e_ctx_free(ca);
}

/*
 * False Start (RFC 7918): the initiator's keys once its last flight is
 * written, before the responder's Finished; the same keys the responder
 * and the finished initiator hold. A handshake that fails after them (no
 * Finished before the deadline) takes them back; a responder is never
 * early.
 */
static void test_false_start(void)
{
	struct e2e_ctx *ca = ctx_for(&na, &pki, &cfg), *cb = ctx_for(&nb, &pki, &cfg);
	struct e2e_keys early = { 0 }, ka, kb;
	struct e2e_expect ex;
	enum e2e_result why;
	struct link ab, ba;
	struct end a, b;
	bool before, was_early;

	end_init(&a, ca, 0x3333, "A");
	end_init(&b, cb, 0x4444, "B");
	e2e_expect_node(&nb, &ex);
	for (int lost = 0; lost < 2; lost++) {
		end_reset(&a);
		end_reset(&b);
		link_init(&ab);
		link_init(&ba);
		ba.drop_final = lost;
		a.s = e2e_connect(ca, a.index, 0, &ex, mono_ms(), &why);
		pump(&a, &ab);				/* ClientHello */
		deliver(&ab, &b, &ba, mono_ms());
		before = a.s && e2e_session_early(a.s);
		pump(&b, &ba);				/* ServerHello .. ServerHelloDone */
		deliver(&ba, &a, &ab, mono_ms());
		was_early = a.s && e2e_session_early(a.s) &&
			    e2e_session_state(a.s) == E2E_ST_HANDSHAKE &&
			    !e2e_session_keys(a.s, &early);
		if (!lost) {
			TAP_CHECK(!before && was_early,
				  "False Start: the initiator's keys once its last flight is written, not before");
			TAP_CHECK(b.s && !e2e_session_early(b.s), "a responder is never early");
		}
		pump(&a, &ab);				/* Certificate .. Finished */
		deliver(&ab, &b, &ba, mono_ms());
		pump(&b, &ba);				/* ChangeCipherSpec, Finished */
		deliver(&ba, &a, &ab, mono_ms());
		if (!lost) {
			TAP_CHECK(done(&a) && done(&b) && keys_pair(&a, &b, &ka, &kb) &&
				  !memcmp(&early, &ka, sizeof(ka)) && !e2e_session_early(a.s),
				  "the early keys are the finished handshake's, on both sides");
		} else {
			if (a.s)
				e2e_session_timer(a.s, mono_ms() + cfg.handshake_timeout_ms + 1);
			TAP_CHECK(was_early && res(&a) == E2E_FAIL_TIMEOUT && a.s &&
				  !e2e_session_early(a.s) && e2e_session_keys(a.s, &ka),
				  "no Finished after False Start: the handshake fails, the keys are taken back (%s)",
				  e2e_result_name(res(&a)));
		}
	}
	end_reset(&a);
	end_reset(&b);
	e2e_ctx_free(ca);
	e2e_ctx_free(cb);
}

/*
 * An initiator that learnt the responder's index elsewhere (a relay
 * probe) pins it: later calls do not move it, its datagrams carry it, and
 * an answer from another index is refused.
 */
static void test_pinned_index(void)
{
	struct e2e_ctx *ca = ctx_for(&na, &pki, &cfg), *cb = ctx_for(&nb, &pki, &cfg);
	uint8_t bad[E2E_DGRAM_MAX];
	struct e2e_keys ka, kb;
	struct e2e_expect ex;
	enum e2e_result why;
	struct link ab, ba;
	struct end a, b;
	size_t n;

	end_init(&a, ca, 0x5151, "A");
	end_init(&b, cb, 0x6262, "B");
	e2e_expect_node(&nb, &ex);
	link_init(&ab);
	link_init(&ba);
	a.s = e2e_connect(ca, a.index, 0, &ex, mono_ms(), &why);
	TAP_CHECK(a.s != NULL, "connect without the peer's index");
	if (!a.s)
		return;
	e2e_session_set_peer_index(a.s, 0x6262);
	e2e_session_set_peer_index(a.s, 0x7373);
	TAP_CHECK(e2e_session_peer_index(a.s) == 0x6262, "the first index learnt is pinned");
	pump(&a, &ab);
	deliver(&ab, &b, &ba, mono_ms());
	pump(&b, &ba);
	/* the responder's flight, as if from another index: refused */
	n = ba.n ? ba.len[0] : 0;
	if (n) {
		memcpy(bad, ba.buf[0], n);
		bad[4] ^= 0x01;	/* the sender index's first byte */
	}
	TAP_CHECK(n && e2e_session_input(a.s, bad, n, mono_ms()) == E2E_DROP_MALFORMED,
		  "a datagram from another index is refused");
	run(&a, &b, &ab, &ba);
	TAP_CHECK(done(&a) && done(&b) && keys_pair(&a, &b, &ka, &kb) && ka.peer_index == 0x6262,
		  "the handshake completes with the pinned index");
	end_reset(&a);
	end_reset(&b);
	e2e_ctx_free(ca);
	e2e_ctx_free(cb);
}

int main(void)
{
	int64_t now = time(NULL);

	e2e_config_defaults(&cfg);
	cfg.rto_initial_ms = 100;	/* short, yet above an ASan handshake step */
	cfg.rto_max_ms = 400;
	cfg.handshake_timeout_ms = 20000;
	cfg.cookie_threshold = 1000;	/* no cookies unless a test asks */
	if (e2e_pki_init(&pki, "e2e test CA") || e2e_pki_init(&other_pki, "another CA") ||
	    e2e_node_issue(&pki, &na, 1, now, 3600) || e2e_node_issue(&pki, &nb, 2, now, 3600)) {
		TAP_CHECK(0, "test PKI");
		return tap_done();
	}
	test_basic();
	test_false_start();
	test_pinned_index();
	test_loss_reorder();
	test_tamper();
	test_timeout();
	test_refusals();	/* last: it loads a CRL into the shared CA */
	e2e_node_free(&na);
	e2e_node_free(&nb);
	e2e_pki_fini(&pki);
	e2e_pki_fini(&other_pki);
	return tap_done();
}
