// SPDX-License-Identifier: MIT
/* Stateless cookies and return-routability challenges (nms_cookie.h). */
#include <string.h>
#include "nms_cookie.h"

int nms_cookies_init(struct nms_cookies *c, int64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	c->win_ms = now_ms;
	return e2e_cookie_init(&c->jar, NMS_COOKIE_ROTATE_MS, now_ms);
}

void nms_cookies_tick(struct nms_cookies *c, int64_t now_ms)
{
	/* An RNG failure keeps the old secret: still unpredictable. */
	(void)e2e_cookie_tick(&c->jar, now_ms);
}

bool nms_cookies_loaded(struct nms_cookies *c, uint32_t load, int64_t now_ms)
{
	int64_t dt = now_ms - c->win_ms;

	if (dt >= 1000 || dt < 0) {
		c->prev = dt < 2000 && dt >= 0 ? c->cur : 0;
		c->cur = 0;
		c->win_ms = now_ms;
	}
	if (c->cur < UINT32_MAX)
		c->cur++;
	return !load || c->cur > load || c->prev > load;
}

/* family, port, address, node id: what the proof is bound to. */
static size_t subject(const struct proto_ep *from, uint64_t node_id, uint8_t *out)
{
	size_t alen = from->family == 6 ? 16 : 4;
	int i;

	out[0] = from->family;
	out[1] = (uint8_t)(from->port >> 8);
	out[2] = (uint8_t)from->port;
	memcpy(out + 3, from->family == 6 ? (const void *)&from->v6 : (const void *)&from->v4,
	       alen);
	for (i = 0; i < 8; i++)
		out[3 + alen + i] = (uint8_t)(node_id >> (56 - 8 * i));
	return 3 + alen + 8;
}

void nms_proof_make(const struct nms_cookies *c, enum nms_proof kind,
		    const struct proto_ep *from, uint64_t node_id, uint8_t out[16])
{
	uint8_t s[32];

	e2e_cookie_make(&c->jar, s, subject(from, node_id, s), kind, out);
}

bool nms_proof_check(const struct nms_cookies *c, enum nms_proof kind,
		     const struct proto_ep *from, uint64_t node_id, const uint8_t in[16])
{
	uint8_t s[32];

	return e2e_cookie_check(&c->jar, s, subject(from, node_id, s), kind, in, 16);
}
