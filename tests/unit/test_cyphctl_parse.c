/* SPDX-License-Identifier: MIT */
/* cyphctl's argument parsing: values, keyword tables, keys, endpoints. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/addr.h"
#include "runtime/hexkey.h"
#include "parse.h"
#include "tap.h"

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void test_numbers(void)
{
	uint32_t v = 7;
	uint8_t b = 9;

	TAP_CHECK(!parse_u32("0", &v) && v == 0, "u32 0");
	TAP_CHECK(!parse_u32("4294967295", &v) && v == UINT32_MAX, "u32 max");
	TAP_CHECK(parse_u32("4294967296", &v), "u32 overflow rejected");
	TAP_CHECK(parse_u32("-1", &v), "u32 negative rejected");
	TAP_CHECK(parse_u32(" 1", &v), "u32 leading space rejected");
	TAP_CHECK(parse_u32("1x", &v), "u32 trailing junk rejected");
	TAP_CHECK(parse_u32("", &v), "u32 empty rejected");
	TAP_CHECK(!parse_key_id("3", &b) && b == 3, "key id 3");
	TAP_CHECK(parse_key_id("4", &b), "key id 4 rejected");
	TAP_CHECK(!parse_cipher("aes-gcm", &b) && b == CYPHONIC_CIPHER_AES_GCM,
		  "cipher aes-gcm");
	TAP_CHECK(!parse_cipher("chacha20-poly1305", &b) &&
		  b == CYPHONIC_CIPHER_CHACHA20_POLY1305, "cipher chacha");
	TAP_CHECK(parse_cipher("aes", &b), "cipher aes rejected");
	TAP_CHECK(!parse_slot("next", &b) && b == CYPHONIC_KEY_SLOT_NEXT, "slot next");
	TAP_CHECK(parse_slot("2", &b), "slot 2 rejected");
	TAP_CHECK(!strcmp(cipher_name(9), "unknown"), "cipher name out of range");
	TAP_CHECK(!strcmp(slot_name(CYPHONIC_KEY_SLOT_PRIMARY), "primary"),
		  "slot name primary");
}

static void test_ports_addrs(void)
{
	struct in_addr a4;
	struct in6_addr a6;
	unsigned short p;

	TAP_CHECK(!addr_parse_port("0", &p) && p == 0, "port 0");
	TAP_CHECK(!addr_parse_port("65535", &p) && p == 65535, "port 65535");
	TAP_CHECK(addr_parse_port("65536", &p), "port 65536 rejected");
	TAP_CHECK(addr_parse_port("+5", &p), "port +5 rejected");
	TAP_CHECK(!addr_parse_ip4("10.0.0.1", &a4), "ip4 ok");
	TAP_CHECK(addr_parse_ip4("10.0.0.300", &a4), "ip4 octet 300 rejected");
	TAP_CHECK(addr_parse_ip4("10.1", &a4), "ip4 short form rejected");
	TAP_CHECK(addr_parse_ip4("fd00::1", &a4), "ip4 given ip6 rejected");
	TAP_CHECK(!addr_parse_ip6("fd00::1", &a6), "ip6 ok");
	TAP_CHECK(addr_parse_ip6("fd00:::1", &a6), "ip6 bad rejected");
	TAP_CHECK(addr_parse_ip6("10.0.0.1", &a6), "ip6 given ip4 rejected");
}

/* Parses s as an endpoint and prints it back; NULL if rejected. */
static const char *roundtrip(const char *s)
{
	static char buf[ADDR_ENDPOINT_STRLEN];
	struct sockaddr_storage ss;
	socklen_t len;

	if (addr_parse_endpoint(s, &ss, &len) ||
	    addr_format_endpoint((struct sockaddr *)&ss, len, buf, sizeof(buf)))
		return NULL;
	return buf;
}

static void test_endpoints(void)
{
	static const char *const good[] = {
		"192.0.2.1:51820", "[fd00::2]:51820", "[fe80::1%3]:1",
		"[::ffff:192.0.2.1]:65535",
	};
	static const char *const bad[] = {
		"192.0.2.1", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
		"fd00::2:51820", "[fd00::2]", "[fd00::2]51820", "[fd00::2]:",
		"[]:1", "192.0.2.300:1", ":1", "[192.0.2.1]:1", "host:1",
		"[fe80::1%]:1", "192.0.2.1:1x",
	};
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *r = roundtrip(good[i]);

		TAP_CHECK(r && !strcmp(r, good[i]), "endpoint %s round-trips (%s)",
			  good[i], r ? r : "rejected");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TAP_CHECK(addr_parse_endpoint(bad[i], &ss, &len),
			  "endpoint \"%s\" rejected", bad[i]);
	TAP_CHECK(!addr_parse_endpoint("192.0.2.1:4000", &ss, &len) &&
		  len == sizeof(struct sockaddr_in) &&
		  ((struct sockaddr_in *)&ss)->sin_port == htons(4000),
		  "endpoint v4 port in network order");
}

static void test_hexkey(void)
{
	uint8_t k[32], want[32];
	char hex[65];
	int i;

	for (i = 0; i < 32; i++)
		want[i] = (uint8_t)i;
	TAP_CHECK(!hexkey_decode(KEY_HEX, k, 32) && !memcmp(k, want, 32),
		  "hex key decodes");
	TAP_CHECK(!hexkey_decode("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
				 k, 32) && !memcmp(k, want, 32), "upper-case hex decodes");
	TAP_CHECK(hexkey_decode(KEY_HEX "00", k, 32), "66 chars rejected");
	TAP_CHECK(hexkey_decode("00", k, 32), "2 chars rejected");
	TAP_CHECK(hexkey_decode("g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", k, 32),
		  "non-hex rejected");
	hexkey_encode(want, 32, hex);
	TAP_CHECK(!strcmp(hex, KEY_HEX), "hex key encodes");
}

