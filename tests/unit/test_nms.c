// SPDX-License-Identifier: MIT
/*
 * NMS engine: registration (full and refresh), keepalive, replay/stale/
 * bad-signature/bad-certificate rejection with the right error codes and
 * counters, route direction (direct, punch, relay, IPv4<->IPv6), peer
 * notification with retransmission, expiry with tombstones, revocation
 * re-check, draining, the error budget, and the in-process store. The
 * engine cases run on both stores: in-process, and Redis when
 * CYPH_TEST_REDIS names a server (tests/unit/suite.sh starts one with
 * tests/lib/redis.sh and always sets it), where two engines on one Redis
 * also act as two replicas. The
 * certificate check is a stub here (the real one is cred.c's, covered by
 * test_cred and the integration tests); everything else is the real code,
 * driven through the real node client.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>
#include "nms.h"
#include "client/nmsclient.h"
#include "client/trsclient.h"
#include "kv/kvclient.h"
#include "nms_cookie.h"
#include "pki/cred.h"
#include "tap.h"

/* ---- fake certificates: "FAKE" id pubkey vip4 vip6 status fqdn ----------- */

static uint64_t revoked_id;

static size_t fake_cert(uint8_t *out, uint64_t id, EVP_PKEY *key,
			const char *vip4, const char *vip6, uint8_t status,
			const char *fqdn)
{
	struct proto_buf b = { .p = out, .cap = 512 };
	uint8_t pub[32], a4[4] = { 0 }, a6[16] = { 0 };

	proto_ed25519_public(key, pub);
	if (vip4)
		inet_pton(AF_INET, vip4, a4);
	if (vip6)
		inet_pton(AF_INET6, vip6, a6);
	proto_put_bytes(&b, "FAKE", 4);
	proto_put_u64(&b, id);
	proto_put_bytes(&b, pub, 32);
	proto_put_bytes(&b, a4, 4);
	proto_put_bytes(&b, a6, 16);
	proto_put_u8(&b, status);
	proto_put_bytes(&b, fqdn, strlen(fqdn));
	return b.len;
}

/* Access policy of the fake certificates: a node's default unless set here. */
static struct { uint64_t id; const char *text; } policies[8];

static void policy_of(uint64_t id, struct cyph_policy *out)
{
	const char *t = cyph_policy_default_text(CYPH_ROLE_NODE);
	size_t i;

	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (policies[i].id == id)
			t = policies[i].text;
	cyph_policy_parse(t, strlen(t), out);
}

static int fake_verify(void *arg, const uint8_t *der, size_t len, int64_t now,
		       struct nms_ident *out, char *err, size_t errlen)
{
	(void)arg;
	(void)now;
	snprintf(err, errlen, "fake");
	if (len < 4 + 8 + 32 + 4 + 16 + 1 + 1 || memcmp(der, "FAKE", 4))
		return PROTO_E_BAD_CERT;
	memset(out, 0, sizeof(*out));
	out->id = proto_get_u64(der + 4);
	memcpy(out->pubkey, der + 12, 32);
	memcpy(&out->vip4, der + 44, 4);
	memcpy(&out->vip6, der + 48, 16);
	out->has_vip4 = out->vip4.s_addr != 0;
	out->has_vip6 = !IN6_IS_ADDR_UNSPECIFIED(&out->vip6);
	memcpy(out->fqdn, der + 65, len - 65);
	out->not_after = 4000000000LL;
	out->role = CYPH_ROLE_NODE;
	policy_of(out->id, &out->policy);
	if (der[64] == 1)
		return PROTO_E_CERT_EXPIRED;
	if (der[64] == 2 || out->id == revoked_id)
		return PROTO_E_REVOKED;
	return PROTO_E_OK;
}

/* ---- captured output -------------------------------------------------------- */

#define MAXOUT 64
static struct { struct proto_ep to; uint8_t pkt[2048]; size_t len; } out[MAXOUT];
static int n_out;

static void capture(void *arg, const struct proto_ep *to, const uint8_t *pkt,
		    size_t len)
{
	(void)arg;
	if (n_out == MAXOUT || len > sizeof(out[0].pkt))
		return;
	out[n_out].to = *to;
	memcpy(out[n_out].pkt, pkt, len);
	out[n_out++].len = len;
}

/* ---- a simulated node ------------------------------------------------------- */

struct node {
	EVP_PKEY *key;
	uint8_t cert[512];
	size_t cert_len;
	struct nmsc c;
	struct proto_ep from;
	uint8_t last[2048];
	size_t last_len;
};

static struct nms *nms;
static struct nms_store *store;
static EVP_PKEY *nms_key;
static uint8_t nms_pub[32];
static int64_t now = 1700000000000LL;
static struct nms_config cfg;
static const char *redis_addr;	/* CYPH_TEST_REDIS; NULL: in-process pass */

/* A Redis store on the test server, emptied first when flush is set. */
static struct nms_store *redis_store(bool flush)
{
	struct cyph_kv_config kc = { .timeout_ms = 2000 };
	struct cyph_kv *kv;
	char err[256];

	snprintf(kc.redis, sizeof(kc.redis), "%s", redis_addr);
	snprintf(kc.prefix, sizeof(kc.prefix), "test-nms:");
	kv = cyph_kv_open(&kc, "test", err, sizeof(err));
	if (!kv) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	if (flush)
		cyph_kv_ok(kv, "FLUSHDB");
	return nms_store_redis_new(kv, 0, 60000);
}

static struct nms_store *new_store(void)
{
	return redis_addr ? redis_store(true) : nms_store_mem_new(0);
}

static struct proto_ep ep(const char *a, uint16_t port)
{
	struct proto_ep e = { .port = port };

	if (inet_pton(AF_INET, a, &e.v4) == 1)
		e.family = 4;
	else if (inet_pton(AF_INET6, a, &e.v6) == 1)
		e.family = 6;
	return e;
}

static void node_init(struct node *n, uint64_t id, const char *fqdn,
		      const char *vip4, const char *vip6, uint8_t status,
		      struct proto_ep from)
{
	memset(n, 0, sizeof(*n));
	n->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	n->cert_len = fake_cert(n->cert, id, n->key, vip4, vip6, status, fqdn);
	nmsc_init(&n->c, id, n->key, n->cert, n->cert_len, now);
	nmsc_trust_key(&n->c, nms_pub);
	n->from = from;
}

static void node_free(struct node *n)
{
	EVP_PKEY_free(n->key);
}

/* Sends the datagram; returns the engine's result. */
static int deliver(struct node *n, const uint8_t *pkt, size_t len)
{
	memcpy(n->last, pkt, len);
	n->last_len = len;
	n_out = 0;
	return nms_input(nms, pkt, len, &n->from, now);
}

/* Feeds reply i to node n. */
static int feed(struct node *n, int i, struct nmsc_event *ev)
{
	return nmsc_input(&n->c, out[i].pkt, out[i].len, now, 30000, ev);
}

static int do_register(struct node *n)
{
	uint8_t buf[2048];
	struct nmsc_event ev;
	size_t len = nmsc_register(&n->c, buf, sizeof(buf), now, NULL);
	int rc = deliver(n, buf, len);

	if (rc || n_out != 1 || feed(n, 0, &ev) || ev.type != NMSC_EV_REGISTERED)
		return rc ? rc : -1;
	return 0;
}

/* The error code carried by the single reply, or -1. */
static int reply_error(struct node *n)
{
	struct nmsc_event ev;

	if (n_out != 1 || feed(n, 0, &ev) || ev.type != NMSC_EV_ERROR)
		return -1;
	return ev.error;
}

static void setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.lifetime_s = 90;
	cfg.keepalive_s = 25;
	cfg.skew_ms = 30000;
	cfg.relay_ttl_s = 600;
	cfg.notify_rto_ms = 500;
	cfg.notify_tries = 3;
	cfg.error_rate = 100;
	cfg.cookie_load = 1000000;	/* cookies: their own test */
	cfg.relay4 = ep("127.0.0.1", 7000);
	cfg.relay6 = ep("::1", 7000);
	memset(cfg.relay_key, 0x5a, 32);
	store = new_store();
	nms = nms_new(&cfg, store, fake_verify, NULL, capture, NULL);
	nms_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	proto_ed25519_public(nms_key, nms_pub);
	nms_set_identity(nms, nms_key, NULL, 0);
}

