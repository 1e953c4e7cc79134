/* SPDX-License-Identifier: MIT */
/* The UDP socket pair `cyphctl set listen-port` creates (loopback only). */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "udp.h"

static int port_of(int fd, int *family)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	*family = ss.ss_family;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int v6only(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len);
	return v;
}

static int sock_type(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len);
	return v;
}

int main(void)
{
	int fd4, fd6, f4 = 0, f6 = 0, p4, p6, fd4b, fd6b;

	TAP_CHECK(!udp_open_pair("test", 0, &fd4, &fd6), "port 0: pair opened");
	TAP_CHECK(fd4 >= 0 && fd6 >= 0, "both families available here");
	p4 = port_of(fd4, &f4);
	p6 = port_of(fd6, &f6);
	TAP_CHECK(f4 == AF_INET && f6 == AF_INET6, "families AF_INET, AF_INET6");
	TAP_CHECK(p4 > 0 && p4 == p6, "port 0: same port for both (%d, %d)", p4, p6);
	TAP_CHECK(v6only(fd6) == 1, "IPV6_V6ONLY set");
	TAP_CHECK(sock_type(fd4) == SOCK_DGRAM && sock_type(fd6) == SOCK_DGRAM,
		  "datagram sockets");
	/* The same explicit port again is in use: an error, nothing leaked. */
	TAP_CHECK(udp_open_pair("test", (uint16_t)p4, &fd4b, &fd6b) == -1,
		  "port in use is an error");
	close(fd4);
	TAP_CHECK(udp_open_pair("test", (uint16_t)p4, &fd4b, &fd6b) == -1,
		  "port in use for IPv6 only is an error too");
	close(fd6);
	TAP_CHECK(!udp_open_pair("test", (uint16_t)p4, &fd4b, &fd6b) &&
		  port_of(fd4b, &f4) == p4 && port_of(fd6b, &f6) == p4,
		  "explicit port binds both");
	close(fd4b);
	close(fd6b);
	return tap_done();
}
