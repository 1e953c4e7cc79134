// SPDX-License-Identifier: MIT
/*
 * Writes a seed corpus for the protocol fuzzers: one valid datagram of
 * every SIGNAL operation, RELAY_CTRL message and RELAY packet, built with
 * the real library code. DIR/raw/NAME holds the datagram as is (for the
 * parser fuzzers), DIR/sel/NAME the same behind the selector byte that the
 * engine fuzzers (fuzz_nms, fuzz_relay) read first.
 *
 *	proto_seeds DIR
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/cyphonic.h>
#include <openssl/evp.h>
#include "client/nmsclient.h"
#include "wire/proto_crypto.h"
#include "client/trsclient.h"

static const char *dir;

static void put1(const char *sub, const char *name, int selector,
		 const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return;
	}
	if (selector >= 0)
		fputc(selector, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

static void put(const char *name, int selector, const uint8_t *p, size_t n)
{
	put1("raw", name, -1, p, n);
	put1("sel", name, selector < 0 ? 0 : selector, p, n);
}

static size_t reply(uint8_t *out, uint8_t op, void (*fill)(struct proto_buf *))
{
	struct proto_hdr h = { .op = op, .auth = PROTO_AUTH_MAC, .node_id = 1,
			       .seq = 5, .ts_ms = 1700000000000LL };
	uint8_t key[32] = { 0 };
	struct proto_buf b;
	size_t len;

	proto_msg_begin(&b, out, 2048, &h);
	fill(&b);
	len = proto_msg_finish(&b);
	proto_mac_append(out, len, 2048, key);
	return len + PROTO_MAC_LEN;
}

static void f_ka_ack(struct proto_buf *b)
{
	struct proto_ep e = { .family = 4, .port = 4000 };

	proto_tlv_u64(b, PROTO_T_ECHO_SEQ, 101);
	proto_tlv_ep(b, PROTO_T_OBSERVED, &e);
}

static void f_route(struct proto_buf *b)
{
	struct proto_ep e = { .family = 6, .port = 7000 };
	uint8_t s[32] = { 0 };

	proto_tlv_u64(b, PROTO_T_ECHO_SEQ, 101);
	proto_tlv_u8(b, PROTO_T_MODE, PROTO_MODE_RELAY);
	proto_tlv_u64(b, PROTO_T_PEER_ID, 2);
	proto_tlv_str(b, PROTO_T_PEER_FQDN, "b.cyphonic.test");
	proto_tlv_ep(b, PROTO_T_RELAY_ENDPOINT, &e);
	proto_tlv_u32(b, PROTO_T_RELAY_SESSION, 9);
	proto_tlv_u8(b, PROTO_T_RELAY_END, 0);
	proto_tlv_u64(b, PROTO_T_RELAY_EXPIRY, 1700000600);
	proto_tlv_bytes(b, PROTO_T_RELAY_SECRET, s, 32);
}

static void f_punch(struct proto_buf *b)
{
	struct proto_ep e = { .family = 4, .port = 4000 };
	uint8_t s[32] = { 0 };

	proto_tlv_u64(b, PROTO_T_NOTIFY_ID, 77);
	proto_tlv_u8(b, PROTO_T_MODE, PROTO_MODE_PUNCH);
	proto_tlv_u64(b, PROTO_T_PEER_ID, 2);
	proto_tlv_ep(b, PROTO_T_PEER_ENDPOINT, &e);
	proto_tlv_u64(b, PROTO_T_PUNCH_ID, 3);
	proto_tlv_bytes(b, PROTO_T_PUNCH_SECRET, s, 32);
}

static void f_error(struct proto_buf *b)
{
	proto_tlv_u16(b, PROTO_T_ERROR_CODE, PROTO_E_NOT_FOUND);
	proto_tlv_u64(b, PROTO_T_ECHO_SEQ, 101);
	proto_tlv_str(b, PROTO_T_ERROR_TEXT, "target not registered");
}

/* The NMS's COOKIE (auth NONE) and a KEEPALIVE_ACK carrying a CHALLENGE. */
static size_t cookie_msg(uint8_t *out)
{
	struct proto_hdr h = { .op = PROTO_OP_COOKIE, .auth = PROTO_AUTH_NONE, .node_id = 1,
			       .seq = 6, .ts_ms = 1700000000000LL };
	uint8_t cookie[PROTO_COOKIE_LEN] = { 1, 2, 3 };
	struct proto_buf b;

	proto_msg_begin(&b, out, 2048, &h);
	proto_tlv_bytes(&b, PROTO_T_COOKIE, cookie, sizeof(cookie));
	proto_tlv_u64(&b, PROTO_T_ECHO_SEQ, 101);
	return proto_msg_finish(&b);
}

