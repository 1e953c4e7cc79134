// SPDX-License-Identifier: MIT
/*
 * SIGNAL and RELAY_CTRL codec. Parsing is strict: every length is checked
 * before it is used, a TLV may not run past the body, duplicate TLVs are
 * rejected (except the repeatable address lists), unknown non-critical TLVs
 * are skipped for forward compatibility, unknown critical ones reject the
 * message, and each operation has its own set of required and allowed TLVs.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <linux/cyphonic.h>
#include "proto.h"

/* ---- tables -------------------------------------------------------------- */

static const char *const err_text[] = {
#define X(name, val, text) [val] = text,
	PROTO_ERRORS(X)
#undef X
};

static const char *const err_name[] = {
#define X(name, val, text) [val] = #name,
	PROTO_ERRORS(X)
#undef X
};

const char *proto_err_text(unsigned int code)
{
	return code < PROTO_E_COUNT ? err_text[code] : "unknown error";
}

/* Lower-case copies so metric labels look like Prometheus labels. */
static char err_lower[PROTO_E_COUNT][24];
static pthread_once_t err_lower_once = PTHREAD_ONCE_INIT;

static void err_lower_init(void)
{
	unsigned int i, j;

	for (i = 0; i < PROTO_E_COUNT; i++) {
		for (j = 0; err_name[i][j] && j < sizeof(err_lower[i]) - 1; j++)
			err_lower[i][j] = (char)tolower((unsigned char)err_name[i][j]);
		err_lower[i][j] = 0;
	}
}

const char *proto_err_name(unsigned int code)
{
	pthread_once(&err_lower_once, err_lower_init);
	return code < PROTO_E_COUNT ? err_lower[code] : "unknown";
}

const char *proto_op_name(unsigned int op)
{
	static const char *const names[] = {
		[PROTO_OP_REGISTER] = "register",
		[PROTO_OP_REGISTER_ACK] = "register_ack",
		[PROTO_OP_KEEPALIVE] = "keepalive",
		[PROTO_OP_KEEPALIVE_ACK] = "keepalive_ack",
		[PROTO_OP_ROUTE_REQ] = "route_req",
		[PROTO_OP_ROUTE_RESP] = "route_resp",
		[PROTO_OP_PEER_NOTIFY] = "peer_notify",
		[PROTO_OP_NOTIFY_ACK] = "notify_ack",
		[PROTO_OP_DEREGISTER] = "deregister",
		[PROTO_OP_ERROR] = "error",
		[PROTO_OP_COOKIE] = "cookie",
		[PROTO_OP_MAPPING] = "mapping",
		[PROTO_OP_MAPPING_ACK] = "mapping_ack",
	};
	return op >= 1 && op <= PROTO_OP_MAX ? names[op] : "unknown";
}

#define B(t) (1ULL << (t))
#define ROUTE_INFO (B(PROTO_T_MODE) | B(PROTO_T_PEER_ID) |		\
		    B(PROTO_T_PEER_FQDN) | B(PROTO_T_PEER_VIP4) |		\
		    B(PROTO_T_PEER_VIP6) | B(PROTO_T_PEER_ENDPOINT) |		\
		    B(PROTO_T_PEER_PUBKEY) | B(PROTO_T_RELAY_ENDPOINT) |	\
		    B(PROTO_T_RELAY_SESSION) | B(PROTO_T_RELAY_END) |		\
		    B(PROTO_T_RELAY_EXPIRY) | B(PROTO_T_RELAY_SECRET) |	\
		    B(PROTO_T_PUNCH_ID) | B(PROTO_T_PUNCH_SECRET))

struct op_rule {
	uint64_t allowed, required;
	uint8_t auths;		/* bit (1 << PROTO_AUTH_*) */
	bool from_node;
};

