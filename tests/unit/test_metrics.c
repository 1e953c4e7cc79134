// SPDX-License-Identifier: MIT
/* Prometheus registry: exposition format, grouping, histograms, threads. */
#include "runtime/metrics.h"
#include "tap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static struct cyph_counter *shared;

static void *bump(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++)
		cyph_counter_inc(shared);
	return NULL;
}

int main(void)
{
	struct cyph_counter *a, *b;
	struct cyph_gauge *g;
	struct cyph_histogram *h;
	const double bounds[] = { 0.1, 1 };
	const double unsorted[] = { 1, 0.1 };
	pthread_t t[4];
	size_t len;
	char *s;

	a = cyph_counter_new("req_total", "Requests", "type=\"a\"");
	g = cyph_gauge_new("sessions", "Open sessions", NULL);
	b = cyph_counter_new("req_total", "Requests", "type=\"b\"");
	h = cyph_histogram_new("lat_seconds", "Latency", "op=\"x\"", bounds, 2);
	TAP_CHECK(a && b && g && h, "metrics created");
	TAP_CHECK(!cyph_counter_new("bad name", "x", NULL) && !cyph_counter_new("1abc", "x", NULL),
		  "invalid names rejected");
	TAP_CHECK(!cyph_histogram_new("h2", "x", NULL, unsorted, 2), "unsorted buckets rejected");
	cyph_counter_add(a, 5);
	cyph_counter_inc(b);
	cyph_gauge_set(g, 10);
	cyph_gauge_add(g, -3);
	cyph_histogram_observe(h, 0.05);
	cyph_histogram_observe(h, 0.5);
	cyph_histogram_observe(h, 5);
	cyph_histogram_observe(h, -1);	/* clamped to 0 */
	cyph_counter_inc(NULL);		/* NULL-safe for optional metrics */
	s = cyph_metrics_render_buf(&len);
	TAP_CHECK(s && len == strlen(s), "render to buffer");
	TAP_CHECK(strstr(s, "# HELP req_total Requests\n# TYPE req_total counter\n"
			    "req_total{type=\"a\"} 5\nreq_total{type=\"b\"} 1\n") != NULL,
		  "series of one name grouped under one header");
	TAP_CHECK(strstr(s, "# TYPE sessions gauge\nsessions 7\n") != NULL, "gauge");
	TAP_CHECK(strstr(s, "lat_seconds_bucket{op=\"x\",le=\"0.1\"} 2\n") &&
		  strstr(s, "lat_seconds_bucket{op=\"x\",le=\"1\"} 3\n") &&
		  strstr(s, "lat_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n") &&
		  strstr(s, "lat_seconds_count{op=\"x\"} 4\n") &&
		  strstr(s, "lat_seconds_sum{op=\"x\"} 5.55"), "histogram cumulative buckets");
	TAP_CHECK(s && s[len - 1] == '\n', "ends with a newline");
	free(s);
	shared = cyph_counter_new("shared_total", "x", NULL);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, bump, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	TAP_CHECK(cyph_counter_get(shared) == 400000, "atomic updates from 4 threads");
	cyph_metrics_reset();
	s = cyph_metrics_render_buf(&len);
	TAP_CHECK(s && len == 0, "reset empties the registry");
	free(s);
	return tap_done();
}
