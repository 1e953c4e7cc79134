// SPDX-License-Identifier: MIT
/*
 * An AS authentication retried on new connections (asclient.h,
 * cyph_asclient_auth_retry): what a node does when the AS replica it
 * reached dies or drains. Each retry opens a new TLS connection, a new
 * flow that the edge's ECMP hashes afresh, after the shared backoff
 * (retry.h); an answer no retry can cure (a wrong password, a lockout)
 * ends it at once.
 */
#include <time.h>
#include "asclient.h"
#include "retry.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts))
		;
}

int cyph_asclient_auth_retry(struct cyph_asclient **c, const struct cyph_asclient_opts *o,
			     const struct cyph_retry_policy *p, const char *name,
			     const char *password, const uint8_t pubkey[32],
			     struct cyph_as_credential *out, unsigned int *retries,
			     char *err, size_t errlen)
{
	struct cyph_retry rt;
	int rc;

	cyph_retry_begin(&rt, p, mono_ms(), (uint64_t)(uintptr_t)c ^ (uint64_t)mono_ms());
	for (;;) {
		int64_t w;

		if (!*c)
			*c = cyph_asclient_connect(o, err, errlen);
		rc = *c ? cyph_asclient_auth(*c, name, password, pubkey, out, err, errlen) : -1;
		if (!rc)
			return 0;
		/* a connection that failed once is not trusted again */
		cyph_asclient_close(*c);
		*c = NULL;
		if (!cyph_as_retryable(rc))
			return rc;
		w = cyph_retry_next(&rt, mono_ms());
		if (w < 0)
			return rc;
		if (retries)
			(*retries)++;
		wait_ms(w);
	}
}
