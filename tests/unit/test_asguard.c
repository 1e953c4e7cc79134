// SPDX-License-Identifier: MIT
/*
 * asguard (user/lib/asguard): login budgets, per-source connection caps,
 * per-phase deadlines and source keys, on explicit times; and the
 * constant-cost password checks they protect (pki/pwhash.h).
 */
#include "asguard/asguard.h"
#include "pki/pwhash.h"
#include "tap.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

static const struct cyph_budget_policy strict = {
	.free_failures = 3, .strict = true, .backoff_ms = 1000, .max_backoff_ms = 8000,
	.forget_ms = 60000,
};

/* One failed attempt at now; the wait begin reported. */
static int64_t fail_once(struct cyph_budget *b, const struct cyph_budget_policy *p,
			 const char *k, int64_t now)
{
	int64_t w = cyph_budget_begin(b, p, k, strlen(k), now);

	if (!w)
		cyph_budget_end(b, p, k, strlen(k), true, false, now);
	return w;
}

static void test_budget_backoff(void)
{
	struct cyph_budget *b = cyph_budget_new(64);
	int64_t t = 1000, w;

	for (int i = 0; i < 3; i++)
		TAP_CHECK(fail_once(b, &strict, "n:alice", t) == 0, "budget: free failure %d allowed", i + 1);
	TAP_CHECK(cyph_budget_failures(b, "n:alice", 7) == 3, "budget: failures counted");
	w = cyph_budget_begin(b, &strict, "n:alice", 7, t);
	TAP_CHECK(w == 1000, "budget: after the free failures, closed for backoff_ms (%lld)",
		  (long long)w);
	TAP_CHECK(cyph_budget_begin(b, &strict, "n:bob", 5, t) == 0, "budget: other keys unaffected");
	cyph_budget_end(b, &strict, "n:bob", 5, false, true, t);
	/* each further failure doubles the backoff, up to the maximum */
	int64_t want[] = { 2000, 4000, 8000, 8000 };
	t += 1000;
	for (int i = 0; i < 4; i++) {
		TAP_CHECK(fail_once(b, &strict, "n:alice", t) == 0, "budget: one try after the backoff");
		w = cyph_budget_begin(b, &strict, "n:alice", 7, t);
		TAP_CHECK(w == want[i], "budget: backoff %d is %lld ms (got %lld)", i + 1,
			  (long long)want[i], (long long)w);
		t += w;
	}
	/* a success clears an account */
	TAP_CHECK(cyph_budget_begin(b, &strict, "n:alice", 7, t) == 0, "budget: open again");
	cyph_budget_end(b, &strict, "n:alice", 7, false, true, t);
	TAP_CHECK(cyph_budget_failures(b, "n:alice", 7) == 0, "budget: success with clear resets");
	cyph_budget_free(b);
}

/* The target: <= 10 tries a minute once the free failures are spent. */
static void test_budget_rate(void)
{
	struct cyph_budget_policy p = { .free_failures = 5, .strict = true, .backoff_ms = 1000,
					.max_backoff_ms = 60000, .forget_ms = 900000 };
	struct cyph_budget *b = cyph_budget_new(64);
	int64_t t = 0;
	int tries = 0, first_minute = 0, free_done = 0;

	/* a guesser asking every 10 ms for 10 minutes */
	for (; t < 600000; t += 10) {
		if (fail_once(b, &p, "n:victim", t) == 0) {
			if (free_done < 5)
				free_done++;
			else
				tries++;
			if (free_done == 5 && t < 60000)
				first_minute++;
		}
	}
	TAP_CHECK(free_done == 5, "budget: the 5 free failures");
	TAP_CHECK(first_minute <= 10, "budget: %d tries in the first minute (<= 10)", first_minute);
	TAP_CHECK(tries <= 10 + 9 * 1, "budget: %d tries in 10 minutes after them (<= 10 a minute)",
		  tries);
	cyph_budget_free(b);
}