static char *write_tmp(const char *content, size_t len)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/cyphctl-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, content, len) != (ssize_t)len)
		return NULL;
	close(fd);
	return path;
}

static void test_key_files(void)
{
	static const struct {
		const char *content, *name;
		int want;
	} cases[] = {
		{ KEY_HEX, "no newline", 0 },
		{ KEY_HEX "\n", "one newline", 0 },
		{ KEY_HEX "\n\n", "two newlines", -EINVAL },
		{ KEY_HEX " ", "trailing space", -EINVAL },
		{ KEY_HEX "00", "66 chars", -EINVAL },
		{ "0001\n", "short", -EINVAL },
		{ "", "empty", -EINVAL },
	};
	uint8_t k[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = write_tmp(cases[i].content, strlen(cases[i].content));
		int r = p ? hexkey_read_file(p, k, 32) : -999;

		TAP_CHECK(r == cases[i].want, "key file %s: %d (want %d)",
			  cases[i].name, r, cases[i].want);
		if (p)
			unlink(p);
	}
	TAP_CHECK(hexkey_read_file("/nonexistent/key", k, 32) == -ENOENT,
		  "missing key file: -ENOENT");
}

struct targs {
	uint32_t index, relay;
	uint16_t port;
	struct in_addr l4;
	struct kw_endpoint ep;
	uint8_t tx[32], rx[32], slot;
};

static int run_kw(struct targs *t, struct kw *kw, int argc, const char **in)
{
	char *argv[16];
	int i, r;

	for (i = 0; i < argc; i++)
		argv[i] = strdup(in[i]);
	struct kw tab[] = {
		{ "index", KW_INDEX, &t->index, false },
		{ "relay", KW_RELAY, &t->relay, false },
		{ "listen-port", KW_PORT, &t->port, false },
		{ "local4", KW_IP4, &t->l4, false },
		{ "endpoint", KW_ENDPOINT, &t->ep, false },
		{ "tx-key", KW_KEY_HEX, t->tx, false },
		{ "rx-key-file", KW_KEY_FILE, t->rx, false },
		{ "slot", KW_SLOT, &t->slot, false },
		{ NULL, 0, NULL, false },
	};
	memset(t, 0, sizeof(*t));
	r = kw_parse("test", argc, argv, tab);
	if (kw)
		memcpy(kw, tab, sizeof(tab));
	/* The hex key must have been wiped from argv. */
	for (i = 0; i + 1 < argc; i++)
		if (!strcmp(in[i], "tx-key") && argv[i + 1][0] != '\0')
			r = 1000;
	for (i = 0; i < argc; i++)
		free(argv[i]);
	return r;
}

static void test_kw(void)
{
	struct targs t;
	struct kw kw[9];
	uint8_t want[32];
	char *path;
	int i;

	for (i = 0; i < 32; i++)
		want[i] = (uint8_t)i;
	path = write_tmp(KEY_HEX "\n", 65);
	{
		const char *a[] = { "index", "5", "relay", "none", "listen-port", "0",
				    "local4", "10.0.0.1", "endpoint", "[fd00::1]:9",
				    "tx-key", KEY_HEX, "rx-key-file", path,
				    "slot", "next" };
		TAP_CHECK(run_kw(&t, kw, 16, a) == 0, "full keyword list parses");
		TAP_CHECK(t.index == 5 && t.relay == 0 && t.port == 0 &&
			  t.l4.s_addr == htonl(0x0a000001) &&
			  t.ep.len == sizeof(struct sockaddr_in6) &&
			  !memcmp(t.tx, want, 32) && !memcmp(t.rx, want, 32) &&
			  t.slot == CYPHONIC_KEY_SLOT_NEXT, "values stored");
		TAP_CHECK(kw_seen(kw, "relay") && kw_seen(kw, "slot"), "seen flags set");
	}
	{
		const char *a[] = { "index", "5" };
		TAP_CHECK(run_kw(&t, kw, 2, a) == 0 && !kw_seen(kw, "relay"),
			  "absent keyword not seen");
	}
	{
		const char *a[] = { "index", "0" };
		TAP_CHECK(run_kw(&t, NULL, 2, a) == -1, "index 0 rejected");
	}
	{
		const char *a[] = { "index" };
		TAP_CHECK(run_kw(&t, NULL, 1, a) == -1, "missing value rejected");
	}
	{
		const char *a[] = { "index", "1", "index", "2" };
		TAP_CHECK(run_kw(&t, NULL, 4, a) == -1, "repeated keyword rejected");
	}
	{
		const char *a[] = { "bogus", "1" };
		TAP_CHECK(run_kw(&t, NULL, 2, a) == -1, "unknown keyword rejected");
	}
	{
		const char *a[] = { "tx-key", "abcd" };
		TAP_CHECK(run_kw(&t, NULL, 2, a) == -1, "short key rejected");
	}
	{
		const char *a[] = { "rx-key-file", "/nonexistent/key" };
		TAP_CHECK(run_kw(&t, NULL, 2, a) == -1, "missing key file rejected");
	}
	{
		const char *a[] = { "relay", "4294967295" };
		TAP_CHECK(run_kw(&t, NULL, 2, a) == 0 && t.relay == UINT32_MAX,
			  "relay max");
	}
	if (path)
		unlink(path);
}

int main(void)
{
	test_numbers();
	test_ports_addrs();
	test_endpoints();
	test_hexkey();
	test_key_files();
	test_kw();
	return tap_done();
}
