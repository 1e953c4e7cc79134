// SPDX-License-Identifier: MIT
/*
 * The relay path (docs/protocol.md section 7): for a RELAY direction (a
 * symmetric NAT, a failed punch, or no address family in common) each end
 * gets a TRS endpoint in its own family, the session id, its end and a
 * sealed bind secret. Each end BINDs from the kernel's own socket
 * (retransmitted 300 ms doubling, for at most BIND_GIVE_UP_MS), then
 * probes through the session (punch.c) until the other end answers: that
 * shows both ends are bound and tells each the other's tunnel index. Both
 * start probing right behind the BIND that echoes the TRS's challenge,
 * and the source sends its ClientHello right behind its first probe
 * (punch.c): when the other end is bound already, the handshake starts
 * without waiting for the BIND_ACK or the other end's probe (relayed
 * setup in 5 round trips: route, challenge, DTLS x2, the packet). The
 * DTLS handshake runs wrapped in RELAY, and both install
 * a tunnel whose endpoint is the TRS with the session id: the kernel puts
 * the relay header in front of every DATA packet (uapi
 * struct cyphonic_relay_hdr) and the TRS forwards the rest unchanged, so
 * it only ever sees ciphertext. What comes back from the TRS is a plain
 * DATA packet from the TRS's address, the tunnel's endpoint.
 *
 * While the tunnel lives the bind is refreshed every idle/3 (which also
 * keeps the NAT mapping to the TRS); removing the tunnel CLOSEs the end.
 *
 * The grant ends at RELAY_EXPIRY (the TRS stops forwarding). It is renewed
 * in place, make before break: at 2/3 of its life the initiator asks the
 * NMS for a relay again (FORCE_RELAY); the NMS grants a new session and
 * notifies the peer, which takes it for the same tunnel when its own
 * grant is past half its life (earlier, the notify is a new attempt: the
 * peer restarted). Both ends bind the new session and probe through it
 * with the tunnel's own indices; the first authentic probe or reply from
 * the peer (it is bound) moves the kernel tunnel to the new session
 * (TUNNEL_SET endpoint and relay session: same tunnel, same keys), and
 * the old session is closed a few seconds later, so packets still on
 * their way through it arrive. A renewal that fails is tried again; a
 * grant that ends without one removes the tunnel just before, and the
 * next packet asks for a new route.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/cyphonic.h>
#include "client/trsclient.h"
#include "runtime/evloop.h"
#include "wire/proto_crypto.h"
#include "wire/proto_udp.h"
#include "cyphonicd.h"
#include "tunnels.h"

#define BIND_RTO_FIRST_MS 300
#define BIND_RTO_MAX_MS 2400
#define BIND_GIVE_UP_MS 5000
#define EXPIRY_MARGIN_S 5
#define RENEW_RETRY_MS 2000	/* a failed renewal is tried again after this */
#define OLD_CLOSE_MS 3000	/* the replaced session is closed after this */
#define RELAY_RENEW_PROBE_MS 5000	/* the peer answers through the new session by then */
#define PROBE_LABEL "cyphonic relay probe v1"

struct cyd_relay {
	struct trsc c;
	int fd;
	struct sockaddr_storage sa;	/* the TRS */
	socklen_t len;
	bool bound;
	uint64_t start_ms, sent_ms;	/* monotonic: first BIND, last BIND */
	uint32_t rto_ms;
	int64_t bound_s;		/* Unix s, when it was bound: its renewal point */
	uint64_t close_ms;		/* monotonic: a replaced session's CLOSE, 0: none */
	uint64_t probe_ms;		/* monotonic: the last renewal probe */
	uint8_t probe_key[32];		/* renewal probes through this session */
};

uint32_t cyd_relay_session(const struct cyd_tun *u)
{
	return u->relay ? u->relay->c.session : 0;
}

static void send_bind(struct cyd_relay *r)
{
	uint8_t pkt[PROTO_RC_LEN];

	trsc_bind(&r->c, pkt, proto_now_ms());
	r->sent_ms = cyph_now_ms();
	if (sendto(r->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&r->sa, r->len) < 0)
		log_debug("BIND to the TRS: %s", strerror(errno));
}

/* The TRS session of a RELAY direction or notify, not bound yet. */
static struct cyd_relay *relay_new(struct cyd_tunnels *t, struct cyd_tun *u,
				   const struct proto_msg *m)
{
	struct cyd_relay *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = m->relay_ep.family == 4 ? t->d->kdev.fd4 : t->d->kdev.fd6;
	if (r->fd < 0 || trsc_init(&r->c, u->gn ? cyd_gn_node_id(u->gn) : t->d->cred.node_id, m, proto_now_ms())) {
		free(r);
		return NULL;
	}
	r->len = proto_ep_to_sa(&m->relay_ep, &r->sa);
	r->rto_ms = BIND_RTO_FIRST_MS;
	r->start_ms = cyph_now_ms();
	return r;
}

