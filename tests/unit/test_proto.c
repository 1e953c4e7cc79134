// SPDX-License-Identifier: MIT
/*
 * Signaling codec and crypto: round trips of every operation, strict
 * rejection of malformed and hostile input (truncation at every length,
 * every single-byte corruption, length overflows, duplicates, critical
 * unknown TLVs, wrong auth kinds), the replay window, RELAY_CTRL, and the
 * cryptographic building blocks against published test vectors.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <linux/cyphonic.h>
#include "wire/proto.h"
#include "wire/proto_crypto.h"
#include "client/trsclient.h"
#include "tap.h"

static uint8_t pkt[PROTO_MAX_PACKET];

static struct proto_ep ep4(const char *a, uint16_t port)
{
	struct proto_ep e = { .family = 4, .port = port };

	inet_pton(AF_INET, a, &e.v4);
	return e;
}

static struct proto_ep ep6(const char *a, uint16_t port)
{
	struct proto_ep e = { .family = 6, .port = port };

	inet_pton(AF_INET6, a, &e.v6);
	return e;
}

/* A ROUTE_RESP in relay mode with every TLV it may carry, MACed. */
static size_t build_route_resp(uint8_t *out, size_t cap)
{
	struct proto_hdr h = { .op = PROTO_OP_ROUTE_RESP, .auth = PROTO_AUTH_MAC,
			       .node_id = 42, .seq = 7, .ts_ms = 1000 };
	struct proto_buf b;
	struct proto_ep e = ep6("2001:db8::1", 7000), p = ep4("192.0.2.1", 4000);
	uint8_t k[32] = { 1 }, s[32] = { 2 };
	size_t len;

	proto_msg_begin(&b, out, cap, &h);
	proto_tlv_u64(&b, PROTO_T_ECHO_SEQ, 6);
	proto_tlv_u8(&b, PROTO_T_MODE, PROTO_MODE_RELAY);
	proto_tlv_u64(&b, PROTO_T_PEER_ID, 99);
	proto_tlv_str(&b, PROTO_T_PEER_FQDN, "b.cyphonic.test");
	proto_tlv_bytes(&b, PROTO_T_PEER_VIP4, "\x0a\x4d\x00\x02", 4);
	proto_tlv_bytes(&b, PROTO_T_PEER_PUBKEY, k, 32);
	proto_tlv_ep(&b, PROTO_T_PEER_ENDPOINT, &p);
	proto_tlv_ep(&b, PROTO_T_RELAY_ENDPOINT, &e);
	proto_tlv_u32(&b, PROTO_T_RELAY_SESSION, 0xdeadbeef);
	proto_tlv_u8(&b, PROTO_T_RELAY_END, 1);
	proto_tlv_u64(&b, PROTO_T_RELAY_EXPIRY, 2000000000);
	proto_tlv_bytes(&b, PROTO_T_RELAY_SECRET, s, 32);
	len = proto_msg_finish(&b);
	proto_mac_append(out, len, cap, k);
	return len + PROTO_MAC_LEN;
}

static void test_roundtrip(void)
{
	struct proto_msg m;
	size_t len = build_route_resp(pkt, sizeof(pkt));
	int rc = proto_msg_parse(pkt, len, &m);
	char buf[64];
	uint8_t k[32] = { 1 };

	TAP_CHECK(rc == 0, "route_resp parses (rc %d)", rc);
	TAP_CHECK(m.hdr.op == PROTO_OP_ROUTE_RESP && m.hdr.node_id == 42 &&
		  m.hdr.seq == 7 && m.hdr.ts_ms == 1000, "header fields");
	TAP_CHECK(m.mode == PROTO_MODE_RELAY && m.peer_id == 99 &&
		  !strcmp(m.peer_fqdn, "b.cyphonic.test"), "route fields");
	TAP_CHECK(m.relay_session == 0xdeadbeef && m.relay_end == 1 &&
		  m.relay_expiry == 2000000000 && m.relay_secret[0] == 2,
		  "relay fields");
	proto_ep_format(&m.relay_ep, buf, sizeof(buf));
	TAP_CHECK(!strcmp(buf, "[2001:db8::1]:7000"), "relay endpoint %s", buf);
	proto_ep_format(&m.peer_eps[0], buf, sizeof(buf));
	TAP_CHECK(m.n_peer_eps == 1 && !strcmp(buf, "192.0.2.1:4000"),
		  "peer endpoint %s", buf);
	TAP_CHECK(proto_mac_check(pkt, m.signed_len, m.auth_tag, k), "MAC verifies");
	pkt[40] ^= 1;
	TAP_CHECK(!proto_mac_check(pkt, m.signed_len, m.auth_tag, k),
		  "MAC fails after corruption");
	pkt[40] ^= 1;
}

