// SPDX-License-Identifier: MIT
/*
 * Client retry (user/lib/client/retry.c): the backoff doubles from
 * first_ms to max_ms, each wait lies between half the step and the step
 * (equal jitter), jitter differs between clients, the budget cuts the
 * last wait and ends the tries, and the error classes: pure arithmetic on
 * given times. Then cyph_asclient_auth_retry() against a dead port (it
 * sleeps its short backoff, ~500 ms; how many tries fit in it depends on
 * the machine, so only "at least one retry" is checked).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/socket.h>
#include "client/asclient.h"
#include "client/retry.h"
#include "wire/asproto.h"
#include "wire/proto.h"
#include "tap.h"

static void test_doubling(void)
{
	struct cyph_retry_policy p = { .first_ms = 100, .max_ms = 800, .budget_ms = 1000000 };
	int64_t lo[] = { 50, 100, 200, 400, 400, 400 }, hi[] = { 100, 200, 400, 800, 800, 800 };
	unsigned int seed;
	bool ok = true;

	for (seed = 1; seed <= 200; seed++) {
		struct cyph_retry r;
		int64_t now = 5000;

		cyph_retry_begin(&r, &p, now, seed);
		for (int i = 0; i < 6; i++) {
			int64_t d = cyph_retry_next(&r, now);

			if (d < lo[i] || d > hi[i]) {
				ok = false;
				printf("# seed %u try %d: %lld not in [%lld, %lld]\n", seed, i,
				       (long long)d, (long long)lo[i], (long long)hi[i]);
			}
			now += d;
		}
	}
	TAP_CHECK(ok, "backoff doubles from first_ms to max_ms, each wait in [step/2, step]");
}

static void test_jitter(void)
{
	struct cyph_retry_policy p = CYPH_RETRY_DEFAULT;
	int64_t first[64], min = 1 << 30, max = 0;
	int distinct = 0;

	for (int i = 0; i < 64; i++) {
		struct cyph_retry r;

		cyph_retry_begin(&r, &p, 0, (uint64_t)i * 7919);
		first[i] = cyph_retry_next(&r, 0);
		if (first[i] < min)
			min = first[i];
		if (first[i] > max)
			max = first[i];
	}
	for (int i = 0; i < 64; i++) {
		int j;

		for (j = 0; j < i && first[j] != first[i]; j++)
			;
		distinct += j == i;
	}
	/* 64 clients failing at once do not all come back at once */
	TAP_CHECK(distinct >= 32, "jitter: 64 clients' first waits take %d distinct values", distinct);
	TAP_CHECK(max - min >= p.first_ms / 4, "jitter: they spread over %lld ms (%lld-%lld)",
		  (long long)(max - min), (long long)min, (long long)max);
}

static void test_budget(void)
{
	struct cyph_retry_policy p = { .first_ms = 250, .max_ms = 2000, .budget_ms = 3000 };
	struct cyph_retry r;
	int64_t now = 1000, d, sum = 0;
	int tries = 0;

	cyph_retry_begin(&r, &p, now, 42);
	while ((d = cyph_retry_next(&r, now)) >= 0) {
		tries++;
		sum += d;
		now += d;
		if (tries > 100)
			break;
	}
	TAP_CHECK(sum == p.budget_ms, "budget: the waits add up to the budget exactly (%lld ms)",
		  (long long)sum);
	TAP_CHECK(tries >= 3 && tries <= 8, "budget: %d tries within 3 s", tries);
	TAP_CHECK(cyph_retry_next(&r, now) == -1, "budget: spent, no further try");

	/* a slow first answer (the caller checks late) eats the budget too */
	cyph_retry_begin(&r, &p, 0, 7);
	TAP_CHECK(cyph_retry_next(&r, 2900) == 100, "budget: the last wait is cut to what is left");
	TAP_CHECK(cyph_retry_next(&r, 3000) == -1, "budget: none left at its end");
}

static void test_degenerate(void)
{
	struct cyph_retry_policy p = { .first_ms = 0, .max_ms = 0, .budget_ms = 10 };
	struct cyph_retry r;
	int64_t d;

	cyph_retry_begin(&r, &p, 0, 0);
	d = cyph_retry_next(&r, 0);
	TAP_CHECK(d >= 0 && d <= 1, "zero policy: clamped to 1 ms steps (%lld)", (long long)d);
}