int cyd_relay_start(struct cyd_tunnels *t, struct cyd_tun *u, const struct proto_msg *m)
{
	struct cyd_relay *r;
	char ep[64];

	cyd_relay_free(t, u);
	r = relay_new(t, u, m);
	if (!r)
		return -1;
	u->relay = r;
	u->path = CYD_PATH_RELAYED;
	/* The tunnel's endpoint is the TRS; handshakes go there wrapped. */
	u->fd = r->fd;
	memcpy(&u->peer, &r->sa, r->len);
	u->peer_len = r->len;
	proto_ep_format(&m->relay_ep, ep, sizeof(ep));
	log_info("tunnel %u: relay session %u (end %u) at TRS %s, %s", u->index, r->c.session,
		 r->c.end, ep, u->initiator ? "initiator" : "responder");
	send_bind(r);
	return 0;
}

void cyd_relay_send(struct cyd_tunnels *t, struct cyd_tun *u, const uint8_t *p, size_t n)
{
	struct cyd_relay *r = u->relay;
	uint8_t buf[sizeof(struct cyphonic_relay_hdr) + 1400];
	size_t len = trsc_wrap(&r->c, p, n, buf, sizeof(buf));

	(void)t;
	if (len && sendto(r->fd, buf, len, 0, (struct sockaddr *)&r->sa, r->len) < 0)
		log_debug("to the TRS: %s", strerror(errno));
}

/*
 * The probe key of a session. Both ends know the session and its expiry,
 * and nothing else in common (each has its own bind secret), so this key
 * is not a secret: the probes only carry tunnel indices, and the DTLS
 * handshake that follows authenticates everything. The MAC still keeps
 * stray datagrams (another session's probes) out.
 */
