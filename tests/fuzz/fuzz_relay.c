// SPDX-License-Identifier: MIT
/*
 * TRS input: RELAY_CTRL and RELAY datagrams through the real TRS core
 * (parse, MAC check, bind/close, forwarding decision), plus the node-side
 * trsc_input(). The first input byte picks the source family.
 */
#include "fuzz_common.h"
#include "trs.h"
#include "client/trsclient.h"

static struct trs trs;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_ep from, to;
	const uint8_t *inner;
	size_t inner_len, rl;
	uint8_t reply[PROTO_RC_LEN];
	struct trsc t = { .session = 1, .end = 0, .node_id = 1 };
	bool unauth;

	if (!ready) {
		struct trs_config cfg = { .skew_ms = 30000, .idle_s = 30,
					  .rate_bytes = 100000, .burst_bytes = 3000 };

		trs_init(&trs, &cfg);
		ready = 1;
	}
	if (size < 1)
		return 0;
	from = fuzz_from(data[0] & 1);
	trs_ctrl(&trs, data + 1, size - 1, &from, FUZZ_NOW_MS, reply, &rl, &unauth);
	trs_forward(&trs, data + 1, size - 1, &from, FUZZ_NOW_MS, &to, &inner, &inner_len);
	trsc_input(&t, data + 1, size - 1);
	if (trs_sessions(&trs) > 1000)
		trs_expire(&trs, FUZZ_NOW_MS + 3600000);
	return 0;
}
