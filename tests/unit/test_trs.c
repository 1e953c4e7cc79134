// SPDX-License-Identifier: MIT
/*
 * TRS core: binding with NMS-derived secrets (and every way a bind can be
 * wrong: bad MAC, stale, expired token, replay, conflicting node, draining,
 * table full), forwarding in both directions between an IPv4 and an IPv6
 * end, drops by reason, rebinding from a new address, CLOSE, the token
 * bucket, idle expiry, and concurrent forwarding while sessions churn.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/cyphonic.h>
#include "trs.h"
#include "client/trsclient.h"
#include "tap.h"

static struct trs trs;
static struct trs_config cfg;
static int64_t now = 1700000000000LL;

static struct proto_ep ep(const char *a, uint16_t port)
{
	struct proto_ep e = { .port = port };

	if (inet_pton(AF_INET, a, &e.v4) == 1)
		e.family = 4;
	else if (inet_pton(AF_INET6, a, &e.v6) == 1)
		e.family = 6;
	return e;
}

/* What a node would get from the NMS for one end. */
static void grant(struct trsc *t, uint32_t session, uint8_t end, uint64_t node,
		  uint64_t expiry)
{
	memset(t, 0, sizeof(*t));
	t->session = session;
	t->end = end;
	t->node_id = node;
	t->expiry = expiry;
	t->seq = 100;
	proto_bind_secret(cfg.relay_key, session, end, node, expiry, t->secret);
}

static int bind_from(struct trsc *t, const struct proto_ep *from, int *acked)
{
	uint8_t req[PROTO_RC_LEN], rep[PROTO_RC_LEN];
	size_t rl;
	bool unauth;
	int rc;

	trsc_bind(t, req, now);
	rc = trs_ctrl(&trs, req, sizeof(req), from, now, rep, &rl, &unauth);
	*acked = rl ? trsc_input(t, rep, rl) : -3;
	if (*acked == TRSC_CHALLENGED) {	/* a new address: the echo proves it */
		trsc_bind(t, req, now);
		rc = trs_ctrl(&trs, req, sizeof(req), from, now, rep, &rl, &unauth);
		*acked = rl ? trsc_input(t, rep, rl) : -3;
	}
	return rc;
}

static int fwd(const struct proto_ep *from, uint32_t session, size_t payload,
	       struct proto_ep *to)
{
	uint8_t pkt[2000] = { CYPHONIC_MSG_RELAY, 0, 0, 0 };
	const uint8_t *inner;
	size_t inner_len;

	pkt[4] = (uint8_t)(session >> 24);
	pkt[5] = (uint8_t)(session >> 16);
	pkt[6] = (uint8_t)(session >> 8);
	pkt[7] = (uint8_t)session;
	pkt[8] = CYPHONIC_MSG_DATA;
	return trs_forward(&trs, pkt, 8 + payload, from, now, to, &inner, &inner_len);
}

/* Session id is held as a tombstone: known, both ends unbound. */
static bool tomb(uint32_t id)
{
	struct trs_snap s;

	return trs_snapshot(&trs, id, &s) && !s.end[0].bound && !s.end[1].bound;
}

