// SPDX-License-Identifier: MIT
/*
 * Hole punching (docs/protocol.md sections 8 and 9). For a PUNCH
 * direction both ends learn the other's endpoints (its NAT mapping as the
 * NMS observed it, then its LAN addresses), a punch id and a sealed punch
 * secret: the source from ROUTE_RESP, the target from PEER_NOTIFY, at
 * about the same time. Both send a PROBE (HANDSHAKE kind 2, MACed with
 * the secret) to every endpoint every PROBE_EVERY_MS from the kernel's own
 * socket, so each NAT gets a mapping towards the other's; an authentic
 * PROBE is answered with a PROBE_REPLY to its source. The first authentic
 * probe or reply is the path: its source becomes the peer's endpoint and
 * its sender index the peer's tunnel index. Then the source runs the DTLS
 * handshake over that path (its ClientHello names the target's index, so
 * the target knows which attempt it is and whom to expect), the target
 * answers it. No path within PUNCH_TIMEOUT_MS (a symmetric NAT maps each
 * destination to a new port, so the observed endpoint is useless): the
 * source asks for the route again with PUNCH_FAILED, and the NMS directs
 * both to the relay.
 *
 * relay.c uses the same probes through a bound relay session: there they
 * carry each end's tunnel index (the relay forwards HANDSHAKE packets
 * unchanged from one source, the TRS, so an index is the only way to tell
 * the target which attempt a ClientHello belongs to) and show that both
 * ends are bound, so the handshake does not start into a relay that would
 * drop it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <linux/cyphonic.h>
#include "e2e/frame.h"
#include "e2e/session.h"
#include "runtime/addr.h"
#include "runtime/evloop.h"
#include "wire/proto_crypto.h"
#include "wire/proto_udp.h"
#include "cyphonicd.h"
#include "tunnels.h"

#define PROBE_EVERY_MS 200
#define PUNCH_TIMEOUT_MS 2000	/* then the relay: inside the kernel's 5 s staging */
#define RELAY_PROBE_TIMEOUT_MS 10000

struct cyd_punch {
	uint64_t id;
	uint8_t secret[32];
	bool via_relay;			/* probes go through u's relay session */
	bool found;			/* an authentic probe came: u->peer is the path */
	uint64_t start_ms, last_ms;	/* monotonic */
	unsigned int n_eps, sent;
	int fds[PROTO_MAX_ADDRS];
	struct sockaddr_storage eps[PROTO_MAX_ADDRS];
	socklen_t lens[PROTO_MAX_ADDRS];
	/* relay, initiator: its ClientHello, sent before the peer's index was known */
	uint8_t hello[E2E_DGRAM_MAX];
	size_t hello_len;
};

static struct cyd_punch *punch_new(struct cyd_tun *u)
{
	cyd_punch_free(u);
	u->punch = calloc(1, sizeof(*u->punch));
	if (u->punch)
		u->punch->start_ms = cyph_now_ms();
	return u->punch;
}

void cyd_punch_free(struct cyd_tun *u)
{
	if (!u->punch)
		return;
	explicit_bzero(u->punch, sizeof(*u->punch));
	free(u->punch);
	u->punch = NULL;
}

static uint64_t nonce(void)
{
	uint64_t n;

	if (getrandom(&n, sizeof(n), 0) != sizeof(n))
		n = cyph_now_ms();
	return n;
}

static void send_probes(struct cyd_tunnels *t, struct cyd_tun *u)
{
	struct cyd_punch *p = u->punch;
	uint8_t pkt[PROTO_PROBE_LEN];

	proto_probe_build(pkt, PROTO_HS_PROBE, u->index, u->peer_index, p->id, nonce(),
			  p->secret);
	p->last_ms = cyph_now_ms();
	p->sent++;
	if (p->via_relay) {
		cyd_tun_send(t, u, pkt, sizeof(pkt));
		return;
	}
	for (unsigned int i = 0; i < p->n_eps; i++)
		if (sendto(p->fds[i], pkt, sizeof(pkt), 0, (struct sockaddr *)&p->eps[i],
			   p->lens[i]) < 0)
			log_debug("probe: %s", strerror(errno));
}

int cyd_punch_start(struct cyd_tunnels *t, struct cyd_tun *u, const struct proto_msg *m)
{
	struct cyd_punch *p = punch_new(u);
	char ep[64];

	if (!p)
		return -1;
	p->id = m->punch_id;
	memcpy(p->secret, m->punch_secret, sizeof(p->secret));
	for (unsigned int i = 0; i < m->n_peer_eps; i++) {
		int fd = m->peer_eps[i].family == 4 ? t->d->kdev.fd4 : t->d->kdev.fd6;

		if (fd < 0)
			continue;
		p->fds[p->n_eps] = fd;
		p->lens[p->n_eps] = proto_ep_to_sa(&m->peer_eps[i], &p->eps[p->n_eps]);
		p->n_eps++;
	}
	if (!p->n_eps) {
		cyd_punch_free(u);
		return -1;
	}
	proto_ep_format(&m->peer_eps[0], ep, sizeof(ep));
	log_info("tunnel %u: punching towards %s (%u endpoint(s)), %s", u->index, ep, p->n_eps,
		 u->initiator ? "initiator" : "responder");
	u->path = CYD_PATH_PUNCHED;
	send_probes(t, u);
	return 0;
}

