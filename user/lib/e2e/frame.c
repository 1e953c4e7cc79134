// SPDX-License-Identifier: MIT
/* HANDSHAKE header codec and ClientHello peek (frame.h). */
#include "frame.h"

#include "linux/cyphonic.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void e2e_hdr_put(uint8_t out[PROTO_HS_HDR_LEN], uint32_t sender, uint32_t receiver)
{
	out[0] = CYPHONIC_MSG_HANDSHAKE;
	out[1] = PROTO_HS_DTLS;
	out[2] = 0;
	out[3] = 0;
	put32(out + 4, sender);
	put32(out + 8, receiver);
}

bool e2e_hdr_parse(const uint8_t *dgram, size_t len, struct e2e_hdr *h)
{
	if (len < PROTO_HS_HDR_LEN + E2E_DTLS_RECORD_HDR || len > E2E_DGRAM_MAX)
		return false;
	if (dgram[0] != CYPHONIC_MSG_HANDSHAKE || dgram[1] != PROTO_HS_DTLS ||
	    dgram[2] || dgram[3])
		return false;
	h->kind = dgram[1];
	h->sender = get32(dgram + 4);
	h->receiver = get32(dgram + 8);
	return true;
}

bool e2e_is_client_hello(const uint8_t *dgram, size_t len)
{
	const uint8_t *r = dgram + PROTO_HS_HDR_LEN;
	size_t rlen;

	/* record header: type 22, version 0xfe.., epoch 0, length; then
	 * handshake header: msg type 1 (ClientHello), fragment offset 0 */
	if (len < PROTO_HS_HDR_LEN + E2E_DTLS_RECORD_HDR + 12)
		return false;
	rlen = (size_t)r[11] << 8 | r[12];
	if (r[0] != 22 || r[1] != 0xfe || r[3] || r[4] ||
	    rlen < 12 || rlen > len - PROTO_HS_HDR_LEN - E2E_DTLS_RECORD_HDR)
		return false;
	r += E2E_DTLS_RECORD_HDR;
	return r[0] == 1 && !r[6] && !r[7] && !r[8];
}
