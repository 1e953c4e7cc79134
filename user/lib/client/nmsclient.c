// SPDX-License-Identifier: MIT
/* Node side of the NMS protocol; see nmsclient.h. */
#include <string.h>
#include <openssl/crypto.h>
#include "pki/cred.h"
#include "nmsclient.h"

void nmsc_init(struct nmsc *c, uint64_t node_id, EVP_PKEY *key,
	       const uint8_t *cert, size_t cert_len, int64_t now_ms)
{
	memset(c, 0, sizeof(*c));
	c->node_id = node_id;
	c->key = key;
	c->cert = cert;
	c->cert_len = cert_len;
	/*
	 * Microseconds since the epoch: strictly above anything this node
	 * sent before a restart, as the NMS replay window requires.
	 */
	c->seq = (uint64_t)now_ms * 1000;
}

void nmsc_trust_key(struct nmsc *c, const uint8_t pub[32])
{
	memcpy(c->nms_pub, pub, 32);
	c->nms_pinned = true;
}

void nmsc_trust_ca(struct nmsc *c, struct cyph_ca *ca, const char *nms_fqdn)
{
	c->ca = ca;
	snprintf(c->nms_name, sizeof(c->nms_name), "%s", nms_fqdn ? nms_fqdn : "");
}

void nmsc_set_location(struct nmsc *c, const struct proto_ep *addrs,
		       unsigned int n, uint8_t nat)
{
	if (n > PROTO_MAX_ADDRS)
		n = PROTO_MAX_ADDRS;
	memcpy(c->addrs, addrs, n * sizeof(*addrs));
	c->n_addrs = n;
	c->nat = nat;
}

void nmsc_reset(struct nmsc *c)
{
	c->registered = false;
	OPENSSL_cleanse(&c->keys, sizeof(c->keys));
	memset(&c->rx, 0, sizeof(c->rx));
}

static void begin(struct nmsc *c, struct proto_buf *b, uint8_t *out,
		  size_t cap, uint8_t op, uint8_t auth, int64_t now_ms,
		  uint64_t *seq)
{
	struct proto_hdr h = {
		.op = op, .auth = auth, .node_id = c->node_id,
		.seq = ++c->seq, .ts_ms = now_ms,
	};

	if (seq)
		*seq = h.seq;
	proto_msg_begin(b, out, cap, &h);
}

static size_t finish_mac(struct nmsc *c, struct proto_buf *b)
{
	size_t len;

	if (c->has_challenge) {	/* once: a later address needs a new one */
		proto_tlv_bytes(b, PROTO_T_CHALLENGE, c->challenge, sizeof(c->challenge));
		c->has_challenge = false;
	}
	len = proto_msg_finish(b);

	if (!len || proto_mac_append(b->p, len, b->cap, c->keys.n2s))
		return 0;
	return len + PROTO_MAC_LEN;
}

size_t nmsc_register(struct nmsc *c, uint8_t *out, size_t cap,
		     int64_t now_ms, uint64_t *seq)
{
	uint8_t pub[32];
	struct proto_buf b;
	unsigned int i;
	size_t len;

	if (c->registered) {	/* refresh: MAC, no certificate */
		begin(c, &b, out, cap, PROTO_OP_REGISTER, PROTO_AUTH_MAC,
		      now_ms, seq);
	} else {
		begin(c, &b, out, cap, PROTO_OP_REGISTER, PROTO_AUTH_SIG,
		      now_ms, &c->reg_seq);
		if (seq)
			*seq = c->reg_seq;
		proto_x25519_keypair(c->eph_priv, pub);
		proto_tlv_bytes(&b, PROTO_T_CERT, c->cert, c->cert_len);
		proto_tlv_bytes(&b, PROTO_T_EPHEMERAL, pub, 32);
		if (c->has_cookie)
			proto_tlv_bytes(&b, PROTO_T_COOKIE, c->cookie, sizeof(c->cookie));
	}
	for (i = 0; i < c->n_addrs; i++)
		proto_tlv_ep(&b, PROTO_T_ADDR, &c->addrs[i]);
	proto_tlv_u8(&b, PROTO_T_NAT, c->nat);
	if (c->registered)
		return finish_mac(c, &b);
	len = proto_msg_finish(&b);
	if (!len || proto_sign_append(out, len, cap, c->key))
		return 0;
	len += PROTO_SIG_LEN;
	proto_sha256(out, len, c->reg_hash);
	return len;
}

size_t nmsc_keepalive(struct nmsc *c, uint8_t *out, size_t cap,
		      int64_t now_ms, uint64_t *seq)
{
	struct proto_buf b;

	if (!c->registered)
		return 0;
	begin(c, &b, out, cap, PROTO_OP_KEEPALIVE, PROTO_AUTH_MAC, now_ms, seq);
	return finish_mac(c, &b);
}

