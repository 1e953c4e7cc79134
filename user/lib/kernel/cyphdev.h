/* SPDX-License-Identifier: MIT */
/*
 * The "cyphonic" generic netlink family (uapi/linux/cyphonic.h) as the
 * node daemon uses it: hand the device its UDP sockets, take them back,
 * declare the node's VIPs as a local identity, read the ports in use.
 * Every call returns 0 or -errno; the kernel's reason is then in
 * c->nl.extack (kern_nl_strerror()).
 */
#ifndef CYPHONIC_KERNEL_CYPHDEV_H
#define CYPHONIC_KERNEL_CYPHDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
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

#endif
