// SPDX-License-Identifier: MIT
/*
 * The DNS server's bookkeeping (user/lib/dns): the pending-query list
 * (first query per name, take by name in any case, expiry, dropping a
 * connection's queries, the bound) and the per-source token buckets
 * (burst, refill, separate sources, IPv4 and IPv6, no overflow after a
 * long pause). Fake clock values, no sleeping.
 */
#include "dns/pending.h"
#include "dns/ratelimit.h"
#include "tap.h"

#include <arpa/inet.h>
#include <string.h>

static char seen[8][DNS_NAME_TEXT_MAX + 1];
static int nseen;

static void collect(void *arg, const struct dns_pending_query *q)
{
	(void)arg;
	if (nseen < 8)
		strcpy(seen[nseen], q->name);
	nseen++;
}

static struct dns_pending_query mk(const char *name, uint64_t deadline,
				   enum dns_transport tr, uint64_t conn)
{
	struct dns_pending_query q;

	memset(&q, 0, sizeof(q));
	strcpy(q.name, name);
	q.deadline_ms = deadline;
	q.transport = tr;
	q.conn_id = conn;
	q.len = 20;
	return q;
}

static void test_pending(void)
{
	struct dns_pending *p = dns_pending_new(4);
	struct dns_pending_query q;

	TAP_CHECK(p && dns_pending_count(p) == 0 && dns_pending_next_deadline(p) == UINT64_MAX,
		  "empty list of 4");
	q = mk("a.cyph.test", 100, DNS_UDP, 0);
	TAP_CHECK(dns_pending_add(p, &q) == 1, "first query for a name: 1 (start a lookup)");
	q.deadline_ms = 150;
	TAP_CHECK(dns_pending_add(p, &q) == 0, "second for the same name: 0 (lookup running)");
	q = mk("b.cyph.test", 50, DNS_TCP, 7);
	TAP_CHECK(dns_pending_add(p, &q) == 1, "another name: 1");
	q = mk("c.cyph.test", 300, DNS_TCP, 8);
	TAP_CHECK(dns_pending_add(p, &q) == 1 && dns_pending_count(p) == 4, "four waiting");
	q = mk("d.cyph.test", 300, DNS_UDP, 0);
	TAP_CHECK(dns_pending_add(p, &q) == -1 && dns_pending_count(p) == 4, "a fifth is refused");
	TAP_CHECK(dns_pending_next_deadline(p) == 50, "earliest deadline 50");

	nseen = 0;
	TAP_CHECK(dns_pending_take(p, "A.Cyph.Test.", collect, NULL) == 2 && nseen == 2 &&
		  strcmp(seen[0], "a.cyph.test") == 0 && dns_pending_count(p) == 2,
		  "take by name in another case: both queries handed over");
	TAP_CHECK(dns_pending_take(p, "a.cyph.test", collect, NULL) == 0, "taken only once");
	TAP_CHECK(dns_pending_drop_conn(p, 8) == 1 && dns_pending_count(p) == 1,
		  "connection 8 closed: its query dropped");
	TAP_CHECK(dns_pending_drop_conn(p, 99) == 0, "an unknown connection drops nothing");
	nseen = 0;
	TAP_CHECK(dns_pending_expire(p, 49, collect, NULL) == 0 && nseen == 0, "nothing expired at 49");
	TAP_CHECK(dns_pending_expire(p, 50, collect, NULL) == 1 && nseen == 1 &&
		  strcmp(seen[0], "b.cyph.test") == 0 && dns_pending_count(p) == 0, "b expires at 50");
	q = mk("e.cyph.test", 10, DNS_UDP, 0);
	q.len = DNS_PENDING_QUERY_MAX + 1;
	TAP_CHECK(dns_pending_add(p, &q) == -1, "a query over %d bytes is refused", DNS_PENDING_QUERY_MAX);
	q.len = 0;
	TAP_CHECK(dns_pending_add(p, &q) == -1, "an empty query is refused");
	dns_pending_free(p);
	TAP_CHECK(dns_pending_new(0) == NULL, "a list of 0 is refused");
}

static void test_ratelimit(void)
{
	/*
	 * The slot of a source is a keyed hash with a random key: with 65536
	 * slots the three sources below share one with probability 5e-5,
	 * which would hand one of them a fresh bucket.
	 */
	struct dns_ratelimit *rl = dns_ratelimit_new(65536, 10, 5);
	struct sockaddr_in a = { .sin_family = AF_INET }, b = a;
	struct sockaddr_in6 c = { .sin6_family = AF_INET6 };
	int n = 0;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	inet_pton(AF_INET, "127.0.0.2", &b.sin_addr);
	inet_pton(AF_INET6, "::1", &c.sin6_addr);
	TAP_CHECK(rl != NULL, "10/s, burst 5");
	for (int i = 0; i < 20; i++)
		n += dns_ratelimit_allow(rl, (struct sockaddr *)&a, 1000);
	TAP_CHECK(n == 5, "20 queries at once from one source: the burst of 5 passes (%d)", n);
	a.sin_port = htons(999);
	TAP_CHECK(!dns_ratelimit_allow(rl, (struct sockaddr *)&a, 1000), "another port is the same source");
	TAP_CHECK(dns_ratelimit_allow(rl, (struct sockaddr *)&b, 1000), "another address has its own budget");
	TAP_CHECK(dns_ratelimit_allow(rl, (struct sockaddr *)&c, 1000), "IPv6 source has its own budget");
	TAP_CHECK(!dns_ratelimit_allow(rl, (struct sockaddr *)&a, 1099) &&
		  dns_ratelimit_allow(rl, (struct sockaddr *)&a, 1100) &&
		  !dns_ratelimit_allow(rl, (struct sockaddr *)&a, 1100),
		  "one token back after 100 ms at 10/s, not before");
	n = 0;
	for (int i = 0; i < 20; i++)
		n += dns_ratelimit_allow(rl, (struct sockaddr *)&a, UINT64_MAX / 2);
	TAP_CHECK(n == 5, "after a very long pause: the burst again, no more (%d)", n);
	struct sockaddr unix_sa = { .sa_family = AF_UNIX };
	TAP_CHECK(!dns_ratelimit_allow(rl, &unix_sa, 1000), "a non-IP source is refused");
	dns_ratelimit_free(rl);
	rl = dns_ratelimit_new(64, 0, 0);
	n = 0;
	for (int i = 0; i < 1000; i++)
		n += dns_ratelimit_allow(rl, (struct sockaddr *)&a, 1000);
	TAP_CHECK(n == 1000, "rate 0: no limit");
	dns_ratelimit_free(rl);
}

int main(void)
{
	test_pending();
	test_ratelimit();
	return tap_done();
}
