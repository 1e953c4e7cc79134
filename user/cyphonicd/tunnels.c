// SPDX-License-Identifier: MIT
/*
 * Tunnels on demand (issue 9 point 2): the kernel reports
 * "tunnel needed" for a VIP (its first packets wait, staged), or a program
 * resolves a peer's name through the daemon's DNS (dns.c), and the daemon
 * asks the NMS for route direction, finds the path the NMS directs to
 * (DIRECT: the peer's endpoint; PUNCH: punch.c; RELAY: relay.c), runs the
 * end-to-end DTLS key agreement (user/lib/e2e) with the directed peer
 * over it from the node's own socket, and installs the tunnel and its
 * keys (TUNNEL_NEW), which sends the staged packets. The peer's daemon
 * answers as responder and installs its side the same way; for PUNCH and
 * RELAY the NMS tells it first (PEER_NOTIFY), and it waits for a
 * ClientHello naming the index it probed with.
 *
 * Rekeying: rekey.c.
 *
 * A tunnel that received nothing for [node] idle_timeout is removed (the
 * next packet makes a new one); a new handshake with a peer we have a
 * tunnel with replaces the old tunnel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/cyphonic.h>
#include "e2e/frame.h"
#include "pki/cred.h"
#include "e2e/session.h"
#include "runtime/addr.h"
#include "runtime/evloop.h"
#include "runtime/metrics.h"
#include "wire/proto_udp.h"
#include "cyphonicd.h"
#include "tunnels.h"

#define TICK_MS 50
/*
 * Route requests are retried (a lost datagram, a dying NMS replica) with
 * backoff and jitter, each try a new request (client/retry.h says why that
 * is safe for ROUTE_REQ), for at most the kernel's staging window: after
 * that the staged packets are gone anyway.
 */
static const struct cyph_retry_policy route_policy = {
	.first_ms = 300, .max_ms = 2000, .budget_ms = 5000,
};
#define NOTIFIED_WAIT_MS 20000	/* a notified record waits this long for its tunnel */
#define PEER_EXPIRY_REKEY_S 60	/* rekey this long before the peer's certificate ends */


struct e2e_ctx *cyd_tun_ctx(const struct cyd_tunnels *t, const struct cyd_tun *u)
{
	return u->gn ? cyd_gn_ctx(u->gn) : t->ctx;
}

/* The registration u's route requests go through. */
static struct cyd_reg *tun_reg(const struct cyd_tunnels *t, const struct cyd_tun *u)
{
	return u->gn ? cyd_gn_reg(u->gn) : &t->d->reg;
}

/* The index the next tunnel gets: never 0 (and not reused for 2^32). */
static uint32_t peek_index(const struct cyd_tunnels *t)
{
	return t->next_index + 1 ? t->next_index + 1 : 1;
}

static struct cyd_tun *tun_new(struct cyd_tunnels *t)
{
	struct cyd_tun *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	t->next_index = peek_index(t);
	u->index = t->next_index;
	u->next = t->list;
	t->list = u;
	return u;
}

