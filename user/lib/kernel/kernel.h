/* SPDX-License-Identifier: MIT */
/*
 * kernel: the node's own netlink conversation with the Linux kernel,
 * through libmnl (programs that use it link -lmnl).
 *
 *	nlsock.h	a netlink socket: request/ack and dumps with the
 *			kernel's extended-ack message kept, event reading
 *	genl.h		generic netlink family and multicast group lookup
 *	cyphdev.h	the "cyphonic" genl family: hand over UDP sockets,
 *			detach them, local identities, device ports,
 *			tunnels with their keys, "tunnel needed" events
 *	link.h		rtnetlink: create/delete a link, set it up, addresses
 *	addrs.h		rtnetlink: the host's addresses, dumped and monitored
 *	udppair.h	the IPv4 + IPv6 UDP socket pair a device is given
 *
 * The folder is not called netlink/: a user/lib/netlink/ on the include
 * path would hide libnl's <netlink/...> headers from cyphctl.
 *
 * May include: runtime
 *
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_KERNEL_H
#define CYPHONIC_LIB_KERNEL_H
#include "addrs.h"
#include "cyphdev.h"
#include "genl.h"
#include "link.h"
#include "nlsock.h"
#include "udppair.h"
#endif