static void teardown(void)
{
	nms_free(nms);
	store->ops->destroy(store);
	EVP_PKEY_free(nms_key);
	nms = NULL;
}

static void fresh(void)
{
	if (nms)
		teardown();
	setup();
}

/* ---- tests -------------------------------------------------------------------- */

static void test_register(void)
{
	struct node a;
	uint8_t buf[2048];
	struct nmsc_event ev;
	size_t len;

	node_init(&a, 1, "a.test", "10.77.0.1", NULL, 0, ep("192.0.2.10", 4000));
	TAP_CHECK(do_register(&a) == 0, "full registration");
	TAP_CHECK(nms_active(nms) == 1 && nms_stats(nms)->registered == 1, "one active registration");
	TAP_CHECK(a.c.keepalive_s == 25 && a.c.lifetime_s == 90, "ACK carries timers");
	TAP_CHECK(proto_ep_equal(&a.c.observed, &a.from), "ACK carries the observed endpoint");

	/* A second full REGISTER with the same certificate skips its check. */
	nmsc_reset(&a.c);
	TAP_CHECK(do_register(&a) == 0 && nms_stats(nms)->cert_cached == 1 &&
		  nms_stats(nms)->registered == 2, "re-registration uses the verified certificate");

	/* Replaying the captured full REGISTER: refused. */
	TAP_CHECK(deliver(&a, a.last, a.last_len) == PROTO_E_REPLAY ||
		  nms_input(nms, a.last, a.last_len, &a.from, now) == PROTO_E_REPLAY,
		  "replayed REGISTER refused");

	len = nmsc_keepalive(&a.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&a, buf, len) == 0 && n_out == 1 && !feed(&a, 0, &ev) &&
		  ev.type == NMSC_EV_KEEPALIVE, "keepalive acknowledged");
	TAP_CHECK(deliver(&a, buf, len) == PROTO_E_REPLAY && reply_error(&a) == PROTO_E_REPLAY,
		  "replayed keepalive gets REPLAY");
	TAP_CHECK(nms_stats(nms)->req[PROTO_OP_KEEPALIVE][PROTO_E_REPLAY] == 1,
		  "replay counted per op and reason");

	/*
	 * A client retry whose first try is processed after the retry (a
	 * queue, a slow replica): the older REGISTER must not replace the
	 * keys the node got from the newer one.
	 */
	{
		uint8_t old[2048];
		size_t old_len;

		nmsc_reset(&a.c);
		old_len = nmsc_register(&a.c, old, sizeof(old), now, NULL);
		nmsc_reset(&a.c);
		TAP_CHECK(do_register(&a) == 0, "retry: the newer REGISTER registers");
		TAP_CHECK(deliver(&a, old, old_len) == PROTO_E_REPLAY,
			  "retry: the older try, processed late, is refused (REPLAY)");
		len = nmsc_keepalive(&a.c, buf, sizeof(buf), now, NULL);
		TAP_CHECK(deliver(&a, buf, len) == 0 && n_out == 1 && !feed(&a, 0, &ev) &&
			  ev.type == NMSC_EV_KEEPALIVE, "retry: the node's keys are still the NMS's");
	}

	len = nmsc_register(&a.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(buf[3] == PROTO_AUTH_MAC, "second REGISTER is a MACed refresh");
	a.from = ep("198.51.100.7", 5000);
	TAP_CHECK(deliver(&a, buf, len) == 0 && !feed(&a, 0, &ev) &&
		  ev.type == NMSC_EV_REGISTERED && ev.challenged && a.c.observed.port == 5000,
		  "refresh from a new address is answered there with a challenge");
	TAP_CHECK(nms_stats(nms)->roamed == 0 && nms_stats(nms)->rr_challenged == 1 &&
		  store->ops->get(store, 1)->observed.port == 4000,
		  "the registration stays at the proven address until the echo");
	len = nmsc_keepalive(&a.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&a, buf, len) == 0 && !feed(&a, 0, &ev) && !ev.challenged &&
		  store->ops->get(store, 1)->observed.port == 5000,
		  "the keepalive echoing the challenge moves the registration");
	TAP_CHECK(nms_stats(nms)->roamed == 1 && nms_stats(nms)->rr_moved == 1 &&
		  nms_stats(nms)->refreshed == 1, "roaming counted");

	/* Corrupt MAC. */
	len = nmsc_keepalive(&a.c, buf, sizeof(buf), now, NULL);
	buf[len - 1] ^= 1;
	TAP_CHECK(deliver(&a, buf, len) == PROTO_E_BAD_SIGNATURE &&
		  reply_error(&a) == PROTO_E_BAD_SIGNATURE, "bad MAC refused with a signed error");

	/* Stale timestamp. */
	len = nmsc_keepalive(&a.c, buf, sizeof(buf), now - 31000, NULL);
	TAP_CHECK(deliver(&a, buf, len) == PROTO_E_STALE, "timestamp 31 s old refused");
	len = nmsc_keepalive(&a.c, buf, sizeof(buf), now + 31000, NULL);
	TAP_CHECK(deliver(&a, buf, len) == PROTO_E_STALE, "timestamp 31 s ahead refused");

	/* An answer must not be accepted twice by the client. */
	len = nmsc_keepalive(&a.c, buf, sizeof(buf), now, NULL);
	deliver(&a, buf, len);
	TAP_CHECK(!feed(&a, 0, &ev) && feed(&a, 0, &ev) == PROTO_E_REPLAY,
		  "client refuses a replayed answer");
	node_free(&a);
}

/*
 * A signed ERROR (answering unauthenticated input, to a source that may
 * be spoofed) is never more than twice the request: a bare 32-byte header
 * whose length disagrees with the datagram is not answered at all (it
 * was: 135 signed bytes, an amplifier costing a signature each), and
 * NOT_REGISTERED to the smallest keepalive (64 bytes) leaves out the
 * diagnostic text, which no client parses.
 */
static void test_error_size(void)
{
	uint8_t pkt[PROTO_SIG_HDR_LEN + PROTO_MAC_LEN] = { 0 };
	struct proto_hdr h = { .op = PROTO_OP_KEEPALIVE, .auth = PROTO_AUTH_MAC,
			       .node_id = 4242, .seq = 1, .ts_ms = now };
	struct proto_buf b = { .p = pkt, .cap = sizeof(pkt) };
	struct proto_ep from = ep("192.0.2.98", 5000);
	struct proto_msg m;
	int rc;

	proto_hdr_put(&b, &h);
	n_out = 0;
	rc = nms_input(nms, pkt, PROTO_SIG_HDR_LEN, &from, now);
	TAP_CHECK(rc == PROTO_E_MALFORMED && n_out == 0,
		  "a bare 32-byte header (wrong length) is dropped unanswered (%d out, %zu bytes)",
		  n_out, n_out ? out[0].len : 0);
	n_out = 0;
	rc = nms_input(nms, pkt, sizeof(pkt), &from, now);
	TAP_CHECK(rc == PROTO_E_NOT_REGISTERED && n_out == 1 && out[0].len <= 2 * sizeof(pkt) &&
		  !proto_msg_parse(out[0].pkt, out[0].len, &m) && m.error_code == rc,
		  "NOT_REGISTERED to a 64-byte keepalive: at most twice it (%zu bytes)",
		  n_out ? out[0].len : 0);
}

/*
 * Regression: an ERROR answering a signed REGISTER carried the NMS
 * certificate even when the request (96 bytes of header and signature,
 * no body) had none, a 10x amplifier towards a spoofed source.
 */
static void test_error_no_amplification(void)
{
	uint8_t cert[1024], pkt[PROTO_SIG_HDR_LEN + PROTO_SIG_LEN] = { 0 };
	struct proto_hdr h = { .op = PROTO_OP_REGISTER, .auth = PROTO_AUTH_SIG,
			       .node_id = 42, .seq = 1, .ts_ms = now };
	struct proto_buf b = { .p = pkt, .cap = sizeof(pkt) };
	struct proto_ep from = ep("192.0.2.99", 5000);
	int rc;

	memset(cert, 0x30, sizeof(cert));
	nms_set_identity(nms, nms_key, cert, sizeof(cert));
	proto_hdr_put(&b, &h);
	n_out = 0;
	rc = nms_input(nms, pkt, sizeof(pkt), &from, now);
	TAP_CHECK(rc == PROTO_E_MALFORMED && n_out == 1 && out[0].len < 2 * sizeof(pkt),
		  "error to a certificate-less REGISTER is not larger than twice it (%zu bytes)",
		  n_out == 1 ? out[0].len : 0);
	nms_set_identity(nms, nms_key, NULL, 0);
	test_error_size();
}