static void tun_free(struct cyd_tunnels *t, struct cyd_tun *u)
{
	struct cyd_tun **p;

	for (p = &t->list; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	e2e_session_free(u->hs);
	cyd_punch_free(u);
	cyd_relay_free(t, u);
	free(u);
}

void cyd_tun_send(struct cyd_tunnels *t, struct cyd_tun *u, const uint8_t *p, size_t n)
{
	if (u->relay)
		cyd_relay_send(t, u, p, n);
	else if (sendto(u->fd, p, n, 0, (struct sockaddr *)&u->peer, u->peer_len) < 0)
		log_debug("handshake to peer: %s", strerror(errno));
}

static void flush(struct cyd_tunnels *t, struct cyd_tun *u)
{
	uint8_t buf[E2E_DGRAM_MAX];
	size_t n;

	while (u->hs && (n = e2e_session_output(u->hs, buf, sizeof(buf)))) {
		cyd_tun_send(t, u, buf, n);
		cyd_punch_hello_sent(u, buf, n);
	}
}

/*
 * Takes the tunnel out of the kernel now; the record goes at the next
 * sweep (callers may be walking the list).
 */
void cyd_tun_remove(struct cyd_tunnels *t, struct cyd_tun *u, const char *why)
{
	log_info("tunnel %u to %s removed: %s", u->index, u->who.fqdn, why);
	kern_cyph_tunnel_del(&t->d->kdev.genl, t->d->kdev.ifindex, u->index);
	cyd_metrics_tunnels(u->path, -1);
	u->installed = false;
	e2e_session_free(u->hs);
	u->hs = NULL;
	cyd_punch_free(u);
	cyd_relay_free(t, u);
}

/*
 * A new tunnel to a peer we have a tunnel with (the peer restarted, or
 * removed its side when idle) replaces the old one: the kernel holds one
 * tunnel per VIP pair.
 */
static void replace_old(struct cyd_tunnels *t, struct cyd_tun *u, const struct cyph_node_id *peer)
{
	struct cyd_tun *o, *next;

	for (o = t->list; o; o = next) {
		next = o->next;
		if (o != u && o->installed && o->gn == u->gn &&
		    ((peer->has_vip4 && o->who.has_vip4 && o->who.vip4.s_addr == peer->vip4.s_addr) ||
		     (peer->has_vip6 && o->who.has_vip6 && !memcmp(&o->who.vip6, &peer->vip6, 16))))
			cyd_tun_remove(t, o, "replaced by a new handshake");
	}
}

/*
 * Traffic asked for u (a "tunnel needed" event) and no tunnel can be made:
 * the kernel answers the staged packets and the next ones with an ICMP
 * error at once, so applications fail fast instead of waiting out the
 * staging window. Lookups by name have no staged traffic.
 */
static void unreachable(struct cyd_tunnels *t, const struct cyd_tun *u)
{
	struct cyd_kdev *k = &t->d->kdev;
	struct in_addr l4 = k->vip4;
	struct in6_addr l6 = k->vip6;
	bool has4 = k->has_vip4, has6 = k->has_vip6;
	int rc;

	if (u->fqdn[0] || !u->initiator)
		return;
	if (u->gn)
		cyd_gn_vips(u->gn, &l4, &l6, &has4, &has6);
	if (u->family == AF_INET ? !has4 : !has6)
		return;
	rc = kern_cyph_unreachable(&k->genl, k->ifindex, u->family,
				   u->family == AF_INET ? (const void *)&l4 : (const void *)&l6,
				   u->family == AF_INET ? (const void *)&u->vip4 :
							  (const void *)&u->vip6);
	if (rc)
		log_debug("TUNNEL_UNREACHABLE: %s", strerror(-rc));
}

/*
 * A tunnel never outlives the credential its peer proved: shortly before
 * the peer's certificate ends, a rekey (a full handshake) asks for its
 * current one, which a peer that renewed presents (the tunnel goes on,
 * with the new certificate's end); when the end comes without one, the
 * tunnel is removed, logged and counted. False: u was removed.
 */
static bool peer_credential_valid(struct cyd_tunnels *t, struct cyd_tun *u)
{
	int64_t now = time(NULL);

	if (!u->installed || !u->peer_not_after)
		return true;
	if (now >= u->peer_not_after) {
		log_warn("tunnel %u: the credential of %s expired at %lld", u->index, u->who.fqdn,
			 (long long)u->peer_not_after);
		cyd_tun_remove(t, u, "the peer's credential expired");
		cyd_metrics_peer_expired();
		return false;
	}
	if (now >= u->peer_not_after - PEER_EXPIRY_REKEY_S && !u->expiry_rekeyed &&
	    !u->rekeying) {
		u->expiry_rekeyed = true;
		log_info("tunnel %u: the credential of %s ends at %lld: rekeying for its new one",
			 u->index, u->who.fqdn, (long long)u->peer_not_after);
		cyd_rekey_start(t, u);
	}
	return true;
}

/*
 * Once a second: tunnels that received nothing for [node] idle_timeout go,
 * route requests the NMS never answered are given up, and records of
 * removed tunnels are freed.
 */
static void sweep(struct cyd_tunnels *t)
{
	struct cyd *d = t->d;
	struct cyd_tun *u, *next;
	uint64_t now = cyph_now_ms();
	int64_t rx;

	if (now - t->idle_check_ms < 1000)
		return;
	t->idle_check_ms = now;
	for (u = t->list; u; u = next) {
		next = u->next;
		if (u->route_seq && !u->route_retry_ms && u->installed) {
			u->route_seq = 0;
			cyd_relay_renew_gave_up(u);
		} else if (u->route_seq && !u->route_retry_ms) {
			log_warn("no route direction from the NMS in %d ms (%u tries)",
				 route_policy.budget_ms, u->route_rt.tries);
			unreachable(t, u);
			if (u->fqdn[0])
				cyd_dns_answer(&d->dns, u->fqdn, NULL, NULL, true);
			tun_free(t, u);
			continue;
		}
		if (!u->installed && !u->hs && !u->route_seq &&
		    ((!u->punch && !u->relay) || (u->give_up_ms && now >= u->give_up_ms))) {
			tun_free(t, u);
			continue;
		}
		if (!peer_credential_valid(t, u)) {
			tun_free(t, u);
			continue;
		}
		if (!u->installed || (u->hs && e2e_session_state(u->hs) == E2E_ST_HANDSHAKE) ||
		    kern_cyph_tunnel_last_rx(&d->kdev.genl, d->kdev.ifindex, u->index, &rx))
			continue;
		if (rx < 0)	/* nothing received yet: idle since it was made */
			rx = (int64_t)(now - u->installed_ms);
		if (rx >= d->cfg.idle_timeout_ms) {
			cyd_tun_remove(t, u, "idle");
			tun_free(t, u);
		}
	}
}

static void install(struct cyd_tunnels *t, struct cyd_tun *u)
{
	struct cyd_kdev *k = &t->d->kdev;
	const struct cyph_node_id *peer = e2e_session_peer(u->hs);
	struct kern_tunnel kt = { .key_id = 0 };
	struct e2e_keys keys;
	char ep[ADDR_ENDPOINT_STRLEN], why[320];
	int rc;

	bool has4 = k->has_vip4, has6 = k->has_vip6;

	if (!peer || e2e_session_keys(u->hs, &keys))
		return;
	kt.index = keys.local_index;
	kt.peer_index = keys.peer_index;
	kt.local4 = k->vip4;
	kt.local6 = k->vip6;
	if (u->gn)	/* a general node's tunnel carries its VIP */
		cyd_gn_vips(u->gn, &kt.local4, &kt.local6, &has4, &has6);
	kt.has4 = has4 && peer->has_vip4;
	kt.has6 = has6 && peer->has_vip6;
	kt.remote4 = peer->vip4;
	kt.remote6 = peer->vip6;
	memcpy(&kt.endpoint, &u->peer, u->peer_len);
	kt.endpoint_len = u->peer_len;
	kt.relay = cyd_relay_session(u);
	kt.tx = keys.tx;
	kt.rx = keys.rx;
	replace_old(t, u, peer);
	rc = kern_cyph_tunnel_new(&k->genl, k->ifindex, &kt);
	explicit_bzero(&keys, sizeof(keys));
	addr_format_endpoint((struct sockaddr *)&u->peer, u->peer_len, ep, sizeof(ep));
	if (rc) {
		log_err("tunnel to %s: installing it failed: %s", peer->fqdn,
			kern_nl_strerror(&k->genl.nl, rc, why, sizeof(why)));
		cyd_metrics_handshake(false);
		return;
	}
	u->installed = true;
	u->peer_index = kt.peer_index;
	u->key_id = kt.key_id;
	u->keyed_ms = u->installed_ms = cyph_now_ms();
	cyd_status_keyed(u, false);
	u->who.id = peer->id;
	snprintf(u->who.fqdn, sizeof(u->who.fqdn), "%s", peer->fqdn);
	u->who.vip4 = peer->vip4;
	u->who.vip6 = peer->vip6;
	u->who.has_vip4 = peer->has_vip4;
	u->who.has_vip6 = peer->has_vip6;
	u->peer_not_after = peer->not_after;
	/* A responder learns whom the tunnel is for only now. */
	u->family = kt.has4 ? AF_INET : AF_INET6;
	u->vip4 = peer->vip4;
	u->vip6 = peer->vip6;
	if (!u->early)
		cyd_metrics_handshake(true);
	cyd_metrics_tunnels(u->path, 1);
	log_info("tunnel %u/%u to %s up: %s via %s%s, %s, handshake %llu ms, setup %llu ms",
		 kt.index, kt.peer_index, peer->fqdn, cyd_path_name(u->path), ep,
		 kt.relay ? " (relay session)" : "", u->initiator ? "initiator" : "responder",
		 (unsigned long long)(cyph_now_ms() - u->hs_ms),
		 (unsigned long long)(cyph_now_ms() - (u->setup_ms ? u->setup_ms : u->hs_ms)));
}

/* After any input or timer of u's handshake: send, install, or clean up. */
void cyd_tun_progress(struct cyd_tunnels *t, struct cyd_tun *u)
{
	enum e2e_state st = e2e_session_state(u->hs);

	/* Keys first, then our last flight: the peer may send DATA under
	 * the new keys as soon as it has it. */
	if (st == E2E_ST_DONE && u->rekeying) {
		cyd_rekey_install(t, u);
	} else if (st == E2E_ST_DONE && !u->installed) {
		install(t, u);
	} else if (st == E2E_ST_DONE && u->early) {
		u->early = false;	/* the peer's Finished checked out */
		cyd_metrics_handshake(true);
	}
	flush(t, u);
	/*
	 * False Start (e2e_session_early()): the initiator's tunnel right
	 * after its last flight, so the kernel sends the staged packets
	 * right behind it; the responder holds them until its tunnel is in
	 * (expect_data()). One round trip less than waiting for the peer's
	 * Finished; a handshake that fails after this removes the tunnel.
	 */
	if (st == E2E_ST_HANDSHAKE && !u->installed && !u->hs_rekey && e2e_session_early(u->hs)) {
		u->early = true;	/* counted ok at the Finished, not now */
		install(t, u);
		u->early = u->installed;	/* failed: tried again at the Finished */
	}
	if (st == E2E_ST_FAILED && u->hs_rekey) {
		/* A failed rekey keeps the tunnel on its key; retry soon. */
		log_warn("rekey of tunnel %u failed: %s", u->index,
			 e2e_result_name(e2e_session_result(u->hs)));
		cyd_metrics_rekey(false);
		u->rekeying = u->hs_rekey = false;
		e2e_session_free(u->hs);
		u->hs = NULL;
		cyd_rekey_retry_soon(t, u);
	} else if (st == E2E_ST_FAILED) {
		log_warn("handshake %s tunnel %u failed: %s", u->initiator ? "for" : "on",
			 u->index, e2e_result_name(e2e_session_result(u->hs)));
		cyd_metrics_handshake(false);
		if (u->installed) {
			kern_cyph_tunnel_del(&t->d->kdev.genl, t->d->kdev.ifindex, u->index);
			cyd_metrics_tunnels(u->path, -1);
		}
		tun_free(t, u);
	} else if (st == E2E_ST_CLOSED) {
		e2e_session_free(u->hs);
		u->hs = NULL;
		if (!u->installed)
			tun_free(t, u);
	}
}

/*
 * Either VIP of the peer: one tunnel carries both families, and a name
 * lookup learns both before the handshake, so `ping peer.<domain>` going
 * out over IPv6 must not start a second handshake next to the one the
 * lookup began for IPv4. An unknown VIP is all zeroes, never a VIP.
 */
static bool same_vip(const struct cyd_tun *u, const struct kern_cyph_needed *n)
{
	if (n->family == AF_INET)
		return u->vip4.s_addr && u->vip4.s_addr == n->remote4.s_addr;
	return !IN6_IS_ADDR_UNSPECIFIED(&u->vip6) && !memcmp(&u->vip6, &n->remote6, 16);
}

/* One try of u's route request; the first try starts its retry sequence. */
static void route_send(struct cyd_tunnels *t, struct cyd_tun *u, bool first)
{
	struct cyd_reg *r = tun_reg(t, u);
	uint64_t now = cyph_now_ms();
	uint8_t buf[1024];
	int64_t wait;

	if (first) {
		/*
		 * The first retry waits at least two round trips to the NMS
		 * (a step of four: equal jitter waits half to all of it): a
		 * 300 ms step fires after 150-300 ms, and on a 200 ms path
		 * the retry (a new request, whose answer is the one used) cost
		 * a whole round trip in bench-node's trace.
		 */
		struct cyph_retry_policy p = route_policy;
		int rtt4 = 4 * (int)cyd_reg_rtt(r);

		if (rtt4 > p.first_ms)
			p.first_ms = rtt4 < p.max_ms ? rtt4 : p.max_ms;
		u->route_ns = cyph_metrics_now_ns();
		u->route_ms = now;
		cyph_retry_begin(&u->route_rt, &p, (int64_t)now,
				 ((uint64_t)u->index << 32) ^ (uint64_t)u->route_ns);
	}
	wait = cyph_retry_next(&u->route_rt, (int64_t)now);
	u->route_retry_ms = now + (uint64_t)(wait > 0 ? wait : 0);
	cyd_reg_send(r, buf, nmsc_route(&r->nmsc, buf, sizeof(buf), proto_now_ms(),
					u->fqdn[0] ? u->fqdn : NULL,
					u->family == AF_INET && !u->fqdn[0] ? &u->vip4 : NULL,
					u->family == AF_INET6 && !u->fqdn[0] ? &u->vip6 : NULL,
					u->route_flags, &u->route_seq));
}

/*
 * The tick: u's route request unanswered after its backoff step is sent
 * again (a new request: the answer to the latest try is the one used).
 * Once the budget is spent, route_retry_ms is 0 and the sweep gives up.
 */
static void route_retry(struct cyd_tunnels *t, struct cyd_tun *u, uint64_t now)
{
	if (!u->route_seq || !u->route_retry_ms || now < u->route_retry_ms)
		return;
	if ((int64_t)now - u->route_rt.start_ms >= route_policy.budget_ms) {
		u->route_retry_ms = 0;
		return;
	}
	log_info("tunnel %u: no route direction yet, asking the NMS again (try %u)", u->index,
		 u->route_rt.tries + 1);
	cyd_metrics_route_retry();
	route_send(t, u, false);
}

/* A new initiator's record for a peer's VIP, asking the NMS for its route. */
static struct cyd_tun *ask_route(struct cyd_tunnels *t, struct cyd_gn *g, int family,
				 const struct in_addr *vip4, const struct in6_addr *vip6)
{
	struct cyd_tun *u = tun_new(t);

	if (!u)
		return NULL;
	u->gn = g;
	u->family = family;
	u->vip4 = *vip4;
	u->vip6 = *vip6;
	u->initiator = true;
	u->setup_ms = cyph_now_ms();
	route_send(t, u, true);
	return u;
}

static void needed(struct cyd_tunnels *t, const struct kern_cyph_needed *n)
{
	/* From a general node's VIP (adapter): its own tunnel, its own route. */
	struct cyd_gn *g = cyd_adapter_gn_by_vip(&t->d->adapter, n->family, &n->local4,
						 &n->local6);
	struct cyd_reg *r = g ? cyd_gn_reg(g) : &t->d->reg;
	struct cyd_tun *u;

	for (u = t->list; u; u = u->next)
		if ((u->installed || u->hs || u->route_seq || u->punch || u->relay) && u->gn == g &&
		    same_vip(u, n))
			return;	/* asked already, or the handshake is running */
	if (r->state != CYD_REGISTERED) {
		log_info("tunnel needed, but not registered at the NMS yet");
		return;
	}
	log_debug("tunnel needed for %s: asking the NMS",
		  n->family == AF_INET ? inet_ntoa(n->remote4) : "an IPv6 VIP");
	ask_route(t, g, n->family, &n->remote4, &n->remote6);
}

/*
 * The node's own public endpoint changed (a new NAT mapping: another
 * network, or the NAT lost its state) while a punched tunnel lives. The
 * peer's NAT filters by endpoint (nftables' conntrack does): it drops our
 * packets from the new mapping, and its answers go to the old one, so
 * roaming alone cannot heal the path, as it does when only the peer
 * moves (its packets reach our open mapping). Punch again: a new route
 * request (the NMS notifies the peer with our new endpoint), a new
 * punch and handshake, and the new tunnel replaces the old one
 * (replace_old) when its keys are in. Direct tunnels need nothing (the
 * peer is public and roams to us), relayed ones keep their TRS session.
 */
void cyd_tunnels_own_endpoint_changed(struct cyd_tunnels *t)
{
	struct cyd_tun *u, *n;

	for (u = t->list; u; u = u->next) {
		if (!u->installed || u->path != CYD_PATH_PUNCHED || u->gn)
			continue;
		for (n = t->list; n; n = n->next)
			if (n != u && !n->installed && n->initiator && n->family == u->family &&
			    (u->family == AF_INET ? n->vip4.s_addr == u->vip4.s_addr :
			     !memcmp(&n->vip6, &u->vip6, 16)))
				break;
		if (n)
			continue;	/* punching again already */
		log_info("tunnel %u to %s: our public endpoint changed, punching again", u->index,
			 u->who.fqdn);
		cyd_metrics_repunch();
		ask_route(t, NULL, u->family, &u->vip4, &u->vip6);
	}
}

void cyd_tunnels_lookup(struct cyd_tunnels *t, const char *name)
{
	struct cyd_reg *r = &t->d->reg;
	struct cyd_tun *u;

	for (u = t->list; u; u = u->next)
		if (u->route_seq && !strcmp(u->fqdn, name))
			return;	/* asked already */
	if (r->state != CYD_REGISTERED || !(u = tun_new(t))) {
		cyd_dns_answer(&t->d->dns, name, NULL, NULL, true);
		return;
	}
	snprintf(u->fqdn, sizeof(u->fqdn), "%s", name);
	u->initiator = true;
	u->setup_ms = cyph_now_ms();
	route_send(t, u, true);
}

/* A looked-up name: answer the DNS queries, and learn which VIP it is. */
static bool answer_lookup(struct cyd_tunnels *t, struct cyd_tun *u,
			  const struct nmsc_event *ev)
{
	const struct proto_msg *m = &ev->msg;
	bool has4 = ev->type == NMSC_EV_ROUTE && PROTO_HAS(m, PROTO_T_PEER_VIP4);
	bool has6 = ev->type == NMSC_EV_ROUTE && PROTO_HAS(m, PROTO_T_PEER_VIP6);
	struct cyd_tun *o;

	cyd_dns_answer(&t->d->dns, u->fqdn, has4 ? &m->peer_vip4 : NULL,
		       has6 ? &m->peer_vip6 : NULL,
		       ev->type == NMSC_EV_ERROR && ev->error != PROTO_E_NOT_FOUND);
	if (!has4 && !has6)
		return false;
	/* An adapter's lookups come from its devices (through dnsmasq): a
	 * tunnel from its own identity would serve none of them; each
	 * device's own tunnel is made by its first packet. */
	if (t->d->adapter.d)
		return false;
	u->family = has4 ? AF_INET : AF_INET6;
	u->vip4 = m->peer_vip4;
	u->vip6 = m->peer_vip6;
	for (o = t->list; o; o = o->next)
		if (o != u && o->gn == u->gn && (o->installed || o->hs || o->punch || o->relay) &&
		    o->family == u->family &&
		    (u->family == AF_INET ? o->vip4.s_addr == u->vip4.s_addr :
		     !memcmp(&o->vip6, &u->vip6, 16)))
			return false;	/* a tunnel exists or is being made */
	return true;
}

static void on_events(struct cyph_loop *loop, int fd, uint32_t events, void *arg);

static int on_event_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct cyd_tunnels *t = arg;
	struct kern_cyph_needed n;
	uint32_t ifindex, index;
	struct cyd_tun *u;

	if (kern_cyph_parse_needed(&t->d->kdev.genl, nlh, &n) == 1 &&
	    n.ifindex == t->d->kdev.ifindex)
		needed(t, &n);
	if (kern_cyph_parse_key_limit(&t->d->kdev.genl, nlh, &ifindex, &index) == 1 &&
	    ifindex == t->d->kdev.ifindex) {
		for (u = t->list; u && u->index != index; u = u->next)
			;
		if (u && u->installed) {
			log_info("tunnel %u: key near its limits, rekeying now", index);
			cyd_rekey_start(t, u);
		}
	}
	return 0;
}

