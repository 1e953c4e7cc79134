// SPDX-License-Identifier: MIT
/*
 * AS load: `threads` clients, each on its own TLS connection, authenticate
 * the same principal back to back for `seconds`. The AS cost is dominated
 * by the password KDF (its iteration count is set when the node is added).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "client/asclient.h"
#include "pki/cred.h"
#include "lg.h"

struct as_thread {
	const struct lg_opts *o;
	struct lg_stats st;
	uint64_t end_ns;
	pthread_t t;
};

static void *as_worker(void *arg)
{
	struct as_thread *a = arg;
	struct cyph_asclient_opts ao = { .addr = a->o->as, .server_name = "127.0.0.1",
					 .ca_path = a->o->as_ca, .timeout_ms = 30000 };
	EVP_PKEY *k = cyph_key_generate();
	uint8_t pub[32];
	char err[512];
	struct cyph_asclient *c = cyph_asclient_connect(&ao, err, sizeof(err));

	cyph_key_public(k, pub);
	if (!c) {
		fprintf(stderr, "as: %s\n", err);
		a->st.fail++;
		EVP_PKEY_free(k);
		return NULL;
	}
	while (lg_now_ns() < a->end_ns) {
		struct cyph_as_credential cr;
		uint64_t t0 = lg_now_ns();

		if (cyph_asclient_auth(c, a->o->name, a->o->password, pub, &cr, err, sizeof(err))) {
			a->st.fail++;
			continue;
		}
		lg_stats_add(&a->st, lg_now_ns() - t0);
		cyph_as_credential_free(&cr);
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
		free(th[i].st.lat);
	}
	secs = (double)(lg_now_ns() - t0) / 1e9;
	lg_report("as_auth", &all, secs, lg_cpu_seconds(o->pid) - cpu0, NULL);
	return 0;
}
