// SPDX-License-Identifier: MIT
/*
 * NMS engine: any datagram through nms_input() (framing, TLVs, timestamp
 * window, certificate path with a permissive stub verifier, signature and
 * MAC checks, error replies), with the clock advancing and expiry ticks.
 */
#include <openssl/evp.h>
#include "fuzz_common.h"
#include "nms.h"

static struct nms *nms;
static int64_t now = FUZZ_NOW_MS;

/* Any certificate of >= 40 bytes "verifies": id and key from its bytes. */
static int stub_verify(void *arg, const uint8_t *der, size_t len, int64_t t,
		       struct nms_ident *out, char *err, size_t errlen)
{
	if (len < 40)
		return PROTO_E_BAD_CERT;
	memset(out, 0, sizeof(*out));
	out->id = proto_get_u64(der);
	memcpy(out->pubkey, der + 8, 32);
	out->not_after = t + 3600;
	out->has_vip4 = true;
	out->vip4.s_addr = (uint32_t)out->id;
	return PROTO_E_OK;
}

static void sink(void *arg, const struct proto_ep *to, const uint8_t *p, size_t n)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_ep from;

	if (!nms) {
		struct nms_config cfg = {
			.lifetime_s = 90, .keepalive_s = 25, .skew_ms = 30000,
			.relay_ttl_s = 600, .notify_rto_ms = 500, .notify_tries = 3,
			.error_rate = 1000,
		};
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

		cfg.relay4 = fuzz_from(0);
		nms = nms_new(&cfg, nms_store_mem_new(10000), stub_verify, NULL, sink, NULL);
		nms_set_identity(nms, k, NULL, 0);
		EVP_PKEY_free(k);
	}
	if (size < 1)
		return 0;
	from = fuzz_from(data[0] & 1);
	now += 10;
	nms_input(nms, data + 1, size - 1, &from, now - (data[0] >> 1) * 1000);
	if ((now / 10) % 100 == 0)
		nms_tick(nms, now);
	return 0;
}