static void on_events(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cyd_tunnels *t = arg;
	int rc;

	(void)loop;
	(void)fd;
	(void)events;
	rc = kern_nl_read_events(&t->ev, on_event_msg, t);
	if (rc)
		log_warn("kernel events: %s", strerror(-rc));
}

/* The peer endpoint of the route we can reach: the first of a family we have. */
static int pick_endpoint(struct cyd_tunnels *t, const struct proto_msg *m, struct cyd_tun *u)
{
	for (unsigned int i = 0; i < m->n_peer_eps; i++) {
		int fd = m->peer_eps[i].family == 4 ? t->d->kdev.fd4 : t->d->kdev.fd6;

		if (fd >= 0) {
			u->fd = fd;
			u->peer_len = proto_ep_to_sa(&m->peer_eps[i], &u->peer);
			return 0;
		}
	}
	return -1;
}

/* The identity the NMS directed to: the peer must prove it in the handshake. */
static void expect_directed(struct cyd_tun *u, const struct proto_msg *m)
{
	struct e2e_expect *w = &u->who;

	memset(w, 0, sizeof(*w));
	w->id = m->peer_id;
	snprintf(w->fqdn, sizeof(w->fqdn), "%s", u->fqdn[0] ? u->fqdn :
		 PROTO_HAS(m, PROTO_T_PEER_FQDN) ? m->peer_fqdn : "");
	w->vip4 = u->vip4;
	w->vip6 = u->vip6;
	w->has_vip4 = u->family == AF_INET;
	w->has_vip6 = u->family == AF_INET6;
}

