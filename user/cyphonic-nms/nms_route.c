// SPDX-License-Identifier: MIT
/*
 * Route direction: how a source node reaches a target (docs/protocol.md,
 * "Route direction"). In order of preference:
 *
 *   DIRECT  the target has a public endpoint in a family both share, or
 *           both sit behind the same NAT (same observed address) and the
 *           target reported LAN addresses;
 *   PUNCH   both were observed in the same family and either one is public
 *           or neither NAT is symmetric: both sides probe at once;
 *   RELAY   otherwise, after a failed punch, on request, or when the two
 *           share no address family (IPv4-only <-> IPv6-only).
 */
#include <string.h>
#include "nms.h"

static int fam_bit(uint8_t family)
{
	return family == 4 ? NMS_FAM4 : family == 6 ? NMS_FAM6 : 0;
}

uint8_t nms_reg_families(const struct nms_reg *r)
{
	uint8_t f = (uint8_t)fam_bit(r->observed.family);
	unsigned int i;

	for (i = 0; i < r->n_addrs; i++)
		f |= (uint8_t)fam_bit(r->addrs[i].family);
	return f;
}

static bool same_ip(const struct proto_ep *a, const struct proto_ep *b)
{
	if (a->family != b->family)
		return false;
	return a->family == 4 ? a->v4.s_addr == b->v4.s_addr :
	       !memcmp(&a->v6, &b->v6, 16);
}

/* The observed endpoint is untranslated: the node reported that address. */
static bool observed_is_own(const struct nms_reg *r)
{
	unsigned int i;

	if (r->nat == PROTO_NAT_NONE)
		return true;
	for (i = 0; i < r->n_addrs; i++)
		if (same_ip(&r->addrs[i], &r->observed))
			return true;
	return false;
}

static void add_ep(struct proto_ep *list, unsigned int *n,
		   const struct proto_ep *ep)
{
	unsigned int i;

	if (*n >= PROTO_MAX_ADDRS)
		return;
	for (i = 0; i < *n; i++)
		if (proto_ep_equal(&list[i], ep))
			return;
	list[(*n)++] = *ep;
}

static void add_reported(struct proto_ep *list, unsigned int *n,
			 const struct nms_reg *r, uint8_t family)
{
	unsigned int i;

	for (i = 0; i < r->n_addrs; i++)
		if (r->addrs[i].family == family)
			add_ep(list, n, &r->addrs[i]);
}

/* A public endpoint of r in family, first choice the observed one. */
static bool public_in(const struct nms_reg *r, uint8_t family,
		      struct proto_ep *list, unsigned int *n)
{
	unsigned int before = *n;

	if (r->observed.family == family) {
		if (!observed_is_own(r))
			return false;
		add_ep(list, n, &r->observed);
	} else if (r->nat == PROTO_NAT_NONE) {
		/* Reported but never observed: trust only an explicit claim. */
		add_reported(list, n, r, family);
	}
	return *n > before;
}

static int relay(bool have_relay, struct nms_route *out)
{
	out->mode = PROTO_MODE_RELAY;
	return have_relay ? PROTO_E_OK : PROTO_E_NO_RELAY;
}

static bool try_direct(const struct nms_reg *src, const struct nms_reg *dst,
		       uint8_t common, struct nms_route *out)
{
	uint8_t order[2] = { dst->observed.family,
			     dst->observed.family == 6 ? 4 : 6 };
	int i;

	for (i = 0; i < 2; i++) {
		uint8_t f = order[i];

		if (!(common & fam_bit(f)) || !public_in(dst, f, out->to_dst,
							  &out->n_to_dst))
			continue;
		add_reported(out->to_dst, &out->n_to_dst, dst, f);
		out->family = f;
		out->mode = PROTO_MODE_DIRECT;
		return true;
	}
	/* Behind the same NAT: the LAN addresses are the way. */
	if (src->observed.family && same_ip(&src->observed, &dst->observed)) {
		add_reported(out->to_dst, &out->n_to_dst, dst,
			     dst->observed.family);
		if (out->n_to_dst) {
			out->family = dst->observed.family;
			out->mode = PROTO_MODE_DIRECT;
			return true;
		}
	}
	return false;
}

static bool try_punch(const struct nms_reg *src, const struct nms_reg *dst,
		      struct nms_route *out)
{
	uint8_t f = src->observed.family;
	struct proto_ep tmp[PROTO_MAX_ADDRS];
	unsigned int n = 0;
	bool src_public;

	if (!f || f != dst->observed.family)
		return false;
	src_public = public_in(src, f, tmp, &n);
	if (!src_public && (src->nat == PROTO_NAT_SYMMETRIC ||
			    dst->nat == PROTO_NAT_SYMMETRIC))
		return false;
	out->n_to_dst = out->n_to_src = 0;
	add_ep(out->to_dst, &out->n_to_dst, &dst->observed);
	add_ep(out->to_src, &out->n_to_src, &src->observed);
	out->family = f;
	out->mode = PROTO_MODE_PUNCH;
	return true;
}

int nms_route_decide(const struct nms_reg *src, const struct nms_reg *dst,
		     uint32_t flags, bool have_relay, struct nms_route *out)
{
	uint8_t common = nms_reg_families(src) & nms_reg_families(dst);

	memset(out, 0, sizeof(*out));
	if ((flags & PROTO_RF_FORCE_RELAY) || !common)
		return relay(have_relay, out);
	if (try_direct(src, dst, common, out))
		return PROTO_E_OK;
	out->n_to_dst = 0;
	if (!(flags & PROTO_RF_PUNCH_FAILED) && try_punch(src, dst, out))
		return PROTO_E_OK;
	return relay(have_relay, out);
}
