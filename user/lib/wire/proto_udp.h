/* SPDX-License-Identifier: MIT */
/* UDP sockets for the signaling services and their clients. */
#ifndef CYPHONIC_PROTO_UDP_H
#define CYPHONIC_PROTO_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * A non-blocking, close-on-exec UDP socket bound to sa (IPv6 sockets are
 * IPV6_V6ONLY, so one port can be bound per family), with large buffers
 * and optionally SO_REUSEPORT. Returns the fd, or -1 with err.
 */
int proto_udp_bind(const struct sockaddr *sa, socklen_t len, bool reuseport,
		   char *err, size_t errlen);
/*
 * Two sockets on sa for the NMS (proto_udp_split.c): full signed REGISTERs
 * arrive at fds[1], all other datagrams at fds[0], each with its own
 * receive queue, so that a REGISTER flood cannot make the kernel drop
 * session messages. Refuses a port already in use (no silent sharing).
 * Returns 0, or -1 with err and both fds -1.
 */
int proto_udp_bind_split(const struct sockaddr *sa, socklen_t len, int fds[2], char *err,
			 size_t errlen);
/* Same from "host:port" / "[v6]:port". */
int proto_udp_bind_str(const char *addr, bool reuseport, char *err,
		       size_t errlen);
uint16_t proto_udp_port(int fd);
/*
 * Datagrams the kernel dropped at fd's receive queue (full buffer) since
 * the socket was opened (SO_MEMINFO); 0 when the kernel does not say. The
 * NMS and TRS export it: an overloaded daemon loses packets there first.
 */
uint64_t proto_udp_rx_drops(int fd);
/*
 * Sends msgs[0..n) with as few sendmmsg calls as possible. A datagram the
 * kernel refuses for its own reason (unreachable destination, bad address)
 * is skipped so it cannot take the rest of the batch with it; a full
 * socket buffer (EAGAIN/ENOBUFS) drops the rest, as UDP may. Returns the
 * number of datagrams not sent.
 */
struct mmsghdr;
unsigned int proto_udp_send_batch(int fd, struct mmsghdr *msgs, unsigned int n);
/* CLOCK_REALTIME in milliseconds: message timestamps are wall-clock. */
int64_t proto_now_ms(void);

#endif
