/* SPDX-License-Identifier: MIT */
/*
 * The host's IP addresses from rtnetlink: a dump now, and a monitor
 * socket that wakes the caller when any address is added or removed.
 */
#ifndef CYPHONIC_KERNEL_ADDRS_H
#define CYPHONIC_KERNEL_ADDRS_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include "nlsock.h"

struct kern_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint32_t ifindex;
	uint8_t prefixlen;
	uint8_t scope;		/* RT_SCOPE_* */
	uint32_t flags;		/* IFA_F_* */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/*
 * Parses an RTM_NEWADDR/RTM_DELADDR message. Returns 1 for an address
 * (filled into *out), 0 for a message of another type.
 */
int kern_addr_parse(const struct nlmsghdr *nlh, struct kern_addr *out);

/* Dumps every address of both families; fn is called for each. */
int kern_addr_dump(struct kern_nl *nl,
		   void (*fn)(const struct kern_addr *a, void *arg), void *arg);

/* An event socket for RTMGRP_IPV4_IFADDR and RTMGRP_IPV6_IFADDR. */
int kern_addr_monitor_open(struct kern_nl *nl, char *err, size_t errlen);

/*
 * Whether a is worth telling the NMS about as a place to reach this host:
 * global scope, not tentative (DAD pending), not deprecated, not
 * dad-failed, not on ifindex skip (the overlay device itself).
 */
bool kern_addr_usable(const struct kern_addr *a, uint32_t skip);

#endif