int cyd_punch_start_relay(struct cyd_tunnels *t, struct cyd_tun *u, uint64_t id,
			  const uint8_t key[32])
{
	struct cyd_punch *p = punch_new(u);

	if (!p)
		return -1;
	p->id = id;
	memcpy(p->secret, key, sizeof(p->secret));
	p->via_relay = true;
	send_probes(t, u);
	/*
	 * The initiator's ClientHello goes right behind its first probe,
	 * naming no receiver: the peer, bound already, finds the attempt by
	 * the sender index of the probe before it (tunnels.c), so the
	 * handshake does not wait for the peer's probe. When the peer was
	 * not bound yet both are dropped at the TRS, and found() sends the
	 * ClientHello again behind our answer to the peer's probe.
	 */
	if (u->initiator)
		cyd_tun_path_ready(t, u);
	return 0;
}

void cyd_punch_hello_sent(struct cyd_tun *u, const uint8_t *pkt, size_t len)
{
	struct cyd_punch *p = u->punch;

	if (p && p->via_relay && u->initiator && !p->found && !p->hello_len &&
	    len <= sizeof(p->hello)) {
		memcpy(p->hello, pkt, len);
		p->hello_len = len;
	}
}

/* The first authentic probe: its source is the path. */
static void found(struct cyd_tunnels *t, struct cyd_tun *u, int fd, uint8_t kind,
		  uint32_t sender, const struct sockaddr_storage *from, socklen_t flen)
{
	struct cyd_punch *p = u->punch;
	char ep[ADDR_ENDPOINT_STRLEN];
	bool answered = u->hs && e2e_session_peer_index(u->hs);

	p->found = true;
	u->peer_index = sender;
	if (!p->via_relay) {
		u->fd = fd;
		memcpy(&u->peer, from, flen);
		u->peer_len = flen;
		cyd_metrics_punch(true);
	}
	addr_format_endpoint((const struct sockaddr *)&u->peer, u->peer_len, ep, sizeof(ep));
	log_info("tunnel %u: %s path to the peer's index %u via %s after %llu ms, %u probe(s)",
		 u->index, p->via_relay ? "relay" : "punched", sender, ep,
		 (unsigned long long)(cyph_now_ms() - p->start_ms), p->sent);
	/* The early handshake takes answers from this index only. */
	if (u->hs && u->initiator)
		e2e_session_set_peer_index(u->hs, sender);
	/*
	 * The peer's own probe (not its answer to ours), and nothing of its
	 * handshake yet: it was bound after us, so the TRS dropped our probe
	 * and the ClientHello behind it. Again now, behind our answer.
	 */
	if (kind == PROTO_HS_PROBE && p->hello_len && !answered && u->hs) {
		log_info("tunnel %u: ClientHello again, behind the answer to the peer's probe",
			 u->index);
		cyd_tun_send(t, u, p->hello, p->hello_len);
	}
	cyd_tun_path_ready(t, u);
}

void cyd_punch_input(struct cyd_tunnels *t, int fd, const uint8_t *pkt, size_t len,
		     const struct sockaddr_storage *from, socklen_t flen)
{
	uint8_t reply[PROTO_PROBE_LEN], kind;
	uint32_t sender, receiver;
	uint64_t n;
	struct cyd_tun *u;

	for (u = t->list; u; u = u->next) {
		struct cyd_punch *p = u->punch;

		if (!p || !proto_probe_check(pkt, len, p->id, p->secret, &kind, &sender,
					     &receiver, &n))
			continue;
		if (!sender || (receiver && receiver != u->index) ||
		    (u->peer_index && sender != u->peer_index))
			break;	/* authentic, but not for this attempt's indices */
		if (kind == PROTO_HS_PROBE) {
			proto_probe_build(reply, PROTO_HS_PROBE_REPLY, u->index, sender, p->id, n,
					  p->secret);
			if (p->via_relay)
				cyd_tun_send(t, u, reply, sizeof(reply));
			else
				sendto(fd, reply, sizeof(reply), 0, (const struct sockaddr *)from,
				       flen);
		}
		if (!p->found)
			found(t, u, fd, kind, sender, from, flen);
		return;
	}
	if (!cyd_relay_renew_probe(t, pkt, len))
		cyd_metrics_probe_dropped();
}

bool cyd_punch_tick(struct cyd_tunnels *t, struct cyd_tun *u)
{
	struct cyd_punch *p = u->punch;
	uint64_t now = cyph_now_ms();
	uint64_t limit = p->via_relay ? RELAY_PROBE_TIMEOUT_MS : PUNCH_TIMEOUT_MS;

	/*
	 * Found, or the peer's ClientHello came over the path anyway (it
	 * found it first and our reply to its probe is still on the way):
	 * stop probing, keep answering the peer's probes until the tunnel
	 * is up.
	 */
	if (p->found || u->hs || u->installed) {
		if (u->installed)
			cyd_punch_free(u);
		return true;
	}
	if (now - p->start_ms < limit) {
		if (now - p->last_ms >= PROBE_EVERY_MS)
			send_probes(t, u);
		return true;
	}
	log_warn("tunnel %u: no authentic probe through the %s in %llu ms (%u sent)", u->index,
		 p->via_relay ? "relay" : "punched holes", (unsigned long long)limit, p->sent);
	cyd_punch_free(u);
	if (u->relay) {
		cyd_metrics_handshake(false);
		return false;
	}
	cyd_metrics_punch(false);
	if (u->initiator) {
		/* The NMS directs both ends to the relay now. */
		cyd_tun_route_again(t, u, PROTO_RF_PUNCH_FAILED);
		return true;
	}
	return false;	/* the source's new route reaches us as a RELAY notify */
}
