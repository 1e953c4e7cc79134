/* SPDX-License-Identifier: MIT */
/* The UDP sockets a cyphonic device is given (cyphctl and cyphonicd). */
#ifndef CYPHONIC_KERNEL_UDPPAIR_H
#define CYPHONIC_KERNEL_UDPPAIR_H

#include <stddef.h>
#include <stdint.h>

/*
 * Opens an AF_INET and an AF_INET6 (IPV6_V6ONLY) UDP socket, close-on-exec,
 * bound to port (0 = any; the IPv6 one then takes the IPv4 one's port if
 * it is free). A family the host lacks is left at -1 and described in note
 * ("" when both are there). Returns 0 when at least one socket is open,
 * else -1 with the reason in err (nothing is left open).
 */
int kern_udp_open_pair(uint16_t port, int *fd4, int *fd6, char *note,
		       size_t notelen, char *err, size_t errlen);

/* The local port a socket is bound to, 0 if unknown. */
uint16_t kern_udp_port(int fd);

#endif
