// SPDX-License-Identifier: MIT
/*
 * The DNS name table (user/lib/dns/names.c): add, update, remove,
 * case-insensitive lookup, name validation, the entry bound.
 */
#include "dns/names.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct dns_names *t = dns_names_new(3);
	struct in_addr a4, b4;
	struct in6_addr a6;
	const struct dns_name_entry *e;
	char norm[DNS_NAME_TEXT_MAX + 1], longname[300];

	inet_pton(AF_INET, "10.77.0.5", &a4);
	inet_pton(AF_INET, "10.77.0.6", &b4);
	inet_pton(AF_INET6, "fd00:77::5", &a6);
	TAP_CHECK(t != NULL, "table of 3 created");
	TAP_CHECK(dns_names_new(0) == NULL, "a table of 0 entries is refused");

	TAP_CHECK(dns_names_set(t, "Alice.Cyph.Test.", &a4, &a6, 60) == 0, "add Alice.Cyph.Test.");
	e = dns_names_find(t, "alice.cyph.test");
	TAP_CHECK(e && strcmp(e->name, "alice.cyph.test") == 0 && e->has4 && e->has6 &&
		  e->vip4.s_addr == a4.s_addr && e->ttl == 60,
		  "found lower-case without the dot, with both VIPs and the TTL");
	TAP_CHECK(dns_names_find(t, "ALICE.cyph.TEST.") == e, "lookup ignores case and a trailing dot");
	TAP_CHECK(dns_names_set(t, "alice.cyph.test", &b4, NULL, 30) == 0 && dns_names_count(t) == 1,
		  "set again updates in place");
	e = dns_names_find(t, "alice.cyph.test");
	TAP_CHECK(e && e->has4 && !e->has6 && e->vip4.s_addr == b4.s_addr && e->ttl == 30,
		  "update replaced the addresses and TTL");

	errno = 0;
	TAP_CHECK(dns_names_set(t, "x.cyph.test", NULL, NULL, 60) < 0 && errno == EINVAL,
		  "an entry without any VIP is refused");
	TAP_CHECK(dns_names_set(t, "x.cyph.test", &a4, NULL, 0x80000000u) < 0 && errno == EINVAL,
		  "a TTL above 2^31-1 is refused");
	const char *bad[] = { "", ".", "a..b", ".a", "a b.test", "a\\.b.test", "\xc3\xa9.test",
			      "a.b/c" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TAP_CHECK(dns_names_set(t, bad[i], &a4, NULL, 60) < 0 && errno == EINVAL &&
			  dns_name_normalize(bad[i], norm) < 0, "bad name \"%s\" refused", bad[i]);
	memset(longname, 'a', 64);
	strcpy(longname + 64, ".test");
	TAP_CHECK(dns_name_normalize(longname, norm) < 0, "a 64-byte label is refused");
	memset(longname, 'a', 63);
	strcpy(longname + 63, ".test");
	TAP_CHECK(dns_name_normalize(longname, norm) == 0, "63-byte labels are fine");
	for (int i = 0; i < 300; i += 2) {
		longname[i] = 'a';
		longname[i + 1] = '.';
	}
	longname[253] = '\0';
	TAP_CHECK(dns_name_normalize(longname, norm) == 0, "a 253-character name is fine");
	longname[253] = 'a';
	longname[254] = '\0';
	TAP_CHECK(dns_name_normalize(longname, norm) < 0, "a 254-character name is refused");

	TAP_CHECK(dns_names_set(t, "bob.cyph.test", &a4, NULL, 60) == 0 &&
		  dns_names_set(t, "carol.cyph.test", NULL, &a6, 60) == 0 && dns_names_count(t) == 3,
		  "three entries");
	errno = 0;
	TAP_CHECK(dns_names_set(t, "dave.cyph.test", &a4, NULL, 60) < 0 && errno == ENOSPC &&
		  dns_names_find(t, "dave.cyph.test") == NULL, "a fourth is refused: ENOSPC");
	TAP_CHECK(dns_names_set(t, "BOB.cyph.test", &b4, NULL, 60) == 0,
		  "a full table still updates an existing name");
	TAP_CHECK(dns_names_remove(t, "Bob.Cyph.Test.") == 0 && dns_names_find(t, "bob.cyph.test") == NULL &&
		  dns_names_count(t) == 2, "remove in another case");
	errno = 0;
	TAP_CHECK(dns_names_remove(t, "bob.cyph.test") < 0 && errno == ENOENT, "removing again: ENOENT");
	TAP_CHECK(dns_names_set(t, "dave.cyph.test", &a4, NULL, 60) == 0, "room again after a removal");
	TAP_CHECK(dns_names_find(t, "alice.cyph.test") && dns_names_find(t, "carol.cyph.test") &&
		  dns_names_find(t, "dave.cyph.test"), "the others are untouched");
	dns_names_free(t);

	/* many entries in one table: chains and removals stay consistent */
	t = dns_names_new(5000);
	int ok = 1;
	for (int i = 0; i < 5000 && ok; i++) {
		char n[64];
		snprintf(n, sizeof(n), "n%d.cyph.test", i);
		ok = dns_names_set(t, n, &a4, NULL, (uint32_t)i) == 0;
	}
	for (int i = 0; i < 5000 && ok; i += 2) {
		char n[64];
		snprintf(n, sizeof(n), "N%d.CYPH.test", i);
		ok = dns_names_remove(t, n) == 0;
	}
	for (int i = 0; i < 5000 && ok; i++) {
		char n[64];
		snprintf(n, sizeof(n), "n%d.cyph.test", i);
		e = dns_names_find(t, n);
		ok = (i % 2) ? (e && e->ttl == (uint32_t)i) : e == NULL;
	}
	TAP_CHECK(ok && dns_names_count(t) == 2500, "5000 added, every other removed, the rest found");
	dns_names_free(t);
	return tap_done();
}
