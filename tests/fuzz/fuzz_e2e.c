// SPDX-License-Identifier: MIT
/*
 * End-to-end handshake input (user/lib/e2e): arbitrary datagrams at a
 * responder's door (with and without the cookie requirement), mutations
 * of a real ClientHello, and datagrams into a responder session and an
 * initiator session that are mid-handshake. Real OpenSSL DTLS and a real
 * test PKI (tests/unit/e2e_fixture.c). The first byte picks the mode.
 */
#include "fuzz_common.h"
#include "e2e/e2e.h"
#include "e2e_fixture.h"

#include <stdlib.h>
#include <time.h>

static struct e2e_pki pki;
static struct e2e_node na, nb;
static struct e2e_ctx *init_ctx, *resp_ctx;
static uint8_t hello[E2E_DGRAM_MAX];
static size_t hello_len;
static int64_t now_ms = FUZZ_NOW_MS;

static void cleanup(void)
{
	e2e_ctx_free(init_ctx);
	e2e_ctx_free(resp_ctx);
	e2e_node_free(&na);
	e2e_node_free(&nb);
	e2e_pki_fini(&pki);
}

static struct e2e_session *initiator(void)
{
	struct e2e_expect ex;
	enum e2e_result why;

	e2e_expect_node(&nb, &ex);
	return e2e_connect(init_ctx, 0x1111, 0, &ex, now_ms, &why);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct e2e_config cfg;
	struct e2e_session *s;
	char err[256];
	int64_t t = time(NULL);

	(void)argc;
	(void)argv;
	e2e_config_defaults(&cfg);
	cfg.cookie_threshold = 1000;
	cfg.budget_burst = 1000;
	cfg.budget_per_sec = 1000;
	if (e2e_pki_init(&pki, "fuzz CA") || e2e_node_issue(&pki, &na, 1, t, 86400) ||
	    e2e_node_issue(&pki, &nb, 2, t, 86400))
		abort();
	init_ctx = e2e_ctx_new(&cfg, pki.ca, na.key, na.der, na.len, now_ms, err, sizeof(err));
	resp_ctx = e2e_ctx_new(&cfg, pki.ca, nb.key, nb.der, nb.len, now_ms, err, sizeof(err));
	if (!init_ctx || !resp_ctx || !(s = initiator()))
		abort();
	hello_len = e2e_session_output(s, hello, sizeof(hello));
	e2e_session_free(s);
	atexit(cleanup);
	return 0;
}

static void drain(struct e2e_session *s)
{
	uint8_t d[E2E_DGRAM_MAX];

	while (s && e2e_session_output(s, d, sizeof(d)))
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t d[E2E_DGRAM_MAX], reply[E2E_DGRAM_MAX];
	struct e2e_session *s = NULL, *a;
	size_t rlen, n;

	if (size < 1)
		return 0;
	now_ms += 1000;		/* budgets refill: the door stays open to the fuzzer */
	e2e_ctx_set_under_load(resp_ctx, data[0] & 1);
	data++;
	size--;
	switch (data[-1] >> 1 & 3) {
	case 0:		/* a datagram at the door */
		e2e_accept(resp_ctx, data, size, "src", 3, 0x2222, NULL, now_ms, &s, reply, &rlen);
		break;
	case 1:		/* a real ClientHello with bytes overwritten */
		memcpy(d, hello, hello_len);
		n = size < hello_len ? size : hello_len;
		for (size_t i = 0; i < n; i++)
			d[(i * 7 + (size_t)data[0]) % hello_len] ^= data[i];
		e2e_accept(resp_ctx, d, hello_len, "src", 3, 0x2222, NULL, now_ms, &s, reply,
			   &rlen);
		break;
	case 2:		/* into a responder session waiting for the second flight */
		if (e2e_accept(resp_ctx, hello, hello_len, "src", 3, 0x2222, NULL, now_ms, &s,
			       reply, &rlen) == E2E_PENDING && s && size <= E2E_DGRAM_MAX) {
			drain(s);
			memcpy(d, data, size);
			if (size >= PROTO_HS_HDR_LEN)
				e2e_hdr_put(d, 0x1111, 0x2222);
			e2e_session_input(s, d, size, now_ms);
			drain(s);
		}
		break;
	default:	/* into an initiator waiting for the server's flight */
		a = initiator();
		if (a && size <= E2E_DGRAM_MAX) {
			drain(a);
			memcpy(d, data, size);
			if (size >= PROTO_HS_HDR_LEN)
				e2e_hdr_put(d, 0x2222, 0x1111);
			e2e_session_input(a, d, size, now_ms);
			e2e_session_timer(a, now_ms + 60000);
			drain(a);
		}
		e2e_session_free(a);
		break;
	}
	if (s)
		drain(s);
	e2e_session_free(s);
	return 0;
}