static void test_bad_registrations(void)
{
	struct node n;
	uint8_t buf[2048];
	size_t len;

	node_init(&n, 2, "b.test", NULL, NULL, 1, ep("192.0.2.11", 4000));
	TAP_CHECK(do_register(&n) == PROTO_E_CERT_EXPIRED && reply_error(&n) == PROTO_E_CERT_EXPIRED,
		  "expired certificate refused with CERT_EXPIRED");
	node_free(&n);
	node_init(&n, 3, "c.test", NULL, NULL, 2, ep("192.0.2.12", 4000));
	TAP_CHECK(do_register(&n) == PROTO_E_REVOKED && reply_error(&n) == PROTO_E_REVOKED,
		  "revoked certificate refused with REVOKED");
	node_free(&n);

	node_init(&n, 4, "d.test", NULL, NULL, 0, ep("192.0.2.13", 4000));
	n.c.node_id = 5;	/* claims another id than its certificate */
	TAP_CHECK(do_register(&n) == PROTO_E_ID_MISMATCH, "node id must match the certificate");
	n.c.node_id = 4;
	len = nmsc_register(&n.c, buf, sizeof(buf), now, NULL);
	buf[len - 3] ^= 0x10;
	TAP_CHECK(deliver(&n, buf, len) == PROTO_E_BAD_SIGNATURE, "bad REGISTER signature");
	len = nmsc_register(&n.c, buf, sizeof(buf), now, NULL);
	buf[40] = 'X';		/* inside the certificate */
	TAP_CHECK(deliver(&n, buf, len) != 0, "corrupted certificate refused");
	TAP_CHECK(nms_active(nms) == 1, "nothing registered (only a.test from before)");

	len = nmsc_register(&n.c, buf, sizeof(buf), now, NULL);
	{
		struct nmsc_event ev;
		struct nmsc other;

		/* A keepalive from a node without a registration. */
		deliver(&n, buf, len);
		feed(&n, 0, &ev);
		other = n.c;
		other.node_id = 77;
		len = nmsc_keepalive(&other, buf, sizeof(buf), now, NULL);
		TAP_CHECK(deliver(&n, buf, len) == PROTO_E_NOT_REGISTERED,
			  "keepalive of an unknown node: NOT_REGISTERED");
	}
	TAP_CHECK(deliver(&n, (const uint8_t *)"\x03", 1) == PROTO_E_MALFORMED && n_out == 0,
		  "1-byte garbage dropped without reply");
	node_free(&n);
	test_error_no_amplification();
}

static void test_error_budget(void)
{
	struct node n;
	uint8_t buf[2048];
	size_t len;
	int i;

	fresh();
	node_init(&n, 9, "e.test", NULL, NULL, 0, ep("192.0.2.14", 4000));
	len = nmsc_register(&n.c, buf, sizeof(buf), now, NULL);
	buf[len - 1] ^= 1;
	for (i = 0; i < 300; i++)
		deliver(&n, buf, len);
	TAP_CHECK(nms_stats(nms)->errors_sent == 100 &&
		  nms_stats(nms)->errors_suppressed == 200,
		  "signed errors limited to the budget (sent %llu, suppressed %llu)",
		  (unsigned long long)nms_stats(nms)->errors_sent,
		  (unsigned long long)nms_stats(nms)->errors_suppressed);
	TAP_CHECK(nms_stats(nms)->req[PROTO_OP_REGISTER][PROTO_E_BAD_SIGNATURE] == 300,
		  "every rejection counted");
	node_free(&n);
}

static int route(struct node *src, const char *fqdn, uint32_t flags,
		 struct nmsc_event *ev)
{
	uint8_t buf[2048];
	size_t len = nmsc_route(&src->c, buf, sizeof(buf), now, fqdn, NULL,
				NULL, flags, NULL);
	int rc = deliver(src, buf, len);

	if (rc)
		return rc;
	return feed(src, 0, ev) ? -1 : 0;
}

static void test_routes(void)
{
	struct node a, b, c, d;
	struct nmsc_event ev, nv;
	struct proto_ep a_lan = ep("10.0.0.5", 4000), b_lan = ep("10.1.0.5", 4000);
	uint8_t buf[2048], secret[32];
	size_t len;

	fresh();
	/* a: public IPv4 (observed == reported). */
	node_init(&a, 11, "a.test", "10.77.0.11", NULL, 0, ep("203.0.113.1", 4000));
	nmsc_set_location(&a.c, &a.from, 1, PROTO_NAT_NONE);
	/* b: behind a cone NAT, IPv4. */
	node_init(&b, 12, "b.test", "10.77.0.12", NULL, 0, ep("198.51.100.2", 30000));
	nmsc_set_location(&b.c, &b_lan, 1, PROTO_NAT_CONE);
	/* c: behind another cone NAT, IPv4. */
	node_init(&c, 13, "c.test", "10.77.0.13", NULL, 0, ep("192.0.2.3", 31000));
	nmsc_set_location(&c.c, &a_lan, 1, PROTO_NAT_CONE);
	/* d: IPv6 only. */
	node_init(&d, 14, "d.test", NULL, "fd77::14", 0, ep("2001:db8::14", 4000));
	TAP_CHECK(!do_register(&a) && !do_register(&b) && !do_register(&c) &&
		  !do_register(&d), "four nodes registered");

	TAP_CHECK(route(&b, "a.test", 0, &ev) == 0 && ev.type == NMSC_EV_ROUTE &&
		  ev.msg.mode == PROTO_MODE_DIRECT && ev.msg.n_peer_eps >= 1 &&
		  proto_ep_equal(&ev.msg.peer_eps[0], &a.from) && ev.msg.peer_id == 11 &&
		  n_out == 1, "to a public node: DIRECT, no notification");

	TAP_CHECK(route(&b, "c.test", 0, &ev) == 0 && ev.msg.mode == PROTO_MODE_PUNCH &&
		  proto_ep_equal(&ev.msg.peer_eps[0], &c.from) && n_out == 2 &&
		  proto_ep_equal(&out[1].to, &c.from), "two cone NATs: PUNCH, target notified");
	TAP_CHECK(!feed(&c, 1, &nv) && nv.type == NMSC_EV_NOTIFY &&
		  nv.msg.mode == PROTO_MODE_PUNCH && nv.msg.peer_id == 12 &&
		  proto_ep_equal(&nv.msg.peer_eps[0], &b.from) &&
		  nv.msg.punch_id == ev.msg.punch_id &&
		  !memcmp(nv.msg.punch_secret, ev.msg.punch_secret, 32),
		  "both sides get the same punch id and (unsealed) secret");
	TAP_CHECK(nms_pending_notifies(nms) == 1, "notification pending");
	len = nmsc_notify_ack(&c.c, buf, sizeof(buf), now, nv.msg.notify_id);
	TAP_CHECK(deliver(&c, buf, len) == 0 && nms_pending_notifies(nms) == 0,
		  "NOTIFY_ACK clears it");

	TAP_CHECK(route(&b, "c.test", PROTO_RF_PUNCH_FAILED, &ev) == 0 &&
		  ev.msg.mode == PROTO_MODE_RELAY, "after a failed punch: RELAY");
	TAP_CHECK(route(&b, "a.test", PROTO_RF_FORCE_RELAY, &ev) == 0 &&
		  ev.msg.mode == PROTO_MODE_RELAY, "forced relay");

	TAP_CHECK(route(&b, "d.test", 0, &ev) == 0 && ev.msg.mode == PROTO_MODE_RELAY &&
		  ev.msg.relay_ep.family == 4 && ev.msg.relay_end == 0 && n_out == 2,
		  "IPv4-only to IPv6-only: RELAY, source gets the IPv4 relay");
	proto_bind_secret(cfg.relay_key, ev.msg.relay_session, 0, 12,
			  ev.msg.relay_expiry, secret);
	TAP_CHECK(!memcmp(secret, ev.msg.relay_secret, 32), "source's bind secret unsealed correctly");
	TAP_CHECK(!feed(&d, 1, &nv) && nv.msg.mode == PROTO_MODE_RELAY &&
		  nv.msg.relay_ep.family == 6 && nv.msg.relay_end == 1 &&
		  nv.msg.relay_session == ev.msg.relay_session &&
		  nv.msg.relay_expiry == ev.msg.relay_expiry,
		  "target notified: same session, end 1, IPv6 relay");
	proto_bind_secret(cfg.relay_key, ev.msg.relay_session, 1, 14,
			  ev.msg.relay_expiry, secret);
	TAP_CHECK(!memcmp(secret, nv.msg.relay_secret, 32), "target's bind secret unsealed correctly");

	/* Unacknowledged notifications are retransmitted with backoff, then given up. */
	size_t pend = nms_pending_notifies(nms);
	n_out = 0;
	nms_tick(nms, now + 400);
	TAP_CHECK(n_out == 0, "no retransmission before the RTO");
	nms_tick(nms, now + 600);
	TAP_CHECK(pend == 3 && n_out == 3 && nms_stats(nms)->notify_retrans == 3,
		  "retransmitted after 500 ms (%zu pending)", pend);
	nms_tick(nms, now + 1700);
	nms_tick(nms, now + 4000);
	TAP_CHECK(nms_pending_notifies(nms) == 0 && nms_stats(nms)->notify_lost >= 2,
		  "given up after 3 tries");

	TAP_CHECK(route(&b, "nobody.test", 0, &ev) == PROTO_E_NOT_FOUND, "unknown target: NOT_FOUND");
	TAP_CHECK(route(&b, "b.test", 0, &ev) == PROTO_E_NOT_FOUND, "route to itself refused");
	{
		struct in_addr v4;

		inet_pton(AF_INET, "10.77.0.13", &v4);
		len = nmsc_route(&b.c, buf, sizeof(buf), now, NULL, &v4, NULL, 0, NULL);
		TAP_CHECK(deliver(&b, buf, len) == 0 && !feed(&b, 0, &ev) &&
			  ev.msg.peer_id == 13, "route by VIP");
	}

	/* Without a relay, relay-only pairs fail clearly. */
	cfg.relay4.family = cfg.relay6.family = 0;
	nms_set_config(nms, &cfg);
	TAP_CHECK(route(&b, "d.test", 0, &ev) == PROTO_E_NO_RELAY, "no relay configured: NO_RELAY");
	cfg.relay4 = ep("127.0.0.1", 7000);
	cfg.relay6 = ep("::1", 7000);
	nms_set_config(nms, &cfg);

	/* Expiry: a keeps alive, d does not. */
	now += 60000;
	len = nmsc_keepalive(&a.c, buf, sizeof(buf), now, NULL);
	deliver(&a, buf, len);
	now += 40000;
	nms_tick(nms, now);
	TAP_CHECK(nms_stats(nms)->expired == 3 && nms_active(nms) == 1,
		  "stale registrations expire (3), the kept-alive one stays");
	TAP_CHECK(route(&a, "d.test", 0, &ev) == PROTO_E_NOT_FOUND, "expired target: NOT_FOUND");
	len = nmsc_keepalive(&b.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&b, buf, len) == PROTO_E_NOT_REGISTERED &&
		  reply_error(&b) == PROTO_E_NOT_REGISTERED && !b.c.registered,
		  "expired node's session refused; the client drops its session");

	/* Revocation after registration: the CRL re-check drops it. */
	revoked_id = 11;
	nms_recheck(nms, now);
	TAP_CHECK(nms_active(nms) == 0 && nms_stats(nms)->revoked == 1,
		  "revoked registration dropped on re-check");
	revoked_id = 0;
	node_free(&a);
	node_free(&b);
	node_free(&c);
	node_free(&d);
}