static void f_challenge(struct proto_buf *b)
{
	uint8_t ch[PROTO_CHALLENGE_LEN] = { 9, 8, 7 };

	f_ka_ack(b);
	proto_tlv_bytes(b, PROTO_T_CHALLENGE, ch, sizeof(ch));
}

int main(int argc, char **argv)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	uint8_t cert[64] = { 0, 0, 0, 0, 0, 0, 0, 1 }, buf[4096];
	struct in_addr v4 = { 0x0100000a };
	struct proto_ep self = { .family = 4, .port = 4000 };
	struct nmsc c;
	struct trsc t = { .session = 9, .end = 1, .node_id = 1, .expiry = 1700000600 };
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	proto_ed25519_public(k, cert + 8);
	nmsc_init(&c, 1, k, cert, sizeof(cert), 1700000000000LL);
	nmsc_set_location(&c, &self, 1, PROTO_NAT_CONE);
	n = nmsc_register(&c, buf, sizeof(buf), 1700000000000LL, NULL);
	put("signal-register", 0, buf, n);
	c.registered = true;
	n = nmsc_register(&c, buf, sizeof(buf), 1700000000000LL, NULL);
	put("signal-refresh", 0, buf, n);
	n = nmsc_keepalive(&c, buf, sizeof(buf), 1700000000000LL, NULL);
	put("signal-keepalive", 0, buf, n);
	n = nmsc_route(&c, buf, sizeof(buf), 1700000000000LL, "b.cyphonic.test", NULL, NULL,
		       PROTO_RF_PUNCH_FAILED, NULL);
	put("signal-route-fqdn", 1, buf, n);
	n = nmsc_route(&c, buf, sizeof(buf), 1700000000000LL, NULL, &v4, NULL, 0, NULL);
	put("signal-route-vip", 0, buf, n);
	n = nmsc_notify_ack(&c, buf, sizeof(buf), 1700000000000LL, 77);
	put("signal-notify-ack", 0, buf, n);
	n = nmsc_deregister(&c, buf, sizeof(buf), 1700000000000LL);
	put("signal-deregister", 0, buf, n);
	put("signal-keepalive-ack", -1, buf, reply(buf, PROTO_OP_KEEPALIVE_ACK, f_ka_ack));
	put("signal-route-resp", -1, buf, reply(buf, PROTO_OP_ROUTE_RESP, f_route));
	put("signal-notify", -1, buf, reply(buf, PROTO_OP_PEER_NOTIFY, f_punch));
	put("signal-error", -1, buf, reply(buf, PROTO_OP_ERROR, f_error));
	put("signal-cookie", -1, buf, cookie_msg(buf));
	put("signal-challenge", -1, buf, reply(buf, PROTO_OP_KEEPALIVE_ACK, f_challenge));
	n = trsc_bind(&t, buf, 1700000000000LL);
	put("relay-bind", 0, buf, n);
	n = trsc_close(&t, buf, 1700000000000LL);
	put("relay-close", 1, buf, n);
	{
		uint8_t data[32] = { CYPHONIC_MSG_DATA };

		n = trsc_wrap(&t, data, sizeof(data), buf, sizeof(buf));
		put("relay-data", 0, buf, n);
	}
	EVP_PKEY_free(k);
	return 0;
}
