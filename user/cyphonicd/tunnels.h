/* SPDX-License-Identifier: MIT */
/* What tunnels.c, rekey.c, punch.c and relay.c share: one tunnel of the daemon. */
#ifndef CYPHONICD_TUNNELS_H
#define CYPHONICD_TUNNELS_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "client/retry.h"
#include "e2e/session.h"
#include "cyphonicd.h"

struct cyd_punch;
struct cyd_relay;

struct cyd_tun {
	struct cyd_tun *next;
	enum cyd_path path;		/* how it reaches (or will reach) the peer */
	struct cyd_punch *punch;	/* probing for a path, NULL: not */
	struct cyd_relay *relay;	/* the TRS session the path goes through, or NULL */
	struct cyd_relay *relay_next;	/* its renewal being bound, or NULL (relay.c) */
	struct cyd_relay *relay_old;	/* the session it replaced, closed soon, or NULL */
	uint64_t renew_retry_ms;	/* monotonic: no grant renewal before then */
	bool looked_up;			/* the DNS query of fqdn was answered */
	uint64_t notify_id;		/* the PEER_NOTIFY that made this record, 0: none */
	uint64_t setup_ms;		/* monotonic: when the route was asked / notified */
	uint64_t give_up_ms;		/* monotonic: a waiting record goes then, 0: none */
	struct cyd_gn *gn;		/* the general node it is for (adapter), NULL: this node */
	uint32_t index;			/* ours, the receiver index peers use */
	struct e2e_session *hs;		/* NULL once the handshake lingered out */
	bool installed, initiator;
	bool early;			/* installed by False Start, the peer's Finished still to come */
	uint64_t route_seq;		/* ROUTE_REQ awaiting its answer, 0: none */
	char fqdn[256];			/* a DNS lookup waits for this route, "": none */
	uint64_t route_ns, hs_ms;	/* when the route request / handshake began */
	uint64_t route_ms;		/* monotonic, when the route request was sent */
	struct cyph_retry route_rt;	/* its retries: backoff with jitter */
	uint64_t route_retry_ms;	/* monotonic: the next try is due then */
	uint32_t route_flags;		/* PROTO_RF_* of the request */
	int family;			/* of the VIP that was needed */
	struct in_addr vip4;
	struct in6_addr vip6;
	int fd;				/* socket towards the peer */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	/* once installed */
	struct e2e_expect who;		/* the peer, as a rekey must prove it again */
	uint32_t peer_index;
	uint8_t key_id;			/* of the primary key */
	uint64_t keyed_ms;		/* monotonic, when it got its last key */
	uint64_t installed_ms;		/* monotonic, when it was installed */
	int64_t peer_not_after;		/* Unix s: the peer's certificate, as its last handshake showed */
	bool expiry_rekeyed;		/* a rekey was started for that expiry already */
	bool hs_rekey;			/* hs is a rekey of this installed tunnel */
	bool rekeying;			/* ... whose keys are not installed yet */
	/* for cyphctl show (status.c) */
	int64_t route_took_ms;		/* route request to its answer, -1: none */
	uint64_t hs_took_ms;		/* the last handshake's duration */
	int64_t hs_unix_ms;		/* when it ended */
	uint32_t rekeys;
};

/* The e2e context of u's local identity: the node's, or its general node's. */
struct e2e_ctx *cyd_tun_ctx(const struct cyd_tunnels *t, const struct cyd_tun *u);

/* After any input or timer of u's handshake: install, send, or clean up. */
void cyd_tun_progress(struct cyd_tunnels *t, struct cyd_tun *u);
/* Sends a HANDSHAKE datagram to u's peer over u's path (wrapped for a relay). */
void cyd_tun_send(struct cyd_tunnels *t, struct cyd_tun *u, const uint8_t *p, size_t n);
/*
 * punch.c / relay.c found the path (u->fd, u->peer, u->peer_index): the
 * initiator starts the DTLS handshake, the responder waits for it.
 */
