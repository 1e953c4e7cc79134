// SPDX-License-Identifier: MIT
/*
 * TRS replicas sharing relay sessions through a real Redis (trs_sync.c;
 * CYPH_TEST_REDIS, set by tests/unit/suite.sh, else skipped): a session
 * bound end by end at two replicas forwards at both; a replica that never
 * saw it looks it up once and then forwards from its cache; a rebind at
 * one replica reaches the others' caches through the invalidation
 * channel; a BIND replayed to a replica that did not know the session is
 * undone from the store; the Redis copy carries the idle timeout as TTL;
 * BINDs captured before both ends closed re-open the session neither at a
 * replica that saw the closes nor at one that never saw the session.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/cyphonic.h>
#include "kv/kvclient.h"
#include "trs.h"
#include "trs_sync.h"
#include "client/trsclient.h"
#include "tap.h"
#include "wire/proto_udp.h"

#define IDLE_MS 30000

static struct trs_config cfg;
static struct cyph_kv_config kc = { .timeout_ms = 2000 };

struct replica {
	struct trs t;
	struct trs_sync *sync;
};

static struct proto_ep ep(const char *a, uint16_t port)
{
	struct proto_ep e = { .port = port };

	if (inet_pton(AF_INET, a, &e.v4) == 1)
		e.family = 4;
	else if (inet_pton(AF_INET6, a, &e.v6) == 1)
		e.family = 6;
	return e;
}

static void replica_start(struct replica *r)
{
	char err[256];

	trs_init(&r->t, &cfg);
	r->sync = trs_sync_start(&r->t, &kc, IDLE_MS, err, sizeof(err));
	if (!r->sync) {
		fprintf(stderr, "trs_sync_start: %s\n", err);
		exit(1);
	}
}

static void replica_stop(struct replica *r)
{
	trs_sync_stop(r->sync);
	trs_destroy(&r->t);
}

static void grant(struct trsc *t, uint32_t session, uint8_t end, uint64_t node,
		  uint64_t expiry)
{
	memset(t, 0, sizeof(*t));
	t->session = session;
	t->end = end;
	t->node_id = node;
	t->expiry = expiry;
	t->seq = (uint64_t)proto_now_ms() * 1000;
	proto_bind_secret(cfg.relay_key, session, end, node, expiry, t->secret);
}

static int ctrl(struct replica *r, const uint8_t *req, const struct proto_ep *from)
{
	uint8_t rep[PROTO_RC_LEN];
	size_t rl;
	bool unauth;

	return trs_ctrl(&r->t, req, PROTO_RC_LEN, from, proto_now_ms(), rep, &rl, &unauth);
}

/*
 * A node's BIND at r from `from`, with the return-routability round trip
 * when r asks for it; out keeps the BIND r finally took (for replays).
 */
static int bind_at(struct replica *r, struct trsc *t, uint8_t out[PROTO_RC_LEN],
		   const struct proto_ep *from)
{
	uint8_t rep[PROTO_RC_LEN];
	size_t rl;
	bool unauth;
	int rc;

	trsc_bind(t, out, proto_now_ms());
	rc = trs_ctrl(&r->t, out, PROTO_RC_LEN, from, proto_now_ms(), rep, &rl, &unauth);
	if (rc == PROTO_E_CHALLENGE && rl && trsc_input(t, rep, rl) == TRSC_CHALLENGED) {
		trsc_bind(t, out, proto_now_ms());
		rc = trs_ctrl(&r->t, out, PROTO_RC_LEN, from, proto_now_ms(), rep, &rl, &unauth);
	}
	return rc;
}

static int fwd(struct replica *r, const struct proto_ep *from, uint32_t session,
	       struct proto_ep *to)
{
	uint8_t pkt[64] = { CYPHONIC_MSG_RELAY, 0, 0, 0 };
	const uint8_t *inner;
	size_t inner_len;

