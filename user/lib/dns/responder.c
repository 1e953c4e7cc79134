// SPDX-License-Identifier: MIT
/*
 * The responder's decisions (table in responder.h). Cheap checks on the
 * raw header come first (length, QR, opcode, question count), so a flood
 * of junk never reaches the parser; ldns parses what is left and writes
 * every response, so no DNS wire format is hand-built here.
 */
#include "responder.h"

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_HDR_LEN 12
/* RFC 1035's promise to askers without EDNS. */
#define DNS_UDP_CLASSIC 512
/* Smallest udp_max accepted: a header, a short question and an OPT. */
#define DNS_UDP_MAX_FLOOR 64

struct dns_responder {
	const struct dns_names *names;
	ldns_rdf *zone;		/* the domain as a dname */
	ldns_rr *soa;		/* the zone's SOA, owner = zone */
	uint16_t udp_max;
	uint32_t negative_ttl;
};

struct dns_responder *dns_responder_new(const struct dns_responder_cfg *cfg,
					const struct dns_names *names,
					char *err, size_t errlen)
{
	char zone[DNS_NAME_TEXT_MAX + 1], soa[4 * DNS_NAME_TEXT_MAX];
	struct dns_responder *r;

	if (!cfg->domain || dns_name_normalize(cfg->domain, zone) < 0) {
		snprintf(err, errlen, "domain \"%s\": not a DNS name",
			 cfg->domain ? cfg->domain : "");
		return NULL;
	}
	if (cfg->udp_max && cfg->udp_max < DNS_UDP_MAX_FLOOR) {
		snprintf(err, errlen, "udp_max %u: below %u", cfg->udp_max,
			 DNS_UDP_MAX_FLOOR);
		return NULL;
	}
	if (cfg->negative_ttl > INT32_MAX) {
		snprintf(err, errlen, "negative_ttl %u: above 2^31-1", cfg->negative_ttl);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->names = names;
	r->udp_max = cfg->udp_max ? cfg->udp_max : DNS_UDP_MAX_DEFAULT;
	r->negative_ttl = cfg->negative_ttl;
	/*
	 * The SOA exists for negative caching (RFC 2308): its TTL and
	 * MINIMUM are the negative TTL. Nobody transfers this zone, so the
	 * serial and the timers are nominal.
	 */
	snprintf(soa, sizeof(soa), "%s. %u IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 %u",
		 zone, cfg->negative_ttl, zone, zone, cfg->negative_ttl);
	r->zone = ldns_dname_new_frm_str(zone);
	if (!r->zone || ldns_rr_new_frm_str(&r->soa, soa, 0, NULL, NULL) != LDNS_STATUS_OK) {
		snprintf(err, errlen, "domain \"%s\": no SOA can be made for it (too long?)",
			 cfg->domain);
		dns_responder_free(r);
		return NULL;
	}
	return r;
}

void dns_responder_free(struct dns_responder *r)
{
	if (!r)
		return;
	if (r->zone)
		ldns_rdf_deep_free(r->zone);
	if (r->soa)
		ldns_rr_free(r->soa);
	free(r);
}

const char *dns_rcode_name(unsigned rcode)
{
	static const char *const names[DNS_RCODE_COUNT] = {
		"noerror", "formerr", "servfail", "nxdomain", "notimp",
		"refused", "yxdomain", "yxrrset", "nxrrset", "notauth",
		"notzone", "rcode11", "rcode12", "rcode13", "rcode14",
		"rcode15", "badvers",
	};
	return rcode < DNS_RCODE_COUNT ? names[rcode] : "other";
}

/*
 * The table key of a parsed name: its labels as text. -1 when a label
 * holds a byte no table name can hold ('.', spaces, controls), which
 * would otherwise make "a.b" as one label look like two.
 */
static int name_key(const ldns_rdf *dname, char *out)
{
	const uint8_t *d = ldns_rdf_data(dname);
	size_t size = ldns_rdf_size(dname), pos = 0, o = 0;
	char text[DNS_NAME_TEXT_MAX + 2];

	while (pos < size && d[pos] != 0) {
		size_t len = d[pos++];

		if (pos + len > size || o + len + 1 > sizeof(text) - 1)
			return -1;
		if (o)
			text[o++] = '.';
		for (size_t i = 0; i < len; i++) {
			uint8_t c = d[pos + i];

			if (c <= ' ' || c >= 0x7f || c == '.')
				return -1;
			text[o++] = (char)c;
		}
		pos += len;
	}
	text[o] = '\0';
	return dns_name_normalize(text, out);
}

/* An empty response to the header of q: same id, opcode, RD and CD. */
static ldns_pkt *reply_new(const uint8_t *q)
{
	ldns_pkt *p = ldns_pkt_new();

	if (!p)
		return NULL;
	ldns_pkt_set_id(p, (uint16_t)(q[0] << 8 | q[1]));
	ldns_pkt_set_opcode(p, (ldns_pkt_opcode)((q[2] >> 3) & 0xf));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rd(p, q[2] & 0x01);
	ldns_pkt_set_cd(p, q[3] & 0x10);
	return p;
}

static bool push_addr(ldns_pkt *p, const ldns_rdf *owner, ldns_rr_type type,
		      const void *addr, size_t len, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *owner_copy = ldns_rdf_clone(owner);
	ldns_rdf *data = ldns_rdf_new_frm_data(type == LDNS_RR_TYPE_A ? LDNS_RDF_TYPE_A :
					       LDNS_RDF_TYPE_AAAA, len, addr);

	if (!rr || !owner_copy || !data)
		goto fail;
	ldns_rr_set_owner(rr, owner_copy);
	owner_copy = NULL;
	ldns_rr_set_type(rr, type);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	if (!ldns_rr_push_rdf(rr, data))
		goto fail;
	data = NULL;
	if (!ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr))
		goto fail;
	return true;
fail:
	if (rr)
		ldns_rr_free(rr);
	if (owner_copy)
		ldns_rdf_deep_free(owner_copy);
	if (data)
		ldns_rdf_deep_free(data);
	return false;
}

