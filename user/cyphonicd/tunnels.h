/* SPDX-License-Identifier: MIT */
/* What tunnels.c and rekey.c share: one tunnel of the daemon. */
#ifndef CYPHONICD_TUNNELS_H
#define CYPHONICD_TUNNELS_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "e2e/session.h"
#include "cyphonicd.h"

struct cyd_tun {
	struct cyd_tun *next;
	struct cyd_gn *gn;		/* the general node it is for (adapter), NULL: this node */
	uint32_t index;			/* ours, the receiver index peers use */
	struct e2e_session *hs;		/* NULL once the handshake lingered out */
	bool installed, initiator;
	uint64_t route_seq;		/* ROUTE_REQ awaiting its answer, 0: none */
	char fqdn[256];			/* a DNS lookup waits for this route, "": none */
	uint64_t route_ns, hs_ms;	/* when the route request / handshake began */
	uint64_t route_ms;		/* monotonic, when the route request was sent */
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
	bool hs_rekey;			/* hs is a rekey of this installed tunnel */
	bool rekeying;			/* ... whose keys are not installed yet */
};

/* The e2e context of u's local identity: the node's, or its general node's. */
struct e2e_ctx *cyd_tun_ctx(const struct cyd_tunnels *t, const struct cyd_tun *u);

/* After any input or timer of u's handshake: install, send, or clean up. */
void cyd_tun_progress(struct cyd_tunnels *t, struct cyd_tun *u);

/* rekey.c */
bool cyd_rekey_due(const struct cyd_tunnels *t, const struct cyd_tun *u);
void cyd_rekey_start(struct cyd_tunnels *t, struct cyd_tun *u);
/* The peer's ClientHello naming u's index; false: not a rekey to accept. */
bool cyd_rekey_accept(struct cyd_tunnels *t, struct cyd_tun *u, int fd, const uint8_t *pkt,
		      size_t len, const struct sockaddr_storage *from, socklen_t flen);
void cyd_rekey_install(struct cyd_tunnels *t, struct cyd_tun *u);
void cyd_rekey_retry_soon(struct cyd_tunnels *t, struct cyd_tun *u);

#endif