	pkt[4] = (uint8_t)(session >> 24);
	pkt[5] = (uint8_t)(session >> 16);
	pkt[6] = (uint8_t)(session >> 8);
	pkt[7] = (uint8_t)session;
	pkt[8] = CYPHONIC_MSG_DATA;
	return trs_forward(&r->t, pkt, 40, from, proto_now_ms(), to, &inner, &inner_len);
}

/* Polls (up to 3 s) until r forwards from `from` to `want`; the attempts. */
static int wait_forward(struct replica *r, const struct proto_ep *from, uint32_t session,
			const struct proto_ep *want)
{
	struct timespec ms = { 0, 1000000L };
	struct proto_ep to;
	int i;

	for (i = 1; i <= 3000; i++) {
		if (fwd(r, from, session, &to) == -1 && proto_ep_equal(&to, want))
			return i;
		nanosleep(&ms, NULL);
	}
	return 0;
}

/* Polls (up to 3 s) until r holds session as a tombstone (both ends unbound). */
static bool wait_tomb(struct replica *r, uint32_t session)
{
	struct timespec ms = { 0, 1000000L };
	struct trs_snap s;

	for (int i = 0; i < 3000; i++) {
		if (trs_snapshot(&r->t, session, &s) && !s.end[0].bound && !s.end[1].bound)
			return true;
		nanosleep(&ms, NULL);
	}
	return false;
}

