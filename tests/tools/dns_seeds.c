// SPDX-License-Identifier: MIT
/*
 * dns_seeds DIR: writes a seed corpus for tests/fuzz/fuzz_dns.c: DNS
 * queries built with ldns (names in, at and outside the fuzz target's
 * domain, several types, with and without EDNS), each behind the
 * target's selector byte, for a few selector values.
 */
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>

static void put(const char *dir, const char *name, ldns_rr_type type, int edns, int sel, int n)
{
	ldns_pkt *p = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, LDNS_RR_CLASS_IN, LDNS_RD);
	uint8_t *wire = NULL;
	size_t len = 0;
	char path[4096];
	FILE *f;

	ldns_pkt_set_id(p, (uint16_t)(0x1000 + n));
	if (edns)
		ldns_pkt_set_edns_udp_size(p, 1232);
	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK)
		exit(1);
	snprintf(path, sizeof(path), "%s/q%02d", dir, n);
	f = fopen(path, "wb");
	if (!f || fputc(sel, f) == EOF || fwrite(wire, 1, len, f) != len || fclose(f))
		exit(1);
	free(wire);
	ldns_pkt_free(p);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; ldns_rr_type type; } qs[] = {
		{ "alice.cyph.test.", LDNS_RR_TYPE_A },
		{ "Alice.Cyph.Test.", LDNS_RR_TYPE_AAAA },
		{ "v4.cyph.test.", LDNS_RR_TYPE_ANY },
		{ "cyph.test.", LDNS_RR_TYPE_SOA },
		{ "nobody.cyph.test.", LDNS_RR_TYPE_A },
		{ "example.com.", LDNS_RR_TYPE_A },
		{ "a-rather-long-label-to-fill-the-packet.cyph.test.", LDNS_RR_TYPE_AAAA },
		{ "alice.cyph.test.", LDNS_RR_TYPE_MX },
	};
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: dns_seeds DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		for (int edns = 0; edns < 2; edns++)
			put(argv[1], qs[i].name, qs[i].type, edns, (int)((i + edns) & 0xf), n++);
	return 0;
}