static void test_tombstone_and_drain(void)
{
	struct node a;
	uint8_t buf[2048], old[2048];
	size_t len, old_len;

	fresh();
	node_init(&a, 21, "t.test", NULL, NULL, 0, ep("192.0.2.21", 4000));
	old_len = nmsc_register(&a.c, old, sizeof(old), now, NULL);
	deliver(&a, old, old_len);
	{
		struct nmsc_event ev;

		feed(&a, 0, &ev);
	}
	len = nmsc_deregister(&a.c, buf, sizeof(buf), now);
	TAP_CHECK(deliver(&a, buf, len) == 0 && nms_active(nms) == 0, "deregistered");
	TAP_CHECK(nms_input(nms, old, old_len, &a.from, now + 1000) == PROTO_E_REPLAY,
		  "tombstone stops a replayed REGISTER after DEREGISTER");
	nms_tick(nms, now + 61000);
	nms_set_draining(nms, true);
	TAP_CHECK(do_register(&a) == PROTO_E_DRAINING, "draining refuses new registrations");
	nms_set_draining(nms, false);
	TAP_CHECK(do_register(&a) == 0, "accepted again after draining ends");
	node_free(&a);
}

/*
 * Regression: a registration re-made with a certificate naming another
 * FQDN/VIP calls update() after r->ident changed. The store must unlink it
 * from the buckets of the old keys, or a lookup of the old name walks into
 * the record after it is freed (ASan reports it in the unit build).
 */
static void test_store_rename(void)
{
	struct nms_store *s = nms_store_mem_new(0);
	struct in_addr old4 = { htonl(0x0a090001u) }, new4 = { htonl(0x0a090002u) };
	struct nms_reg *r, *x;
	int i;

	/* Neighbours in every bucket, so stale links would be walked. */
	for (i = 100; i < 164; i++) {
		x = s->ops->create(s, (uint64_t)i);
		snprintf(x->ident.fqdn, sizeof(x->ident.fqdn), "x%d.test", i);
		x->active = true;
		s->ops->update(s, x);
	}
	r = s->ops->create(s, 7);
	strcpy(r->ident.fqdn, "old.test");
	r->ident.vip4 = old4;
	r->ident.has_vip4 = true;
	r->active = true;
	s->ops->update(s, r);
	strcpy(r->ident.fqdn, "new.test");
	r->ident.vip4 = new4;
	s->ops->update(s, r);
	TAP_CHECK(!s->ops->by_fqdn(s, "old.test") && !s->ops->by_vip4(s, old4) &&
		  s->ops->by_fqdn(s, "new.test") == r && s->ops->by_vip4(s, new4) == r,
		  "update after an identity change re-indexes under the new keys");
	s->ops->remove(s, r);
	TAP_CHECK(!s->ops->by_fqdn(s, "old.test") && !s->ops->by_vip4(s, old4) &&
		  !s->ops->by_fqdn(s, "new.test") && s->ops->count(s) == 64,
		  "no stale index entry survives the removal of a renamed record");
	s->ops->destroy(s);
}

static void test_store(void)
{
	struct nms_store *s = nms_store_mem_new(0);
	struct nms_reg *r;
	char name[32];
	int i, ok = 1;

	for (i = 1; i <= 5000; i++) {
		r = s->ops->create(s, (uint64_t)i);
		snprintf(r->ident.fqdn, sizeof(r->ident.fqdn), "n%d.test", i);
		r->ident.vip4.s_addr = htonl(0x0a000000u + (uint32_t)i);
		r->ident.has_vip4 = true;
		r->active = i % 2;
		s->ops->update(s, r);
	}
	TAP_CHECK(s->ops->count(s) == 2500, "5000 records, 2500 active");
	for (i = 1; i <= 5000; i++) {
		struct in_addr a = { htonl(0x0a000000u + (uint32_t)i) };

		snprintf(name, sizeof(name), "n%d.test", i);
		r = s->ops->by_fqdn(s, name);
		ok &= (i % 2) ? r && r->ident.id == (uint64_t)i : r == NULL;
		r = s->ops->by_vip4(s, a);
		ok &= (i % 2) ? r && r->ident.id == (uint64_t)i : r == NULL;
		ok &= s->ops->get(s, (uint64_t)i) != NULL;
	}
	TAP_CHECK(ok, "lookups by id, FQDN and VIP after growth");
	r = s->ops->get(s, 3);
	s->ops->remove(s, r);
	TAP_CHECK(!s->ops->get(s, 3) && !s->ops->by_fqdn(s, "n3.test") &&
		  s->ops->count(s) == 2499, "remove drops every index");
	s->ops->destroy(s);
	test_store_rename();
	s = nms_store_mem_new(2);
	TAP_CHECK(s->ops->create(s, 1) && s->ops->create(s, 2) && !s->ops->create(s, 3),
		  "store limit");
	s->ops->destroy(s);
}

/* ---- two replicas on one Redis ------------------------------------------------- */