void cyd_tun_path_ready(struct cyd_tunnels *t, struct cyd_tun *u);
/* Asks the NMS for the route again (flags: PROTO_RF_*). */
void cyd_tun_route_again(struct cyd_tunnels *t, struct cyd_tun *u, uint32_t flags);
/* Takes u's tunnel out of the kernel; the record goes at the next sweep. */
void cyd_tun_remove(struct cyd_tunnels *t, struct cyd_tun *u, const char *why);

/* punch.c: probes to the endpoints of a PUNCH direction, or through a relay */
int cyd_punch_start(struct cyd_tunnels *t, struct cyd_tun *u, const struct proto_msg *m);
/* Probes through u's bound relay session (id and key from the session). */
int cyd_punch_start_relay(struct cyd_tunnels *t, struct cyd_tun *u, uint64_t id,
			  const uint8_t key[32]);
/* A PROBE / PROBE_REPLY datagram (any source); dropped and counted if no attempt's. */
void cyd_punch_input(struct cyd_tunnels *t, int fd, const uint8_t *pkt, size_t len,
		     const struct sockaddr_storage *from, socklen_t flen);
/* Timer: probes again, or gives up (false: the caller frees u). */
bool cyd_punch_tick(struct cyd_tunnels *t, struct cyd_tun *u);
void cyd_punch_free(struct cyd_tun *u);
/* tunnels.c: a datagram of u's handshake went out (punch.c keeps an early ClientHello) */
void cyd_punch_hello_sent(struct cyd_tun *u, const uint8_t *pkt, size_t len);

/* relay.c: the TRS session of a RELAY direction */
int cyd_relay_start(struct cyd_tunnels *t, struct cyd_tun *u, const struct proto_msg *m);
void cyd_relay_send(struct cyd_tunnels *t, struct cyd_tun *u, const uint8_t *p, size_t n);
/* Timer: BIND retransmission and refresh, grant expiry. */
void cyd_relay_tick(struct cyd_tunnels *t, struct cyd_tun *u);
/* CLOSE at the TRS (best effort) and forget the sessions. */
void cyd_relay_free(struct cyd_tunnels *t, struct cyd_tun *u);
/*
 * Renewal in place of an installed relayed tunnel's grant: the
 * initiator's route answer, the responder's notify (when renewable: its
 * grant past half its life), the initiator's route request given up, and
 * a probe through a session being renewed (false: not one).
 */
void cyd_relay_renew_answer(struct cyd_tunnels *t, struct cyd_tun *u, const struct nmsc_event *ev);
bool cyd_relay_renewable(const struct cyd_tun *u);
int cyd_relay_renew(struct cyd_tunnels *t, struct cyd_tun *u, const struct proto_msg *m);
void cyd_relay_renew_gave_up(struct cyd_tun *u);
bool cyd_relay_renew_probe(struct cyd_tunnels *t, const uint8_t *pkt, size_t len);
uint32_t cyd_relay_session(const struct cyd_tun *u);

/* status.c: u got keys from its handshake (rekey: a rekey's). */
void cyd_status_keyed(struct cyd_tun *u, bool rekey);

/* rekey.c */
bool cyd_rekey_due(const struct cyd_tunnels *t, const struct cyd_tun *u);
void cyd_rekey_start(struct cyd_tunnels *t, struct cyd_tun *u);
/* The peer's ClientHello naming u's index; false: not a rekey to accept. */
bool cyd_rekey_accept(struct cyd_tunnels *t, struct cyd_tun *u, int fd, const uint8_t *pkt,
		      size_t len, const struct sockaddr_storage *from, socklen_t flen);
void cyd_rekey_install(struct cyd_tunnels *t, struct cyd_tun *u);
void cyd_rekey_retry_soon(struct cyd_tunnels *t, struct cyd_tun *u);

#endif
