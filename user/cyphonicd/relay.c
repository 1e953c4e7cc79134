// SPDX-License-Identifier: MIT
/*
 * The relay path (docs/protocol.md section 7): for a RELAY direction (a
 * symmetric NAT, a failed punch, or no address family in common) each end
 * gets a TRS endpoint in its own family, the session id, its end and a
 * sealed bind secret. Each end BINDs from the kernel's own socket
 * (retransmitted 300 ms doubling, for at most BIND_GIVE_UP_MS), then
 * probes through the session (punch.c) until the other end answers: that
 * shows both ends are bound and tells each the other's tunnel index. The
 * source sends its DTLS ClientHello right behind its first probe (wrapped
 * in RELAY; tunnels.c, cyd_tun_relay_bound), and both install
 * a tunnel whose endpoint is the TRS with the session id: the kernel puts
 * the relay header in front of every DATA packet (uapi
 * struct cyphonic_relay_hdr) and the TRS forwards the rest unchanged, so
 * it only ever sees ciphertext. What comes back from the TRS is a plain
 * DATA packet from the TRS's address, the tunnel's endpoint.
 *
 * While the tunnel lives the bind is refreshed every idle/3 (which also
 * keeps the NAT mapping to the TRS); removing the tunnel CLOSEs the end.
 * The grant ends at RELAY_EXPIRY (the TRS stops forwarding): the tunnel
 * is removed just before, and the next packet asks for a new route.
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
#define PROBE_LABEL "cyphonic relay probe v1"

struct cyd_relay {
	struct trsc c;
	int fd;
	struct sockaddr_storage sa;	/* the TRS */
	socklen_t len;
	bool bound;
	uint64_t start_ms, sent_ms;	/* monotonic: first BIND, last BIND */
	uint32_t rto_ms;
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

int cyd_relay_start(struct cyd_tunnels *t, struct cyd_tun *u, const struct proto_msg *m)
{
	struct cyd_relay *r;
	char ep[64];

	cyd_relay_free(t, u);
	r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->fd = m->relay_ep.family == 4 ? t->d->kdev.fd4 : t->d->kdev.fd6;
	if (r->fd < 0 || trsc_init(&r->c, u->gn ? cyd_gn_node_id(u->gn) : t->d->cred.node_id, m, proto_now_ms())) {
		free(r);
		return -1;
	}
	r->len = proto_ep_to_sa(&m->relay_ep, &r->sa);
	r->rto_ms = BIND_RTO_FIRST_MS;
	r->start_ms = cyph_now_ms();
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

void cyd_relay_ctrl_input(struct cyd_tunnels *t, const uint8_t *pkt, size_t len)
{
	struct cyd_tun *u;
	uint8_t key[32];
	int rc = -1;

	for (u = t->list; u; u = u->next)
		if (u->relay && ((rc = trsc_input(&u->relay->c, pkt, len)) >= 0 ||
				 rc == TRSC_CHALLENGED))
			break;
	if (!u) {
		cyd_metrics_relay_ctrl_dropped();
		return;
	}
	if (rc == TRSC_CHALLENGED) {
		/* Return routability: the next BIND carries the echo; send it now. */
		send_bind(u->relay);
		return;
	}
	if (rc > 0) {
		log_warn("tunnel %u: the TRS refused the bind of session %u: %s", u->index,
			 u->relay->c.session, proto_err_name((unsigned int)rc));
		if (!u->relay->bound)
			u->relay->start_ms = 0;	/* the tick gives up */
		return;
	}
	u->relay->rto_ms = BIND_RTO_FIRST_MS;
	if (u->relay->bound)
		return;	/* a refresh */
	u->relay->bound = true;
	cyd_metrics_relay_bind(true);
	log_info("tunnel %u: bound at the TRS after %llu ms (idle timeout %u s)", u->index,
		 (unsigned long long)(cyph_now_ms() - u->relay->start_ms), u->relay->c.idle_s);
	probe_key(&u->relay->c, key);
	if (cyd_punch_start_relay(t, u, u->relay->c.session, key))
		u->relay->start_ms = 0;
	else
		cyd_tun_relay_bound(t, u);
	explicit_bzero(key, sizeof(key));
}

void cyd_relay_tick(struct cyd_tunnels *t, struct cyd_tun *u)
{
	struct cyd_relay *r = u->relay;
	uint64_t now = cyph_now_ms();
	uint32_t refresh;

	if (!r->bound) {
		if (!r->start_ms || now - r->start_ms >= BIND_GIVE_UP_MS) {
			log_warn("tunnel %u: no BIND_ACK from the TRS: giving up", u->index);
			cyd_metrics_relay_bind(false);
			cyd_relay_free(t, u);
			u->give_up_ms = now;	/* the sweep frees the record */
			return;
		}
		if (now - r->sent_ms >= r->rto_ms) {
			r->rto_ms = r->rto_ms * 2 < BIND_RTO_MAX_MS ? r->rto_ms * 2 : BIND_RTO_MAX_MS;
			send_bind(r);
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
	refresh = (r->c.idle_s ? r->c.idle_s : 60) * 1000 / 3;
	if (now - r->sent_ms >= refresh)
		send_bind(r);
}

void cyd_relay_free(struct cyd_tunnels *t, struct cyd_tun *u)
{
	struct cyd_relay *r = u->relay;
	uint8_t pkt[PROTO_RC_LEN];

	(void)t;
	if (!r)
		return;
	if (r->bound) {
		trsc_close(&r->c, pkt, proto_now_ms());
		sendto(r->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&r->sa, r->len);
	}
	explicit_bzero(r, sizeof(*r));
	free(r);
	u->relay = NULL;
}
