// SPDX-License-Identifier: MIT
/* Node side of the TRS relay protocol; see trsclient.h. */
#include <string.h>
#include <linux/cyphonic.h>
#include "wire/proto_crypto.h"
#include "trsclient.h"

int trsc_init(struct trsc *t, uint64_t node_id, const struct proto_msg *m,
	      int64_t now_ms)
{
	memset(t, 0, sizeof(*t));
	if (m->mode != PROTO_MODE_RELAY)
		return -1;
	t->session = m->relay_session;
	t->end = m->relay_end;
	t->node_id = node_id;
	t->expiry = m->relay_expiry;
	memcpy(t->secret, m->relay_secret, 32);
	t->relay = m->relay_ep;
	t->seq = (uint64_t)now_ms * 1000;	/* monotonic across restarts */
	return 0;
}

void trs_rc_seal(struct proto_rc *rc, const uint8_t secret[32],
		 uint8_t out[PROTO_RC_LEN])
{
	memset(rc->mac, 0, sizeof(rc->mac));
	proto_rc_encode(rc, out);
	proto_hmac(secret, 32, out, PROTO_RC_SIGNED_LEN, rc->mac);
	memcpy(out + PROTO_RC_SIGNED_LEN, rc->mac, PROTO_MAC_LEN);
}

static size_t ctrl(struct trsc *t, uint8_t op, uint8_t out[PROTO_RC_LEN],
		   int64_t now_ms)
{
	struct proto_rc rc = {
		.op = op, .end = t->end, .session = t->session,
		.node_id = t->node_id, .expiry = t->expiry, .seq = ++t->seq,
		.ts_ms = now_ms, .proof = op == PROTO_RC_BIND ? t->proof : 0,
	};

	trs_rc_seal(&rc, t->secret, out);
	return PROTO_RC_LEN;
}

size_t trsc_bind(struct trsc *t, uint8_t out[PROTO_RC_LEN], int64_t now_ms)
{
	return ctrl(t, PROTO_RC_BIND, out, now_ms);
}

size_t trsc_close(struct trsc *t, uint8_t out[PROTO_RC_LEN], int64_t now_ms)
{
	return ctrl(t, PROTO_RC_CLOSE, out, now_ms);
}

int trsc_input(struct trsc *t, const uint8_t *pkt, size_t len)
{
	struct proto_rc rc;
	uint8_t mac[32];

	if (proto_rc_parse(pkt, len, &rc) || rc.session != t->session ||
	    rc.end != t->end || rc.node_id != t->node_id)
		return -1;
	proto_hmac(t->secret, 32, pkt, PROTO_RC_SIGNED_LEN, mac);
	if (!proto_ct_equal(mac, rc.mac, 32))
		return -1;
	/* The TRS echoes our latest seq: older answers are stale. */
	if (rc.seq != t->seq)
		return -1;
	if (rc.op == PROTO_RC_BIND_ACK) {
		t->idle_s = rc.idle_s;
		return 0;
	}
	if (rc.op == PROTO_RC_ERROR && rc.code == PROTO_E_CHALLENGE) {
		t->proof = rc.proof;	/* MACed: only the TRS could send it */
		return TRSC_CHALLENGED;
	}
	return rc.op == PROTO_RC_ERROR ? rc.code : -1;
}

size_t trsc_wrap(const struct trsc *t, const uint8_t *inner, size_t len,
		 uint8_t *out, size_t cap)
{
	struct proto_buf b = { .p = out, .cap = cap };

	proto_put_u8(&b, CYPHONIC_MSG_RELAY);
	proto_put_u8(&b, 0);
	proto_put_u16(&b, 0);
	proto_put_u32(&b, t->session);
	proto_put_bytes(&b, inner, len);
	return b.overflow ? 0 : b.len;
}
