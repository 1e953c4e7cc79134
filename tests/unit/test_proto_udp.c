// SPDX-License-Identifier: MIT
/*
 * proto_udp_send_batch(): the batched send of the NMS and the TRS. On
 * loopback only. Regression: the NMS dropped every datagram after one the
 * kernel refused, so one bad destination could silence the replies to
 * every other node in the same batch. proto_udp_rx_drops(): the kernel's
 * receive-queue drops (issue 12: not in the metrics before).
 * proto_udp_bind_split(): full signed REGISTERs on a socket of their own.
 */
#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <linux/cyphonic.h>
#include "wire/proto.h"
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

/* The split pair: which socket each kind of datagram reaches. */
static void test_split(int tx)
{
	struct sockaddr_in any = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	static const struct {
		uint8_t b[4];
		size_t len;
		int want;
		const char *what;
	} cases[] = {
		{ { CYPHONIC_MSG_SIGNAL, 1, PROTO_OP_REGISTER, PROTO_AUTH_SIG }, 4, 1, "full REGISTER" },
		{ { CYPHONIC_MSG_SIGNAL, 1, PROTO_OP_REGISTER, PROTO_AUTH_MAC }, 4, 0, "MACed REGISTER" },
		{ { CYPHONIC_MSG_SIGNAL, 1, PROTO_OP_KEEPALIVE, PROTO_AUTH_MAC }, 4, 0, "KEEPALIVE" },
		{ { CYPHONIC_MSG_RELAY_CTRL, 1, PROTO_OP_REGISTER, PROTO_AUTH_SIG }, 4, 0, "other type" },
		{ { CYPHONIC_MSG_SIGNAL, 1, PROTO_OP_REGISTER }, 3, 0, "too short to say" },
	};
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char err[128] = "";
	int fds[2], second[2];
	size_t i;

	/* Port 0: both sockets must still share the one the first one got. */
	TAP_CHECK(!proto_udp_bind_split((struct sockaddr *)&any, sizeof(any), fds, err,
					sizeof(err)), "split bind: %s", err);
	if (fds[0] < 0)
		return;
	TAP_CHECK(proto_udp_port(fds[0]) == proto_udp_port(fds[1]) && proto_udp_port(fds[0]),
		  "split bind: one port (%u, %u)", proto_udp_port(fds[0]), proto_udp_port(fds[1]));
	to.sin_port = htons(proto_udp_port(fds[0]));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pollfd p[2] = { { .fd = fds[0], .events = POLLIN },
				       { .fd = fds[1], .events = POLLIN } };
		char buf[16];
		int got = -1;

		sendto(tx, cases[i].b, cases[i].len, 0, (struct sockaddr *)&to, sizeof(to));
		if (poll(p, 2, 5000) > 0)
			got = (p[1].revents & POLLIN) ? 1 : (p[0].revents & POLLIN) ? 0 : -1;
		if (got >= 0)
			recv(fds[got], buf, sizeof(buf), 0);
		TAP_CHECK(got == cases[i].want, "split: %s reaches socket %d (%d)", cases[i].what,
			  cases[i].want, got);
	}
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	TAP_CHECK(proto_udp_bind_split((struct sockaddr *)&to, sizeof(to), second, err,
				       sizeof(err)) == -1 && second[0] == -1 && second[1] == -1,
		  "split bind on a port in use is refused (%s)", err);
	close(fds[0]);
	close(fds[1]);
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
	test_split(tx);
	close(rx);
	close(tx);
	return tap_done();
}