static void test_truncation_and_corruption(void)
{
	struct proto_msg m;
	size_t len = build_route_resp(pkt, sizeof(pkt)), i;
	int bad = 0, ok_after_flip = 0;

	for (i = 0; i < len; i++)
		if (proto_msg_parse(pkt, i, &m) == 0)
			bad++;
	TAP_CHECK(bad == 0, "every truncation (0..%zu bytes) is rejected", len - 1);
	pkt[len] = 0;
	TAP_CHECK(proto_msg_parse(pkt, len + 1, &m) != 0, "trailing byte rejected");
	/* Every byte of the framing and TLV headers, every bit: no crash. */
	for (i = 0; i < len - PROTO_MAC_LEN; i++) {
		int bit;

		for (bit = 0; bit < 8; bit++) {
			pkt[i] ^= (uint8_t)(1 << bit);
			if (proto_msg_parse(pkt, len, &m) == 0)
				ok_after_flip++;
			pkt[i] ^= (uint8_t)(1 << bit);
		}
	}
	TAP_CHECK(1, "%zu x 8 single-bit corruptions parsed without a crash "
		  "(%d still well-formed, caught by the MAC)", len, ok_after_flip);
}

static size_t simple(uint8_t op, uint8_t auth, void (*fill)(struct proto_buf *))
{
	struct proto_hdr h = { .op = op, .auth = auth, .node_id = 1, .seq = 1 };
	struct proto_buf b;
	size_t len;

	proto_msg_begin(&b, pkt, sizeof(pkt), &h);
	if (fill)
		fill(&b);
	len = proto_msg_finish(&b);
	return len + (auth == PROTO_AUTH_SIG ? PROTO_SIG_LEN : PROTO_MAC_LEN);
}

static void f_target(struct proto_buf *b) { proto_tlv_str(b, PROTO_T_TARGET_FQDN, "x.test"); }
static void f_two_targets(struct proto_buf *b)
{
	f_target(b);
	proto_tlv_bytes(b, PROTO_T_TARGET_VIP4, "\1\2\3\4", 4);
}
static void f_dup(struct proto_buf *b) { f_target(b); f_target(b); }
static void f_unknown(struct proto_buf *b) { f_target(b); proto_tlv_u8(b, 0x7000, 1); }
static void f_critical(struct proto_buf *b) { f_target(b); proto_tlv_u8(b, 0xf000, 1); }
static void f_crit_known(struct proto_buf *b)
{
	proto_tlv_str(b, PROTO_T_TARGET_FQDN | PROTO_TLV_CRITICAL, "x.test");
}
static void f_wrong_len(struct proto_buf *b) { proto_tlv_u16(b, PROTO_T_TARGET_VIP4, 1); }
static void f_ctrl_char(struct proto_buf *b) { proto_tlv_str(b, PROTO_T_TARGET_FQDN, "a\nb"); }
static void f_bad_flags(struct proto_buf *b) { f_target(b); proto_tlv_u32(b, PROTO_T_ROUTE_FLAGS, 0x80); }
static void f_nine_addrs(struct proto_buf *b)
{
	struct proto_ep e = ep4("10.0.0.1", 1);
	int i;

	for (i = 0; i < 9; i++)
		proto_tlv_ep(b, PROTO_T_ADDR, &e);
}
static void f_eight_addrs(struct proto_buf *b)
{
	struct proto_ep e = ep4("10.0.0.1", 1);
	int i;

	for (i = 0; i < 8; i++)
		proto_tlv_ep(b, PROTO_T_ADDR, &e);
}
static void f_port0(struct proto_buf *b)
{
	struct proto_ep e = ep4("10.0.0.1", 0);

	proto_tlv_ep(b, PROTO_T_ADDR, &e);
}
static void f_overrun(struct proto_buf *b)
{
	/* TLV claims 200 bytes, body has 4. */
	proto_put_u16(b, PROTO_T_TARGET_FQDN);
	proto_put_u16(b, 200);
	proto_put_u32(b, 0x41414141);
}
static void f_overrun_by_2(struct proto_buf *b)
{
	/* An unknown (skipped) TLV claims 6 bytes, 4 follow: past by 2. */
	f_target(b);
	proto_put_u16(b, 0x7000);
	proto_put_u16(b, 6);
	proto_put_u32(b, 0x41414141);
}
static void f_half_tlv(struct proto_buf *b) { f_target(b); proto_put_u16(b, 5); }
static void f_register_full(struct proto_buf *b)
{
	uint8_t k[32] = { 0 };

	proto_tlv_bytes(b, PROTO_T_CERT, "cert", 4);
	proto_tlv_bytes(b, PROTO_T_EPHEMERAL, k, 32);
}

