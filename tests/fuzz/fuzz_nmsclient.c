// SPDX-License-Identifier: MIT
/*
 * Node side: any datagram through nmsc_input() of a client that has a
 * session (known keys), so MACed replies reach the decoder, and of one
 * waiting for a REGISTER_ACK.
 */
#include <openssl/evp.h>
#include "fuzz_common.h"
#include "client/nmsclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pub[32];
	struct nmsc c;
	struct nmsc_event ev;

	memset(&c, 0, sizeof(c));
	c.node_id = 1;
	c.seq = 100;
	c.reg_seq = 99;
	nmsc_trust_key(&c, pub);
	nmsc_input(&c, data, size, FUZZ_NOW_MS, 30000, &ev);
	c.registered = true;
	nmsc_input(&c, data, size, FUZZ_NOW_MS, 30000, &ev);
	return 0;
}