static struct nms *replica_new(struct nms_store *s)
{
	struct nms *x = nms_new(&cfg, s, fake_verify, NULL, capture, NULL);

	nms_set_identity(x, nms_key, NULL, 0);
	return x;
}

/* Sends a built datagram to replica x. */
static int deliver_to(struct nms *x, struct node *n, const uint8_t *pkt, size_t len)
{
	memcpy(n->last, pkt, len);
	n->last_len = len;
	n_out = 0;
	return nms_input(x, pkt, len, &n->from, now);
}

/* cfg and nms_key (setup()), then two engines on one emptied Redis. */
static void two_replicas(struct nms_store **sa, struct nms_store **sb, struct nms **a,
			 struct nms **b)
{
	setup();		/* its engine is replaced here */
	nms_free(nms);
	store->ops->destroy(store);
	*sa = redis_store(true);
	*sb = redis_store(false);
	*a = replica_new(*sa);
	*b = replica_new(*sb);
}

static void test_replicas(void)
{
	struct nms_store *sa, *sb;
	struct nms *a, *b;
	struct node x, y;
	struct nmsc_event ev, nv;
	uint8_t buf[2048];
	size_t len;

	now = 1700000000000LL;
	two_replicas(&sa, &sb, &a, &b);
	node_init(&x, 31, "x.test", "10.77.0.31", NULL, 0, ep("192.0.2.31", 4000));
	node_init(&y, 32, "y.test", NULL, "fd77::32", 0, ep("2001:db8::32", 4000));

	nms = a;
	TAP_CHECK(do_register(&x) == 0, "x registers at replica A");
	nms = b;
	TAP_CHECK(do_register(&y) == 0, "y registers at replica B");
	len = nmsc_keepalive(&x.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver_to(b, &x, buf, len) == 0 && !feed(&x, 0, &ev) &&
		  ev.type == NMSC_EV_KEEPALIVE, "B answers x's keepalive (registered at A)");
	TAP_CHECK(deliver_to(a, &x, buf, len) == PROTO_E_REPLAY,
		  "the same keepalive replayed to A: REPLAY");
	len = nmsc_keepalive(&x.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver_to(a, &x, buf, len) == 0 && !feed(&x, 0, &ev),
		  "x's next answer from A accepted after B's (shared sequence)");

	/* Route at B to a node registered at A; the notification goes from B. */
	len = nmsc_route(&y.c, buf, sizeof(buf), now, "x.test", NULL, NULL, 0, NULL);
	TAP_CHECK(deliver_to(b, &y, buf, len) == 0 && n_out == 2 && !feed(&y, 0, &ev) &&
		  ev.msg.mode == PROTO_MODE_RELAY && !feed(&x, 1, &nv) &&
		  nv.type == NMSC_EV_NOTIFY, "B routes y to x (relay) and notifies x");
	TAP_CHECK(nms_pending_notifies(b) == 1, "B waits for x's NOTIFY_ACK");
	len = nmsc_notify_ack(&x.c, buf, sizeof(buf), now, nv.msg.notify_id);
	TAP_CHECK(deliver_to(a, &x, buf, len) == 0, "x acknowledges at A");
	n_out = 0;
	nms_tick(b, now + 600);
	TAP_CHECK(n_out == 0 && nms_pending_notifies(b) == 0,
		  "B does not retransmit what A saw acknowledged");

	/* B dies with a notification pending: A adopts and resends it. */
	len = nmsc_route(&y.c, buf, sizeof(buf), now, "x.test", NULL, NULL, 0, NULL);
	deliver_to(b, &y, buf, len);
	nms_free(b);
	sb->ops->destroy(sb);
	n_out = 0;
	nms_tick(a, now + 2000);
	TAP_CHECK(nms_stats(a)->notify_adopted == 1 && n_out == 1 &&
		  !feed(&x, 0, &nv) && nv.type == NMSC_EV_NOTIFY,
		  "A retransmits the notification of the dead replica B");

	/* A restarts (a new store, the same Redis): nothing is forgotten. */
	nms_free(a);
	sa->ops->destroy(sa);
	sa = redis_store(false);
	a = replica_new(sa);
	TAP_CHECK(deliver_to(a, &x, x.last, x.last_len) == PROTO_E_REPLAY,
		  "after a restart A still refuses a replay");
	len = nmsc_keepalive(&x.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver_to(a, &x, buf, len) == 0 && !feed(&x, 0, &ev),
		  "after a restart A answers x's session");

	/* y (registered at B, never seen by A) is revoked by A's next CRL. */
	revoked_id = 32;
	nms_recheck(a, now);
	len = nmsc_route(&x.c, buf, sizeof(buf), now, "y.test", NULL, NULL, 0, NULL);
	TAP_CHECK(deliver_to(a, &x, buf, len) == PROTO_E_NOT_FOUND && nms_stats(a)->revoked == 1,
		  "A checks a record registered elsewhere against its CRL before routing to it");
	revoked_id = 0;
	nms_free(a);
	sa->ops->destroy(sa);
	node_free(&x);
	node_free(&y);
	nms = NULL;
	store = NULL;
	EVP_PKEY_free(nms_key);
}

/*
 * Issue 11: a receive batch at replica B (nms_batch_begin/end): the
 * records, replay claims, answer sequence numbers and named targets come
 * from two pipelined round trips, and each request gets the answer it
 * would get alone: a copy of a request in the same batch is a REPLAY, a
 * forged MAC spends nothing of the node's, the route finds its target,
 * and the numbers B reserved never come again from A.
 */
static void test_batch(void)
{
	struct nms_store *sa, *sb;
	struct nms *a, *b;
	struct node x, y;
	struct nmsc_event ev;
	uint8_t pk[4][2048];
	const uint8_t *pkts[4];
	size_t lens[4];
	int rc[4], i;

	now = 1700000100000LL;
	two_replicas(&sa, &sb, &a, &b);
	node_init(&x, 41, "bx.test", "10.77.0.41", NULL, 0, ep("192.0.2.41", 4000));
	node_init(&y, 42, "by.test", "10.77.0.42", NULL, 0, ep("192.0.2.42", 4000));
	nms = a;
	TAP_CHECK(do_register(&x) == 0 && do_register(&y) == 0, "batch: x and y register at A");
	lens[0] = nmsc_keepalive(&x.c, pk[0], sizeof(pk[0]), now, NULL);
	memcpy(pk[1], pk[0], lens[0]);
	lens[1] = lens[0];
	lens[2] = nmsc_route(&y.c, pk[2], sizeof(pk[2]), now, "bx.test", NULL, NULL, 0, NULL);
	lens[3] = nmsc_keepalive(&x.c, pk[3], sizeof(pk[3]), now, NULL);
	pk[3][lens[3] - 1] ^= 1;	/* a forged MAC, x's next sequence number */
	for (i = 0; i < 4; i++)
		pkts[i] = pk[i];
	n_out = 0;
	nms_batch_begin(b, pkts, lens, 4, now);
	rc[0] = nms_input(b, pk[0], lens[0], &x.from, now);
	rc[1] = nms_input(b, pk[1], lens[1], &x.from, now);
	rc[2] = nms_input(b, pk[2], lens[2], &y.from, now);
	rc[3] = nms_input(b, pk[3], lens[3], &x.from, now);
	nms_batch_end(b);
	TAP_CHECK(rc[0] == 0 && !feed(&x, 0, &ev) && ev.type == NMSC_EV_KEEPALIVE,
		  "batch: x's keepalive answered by B");
	TAP_CHECK(rc[1] == PROTO_E_REPLAY, "batch: its copy in the same batch is a REPLAY");
	TAP_CHECK(rc[2] == 0, "batch: y's route to x by name answered (target read in the batch)");
	TAP_CHECK(rc[3] == PROTO_E_BAD_SIGNATURE, "batch: a forged keepalive is refused");
	pk[3][lens[3] - 1] ^= 1;	/* the genuine one: its number was not spent */
	TAP_CHECK(deliver_to(a, &x, pk[3], lens[3]) == 0 && !feed(&x, 0, &ev) &&
		  ev.type == NMSC_EV_KEEPALIVE,
		  "batch: the genuine message is accepted at A, and A's answer after B's");
	nms_free(a);
	nms_free(b);
	sa->ops->destroy(sa);
	sb->ops->destroy(sb);
	node_free(&x);
	node_free(&y);
	nms = NULL;
	store = NULL;
	EVP_PKEY_free(nms_key);
}