/* Starts the initiator's handshake over u's path. */
static void connect_peer(struct cyd_tunnels *t, struct cyd_tun *u)
{
	enum e2e_result why;

	u->hs_ms = cyph_now_ms();
	u->hs = e2e_connect(cyd_tun_ctx(t, u), u->index, u->peer_index, &u->who, proto_now_ms(), &why);
	if (!u->hs) {
		log_err("handshake start: %s", e2e_result_name(why));
		cyd_metrics_handshake(false);
		u->give_up_ms = cyph_now_ms();	/* the sweep frees the record */
		cyd_punch_free(u);
		cyd_relay_free(t, u);
		return;
	}
	cyd_tun_progress(t, u);
}

void cyd_tun_path_ready(struct cyd_tunnels *t, struct cyd_tun *u)
{
	if (u->initiator && !u->hs && !u->installed)
		connect_peer(t, u);
	/* A responder waits for the ClientHello naming u->index. */
}

void cyd_tun_route_again(struct cyd_tunnels *t, struct cyd_tun *u, uint32_t flags)
{
	u->route_flags = flags;
	route_send(t, u, true);
}

void cyd_tunnels_route(struct cyd_tunnels *t, const struct cyd_reg *r,
		       const struct nmsc_event *ev)
{
	static const char *const modes[] = { "?", "direct", "punch", "relay" };
	const struct proto_msg *m = &ev->msg;
	struct cyd_tun *u;
	int rc = -1;

	for (u = t->list; u && (u->route_seq != ev->echo_seq || tun_reg(t, u) != r); u = u->next)
		;
	if (!u || !ev->echo_seq)
		return;
	if (ev->type == NMSC_EV_ERROR && cyph_nms_retryable(ev->error) &&
	    (int64_t)cyph_now_ms() - u->route_rt.start_ms < route_policy.budget_ms) {
		/* A replica draining or busy: the tick tries again after the step. */
		log_info("route for tunnel %u: %s, trying again", u->index,
			 proto_err_name(ev->error));
		return;
	}
	u->route_seq = 0;
	cyd_metrics_route_latency(u->route_ns);
	if (u->route_rt.tries == 1)	/* Karn: no sample from a retried request */
		cyd_reg_rtt_sample(tun_reg(t, u), cyph_now_ms() - u->route_ms);
	if (u->installed) {	/* the renewal of its relay grant */
		cyd_relay_renew_answer(t, u, ev);
		return;
	}
	log_debug("route for tunnel %u: %s", u->index, ev->type == NMSC_EV_ERROR ?
		  proto_err_name(ev->error) : modes[m->mode <= 3 ? m->mode : 0]);
	if (u->fqdn[0] && !u->looked_up && !answer_lookup(t, u, ev)) {
		tun_free(t, u);
		return;
	}
	u->looked_up = true;
	if (ev->type == NMSC_EV_ERROR) {
		log_warn("route to %s: %s", u->family == AF_INET ? inet_ntoa(u->vip4) :
			 "an IPv6 VIP", proto_err_name(ev->error));
		unreachable(t, u);
		tun_free(t, u);
		return;
	}
	expect_directed(u, m);
	switch (m->mode) {
	case PROTO_MODE_DIRECT:
		u->path = CYD_PATH_DIRECT;
		rc = pick_endpoint(t, m, u);
		if (!rc)
			connect_peer(t, u);
		break;
	case PROTO_MODE_PUNCH:
		rc = cyd_punch_start(t, u, m);
		break;
	case PROTO_MODE_RELAY:
		rc = cyd_relay_start(t, u, m);
		break;
	}
	if (rc) {
		log_warn("route to node %llu (%s): no endpoint in a family this node has",
			 (unsigned long long)m->peer_id, modes[m->mode <= 3 ? m->mode : 0]);
		unreachable(t, u);
		tun_free(t, u);
	}
}