static void test_bind_forward(void)
{
	struct trsc a, b, x;
	struct proto_ep a_ep = ep("192.0.2.1", 4000), b_ep = ep("2001:db8::2", 5000),
			to, evil = ep("203.0.113.66", 6666);
	uint64_t expiry = (uint64_t)(now / 1000) + 600, pk[2], by[2], rd;
	uint8_t req[PROTO_RC_LEN], rep[PROTO_RC_LEN], old_bind[PROTO_RC_LEN];
	uint8_t old_bind2[PROTO_RC_LEN];
	struct trs_snap snap;
	size_t rl;
	bool unauth;
	int ack;

	grant(&a, 0x1234, 0, 11, expiry);
	grant(&b, 0x1234, 1, 12, expiry);
	TAP_CHECK(bind_from(&a, &a_ep, &ack) == 0 && ack == 0 && a.idle_s == 30,
		  "end 0 binds over IPv4, ACK authenticated");
	TAP_CHECK(fwd(&a_ep, 0x1234, 100, &to) == TRS_DROP_PEER_UNBOUND,
		  "nothing forwarded before the other end binds");
	TAP_CHECK(bind_from(&b, &b_ep, &ack) == 0 && ack == 0, "end 1 binds over IPv6");
	TAP_CHECK(trs_sessions(&trs) == 1, "one session");
	TAP_CHECK(fwd(&a_ep, 0x1234, 100, &to) == -1 && proto_ep_equal(&to, &b_ep),
		  "IPv4 end -> IPv6 end");
	TAP_CHECK(fwd(&b_ep, 0x1234, 50, &to) == -1 && proto_ep_equal(&to, &a_ep),
		  "IPv6 end -> IPv4 end");
	TAP_CHECK(fwd(&evil, 0x1234, 50, &to) == TRS_DROP_UNKNOWN_PEER, "stranger dropped");
	TAP_CHECK(fwd(&a_ep, 0x9999, 50, &to) == TRS_DROP_NO_SESSION, "unknown session dropped");
	TAP_CHECK(trs_session_stats(&trs, 0x1234, pk, by, &rd) && pk[0] == 1 && pk[1] == 1 &&
		  by[0] == 100 && by[1] == 50, "per-session packet and byte counters");

	/* Hostile binds. */
	x = a;
	x.secret[0] ^= 1;
	TAP_CHECK(bind_from(&x, &evil, &ack) == PROTO_E_BAD_SIGNATURE, "forged token refused");
	x = a;
	x.node_id = 99;		/* token for node 11 used by another node id */
	trsc_bind(&x, req, now);
	TAP_CHECK(trs_ctrl(&trs, req, sizeof(req), &evil, now, rep, &rl, &unauth) ==
		  PROTO_E_BAD_SIGNATURE && unauth, "token bound to its node id");
	trsc_bind(&a, req, now);
	TAP_CHECK(trs_ctrl(&trs, req, sizeof(req), &a_ep, now, rep, &rl, &unauth) == 0 &&
		  trs_ctrl(&trs, req, sizeof(req), &evil, now, rep, &rl, &unauth) ==
		  PROTO_E_REPLAY, "replayed BIND cannot steal the end");
	TAP_CHECK(rl == PROTO_RC_LEN && trsc_input(&a, rep, rl) == PROTO_E_REPLAY,
		  "client reads the authentic REPLAY error");
	trsc_bind(&a, req, now - 31000);
	TAP_CHECK(trs_ctrl(&trs, req, sizeof(req), &a_ep, now, rep, &rl, &unauth) ==
		  PROTO_E_STALE, "stale BIND refused");
	grant(&x, 0x1234, 0, 13, expiry);
	TAP_CHECK(bind_from(&x, &evil, &ack) == PROTO_E_CONFLICT, "another node on a bound end: CONFLICT");
	grant(&x, 0x1234, 0, 11, expiry + 1);
	TAP_CHECK(bind_from(&x, &evil, &ack) == PROTO_E_CONFLICT, "other expiry for the same id: CONFLICT");
	grant(&x, 0x5555, 0, 11, (uint64_t)(now / 1000) - 1);
	TAP_CHECK(bind_from(&x, &evil, &ack) == PROTO_E_TOKEN_EXPIRED, "expired token refused");
	TAP_CHECK(bind_from(&a, (struct proto_ep[]){ ep("192.0.2.1", 4001) }, &ack) == 0 &&
		  fwd(&b_ep, 0x1234, 10, &to) == -1 && to.port == 4001,
		  "rebind from a new port moves the end (NAT rebinding)");

	/* Rate limit: 1000 bytes/s, burst 1500. */
	cfg.rate_bytes = 1000;
	cfg.burst_bytes = 1500;
	trs_set_config(&trs, &cfg, now);
	grant(&a, 0x2000, 0, 21, expiry);
	grant(&b, 0x2000, 1, 22, expiry);
	bind_from(&a, &a_ep, &ack);
	bind_from(&b, &b_ep, &ack);
	TAP_CHECK(fwd(&a_ep, 0x2000, 1000, &to) == -1 &&
		  fwd(&a_ep, 0x2000, 1000, &to) == TRS_DROP_RATE, "burst exhausted: dropped");
	now += 600;
	TAP_CHECK(fwd(&a_ep, 0x2000, 1000, &to) == -1, "tokens refill over time");
	trs_session_stats(&trs, 0x2000, pk, by, &rd);
	TAP_CHECK(rd == 1, "rate drops counted per session");
	cfg.rate_bytes = 0;
	trs_set_config(&trs, &cfg, now);

	/* CLOSE from both ends removes the session. */
	trsc_bind(&a, old_bind, now);
	trs_ctrl(&trs, old_bind, sizeof(old_bind), &a_ep, now, rep, &rl, &unauth);
	trsc_close(&a, req, now);
	TAP_CHECK(trs_ctrl(&trs, req, sizeof(req), &a_ep, now, rep, &rl, &unauth) == 0 && rl == 0,
		  "CLOSE of end 0 (no answer)");
	/* Regression: an unbound end skipped the sequence check. */
	TAP_CHECK(trs_ctrl(&trs, old_bind, sizeof(old_bind), &evil, now, rep, &rl, &unauth) ==
		  PROTO_E_REPLAY, "a BIND replayed after CLOSE does not re-open the end");
	TAP_CHECK(fwd(&b_ep, 0x2000, 10, &to) == TRS_DROP_PEER_UNBOUND, "closed end no longer reachable");
	trsc_bind(&b, old_bind2, now);
	trs_ctrl(&trs, old_bind2, sizeof(old_bind2), &b_ep, now, rep, &rl, &unauth);
	trsc_close(&b, req, now);
	trs_ctrl(&trs, req, sizeof(req), &b_ep, now, rep, &rl, &unauth);
	TAP_CHECK(trs_sessions(&trs) == 1 && trs_tombstones(&trs) == 1,
		  "both closed: the session is a tombstone");
	/* Issue 12: captured BINDs of both ends replayed after both closed. */
	TAP_CHECK(trs_ctrl(&trs, old_bind, sizeof(old_bind), &evil, now + 1000, rep, &rl,
			   &unauth) == PROTO_E_REPLAY &&
		  trs_ctrl(&trs, old_bind2, sizeof(old_bind2), &evil, now + 1000, rep, &rl,
			   &unauth) == PROTO_E_REPLAY &&
		  fwd(&evil, 0x2000, 10, &to) == TRS_DROP_UNKNOWN_PEER,
		  "BINDs replayed after both ends closed do not re-open it");
	trs_expire(&trs, now + 30999);
	TAP_CHECK(tomb(0x2000), "the tombstone outlives max_skew");
	TAP_CHECK(trs_sessions(&trs) == 0 && tomb(0x1234),
		  "idle session expired (a tombstone too)");
	trs_expire(&trs, now + 31000);
	TAP_CHECK(!trs_snapshot(&trs, 0x2000, &snap),
		  "and goes after max_skew + 1 s, when the captured BINDs are stale");
	now += 31000;
	trs_expire(&trs, now + 31000);

	/* Draining: no new session, refresh of an existing one still works. */
	grant(&a, 0x3000, 0, 31, expiry);
	bind_from(&a, &a_ep, &ack);
	atomic_store(&trs.draining, true);
	grant(&x, 0x3001, 0, 32, expiry);
	TAP_CHECK(bind_from(&x, &a_ep, &ack) == PROTO_E_DRAINING && ack == PROTO_E_DRAINING,
		  "draining: new session refused with DRAINING");
	TAP_CHECK(bind_from(&a, &a_ep, &ack) == 0, "draining: refresh of an existing session works");
	atomic_store(&trs.draining, false);

	cfg.max_sessions = 1;
	trs_set_config(&trs, &cfg, now);
	TAP_CHECK(bind_from(&x, &a_ep, &ack) == PROTO_E_FULL, "table full: FULL");
	cfg.max_sessions = 0;
	trs_set_config(&trs, &cfg, now);
}

