/* SPDX-License-Identifier: MIT */
/*
 * Bridge ports through rtnetlink: which port of a bridge a MAC was last
 * seen on (its forwarding database). An adapter binds an 802.1X session to
 * the LAN port it ran on this way (link events: link.h).
 */
#ifndef CYPHONIC_KERNEL_BRIDGE_H
#define CYPHONIC_KERNEL_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>
#include "nlsock.h"

/*
 * The port (ifindex) of bridge br_ifindex whose learned FDB entry holds
 * mac, in *port. 0, -ENOENT when the bridge has no (non-local) entry for
 * it, or another -errno.
 */
int kern_bridge_fdb_port(struct kern_nl *nl, uint32_t br_ifindex, const uint8_t mac[6],
			 uint32_t *port);

#endif
