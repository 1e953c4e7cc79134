// SPDX-License-Identifier: MIT
/* AS protocol framing and TLV codec (asproto.h). */
#include "asproto.h"
#include "pki/cred.h"
#include "pki/nthash.h"
#include "runtime/dnsname.h"

#include <stdlib.h>
#include <openssl/crypto.h>
#include <string.h>

static const char *const err_names[] = {
	[CYPH_AS_E_MALFORMED] = "malformed",
	[CYPH_AS_E_VERSION] = "unsupported-version",
	[CYPH_AS_E_UNKNOWN_TYPE] = "unknown-type",
	[CYPH_AS_E_AUTH_FAILED] = "auth-failed",
	[CYPH_AS_E_REVOKED] = "revoked",
	[CYPH_AS_E_NOT_AUTHENTICATED] = "not-authenticated",
	[CYPH_AS_E_FORBIDDEN] = "forbidden",
	[CYPH_AS_E_NOT_FOUND] = "not-found",
	[CYPH_AS_E_METHOD] = "method-mismatch",
	[CYPH_AS_E_INTERNAL] = "internal",
	[CYPH_AS_E_DRAINING] = "draining",
	[CYPH_AS_E_TOO_LARGE] = "too-large",
	[CYPH_AS_E_RATE_LIMITED] = "rate-limited",
};