static void test_budget_inflight(void)
{
	struct cyph_budget_policy loose = strict;
	struct cyph_budget *b = cyph_budget_new(64);
	int allowed = 0;

	/* strict: parallel attempts count before they fail */
	for (int i = 0; i < 10; i++)
		allowed += cyph_budget_begin(b, &strict, "k", 1, 0) == 0;
	TAP_CHECK(allowed == 3, "budget: strict: %d of 10 parallel attempts start (3)", allowed);
	for (int i = 0; i < allowed; i++)
		cyph_budget_end(b, &strict, "k", 1, false, false, 1);
	/* loose (addresses): parallel logins are fine until something fails */
	loose.strict = false;
	allowed = 0;
	for (int i = 0; i < 10; i++)
		allowed += cyph_budget_begin(b, &loose, "a", 1, 0) == 0;
	TAP_CHECK(allowed == 10, "budget: loose: all 10 parallel attempts start on a clean key");
	for (int i = 0; i < 10; i++)
		cyph_budget_end(b, &loose, "a", 1, i == 0, false, 1);
	allowed = 0;
	for (int i = 0; i < 10; i++)
		allowed += cyph_budget_begin(b, &loose, "a", 1, 2) == 0;
	TAP_CHECK(allowed == 2, "budget: loose: after a failure in-flight counts (%d start)", allowed);
	cyph_budget_free(b);
}

static void test_budget_forget_and_evict(void)
{
	struct cyph_budget *b = cyph_budget_new(16);
	char key[32];
	int locked = 0;

	for (int i = 0; i < 3; i++)
		fail_once(b, &strict, "old", 0);
	TAP_CHECK(cyph_budget_begin(b, &strict, "old", 3, 100) > 0, "budget: locked");
	TAP_CHECK(cyph_budget_begin(b, &strict, "old", 3, 61000) == 0,
		  "budget: failures forgotten after forget_ms");
	cyph_budget_end(b, &strict, "old", 3, false, false, 61000);
	TAP_CHECK(cyph_budget_failures(b, "old", 3) == 0, "budget: count is 0 after forgetting");
	/* flooding a small table with fresh keys never unlocks a locked one first */
	for (int i = 0; i < 3; i++)
		fail_once(b, &strict, "target", 100000);
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "flood-%d", i);
		fail_once(b, &strict, key, 100000);
	}
	locked = cyph_budget_begin(b, &strict, "target", 6, 100001) > 0;
	TAP_CHECK(locked, "budget: a locked key survives a flood of one-failure keys");
	TAP_CHECK(cyph_budget_begin(b, &strict, "", 0, 0) > 0, "budget: empty key refused");
	cyph_budget_free(b);
}

static void test_conncap(void)
{
	struct cyph_conncap *c = cyph_conncap_new(8);
	struct sockaddr_in a = { .sin_family = AF_INET }, b = a;
	struct cyph_srckey ka, kb;
	int n = 0;

	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	inet_pton(AF_INET, "192.0.2.2", &b.sin_addr);
	cyph_srckey_from((struct sockaddr *)&a, sizeof(a), &ka);
	cyph_srckey_from((struct sockaddr *)&b, sizeof(b), &kb);
	for (int i = 0; i < 100; i++)
		n += cyph_conncap_add(c, &ka, 32);
	TAP_CHECK(n == 32, "conncap: one address gets 32 of 100 (%d)", n);
	TAP_CHECK(cyph_conncap_add(c, &kb, 32), "conncap: another address still gets in");
	cyph_conncap_del(c, &ka);
	TAP_CHECK(cyph_conncap_count(c, &ka) == 31 && cyph_conncap_add(c, &ka, 32),
		  "conncap: a closed connection frees a slot");
	for (int i = 0; i < 32; i++)
		cyph_conncap_del(c, &ka);
	cyph_conncap_del(c, &kb);
	TAP_CHECK(cyph_conncap_sources(c) == 0 && cyph_conncap_count(c, &ka) == 0,
		  "conncap: entries go with the last connection");
	cyph_conncap_del(c, &ka);	/* not counted: ignored */
	cyph_conncap_free(c);
}