void cyd_tunnels_notify(struct cyd_tunnels *t, const struct cyd_reg *r,
			const struct nmsc_event *ev)
{
	const struct proto_msg *m = &ev->msg;
	/* the general node the notify is for (its registration), NULL: this node */
	struct cyd_gn *g = cyd_adapter_gn_by_reg(&t->d->adapter, r);
	struct cyd_tun *u, *next;
	int rc;

	for (u = t->list; u; u = u->next)
		if (u->notify_id == m->notify_id)
			return;	/* a retransmission */
	/* A RELAY for a relayed tunnel late in its grant: the grant's renewal. */
	for (u = t->list; m->mode == PROTO_MODE_RELAY && u; u = u->next)
		if (u->who.id == m->peer_id && u->gn == g && cyd_relay_renewable(u) &&
		    !cyd_relay_renew(t, u, m)) {
			u->notify_id = m->notify_id;
			return;
		}
	/* A RELAY after a failed punch replaces the punch attempt. */
	for (u = t->list; u; u = next) {
		next = u->next;
		if (!u->initiator && !u->installed && !u->hs && u->who.id == m->peer_id &&
		    u->gn == g)
			tun_free(t, u);
	}
	u = tun_new(t);
	if (!u)
		return;
	u->notify_id = m->notify_id;
	u->gn = g;
	u->setup_ms = cyph_now_ms();
	u->give_up_ms = u->setup_ms + NOTIFIED_WAIT_MS;
	u->who.id = m->peer_id;
	if (PROTO_HAS(m, PROTO_T_PEER_FQDN))
		snprintf(u->who.fqdn, sizeof(u->who.fqdn), "%s", m->peer_fqdn);
	u->who.has_vip4 = PROTO_HAS(m, PROTO_T_PEER_VIP4);
	u->who.has_vip6 = PROTO_HAS(m, PROTO_T_PEER_VIP6);
	u->who.vip4 = m->peer_vip4;
	u->who.vip6 = m->peer_vip6;
	u->family = u->who.has_vip4 ? AF_INET : AF_INET6;
	u->vip4 = m->peer_vip4;
	u->vip6 = m->peer_vip6;
	rc = m->mode == PROTO_MODE_PUNCH ? cyd_punch_start(t, u, m) :
	     m->mode == PROTO_MODE_RELAY ? cyd_relay_start(t, u, m) : -1;
	if (rc) {
		log_warn("peer %llu routes to us (mode %u): no path from here",
			 (unsigned long long)m->peer_id, m->mode);
		tun_free(t, u);
	}
}

