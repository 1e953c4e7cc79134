/* SPDX-License-Identifier: MIT */
/*
 * The "cyphonic" generic netlink family (uapi/linux/cyphonic.h) as the
 * node daemon uses it: hand the device its UDP sockets, take them back,
 * declare the node's VIPs as a local identity, read the ports in use,
 * install tunnels with their keys, and hear "tunnel needed".
 * Every call returns 0 or -errno; the kernel's reason is then in
 * c->nl.extack (kern_nl_strerror()).
 */
#ifndef CYPHONIC_KERNEL_CYPHDEV_H
#define CYPHONIC_KERNEL_CYPHDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "nlsock.h"

struct kern_cyph {
	struct kern_nl nl;
	uint16_t family;
	uint32_t events_group;	/* id of CYPHONIC_MCGRP_EVENTS */
};

/* Opens a genl socket and resolves the family; -ENOENT: module missing. */
int kern_cyph_open(struct kern_cyph *c, char *err, size_t errlen);
void kern_cyph_close(struct kern_cyph *c);

/* DEV_SET FD4/FD6: fd < 0 leaves that family alone. */
int kern_cyph_set_sockets(struct kern_cyph *c, uint32_t ifindex, int fd4, int fd6);
/* DEV_SET DETACH: CYPHONIC_DETACH_F_* */
int kern_cyph_detach(struct kern_cyph *c, uint32_t ifindex, uint8_t which);
/* LOCAL_ADD / LOCAL_DEL of the identity vip4 and/or vip6 (NULL: none). */
int kern_cyph_local(struct kern_cyph *c, uint32_t ifindex, bool add,
		    const struct in_addr *vip4, const struct in6_addr *vip6);
/* DEV_GET: the ports of the sockets the kernel holds (0: none). */
int kern_cyph_ports(struct kern_cyph *c, uint32_t ifindex, uint16_t *port4,
		    uint16_t *port6);

/* A tunnel to install (TUNNEL_NEW) with its primary key. */
struct kern_tunnel {
	uint32_t index, peer_index;
	bool has4, has6;		/* which VIP pairs are set */
	struct in_addr local4, remote4;
	struct in6_addr local6, remote6;
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;		/* 0: no endpoint yet */
	uint32_t relay;			/* relay session at the endpoint (a TRS), 0: direct */
	uint8_t key_id;
	const uint8_t *tx, *rx;		/* CYPHONIC_KEY_LEN bytes each */
};

/* TUNNEL_NEW; the request buffer, which holds the keys, is wiped. */
int kern_cyph_tunnel_new(struct kern_cyph *c, uint32_t ifindex, const struct kern_tunnel *t);
int kern_cyph_tunnel_del(struct kern_cyph *c, uint32_t ifindex, uint32_t index);
/* A tunnel with this index is being set up: DATA for it is held (uapi). */
int kern_cyph_tunnel_expect(struct kern_cyph *c, uint32_t ifindex, uint32_t index);
/*
 * TUNNEL_UNREACHABLE: no tunnel can be made for this VIP pair (family
 * AF_INET or AF_INET6, addresses in network order): the kernel drops what
 * it staged for it with an ICMP error and refuses new packets for a while.
 */
int kern_cyph_unreachable(struct kern_cyph *c, uint32_t ifindex, int family,
			  const void *local, const void *remote);
/* TUNNEL_SET KEY into slot (enum cyphonic_key_slot); the buffer is wiped. */
int kern_cyph_tunnel_key(struct kern_cyph *c, uint32_t ifindex, uint32_t index,
			 uint8_t slot, uint8_t key_id, const uint8_t *tx, const uint8_t *rx);
/*
 * TUNNEL_SET ENDPOINT and RELAY: the tunnel (its keys and counters kept)
 * now goes through relay session relay at ep (a relay grant renewed).
 */
int kern_cyph_tunnel_relay(struct kern_cyph *c, uint32_t ifindex, uint32_t index,
			   const struct sockaddr_storage *ep, socklen_t len, uint32_t relay);
/*
 * TUNNEL_GET of one tunnel: milliseconds since its last authenticated
 * packet into *ms, or -1 when it has received none yet.
 */
int kern_cyph_tunnel_last_rx(struct kern_cyph *c, uint32_t ifindex, uint32_t index,
			     int64_t *ms);
/* KEY_SWAP: the next key becomes primary (TX switches to it). */
int kern_cyph_key_swap(struct kern_cyph *c, uint32_t ifindex, uint32_t index);

/* A "tunnel needed" event: traffic from local to remote has no tunnel. */
struct kern_cyph_needed {
	uint32_t ifindex;
	int family;			/* AF_INET or AF_INET6 */
	struct in_addr local4, remote4;
	struct in6_addr local6, remote6;
};

/* An event socket joined to the family's events group. 0 or -1 with err. */
int kern_cyph_events_open(const struct kern_cyph *c, struct kern_nl *ev, char *err,
			  size_t errlen);
/* 1 when nlh is a TUNNEL_NEEDED_NTF of the family (filled into *out), else 0. */
int kern_cyph_parse_needed(const struct kern_cyph *c, const struct nlmsghdr *nlh,
			   struct kern_cyph_needed *out);
/*
 * 1 when nlh is a KEY_LIMIT_NTF (the primary key of tunnel *index on
 * device *ifindex reached its rekey count or age), else 0.
 */
int kern_cyph_parse_key_limit(const struct kern_cyph *c, const struct nlmsghdr *nlh,
			      uint32_t *ifindex, uint32_t *index);

#endif