static const struct op_rule rules[PROTO_OP_MAX + 1] = {
	[PROTO_OP_REGISTER] = {
		B(PROTO_T_CERT) | B(PROTO_T_EPHEMERAL) | B(PROTO_T_ADDR) |
		B(PROTO_T_NAT) | B(PROTO_T_COOKIE) | B(PROTO_T_CHALLENGE), 0, 6, true },
	[PROTO_OP_REGISTER_ACK] = {
		B(PROTO_T_EPHEMERAL) | B(PROTO_T_CERT) | B(PROTO_T_REQ_HASH) |
		B(PROTO_T_ECHO_SEQ) | B(PROTO_T_OBSERVED) |
		B(PROTO_T_LIFETIME) | B(PROTO_T_KEEPALIVE) | B(PROTO_T_ROLE) |
		B(PROTO_T_CHALLENGE),
		B(PROTO_T_ECHO_SEQ) | B(PROTO_T_OBSERVED) |
		B(PROTO_T_LIFETIME) | B(PROTO_T_KEEPALIVE), 6, false },
	[PROTO_OP_KEEPALIVE] = { B(PROTO_T_CHALLENGE), 0, 4, true },
	[PROTO_OP_KEEPALIVE_ACK] = {
		B(PROTO_T_ECHO_SEQ) | B(PROTO_T_OBSERVED) | B(PROTO_T_CHALLENGE),
		B(PROTO_T_ECHO_SEQ) | B(PROTO_T_OBSERVED), 4, false },
	[PROTO_OP_ROUTE_REQ] = {
		B(PROTO_T_TARGET_FQDN) | B(PROTO_T_TARGET_VIP4) |
		B(PROTO_T_TARGET_VIP6) | B(PROTO_T_ROUTE_FLAGS) |
		B(PROTO_T_CHALLENGE), 0, 4, true },
	[PROTO_OP_ROUTE_RESP] = {
		ROUTE_INFO | B(PROTO_T_ECHO_SEQ) | B(PROTO_T_CHALLENGE),
		B(PROTO_T_ECHO_SEQ) | B(PROTO_T_MODE) | B(PROTO_T_PEER_ID),
		4, false },
	[PROTO_OP_PEER_NOTIFY] = {
		ROUTE_INFO | B(PROTO_T_NOTIFY_ID),
		B(PROTO_T_NOTIFY_ID) | B(PROTO_T_MODE) | B(PROTO_T_PEER_ID),
		4, false },
	[PROTO_OP_NOTIFY_ACK] = {
		B(PROTO_T_NOTIFY_ID) | B(PROTO_T_CHALLENGE), B(PROTO_T_NOTIFY_ID), 4, true },
	[PROTO_OP_DEREGISTER] = { 0, 0, 4, true },
	[PROTO_OP_ERROR] = {
		B(PROTO_T_ERROR_CODE) | B(PROTO_T_ERROR_TEXT) |
		B(PROTO_T_ECHO_SEQ) | B(PROTO_T_CERT),
		B(PROTO_T_ERROR_CODE) | B(PROTO_T_ECHO_SEQ), 6, false },
	/* Unauthenticated: it only asks for the request again with the cookie. */
	[PROTO_OP_COOKIE] = {
		B(PROTO_T_COOKIE) | B(PROTO_T_ECHO_SEQ),
		B(PROTO_T_COOKIE) | B(PROTO_T_ECHO_SEQ), 8, false },
	/*
	 * Unauthenticated, like a STUN binding request (docs/protocol.md
	 * 5.9): the request carries the sender's own address (ADDR), the
	 * answer the endpoint the NMS saw (OBSERVED) under the request's
	 * node id and sequence number: the same size, so no amplification.
	 */
	[PROTO_OP_MAPPING] = { B(PROTO_T_ADDR), B(PROTO_T_ADDR), 8, true },
	[PROTO_OP_MAPPING_ACK] = { B(PROTO_T_OBSERVED), B(PROTO_T_OBSERVED), 8, false },
};

/* ---- byte order ------------------------------------------------------------ */

uint16_t proto_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t proto_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

uint64_t proto_get_u64(const uint8_t *p)
{
	return (uint64_t)proto_get_u32(p) << 32 | proto_get_u32(p + 4);
}