/* Issue 12: the grant's expiry, the CRL and relay-key rotation. */
static void test_grant_limits(void)
{
	struct proto_ep a_ep = ep("192.0.2.1", 4000), b_ep = ep("192.0.2.2", 5000), to;
	uint64_t expiry = (uint64_t)(now / 1000) + 10;
	struct trs_config c2 = cfg;
	struct trsc a, b, x;
	uint64_t *ids;
	int ack;

	grant(&a, 0x7000, 0, 71, expiry);
	grant(&b, 0x7000, 1, 72, expiry);
	bind_from(&a, &a_ep, &ack);
	bind_from(&b, &b_ep, &ack);
	TAP_CHECK(fwd(&a_ep, 0x7000, 10, &to) == -1, "session forwards within its grant");
	now += 11000;
	TAP_CHECK(fwd(&a_ep, 0x7000, 10, &to) == TRS_DROP_EXPIRED,
		  "forwarding stops at the grant's expiry");
	trs_expire(&trs, now);
	TAP_CHECK(tomb(0x7000), "an expired session ends at the next sweep");
	trs_expire(&trs, now + 32000);

	/* Revocation: binds refused, bound ends unbound at once. */
	expiry = (uint64_t)(now / 1000) + 600;
	grant(&a, 0x7001, 0, 81, expiry);
	grant(&b, 0x7001, 1, 82, expiry);
	bind_from(&a, &a_ep, &ack);
	bind_from(&b, &b_ep, &ack);
	ids = malloc(2 * sizeof(*ids));
	ids[0] = 5;
	ids[1] = 82;
	TAP_CHECK(trs_set_revoked(&trs, ids, 2, now) == 1 &&
		  fwd(&a_ep, 0x7001, 10, &to) == TRS_DROP_PEER_UNBOUND,
		  "a CRL naming node 82 unbinds its end: the session stops forwarding");
	b.seq++;
	TAP_CHECK(bind_from(&b, &b_ep, &ack) == PROTO_E_REVOKED && ack == PROTO_E_REVOKED,
		  "the revoked node's BIND is refused (REVOKED)");
	trs_set_revoked(&trs, NULL, 0, now);
	b.seq++;
	TAP_CHECK(bind_from(&b, &b_ep, &ack) == 0, "an empty CRL revokes nothing");

	/* Relay-key rotation: the old key accepted for key_overlap. */
	grant(&x, 0x7002, 0, 91, expiry);	/* issued under the old key */
	memset(c2.relay_key, 0x77, sizeof(c2.relay_key));
	c2.key_overlap_ms = 5000;
	trs_set_config(&trs, &c2, now);
	TAP_CHECK(bind_from(&x, &a_ep, &ack) == 0 && ack == 0 &&
		  atomic_load(&trs.prev_key_binds) == 1,
		  "after a key change a grant under the old key still binds");
	now += 5001;
	x.seq++;
	TAP_CHECK(bind_from(&x, &a_ep, &ack) == PROTO_E_BAD_SIGNATURE,
		  "and stops binding when the overlap is over");
	trs_set_config(&trs, &cfg, now);	/* back to the test's key */
	grant(&x, 0x7003, 0, 92, expiry);
	TAP_CHECK(bind_from(&x, &a_ep, &ack) == 0, "grants under the restored key bind");
	trs_expire(&trs, now + 100000);
	trs_expire(&trs, now + 200000);
}

