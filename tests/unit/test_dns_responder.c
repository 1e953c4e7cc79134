// SPDX-License-Identifier: MIT
/*
 * The DNS responder (user/lib/dns/responder.c) on crafted wire messages:
 * queries are built with ldns, run through dns_respond() and the answers
 * parsed back with ldns, so the checks read the message as any resolver
 * would. Hand-made bytes cover what ldns would not build (responses,
 * short and broken messages, several questions).
 */
#include "dns/responder.h"
#include "tap.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

static struct dns_names *names;
static struct dns_responder *resp;
static uint8_t *out;
static struct dns_result res;

/* Query wire for name/type/class; edns_size 0: no OPT record. */
static size_t mkquery(uint8_t **wire, const char *name, ldns_rr_type type,
		      ldns_rr_class cls, uint16_t edns_size, uint8_t edns_version)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, cls, LDNS_RD);
	size_t len = 0;

	ldns_pkt_set_id(p, 0xbeef);
	if (edns_size) {
		ldns_pkt_set_edns_udp_size(p, edns_size);
		ldns_pkt_set_edns_version(p, edns_version);
	}
	if (ldns_pkt2wire(wire, p, &len) != LDNS_STATUS_OK)
		abort();
	ldns_pkt_free(p);
	return len;
}

/* dns_respond on raw bytes; returns the parsed reply or NULL. */
static ldns_pkt *ask_raw(struct dns_responder *r, const uint8_t *q, size_t len,
			 enum dns_transport tr, unsigned flags)
{
	ldns_pkt *reply = NULL;

	if (dns_respond(r, q, len, tr, flags, out, &res) != DNS_REPLY)
		return NULL;
	if (ldns_wire2pkt(&reply, out, res.len) != LDNS_STATUS_OK)
		return NULL;
	return reply;
}

static ldns_pkt *ask(const char *name, ldns_rr_type type, ldns_rr_class cls,
		     uint16_t edns, enum dns_transport tr, unsigned flags)
{
	uint8_t *q;
	size_t len = mkquery(&q, name, type, cls, edns, 0);
	ldns_pkt *reply = ask_raw(resp, q, len, tr, flags);

	free(q);
	return reply;
}

static bool is_soa_auth(const ldns_pkt *p, uint32_t ttl)
{
	ldns_rr *soa;

	if (ldns_pkt_nscount(p) != 1)
		return false;
	soa = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	return ldns_rr_get_type(soa) == LDNS_RR_TYPE_SOA && ldns_rr_ttl(soa) == ttl;
}

/* The text of answer i ("a.cyph.test.\t60\tIN\tA\t10.77.0.5\n"), freed by caller. */
static char *answer_str(const ldns_pkt *p, size_t i)
{
	return ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), i));
}

static bool answer_is(const ldns_pkt *p, size_t i, const char *want)
{
	char *s = answer_str(p, i);
	bool ok = s && strcmp(s, want) == 0;

	if (!ok)
		printf("# answer %zu: %s# want: %s", i, s ? s : "(none)\n", want);
	free(s);
	return ok;
}

static void test_answers(void)
{
	ldns_pkt *p;

	p = ask("Alice.CYPH.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_qr(p) &&
		  ldns_pkt_aa(p) && ldns_pkt_rd(p) && !ldns_pkt_ra(p) && ldns_pkt_id(p) == 0xbeef &&
		  ldns_pkt_ancount(p) == 1 && ldns_pkt_qdcount(p) == 1 &&
		  answer_is(p, 0, "Alice.CYPH.test.\t60\tIN\tA\t10.77.0.5\n") && res.rcode == 0,
		  "A: the VIP, AA, id and RD echoed, the asker's case kept, TTL 60");
	TAP_CHECK(p && !ldns_pkt_edns(p), "no OPT record for a query without EDNS");
	ldns_pkt_free(p);

	p = ask("alice.cyph.test.", LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 1 &&
		  answer_is(p, 0, "alice.cyph.test.\t60\tIN\tAAAA\tfd00:77::5\n"), "AAAA: the VIP");
	ldns_pkt_free(p);

	p = ask("alice.cyph.test.", LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_IN, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_ancount(p) == 2, "ANY: A and AAAA");
	ldns_pkt_free(p);

	p = ask("v6only.cyph.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_aa(p) &&
		  ldns_pkt_ancount(p) == 0 && is_soa_auth(p, 30),
		  "A of a name with only an IPv6 VIP: NODATA, SOA in authority");
	ldns_pkt_free(p);

	p = ask("alice.cyph.test.", LDNS_RR_TYPE_MX, LDNS_RR_CLASS_IN, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 0 &&
		  is_soa_auth(p, 30), "MX of a known name: NODATA");
	ldns_pkt_free(p);

	p = ask("nobody.cyph.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN && ldns_pkt_aa(p) &&
		  ldns_pkt_ancount(p) == 0 && is_soa_auth(p, 30) && res.rcode == 3,
		  "unknown name in the domain: NXDOMAIN with the SOA (TTL = negative TTL)");
	ldns_pkt_free(p);

	p = ask("x.alice.cyph.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN, "a name below a known one: NXDOMAIN");
	ldns_pkt_free(p);

	p = ask("cyph.test.", LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 1 &&
		  ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)) == LDNS_RR_TYPE_SOA,
		  "the domain's SOA");
	ldns_pkt_free(p);

	p = ask("CYPH.TEST.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_ancount(p) == 0 &&
		  is_soa_auth(p, 30), "A of the domain itself: NODATA");
	ldns_pkt_free(p);
}