static void test_budget_ratio(void)
{
	struct cyph_retry_budget b = { .tokens = 0, .ratio = 0.25, .min_per_s = 10, .max = 50 };
	int sent = 0, i;

	/* 1000 first tries at one instant, every one wanting a retry */
	for (i = 0; i < 1000; i++)
		cyph_retry_budget_deposit(&b);
	for (i = 0; i < 1000; i++)
		sent += cyph_retry_budget_take(&b, 1000);
	TAP_CHECK(sent == 50, "retry budget: 1000 requests at once: retries capped at max (%d)", sent);

	b = (struct cyph_retry_budget){ .tokens = 0, .ratio = 0.25, .min_per_s = 10, .max = 1e9 };
	for (i = 0; i < 1000; i++)
		cyph_retry_budget_deposit(&b);
	sent = 0;
	for (i = 0; i < 1000; i++)
		sent += cyph_retry_budget_take(&b, 1000);
	TAP_CHECK(sent == 250, "retry budget: retries are 25%% of the first tries (%d of 1000)", sent);
	TAP_CHECK(!cyph_retry_budget_take(&b, 1000), "retry budget: spent, no retry now");
	TAP_CHECK(cyph_retry_budget_take(&b, 1100), "retry budget: min_per_s refills (one after 100 ms)");
	TAP_CHECK(!cyph_retry_budget_take(&b, 1100), "retry budget: and only one");
}

static void test_classes(void)
{
	TAP_CHECK(cyph_nms_retryable(PROTO_E_DRAINING) && cyph_nms_retryable(PROTO_E_INTERNAL) &&
		  cyph_nms_retryable(PROTO_E_REPLAY) && cyph_nms_retryable(PROTO_E_RATE_LIMITED),
		  "NMS: draining, internal, replay, rate limited are retried");
	TAP_CHECK(!cyph_nms_retryable(PROTO_E_BAD_CERT) && !cyph_nms_retryable(PROTO_E_NOT_FOUND) &&
		  !cyph_nms_retryable(PROTO_E_REVOKED) && !cyph_nms_retryable(PROTO_E_NO_RELAY),
		  "NMS: bad certificate, unknown target, revoked, no relay end the sequence");
	TAP_CHECK(cyph_as_retryable(-1) && cyph_as_retryable(CYPH_AS_E_DRAINING),
		  "AS: a transport failure and draining are retried on a new connection");
	TAP_CHECK(!cyph_as_retryable(CYPH_AS_E_AUTH_FAILED) &&
		  !cyph_as_retryable(CYPH_AS_E_RATE_LIMITED) && !cyph_as_retryable(0),
		  "AS: a wrong password and a login lockout are not retried");
}

/*
 * The AS authentication retried on new connections: against a port no
 * AS listens on (a dead replica), every try is a new connect, refused,
 * until the budget is spent; without a budget, one try.
 */
static void test_as_retry(void)
{
	static const struct cyph_retry_policy pol = { .first_ms = 5, .max_ms = 20, .budget_ms = 500 };
	static const struct cyph_retry_policy once = { .first_ms = 1, .max_ms = 1, .budget_ms = 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	char addr[64], err[256];
	struct cyph_asclient_opts o = { .addr = addr, .server_name = "127.0.0.1",
					.ca_path = "/dev/null", .timeout_ms = 1000 };
	struct cyph_as_credential cr;
	struct cyph_asclient *c = NULL;
	uint8_t pub[32] = { 0 };
	unsigned int retries = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	/* a port that was free a moment ago: bound, never listened on, closed */
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	close(fd);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	rc = cyph_asclient_auth_retry(&c, &o, &pol, "n", "pw", pub, &cr, &retries, err, sizeof(err));
	TAP_CHECK(rc == -1 && !c && retries >= 1,
		  "AS retry: a dead AS is tried again on new connections until the budget is spent"
		  " (rc %d, %u retries: %s)", rc, retries, err);
	retries = 0;
	rc = cyph_asclient_auth_retry(&c, &o, &once, "n", "pw", pub, &cr, &retries, err, sizeof(err));
	TAP_CHECK(rc == -1 && !c && retries == 0, "AS retry: no budget, one try (%u retries)", retries);
}

int main(void)
{
	test_as_retry();
	test_doubling();
	test_jitter();
	test_budget();
	test_degenerate();
	test_budget_ratio();
	test_classes();
	return tap_done();
}
