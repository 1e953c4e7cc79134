/* SPDX-License-Identifier: MIT */
/*
 * One service instance per UDP port. A daemon whose threads share a port
 * through SO_REUSEPORT would let a second instance (same user) bind it
 * too, and the kernel would then split the traffic between the two
 * silently. Before binding, proto_udp_port_free() binds the address once
 * without SO_REUSEPORT (any existing socket on it refuses that); after
 * binding, proto_udp_claim() takes an abstract Unix socket named after the
 * bound address, held for the process's life, which closes the window
 * between two instances starting at the same moment. Both are per network
 * namespace, as ports are.
 */
#ifndef CYPHONIC_UDP_CLAIM_H
#define CYPHONIC_UDP_CLAIM_H

#include <stddef.h>
#include <sys/socket.h>

/* 0 when nothing is bound to sa (port 0 always is), -1 with err. */
int proto_udp_port_free(const struct sockaddr *sa, socklen_t len, char *err, size_t errlen);
/*
 * Claims the address the UDP socket fd is bound to for service (e.g.
 * "trs"). Returns the claim's fd (keep it open), or -1 with err when
 * another process holds the claim.
 */
int proto_udp_claim(const char *service, int fd, char *err, size_t errlen);

#endif