static void test_hostile(void)
{
	struct proto_msg m;
	size_t len;

	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_target);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == 0, "route_req with one target");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, NULL);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "route_req without target");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_two_targets);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "route_req with two targets");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_dup);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "duplicate TLV");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_unknown);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == 0, "unknown non-critical TLV skipped");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_critical);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "unknown critical TLV");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_crit_known);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == 0, "known TLV with critical bit");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_wrong_len);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "wrong TLV length");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_ctrl_char);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "control char in string");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_bad_flags);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "unknown route flag");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_overrun);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "TLV length past body");
	/* Past by less than a TLV header: a check against the length before
	 * the header is taken off would accept it and read the trailer. */
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_overrun_by_2);
	memset(pkt + len - PROTO_MAC_LEN, 0, PROTO_MAC_LEN);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED,
		  "TLV length past body by 2 bytes");
	len = simple(PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, f_half_tlv);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "half a TLV header");
	len = simple(PROTO_OP_REGISTER, PROTO_AUTH_MAC, f_eight_addrs);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == 0 && m.n_addrs == 8, "8 addresses accepted");
	len = simple(PROTO_OP_REGISTER, PROTO_AUTH_MAC, f_nine_addrs);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "9 addresses rejected");
	len = simple(PROTO_OP_REGISTER, PROTO_AUTH_MAC, f_port0);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "port 0 rejected");
	len = simple(PROTO_OP_REGISTER, PROTO_AUTH_SIG, f_register_full);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == 0, "full register (sig + cert + ephemeral)");
	len = simple(PROTO_OP_REGISTER, PROTO_AUTH_SIG, NULL);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "signed register without cert");
	len = simple(PROTO_OP_REGISTER, PROTO_AUTH_MAC, f_register_full);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "MACed register with cert");
	len = simple(PROTO_OP_KEEPALIVE, PROTO_AUTH_SIG, NULL);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "signed keepalive");
	len = simple(PROTO_OP_KEEPALIVE, PROTO_AUTH_MAC, NULL);
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == 0, "keepalive");
	pkt[1] = 2;
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_VERSION, "version 2 rejected");
	pkt[1] = PROTO_VERSION;
	pkt[2] = 0;
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_BAD_OP, "op 0 rejected");
	pkt[2] = PROTO_OP_MAX + 1;
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_BAD_OP, "op max+1 rejected");
	pkt[2] = PROTO_OP_KEEPALIVE;
	pkt[3] = 7;
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "auth kind 7 rejected");
	pkt[3] = PROTO_AUTH_MAC;
	pkt[6] = 1;
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "reserved bits rejected");
	pkt[6] = 0;
	pkt[0] = CYPHONIC_MSG_DATA;
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "DATA type rejected");
	pkt[0] = CYPHONIC_MSG_SIGNAL;
	pkt[4] = 0xff;
	pkt[5] = 0xff;
	TAP_CHECK(proto_msg_parse(pkt, len, &m) == PROTO_E_MALFORMED, "body length 65535 rejected");
}