void proto_put_bytes(struct proto_buf *b, const void *p, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void proto_put_u8(struct proto_buf *b, uint8_t v)
{
	proto_put_bytes(b, &v, 1);
}

void proto_put_u16(struct proto_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	proto_put_bytes(b, x, 2);
}

void proto_put_u32(struct proto_buf *b, uint32_t v)
{
	proto_put_u16(b, (uint16_t)(v >> 16));
	proto_put_u16(b, (uint16_t)v);
}

void proto_put_u64(struct proto_buf *b, uint64_t v)
{
	proto_put_u32(b, (uint32_t)(v >> 32));
	proto_put_u32(b, (uint32_t)v);
}

/* ---- TLV writers ------------------------------------------------------------ */

void proto_tlv_bytes(struct proto_buf *b, uint16_t t, const void *p, size_t n)
{
	if (n > 0xffff) {
		b->overflow = true;
		return;
	}
	proto_put_u16(b, t);
	proto_put_u16(b, (uint16_t)n);
	proto_put_bytes(b, p, n);
}

void proto_tlv_u8(struct proto_buf *b, uint16_t t, uint8_t v)
{
	proto_tlv_bytes(b, t, &v, 1);
}

void proto_tlv_u16(struct proto_buf *b, uint16_t t, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	proto_tlv_bytes(b, t, x, 2);
}

void proto_tlv_u32(struct proto_buf *b, uint16_t t, uint32_t v)
{
	proto_put_u16(b, t);
	proto_put_u16(b, 4);
	proto_put_u32(b, v);
}

void proto_tlv_u64(struct proto_buf *b, uint16_t t, uint64_t v)
{
	proto_put_u16(b, t);
	proto_put_u16(b, 8);
	proto_put_u64(b, v);
}

void proto_tlv_str(struct proto_buf *b, uint16_t t, const char *s)
{
	proto_tlv_bytes(b, t, s, strlen(s));
}

void proto_tlv_ep(struct proto_buf *b, uint16_t t, const struct proto_ep *ep)
{
	bool v6 = ep->family == 6;

	proto_put_u16(b, t);
	proto_put_u16(b, v6 ? PROTO_EP6_LEN : PROTO_EP4_LEN);
	proto_put_u8(b, v6 ? 6 : 4);
	proto_put_u8(b, 0);
	proto_put_u16(b, ep->port);
	if (v6)
		proto_put_bytes(b, &ep->v6, 16);
	else
		proto_put_bytes(b, &ep->v4, 4);
}

/* ---- endpoints -------------------------------------------------------------- */

int proto_ep_from_sa(struct proto_ep *ep, const struct sockaddr *sa)
{
	memset(ep, 0, sizeof(*ep));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;

		ep->family = 4;
		ep->port = ntohs(s->sin_port);
		ep->v4 = s->sin_addr;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;

		/* A v4-mapped source is an IPv4 peer on a dual-stack socket. */
		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
			ep->family = 4;
			memcpy(&ep->v4, &s->sin6_addr.s6_addr[12], 4);
		} else {
			ep->family = 6;
			ep->v6 = s->sin6_addr;
		}
		ep->port = ntohs(s->sin6_port);
		return 0;
	}
	return -1;
}

socklen_t proto_ep_to_sa(const struct proto_ep *ep, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == 4) {
		struct sockaddr_in *s = (void *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(ep->port);
		s->sin_addr = ep->v4;
		return sizeof(*s);
	}
	if (ep->family == 6) {
		struct sockaddr_in6 *s = (void *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(ep->port);
		s->sin6_addr = ep->v6;
		return sizeof(*s);
	}
	return 0;
}

bool proto_ep_equal(const struct proto_ep *a, const struct proto_ep *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family == 4)
		return a->v4.s_addr == b->v4.s_addr;
	if (a->family == 6)
		return !memcmp(&a->v6, &b->v6, 16);
	return true;
}

void proto_ep_format(const struct proto_ep *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ep->family == 4) {
		inet_ntop(AF_INET, &ep->v4, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ep->port);
	} else if (ep->family == 6) {
		inet_ntop(AF_INET6, &ep->v6, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ep->port);
	} else {
		snprintf(buf, len, "-");
	}
}

/* ---- header ------------------------------------------------------------------ */

void proto_hdr_put(struct proto_buf *b, const struct proto_hdr *h)
{
	proto_put_u8(b, CYPHONIC_MSG_SIGNAL);
	proto_put_u8(b, PROTO_VERSION);
	proto_put_u8(b, h->op);
	proto_put_u8(b, h->auth);
	proto_put_u16(b, h->body_len);
	proto_put_u16(b, 0);
	proto_put_u64(b, h->node_id);
	proto_put_u64(b, h->seq);
	proto_put_u64(b, (uint64_t)h->ts_ms);
}

static size_t auth_len(uint8_t auth)
{
	return auth == PROTO_AUTH_SIG ? PROTO_SIG_LEN :
	       auth == PROTO_AUTH_MAC ? PROTO_MAC_LEN : 0;
}