/* Issue 12: per-node quotas on routes, relay grants and notification slots. */
static void test_quotas(void)
{
	struct node a, b, c, d, e;
	struct nmsc_event ev;
	const struct nms_stats *st;
	int64_t t0;

	fresh();
	cfg.route_rate = 1;
	cfg.route_burst = 3;
	cfg.relay_rate = 1;
	cfg.relay_burst = 2;
	nms_set_config(nms, &cfg);
	node_init(&a, 21, "qa.test", "10.77.0.21", NULL, 0, ep("203.0.113.21", 4000));
	nmsc_set_location(&a.c, &a.from, 1, PROTO_NAT_NONE);
	node_init(&b, 22, "qb.test", "10.77.0.22", NULL, 0, ep("203.0.113.22", 4000));
	nmsc_set_location(&b.c, &b.from, 1, PROTO_NAT_NONE);
	node_init(&c, 23, "qc.test", "10.77.0.23", NULL, 0, ep("198.51.100.23", 30000));
	nmsc_set_location(&c.c, (struct proto_ep[]){ ep("10.1.0.23", 4000) }, 1, PROTO_NAT_CONE);
	node_init(&d, 24, "qd.test", NULL, "fd77::24", 0, ep("2001:db8::24", 4000));
	node_init(&e, 25, "qe.test", "10.77.0.25", NULL, 0, ep("192.0.2.25", 31000));
	nmsc_set_location(&e.c, (struct proto_ep[]){ ep("10.2.0.25", 4000) }, 1, PROTO_NAT_CONE);
	TAP_CHECK(!do_register(&a) && !do_register(&b) && !do_register(&c) && !do_register(&d) &&
		  !do_register(&e), "five nodes registered");
	TAP_CHECK(route(&b, "qa.test", 0, &ev) == 0 && route(&b, "qa.test", 0, &ev) == 0 &&
		  route(&b, "qa.test", 0, &ev) == 0, "route burst (3) answered");
	TAP_CHECK(route(&b, "qa.test", 0, &ev) == PROTO_E_RATE_LIMITED &&
		  reply_error(&b) == PROTO_E_RATE_LIMITED,
		  "the 4th route request at once: authenticated RATE_LIMITED");
	now += 1000;
	TAP_CHECK(route(&b, "qa.test", 0, &ev) == 0, "a second later one more (1/s)");
	TAP_CHECK(route(&a, "qb.test", 0, &ev) == 0, "another node's quota is its own");

	TAP_CHECK(route(&c, "qd.test", 0, &ev) == 0 && ev.msg.mode == PROTO_MODE_RELAY &&
		  route(&c, "qd.test", 0, &ev) == 0, "relay burst (2) granted");
	TAP_CHECK(route(&c, "qd.test", 0, &ev) == PROTO_E_RATE_LIMITED,
		  "a 3rd relay grant at once: RATE_LIMITED");

	cfg.notify_per_node = 1;
	nms_set_config(nms, &cfg);
	t0 = now;
	TAP_CHECK(route(&e, "qc.test", 0, &ev) == 0 && ev.msg.mode == PROTO_MODE_PUNCH,
		  "punch route: the target is notified");
	TAP_CHECK(route(&e, "qc.test", 0, &ev) == PROTO_E_RATE_LIMITED,
		  "notify_per_node 1: a second unacknowledged notification refused");
	for (now = t0; now <= t0 + 5000; now += 250)
		nms_tick(nms, now);
	TAP_CHECK(route(&e, "qc.test", 0, &ev) == 0,
		  "once the notification left the table (given up), the slot is free again");
	/* Full REGISTERs: a budget per source address before any signature work. */
	cfg.register_rate = 1;
	cfg.register_burst = 2;
	nms_set_config(nms, &cfg);
	{
		uint8_t buf[2048];
		struct node f, a2;
		size_t len;

		node_init(&f, 26, "qf.test", "10.77.0.26", NULL, 0, a.from);
		len = nmsc_register(&f.c, buf, sizeof(buf), now, NULL);	/* signed */
		a2 = a;
		a2.from.port++;		/* same host, another port */
		TAP_CHECK(deliver(&a, buf, len) != PROTO_E_RATE_LIMITED &&
			  deliver(&a2, buf, len) != PROTO_E_RATE_LIMITED,
			  "source budget: the burst (2) is verified");
		int rc3 = deliver(&a2, buf, len);

		TAP_CHECK(rc3 == PROTO_E_RATE_LIMITED && n_out == 0,
			  "the 3rd from that address is dropped unverified, unanswered (rc %d, %d out)",
			  rc3, n_out);
		TAP_CHECK(deliver(&b, buf, len) != PROTO_E_RATE_LIMITED,
			  "another address has its own budget");
		node_free(&f);
	}
	st = nms_stats(nms);
	TAP_CHECK(st->quota_route == 1 && st->quota_relay == 1 && st->quota_notify == 1 &&
		  st->quota_source == 1 &&
		  st->req[PROTO_OP_ROUTE_REQ][PROTO_E_RATE_LIMITED] == 3,
		  "quota refusals counted per quota");
	node_free(&a);
	node_free(&b);
	node_free(&c);
	node_free(&d);
	node_free(&e);
}

/*
 * MAPPING (the mapping port, cyphonicd nattype.c): answered with the
 * source endpoint, under the request's node id and sequence number, no
 * larger than the request, without any registration; over the source's
 * budget, not at all.
 */
static void test_mapping(void)
{
	struct proto_hdr h = { .op = PROTO_OP_MAPPING, .auth = PROTO_AUTH_NONE, .node_id = 77,
			       .seq = 123456, .ts_ms = 1 };
	struct proto_ep from = ep("198.51.100.7", 40001), base = ep("198.51.100.7", 7300);
	uint8_t mem[128];
	struct proto_buf b;
	struct proto_msg m;
	size_t len;
	int i, answered = 0;

	fresh();
	cfg.cookie_rate = 5;
	cfg.cookie_burst = 10;
	nms_set_config(nms, &cfg);
	proto_msg_begin(&b, mem, sizeof(mem), &h);
	proto_tlv_ep(&b, PROTO_T_ADDR, &base);
	len = proto_msg_finish(&b);
	n_out = 0;
	TAP_CHECK(nms_input(nms, mem, len, &from, now) == PROTO_E_OK && n_out == 1,
		  "MAPPING: one answer, no registration needed");
	TAP_CHECK(n_out == 1 && out[0].len <= len && !proto_msg_parse(out[0].pkt, out[0].len, &m) &&
		  m.hdr.op == PROTO_OP_MAPPING_ACK && m.hdr.seq == 123456 && m.hdr.node_id == 77 &&
		  proto_ep_equal(&m.observed, &from) && proto_ep_equal(&out[0].to, &from),
		  "MAPPING_ACK: the source endpoint, to it, seq echoed, %zu <= %zu bytes",
		  n_out ? out[0].len : 0, len);
	for (i = 0; i < 100; i++) {
		n_out = 0;
		nms_input(nms, mem, len, &from, now);
		answered += (int)n_out;
	}
	TAP_CHECK(answered < 100, "a flood from one source is cut by its budget (%d of 100)",
		  answered);
}

/*
 * Under load a full REGISTER without the cookie of its source address is
 * answered with COOKIE before any certificate or signature work; the
 * client echoes it; a cookie from another address is worth nothing.
 */