static void test_srckey(void)
{
	struct sockaddr_in6 x = { .sin6_family = AF_INET6 }, y = x, m = x;
	struct cyph_srckey kx, ky, km;
	char s[CYPH_SRCKEY_STRLEN];

	inet_pton(AF_INET6, "2001:db8:1:2::1", &x.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &y.sin6_addr);
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &m.sin6_addr);
	cyph_srckey_from((struct sockaddr *)&x, sizeof(x), &kx);
	cyph_srckey_from((struct sockaddr *)&y, sizeof(y), &ky);
	cyph_srckey_from((struct sockaddr *)&m, sizeof(m), &km);
	TAP_CHECK(kx.len == ky.len && !memcmp(kx.b, ky.b, kx.len),
		  "srckey: one IPv6 /64 is one source");
	cyph_srckey_format(&kx, s);
	TAP_CHECK(!strcmp(s, "2001:db8:1:2::/64"), "srckey: /64 printed (%s)", s);
	cyph_srckey_format(&km, s);
	TAP_CHECK(!strcmp(s, "192.0.2.7"), "srckey: v4-mapped counts as IPv4 (%s)", s);
}

static void test_deadline(void)
{
	struct cyph_deadline_policy p = { .handshake_ms = 10000, .idle_ms = 30000,
					  .request_ms = 5000 };
	struct cyph_conn_clock c;

	cyph_conn_clock_start(&c, CYPH_PHASE_HANDSHAKE, 0);
	TAP_CHECK(cyph_conn_deadline(&c, &p) == 10000, "deadline: handshake from accept");
	cyph_conn_clock_enter(&c, CYPH_PHASE_IDLE, 200);
	TAP_CHECK(cyph_conn_deadline(&c, &p) == 30200, "deadline: idle after the handshake");
	cyph_conn_clock_enter(&c, CYPH_PHASE_REQUEST, 1000);
	/* slowloris: a byte every 2 s does not move the deadline */
	for (int64_t t = 3000; t < 20000; t += 2000)
		TAP_CHECK(!cyph_conn_clock_enter(&c, CYPH_PHASE_REQUEST, t) &&
			  cyph_conn_deadline(&c, &p) == 6000,
			  "deadline: a byte at %lld ms leaves it at 6000", (long long)t);
	cyph_conn_clock_enter(&c, CYPH_PHASE_BUSY, 5000);
	TAP_CHECK(cyph_conn_deadline(&c, &p) == CYPH_NO_DEADLINE, "deadline: none while busy");
	cyph_conn_clock_enter(&c, CYPH_PHASE_WRITE, 7000);
	TAP_CHECK(cyph_conn_deadline(&c, &p) == 12000, "deadline: answer must be read in time");
	TAP_CHECK(!strcmp(cyph_conn_phase_name(CYPH_PHASE_REQUEST), "request"), "deadline: names");
}

static double ms_of(void (*f)(const char *h), const char *h)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	f(h);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}

static void check_cheap(const char *h) { (void)cyph_pw_verify_cost("wrong", h, 100000); }
static void check_unknown(const char *h) { (void)h; cyph_pw_dummy_verify_cost("wrong", 100000); }

static void test_pw_cost(void)
{
	char h[CYPH_PW_HASH_MAX];
	double cheap = 1e9, unknown = 1e9;

	TAP_CHECK(!cyph_pw_hash("right", 1000, h), "pw: cheap hash made");
	TAP_CHECK(cyph_pw_verify_cost("right", h, 100000), "pw: padded check still verifies");
	TAP_CHECK(!cyph_pw_verify_cost("wrong", h, 100000), "pw: padded check still refuses");
	/*
	 * best of 5 and a wide band: the machine may be loaded, and without
	 * the padding the cheap check would be 100 times faster
	 */
	for (int i = 0; i < 5; i++) {
		double c = ms_of(check_cheap, h), u = ms_of(check_unknown, h);

		cheap = c < cheap ? c : cheap;
		unknown = u < unknown ? u : unknown;
	}
	TAP_CHECK(cheap > unknown * 0.4 && cheap < unknown * 2.5,
		  "pw: a 1000-iteration hash costs as much as an unknown name (%.1f vs %.1f ms)",
		  cheap, unknown);
}

int main(void)
{
	test_budget_backoff();
	test_budget_rate();
	test_budget_inflight();
	test_budget_forget_and_evict();
	test_conncap();
	test_srckey();
	test_deadline();
	test_pw_cost();
	return tap_done();
}
