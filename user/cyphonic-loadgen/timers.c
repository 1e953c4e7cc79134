// SPDX-License-Identifier: MIT
/*
 * Timer micro-benchmark: the cost of one cyph_loop_timer_rearm() with n
 * timers armed, as the AS pays it on every read of a TLS connection (one
 * idle timer per connection). The timers are spread over a 30 s window,
 * as idle timeouts armed at different times are; each re-arm moves a
 * random timer to the end of the window. Every 1000 re-arms the loop runs
 * once (epoll_wait with a 0 timeout), so the figure includes the upkeep
 * the loop does for re-armed timers when it looks for the next deadline.
 * Prints one "RESULT test=timer_rearm timers=N ns_per_op=..." per count.
 */
#include <stdio.h>
#include <stdlib.h>
#include "runtime/evloop.h"
#include "lg.h"

#define WINDOW_MS 30000

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Due during the run: stays armed, as a busy connection's idle timer does. */
static void on_timer(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)arg;
	cyph_loop_timer_rearm(loop, t, WINDOW_MS);
}

static void on_stop(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)t; (void)arg;
	cyph_loop_stop(loop);
}

/* Re-arms random timers until at least min_ns passed; returns ns per re-arm. */
static double time_rearms(struct cyph_loop *loop, struct cyph_timer **t, uint32_t n,
			  uint64_t min_ns, uint64_t *ops)
{
	uint64_t t0 = lg_now_ns(), el;

	*ops = 0;
	do {
		for (int i = 0; i < 1000; i++)
			cyph_loop_timer_rearm(loop, t[rnd(n)], WINDOW_MS + rnd(8));
		*ops += 1000;
		cyph_loop_add_timer(loop, 0, false, on_stop, NULL);	/* one pass */
		cyph_loop_run(loop);
		el = lg_now_ns() - t0;
	} while (el < min_ns);
	return (double)el / (double)*ops;
}

static int bench_one(uint32_t n, double seconds)
{
	struct cyph_loop *loop = cyph_loop_new();
	struct cyph_timer **t = calloc(n, sizeof(*t));
	uint64_t ops;
	double ns;

	if (!loop || !t) {
		fprintf(stderr, "timers: out of memory\n");
		free(t);
		cyph_loop_free(loop);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		t[i] = cyph_loop_add_timer(loop, rnd(WINDOW_MS), false, on_timer, NULL);
		if (!t[i]) {
			fprintf(stderr, "timers: out of memory\n");
			free(t);
			cyph_loop_free(loop);
			return -1;
		}
	}
	time_rearms(loop, t, n, 50000000, &ops);	/* warm the caches */
	ns = time_rearms(loop, t, n, (uint64_t)(seconds * 1e9), &ops);
	printf("RESULT test=timer_rearm timers=%u ops=%llu ns_per_op=%.1f\n", n,
	       (unsigned long long)ops, ns);
	fflush(stdout);
	free(t);
	cyph_loop_free(loop);	/* frees the timers */
	return 0;
}

int lg_run_timers(const struct lg_opts *o)
{
	static const uint32_t counts[] = { 1000, 10000, 100000 };

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		if (bench_one(counts[i], o->seconds))
			return 1;
	return 0;
}