static struct cyd_tun *claim(struct cyd_tunnels *t, const struct e2e_hdr *h,
			     const struct sockaddr_storage *from, socklen_t flen)
{
	struct cyd_tun *u;

	for (u = t->list; u; u = u->next) {
		if (!u->hs)
			continue;
		if (h->receiver && u->index == h->receiver)
			return u;
		if (!h->receiver && !u->initiator && u->peer_len == flen &&
		    !memcmp(&u->peer, from, flen) &&
		    e2e_session_peer_index(u->hs) == h->sender)
			return u;
	}
	return NULL;
}

/*
 * The relayed attempt an early ClientHello belongs to (relay.c): it names
 * no receiver, as its sender did not know our index yet, but comes from
 * our TRS with the sender index of the peer's probe just before it.
 */
static struct cyd_tun *relay_waiting(struct cyd_tunnels *t, const struct e2e_hdr *h,
				     const struct sockaddr_storage *from, socklen_t flen)
{
	struct cyd_tun *u;

	for (u = t->list; u; u = u->next)
		if (u->relay && !u->initiator && !u->installed && !u->hs && u->peer_index &&
		    u->peer_index == h->sender && u->peer_len == flen &&
		    !memcmp(&u->peer, from, flen))
			return u;
	return NULL;
}

