/* SPDX-License-Identifier: MIT */
/* The UDP sockets `cyphctl set listen-port` hands to the kernel. */
#ifndef CYPHCTL_UDP_H
#define CYPHCTL_UDP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Opens an AF_INET and an AF_INET6 (IPV6_V6ONLY) UDP socket bound to port
 * (0 = any; the IPv6 one then takes the IPv4 one's port if it is free).
 * A family the host lacks is reported on stderr and left at -1. Returns 0
 * when at least one socket is open, else prints why and returns -1.
 */
int udp_open_pair(const char *cmd, uint16_t port, int *fd4, int *fd6);

#endif