static void test_hostile_ctrl(void)
{
	uint8_t junk[PROTO_RC_LEN], rep[PROTO_RC_LEN];
	struct proto_ep from = ep("192.0.2.9", 1);
	size_t rl, i;
	bool unauth;
	int accepted = 0;

	memset(junk, 0, sizeof(junk));
	junk[0] = CYPHONIC_MSG_RELAY_CTRL;
	junk[1] = PROTO_VERSION;
	junk[2] = PROTO_RC_BIND_ACK;
	junk[7] = 1;
	TAP_CHECK(trs_ctrl(&trs, junk, sizeof(junk), &from, now, rep, &rl, &unauth) ==
		  PROTO_E_BAD_OP && rl == 0, "an ACK sent to the TRS is not answered");
	for (i = 0; i < sizeof(junk); i++)
		accepted += trs_ctrl(&trs, junk, i, &from, now, rep, &rl, &unauth) == 0;
	TAP_CHECK(accepted == 0, "truncated control messages refused");
}

/* Four threads forward while the main thread binds, closes and expires. */
static _Atomic bool stop;
static _Atomic uint64_t forwarded;

static void *forwarder(void *arg)
{
	struct proto_ep a_ep = ep("192.0.2.1", 4000), to;
	uint32_t s = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		if (fwd(&a_ep, 0x100 + (s++ % 64), 64, &to) == -1)
			atomic_fetch_add(&forwarded, 1);
	}
	return NULL;
}

static void test_concurrency(void)
{
	pthread_t th[4];
	struct proto_ep a_ep = ep("192.0.2.1", 4000), b_ep = ep("::1", 5000);
	uint64_t expiry = (uint64_t)(now / 1000) + 600;
	struct trsc a, b;
	int i, round, ack;

	for (i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, forwarder, NULL);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 64; i++) {
			grant(&a, 0x100 + (uint32_t)i, 0, 1000 + (uint64_t)i, expiry);
			grant(&b, 0x100 + (uint32_t)i, 1, 2000 + (uint64_t)i, expiry);
			a.seq = b.seq = (uint64_t)round * 10;
			bind_from(&a, &a_ep, &ack);
			bind_from(&b, &b_ep, &ack);
		}
		trs_expire(&trs, now + 31000);	/* drop all of them */
	}
	atomic_store(&stop, true);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	TAP_CHECK(trs_sessions(&trs) == 0, "sessions churned under 4 forwarding threads "
		  "(%llu forwarded), table consistent", (unsigned long long)atomic_load(&forwarded));
}

