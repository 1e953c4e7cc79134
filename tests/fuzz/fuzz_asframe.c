// SPDX-License-Identifier: MIT
/*
 * The AS frame parser (user/lib/wire/asproto.c) as the AS meets it: any
 * bytes as a request stream. Frames are cut with cyph_as_frame_len the
 * way the server does, and each is given to every attribute parser (the
 * server's for requests, the client's for answers). An AUTH_REQ that
 * parses is written again with the writer and must parse to the same.
 */
#include <stdlib.h>
#include "fuzz_common.h"
#include "wire/asproto.h"

static int count_gnode(const struct cyph_principal *g, void *arg)
{
	(void)g;
	++*(int *)arg;
	return 0;
}

static void roundtrip(const struct cyph_as_auth_req *q)
{
	struct cyph_as_auth_req *again = calloc(1, sizeof(*again));
	struct cyph_as_buf b;
	struct cyph_as_msg m;
	const char *why;

	if (!again)
		abort();
	cyph_as_buf_init(&b, CYPH_AS_MAX_REQUEST);
	cyph_as_begin(&b, CYPH_AS_AUTH_REQ, 7);
	cyph_as_put_str(&b, CYPH_AS_A_NAME, q->name);
	cyph_as_put_str(&b, CYPH_AS_A_PASSWORD, q->password);
	cyph_as_put(&b, CYPH_AS_A_PUBKEY, q->pubkey, 32);
	if (!cyph_as_finish(&b)) {
		if (cyph_as_parse(b.data, b.len, &m) || cyph_as_parse_auth_req(&m, again, &why) ||
		    strcmp(again->name, q->name) || strcmp(again->password, q->password) ||
		    memcmp(again->pubkey, q->pubkey, 32))
			abort();	/* what we write, we must read back */
	}
	cyph_as_buf_free(&b);
	free(again);
}

static void one_frame(const uint8_t *p, size_t n)
{
	static struct cyph_as_auth_req auth;
	static struct cyph_as_gn_auth_req gn;
	static struct cyph_as_cred cred;
	static struct cyph_as_error err;
	struct cyph_as_msg m;
	const char *why;
	int count = 0;

	if (cyph_as_parse(p, n, &m))
		return;
	if (!cyph_as_parse_auth_req(&m, &auth, &why))
		roundtrip(&auth);
	(void)cyph_as_parse_gn_auth_req(&m, &gn, &why);
	(void)cyph_as_parse_cred(&m, &cred, &why);
	(void)cyph_as_parse_error(&m, &err, &why);
	(void)cyph_as_parse_gn_list(&m, count_gnode, &count, &why);
	(void)cyph_as_err_name((uint16_t)m.type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the server's framing: a length prefix, frames back to back */
	while (size >= 4) {
		size_t n = cyph_as_frame_len(data, size);

		if (n < CYPH_AS_HDR_LEN || n > CYPH_AS_MAX_REQUEST || n > size) {
			one_frame(data, size);	/* the parser must refuse it alone, too */
			return 0;
		}
		one_frame(data, n);
		data += n;
		size -= n;
	}
	return 0;
}