const char *cyph_as_err_name(uint16_t code)
{
	if (code < sizeof(err_names) / sizeof(err_names[0]) && err_names[code])
		return err_names[code];
	return "unknown-error";
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void cyph_as_buf_init(struct cyph_as_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void cyph_as_buf_free(struct cyph_as_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static uint8_t *reserve(struct cyph_as_buf *b, size_t n)
{
	if (b->failed)
		return NULL;
	if (b->len + n > b->max) {
		b->failed = true;
		return NULL;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *d;

		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->failed = true;
			return NULL;
		}
		b->data = d;
		b->cap = cap;
	}
	b->len += n;
	return b->data + b->len - n;
}

void cyph_as_begin(struct cyph_as_buf *b, uint8_t type, uint32_t req_id)
{
	uint8_t *p;

	b->len = 0;
	b->failed = false;
	p = reserve(b, CYPH_AS_HDR_LEN);
	if (!p)
		return;
	memset(p, 0, CYPH_AS_HDR_LEN);
	p[4] = CYPH_AS_VERSION;
	p[5] = type;
	put_be(p + 8, req_id, 4);
}

void cyph_as_put(struct cyph_as_buf *b, uint16_t attr, const void *v, size_t len)
{
	uint8_t *p;

	if (len > 0xffff) {
		b->failed = true;
		return;
	}
	p = reserve(b, 4 + len);
	if (!p)
		return;
	put_be(p, attr, 2);
	put_be(p + 2, len, 2);
	if (len)
		memcpy(p + 4, v, len);
}

void cyph_as_put_u8(struct cyph_as_buf *b, uint16_t attr, uint8_t v)
{
	cyph_as_put(b, attr, &v, 1);
}

void cyph_as_put_u16(struct cyph_as_buf *b, uint16_t attr, uint16_t v)
{
	uint8_t p[2];

	put_be(p, v, 2);
	cyph_as_put(b, attr, p, 2);
}

void cyph_as_put_u64(struct cyph_as_buf *b, uint16_t attr, uint64_t v)
{
	uint8_t p[8];

	put_be(p, v, 8);
	cyph_as_put(b, attr, p, 8);
}

void cyph_as_put_str(struct cyph_as_buf *b, uint16_t attr, const char *s)
{
	cyph_as_put(b, attr, s, strlen(s));
}

size_t cyph_as_nest_begin(struct cyph_as_buf *b, uint16_t attr)
{
	size_t off = b->len;

	cyph_as_put(b, attr, NULL, 0);
	return off;
}

void cyph_as_nest_end(struct cyph_as_buf *b, size_t off)
{
	size_t inner = b->len - off - 4;

	if (b->failed)
		return;
	if (inner > 0xffff) {
		b->failed = true;
		return;
	}
	put_be(b->data + off + 2, inner, 2);
}

int cyph_as_finish(struct cyph_as_buf *b)
{
	if (b->failed || b->len < CYPH_AS_HDR_LEN)
		return -1;
	put_be(b->data, b->len - 4, 4);
	return 0;
}

size_t cyph_as_frame_len(const uint8_t *buf, size_t have)
{
	if (have < 4)
		return 0;
	return (size_t)get_be(buf, 4) + 4;
}

int cyph_as_parse(const uint8_t *frame, size_t len, struct cyph_as_msg *m)
{
	if (len < CYPH_AS_HDR_LEN || cyph_as_frame_len(frame, len) != len)
		return -1;
	m->version = frame[4];
	m->type = frame[5];
	m->req_id = (uint32_t)get_be(frame + 8, 4);
	m->attrs = frame + CYPH_AS_HDR_LEN;
	m->attrs_len = len - CYPH_AS_HDR_LEN;
	return 0;
}

int cyph_as_next(const uint8_t **p, size_t *left, struct cyph_as_attr_v *a)
{
	if (!*left)
		return 0;
	if (*left < 4)
		return -1;
	a->type = (uint16_t)get_be(*p, 2);
	a->len = (uint16_t)get_be(*p + 2, 2);
	if ((size_t)a->len + 4 > *left)
		return -1;
	a->v = *p + 4;
	*p += 4 + a->len;
	*left -= 4 + (size_t)a->len;
	return 1;
}

/* ---- typed parsing ---- */

/* Copies a string attribute (no NULs, min..max bytes). */
static int get_str(const struct cyph_as_attr_v *a, char *dst, size_t cap, size_t min)
{
	if (a->len < min || a->len >= cap || memchr(a->v, '\0', a->len))
		return -1;
	memcpy(dst, a->v, a->len);
	dst[a->len] = '\0';
	return 0;
}

static int get_fixed(const struct cyph_as_attr_v *a, void *dst, size_t len)
{
	if (a->len != len)
		return -1;
	memcpy(dst, a->v, len);
	return 0;
}

/* Bit per attribute type seen (types < 64), for duplicate detection. */
static int seen_once(uint64_t *seen, uint16_t type)
{
	uint64_t bit;

	if (type >= 64)
		return 0;
	bit = (uint64_t)1 << type;
	if (*seen & bit)
		return -1;
	*seen |= bit;
	return 0;
}

#define FOR_ATTRS(m_p, m_left, a, rc) \
	for (; ((rc) = cyph_as_next(&(m_p), &(m_left), &(a))) == 1;)

int cyph_as_parse_auth_req(const struct cyph_as_msg *m, struct cyph_as_auth_req *r,
			   const char **why)
{
	const uint8_t *p = m->attrs;
	size_t left = m->attrs_len;
	struct cyph_as_attr_v a;
	uint64_t seen = 0;
	int rc, bad = 0;

	memset(r, 0, sizeof(*r));
	FOR_ATTRS(p, left, a, rc) {
		if (seen_once(&seen, a.type)) {
			*why = "duplicate attribute";
			return -1;
		}
		if (a.type == CYPH_AS_A_NAME)
			bad |= get_str(&a, r->name, sizeof(r->name), 1);
		else if (a.type == CYPH_AS_A_PASSWORD)
			bad |= get_str(&a, r->password, sizeof(r->password), 0);
		else if (a.type == CYPH_AS_A_PUBKEY)
			bad |= get_fixed(&a, r->pubkey, 32);
		if (bad) {
			*why = "attribute with a bad length or content";
			return -1;
		}
	}
	if (rc < 0) {
		*why = "truncated attribute";
		return -1;
	}
	if (!(seen & (1u << CYPH_AS_A_NAME)) || !(seen & (1u << CYPH_AS_A_PASSWORD)) ||
	    !(seen & (1u << CYPH_AS_A_PUBKEY))) {
		*why = "AUTH_REQ needs NAME, PASSWORD and PUBKEY";
		return -1;
	}
	return 0;
}

int cyph_as_parse_gn_auth_req(const struct cyph_as_msg *m, struct cyph_as_gn_auth_req *r,
			      const char **why)
{
	const uint8_t *p = m->attrs;
	size_t left = m->attrs_len;
	struct cyph_as_attr_v a;
	uint64_t seen = 0;
	int rc, bad = 0;

	memset(r, 0, sizeof(*r));
	FOR_ATTRS(p, left, a, rc) {
		if (seen_once(&seen, a.type)) {
			*why = "duplicate attribute";
			return -1;
		}
		if (a.type == CYPH_AS_A_MAC)
			bad |= get_fixed(&a, r->mac, 6);
		else if (a.type == CYPH_AS_A_METHOD)
			bad |= get_fixed(&a, &r->method, 1);
		else if (a.type == CYPH_AS_A_USERNAME) {
			bad |= get_str(&a, r->username, sizeof(r->username), 1);
			r->has_username = true;
		} else if (a.type == CYPH_AS_A_PASSWORD)
			bad |= get_str(&a, r->password, sizeof(r->password), 0);
		else if (a.type == CYPH_AS_A_EAP_RESULT)
			bad |= get_fixed(&a, &r->eap_result, 1);
		else if (a.type == CYPH_AS_A_PUBKEY)
			bad |= get_fixed(&a, r->pubkey, 32);
		if (bad) {
			*why = "attribute with a bad length or content";
			return -1;
		}
	}
	if (rc < 0) {
		*why = "truncated attribute";
		return -1;
	}
	if (!(seen & (1u << CYPH_AS_A_MAC)) || !(seen & (1u << CYPH_AS_A_METHOD)) ||
	    !(seen & (1u << CYPH_AS_A_PUBKEY))) {
		*why = "GN_AUTH_REQ needs MAC, METHOD and PUBKEY";
		return -1;
	}
	return 0;
}

/* Attributes shared by a credential and a general node entry. */
static int identity_attr(const struct cyph_as_attr_v *a, uint64_t *id, uint8_t *role,
			 char *fqdn, struct in_addr *v4, bool *h4, struct in6_addr *v6,
			 bool *h6)
{
	uint8_t b[8];

	switch (a->type) {
	case CYPH_AS_A_NODE_ID:
		if (get_fixed(a, b, 8))
			return -1;
		*id = get_be(b, 8);
		return 0;
	case CYPH_AS_A_ROLE:
		return role ? get_fixed(a, role, 1) : 0;
	case CYPH_AS_A_FQDN:
		/* it ends up in the adapter's files and its DNS: a DNS name only */
		return get_str(a, fqdn, 256, 1) || !cyph_dns_name_valid(fqdn) ? -1 : 0;
	case CYPH_AS_A_VIP4:
		*h4 = true;
		return get_fixed(a, v4, 4);
	case CYPH_AS_A_VIP6:
		*h6 = true;
		return get_fixed(a, v6, 16);
	}
	return 0;
}

int cyph_as_parse_cred(const struct cyph_as_msg *m, struct cyph_as_cred *c, const char **why)
{
	const uint8_t *p = m->attrs;
	size_t left = m->attrs_len;
	struct cyph_as_attr_v a;
	uint64_t seen = 0;
	uint8_t b[8];
	int rc, bad;

	memset(c, 0, sizeof(*c));
	FOR_ATTRS(p, left, a, rc) {
		if (seen_once(&seen, a.type)) {
			*why = "duplicate attribute";
			return -1;
		}
		bad = identity_attr(&a, &c->node_id, &c->role, c->fqdn, &c->vip4, &c->has_vip4,
				    &c->vip6, &c->has_vip6);
		if (a.type == CYPH_AS_A_NOT_AFTER) {
			bad = get_fixed(&a, b, 8);
			c->not_after = (int64_t)get_be(b, 8);
		} else if (a.type == CYPH_AS_A_CERT) {
			c->cert = a.v;
			c->cert_len = a.len;
		} else if (a.type == CYPH_AS_A_CA_CERT) {
			c->ca_cert = a.v;
			c->ca_cert_len = a.len;
		}
		if (bad) {
			*why = "attribute with a bad length or content";
			return -1;
		}
	}
	if (rc < 0 || !c->cert_len || !(seen & (1u << CYPH_AS_A_NODE_ID))) {
		*why = rc < 0 ? "truncated attribute" : "credential needs NODE_ID and CERT";
		return -1;
	}
	return 0;
}

int cyph_as_parse_error(const struct cyph_as_msg *m, struct cyph_as_error *e, const char **why)
{
	const uint8_t *p = m->attrs;
	size_t left = m->attrs_len;
	struct cyph_as_attr_v a;
	uint8_t b[2];
	int rc;

	memset(e, 0, sizeof(*e));
	FOR_ATTRS(p, left, a, rc) {
		if (a.type == CYPH_AS_A_ERR_CODE && !get_fixed(&a, b, 2))
			e->code = (uint16_t)get_be(b, 2);
		else if (a.type == CYPH_AS_A_ERR_MSG) {
			size_t n = a.len < sizeof(e->msg) ? a.len : sizeof(e->msg) - 1;

			memcpy(e->msg, a.v, n);
			e->msg[n] = '\0';
			for (size_t i = 0; i < n; i++)	/* it is printed */
				if ((unsigned char)e->msg[i] < 0x20)
					e->msg[i] = '?';
		} else if (a.type == CYPH_AS_A_VERSION)
			get_fixed(&a, &e->version, 1);
	}
	if (rc < 0 || !e->code) {
		*why = "ERROR without a code";
		return -1;
	}
	return 0;
}

static int parse_gnode(const uint8_t *p, size_t left, struct cyph_principal *g)
{
	uint8_t nt[16];
	struct cyph_as_attr_v a;
	int rc, bad;

	memset(g, 0, sizeof(*g));
	g->role = CYPH_ROLE_GENERAL;
	FOR_ATTRS(p, left, a, rc) {
		bad = identity_attr(&a, &g->id, NULL, g->fqdn, &g->vip4, &g->has_vip4,
				    &g->vip6, &g->has_vip6);
		if (a.type == CYPH_AS_A_NAME)	/* a DNS label, as the AS stores it */
			bad = get_str(&a, g->name, sizeof(g->name), 1) || !cyph_name_valid(g->name);
		else if (a.type == CYPH_AS_A_MAC)
			bad = get_fixed(&a, g->mac, 6);
		else if (a.type == CYPH_AS_A_METHOD)
			bad = get_fixed(&a, &g->method, 1);
		else if (a.type == CYPH_AS_A_IP_MODE)
			bad = get_fixed(&a, &g->ip_mode, 1);
		else if (a.type == CYPH_AS_A_EAP_SECRET && !(bad = get_fixed(&a, nt, 16)))
			cyph_nt_format(nt, g->pwhash);
		if (bad)
			return -1;
	}
	OPENSSL_cleanse(nt, sizeof(nt));
	return rc < 0 || !g->id ? -1 : 0;
}

int cyph_as_parse_gn_list(const struct cyph_as_msg *m,
			  int (*cb)(const struct cyph_principal *g, void *arg), void *arg,
			  const char **why)
{
	const uint8_t *p = m->attrs;
	size_t left = m->attrs_len;
	struct cyph_as_attr_v a;
	struct cyph_principal g;
	int rc;

	FOR_ATTRS(p, left, a, rc) {
		if (a.type != CYPH_AS_A_GNODE)
			continue;
		if (parse_gnode(a.v, a.len, &g)) {
			*why = "malformed GNODE";
			return -1;
		}
		if (cb(&g, arg))
			break;
	}
	if (rc < 0) {
		*why = "truncated attribute";
		return -1;
	}
	return 0;
}

void cyph_as_put_cred(struct cyph_as_buf *b, const struct cyph_as_cred *c)
{
	cyph_as_put_u64(b, CYPH_AS_A_NODE_ID, c->node_id);
	cyph_as_put_u8(b, CYPH_AS_A_ROLE, c->role);
	if (c->fqdn[0])
		cyph_as_put_str(b, CYPH_AS_A_FQDN, c->fqdn);
	if (c->has_vip4)
		cyph_as_put(b, CYPH_AS_A_VIP4, &c->vip4, 4);
	if (c->has_vip6)
		cyph_as_put(b, CYPH_AS_A_VIP6, &c->vip6, 16);
	cyph_as_put_u64(b, CYPH_AS_A_NOT_AFTER, (uint64_t)c->not_after);
	cyph_as_put(b, CYPH_AS_A_CERT, c->cert, c->cert_len);
	if (c->ca_cert)
		cyph_as_put(b, CYPH_AS_A_CA_CERT, c->ca_cert, c->ca_cert_len);
}

void cyph_as_put_gnode(struct cyph_as_buf *b, const struct cyph_principal *g)
{
	size_t off = cyph_as_nest_begin(b, CYPH_AS_A_GNODE);
	uint8_t nt[16];

	cyph_as_put_u64(b, CYPH_AS_A_NODE_ID, g->id);
	cyph_as_put_str(b, CYPH_AS_A_NAME, g->name);
	cyph_as_put(b, CYPH_AS_A_MAC, g->mac, 6);
	cyph_as_put_u8(b, CYPH_AS_A_METHOD, g->method);
	cyph_as_put_u8(b, CYPH_AS_A_IP_MODE, g->ip_mode);
	cyph_as_put_str(b, CYPH_AS_A_FQDN, g->fqdn);
	if (g->has_vip4)
		cyph_as_put(b, CYPH_AS_A_VIP4, &g->vip4, 4);
	if (g->has_vip6)
		cyph_as_put(b, CYPH_AS_A_VIP6, &g->vip6, 16);
	/* 802.1X: the authenticator on the adapter needs the NT hash; never a PBKDF2 hash */
	if (g->method == CYPH_GN_8021X && cyph_nt_parse(g->pwhash, nt))
		cyph_as_put(b, CYPH_AS_A_EAP_SECRET, nt, 16);
	OPENSSL_cleanse(nt, sizeof(nt));
	cyph_as_nest_end(b, off);
}
