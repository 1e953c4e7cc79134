// SPDX-License-Identifier: MIT
/*
 * Registration at the NMS (docs/protocol.md sections 5, 6 and 9), sent
 * from the node's own UDP socket, the one the kernel sends DATA from, so
 * the NMS observes the same NAT mapping that peers will use.
 *
 *   UNREGISTERED --full REGISTER--> REGISTERING --ACK--> REGISTERED
 *   REGISTERED: KEEPALIVE every keepalive_s; an address change sends a
 *   refresh REGISTER at once; NOT_REGISTERED, or lifetime - keepalive
 *   without any answer, starts a full REGISTER again.
 *
 * Requests are retransmitted after 300 ms, doubling up to 5 s, with
 * jitter (client/retry.h: a node fleet that lost its NMS replica does not
 * come back in lockstep), for ever: a node without an NMS keeps trying
 * (and /metrics says so). Each retransmission is a new REGISTER (new
 * sequence number): behind ECMP it reaches another replica once the dead
 * one's route is withdrawn, and no replica refuses it as a replay.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "e2e/session.h"
#include "pki/cred.h"
#include "runtime/evloop.h"
#include "wire/proto_udp.h"
#include "cyphonicd.h"

#define SKEW_MS 30000
#define RETX_AFRESH 6		/* unanswered refreshes before a full REGISTER (~10 s) */

static const struct cyph_retry_policy reg_retry = {
	.first_ms = 300, .max_ms = 5000, .budget_ms = 60000,
};

/* A new backoff cycle: after an answer, a restart, or a spent budget. */
static void retx_reset(struct cyd_reg *r)
{
	uint64_t now = cyph_now_ms();

	cyph_retry_begin(&r->rt, &reg_retry, (int64_t)now, now ^ r->nmsc.node_id ^ (uint64_t)getpid());
}

void cyd_reg_send(struct cyd_reg *r, const uint8_t *p, size_t n)
{
	if (n && sendto(r->fd, p, n, 0, (struct sockaddr *)&r->nms_sa, r->nms_len) < 0)
		log_debug("send to the NMS: %s", strerror(errno));
}

static void set_state(struct cyd_reg *r, enum cyd_reg_state s)
{
	r->state = s;
	if (r == &r->d->reg)
		cyd_metrics_state(s);
	else
		cyd_adapter_reg_state(&r->d->adapter, r);
}

static void on_retx(struct cyph_loop *loop, struct cyph_timer *t, void *arg);

static void send_register(struct cyd_reg *r)
{
	uint8_t buf[PROTO_RC_LEN + 4096];
	int64_t wait;
	size_t n;

	n = nmsc_register(&r->nmsc, buf, sizeof(buf), proto_now_ms(), &r->pending_seq);
	if (!n) {
		log_err("cannot build a REGISTER (certificate too large?)");
		return;
	}
	/* Karn: only an answer to a first try is a round-trip sample. */
	r->rtt_sent_ms = r->rt.tries ? 0 : cyph_now_ms();
	cyd_reg_send(r, buf, n);
	if (r->state == CYD_UNREGISTERED)
		set_state(r, CYD_REGISTERING);
	if (r->retx)
		cyph_loop_del_timer(r->d->loop, r->retx);
	wait = cyph_retry_next(&r->rt, (int64_t)cyph_now_ms());
	if (wait < 0) {		/* never give up: a new cycle */
		retx_reset(r);
		wait = cyph_retry_next(&r->rt, (int64_t)cyph_now_ms());
	}
	r->retx = cyph_loop_add_timer(r->d->loop, (uint64_t)wait, false, on_retx, r);
}

static void on_retx(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct cyd_reg *r = arg;

	(void)loop;
	(void)t;
	r->retx = NULL;		/* one-shot: freed after this callback */
	cyd_metrics_register(false);
	if (r->rt.tries >= RETX_AFRESH && r->nmsc.registered) {
		/* Refreshes unanswered for seconds: the NMS may have lost us. */
		log_warn("NMS does not answer: registering afresh");
		nmsc_reset(&r->nmsc);
		set_state(r, CYD_REGISTERING);
	}
	send_register(r);
}

static void on_keepalive(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct cyd_reg *r = arg;
	uint64_t silent = cyph_now_ms() - r->last_heard_ms;
	uint8_t buf[512];

	(void)loop;
	(void)t;
	if (r->state != CYD_REGISTERED || r->pending_seq)
		return;
	if (silent > (uint64_t)(r->nmsc.lifetime_s - r->nmsc.keepalive_s) * 1000) {
		log_warn("no answer from the NMS for %llu ms: registering afresh",
			 (unsigned long long)silent);
		cyd_reg_restart(r, true);
		return;
	}
	r->rtt_sent_ms = cyph_now_ms();
	cyd_reg_send(r, buf, nmsc_keepalive(&r->nmsc, buf, sizeof(buf), proto_now_ms(), NULL));
}