/*
 * Return routability (issue 12): two colluding nodes, each with a valid
 * grant, bind one end "from" a victim's address; the TRS must not stream
 * at the victim. The victim never sees the challenge, so the end never
 * binds there; a real node echoes it and binds one round trip later.
 */
static void test_return_routability(void)
{
	struct trsc a, b, stolen;
	struct proto_ep a_ep = ep("192.0.2.71", 4000), b_ep = ep("192.0.2.72", 4000),
			victim = ep("198.51.100.99", 53), to;
	uint64_t expiry = (uint64_t)(now / 1000) + 600;
	uint8_t req[PROTO_RC_LEN], rep[PROTO_RC_LEN];
	uint64_t challenged = atomic_load(&trs.rr_challenged);
	size_t rl;
	bool unauth;
	int rc, ack;

	grant(&a, 0x7100, 0, 71, expiry);
	grant(&b, 0x7100, 1, 72, expiry);
	trsc_bind(&a, req, now);
	rc = trs_ctrl(&trs, req, sizeof(req), &a_ep, now, rep, &rl, &unauth);
	TAP_CHECK(rc == PROTO_E_CHALLENGE && rl == PROTO_RC_LEN && !unauth &&
		  trsc_input(&a, rep, rl) == TRSC_CHALLENGED && a.proof &&
		  !trs_snapshot(&trs, 0x7100, &(struct trs_snap){ 0 }),
		  "a first BIND gets an authenticated CHALLENGE and binds nothing");
	trsc_bind(&a, req, now);
	TAP_CHECK(trs_ctrl(&trs, req, sizeof(req), &a_ep, now, rep, &rl, &unauth) == 0 &&
		  trsc_input(&a, rep, rl) == 0, "the BIND echoing it binds the end");

	/* The colluder binds end 1 "from" the victim: challenged, never bound. */
	trsc_bind(&b, req, now);
	TAP_CHECK(trs_ctrl(&trs, req, sizeof(req), &victim, now, rep, &rl, &unauth) ==
		  PROTO_E_CHALLENGE, "a BIND from a spoofed source is challenged");
	b.proof = 0x123456789abcULL;	/* a guess */
	trsc_bind(&b, req, now);
	TAP_CHECK(trs_ctrl(&trs, req, sizeof(req), &victim, now, rep, &rl, &unauth) ==
		  PROTO_E_CHALLENGE && fwd(&a_ep, 0x7100, 1000, &to) == TRS_DROP_PEER_UNBOUND,
		  "a guessed echo binds nothing: nothing is sent to the victim");

	/* A challenge earned at the colluder's own address is no good at the victim's. */
	b.proof = 0;
	rc = bind_from(&b, &b_ep, &ack);
	TAP_CHECK(rc == 0 && fwd(&a_ep, 0x7100, 10, &to) == -1 && proto_ep_equal(&to, &b_ep),
		  "end 1 binds at its own address after the echo");
	trsc_bind(&b, req, now);	/* carries b_ep's proof */
	TAP_CHECK(trs_ctrl(&trs, req, sizeof(req), &victim, now, rep, &rl, &unauth) ==
		  PROTO_E_CHALLENGE && fwd(&a_ep, 0x7100, 10, &to) == -1 &&
		  proto_ep_equal(&to, &b_ep),
		  "the proof is bound to its address: the end does not move to the victim");
	stolen = b;
	stolen.proof = 0;
	trsc_bind(&stolen, req, now);
	TAP_CHECK(trs_ctrl(&trs, req, sizeof(req), &b_ep, now, rep, &rl, &unauth) == 0,
		  "a refresh from the proven address needs no echo");
	TAP_CHECK(atomic_load(&trs.rr_challenged) - challenged == 5,
		  "challenges counted (%llu)",
		  (unsigned long long)(atomic_load(&trs.rr_challenged) - challenged));
}

int main(void)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(cfg.relay_key, 0x5a, sizeof(cfg.relay_key));
	cfg.skew_ms = 30000;
	cfg.idle_s = 30;
	trs_init(&trs, &cfg);
	test_bind_forward();
	test_grant_limits();
	test_hostile_ctrl();
	test_return_routability();
	test_concurrency();
	trs_destroy(&trs);
	return tap_done();
}