static bool push_soa(const struct dns_responder *r, ldns_pkt *p, ldns_pkt_section sec)
{
	ldns_rr *soa = ldns_rr_clone(r->soa);

	if (soa && ldns_pkt_push_rr(p, sec, soa))
		return true;
	if (soa)
		ldns_rr_free(soa);
	return false;
}

/*
 * The answer to a question inside the zone, into p (AA and rcode set).
 * Returns false on OOM; sets *miss when the name is unknown and misses
 * are wanted.
 */
static bool answer_in_zone(const struct dns_responder *r, ldns_pkt *p,
			   const ldns_rdf *qname, ldns_rr_type qtype,
			   unsigned flags, struct dns_result *res)
{
	char key[DNS_NAME_TEXT_MAX + 1];
	bool apex = ldns_dname_compare(qname, r->zone) == 0;
	bool known = name_key(qname, key) == 0;
	const struct dns_name_entry *e = known ? dns_names_find(r->names, key) : NULL;
	bool any = qtype == LDNS_RR_TYPE_ANY;

	ldns_pkt_set_aa(p, true);
	if (!apex && !e) {
		if (known && (flags & DNS_RESPOND_MAY_MISS)) {
			res->verdict = DNS_MISS;
			memcpy(res->miss_name, key, sizeof(key));
			return true;
		}
		ldns_pkt_set_rcode(p, LDNS_RCODE_NXDOMAIN);
		return push_soa(r, p, LDNS_SECTION_AUTHORITY);
	}
	if (apex && (qtype == LDNS_RR_TYPE_SOA || any) && !push_soa(r, p, LDNS_SECTION_ANSWER))
		return false;
	if (e && e->has4 && (qtype == LDNS_RR_TYPE_A || any) &&
	    !push_addr(p, qname, LDNS_RR_TYPE_A, &e->vip4, 4, e->ttl))
		return false;
	if (e && e->has6 && (qtype == LDNS_RR_TYPE_AAAA || any) &&
	    !push_addr(p, qname, LDNS_RR_TYPE_AAAA, &e->vip6, 16, e->ttl))
		return false;
	if (ldns_pkt_ancount(p) == 0)	/* NODATA */
		return push_soa(r, p, LDNS_SECTION_AUTHORITY);
	return true;
}

/*
 * The response to a parsed query with at least one question: p holds
 * the header and the echoed question. Returns false on OOM.
 */
static bool answer(const struct dns_responder *r, const ldns_pkt *query,
		   ldns_pkt *p, unsigned flags, struct dns_result *res)
{
	const ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	const ldns_rdf *qname = ldns_rr_owner(question);
	ldns_rr_type qtype = ldns_rr_get_type(question);
	ldns_rr_class qclass = ldns_rr_get_class(question);

	if (ldns_pkt_edns(query) && ldns_pkt_edns_version(query) != 0) {
		/* RFC 6891 6.1.3: BADVERS, upper bits in the OPT record. */
		ldns_pkt_set_edns_extended_rcode(p, DNS_RCODE_BADVERS >> 4);
		ldns_pkt_set_rcode(p, DNS_RCODE_BADVERS & 0xf);
		return true;
	}
	if (flags & DNS_RESPOND_SERVFAIL) {
		ldns_pkt_set_rcode(p, LDNS_RCODE_SERVFAIL);
		return true;
	}
	if ((qclass != LDNS_RR_CLASS_IN && qclass != LDNS_RR_CLASS_ANY) ||
	    !qname || (ldns_dname_compare(qname, r->zone) != 0 &&
		       !ldns_dname_is_subdomain(qname, r->zone)) ||
	    qtype == LDNS_RR_TYPE_AXFR || qtype == LDNS_RR_TYPE_IXFR) {
		ldns_pkt_set_rcode(p, LDNS_RCODE_REFUSED);
		return true;
	}
	return answer_in_zone(r, p, qname, qtype, flags, res);
}

