// SPDX-License-Identifier: MIT
/*
 * The NAT's mapping type (RFC 4787 section 4.1), told to the NMS in
 * every REGISTER so it picks punch or relay up front (docs/protocol.md
 * 5.9). After each registration the node sends a MAPPING from its own
 * socket (the kernel's, the one peers will see) to the NMS's second port,
 * [nms] mapping_address, and compares the endpoint that port saw with the
 * one the registration port saw:
 *
 *   the registration's endpoint is one of the node's own addresses: none
 *   (no translation); the two are equal: cone (endpoint-independent
 *   mapping, hole punching works); they differ: symmetric (a new mapping
 *   per destination: the endpoint the NMS hands to a peer is useless, and
 *   the NMS directs RELAY at once instead of after a failed 2 s punch).
 *
 * No answer after TRIES (lost, or no mapping port): unknown, which the
 * NMS treats as before (punch, then relay). A MAPPING is unauthenticated:
 * an on-path forger could make a node claim the wrong type, which costs
 * a punch that fails into the relay, or a relay where a punch would have
 * worked, never confidentiality (the handshake authenticates the peer).
 * A second port on the same address finds endpoint-dependent mapping; a
 * mapping that depends only on the destination address needs the port on
 * another address, which the key allows.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include "runtime/evloop.h"
#include "wire/proto.h"
#include "wire/proto_udp.h"
#include "cyphonicd.h"

#define TRY_MS 500
#define TRIES 3

static const char *const names[] = { "unknown", "none", "cone", "symmetric" };

const char *cyd_nat_name(uint8_t type)
{
	return type <= PROTO_NAT_SYMMETRIC ? names[type] : "unknown";
}

static void on_try(struct cyph_loop *loop, struct cyph_timer *tm, void *arg);

static void send_mapping(struct cyd_nat *n)
{
	struct cyd *d = n->d;
	const struct cyph_cfg_addr *a = &d->cfg.nms_mapping;
	struct proto_hdr h = {
		.op = PROTO_OP_MAPPING, .auth = PROTO_AUTH_NONE, .node_id = d->cred.node_id,
		.ts_ms = proto_now_ms(),
	};
	uint8_t mem[128];
	struct proto_buf b;
	size_t len;

	if (getrandom(&n->seq, sizeof(n->seq), 0) != sizeof(n->seq))
		n->seq = cyph_now_ms();
	h.seq = n->seq;
	proto_msg_begin(&b, mem, sizeof(mem), &h);
	/* What the registration port saw: the comparison's base, and the
	 * padding that keeps the answer no larger than the request. */
	proto_tlv_ep(&b, PROTO_T_ADDR, &d->reg.nmsc.observed);
	len = proto_msg_finish(&b);
	n->tries++;
	if (len && sendto(d->reg.fd, mem, len, 0, (const struct sockaddr *)&a->ss, a->len) < 0)
		log_debug("MAPPING to %s: %s", a->text, strerror(errno));
	n->timer = cyph_loop_add_timer(d->loop, TRY_MS, false, on_try, n);
}

static void on_try(struct cyph_loop *loop, struct cyph_timer *tm, void *arg)
{
	struct cyd_nat *n = arg;

	(void)loop;
	(void)tm;
	n->timer = NULL;	/* one-shot */
	if (n->tries < TRIES) {
		send_mapping(n);
		return;
	}
	n->seq = 0;
	log_warn("NAT type: no answer from the NMS's mapping port %s (%u tries): %s",
		 n->d->cfg.nms_mapping.text, n->tries, cyd_nat_name(n->type));
	cyd_metrics_nat_check(false);
}

void cyd_nat_check(struct cyd_nat *n, struct cyd *d)
{
	n->d = d;
	if (!d->cfg.nms_mapping.len || d->cfg.nms_mapping.ss.ss_family != d->cfg.nms_addr.ss.ss_family)
		return;
	if (n->timer)
		cyph_loop_del_timer(d->loop, n->timer);
	n->tries = 0;
	send_mapping(n);
}

/* The registration's endpoint is one of our own addresses: no NAT. */
static bool own_address(const struct cyd *d, const struct proto_ep *ep)
{
	for (unsigned int i = 0; i < d->loc.n; i++)
		if (d->loc.eps[i].family == ep->family &&
		    (ep->family == 4 ? d->loc.eps[i].v4.s_addr == ep->v4.s_addr :
		     !memcmp(&d->loc.eps[i].v6, &ep->v6, 16)))
			return true;
	return false;
}

bool cyd_nat_input(struct cyd_nat *n, const uint8_t *pkt, size_t len)
{
	struct cyd *d = n->d;
	const struct proto_ep *reg;
	struct proto_msg m;
	char a[64], b[64];
	uint8_t type;

	if (len < 3 || pkt[2] != PROTO_OP_MAPPING_ACK)
		return false;
	if (!d || !n->seq || proto_msg_parse(pkt, len, &m) || m.hdr.seq != n->seq ||
	    m.hdr.node_id != d->cred.node_id) {
		cyd_metrics_signal_dropped();
		return true;
	}
	n->seq = 0;
	if (n->timer)
		cyph_loop_del_timer(d->loop, n->timer);
	n->timer = NULL;
	reg = &d->reg.nmsc.observed;
	type = own_address(d, reg) ? PROTO_NAT_NONE :
	       proto_ep_equal(reg, &m.observed) ? PROTO_NAT_CONE : PROTO_NAT_SYMMETRIC;
	proto_ep_format(reg, a, sizeof(a));
	proto_ep_format(&m.observed, b, sizeof(b));
	cyd_metrics_nat_check(true);
	if (type == n->type)
		return true;
	log_info("NAT type %s: the registration port saw %s, the mapping port %s", cyd_nat_name(type),
		 a, b);
	n->type = type;
	cyd_metrics_nat_type(type);
	/* A refresh REGISTER carries the type (and the adapter's devices'). */
	cyd_reg_location_changed(&d->reg, 0);
	cyd_adapter_location_changed(&d->adapter, 0);
	return true;
}

void cyd_nat_stop(struct cyd_nat *n)
{
	if (n->d && n->timer)
		cyph_loop_del_timer(n->d->loop, n->timer);
	n->timer = NULL;
}