static void test_writer_overflow(void)
{
	uint8_t small[40];
	struct proto_hdr h = { .op = PROTO_OP_ROUTE_REQ, .auth = PROTO_AUTH_MAC };
	struct proto_buf b;

	proto_msg_begin(&b, small, sizeof(small), &h);
	proto_tlv_str(&b, PROTO_T_TARGET_FQDN, "much-too-long-for-forty-bytes.test");
	TAP_CHECK(b.overflow && proto_msg_finish(&b) == 0, "writer overflow is sticky and fails finish");
}

static void test_errors(void)
{
	TAP_CHECK(!strcmp(proto_err_text(PROTO_E_REPLAY), "sequence number replayed"), "error text");
	TAP_CHECK(!strcmp(proto_err_name(PROTO_E_BAD_SIGNATURE), "bad_signature"), "error name");
	TAP_CHECK(!strcmp(proto_err_text(9999), "unknown error"), "unknown code text");
	TAP_CHECK(!strcmp(proto_op_name(PROTO_OP_ROUTE_REQ), "route_req") &&
		  !strcmp(proto_op_name(99), "unknown"), "op names");
}

static void test_replay(void)
{
	struct proto_replay w = { 0 };

	TAP_CHECK(!proto_replay_check(&w, 0, true), "seq 0 refused");
	TAP_CHECK(proto_replay_check(&w, 10, true), "10 accepted");
	TAP_CHECK(!proto_replay_check(&w, 10, true), "10 replay refused");
	TAP_CHECK(proto_replay_check(&w, 8, true), "8 (reordered) accepted");
	TAP_CHECK(!proto_replay_check(&w, 8, true), "8 replay refused");
	TAP_CHECK(proto_replay_check(&w, 100, false) && proto_replay_check(&w, 100, true),
		  "check without commit leaves the window");
	TAP_CHECK(!proto_replay_check(&w, 36, true), "64 behind is too old");
	TAP_CHECK(proto_replay_check(&w, 37, true), "63 behind accepted");
	TAP_CHECK(proto_replay_check(&w, 1000, true) && !proto_replay_check(&w, 100, true),
		  "big jump forgets the old window");
}

static void test_rc(void)
{
	struct proto_rc rc = { .op = PROTO_RC_BIND, .end = 1, .session = 77,
			       .node_id = 5, .expiry = 9, .seq = 3, .ts_ms = 4 }, out;
	uint8_t buf[PROTO_RC_LEN], secret[32] = { 9 };
	const uint8_t *inner;
	size_t inner_len;
	uint32_t sid;
	int i, accepted = 0;

	trs_rc_seal(&rc, secret, buf);
	TAP_CHECK(proto_rc_parse(buf, sizeof(buf), &out) == 0 && out.session == 77 &&
		  out.end == 1 && out.node_id == 5 && out.expiry == 9 &&
		  out.seq == 3 && out.ts_ms == 4, "relay ctrl round trip");
	for (i = 0; i < PROTO_RC_LEN; i++)
		accepted += proto_rc_parse(buf, (size_t)i, &out) == 0;
	TAP_CHECK(accepted == 0, "every truncated relay ctrl rejected");
	buf[3] = 2;
	TAP_CHECK(proto_rc_parse(buf, sizeof(buf), &out) == PROTO_E_MALFORMED, "end 2 rejected");
	buf[3] = 1;
	buf[2] = 9;
	TAP_CHECK(proto_rc_parse(buf, sizeof(buf), &out) == PROTO_E_BAD_OP, "op 9 rejected");
	buf[2] = PROTO_RC_BIND;
	buf[41] = 1;	/* code on a BIND */
	TAP_CHECK(proto_rc_parse(buf, sizeof(buf), &out) == PROTO_E_MALFORMED, "code on BIND rejected");
	buf[41] = 0;
	memset(buf + 4, 0, 4);
	TAP_CHECK(proto_rc_parse(buf, sizeof(buf), &out) == PROTO_E_MALFORMED, "session 0 rejected");

	{
		uint8_t r[] = { CYPHONIC_MSG_RELAY, 0, 0, 0, 0, 0, 0, 5, CYPHONIC_MSG_DATA, 0xaa };

		TAP_CHECK(proto_relay_parse(r, sizeof(r), &sid, &inner, &inner_len) == 0 &&
			  sid == 5 && inner_len == 2 && inner[1] == 0xaa, "relay header parsed");
		TAP_CHECK(proto_relay_parse(r, 8, &sid, &inner, &inner_len) == -1,
			  "relay without inner packet rejected");
		r[8] = CYPHONIC_MSG_SIGNAL;
		TAP_CHECK(proto_relay_parse(r, sizeof(r), &sid, &inner, &inner_len) == -1,
			  "relayed SIGNAL rejected");
		r[8] = CYPHONIC_MSG_DATA;
		r[1] = 1;
		TAP_CHECK(proto_relay_parse(r, sizeof(r), &sid, &inner, &inner_len) == -1,
			  "relay flags rejected");
	}
}