static void arm_keepalive(struct cyd_reg *r)
{
	uint64_t ms = (r->nmsc.keepalive_s ? r->nmsc.keepalive_s : 25) * 1000ULL;

	if (r->keepalive)
		cyph_loop_del_timer(r->d->loop, r->keepalive);
	r->keepalive = cyph_loop_add_timer(r->d->loop, ms, true, on_keepalive, r);
}

static void registered(struct cyd_reg *r)
{
	bool was = r->state == CYD_REGISTERED;
	char before[sizeof(r->observed)];

	if (r->retx)
		cyph_loop_del_timer(r->d->loop, r->retx);
	r->retx = NULL;
	r->pending_seq = 0;
	retx_reset(r);
	memcpy(before, r->observed, sizeof(before));
	proto_ep_format(&r->nmsc.observed, r->observed, sizeof(r->observed));
	set_state(r, CYD_REGISTERED);
	/* The node's own: a new endpoint (or the first) is a new NAT to judge. */
	if (r == &r->d->reg && (!was || r->change_ms || strcmp(before, r->observed)))
		cyd_nat_check(&r->d->nat, r->d);
	if (r == &r->d->reg && was && strcmp(before, r->observed))
		cyd_tunnels_own_endpoint_changed(&r->d->tun);
	cyd_metrics_register(true);
	arm_keepalive(r);
	if (!was)
		log_info("registered at the NMS as node %llu: observed %s, keepalive %u s, lifetime %u s",
			 (unsigned long long)r->nmsc.node_id, r->observed,
			 r->nmsc.keepalive_s, r->nmsc.lifetime_s);
	if (r->change_ms) {
		uint64_t ms = cyph_now_ms() - r->change_ms;

		cyd_metrics_reregistration(ms);
		log_info("re-registered %llu ms after the address change: observed %s, %u address(es)",
			 (unsigned long long)ms, r->observed, r->nmsc.n_addrs);
		r->change_ms = 0;
	}
}

static void notify(struct cyd_reg *r, const struct nmsc_event *ev)
{
	uint8_t buf[512];

	/* Acknowledged first, so the NMS stops retransmitting; then our side
	 * of the punch or the relay starts (tunnels.c). */
	log_info("peer %llu is routing to us (mode %u)",
		 (unsigned long long)ev->msg.peer_id, ev->msg.mode);
	cyd_reg_send(r, buf, nmsc_notify_ack(&r->nmsc, buf, sizeof(buf), proto_now_ms(),
					 ev->msg.notify_id));
	cyd_tunnels_notify(&r->d->tun, r, ev);
}

void cyd_reg_rtt_sample(struct cyd_reg *r, uint64_t ms)
{
	if (ms > 10000)
		return;		/* not a round trip: an answer to an older try */
	r->srtt_ms = r->srtt_ms ? (uint32_t)((7 * (uint64_t)r->srtt_ms + ms) / 8) : (uint32_t)ms;
	if (!r->srtt_ms)
		r->srtt_ms = 1;
	r->last_rtt_ms = (uint32_t)ms;
	if (r == &r->d->reg)
		e2e_ctx_set_rtt(r->d->tun.ctx, cyd_reg_rtt(r));
}

uint32_t cyd_reg_rtt(const struct cyd_reg *r)
{
	return r->last_rtt_ms > r->srtt_ms ? r->last_rtt_ms : r->srtt_ms;
}

/*
 * A keepalive's answer names the endpoint the NMS saw it from: a new one
 * is a new NAT mapping (the NAT lost its state, or the node moved behind
 * another NAT at the same LAN address), which punched tunnels and the NAT
 * type must follow.
 */
static void keepalive_answered(struct cyd_reg *r)
{
	char before[sizeof(r->observed)];

	memcpy(before, r->observed, sizeof(before));
	proto_ep_format(&r->nmsc.observed, r->observed, sizeof(r->observed));
	if (r != &r->d->reg || !strcmp(before, r->observed))
		return;
	log_info("the NMS sees this node at %s now (was %s)", r->observed, before);
	cyd_nat_check(&r->d->nat, r->d);
	cyd_tunnels_own_endpoint_changed(&r->d->tun);
}

