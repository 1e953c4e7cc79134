/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink on a NETLINK_ROUTE request socket: what `ip link add NAME
 * type KIND`, `ip link del`, `ip link set up` and `ip addr add/del` do.
 * Every call returns 0 or -errno (the kernel's reason in nl->extack).
 */
#ifndef CYPHONIC_KERNEL_LINK_H
#define CYPHONIC_KERNEL_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include "nlsock.h"

/* Creates link name of kind (no extra arguments); -EEXIST if present. */
int kern_link_create(struct kern_nl *nl, const char *name, const char *kind);
int kern_link_delete(struct kern_nl *nl, uint32_t ifindex);
int kern_link_set_up(struct kern_nl *nl, uint32_t ifindex);
/*
 * The kind of link ifindex ("cyphonic", "veth", "" for none) into kind;
 * -ENODEV when there is no such link.
 */
int kern_link_kind(struct kern_nl *nl, uint32_t ifindex, char *kind, size_t len);

/*
 * Adds or deletes address addr (4 or 16 bytes by family AF_INET/AF_INET6)
 * with prefix length plen on ifindex. IPv6 addresses are added without
 * duplicate address detection (IFA_F_NODAD): a VIP is unique by the AS.
 */
int kern_addr_change(struct kern_nl *nl, bool add, uint32_t ifindex, int family,
		     const void *addr, uint8_t plen);
/* The same with IFA_F_* flags, e.g. IFA_F_NOPREFIXROUTE (no route for the prefix). */
int kern_addr_change_flags(struct kern_nl *nl, bool add, uint32_t ifindex, int family,
			   const void *addr, uint8_t plen, uint32_t flags);

/*
 * Adds or deletes the on-link route dst/plen via ifindex in the main
 * table (`ip route add|del DST/PLEN dev IF`), protocol static. An
 * adapter routes each general node's VIP to its LAN this way.
 */
int kern_route_change(struct kern_nl *nl, bool add, uint32_t ifindex, int family,
		      const void *dst, uint8_t plen);

/*
 * Adds (NUD_PERMANENT) or deletes the neighbour entry addr -> lladdr (6
 * bytes) on ifindex (`ip neigh replace ADDR lladdr MAC nud permanent dev
 * IF`): ARP and NDP from the link cannot change a permanent entry.
 */
int kern_neigh_change(struct kern_nl *nl, bool add, uint32_t ifindex, int family,
		      const void *addr, const uint8_t lladdr[6]);

/*
 * Link state and events: a port of a bridge that went down or left it.
 */
/* An event socket for link changes (RTMGRP_LINK). */
int kern_link_monitor_open(struct kern_nl *nl, char *err, size_t errlen);

struct kern_link_event {
	uint32_t ifindex;
	uint32_t master;	/* IFLA_MASTER, 0 when none (or not said) */
	bool deleted;		/* RTM_DELLINK */
	bool up;		/* administratively up and carrier (IFF_UP, IFF_LOWER_UP) */
};

/* The state of link ifindex now (RTM_GETLINK) in *out: 0 or -errno (-ENODEV: gone). */
int kern_link_state(struct kern_nl *nl, uint32_t ifindex, struct kern_link_event *out);

/* Parses RTM_NEWLINK/RTM_DELLINK: 1 (filled into *out), 0 for another message. */
int kern_link_event_parse(const struct nlmsghdr *nlh, struct kern_link_event *out);

#endif
