/* SPDX-License-Identifier: MIT */
/*
 * A tiny Prometheus registry (text exposition format 0.0.4).
 *
 * Metrics are created once at start-up and live until cyph_metrics_reset();
 * updates are lock-free C11 atomics, so any thread may bump them on a hot
 * path. Series that share a name (differing only by labels) are rendered
 * under one HELP/TYPE header; they must agree on help and type.
 *
 *	static struct cyph_counter *auth_ok;
 *	auth_ok = cyph_counter_new("cyphonic_as_requests_total",
 *				   "AS requests by type and result",
 *				   "type=\"auth\",result=\"ok\"");
 *	cyph_counter_inc(auth_ok);
 */
#ifndef CYPHONIC_METRICS_H
#define CYPHONIC_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cyph_counter {
	_Atomic uint64_t v;
};

struct cyph_gauge {
	_Atomic int64_t v;
};

#define CYPH_HIST_MAX_BUCKETS 24

struct cyph_histogram {
	size_t nbuckets;
	double bounds[CYPH_HIST_MAX_BUCKETS];		/* upper bounds, seconds */
	_Atomic uint64_t counts[CYPH_HIST_MAX_BUCKETS + 1];	/* last: +Inf */
	_Atomic uint64_t sum_ns;
};

/*
 * labels: NULL or the inside of the braces, e.g. "type=\"auth\"".
 * Return NULL only when out of memory or arguments are invalid (name not
 * [a-zA-Z_:][a-zA-Z0-9_:]*, more than CYPH_HIST_MAX_BUCKETS bounds).
 */
struct cyph_counter *cyph_counter_new(const char *name, const char *help,
				      const char *labels);
struct cyph_gauge *cyph_gauge_new(const char *name, const char *help,
				  const char *labels);
/* bounds NULL: default latency buckets 100us .. 10s */
struct cyph_histogram *cyph_histogram_new(const char *name, const char *help,
					  const char *labels,
					  const double *bounds, size_t nbounds);

static inline void cyph_counter_add(struct cyph_counter *c, uint64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->v, n, memory_order_relaxed);
}
static inline void cyph_counter_inc(struct cyph_counter *c) { cyph_counter_add(c, 1); }
static inline uint64_t cyph_counter_get(struct cyph_counter *c)
{
	return c ? atomic_load_explicit(&c->v, memory_order_relaxed) : 0;
}

static inline void cyph_gauge_set(struct cyph_gauge *g, int64_t v)
{
	if (g)
		atomic_store_explicit(&g->v, v, memory_order_relaxed);
}
static inline void cyph_gauge_add(struct cyph_gauge *g, int64_t d)
{
	if (g)
		atomic_fetch_add_explicit(&g->v, d, memory_order_relaxed);
}
static inline int64_t cyph_gauge_get(struct cyph_gauge *g)
{
	return g ? atomic_load_explicit(&g->v, memory_order_relaxed) : 0;
}

void cyph_histogram_observe(struct cyph_histogram *h, double seconds);
/* Convenience: observe the time since start_ns (cyph_metrics_now_ns()). */
void cyph_histogram_since(struct cyph_histogram *h, uint64_t start_ns);
uint64_t cyph_metrics_now_ns(void);	/* CLOCK_MONOTONIC */

/* Writes every registered metric; returns 0 or -1 on a write error. */
int cyph_metrics_render(FILE *f);
/* Same into a malloc'd NUL-terminated buffer (caller frees); NULL on OOM. */
char *cyph_metrics_render_buf(size_t *len);

/* Frees every metric (pointers become invalid). For tests and exit. */
void cyph_metrics_reset(void);

#endif