static void test_cookies(void)
{
	struct node a, spoof;
	uint8_t buf[2048], first[2048];
	struct nmsc_event ev;
	size_t len, first_len;
	const struct nms_stats *st;
	struct nms_cookies ck;
	int i;
	bool ok = true;

	fresh();
	cfg.cookie_load = 0;		/* always under load */
	nms_set_config(nms, &cfg);
	node_init(&a, 41, "ck.test", "10.77.0.41", NULL, 0, ep("192.0.2.41", 4100));
	first_len = nmsc_register(&a.c, first, sizeof(first), now, NULL);
	i = deliver(&a, first, first_len);
	TAP_CHECK(i == PROTO_E_RATE_LIMITED && n_out == 1 && out[0].pkt[2] == PROTO_OP_COOKIE &&
		  out[0].len == 64 && out[0].len < first_len,
		  "under load: a REGISTER without a cookie gets a 64-byte COOKIE (%zu, request %zu)",
		  n_out ? out[0].len : 0, first_len);
	st = nms_stats(nms);
	TAP_CHECK(st->cookies_sent == 1 && st->cert_cached == 0 && nms_active(nms) == 0,
		  "no certificate or signature work, nothing registered");
	TAP_CHECK(!feed(&a, 0, &ev) && ev.type == NMSC_EV_COOKIE && a.c.has_cookie,
		  "the client takes the COOKIE answering its pending REGISTER");
	TAP_CHECK(feed(&a, 0, &ev) == PROTO_E_REPLAY, "the same COOKIE again is not an answer");
	len = nmsc_register(&a.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&a, buf, len) == 0 && !feed(&a, 0, &ev) && ev.type == NMSC_EV_REGISTERED,
		  "the REGISTER echoing it registers the node");

	/* The same cookie-bearing datagram from another address: refused. */
	node_init(&spoof, 41, "ck.test", "10.77.0.41", NULL, 0, ep("203.0.113.9", 4100));
	nmsc_reset(&a.c);
	len = nmsc_register(&a.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&spoof, buf, len) == PROTO_E_RATE_LIMITED && n_out == 1 &&
		  out[0].pkt[2] == PROTO_OP_COOKIE && nms_stats(nms)->cookie_refused == 1,
		  "the cookie is bound to its source address");
	spoof.from = ep("192.0.2.41", 4101);
	TAP_CHECK(deliver(&spoof, buf, len) == PROTO_E_RATE_LIMITED,
		  "... and port");
	TAP_CHECK(deliver(&a, buf, len) == 0, "from its own address it is accepted");

	/* A COOKIE that answers nothing pending is ignored by the client. */
	memcpy(buf, out[0].pkt, out[0].len);
	TAP_CHECK(nmsc_input(&a.c, buf, out[0].len, now, 30000, &ev) != 0 ||
		  ev.type != NMSC_EV_COOKIE, "a COOKIE answering no pending REGISTER is ignored");

	/* Load: more than `load` full REGISTERs in this or the last second. */
	nms_cookies_init(&ck, 1000);
	for (i = 0; i < 3; i++)
		ok &= !nms_cookies_loaded(&ck, 3, 1000 + i);
	TAP_CHECK(ok && nms_cookies_loaded(&ck, 3, 1500), "the 4th REGISTER in a second is under load");
	TAP_CHECK(nms_cookies_loaded(&ck, 3, 2100), "... and the next second still is");
	TAP_CHECK(!nms_cookies_loaded(&ck, 3, 3200), "a quiet second ends it");
	TAP_CHECK(nms_cookies_loaded(&ck, 0, 3300), "load 0: always");
	node_free(&a);
	node_free(&spoof);
	cfg.cookie_load = 1000000;
	fresh();
}

/*
 * Access policy: route direction only for pairs the certificates' groups
 * allow; a denied pair gets exactly the answer of an unknown target.
 */
static void test_policy(void)
{
	struct node cam, staff, guest;
	struct nmsc_event ev;
	uint8_t denied[2048], unknown[2048];
	size_t denied_len, unknown_len;
	int rc;

	fresh();
	policies[0].id = 51;
	policies[0].text = "g=cams;r=";
	policies[1].id = 52;
	policies[1].text = "g=staff;r=cams,staff";
	policies[2].id = 53;
	policies[2].text = "g=guests;r=guests";
	node_init(&cam, 51, "cam.test", "10.77.0.51", NULL, 0, ep("192.0.2.51", 4000));
	node_init(&staff, 52, "staff.test", "10.77.0.52", NULL, 0, ep("192.0.2.52", 4000));
	node_init(&guest, 53, "guest.test", "10.77.0.53", NULL, 0, ep("192.0.2.53", 4000));
	TAP_CHECK(!do_register(&cam) && !do_register(&staff) && !do_register(&guest),
		  "policy: three nodes in three groups registered");
	TAP_CHECK(route(&staff, "cam.test", 0, &ev) == 0 && ev.type == NMSC_EV_ROUTE &&
		  ev.msg.peer_id == 51, "staff -> cams is allowed: route given");
	rc = route(&guest, "cam.test", 0, &ev);
	denied_len = n_out ? out[0].len : 0;
	memcpy(denied, out[0].pkt, denied_len);
	TAP_CHECK(rc == PROTO_E_NOT_FOUND && !feed(&guest, 0, &ev) && ev.type == NMSC_EV_ERROR &&
		  ev.error == PROTO_E_NOT_FOUND, "guests -> cams is denied: NOT_FOUND");
	rc = route(&guest, "nobody.test", 0, &ev);
	unknown_len = n_out ? out[0].len : 0;
	memcpy(unknown, out[0].pkt, unknown_len);
	TAP_CHECK(rc == PROTO_E_NOT_FOUND && unknown_len == denied_len &&
		  !memcmp(denied + 2, unknown + 2, 2) &&
		  !memcmp(denied + PROTO_SIG_HDR_LEN, unknown + PROTO_SIG_HDR_LEN,
			  denied_len - PROTO_SIG_HDR_LEN - 2 * PROTO_MAC_LEN),
		  "... the same answer as for an unknown node (op, length, error TLVs)");
	TAP_CHECK(route(&cam, "staff.test", 0, &ev) == PROTO_E_NOT_FOUND,
		  "cams reach nothing: the camera cannot ask for a route to staff");
	TAP_CHECK(nms_stats(nms)->policy_denied == 2, "denials counted");
	node_free(&cam);
	node_free(&staff);
	node_free(&guest);
	memset(policies, 0, sizeof(policies));
	fresh();
}

/*
 * Full REGISTERs on worker threads (nms.h, nms_job): the engine does the
 * cheap checks, the job's work runs on another thread, the registration
 * is finished when the job comes back; a full queue drops and counts.
 */
#define TEST_QMAX 2
static struct nms_job *queued[TEST_QMAX];
static int n_queued;

static bool test_offload_fn(void *arg, struct nms_job *j)
{
	(void)arg;
	if (n_queued == TEST_QMAX)
		return false;
	queued[n_queued++] = j;
	return true;
}

static void *work_thread(void *arg)
{
	nms_job_work(arg);
	return NULL;
}

/* Runs queued job i on a thread of its own, then hands it back. */
static int run_job(int i)
{
	pthread_t t;

	if (pthread_create(&t, NULL, work_thread, queued[i]))
		return -1;
	pthread_join(t, NULL);
	n_out = 0;
	return nms_job_done(nms, queued[i], now);
}

static void test_offload(void)
{
	struct node a, b, c;
	uint8_t buf[2048];
	struct nmsc_event ev;
	size_t len;
	const struct nms_stats *st;
	int rc;

	fresh();
	nms_set_offload(nms, test_offload_fn, NULL);
	n_queued = 0;
	st = nms_stats(nms);
	node_init(&a, 61, "off-a.test", "10.77.0.61", NULL, 0, ep("192.0.2.61", 4000));
	node_init(&b, 62, "off-b.test", "10.77.0.62", NULL, 0, ep("192.0.2.62", 4000));
	node_init(&c, 63, "off-c.test", "10.77.0.63", NULL, 0, ep("192.0.2.63", 4000));
	len = nmsc_register(&a.c, buf, sizeof(buf), now, NULL);
	rc = deliver(&a, buf, len);
	TAP_CHECK(rc == NMS_QUEUED && n_out == 0 && n_queued == 1 && nms_active(nms) == 0 &&
		  st->verify_queued == 1, "offload: a full REGISTER is handed over, not answered yet");
	TAP_CHECK(st->req[PROTO_OP_REGISTER][PROTO_E_OK] == 0, "offload: not counted before done");
	/* A corrupted signature, and a third REGISTER for a full queue. */
	len = nmsc_register(&b.c, buf, sizeof(buf), now, NULL);
	buf[len - 3] ^= 0x5a;
	TAP_CHECK(deliver(&b, buf, len) == NMS_QUEUED && n_queued == 2,
		  "offload: a badly signed REGISTER is handed over too");
	len = nmsc_register(&c.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&c, buf, len) == PROTO_E_RATE_LIMITED && n_out == 0 &&
		  st->verify_dropped == 1, "offload: queue full: dropped unanswered and counted");
	rc = run_job(0);
	TAP_CHECK(rc == PROTO_E_OK && n_out == 1 && !feed(&a, 0, &ev) &&
		  ev.type == NMSC_EV_REGISTERED && nms_active(nms) == 1 &&
		  st->req[PROTO_OP_REGISTER][PROTO_E_OK] == 1,
		  "offload: checked on another thread, registered on return, counted once");
	rc = run_job(1);
	TAP_CHECK(rc == PROTO_E_BAD_SIGNATURE && n_out == 1 &&
		  st->req[PROTO_OP_REGISTER][PROTO_E_BAD_SIGNATURE] == 1 && nms_active(nms) == 1,
		  "offload: the bad signature is refused on return (signed error)");
	len = nmsc_keepalive(&a.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&a, buf, len) == 0 && n_out == 1 && !feed(&a, 0, &ev) &&
		  ev.type == NMSC_EV_KEEPALIVE, "offload: the session works on the loop");

	/* A CRL change while the job is out: checked again on return. */
	n_queued = 0;
	nmsc_reset(&c.c);
	len = nmsc_register(&c.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&c, buf, len) == NMS_QUEUED, "offload: a REGISTER of a node about to be revoked");
	revoked_id = 63;
	nms_recheck(nms, now);
	rc = run_job(0);
	TAP_CHECK(rc == PROTO_E_REVOKED && nms_active(nms) == 1,
		  "offload: revoked while queued: refused on return");
	revoked_id = 0;

	/* The same REGISTER twice in flight (a retry): one registration. */
	n_queued = 0;
	nmsc_reset(&b.c);
	len = nmsc_register(&b.c, buf, sizeof(buf), now, NULL);
	deliver(&b, buf, len);
	deliver(&b, buf, len);
	TAP_CHECK(n_queued == 2 && run_job(0) == PROTO_E_OK && run_job(1) == PROTO_E_REPLAY,
		  "offload: a duplicate in flight is a replay on return");
	nms_set_offload(nms, NULL, NULL);
	node_free(&a);
	node_free(&b);
	node_free(&c);
	fresh();
}