size_t nmsc_route(struct nmsc *c, uint8_t *out, size_t cap, int64_t now_ms,
		  const char *fqdn, const struct in_addr *vip4,
		  const struct in6_addr *vip6, uint32_t flags, uint64_t *seq)
{
	struct proto_buf b;

	if (!c->registered || (!!fqdn + !!vip4 + !!vip6) != 1)
		return 0;
	begin(c, &b, out, cap, PROTO_OP_ROUTE_REQ, PROTO_AUTH_MAC, now_ms, seq);
	if (fqdn)
		proto_tlv_str(&b, PROTO_T_TARGET_FQDN, fqdn);
	else if (vip4)
		proto_tlv_bytes(&b, PROTO_T_TARGET_VIP4, vip4, 4);
	else
		proto_tlv_bytes(&b, PROTO_T_TARGET_VIP6, vip6, 16);
	if (flags)
		proto_tlv_u32(&b, PROTO_T_ROUTE_FLAGS, flags);
	return finish_mac(c, &b);
}

size_t nmsc_notify_ack(struct nmsc *c, uint8_t *out, size_t cap,
		       int64_t now_ms, uint64_t notify_id)
{
	struct proto_buf b;

	if (!c->registered)
		return 0;
	begin(c, &b, out, cap, PROTO_OP_NOTIFY_ACK, PROTO_AUTH_MAC, now_ms,
	      NULL);
	proto_tlv_u64(&b, PROTO_T_NOTIFY_ID, notify_id);
	return finish_mac(c, &b);
}

size_t nmsc_deregister(struct nmsc *c, uint8_t *out, size_t cap,
		       int64_t now_ms)
{
	struct proto_buf b;
	size_t len;

	if (!c->registered)
		return 0;
	begin(c, &b, out, cap, PROTO_OP_DEREGISTER, PROTO_AUTH_MAC, now_ms,
	      NULL);
	len = finish_mac(c, &b);
	nmsc_reset(c);
	return len;
}

/* ---- input ------------------------------------------------------------------ */

/* The NMS public key that must have signed a sessionless message. */
static int nms_key(struct nmsc *c, const struct proto_msg *m, int64_t now_ms,
		   uint8_t pub[32])
{
	struct cyph_node_id id;
	char err[256];

	if (c->nms_pinned || (c->nms_known && !PROTO_HAS(m, PROTO_T_CERT))) {
		memcpy(pub, c->nms_pub, 32);
		return 0;
	}
	if (!c->ca || !PROTO_HAS(m, PROTO_T_CERT) ||
	    cyph_cred_verify(c->ca, m->cert, m->cert_len, now_ms / 1000, &id,
			     err, sizeof(err)))
		return PROTO_E_BAD_CERT;
	if (c->nms_name[0] && strcmp(c->nms_name, id.fqdn))
		return PROTO_E_BAD_CERT;
	memcpy(pub, id.pubkey, 32);
	return 0;
}

static bool recent(const struct nmsc *c, uint64_t echo)
{
	/* An answer must be for one of our last 1024 requests. */
	return echo <= c->seq && c->seq - echo < 1024;
}

static int signed_input(struct nmsc *c, const uint8_t *pkt,
			const struct proto_msg *m, int64_t now_ms,
			struct nmsc_event *ev)
{
	uint8_t pub[32], shared[32];
	int rc;

	if (m->hdr.op == PROTO_OP_ERROR) {
		/* Only the errors we could have caused: a recent request. */
		if (!recent(c, m->echo_seq))
			return PROTO_E_REPLAY;
	} else if (m->hdr.op != PROTO_OP_REGISTER_ACK ||
		   m->echo_seq != c->reg_seq || !c->reg_seq ||
		   !proto_ct_equal(m->req_hash, c->reg_hash, 32)) {
		return PROTO_E_REPLAY;
	}
	rc = nms_key(c, m, now_ms, pub);
	if (rc)
		return rc;
	if (!proto_ed25519_verify(pub, pkt, m->signed_len, m->auth_tag))
		return PROTO_E_BAD_SIGNATURE;
	if (!c->nms_pinned) {	/* remember it for errors without a cert */
		memcpy(c->nms_pub, pub, 32);
		c->nms_known = true;
	}
	ev->echo_seq = m->echo_seq;
	if (m->hdr.op == PROTO_OP_ERROR) {
		ev->type = NMSC_EV_ERROR;
		ev->error = m->error_code;
		if (m->error_code == PROTO_E_NOT_REGISTERED)
			nmsc_reset(c);
		return 0;
	}
	if (proto_x25519_shared(c->eph_priv, m->ephemeral, shared))
		return PROTO_E_MALFORMED;
	proto_session_keys(shared, c->reg_hash, c->node_id, &c->keys);
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(c->eph_priv, sizeof(c->eph_priv));
	c->reg_seq = 0;		/* an ACK is accepted once */
	memset(&c->rx, 0, sizeof(c->rx));
	c->registered = true;
	return -1;		/* continue with the common ACK handling */
}

