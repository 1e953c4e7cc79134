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

/* A bounded reader over the ClientHello body. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static bool skip(struct rd *r, size_t n)
{
	if (n > r->left)
		return false;
	r->p += n;
	r->left -= n;
	return true;
}

static bool get(struct rd *r, size_t width, size_t *v)
{
	if (width > r->left)
		return false;
	*v = 0;
	for (size_t i = 0; i < width; i++)
		*v = *v << 8 | r->p[i];
	return skip(r, width);
}

/* Skips a vector whose length field is width bytes. */
static bool skip_vec(struct rd *r, size_t width)
{
	size_t n;

	return get(r, width, &n) && skip(r, n);
}

/* The host_name entry of a server_name extension's data. */
static bool sni_entry(struct rd *r, char *out, size_t cap)
{
	size_t list, type, n;

	if (!get(r, 2, &list) || list > r->left || !get(r, 1, &type) || type ||
	    !get(r, 2, &n) || !n || n >= cap || n > r->left)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!r->p[i])
			return false;
		out[i] = (char)r->p[i];
	}
	out[n] = '\0';
	return true;
}

bool e2e_client_hello_sni(const uint8_t *dgram, size_t len, char *out, size_t cap)
{
	const uint8_t *h = dgram + PROTO_HS_HDR_LEN + E2E_DTLS_RECORD_HDR;
	struct rd r;
	size_t body, frag, type, n;

	if (!cap)
		return false;
	/* unfragmented: fragment length == message length */
	body = (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	frag = (size_t)h[9] << 16 | (size_t)h[10] << 8 | h[11];
	if (body != frag || body > len - (size_t)(h + 12 - dgram))
		return false;
	r.p = h + 12;
	r.left = body;
	/* version, random, session id, cookie, suites, compression */
	if (!skip(&r, 2 + 32) || !skip_vec(&r, 1) || !skip_vec(&r, 1) ||
	    !skip_vec(&r, 2) || !skip_vec(&r, 1) || !get(&r, 2, &n) || n > r.left)
		return false;
	r.left = n;
	while (r.left) {
		struct rd ext;

		if (!get(&r, 2, &type) || !get(&r, 2, &n) || n > r.left)
			return false;
		ext.p = r.p;
		ext.left = n;
		if (type == 0)
			return sni_entry(&ext, out, cap);
		skip(&r, n);
	}
	return false;
}