static void probe_key(const struct trsc *c, uint8_t key[32])
{
	uint8_t in[sizeof(PROBE_LABEL) - 1 + 12];

	memcpy(in, PROBE_LABEL, sizeof(PROBE_LABEL) - 1);
	for (int i = 0; i < 4; i++)
		in[sizeof(PROBE_LABEL) - 1 + i] = (uint8_t)(c->session >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		in[sizeof(PROBE_LABEL) + 3 + i] = (uint8_t)(c->expiry >> (56 - 8 * i));
	proto_sha256(in, sizeof(in), key);
}

/* CLOSE at the TRS when bound (best effort), and forget the session. */
static void relay_close(struct cyd_relay *r)
{
	uint8_t pkt[PROTO_RC_LEN];

	if (!r)
		return;
	if (r->bound) {
		trsc_close(&r->c, pkt, proto_now_ms());
		sendto(r->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&r->sa, r->len);
	}
	explicit_bzero(r, sizeof(*r));
	free(r);
}

/* A renewal probe through session r (a PROBE or, answering one, a PROBE_REPLY). */
static void send_renew_probe(struct cyd_relay *r, const struct cyd_tun *u, uint8_t kind,
			     uint64_t nonce)
{
	uint8_t probe[PROTO_PROBE_LEN], buf[sizeof(struct cyphonic_relay_hdr) + PROTO_PROBE_LEN];
	size_t len;

	proto_probe_build(probe, kind, u->index, u->peer_index, r->c.session, nonce, r->probe_key);
	r->probe_ms = cyph_now_ms();
	len = trsc_wrap(&r->c, probe, sizeof(probe), buf, sizeof(buf));
	if (len && sendto(r->fd, buf, len, 0, (const struct sockaddr *)&r->sa, r->len) < 0)
		log_debug("renewal probe to the TRS: %s", strerror(errno));
}

/*
 * Probes through u's own session r, once: from the echo of the TRS's
 * challenge on (the end is bound when the echo arrives), or from the
 * BIND_ACK when no challenge came.
 */
static void path_start(struct cyd_tunnels *t, struct cyd_tun *u, struct cyd_relay *r)
{
	uint8_t key[32];

	if (u->punch || u->hs || u->installed)
		return;
	probe_key(&r->c, key);
	if (cyd_punch_start_relay(t, u, r->c.session, key))
		r->start_ms = 0;	/* the tick gives up */
	explicit_bzero(key, sizeof(key));
}

/* The session (of any tunnel) a RELAY_CTRL datagram answers; *rc its result. */
static struct cyd_relay *ctrl_owner(struct cyd_tunnels *t, const uint8_t *pkt, size_t len,
				    struct cyd_tun **owner, int *rc)
{
	struct cyd_tun *u;

	for (u = t->list; u; u = u->next) {
		struct cyd_relay *c[2] = { u->relay, u->relay_next };

		for (int i = 0; i < 2; i++)
			if (c[i] && ((*rc = trsc_input(&c[i]->c, pkt, len)) >= 0 ||
				     *rc == TRSC_CHALLENGED)) {
				*owner = u;
				return c[i];
			}
	}
	return NULL;
}

void cyd_relay_ctrl_input(struct cyd_tunnels *t, const uint8_t *pkt, size_t len)
{
	struct cyd_tun *u = NULL;
	struct cyd_relay *r;
	int rc = -1;

	r = ctrl_owner(t, pkt, len, &u, &rc);
	if (!r) {
		cyd_metrics_relay_ctrl_dropped();
		return;
	}
	if (rc == TRSC_CHALLENGED) {
		/*
		 * Return routability: the next BIND carries the echo; send it
		 * now. It binds this end when it reaches the TRS, and what we
		 * send right behind it on the same path arrives after it: the
		 * probes (and the initiator's ClientHello) go now, not a round
		 * trip later with the BIND_ACK.
		 */
		send_bind(r);
		if (r == u->relay)
			path_start(t, u, r);
		return;
	}
	if (rc > 0) {
		log_warn("tunnel %u: the TRS refused the bind of session %u: %s", u->index,
			 r->c.session, proto_err_name((unsigned int)rc));
		if (!r->bound)
			r->start_ms = 0;	/* the tick gives up */
		return;
	}
	r->rto_ms = BIND_RTO_FIRST_MS;
	if (r->bound)
		return;	/* a refresh */
	r->bound = true;
	r->bound_s = proto_now_ms() / 1000;
	cyd_metrics_relay_bind(true);
	log_info("tunnel %u: bound at the TRS after %llu ms (idle timeout %u s)", u->index,
		 (unsigned long long)(cyph_now_ms() - r->start_ms), r->c.idle_s);
	if (r == u->relay) {
		path_start(t, u, r);	/* unless the challenge started it */
		return;
	}
	/* a renewal: probe with the tunnel's indices */
	probe_key(&r->c, r->probe_key);
	send_renew_probe(r, u, PROTO_HS_PROBE, cyph_now_ms());
}

/* ---- renewal in place ---- */

int cyd_relay_renew(struct cyd_tunnels *t, struct cyd_tun *u, const struct proto_msg *m)
{
	struct cyd_relay *r = relay_new(t, u, m);

	if (!r)
		return -1;
	relay_close(u->relay_next);
	u->relay_next = r;
	log_info("tunnel %u: renewing its relay grant: session %u -> %u (%s)", u->index,
		 u->relay ? u->relay->c.session : 0, r->c.session,
		 u->initiator ? "initiator" : "responder");
	send_bind(r);
	return 0;
}

bool cyd_relay_renewable(const struct cyd_tun *u)
{
	const struct cyd_relay *r = u->relay;
	int64_t now_s = proto_now_ms() / 1000;

	return u->installed && r && r->bound && !u->relay_next &&
	       now_s >= r->bound_s + ((int64_t)r->c.expiry - r->bound_s) / 2;
}

static void renew_failed(struct cyd_tun *u, const char *why)
{
	log_warn("tunnel %u: relay grant not renewed: %s", u->index, why);
	cyd_metrics_relay_renewal(false);
	relay_close(u->relay_next);
	u->relay_next = NULL;
	u->renew_retry_ms = cyph_now_ms() + RENEW_RETRY_MS;
}

void cyd_relay_renew_answer(struct cyd_tunnels *t, struct cyd_tun *u, const struct nmsc_event *ev)
{
	if (ev->type == NMSC_EV_ERROR)
		renew_failed(u, proto_err_name(ev->error));
	else if (ev->msg.mode != PROTO_MODE_RELAY)
		renew_failed(u, "the NMS directed another path");
	else if (cyd_relay_renew(t, u, &ev->msg))
		renew_failed(u, "no TRS endpoint in a family this node has");
}

void cyd_relay_renew_gave_up(struct cyd_tun *u)
{
	renew_failed(u, "no answer from the NMS");
}

/* The peer answered through the new session: the kernel tunnel moves to it. */
static void switch_session(struct cyd_tunnels *t, struct cyd_tun *u)
{
	struct cyd_relay *n = u->relay_next, *o = u->relay;
	struct cyd_kdev *k = &t->d->kdev;
	char why[320];
	int rc;

	rc = kern_cyph_tunnel_relay(&k->genl, k->ifindex, u->index, &n->sa, n->len, n->c.session);
	if (rc) {
		renew_failed(u, kern_nl_strerror(&k->genl.nl, rc, why, sizeof(why)));
		return;
	}
	relay_close(u->relay_old);
	o->close_ms = cyph_now_ms() + OLD_CLOSE_MS;
	u->relay_old = o;
	u->relay = n;
	u->relay_next = NULL;
	u->fd = n->fd;
	memcpy(&u->peer, &n->sa, n->len);
	u->peer_len = n->len;
	cyd_metrics_relay_renewal(true);
	log_info("tunnel %u: relay grant renewed in place: session %u -> %u, until %llu", u->index,
		 o->c.session, n->c.session, (unsigned long long)n->c.expiry);
}

bool cyd_relay_renew_probe(struct cyd_tunnels *t, const uint8_t *pkt, size_t len)
{
	uint32_t sender, receiver;
	struct cyd_tun *u;
	uint8_t kind;
	uint64_t n;

	for (u = t->list; u; u = u->next) {
		struct cyd_relay *r = u->relay_next;

		if (!r || !r->bound ||
		    !proto_probe_check(pkt, len, r->c.session, r->probe_key, &kind, &sender,
				       &receiver, &n))
			continue;
		if (sender != u->peer_index || (receiver && receiver != u->index))
			return false;	/* authentic, but another attempt's: dropped */
		if (kind == PROTO_HS_PROBE)
			send_renew_probe(r, u, PROTO_HS_PROBE_REPLY, n);
		switch_session(t, u);
		return true;
	}
	return false;
}

/* The bind of r: retransmitted until bound (false: given up), then refreshed. */
static bool bind_tick(struct cyd_relay *r, uint64_t now)
{
	uint32_t refresh;

	if (!r->bound) {
		if (!r->start_ms || now - r->start_ms >= BIND_GIVE_UP_MS)
			return false;
		if (now - r->sent_ms >= r->rto_ms) {
			r->rto_ms = r->rto_ms * 2 < BIND_RTO_MAX_MS ? r->rto_ms * 2 : BIND_RTO_MAX_MS;
			send_bind(r);
		}
		return true;
	}
	refresh = (r->c.idle_s ? r->c.idle_s : 60) * 1000 / 3;
	if (now - r->sent_ms >= refresh)
		send_bind(r);
	return true;
}

/* The renewal's timers: start it at 2/3 of the grant, drive the new session. */
static void renew_tick(struct cyd_tunnels *t, struct cyd_tun *u, uint64_t now)
{
	struct cyd_relay *r = u->relay, *n = u->relay_next;
	int64_t now_s = proto_now_ms() / 1000;

	if (u->relay_old && now >= u->relay_old->close_ms) {
		relay_close(u->relay_old);
		u->relay_old = NULL;
	}
	if (n) {
		if (!bind_tick(n, now))
			renew_failed(u, "no BIND_ACK from the TRS");
		else if (n->bound && now - n->start_ms >= RELAY_RENEW_PROBE_MS)
			renew_failed(u, "the peer did not answer through the new session");
		else if (n->bound && now - n->probe_ms >= 200)
			send_renew_probe(n, u, PROTO_HS_PROBE, now);
		return;
	}
	if (u->installed && u->initiator && !u->route_seq && now >= u->renew_retry_ms &&
	    now_s >= r->bound_s + ((int64_t)r->c.expiry - r->bound_s) * 2 / 3 &&
	    now_s < (int64_t)r->c.expiry - EXPIRY_MARGIN_S) {
		log_info("tunnel %u: relay session %u ends at %llu: asking the NMS for a new grant",
			 u->index, r->c.session, (unsigned long long)r->c.expiry);
		cyd_tun_route_again(t, u, PROTO_RF_FORCE_RELAY);
	}
}

void cyd_relay_tick(struct cyd_tunnels *t, struct cyd_tun *u)
{
	struct cyd_relay *r = u->relay;
	uint64_t now = cyph_now_ms();

	if (!r->bound) {
		if (!bind_tick(r, now)) {
			log_warn("tunnel %u: no BIND_ACK from the TRS: giving up", u->index);
			cyd_metrics_relay_bind(false);
			cyd_relay_free(t, u);
			u->give_up_ms = now;	/* the sweep frees the record */
		}
		return;
	}
	if ((int64_t)r->c.expiry - EXPIRY_MARGIN_S <= proto_now_ms() / 1000) {
		if (u->installed)
			cyd_tun_remove(t, u, "relay grant expires");
		else
			u->give_up_ms = now;
		return;
	}
	bind_tick(r, now);
	renew_tick(t, u, now);
}

void cyd_relay_free(struct cyd_tunnels *t, struct cyd_tun *u)
{
	(void)t;
	relay_close(u->relay);
	relay_close(u->relay_next);
	relay_close(u->relay_old);
	u->relay = u->relay_next = u->relay_old = NULL;
}
