// SPDX-License-Identifier: MIT
/*
 * AS load: `threads` clients, each on its own TLS connection, authenticate
 * the same principal back to back for `seconds`. The AS cost is dominated
 * by the password KDF (its iteration count is set when the node is added).
 * With --retry a failed authentication (transport, or an AS draining) is
 * tried again on a new connection, a new flow that ECMP hashes afresh,
 * after the shared client backoff; it counts as failed only when the
 * budget is spent.
 */
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include "client/asclient.h"
#include "client/retry.h"
#include "pki/cred.h"
#include "lg.h"

struct as_thread {
	const struct lg_opts *o;
	struct lg_stats st;
	uint64_t end_ns;
	pthread_t t;
};

static void wait_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts))
		;
}

/* One authentication, retried per --retry (asclient.h); 0 or the last error. */
static int auth_once(struct as_thread *a, const struct cyph_asclient_opts *ao,
		     struct cyph_asclient **c, const uint8_t pub[32], char *err, size_t errlen)
{
	static const struct cyph_retry_policy pol = CYPH_RETRY_DEFAULT;
	static const struct cyph_retry_policy once = { .first_ms = 1, .max_ms = 1, .budget_ms = 0 };
	struct cyph_as_credential cr;
	unsigned int retries = 0;
	int rc;

	rc = cyph_asclient_auth_retry(c, ao, a->o->retry ? &pol : &once, a->o->name,
				      a->o->password, pub, &cr, &retries, err, errlen);
	a->st.retries += retries;
	if (!rc)
		cyph_as_credential_free(&cr);
	return rc;
}

static void *as_worker(void *arg)
{
	struct as_thread *a = arg;
	struct cyph_asclient_opts ao = { .addr = a->o->as, .server_name = a->o->as_name,
					 .ca_path = a->o->as_ca, .timeout_ms = 30000 };
	EVP_PKEY *k = cyph_key_generate();
	uint64_t gap = a->o->rate > 0 ? (uint64_t)(1e9 * a->o->threads / a->o->rate) : 0;
	uint64_t next = lg_now_ns();
	struct cyph_asclient *c = NULL;
	uint8_t pub[32];
	char err[512];

	cyph_key_public(k, pub);
	while (lg_now_ns() < a->end_ns) {
		uint64_t t0 = lg_now_ns();

		if (gap && t0 < next) {	/* paced: --rate over all threads */
			wait_ms((int64_t)((next - t0) / 1000000) + 1);
			continue;
		}
		next = (gap && next + gap > t0 - 1000000000ULL ? next : t0) + gap;
		if (auth_once(a, &ao, &c, pub, err, sizeof(err))) {
			if (!a->st.fail)
				fprintf(stderr, "as: %s\n", err);
			a->st.fail++;
			continue;
		}
		lg_stats_add(&a->st, lg_now_ns() - t0);
		if (a->o->reconnect) {	/* a node connects once per authentication */
			cyph_asclient_close(c);
			c = NULL;
		}
	}
	cyph_asclient_close(c);
	EVP_PKEY_free(k);
	return NULL;
}

int lg_run_as(const struct lg_opts *o)
{
	struct as_thread th[64];
	struct lg_stats all = { 0 };
	int n = o->threads > 64 ? 64 : o->threads, i;
	double cpu0 = lg_cpu_seconds(o->pid), secs;
	char extra[96];
	uint64_t t0 = lg_now_ns();

	for (i = 0; i < n; i++) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].o = o;
		th[i].end_ns = t0 + (uint64_t)(o->seconds * 1e9);
		pthread_create(&th[i].t, NULL, as_worker, &th[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(th[i].t, NULL);
		for (size_t j = 0; j < th[i].st.n; j++)
			lg_stats_add(&all, th[i].st.lat[j]);
		all.fail += th[i].st.fail;
		all.retries += th[i].st.retries;
		free(th[i].st.lat);
	}
	secs = (double)(lg_now_ns() - t0) / 1e9;
	snprintf(extra, sizeof(extra), "retries=%llu offered=%.0f",
		 (unsigned long long)all.retries, o->rate);
	lg_report("as_auth", &all, secs, lg_cpu_seconds(o->pid) - cpu0, extra);
	return 0;
}