/* The rcode p will carry, extended bits included. */
static unsigned pkt_rcode(const ldns_pkt *p)
{
	return (unsigned)ldns_pkt_edns_extended_rcode(p) << 4 | ldns_pkt_get_rcode(p);
}

/*
 * Writes p into out within limit bytes. A response that does not fit
 * loses its answer, authority and additional records and gets TC; one
 * that does not fit even then is sent as a bare header with TC.
 */
static bool finish(ldns_pkt *p, size_t limit, uint8_t *out, struct dns_result *res)
{
	uint8_t *wire = NULL;
	size_t len = 0;

	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK)
		return false;
	if (len > limit) {
		free(wire);
		wire = NULL;
		res->truncated = true;
		ldns_pkt_set_tc(p, true);
		ldns_rr_list_deep_free(ldns_pkt_answer(p));
		ldns_rr_list_deep_free(ldns_pkt_authority(p));
		ldns_rr_list_deep_free(ldns_pkt_additional(p));
		ldns_pkt_set_answer(p, ldns_rr_list_new());
		ldns_pkt_set_authority(p, ldns_rr_list_new());
		ldns_pkt_set_additional(p, ldns_rr_list_new());
		ldns_pkt_set_ancount(p, 0);
		ldns_pkt_set_nscount(p, 0);
		ldns_pkt_set_arcount(p, 0);
		if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK)
			return false;
		if (len > limit) {
			/* header only: QDCOUNT 0, ARCOUNT 0 */
			len = DNS_HDR_LEN;
			memset(wire + 4, 0, DNS_HDR_LEN - 4);
		}
	}
	memcpy(out, wire, len);
	free(wire);
	res->verdict = DNS_REPLY;
	res->len = len;
	res->rcode = pkt_rcode(p);
	return true;
}

/* The largest response the asker takes over this transport. */
static size_t response_limit(const struct dns_responder *r, const ldns_pkt *query,
			     enum dns_transport transport)
{
	size_t limit = DNS_UDP_CLASSIC;

	if (transport == DNS_TCP)
		return DNS_MSG_MAX;
	if (query && ldns_pkt_edns(query) && ldns_pkt_edns_udp_size(query) > limit)
		limit = ldns_pkt_edns_udp_size(query);
	return limit < r->udp_max ? limit : r->udp_max;
}

enum dns_verdict dns_respond(struct dns_responder *r, const uint8_t *q,
			     size_t qlen, enum dns_transport transport,
			     unsigned flags, uint8_t *out,
			     struct dns_result *res)
{
	ldns_pkt *query = NULL, *p = NULL;
	unsigned opcode;
	bool ok = false;

	memset(res, 0, sizeof(*res));
	res->verdict = DNS_DROP;
	if (qlen < DNS_HDR_LEN || (q[2] & 0x80)) {
		/* not even a header, or a response: answering could loop */
		res->malformed = true;
		return DNS_DROP;
	}
	p = reply_new(q);
	if (!p)
		return DNS_DROP;
	opcode = (q[2] >> 3) & 0xf;
	if (opcode != LDNS_PACKET_QUERY) {
		ldns_pkt_set_rcode(p, LDNS_RCODE_NOTIMPL);
		ok = finish(p, response_limit(r, NULL, transport), out, res);
		goto out;
	}
	if ((q[4] == 0 && q[5] == 0) ||
	    ldns_wire2pkt(&query, q, qlen) != LDNS_STATUS_OK ||
	    ldns_rr_list_rr_count(ldns_pkt_question(query)) == 0) {
		res->malformed = true;
		ldns_pkt_set_rcode(p, LDNS_RCODE_FORMERR);
		ok = finish(p, response_limit(r, NULL, transport), out, res);
		goto out;
	}
	{
		ldns_rr *qcopy = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(query), 0));

		if (!qcopy || !ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, qcopy)) {
			if (qcopy)
				ldns_rr_free(qcopy);
			goto out;
		}
	}
	if (ldns_pkt_edns(query))
		ldns_pkt_set_edns_udp_size(p, r->udp_max > DNS_UDP_CLASSIC ?
					   r->udp_max : DNS_UDP_CLASSIC);
	if (!answer(r, query, p, flags, res))
		goto out;
	if (res->verdict == DNS_MISS) {
		ok = true;
		goto out;
	}
	ok = finish(p, response_limit(r, query, transport), out, res);
out:
	if (!ok)
		res->verdict = DNS_DROP;	/* out of memory: the asker retries */
	if (query)
		ldns_pkt_free(query);
	ldns_pkt_free(p);
	return res->verdict;
}