static void hex(const char *s, uint8_t *out)
{
	while (s[0] && s[1]) {
		unsigned int v;

		sscanf(s, "%2x", &v);
		*out++ = (uint8_t)v;
		s += 2;
	}
}

static void test_crypto(void)
{
	uint8_t key[131], out[42], want[42], a_priv[32], a_pub[32], b_priv[32],
		b_pub[32], s1[32], s2[32], sig[64], pub[32], x[32] = { 7 }, y[32];
	struct proto_keys k1, k2;
	EVP_PKEY *ed;

	/* RFC 4231 test case 2 */
	proto_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, out);
	hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want);
	TAP_CHECK(!memcmp(out, want, 32), "HMAC-SHA256 RFC 4231 case 2");
	/* RFC 4231 test case 6: key longer than the block */
	memset(key, 0xaa, sizeof(key));
	proto_hmac(key, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54, out);
	hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", want);
	TAP_CHECK(!memcmp(out, want, 32), "HMAC-SHA256 RFC 4231 case 6");
	/* RFC 5869 test case 1 */
	{
		uint8_t ikm[22], salt[13], info[10];

		memset(ikm, 0x0b, sizeof(ikm));
		hex("000102030405060708090a0b0c", salt);
		hex("f0f1f2f3f4f5f6f7f8f9", info);
		proto_hkdf(salt, 13, ikm, 22, info, 10, out, 42);
		hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		    "34007208d5b887185865", want);
		TAP_CHECK(!memcmp(out, want, 42), "HKDF-SHA256 RFC 5869 case 1");
	}
	proto_x25519_keypair(a_priv, a_pub);
	proto_x25519_keypair(b_priv, b_pub);
	TAP_CHECK(!proto_x25519_shared(a_priv, b_pub, s1) &&
		  !proto_x25519_shared(b_priv, a_pub, s2) && !memcmp(s1, s2, 32),
		  "X25519 agreement");
	memset(b_pub, 0, 32);
	TAP_CHECK(proto_x25519_shared(a_priv, b_pub, s2) != 0, "X25519 zero key refused");
	proto_session_keys(s1, out, 5, &k1);
	proto_session_keys(s1, out, 5, &k2);
	TAP_CHECK(!memcmp(&k1, &k2, sizeof(k1)) && memcmp(k1.n2s, k1.s2n, 32),
		  "session keys deterministic and directional");
	proto_session_keys(s1, out, 6, &k2);
	TAP_CHECK(memcmp(&k1, &k2, sizeof(k1)), "session keys bound to node id");
	proto_seal(k1.seal, 3, PROTO_T_RELAY_SECRET, x, y);
	TAP_CHECK(memcmp(x, y, 32), "seal changes the secret");
	proto_seal(k1.seal, 3, PROTO_T_RELAY_SECRET, y, y);
	TAP_CHECK(!memcmp(x, y, 32), "seal is its own inverse");
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	TAP_CHECK(ed && !proto_ed25519_public(ed, pub) &&
		  !proto_ed25519_sign(ed, (const uint8_t *)"msg", 3, sig),
		  "Ed25519 key and signature");
	TAP_CHECK(proto_ed25519_verify(pub, (const uint8_t *)"msg", 3, sig), "Ed25519 verifies");
	sig[5] ^= 1;
	TAP_CHECK(!proto_ed25519_verify(pub, (const uint8_t *)"msg", 3, sig), "Ed25519 bad signature");
	EVP_PKEY_free(ed);
	proto_bind_secret(x, 1, 0, 2, 3, s1);
	proto_bind_secret(x, 1, 1, 2, 3, s2);
	TAP_CHECK(memcmp(s1, s2, 32), "bind secrets differ per end");
}