static bool auth_known(uint8_t auth)
{
	return auth == PROTO_AUTH_SIG || auth == PROTO_AUTH_MAC || auth == PROTO_AUTH_NONE;
}

int proto_hdr_parse(const uint8_t *pkt, size_t len, struct proto_hdr *h,
		    const uint8_t **body, size_t *signed_len)
{
	size_t tag;

	if (len < PROTO_SIG_HDR_LEN || pkt[0] != CYPHONIC_MSG_SIGNAL)
		return PROTO_E_MALFORMED;
	if (pkt[1] != PROTO_VERSION)
		return PROTO_E_VERSION;
	h->op = pkt[2];
	h->auth = pkt[3];
	h->body_len = proto_get_u16(pkt + 4);
	h->node_id = proto_get_u64(pkt + 8);
	h->seq = proto_get_u64(pkt + 16);
	h->ts_ms = (int64_t)proto_get_u64(pkt + 24);
	if (h->op < 1 || h->op > PROTO_OP_MAX)
		return PROTO_E_BAD_OP;
	tag = auth_len(h->auth);
	if (!auth_known(h->auth) || !(rules[h->op].auths & (1u << h->auth)))
		return PROTO_E_MALFORMED;
	if (proto_get_u16(pkt + 6) != 0 || h->body_len > PROTO_MAX_BODY)
		return PROTO_E_MALFORMED;
	if (len != PROTO_SIG_HDR_LEN + (size_t)h->body_len + tag)
		return PROTO_E_MALFORMED;
	*body = pkt + PROTO_SIG_HDR_LEN;
	*signed_len = PROTO_SIG_HDR_LEN + h->body_len;
	return 0;
}

/* ---- TLV parser ---------------------------------------------------------------- */

static int parse_ep(const uint8_t *v, size_t n, struct proto_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (n < 4 || v[1] != 0)
		return -1;
	ep->port = proto_get_u16(v + 2);
	if (v[0] == 4 && n == PROTO_EP4_LEN) {
		memcpy(&ep->v4, v + 4, 4);
	} else if (v[0] == 6 && n == PROTO_EP6_LEN) {
		memcpy(&ep->v6, v + 4, 16);
	} else {
		return -1;
	}
	ep->family = v[0];
	return ep->port ? 0 : -1;
}