/* Whether @from is the TRS of one of our relayed records. */
static bool from_relay(const struct cyd_tunnels *t, const struct sockaddr_storage *from,
		       socklen_t flen)
{
	const struct cyd_tun *u;

	for (u = t->list; u; u = u->next)
		if (u->relay && u->peer_len == flen && !memcmp(&u->peer, from, flen))
			return true;
	return false;
}

/*
 * A responder's tunnel index is known from the ClientHello on: the kernel
 * holds DATA for it that arrives before the tunnel is in (the initiator's
 * False Start sends its first packet right behind its last flight).
 */
static void expect_data(struct cyd_tunnels *t, const struct cyd_tun *u)
{
	struct cyd_kdev *k = &t->d->kdev;
	char why[320];
	int rc = kern_cyph_tunnel_expect(&k->genl, k->ifindex, u->index);

	if (rc)
		log_debug("tunnel %u: early DATA is not held for it: %s", u->index,
			  kern_nl_strerror(&k->genl.nl, rc, why, sizeof(why)));
}

/*
 * The ClientHello of a punched or relayed attempt, naming the index we
 * probed with (or, relayed, coming from the index that probed us): the
 * peer must be the one the NMS notified us of.
 */
static void accept_waiting(struct cyd_tunnels *t, struct cyd_tun *u, int fd,
			   const uint8_t *pkt, size_t len, const struct sockaddr_storage *from,
			   socklen_t flen)
{
	uint8_t reply[E2E_DGRAM_MAX], src[sizeof(struct sockaddr_in6) + sizeof(uint32_t)];
	uint32_t session = cyd_relay_session(u);
	size_t reply_len = 0;
	size_t srclen = flen < sizeof(struct sockaddr_in6) ? flen : sizeof(struct sockaddr_in6);
	struct e2e_session *s = NULL;
	enum e2e_result rc;

	/*
	 * Every relayed ClientHello comes from the TRS: the per-source budget
	 * counts the relay session too, so peers relayed by one TRS do not
	 * share one bucket.
	 */
	memcpy(src, from, srclen);
	if (session) {
		memcpy(src + srclen, &session, sizeof(session));
		srclen += sizeof(session);
	}
	rc = e2e_accept(cyd_tun_ctx(t, u), pkt, len, src, srclen, u->index, &u->who, proto_now_ms(), &s,
			reply, &reply_len);
	if (!u->relay) {	/* the punched path is where the ClientHello came from */
		u->fd = fd;
		memcpy(&u->peer, from, flen);
		u->peer_len = flen;
	}
	if (reply_len)
		cyd_tun_send(t, u, reply, reply_len);
	if (!s) {
		if (rc != E2E_COOKIE_SENT)
			log_debug("handshake start refused: %s", e2e_result_name(rc));
		return;
	}
	u->hs = s;
	u->hs_ms = cyph_now_ms();
	expect_data(t, u);
	cyd_tun_progress(t, u);
}

