// SPDX-License-Identifier: MIT
/*
 * proto_udp_send_batch(): the batched send of the NMS and the TRS. On
 * loopback only. Regression: the NMS dropped every datagram after one the
 * kernel refused, so one bad destination could silence the replies to
 * every other node in the same batch. proto_udp_rx_drops(): the kernel's
 * receive-queue drops (issue 12: not in the metrics before).
 */
#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include "wire/proto_udp.h"
#include "tap.h"

static int recv_all(int fd, int want)
{
	char buf[64];
	int got = 0;

	/* Loopback delivery is synchronous; poll only guards a slow machine. */
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 5000) != 1 || recv(fd, buf, sizeof(buf), 0) < 0)
			break;
		got++;
	}
	return got;
}

int main(void)
{
	struct sockaddr_in any = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_storage to[3];
	struct sockaddr_in6 *bad = (struct sockaddr_in6 *)&to[1];
	struct mmsghdr m[3];
	struct iovec iov[3];
	char err[128] = "", payload[3] = "abc";
	int rx, tx, i;
	unsigned int lost;

	rx = proto_udp_bind((struct sockaddr *)&any, sizeof(any), false, err, sizeof(err));
	tx = proto_udp_bind((struct sockaddr *)&any, sizeof(any), false, err, sizeof(err));
	TAP_CHECK(rx >= 0 && tx >= 0, "bind two loopback sockets: %s", err);
	if (rx < 0 || tx < 0)
		return tap_done();
	memset(m, 0, sizeof(m));
	memset(to, 0, sizeof(to));
	for (i = 0; i < 3; i++) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&to[i];

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(proto_udp_port(rx));
		iov[i].iov_base = &payload[i];
		iov[i].iov_len = 1;
		m[i].msg_hdr.msg_name = &to[i];
		m[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	/* The middle one: an IPv6 destination on an IPv4 socket. */
	bad->sin6_family = AF_INET6;
	bad->sin6_addr = in6addr_loopback;
	bad->sin6_port = htons(proto_udp_port(rx));
	m[1].msg_hdr.msg_namelen = sizeof(*bad);

	lost = proto_udp_send_batch(tx, m, 3);
	TAP_CHECK(lost == 1, "one refused datagram counted as lost (%u)", lost);
	TAP_CHECK(recv_all(rx, 2) == 2, "the datagram after the refused one is still sent");
	TAP_CHECK(proto_udp_send_batch(tx, m, 0) == 0, "empty batch: nothing sent, nothing lost");
	{
		int small = 4096;	/* the kernel doubles it; still a few datagrams */
		uint64_t before = proto_udp_rx_drops(rx);

		setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		for (i = 0; i < 200; i++)
			proto_udp_send_batch(tx, m, 1);
		TAP_CHECK(proto_udp_rx_drops(rx) > before,
			  "receive-queue drops reported (%llu of 200 unread datagrams)",
			  (unsigned long long)(proto_udp_rx_drops(rx) - before));
	}
	close(rx);
	close(tx);
	return tap_done();
}