/* A fresh full REGISTER from n (under load): was it answered with a COOKIE? */
static bool got_cookie(struct node *n)
{
	uint8_t buf[2048];
	size_t len;

	nmsc_reset(&n->c);
	len = nmsc_register(&n->c, buf, sizeof(buf), now, NULL);
	return deliver(n, buf, len) == PROTO_E_RATE_LIMITED && n_out == 1 &&
	       out[0].pkt[2] == PROTO_OP_COOKIE;
}

/* COOKIE answers per source address are budgeted ([nms] cookie_rate). */
static void test_cookie_rate(void)
{
	struct node a;
	uint8_t buf[2048];
	size_t len;
	int i, cookies = 0;

	fresh();
	cfg.cookie_load = 0;
	cfg.cookie_rate = 1;
	cfg.cookie_burst = 2;
	nms_set_config(nms, &cfg);
	node_init(&a, 71, "cr.test", "10.77.0.71", NULL, 0, ep("192.0.2.71", 4000));
	for (i = 0; i < 5; i++)
		cookies += got_cookie(&a);
	TAP_CHECK(cookies == 2 && nms_stats(nms)->cookies_suppressed == 3,
		  "cookie_rate 1: 2 COOKIEs of 5 to one address, 3 suppressed (%d)", cookies);
	a.from = ep("192.0.2.72", 4000);
	len = nmsc_register(&a.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&a, buf, len) == PROTO_E_RATE_LIMITED && n_out == 1,
		  "... another address has its own budget");
	now += 1000;
	a.from = ep("192.0.2.71", 4000);
	len = nmsc_register(&a.c, buf, sizeof(buf), now, NULL);
	TAP_CHECK(deliver(&a, buf, len) == PROTO_E_RATE_LIMITED && n_out == 1,
		  "... and a second later the first has one again");
	node_free(&a);
	cfg.cookie_load = 1000000;
	cfg.cookie_rate = 0;
	cfg.cookie_burst = 0;
	fresh();
}

/*
 * The per-source budgets count an IPv6 source by its /64 (asguard
 * srckey.h), as the AS does: one host usually owns a whole /64, so
 * counting single addresses would give it 2^64 budgets of full
 * REGISTERs (signature checks) and of COOKIE answers.
 */
static void test_source_prefix(void)
{
	static const char *const same64[] = { "2001:db8:5:6::a", "2001:db8:5:6::b",
					      "2001:db8:5:6:ffff::c", "2001:db8:5:6::d" };
	struct node a;
	uint8_t buf[2048];
	size_t len, i;
	int verified = 0, cookies = 0;

	fresh();
	cfg.register_rate = 1;
	cfg.register_burst = 2;
	nms_set_config(nms, &cfg);
	node_init(&a, 81, "sp.test", "10.77.0.81", NULL, 0, ep(same64[0], 4000));
	len = nmsc_register(&a.c, buf, sizeof(buf), now, NULL);	/* signed */
	for (i = 0; i < 4; i++) {
		a.from = ep(same64[i], 4000);
		verified += deliver(&a, buf, len) != PROTO_E_RATE_LIMITED;
	}
	TAP_CHECK(verified == 2 && nms_stats(nms)->quota_source == 2,
		  "register budget: 4 addresses of one /64 share it, 2 of 4 verified (%d)",
		  verified);
	a.from = ep("2001:db8:5:7::a", 4000);
	TAP_CHECK(deliver(&a, buf, len) != PROTO_E_RATE_LIMITED,
		  "... the next /64 has its own budget");

	fresh();
	cfg.cookie_load = 0;
	cfg.cookie_rate = 1;
	cfg.cookie_burst = 2;
	nms_set_config(nms, &cfg);
	for (i = 0; i < 4; i++) {
		a.from = ep(same64[i], 4000);
		cookies += got_cookie(&a);
	}
	TAP_CHECK(cookies == 2 && nms_stats(nms)->cookies_suppressed == 2,
		  "cookie budget: 4 addresses of one /64 share it, 2 COOKIEs of 4 (%d)", cookies);
	node_free(&a);
	fresh();
}

/*
 * A source whose budget is spent stays spent, whatever other sources
 * send: the table is fixed (NMS_SOURCE_SLOTS), and a slot that another
 * source took over used to start again with full buckets, so two sources
 * landing in one slot (the hash was not keyed: an attacker could pick
 * them) got a fresh burst at each alternation. 32768 other sources send
 * one REGISTER each (8 per slot on average) between two of the spent
 * source's; it gets no COOKIE again.
 */
static void test_source_slot_takeover(void)
{
	struct node a;
	struct proto_ep spent = ep("192.0.2.90", 4000);
	uint8_t buf[2048];
	size_t len;
	uint32_t i;
	int cookies = 0;

	fresh();
	cfg.cookie_load = 0;
	cfg.cookie_rate = 1;
	cfg.cookie_burst = 2;
	nms_set_config(nms, &cfg);
	node_init(&a, 91, "st.test", "10.77.0.91", NULL, 0, spent);
	len = nmsc_register(&a.c, buf, sizeof(buf), now, NULL);
	for (i = 0; i < 3; i++)
		cookies += deliver(&a, buf, len) == PROTO_E_RATE_LIMITED && n_out == 1;
	TAP_CHECK(cookies == 2, "takeover: the source's cookie budget spent (2 of 3)");
	for (i = 0; i < 32768; i++) {
		a.from.v4.s_addr = htonl(0x0a000000u | i);	/* 10.0.0.0/17 */
		deliver(&a, buf, len);
	}
	a.from = spent;
	TAP_CHECK(deliver(&a, buf, len) == PROTO_E_RATE_LIMITED && n_out == 0,
		  "... and stays spent after 32768 other sources (no COOKIE: %d out)", n_out);
	node_free(&a);
	fresh();
}

static void run_engine_cases(void)
{
	now = 1700000000000LL;
	fresh();
	test_register();
	test_bad_registrations();
	test_error_budget();
	test_routes();
	test_quotas();
	test_tombstone_and_drain();
	test_cookies();
	test_mapping();
	test_cookie_rate();
	test_source_prefix();
	test_source_slot_takeover();
	test_offload();
	test_policy();
}

int main(void)
{
	run_engine_cases();
	test_store();
	teardown();
	redis_addr = getenv("CYPH_TEST_REDIS");
	if (redis_addr && *redis_addr) {
		tap_prefix = "redis: ";
		run_engine_cases();
		teardown();
		test_replicas();
		test_batch();
		tap_prefix = "";
	} else {
		tap_skip("CYPH_TEST_REDIS not set (tests/unit/suite.sh sets it)", "redis store");
	}
	return tap_done();
}