/* Copies a string TLV: printable ASCII only, so logs stay safe. */
static int parse_str(const uint8_t *v, size_t n, char *out, size_t max)
{
	size_t i;

	if (n < 1 || n > max)
		return -1;
	for (i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return -1;
	memcpy(out, v, n);
	out[n] = 0;
	return 0;
}

#define NEED(cond) do { if (!(cond)) return -1; } while (0)

static int parse_tlv(struct proto_msg *m, uint16_t t, const uint8_t *v,
		     size_t n)
{
	switch (t) {
	case PROTO_T_CERT:
		NEED(n >= 1 && n <= PROTO_MAX_CERT);
		m->cert = v;
		m->cert_len = n;
		return 0;
	case PROTO_T_EPHEMERAL:
		NEED(n == 32);
		memcpy(m->ephemeral, v, 32);
		return 0;
	case PROTO_T_ADDR:
		NEED(m->n_addrs < PROTO_MAX_ADDRS);
		return parse_ep(v, n, &m->addrs[m->n_addrs++]);
	case PROTO_T_NAT:
		NEED(n == 1 && v[0] <= PROTO_NAT_SYMMETRIC);
		m->nat = v[0];
		return 0;
	case PROTO_T_OBSERVED:
		return parse_ep(v, n, &m->observed);
	case PROTO_T_LIFETIME:
		NEED(n == 4);
		m->lifetime_s = proto_get_u32(v);
		return 0;
	case PROTO_T_KEEPALIVE:
		NEED(n == 4);
		m->keepalive_s = proto_get_u32(v);
		return 0;
	case PROTO_T_ECHO_SEQ:
		NEED(n == 8);
		m->echo_seq = proto_get_u64(v);
		return 0;
	case PROTO_T_REQ_HASH:
		NEED(n == 32);
		memcpy(m->req_hash, v, 32);
		return 0;
	case PROTO_T_TARGET_FQDN:
		return parse_str(v, n, m->target_fqdn, PROTO_MAX_FQDN);
	case PROTO_T_TARGET_VIP4:
		NEED(n == 4);
		memcpy(&m->target_vip4, v, 4);
		return 0;
	case PROTO_T_TARGET_VIP6:
		NEED(n == 16);
		memcpy(&m->target_vip6, v, 16);
		return 0;
	case PROTO_T_ROUTE_FLAGS:
		NEED(n == 4);
		m->route_flags = proto_get_u32(v);
		NEED(!(m->route_flags & ~PROTO_RF_ALL));
		return 0;
	case PROTO_T_MODE:
		NEED(n == 1 && v[0] >= PROTO_MODE_DIRECT &&
		     v[0] <= PROTO_MODE_RELAY);
		m->mode = v[0];
		return 0;
	case PROTO_T_PEER_ID:
		NEED(n == 8);
		m->peer_id = proto_get_u64(v);
		return 0;
	case PROTO_T_PEER_FQDN:
		return parse_str(v, n, m->peer_fqdn, PROTO_MAX_FQDN);
	case PROTO_T_PEER_VIP4:
		NEED(n == 4);
		memcpy(&m->peer_vip4, v, 4);
		return 0;
	case PROTO_T_PEER_VIP6:
		NEED(n == 16);
		memcpy(&m->peer_vip6, v, 16);
		return 0;
	case PROTO_T_PEER_ENDPOINT:
		NEED(m->n_peer_eps < PROTO_MAX_ADDRS);
		return parse_ep(v, n, &m->peer_eps[m->n_peer_eps++]);
	case PROTO_T_PEER_PUBKEY:
		NEED(n == 32);
		memcpy(m->peer_pubkey, v, 32);
		return 0;
	case PROTO_T_RELAY_ENDPOINT:
		return parse_ep(v, n, &m->relay_ep);
	case PROTO_T_RELAY_SESSION:
		NEED(n == 4);
		m->relay_session = proto_get_u32(v);
		NEED(m->relay_session != 0);
		return 0;
	case PROTO_T_RELAY_END:
		NEED(n == 1 && v[0] <= 1);
		m->relay_end = v[0];
		return 0;
	case PROTO_T_RELAY_EXPIRY:
		NEED(n == 8);
		m->relay_expiry = proto_get_u64(v);
		return 0;
	case PROTO_T_RELAY_SECRET:
		NEED(n == 32);
		memcpy(m->relay_secret, v, 32);
		return 0;
	case PROTO_T_PUNCH_ID:
		NEED(n == 8);
		m->punch_id = proto_get_u64(v);
		return 0;
	case PROTO_T_PUNCH_SECRET:
		NEED(n == 32);
		memcpy(m->punch_secret, v, 32);
		return 0;
	case PROTO_T_ERROR_CODE:
		NEED(n == 2);
		m->error_code = proto_get_u16(v);
		return 0;
	case PROTO_T_ERROR_TEXT:
		return parse_str(v, n, m->error_text, PROTO_MAX_TEXT);
	case PROTO_T_NOTIFY_ID:
		NEED(n == 8);
		m->notify_id = proto_get_u64(v);
		return 0;
	case PROTO_T_ROLE:
		NEED(n == 1);
		m->role = v[0];
		return 0;
	case PROTO_T_COOKIE:
		NEED(n == PROTO_COOKIE_LEN);
		memcpy(m->cookie, v, n);
		return 0;
	case PROTO_T_CHALLENGE:
		NEED(n == PROTO_CHALLENGE_LEN);
		memcpy(m->challenge, v, n);
		return 0;
	}
	return -1;
}

static bool repeatable(uint16_t t)
{
	return t == PROTO_T_ADDR || t == PROTO_T_PEER_ENDPOINT;
}

static int parse_body(struct proto_msg *m, const uint8_t *p, size_t len)
{
	const struct op_rule *r = &rules[m->hdr.op];

	while (len) {
		uint16_t t, n;

		if (len < 4)
			return PROTO_E_MALFORMED;
		t = proto_get_u16(p);
		n = proto_get_u16(p + 2);
		if (n > len - 4)
			return PROTO_E_MALFORMED;
		if ((t & ~PROTO_TLV_CRITICAL) > PROTO_T_MAX ||
		    !(r->allowed & B(t & ~PROTO_TLV_CRITICAL))) {
			/* Unknown to this op: skip, unless critical. */
			if (t & PROTO_TLV_CRITICAL)
				return PROTO_E_MALFORMED;
		} else {
			t &= ~PROTO_TLV_CRITICAL;
			if ((m->present & B(t)) && !repeatable(t))
				return PROTO_E_MALFORMED;
			if (parse_tlv(m, t, p + 4, n))
				return PROTO_E_MALFORMED;
			m->present |= B(t);
		}
		p += 4 + n;
		len -= 4 + n;
	}
	return 0;
}

static bool has_route_info(const struct proto_msg *m)
{
	uint64_t relay = B(PROTO_T_RELAY_ENDPOINT) | B(PROTO_T_RELAY_SESSION) |
			 B(PROTO_T_RELAY_END) | B(PROTO_T_RELAY_EXPIRY) |
			 B(PROTO_T_RELAY_SECRET);
	uint64_t punch = B(PROTO_T_PUNCH_ID) | B(PROTO_T_PUNCH_SECRET);

	switch (m->mode) {
	case PROTO_MODE_DIRECT:
		return m->n_peer_eps > 0;
	case PROTO_MODE_PUNCH:
		return m->n_peer_eps > 0 && (m->present & punch) == punch;
	case PROTO_MODE_RELAY:
		return (m->present & relay) == relay;
	}
	return false;
}

/* Cross-TLV rules that a table of masks cannot express. */
static bool semantics_ok(const struct proto_msg *m)
{
	uint64_t tgt = m->present & (B(PROTO_T_TARGET_FQDN) |
				     B(PROTO_T_TARGET_VIP4) |
				     B(PROTO_T_TARGET_VIP6));
	bool sig = m->hdr.auth == PROTO_AUTH_SIG;

	switch (m->hdr.op) {
	case PROTO_OP_REGISTER:
		/* Full registration: certificate + ephemeral, signed. */
		if (sig)
			return PROTO_HAS(m, PROTO_T_CERT) &&
			       PROTO_HAS(m, PROTO_T_EPHEMERAL);
		return !PROTO_HAS(m, PROTO_T_CERT) &&
		       !PROTO_HAS(m, PROTO_T_EPHEMERAL);
	case PROTO_OP_REGISTER_ACK:
		if (sig)
			return PROTO_HAS(m, PROTO_T_EPHEMERAL) &&
			       PROTO_HAS(m, PROTO_T_REQ_HASH);
		return !PROTO_HAS(m, PROTO_T_EPHEMERAL);
	case PROTO_OP_ROUTE_REQ:
		return tgt && !(tgt & (tgt - 1));	/* exactly one */
	case PROTO_OP_ROUTE_RESP:
		return has_route_info(m);
	case PROTO_OP_PEER_NOTIFY:
		return m->mode != PROTO_MODE_DIRECT && has_route_info(m);
	case PROTO_OP_ERROR:
		return m->error_code != PROTO_E_OK;
	}
	return true;
}

int proto_msg_parse(const uint8_t *pkt, size_t len, struct proto_msg *m)
{
	const uint8_t *body;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = proto_hdr_parse(pkt, len, &m->hdr, &body, &m->signed_len);
	if (rc)
		return rc;
	rc = parse_body(m, body, m->hdr.body_len);
	if (rc)
		return rc;
	if ((m->present & rules[m->hdr.op].required) !=
	    rules[m->hdr.op].required || !semantics_ok(m))
		return PROTO_E_MALFORMED;
	m->auth_tag = pkt + m->signed_len;
	return 0;
}

void proto_msg_begin(struct proto_buf *b, uint8_t *mem, size_t cap,
		     const struct proto_hdr *h)
{
	b->p = mem;
	b->cap = cap;
	b->len = 0;
	b->overflow = false;
	proto_hdr_put(b, h);
}

size_t proto_msg_finish(struct proto_buf *b)
{
	size_t body;

	if (b->overflow || b->len < PROTO_SIG_HDR_LEN)
		return 0;
	body = b->len - PROTO_SIG_HDR_LEN;
	if (body > PROTO_MAX_BODY)
		return 0;
	b->p[4] = (uint8_t)(body >> 8);
	b->p[5] = (uint8_t)body;
	return b->len;
}

/* ---- RELAY_CTRL ---------------------------------------------------------------- */

void proto_rc_encode(const struct proto_rc *rc, uint8_t out[PROTO_RC_LEN])
{
	struct proto_buf b = { .p = out, .cap = PROTO_RC_LEN };

	proto_put_u8(&b, CYPHONIC_MSG_RELAY_CTRL);
	proto_put_u8(&b, PROTO_VERSION);
	proto_put_u8(&b, rc->op);
	proto_put_u8(&b, rc->end);
	proto_put_u32(&b, rc->session);
	proto_put_u64(&b, rc->node_id);
	proto_put_u64(&b, rc->expiry);
	proto_put_u64(&b, rc->seq);
	proto_put_u64(&b, (uint64_t)rc->ts_ms);
	proto_put_u16(&b, rc->code);
	if (rc->op == PROTO_RC_BIND || rc->op == PROTO_RC_ERROR) {
		proto_put_u16(&b, (uint16_t)(rc->proof >> 32));
		proto_put_u32(&b, (uint32_t)rc->proof);
	} else {
		proto_put_u16(&b, 0);
		proto_put_u32(&b, rc->idle_s);
	}
	proto_put_bytes(&b, rc->mac, PROTO_MAC_LEN);
}

int proto_rc_parse(const uint8_t *pkt, size_t len, struct proto_rc *rc)
{
	if (len != PROTO_RC_LEN || pkt[0] != CYPHONIC_MSG_RELAY_CTRL)
		return PROTO_E_MALFORMED;
	if (pkt[1] != PROTO_VERSION)
		return PROTO_E_VERSION;
	rc->op = pkt[2];
	if (rc->op < PROTO_RC_BIND || rc->op > PROTO_RC_CLOSE)
		return PROTO_E_BAD_OP;
	rc->end = pkt[3];
	rc->session = proto_get_u32(pkt + 4);
	rc->node_id = proto_get_u64(pkt + 8);
	rc->expiry = proto_get_u64(pkt + 16);
	rc->seq = proto_get_u64(pkt + 24);
	rc->ts_ms = (int64_t)proto_get_u64(pkt + 32);
	rc->code = proto_get_u16(pkt + 40);
	rc->idle_s = 0;
	rc->proof = 0;
	if (rc->op == PROTO_RC_BIND || rc->op == PROTO_RC_ERROR)
		rc->proof = (uint64_t)proto_get_u16(pkt + 42) << 32 | proto_get_u32(pkt + 44);
	else if (proto_get_u16(pkt + 42))
		return PROTO_E_MALFORMED;
	else if (rc->op == PROTO_RC_BIND_ACK)
		rc->idle_s = proto_get_u32(pkt + 44);
	memcpy(rc->mac, pkt + PROTO_RC_SIGNED_LEN, PROTO_MAC_LEN);
	if (rc->end > 1 || rc->session == 0)
		return PROTO_E_MALFORMED;
	if ((rc->op == PROTO_RC_ERROR) != (rc->code != 0))
		return PROTO_E_MALFORMED;
	return 0;
}

int proto_relay_parse(const uint8_t *pkt, size_t len, uint32_t *session,
		      const uint8_t **inner, size_t *inner_len)
{
	const size_t hl = sizeof(struct cyphonic_relay_hdr);

	/* Only end-to-end packets may be relayed: DATA and HANDSHAKE. */
	if (len < hl + 1 || pkt[0] != CYPHONIC_MSG_RELAY || pkt[1] || pkt[2] ||
	    pkt[3])
		return -1;
	if (pkt[hl] != CYPHONIC_MSG_DATA && pkt[hl] != CYPHONIC_MSG_HANDSHAKE)
		return -1;
	*session = proto_get_u32(pkt + 4);
	if (!*session)
		return -1;
	*inner = pkt + hl;
	*inner_len = len - hl;
	return 0;
}

bool proto_replay_check(struct proto_replay *w, uint64_t seq, bool commit)
{
	uint64_t shift;

	if (seq == 0)
		return false;	/* 0 is "nothing seen yet" */
	if (seq > w->max) {
		if (commit) {
			shift = seq - w->max;
			w->bitmap = shift >= 64 ? 0 : w->bitmap << shift;
			w->bitmap |= 1;
			w->max = seq;
		}
		return true;
	}
	shift = w->max - seq;
	if (shift >= 64 || (w->bitmap >> shift) & 1)
		return false;
	if (commit)
		w->bitmap |= 1ULL << shift;
	return true;
}