static void test_refused(void)
{
	ldns_pkt *p;
	const char *outside[] = { "example.com.", "evilcyph.test.", "test.", "." };

	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		p = ask(outside[i], LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, DNS_UDP, DNS_RESPOND_MAY_MISS);
		TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_REFUSED && !ldns_pkt_aa(p) &&
			  ldns_pkt_ancount(p) == 0 && ldns_pkt_qdcount(p) == 1 && res.rcode == 5,
			  "%s (outside the domain): REFUSED", outside[i]);
		ldns_pkt_free(p);
	}
	p = ask("alice.cyph.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, 0, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_REFUSED, "class CH: REFUSED");
	ldns_pkt_free(p);
	p = ask("cyph.test.", LDNS_RR_TYPE_AXFR, LDNS_RR_CLASS_IN, 0, DNS_TCP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_REFUSED, "AXFR: REFUSED");
	ldns_pkt_free(p);
}

static void test_miss_and_servfail(void)
{
	ldns_pkt *p;
	uint8_t *q;
	size_t len;

	len = mkquery(&q, "NewPeer.cyph.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, 0);
	TAP_CHECK(dns_respond(resp, q, len, DNS_UDP, DNS_RESPOND_MAY_MISS, out, &res) == DNS_MISS &&
		  strcmp(res.miss_name, "newpeer.cyph.test") == 0,
		  "unknown name with misses wanted: DNS_MISS, name lower-cased");
	TAP_CHECK(dns_respond(resp, q, len, DNS_UDP, DNS_RESPOND_MAY_MISS | DNS_RESPOND_SERVFAIL,
			      out, &res) == DNS_REPLY && res.rcode == LDNS_RCODE_SERVFAIL,
		  "the same query after a lookup timed out: SERVFAIL");
	p = ask_raw(resp, q, len, DNS_UDP, DNS_RESPOND_SERVFAIL);
	TAP_CHECK(p && ldns_pkt_qdcount(p) == 1 && ldns_pkt_id(p) == 0xbeef && ldns_pkt_ancount(p) == 0,
		  "SERVFAIL echoes id and question");
	ldns_pkt_free(p);
	struct in_addr v4;
	inet_pton(AF_INET, "10.77.0.9", &v4);
	dns_names_set(names, "newpeer.cyph.test", &v4, NULL, 5);
	p = ask_raw(resp, q, len, DNS_UDP, DNS_RESPOND_MAY_MISS);
	TAP_CHECK(p && ldns_pkt_ancount(p) == 1 &&
		  answer_is(p, 0, "NewPeer.cyph.test.\t5\tIN\tA\t10.77.0.9\n"),
		  "after the caller adds the name, the same query is answered");
	ldns_pkt_free(p);
	dns_names_remove(names, "newpeer.cyph.test");
	p = ask_raw(resp, q, len, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN, "removed again: NXDOMAIN");
	ldns_pkt_free(p);
	free(q);

	p = ask("example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, DNS_UDP, DNS_RESPOND_MAY_MISS);
	TAP_CHECK(p && res.verdict == DNS_REPLY && ldns_pkt_get_rcode(p) == LDNS_RCODE_REFUSED,
		  "misses are only for names inside the domain");
	ldns_pkt_free(p);
}

static void test_edns_and_tc(void)
{
	char err[200];
	struct dns_responder_cfg cfg = { .domain = "cyph.test", .negative_ttl = 30, .udp_max = 64 };
	struct dns_responder *small = dns_responder_new(&cfg, names, err, sizeof(err));
	ldns_pkt *p;
	uint8_t *q;
	size_t len;

	p = ask("alice.cyph.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 4096, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_edns(p) && ldns_pkt_edns_udp_size(p) == DNS_UDP_MAX_DEFAULT &&
		  ldns_pkt_edns_version(p) == 0 && ldns_pkt_ancount(p) == 1,
		  "EDNS query: OPT back advertising %d", DNS_UDP_MAX_DEFAULT);
	ldns_pkt_free(p);

	len = mkquery(&q, "alice.cyph.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 1232, 1);
	p = ask_raw(resp, q, len, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_edns(p) && ldns_pkt_edns_extended_rcode(p) == 1 &&
		  ldns_pkt_get_rcode(p) == 0 && res.rcode == DNS_RCODE_BADVERS && ldns_pkt_ancount(p) == 0,
		  "EDNS version 1: BADVERS");
	ldns_pkt_free(p);
	free(q);

	TAP_CHECK(small != NULL, "responder with udp_max 64");
	len = mkquery(&q, "a-rather-long-label-to-fill.alice.cyph.test.", LDNS_RR_TYPE_A,
		      LDNS_RR_CLASS_IN, 0, 0);
	struct in_addr v4;
	inet_pton(AF_INET, "10.77.0.7", &v4);
	dns_names_set(names, "a-rather-long-label-to-fill.alice.cyph.test", &v4, NULL, 60);
	p = ask_raw(small, q, len, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_tc(p) && res.truncated && res.len <= 64 && ldns_pkt_ancount(p) == 0 &&
		  ldns_pkt_qdcount(p) == 1 && ldns_pkt_get_rcode(p) == 0,
		  "an answer over the UDP limit: TC, question only (%zu bytes)", res.len);
	ldns_pkt_free(p);
	p = ask_raw(small, q, len, DNS_TCP, 0);
	TAP_CHECK(p && !ldns_pkt_tc(p) && ldns_pkt_ancount(p) == 1, "the same over TCP: the whole answer");
	ldns_pkt_free(p);
	free(q);

	/* a question too long for 64 bytes even alone: bare header with TC */
	len = mkquery(&q, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.cyph.test.",
		      LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, 0);
	p = ask_raw(small, q, len, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_tc(p) && res.len == 12 && ldns_pkt_qdcount(p) == 0,
		  "not even the question fits: a bare header with TC");
	ldns_pkt_free(p);
	free(q);
	dns_responder_free(small);

	/* 512 without EDNS: the default responder never exceeds it */
	len = mkquery(&q, "alice.cyph.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, 0);
	TAP_CHECK(dns_respond(resp, q, len, DNS_UDP, 0, out, &res) == DNS_REPLY && res.len <= 512 &&
		  !res.truncated, "a small answer is not truncated");
	free(q);
	cfg.udp_max = 10;
	TAP_CHECK(dns_responder_new(&cfg, names, err, sizeof(err)) == NULL, "udp_max 10 refused: %s", err);
	cfg.udp_max = 0;
	cfg.domain = "bad..domain";
	TAP_CHECK(dns_responder_new(&cfg, names, err, sizeof(err)) == NULL, "a bad domain refused: %s", err);
}

static void test_malformed(void)
{
	uint8_t *q, buf[600];
	size_t len;
	ldns_pkt *p;

	len = mkquery(&q, "alice.cyph.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, 0, 0);
	memcpy(buf, q, len);
	free(q);

	buf[2] |= 0x80;	/* QR: a response */
	TAP_CHECK(dns_respond(resp, buf, len, DNS_UDP, 0, out, &res) == DNS_DROP && res.malformed,
		  "a response is never answered");
	buf[2] &= 0x7f;
	TAP_CHECK(dns_respond(resp, buf, 11, DNS_UDP, 0, out, &res) == DNS_DROP && res.malformed,
		  "11 bytes: dropped");
	TAP_CHECK(dns_respond(resp, buf, 0, DNS_UDP, 0, out, &res) == DNS_DROP, "0 bytes: dropped");

	p = ask_raw(resp, buf, len - 3, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_FORMERR && ldns_pkt_id(p) == 0xbeef &&
		  res.malformed, "a truncated question: FORMERR with the id");
	ldns_pkt_free(p);

	uint8_t hdr[12] = { 0x12, 0x34, 0x01, 0x00 };	/* QDCOUNT 0 */
	p = ask_raw(resp, hdr, sizeof(hdr), DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_FORMERR && ldns_pkt_id(p) == 0x1234,
		  "no question: FORMERR");
	ldns_pkt_free(p);

	uint8_t notify[12] = { 0x12, 0x35, 4 << 3, 0x00, 0, 1 };
	p = ask_raw(resp, notify, sizeof(notify), DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOTIMPL &&
		  ldns_pkt_get_opcode(p) == LDNS_PACKET_NOTIFY, "opcode NOTIFY: NOTIMP");
	ldns_pkt_free(p);

	/* compression loop in the question name */
	uint8_t loop[] = { 0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	p = ask_raw(resp, loop, sizeof(loop), DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_FORMERR, "a compression loop: FORMERR");
	ldns_pkt_free(p);

	/* two questions: alice (known) then nobody; only the first counts */
	uint8_t two[100];
	size_t n = 0;
	const uint8_t head[] = { 0xab, 0xcd, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0 };
	const uint8_t q1[] = { 5, 'a', 'l', 'i', 'c', 'e', 4, 'c', 'y', 'p', 'h', 4, 't', 'e', 's', 't', 0,
			       0, 1, 0, 1 };
	const uint8_t q2[] = { 6, 'n', 'o', 'b', 'o', 'd', 'y', 0xc0, 18, 0, 1, 0, 1 };
	memcpy(two, head, sizeof(head));
	n = sizeof(head);
	memcpy(two + n, q1, sizeof(q1));
	n += sizeof(q1);
	memcpy(two + n, q2, sizeof(q2));
	n += sizeof(q2);
	p = ask_raw(resp, two, n, DNS_UDP, 0);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR && ldns_pkt_qdcount(p) == 1 &&
		  ldns_pkt_ancount(p) == 1, "two questions: only the first is answered and echoed");
	ldns_pkt_free(p);

	/* a label holding a '.' byte is not the two-label name it prints as */
	const uint8_t dot2[] = { 0, 9, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0,
				 5, 'a', 'l', '.', 'c', 'e', 4, 'c', 'y', 'p', 'h', 4, 't', 'e', 's', 't', 0,
				 0, 1, 0, 1 };
	dns_names_set(names, "al.ce.cyph.test", &(struct in_addr){ htonl(0x0a4d0001) }, NULL, 60);
	p = ask_raw(resp, dot2, sizeof(dot2), DNS_UDP, DNS_RESPOND_MAY_MISS);
	TAP_CHECK(p && ldns_pkt_get_rcode(p) == LDNS_RCODE_NXDOMAIN,
		  "the label \"al.ce\" does not match the name al.ce.cyph.test (and is no miss)");
	ldns_pkt_free(p);
}

int main(void)
{
	char err[200];
	struct dns_responder_cfg cfg = { .domain = "Cyph.Test.", .negative_ttl = 30 };
	struct in_addr v4;
	struct in6_addr v6;

	out = malloc(DNS_MSG_MAX);
	names = dns_names_new(64);
	inet_pton(AF_INET, "10.77.0.5", &v4);
	inet_pton(AF_INET6, "fd00:77::5", &v6);
	dns_names_set(names, "alice.cyph.test", &v4, &v6, 60);
	inet_pton(AF_INET6, "fd00:77::6", &v6);
	dns_names_set(names, "v6only.cyph.test", NULL, &v6, 60);
	resp = dns_responder_new(&cfg, names, err, sizeof(err));
	TAP_CHECK(resp != NULL, "responder for Cyph.Test. %s", resp ? "" : err);
	if (!resp)
		return tap_done();
	test_answers();
	test_refused();
	test_miss_and_servfail();
	test_edns_and_tc();
	test_malformed();
	dns_responder_free(resp);
	dns_names_free(names);
	free(out);
	return tap_done();
}