static void test_ts(void)
{
	int64_t now = 1700000000000LL;

	TAP_CHECK(proto_ts_fresh(now + 30000, now, 30000) &&
		  proto_ts_fresh(now - 30000, now, 30000), "timestamps at the window edges");
	TAP_CHECK(!proto_ts_fresh(now + 30001, now, 30000) &&
		  !proto_ts_fresh(now - 30001, now, 30000), "timestamps past the edges");
	/* Found by fuzz_nmsclient: ts - now overflowed for hostile values. */
	TAP_CHECK(!proto_ts_fresh(INT64_MIN, now, 30000) &&
		  !proto_ts_fresh(INT64_MAX, now, 30000), "extreme timestamps, no overflow");
}

static void test_probe(void)
{
	uint8_t p[PROTO_PROBE_LEN], key[32] = { 3 }, kind;
	uint32_t snd, rcv;
	uint64_t nonce;
	size_t i;
	int accepted = 0;

	TAP_CHECK(proto_probe_build(p, PROTO_HS_PROBE, 7, 0, 99, 1234, key) == 60,
		  "probe is 60 bytes");
	TAP_CHECK(proto_probe_check(p, sizeof(p), 99, key, &kind, &snd, &rcv, &nonce) &&
		  kind == PROTO_HS_PROBE && snd == 7 && rcv == 0 && nonce == 1234,
		  "probe verifies and decodes");
	TAP_CHECK(!proto_probe_check(p, sizeof(p), 98, key, &kind, &snd, &rcv, &nonce),
		  "probe of another punch refused");
	key[0] ^= 1;
	TAP_CHECK(!proto_probe_check(p, sizeof(p), 99, key, &kind, &snd, &rcv, &nonce),
		  "probe under another secret refused");
	key[0] ^= 1;
	for (i = 0; i < sizeof(p); i++) {
		p[i] ^= 0x40;
		accepted += proto_probe_check(p, sizeof(p), 99, key, &kind, &snd, &rcv, &nonce);
		p[i] ^= 0x40;
	}
	TAP_CHECK(accepted == 0, "every corrupted probe refused");
}

static void test_ep(void)
{
	struct sockaddr_in6 m = { .sin6_family = AF_INET6, .sin6_port = htons(9) };
	struct sockaddr_storage ss;
	struct proto_ep e, f = ep6("::1", 5);

	inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
	TAP_CHECK(!proto_ep_from_sa(&e, (struct sockaddr *)&m) && e.family == 4 &&
		  e.port == 9 && e.v4.s_addr == htonl(0x7f000001), "v4-mapped source is IPv4");
	TAP_CHECK(proto_ep_to_sa(&f, &ss) == sizeof(struct sockaddr_in6) &&
		  !proto_ep_from_sa(&e, (struct sockaddr *)&ss) && proto_ep_equal(&e, &f),
		  "endpoint <-> sockaddr");
}

int main(void)
{
	test_roundtrip();
	test_truncation_and_corruption();
	test_hostile();
	test_writer_overflow();
	test_errors();
	test_replay();
	test_rc();
	test_crypto();
	test_ts();
	test_probe();
	test_ep();
	return tap_done();
}