static void unseal(struct nmsc *c, struct proto_msg *m)
{
	if (PROTO_HAS(m, PROTO_T_RELAY_SECRET))
		proto_seal(c->keys.seal, m->hdr.seq, PROTO_T_RELAY_SECRET,
			   m->relay_secret, m->relay_secret);
	if (PROTO_HAS(m, PROTO_T_PUNCH_SECRET))
		proto_seal(c->keys.seal, m->hdr.seq, PROTO_T_PUNCH_SECRET,
			   m->punch_secret, m->punch_secret);
}

/*
 * COOKIE is unauthenticated (the NMS answers a flood with it before any
 * signature work): it is taken only as the answer to the pending full
 * REGISTER and only changes what the next one echoes. A forged cookie
 * costs one more round trip; the same cookie twice is not an answer
 * (the NMS refused it: no loop).
 */
static int cookie_input(struct nmsc *c, const struct proto_msg *m, struct nmsc_event *ev)
{
	if (m->hdr.op != PROTO_OP_COOKIE || !c->reg_seq || m->echo_seq != c->reg_seq)
		return PROTO_E_REPLAY;
	if (c->has_cookie && proto_ct_equal(c->cookie, m->cookie, sizeof(c->cookie)))
		return PROTO_E_REPLAY;
	memcpy(c->cookie, m->cookie, sizeof(c->cookie));
	c->has_cookie = true;
	ev->type = NMSC_EV_COOKIE;
	ev->echo_seq = m->echo_seq;
	return 0;
}

int nmsc_input(struct nmsc *c, const uint8_t *pkt, size_t len,
	       int64_t now_ms, int64_t skew_ms, struct nmsc_event *ev)
{
	struct proto_msg *m = &ev->msg;
	int rc;

	memset(ev, 0, sizeof(*ev));
	rc = proto_msg_parse(pkt, len, m);
	if (rc)
		return rc;
	if (m->hdr.node_id != c->node_id)
		return PROTO_E_ID_MISMATCH;
	if (!proto_ts_fresh(m->hdr.ts_ms, now_ms, skew_ms))
		return PROTO_E_STALE;
	if (m->hdr.auth == PROTO_AUTH_NONE)
		return cookie_input(c, m, ev);
	if (m->hdr.auth == PROTO_AUTH_SIG) {
		rc = signed_input(c, pkt, m, now_ms, ev);
		if (rc >= 0)
			return rc;
	} else {
		if (!c->registered)
			return PROTO_E_NOT_REGISTERED;
		if (!proto_mac_check(pkt, m->signed_len, m->auth_tag,
				     c->keys.s2n))
			return PROTO_E_BAD_SIGNATURE;
		if (!proto_replay_check(&c->rx, m->hdr.seq, true))
			return PROTO_E_REPLAY;
	}
	ev->echo_seq = m->echo_seq;
	if (PROTO_HAS(m, PROTO_T_CHALLENGE)) {	/* authenticated: MAC or signature */
		memcpy(c->challenge, m->challenge, sizeof(c->challenge));
		c->has_challenge = ev->challenged = true;
	}
	switch (m->hdr.op) {
	case PROTO_OP_REGISTER_ACK:
		ev->type = NMSC_EV_REGISTERED;
		c->observed = m->observed;
		c->lifetime_s = m->lifetime_s;
		c->keepalive_s = m->keepalive_s;
		break;
	case PROTO_OP_KEEPALIVE_ACK:
		ev->type = NMSC_EV_KEEPALIVE;
		c->observed = m->observed;
		break;
	case PROTO_OP_ROUTE_RESP:
	case PROTO_OP_PEER_NOTIFY:
		ev->type = m->hdr.op == PROTO_OP_ROUTE_RESP ? NMSC_EV_ROUTE
							    : NMSC_EV_NOTIFY;
		unseal(c, m);
		break;
	case PROTO_OP_ERROR:
		ev->type = NMSC_EV_ERROR;
		ev->error = m->error_code;
		break;
	default:
		return PROTO_E_BAD_OP;
	}
	return 0;
}
