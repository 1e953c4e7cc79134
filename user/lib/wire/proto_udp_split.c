// SPDX-License-Identifier: MIT
/*
 * One NMS port, two receive queues (proto_udp.h, proto_udp_bind_split):
 * a flood of full REGISTERs fills a socket's queue, and the kernel then
 * drops whatever arrives next, keepalives included. Two sockets in one
 * SO_REUSEPORT group with a classic BPF program choosing between them by
 * the SIGNAL header give the flood a queue of its own: full signed
 * REGISTERs (anyone can send them) go to fds[1], everything else (MACed
 * session messages of registered nodes) to fds[0], which the NMS reads
 * first. The program sees the UDP payload (the kernel pulls the UDP header
 * before running it); a datagram too short to load from goes to fds[0].
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/cyphonic.h>
#include "proto.h"
#include "proto_udp.h"

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

int proto_udp_bind_split(const struct sockaddr *sa, socklen_t len, int fds[2], char *err,
			 size_t errlen)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),			/* message type */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CYPHONIC_MSG_SIGNAL, 0, 5),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 2),			/* op */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROTO_OP_REGISTER, 0, 3),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 3),			/* auth */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PROTO_AUTH_SIG, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int probe;

	fds[0] = fds[1] = -1;
	/*
	 * SO_REUSEPORT would let this process join the group of another one
	 * already on the port (a second NMS) and share its traffic silently.
	 * A plain bind first fails on a port in use, reuseport or not; the
	 * window between its close and the group's bind is a few syscalls.
	 */
	probe = proto_udp_bind(sa, len, false, err, errlen);
	if (probe < 0)
		return -1;
	close(probe);
	fds[0] = proto_udp_bind(sa, len, true, err, errlen);
	if (fds[0] < 0)
		return -1;
	/* The group's program: attached before the second socket can take traffic. */
	if (setsockopt(fds[0], SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog))) {
		snprintf(err, errlen, "SO_ATTACH_REUSEPORT_CBPF: %s", strerror(errno));
		goto fail;
	}
	/* The port the first one got (sa may ask for any: port 0). */
	if (getsockname(fds[0], (struct sockaddr *)&bound, &blen)) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		goto fail;
	}
	fds[1] = proto_udp_bind((struct sockaddr *)&bound, blen, true, err, errlen);
	if (fds[1] < 0)
		goto fail;
	return 0;
fail:
	close(fds[0]);
	fds[0] = -1;
	return -1;
}
