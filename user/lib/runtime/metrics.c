// SPDX-License-Identifier: MIT
/* Prometheus registry (metrics.h). */
#include "metrics.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum metric_kind { M_COUNTER, M_GAUGE, M_HISTOGRAM };

struct metric {
	struct metric *next;
	enum metric_kind kind;
	char *name, *help, *labels;
	union {
		struct cyph_counter c;
		struct cyph_gauge g;
		struct cyph_histogram h;
	} u;
};

/* Registration is rare (start-up); the lock only guards the list. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric *reg_head, **reg_tail = &reg_head;

static const double default_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static bool valid_name(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++) {
		char ch = *s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == ':'))
			return false;
	}
	return true;
}

static struct metric *metric_new(enum metric_kind kind, const char *name,
				 const char *help, const char *labels)
{
	struct metric *m;

	if (!valid_name(name))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->kind = kind;
	m->name = strdup(name);
	m->help = strdup(help ? help : "");
	m->labels = labels && *labels ? strdup(labels) : NULL;
	if (!m->name || !m->help || (labels && *labels && !m->labels)) {
		free(m->name);
		free(m->help);
		free(m->labels);
		free(m);
		return NULL;
	}
	return m;
}

static void metric_register(struct metric *m)
{
	pthread_mutex_lock(&reg_lock);
	*reg_tail = m;
	reg_tail = &m->next;
	pthread_mutex_unlock(&reg_lock);
}

struct cyph_counter *cyph_counter_new(const char *name, const char *help,
				      const char *labels)
{
	struct metric *m = metric_new(M_COUNTER, name, help, labels);

	if (!m)
		return NULL;
	metric_register(m);
	return &m->u.c;
}

struct cyph_gauge *cyph_gauge_new(const char *name, const char *help,
				  const char *labels)
{
	struct metric *m = metric_new(M_GAUGE, name, help, labels);

	if (!m)
		return NULL;
	metric_register(m);
	return &m->u.g;
}

struct cyph_histogram *cyph_histogram_new(const char *name, const char *help,
					  const char *labels,
					  const double *bounds, size_t nbounds)
{
	struct metric *m;

	if (!bounds) {
		bounds = default_bounds;
		nbounds = sizeof(default_bounds) / sizeof(default_bounds[0]);
	}
	if (!nbounds || nbounds > CYPH_HIST_MAX_BUCKETS)
		return NULL;
	for (size_t i = 1; i < nbounds; i++)
		if (!(bounds[i] > bounds[i - 1]))
			return NULL;
	m = metric_new(M_HISTOGRAM, name, help, labels);
	if (!m)
		return NULL;
	m->u.h.nbuckets = nbounds;
	memcpy(m->u.h.bounds, bounds, nbounds * sizeof(double));
	metric_register(m);
	return &m->u.h;
}

void cyph_histogram_observe(struct cyph_histogram *h, double seconds)
{
	size_t i;

	if (!h)
		return;
	if (!(seconds >= 0))	/* also catches NaN */
		seconds = 0;
	for (i = 0; i < h->nbuckets; i++)
		if (seconds <= h->bounds[i])
			break;
	atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
	if (seconds > 1e9)
		seconds = 1e9;
	atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(seconds * 1e9),
				  memory_order_relaxed);
}

uint64_t cyph_metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void cyph_histogram_since(struct cyph_histogram *h, uint64_t start_ns)
{
	uint64_t now = cyph_metrics_now_ns();

	cyph_histogram_observe(h, now > start_ns ? (double)(now - start_ns) / 1e9 : 0);
}

static const char *kind_name(enum metric_kind k)
{
	return k == M_COUNTER ? "counter" : k == M_GAUGE ? "gauge" : "histogram";
}

/* "{labels}" / "{labels,extra}" / "{extra}" / "" */
static void put_labels(FILE *f, const char *labels, const char *extra)
{
	if (!labels && !extra)
		return;
	fprintf(f, "{%s%s%s}", labels ? labels : "", labels && extra ? "," : "",
		extra ? extra : "");
}

static void render_hist(FILE *f, const struct metric *m)
{
	const struct cyph_histogram *h = &m->u.h;
	uint64_t cum = 0;
	char le[64];

	for (size_t i = 0; i <= h->nbuckets; i++) {
		cum += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
		if (i < h->nbuckets)
			snprintf(le, sizeof(le), "le=\"%g\"", h->bounds[i]);
		else
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		fprintf(f, "%s_bucket", m->name);
		put_labels(f, m->labels, le);
		fprintf(f, " %llu\n", (unsigned long long)cum);
	}
	fprintf(f, "%s_sum", m->name);
	put_labels(f, m->labels, NULL);
	fprintf(f, " %.9f\n", (double)atomic_load(&h->sum_ns) / 1e9);
	fprintf(f, "%s_count", m->name);
	put_labels(f, m->labels, NULL);
	fprintf(f, " %llu\n", (unsigned long long)cum);
}

static void render_one(FILE *f, const struct metric *m)
{
	if (m->kind == M_HISTOGRAM) {
		render_hist(f, m);
		return;
	}
	fprintf(f, "%s", m->name);
	put_labels(f, m->labels, NULL);
	if (m->kind == M_COUNTER)
		fprintf(f, " %llu\n", (unsigned long long)cyph_counter_get((struct cyph_counter *)&m->u.c));
	else
		fprintf(f, " %lld\n", (long long)cyph_gauge_get((struct cyph_gauge *)&m->u.g));
}

static bool seen_before(const struct metric *head, const struct metric *m)
{
	for (const struct metric *p = head; p != m; p = p->next)
		if (!strcmp(p->name, m->name))
			return true;
	return false;
}

int cyph_metrics_render(FILE *f)
{
	pthread_mutex_lock(&reg_lock);
	for (const struct metric *m = reg_head; m; m = m->next) {
		if (seen_before(reg_head, m))
			continue;	/* already printed with its first series */
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
			m->name, kind_name(m->kind));
		for (const struct metric *s = m; s; s = s->next)
			if (!strcmp(s->name, m->name))
				render_one(f, s);
	}
	pthread_mutex_unlock(&reg_lock);
	return ferror(f) ? -1 : 0;
}

char *cyph_metrics_render_buf(size_t *len)
{
	char *buf = NULL;
	size_t l = 0;
	FILE *f = open_memstream(&buf, &l);

	if (!f)
		return NULL;
	if (cyph_metrics_render(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	if (len)
		*len = l;
	return buf;
}

void cyph_metrics_reset(void)
{
	struct metric *m, *next;

	pthread_mutex_lock(&reg_lock);
	for (m = reg_head; m; m = next) {
		next = m->next;
		free(m->name);
		free(m->help);
		free(m->labels);
		free(m);
	}
	reg_head = NULL;
	reg_tail = &reg_head;
	pthread_mutex_unlock(&reg_lock);
}
