// SPDX-License-Identifier: MIT
/* Load generator statistics, CPU accounting and certificate issuing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pki/ca.h"
#include "lg.h"
#include "wire/proto_udp.h"

uint64_t lg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void lg_stats_add(struct lg_stats *s, uint64_t ns)
{
	s->ok++;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint64_t *p = realloc(s->lat, cap * sizeof(*p));

		if (!p)
			return;
		s->lat = p;
		s->cap = cap;
	}
	s->lat[s->n++] = ns;
}

void lg_stats_reset(struct lg_stats *s)
{
	free(s->lat);
	memset(s, 0, sizeof(*s));
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const struct lg_stats *s, double p)
{
	size_t i;

	if (!s->n)
		return 0;
	i = (size_t)(p * (double)(s->n - 1));
	return (double)s->lat[i] / 1000.0;
}

void lg_report(const char *test, struct lg_stats *s, double secs, double cpu_s,
	       const char *extra)
{
	double rate = secs > 0 ? (double)s->ok / secs : 0;

	qsort(s->lat, s->n, sizeof(*s->lat), cmp);
	printf("RESULT test=%s ops=%llu fail=%llu timeout=%llu secs=%.2f rate=%.0f "
	       "cpu=%.2f per_core=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f%s%s\n",
	       test, (unsigned long long)s->ok, (unsigned long long)s->fail,
	       (unsigned long long)s->timeout, secs, rate, cpu_s,
	       cpu_s > 0 ? (double)s->ok / cpu_s : 0, pct(s, 0.5), pct(s, 0.9),
	       pct(s, 0.99), extra ? " " : "", extra ? extra : "");
	fflush(stdout);
	lg_stats_reset(s);
}

double lg_cpu_seconds(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields after the ")" of comm: state is field 3, utime 14, stime 15. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

int lg_issue(const struct lg_opts *o, const char *name, uint64_t id,
	     const char *cert_out, const char *key_out)
{
	struct cyph_ca_signer *s;
	struct cyph_node_id nid = { .id = id, .role = CYPH_ROLE_NODE };
	EVP_PKEY *key = cyph_key_generate();
	uint8_t *der = NULL;
	size_t len;
	char err[512];
	int rc = -1;

	s = cyph_ca_signer_load(o->ca_cert, o->ca_key, err, sizeof(err));
	snprintf(nid.fqdn, sizeof(nid.fqdn), "%s", name);
	if (s && key && !cyph_key_public(key, nid.pubkey) &&
	    !cyph_ca_issue(s, &nid, proto_now_ms() / 1000, 3600, &der, &len, err, sizeof(err)) &&
	    !cyph_cert_save(cert_out, der, len, err, sizeof(err)) &&
	    !cyph_key_save(key, key_out, err, sizeof(err)))
		rc = 0;
	else
		fprintf(stderr, "issue: %s\n", err);
	free(der);
	EVP_PKEY_free(key);
	cyph_ca_signer_free(s);
	return rc;
}