void cyd_tunnels_input(struct cyd_tunnels *t, int fd, const uint8_t *pkt, size_t len,
		       const struct sockaddr_storage *from, socklen_t flen)
{
	uint8_t reply[E2E_DGRAM_MAX];
	size_t reply_len = 0;
	struct e2e_session *s = NULL;
	struct cyd_gn *g = NULL;
	enum e2e_result rc;
	struct e2e_hdr h;
	struct cyd_tun *u;
	char sni[256];

	if (t->ctx && len > 1 && (pkt[1] == PROTO_HS_PROBE || pkt[1] == PROTO_HS_PROBE_REPLY)) {
		cyd_punch_input(t, fd, pkt, len, from, flen);
		return;
	}
	if (!t->ctx || !e2e_hdr_parse(pkt, len, &h))
		return;
	if (h.receiver && e2e_is_client_hello(pkt, len)) {
		for (u = t->list; u && !(u->installed && u->index == h.receiver); u = u->next)
			;
		if (u && cyd_rekey_accept(t, u, fd, pkt, len, from, flen))
			return;
		for (u = t->list; u && u->index != h.receiver; u = u->next)
			;
		if (u && !u->initiator && !u->installed && !u->hs && (u->punch || u->relay)) {
			accept_waiting(t, u, fd, pkt, len, from, flen);
			return;
		}
	}
	if (!h.receiver && e2e_is_client_hello(pkt, len) &&
	    (u = relay_waiting(t, &h, from, flen))) {
		log_debug("tunnel %u: relayed ClientHello from the index %u that probed us",
			  u->index, h.sender);
		accept_waiting(t, u, fd, pkt, len, from, flen);
		return;
	}
	u = claim(t, &h, from, flen);
	if (u) {
		e2e_session_input(u->hs, pkt, len, proto_now_ms());
		cyd_tun_progress(t, u);
		return;
	}
	if (h.receiver || !e2e_is_client_hello(pkt, len))
		return;
	/* From a TRS a ClientHello is only ever for a relayed attempt
	 * (relay_waiting()): one no attempt waits for is nobody's. */
	if (from_relay(t, from, flen))
		return;
	if (e2e_client_hello_sni(pkt, len, sni, sizeof(sni)))
		g = cyd_adapter_gn_by_fqdn(&t->d->adapter, sni);
	rc = e2e_accept(g ? cyd_gn_ctx(g) : t->ctx, pkt, len, from, flen, peek_index(t), NULL, proto_now_ms(),
			&s, reply, &reply_len);
	if (reply_len)
		sendto(fd, reply, reply_len, 0, (const struct sockaddr *)from, flen);
	if (!s) {
		if (rc != E2E_COOKIE_SENT)
			log_debug("handshake start refused: %s", e2e_result_name(rc));
		return;
	}
	u = tun_new(t);
	if (!u) {
		e2e_session_free(s);
		return;
	}
	u->hs = s;
	u->gn = g;
	u->hs_ms = cyph_now_ms();
	u->fd = fd;
	memcpy(&u->peer, from, flen);
	u->peer_len = flen;
	expect_data(t, u);
	cyd_tun_progress(t, u);
}

static void on_tick(struct cyph_loop *loop, struct cyph_timer *tm, void *arg)
{
	struct cyd_tunnels *t = arg;
	struct cyd_tun *u, *next;
	int64_t now = proto_now_ms();

	(void)loop;
	(void)tm;
	for (u = t->list; u; u = next) {
		next = u->next;
		route_retry(t, u, (uint64_t)cyph_now_ms());
		if (u->relay)
			cyd_relay_tick(t, u);
		if (u->punch && !cyd_punch_tick(t, u)) {
			tun_free(t, u);
			continue;
		}
		if (u->hs && e2e_session_next_timer(u->hs, now) == 0) {
			e2e_session_timer(u->hs, now);
			cyd_tun_progress(t, u);
		} else if (cyd_rekey_due(t, u)) {
			cyd_rekey_start(t, u);
		}
	}
	sweep(t);
}

int cyd_tunnels_start(struct cyd_tunnels *t, struct cyd *d, char *err, size_t errlen)
{
	struct e2e_config cfg;

	memset(t, 0, sizeof(*t));
	t->d = d;
	if (getrandom(&t->next_index, sizeof(t->next_index), 0) != sizeof(t->next_index))
		t->next_index = (uint32_t)cyph_now_ms();
	cyd_e2e_config(&cfg);
	t->ctx = e2e_ctx_new(&cfg, d->ca, d->cred.key, d->cred.cert, d->cred.cert_len,
			     proto_now_ms(), err, errlen);
	if (!t->ctx || kern_cyph_events_open(&d->kdev.genl, &t->ev, err, errlen))
		return -1;
	if (cyph_loop_add_fd(d->loop, kern_nl_fd(&t->ev), EPOLLIN, on_events, t) ||
	    !(t->tick = cyph_loop_add_timer(d->loop, TICK_MS, true, on_tick, t))) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void cyd_tunnels_revoked(struct cyd_tunnels *t)
{
	uint64_t *ids = NULL;
	size_t n = cyph_ca_revoked_nodes(t->d->ca, &ids);
	struct cyd_tun *u;

	for (u = t->list; u && n; u = u->next)
		for (size_t i = 0; i < n; i++)
			if (u->installed && u->who.id == ids[i]) {
				cyd_tun_remove(t, u, "the peer's credential was revoked");
				cyd_metrics_peer_revoked();
				break;
			}
	free(ids);
}

void cyd_tunnels_new_credential(struct cyd_tunnels *t)
{
	char err[256];

	if (t->ctx && e2e_ctx_set_credential(t->ctx, t->d->cred.key, t->d->cred.cert,
					     t->d->cred.cert_len, err, sizeof(err)))
		log_err("handshakes keep the old credential: %s", err);
}

void cyd_tunnels_forget(struct cyd_tunnels *t, const struct cyd_gn *g)
{
	struct cyd_tun *u, *next;

	for (u = t->list; u; u = next) {
		next = u->next;
		if (u->gn != g)
			continue;
		if (u->installed)
			cyd_tun_remove(t, u, "its general node was cut off");
		tun_free(t, u);
	}
}

void cyd_tunnels_stop(struct cyd_tunnels *t)
{
	struct cyd *d = t->d;

	if (!d)
		return;
	while (t->list) {
		if (t->list->installed && !d->kdev.created)
			kern_cyph_tunnel_del(&d->kdev.genl, d->kdev.ifindex, t->list->index);
		tun_free(t, t->list);
	}
	if (t->tick)
		cyph_loop_del_timer(d->loop, t->tick);
	if (kern_nl_fd(&t->ev) >= 0)
		cyph_loop_del_fd(d->loop, kern_nl_fd(&t->ev));
	kern_nl_close(&t->ev);
	e2e_ctx_free(t->ctx);
	memset(t, 0, sizeof(*t));
}
