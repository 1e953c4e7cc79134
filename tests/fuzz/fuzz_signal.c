// SPDX-License-Identifier: MIT
/* SIGNAL codec and hole-punch probe check: any datagram is parsed. */
#include "fuzz_common.h"
#include "wire/proto_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m;
	char buf[64];
	unsigned int i;

	static const uint8_t key[32];
	uint8_t kind;
	uint32_t snd, rcv;
	uint64_t nonce;

	proto_probe_check(data, size, 0, key, &kind, &snd, &rcv, &nonce);
	if (proto_msg_parse(data, size, &m))
		return 0;
	/* Touch every decoded field the way a consumer would. */
	for (i = 0; i < m.n_addrs; i++)
		proto_ep_format(&m.addrs[i], buf, sizeof(buf));
	for (i = 0; i < m.n_peer_eps; i++)
		proto_ep_format(&m.peer_eps[i], buf, sizeof(buf));
	proto_ep_format(&m.relay_ep, buf, sizeof(buf));
	if (m.cert_len && m.cert[m.cert_len - 1] == 0xff)
		buf[0] = 0;
	(void)proto_err_text(m.error_code);
	return 0;
}