void cyd_reg_input(struct cyd_reg *r, const uint8_t *pkt, size_t len)
{
	struct nmsc_event ev;
	int rc;

	rc = nmsc_input(&r->nmsc, pkt, len, proto_now_ms(), SKEW_MS, &ev);
	if (rc) {
		log_debug("NMS datagram ignored: %s", proto_err_name((unsigned)rc));
		cyd_metrics_signal_dropped();
		return;
	}
	r->last_heard_ms = cyph_now_ms();
	if (r->rtt_sent_ms && (ev.type == NMSC_EV_REGISTERED || ev.type == NMSC_EV_KEEPALIVE)) {
		cyd_reg_rtt_sample(r, r->last_heard_ms - r->rtt_sent_ms);
		r->rtt_sent_ms = 0;
	}
	switch (ev.type) {
	case NMSC_EV_REGISTERED:
		registered(r);
		break;
	case NMSC_EV_KEEPALIVE:
		keepalive_answered(r);
		break;
	case NMSC_EV_NOTIFY:
		notify(r, &ev);
		break;
	case NMSC_EV_ROUTE:
		cyd_tunnels_route(&r->d->tun, r, &ev);
		break;
	case NMSC_EV_ERROR:
		cyd_tunnels_route(&r->d->tun, r, &ev);
		log_warn("NMS error: %s", proto_err_name(ev.error));
		if (ev.error == PROTO_E_NOT_REGISTERED)
			cyd_reg_restart(r, true);
		break;
	case NMSC_EV_COOKIE:	/* NMS under load: again at once, with its cookie */
		send_register(r);
		break;
	}
	if (ev.challenged) {	/* a new address: prove it, the echo rides on this */
		uint8_t buf[512];

		cyd_reg_send(r, buf, nmsc_keepalive(&r->nmsc, buf, sizeof(buf), proto_now_ms(), NULL));
	}
}

void cyd_reg_restart(struct cyd_reg *r, bool full)
{
	if (full) {
		nmsc_reset(&r->nmsc);
		set_state(r, CYD_REGISTERING);
	}
	retx_reset(r);
	send_register(r);
}

void cyd_reg_location_changed(struct cyd_reg *r, uint64_t event_ms)
{
	const struct cyd_location *l = &r->d->loc;

	nmsc_set_location(&r->nmsc, l->eps, l->n, r->d->nat.type);
	/* A re-registration is timed from the change; a first registration
	 * still on its way just carries the new addresses. */
	if (!r->change_ms && r->state == CYD_REGISTERED)
		r->change_ms = event_ms;
	cyd_reg_restart(r, false);
}

int cyd_reg_start(struct cyd_reg *r, struct cyd *d, char *err, size_t errlen)
{
	return cyd_reg_start_as(r, d, &d->cred, err, errlen);
}

int cyd_reg_start_as(struct cyd_reg *r, struct cyd *d, const struct cyd_cred *cred,
		     char *err, size_t errlen)
{
	const struct cyph_cfg_addr *a = &d->cfg.nms_addr;
	char nms_name[300];

	memset(r, 0, sizeof(*r));
	r->d = d;
	r->cred = cred;
	retx_reset(r);
	r->fd = a->ss.ss_family == AF_INET ? d->kdev.fd4 : d->kdev.fd6;
	if (r->fd < 0) {
		snprintf(err, errlen, "[nms] address: %s: the node has no %s socket", a->text,
			 a->ss.ss_family == AF_INET ? "IPv4" : "IPv6");
		return -1;
	}
	memcpy(&r->nms_sa, &a->ss, a->len);
	r->nms_len = a->len;
	cyd_config_nms_name(&d->cfg, r->cred->fqdn, nms_name, sizeof(nms_name));
	nmsc_init(&r->nmsc, r->cred->node_id, r->cred->key, r->cred->cert, r->cred->cert_len,
		  proto_now_ms());
	nmsc_trust_ca(&r->nmsc, d->ca, nms_name);
	nmsc_set_location(&r->nmsc, d->loc.eps, d->loc.n, d->nat.type);
	log_info("registering at NMS %s (%s) with %u address(es)", a->text, nms_name, d->loc.n);
	set_state(r, CYD_UNREGISTERED);
	send_register(r);
	return 0;
}

void cyd_reg_stop(struct cyd_reg *r)
{
	uint8_t buf[512];

	if (!r->d)
		return;
	if (r->state == CYD_REGISTERED)
		cyd_reg_send(r, buf, nmsc_deregister(&r->nmsc, buf, sizeof(buf), proto_now_ms()));
	if (r->retx)
		cyph_loop_del_timer(r->d->loop, r->retx);
	if (r->keepalive)
		cyph_loop_del_timer(r->d->loop, r->keepalive);
	r->retx = r->keepalive = NULL;
	set_state(r, CYD_UNREGISTERED);
}

void cyd_reg_new_credential(struct cyd_reg *r)
{
	char nms_name[300];
	struct cyd *d = r->d;

	cyd_config_nms_name(&d->cfg, r->cred->fqdn, nms_name, sizeof(nms_name));
	nmsc_init(&r->nmsc, r->cred->node_id, r->cred->key, r->cred->cert, r->cred->cert_len,
		  proto_now_ms());
	nmsc_trust_ca(&r->nmsc, d->ca, nms_name);
	nmsc_set_location(&r->nmsc, d->loc.eps, d->loc.n, d->nat.type);
	log_info("new credential: registering afresh");
	cyd_reg_restart(r, true);
}
