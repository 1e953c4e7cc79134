/* SPDX-License-Identifier: MIT */
/*
 * The DNS responder for the CYPHONIC domain: one query message in, one
 * response message (or nothing) out. No I/O: server.h carries the
 * messages. ldns parses and writes the wire format.
 *
 * What it answers (the host's resolver sends it only names in the
 * domain, docs/dns.md, so nothing is forwarded):
 *
 *	name in the table, A / AAAA / ANY	the VIPs (AA set)
 *	name in the table, no such record	NOERROR, no answer, SOA in authority
 *	the domain itself			SOA for SOA/ANY, else as above
 *	other name inside the domain		NXDOMAIN, SOA in authority
 *						(or DNS_MISS, see below)
 *	name outside the domain, class not IN,
 *	zone transfers				REFUSED
 *	opcode not QUERY			NOTIMP
 *	no question, unparsable message		FORMERR
 *	EDNS version other than 0		BADVERS
 *	shorter than a header, or QR set	nothing (DNS_DROP): never
 *						answer a response
 *
 * Only the first question of a message is looked at and echoed. A query
 * with EDNS gets an OPT record back advertising our UDP size; a UDP
 * response longer than the asker can take (512 bytes without EDNS, its
 * EDNS size otherwise, never more than the responder's udp_max) is sent
 * as question only with TC set, so the asker retries over TCP.
 */
#ifndef CYPHONIC_DNS_RESPONDER_H
#define CYPHONIC_DNS_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"

/* Largest DNS message (TCP's 2-byte length). */
#define DNS_MSG_MAX 65535
/* Default UDP size we advertise and accept (the DNS flag day 2020 value). */
#define DNS_UDP_MAX_DEFAULT 1232
/* Rcodes as counted (BADVERS is an extended rcode, 16). */
#define DNS_RCODE_BADVERS 16
#define DNS_RCODE_COUNT 17

struct dns_responder_cfg {
	const char *domain;	/* "cyph.example", the zone we answer */
	uint32_t negative_ttl;	/* SOA TTL and MINIMUM: how long a "no" is cached */
	/*
	 * Largest UDP response, 0 for DNS_UDP_MAX_DEFAULT. RFC 1035 promises
	 * 512 bytes to every asker; values below 512 (at least 64) break
	 * that and exist only so tests can provoke truncation.
	 */
	uint16_t udp_max;
};

enum dns_verdict {
	DNS_DROP,	/* send nothing */
	DNS_REPLY,	/* send out[0..len) */
	DNS_MISS,	/* name in the domain but not in the table: ask on */
};

enum dns_transport { DNS_UDP, DNS_TCP };

/* Flags of dns_respond(). */
enum {
	/* A name missing from the table gives DNS_MISS instead of NXDOMAIN. */
	DNS_RESPOND_MAY_MISS = 1u << 0,
	/* Answer SERVFAIL whatever the name (a lookup that timed out). */
	DNS_RESPOND_SERVFAIL = 1u << 1,
};

struct dns_result {
	enum dns_verdict verdict;
	size_t len;		/* DNS_REPLY: bytes in out */
	unsigned rcode;		/* DNS_REPLY: 0..DNS_RCODE_COUNT-1 */
	bool truncated;		/* DNS_REPLY: TC set */
	bool malformed;		/* dropped or FORMERR for the message's form */
	/* DNS_MISS: the name asked for, lower-case, no trailing dot. */
	char miss_name[DNS_NAME_TEXT_MAX + 1];
};

struct dns_responder;

/* NULL with err on a bad domain or OOM. The table stays the caller's. */
struct dns_responder *dns_responder_new(const struct dns_responder_cfg *cfg,
					const struct dns_names *names,
					char *err, size_t errlen);
void dns_responder_free(struct dns_responder *r);

/*
 * Answers the query q[0..qlen). out must hold DNS_MSG_MAX bytes (a TCP
 * answer may use them all; a UDP one stays within the limits above).
 * Fills *res and returns res->verdict.
 */
enum dns_verdict dns_respond(struct dns_responder *r, const uint8_t *q,
			     size_t qlen, enum dns_transport transport,
			     unsigned flags, uint8_t *out,
			     struct dns_result *res);

/* "NOERROR", "NXDOMAIN", ... (lower-case label values for metrics). */
const char *dns_rcode_name(unsigned rcode);

#endif
