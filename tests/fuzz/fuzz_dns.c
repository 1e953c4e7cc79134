// SPDX-License-Identifier: MIT
/*
 * The DNS responder (user/lib/dns/responder.c): any message as a query.
 * The first byte picks the transport, the flags and the responder (the
 * normal one, or one with a 64-byte UDP limit so the truncation paths
 * run); the rest is the message. Every response must be a DNS message
 * ldns can parse again, a response (QR), with the query's id, and fit
 * the transport's limit.
 */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include "fuzz_common.h"
#include "dns/responder.h"

static struct dns_names *names;
static struct dns_responder *normal, *small;
static uint8_t *out;

static void setup(void)
{
	struct dns_responder_cfg cfg = { .domain = "cyph.test", .negative_ttl = 30 };
	struct in_addr v4 = { htonl(0x0a4d0005) };
	struct in6_addr v6 = { .s6_addr = { 0xfd, 0, 0, 0x77, [15] = 5 } };
	char err[128];

	names = dns_names_new(16);
	dns_names_set(names, "alice.cyph.test", &v4, &v6, 60);
	dns_names_set(names, "v4.cyph.test", &v4, NULL, 60);
	dns_names_set(names, "a-rather-long-label-to-fill-the-packet.cyph.test", &v4, &v6, 60);
	normal = dns_responder_new(&cfg, names, err, sizeof(err));
	cfg.udp_max = 64;
	small = dns_responder_new(&cfg, names, err, sizeof(err));
	out = malloc(DNS_MSG_MAX);
	if (!names || !normal || !small || !out)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_result res;
	enum dns_transport tr;
	struct dns_responder *r;
	unsigned flags = 0;
	ldns_pkt *p = NULL;

	if (!out)
		setup();
	if (size < 1)
		return 0;
	tr = (data[0] & 1) ? DNS_TCP : DNS_UDP;
	if (data[0] & 2)
		flags |= DNS_RESPOND_MAY_MISS;
	if (data[0] & 4)
		flags |= DNS_RESPOND_SERVFAIL;
	r = (data[0] & 8) ? small : normal;
	data++;
	size--;

	switch (dns_respond(r, data, size, tr, flags, out, &res)) {
	case DNS_DROP:
		break;
	case DNS_MISS:
		if (!(flags & DNS_RESPOND_MAY_MISS) || dns_names_find(names, res.miss_name))
			abort();
		break;
	case DNS_REPLY:
		if (res.len < 12 || res.len > (tr == DNS_TCP ? DNS_MSG_MAX : (r == small ? 64 : DNS_UDP_MAX_DEFAULT)))
			abort();
		if (!(out[2] & 0x80) || out[0] != data[0] || out[1] != data[1])
			abort();
		if (ldns_wire2pkt(&p, out, res.len) != LDNS_STATUS_OK)
			abort();
		ldns_pkt_free(p);
		break;
	}
	return 0;
}