static void test_sync(void)
{
	struct replica a, b, c, d, e;
	struct trsc e0, e1;
	struct proto_ep a_ep = ep("192.0.2.1", 4000), b_ep = ep("2001:db8::2", 5000),
			a2_ep = ep("192.0.2.9", 4001), evil = ep("203.0.113.66", 6666), to;
	uint64_t expiry = (uint64_t)(proto_now_ms() / 1000) + 600;
	uint8_t bind0[PROTO_RC_LEN], bind1[PROTO_RC_LEN], cap0[PROTO_RC_LEN], cap1[PROTO_RC_LEN];
	struct proto_ep evil2 = ep("203.0.113.67", 6667);
	struct trs_sync_stats st;
	struct cyph_kv *kv;
	char err[256];
	long long pttl = -1;
	int i, tries;

	replica_start(&a);
	replica_start(&b);
	grant(&e0, 0xabc1, 0, 21, expiry);
	grant(&e1, 0xabc1, 1, 22, expiry);
	TAP_CHECK(bind_at(&a, &e0, bind0, &a_ep) == 0, "end 0 binds at replica A");
	TAP_CHECK(bind_at(&b, &e1, bind1, &b_ep) == 0, "end 1 binds at replica B");
	TAP_CHECK(wait_forward(&a, &a_ep, 0xabc1, &b_ep) > 0,
		  "A forwards end 0 -> end 1 (bound at B)");
	TAP_CHECK(wait_forward(&b, &b_ep, 0xabc1, &a_ep) > 0,
		  "B forwards end 1 -> end 0 (bound at A)");

	/* A replica that never saw the session: one lookup, then its cache. */
	replica_start(&c);
	TAP_CHECK(fwd(&c, &a_ep, 0xabc1, &to) == TRS_DROP_NO_SESSION,
		  "replica C drops the first packet of a session it does not know");
	tries = wait_forward(&c, &a_ep, 0xabc1, &b_ep);
	for (i = 0; i < 1000; i++)
		fwd(&c, &a_ep, 0xabc1, &to);
	trs_sync_get_stats(c.sync, &st);
	TAP_CHECK(tries > 0 && st.lookups == 1 && st.installed == 1,
		  "C forwards after one lookup (%d packets dropped meanwhile), then from its cache "
		  "(lookups %llu after 1000 more packets)", tries, (unsigned long long)st.lookups);

	/* End 0 moves (roaming) and rebinds at B: A's and C's caches follow. */
	TAP_CHECK(bind_at(&b, &e0, bind0, &a2_ep) == 0, "end 0 rebinds at B from a new address");
	TAP_CHECK(wait_forward(&a, &b_ep, 0xabc1, &a2_ep) > 0 &&
		  wait_forward(&c, &b_ep, 0xabc1, &a2_ep) > 0,
		  "A and C forward to the new address (invalidated through pub/sub)");
	trs_sync_get_stats(a.sync, &st);
	TAP_CHECK(st.invalidations >= 1, "A counted the invalidation (%llu)",
		  (unsigned long long)st.invalidations);

	/* The captured BIND of end 1 replayed to a replica that did not know it. */
	replica_start(&d);
	TAP_CHECK(ctrl(&d, bind1, &evil) == PROTO_E_CHALLENGE,
		  "a BIND replayed to D from another address is challenged, binds nothing");
	TAP_CHECK(wait_forward(&d, &a2_ep, 0xabc1, &b_ep) > 0 &&
		  fwd(&d, &evil, 0xabc1, &to) == TRS_DROP_UNKNOWN_PEER,
		  "... and is undone from the store: D forwards to the real end 1 only");
	TAP_CHECK(wait_forward(&a, &a2_ep, 0xabc1, &b_ep) > 0,
		  "the replay did not change A's view (the store kept the first BIND)");

	kv = cyph_kv_open(&kc, "test", err, sizeof(err));
	if (kv && cyph_kv_int(kv, &pttl, "PTTL test-trs:rs:%u", 0xabc1u))
		pttl = -3;
	TAP_CHECK(pttl > 0 && pttl <= IDLE_MS,
		  "the Redis copy expires with the idle timeout (PTTL %lld ms)", pttl);

	/*
	 * Issue 12: both ends close at B; their last BINDs, captured, are
	 * replayed by a stranger to A (which learnt the closes) and to a new
	 * replica E (which never saw the session): neither re-opens it.
	 */
	memcpy(cap0, bind0, sizeof(cap0));
	memcpy(cap1, bind1, sizeof(cap1));
	trsc_close(&e0, bind0, proto_now_ms());
	trsc_close(&e1, bind1, proto_now_ms());
	TAP_CHECK(ctrl(&b, bind0, &a2_ep) == 0 && ctrl(&b, bind1, &b_ep) == 0,
		  "both ends close at B");
	pttl = -1;
	if (kv && cyph_kv_int(kv, &pttl, "PTTL test-trs:rs:%u", 0xabc1u))
		pttl = -3;
	TAP_CHECK(pttl > 0, "the closed session's windows stay in Redis (PTTL %lld ms)", pttl);
	TAP_CHECK(wait_tomb(&a, 0xabc1) && ctrl(&a, cap1, &evil) == PROTO_E_REPLAY,
		  "A learnt the closes: the replayed BIND is a REPLAY");
	replica_start(&e);
	TAP_CHECK(ctrl(&e, cap0, &evil) == PROTO_E_CHALLENGE &&
		  ctrl(&e, cap1, &evil2) == PROTO_E_CHALLENGE &&
		  fwd(&e, &evil, 0xabc1, &to) != -1 && fwd(&e, &evil2, 0xabc1, &to) != -1,
		  "a replica that never saw it: the replayed BINDs from a stranger are challenged, "
		  "nothing bound");
	replica_stop(&e);
	cyph_kv_close(kv);
	replica_stop(&d);
	replica_stop(&c);
	replica_stop(&b);
	replica_stop(&a);
}

int main(void)
{
	const char *addr = getenv("CYPH_TEST_REDIS");
	struct cyph_kv *kv;
	char err[256];

	if (!addr || !*addr) {
		tap_skip("CYPH_TEST_REDIS not set (tests/unit/suite.sh sets it)", "trs sync");
		return tap_done();
	}
	snprintf(kc.redis, sizeof(kc.redis), "%s", addr);
	snprintf(kc.prefix, sizeof(kc.prefix), "test-trs:");
	cfg.skew_ms = 30000;
	cfg.idle_s = IDLE_MS / 1000;
	cfg.burst_bytes = 1 << 20;
	memset(cfg.relay_key, 0x6b, sizeof(cfg.relay_key));
	kv = cyph_kv_open(&kc, "test", err, sizeof(err));
	if (!kv) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	cyph_kv_ok(kv, "FLUSHDB");
	cyph_kv_close(kv);
	test_sync();
	return tap_done();
}
