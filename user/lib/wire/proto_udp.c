// SPDX-License-Identifier: MIT
/* UDP sockets for the signaling services and their clients. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/sock_diag.h>
#include "runtime/addr.h"
#include "proto_udp.h"

int proto_udp_bind(const struct sockaddr *sa, socklen_t len, bool reuseport,
		   char *err, size_t errlen)
{
	int one = 1, buf = 4 << 20;
	int fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* Best effort: the kernel caps buffers at net.core.*mem_max. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if ((sa->sa_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    (reuseport &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    bind(fd, sa, len)) {
		char a[ADDR_ENDPOINT_STRLEN] = "?";

		addr_format_endpoint(sa, len, a, sizeof(a));
		snprintf(err, errlen, "bind %s: %s", a, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

uint64_t proto_udp_rx_drops(int fd)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len) ||
	    len <= SK_MEMINFO_DROPS * sizeof(mi[0]))
		return 0;
	return mi[SK_MEMINFO_DROPS];
}

int proto_udp_bind_str(const char *addr, bool reuseport, char *err,
		       size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (addr_parse_endpoint(addr, &ss, &len)) {
		/* Port 0 (any) is fine for a client: try it by hand. */
		char host[128];
		const char *colon = strrchr(addr, ':');

		if (!colon || strcmp(colon, ":0") || (size_t)(colon - addr) >= sizeof(host)) {
			snprintf(err, errlen, "'%s' is not an address:port", addr);
			return -1;
		}
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = 0;
		strcat(host, ":1");
		if (addr_parse_endpoint(host, &ss, &len)) {
			snprintf(err, errlen, "'%s' is not an address:port", addr);
			return -1;
		}
		((struct sockaddr_in *)&ss)->sin_port = 0;	/* same offset in v6 */
	}
	return proto_udp_bind((struct sockaddr *)&ss, len, reuseport, err, errlen);
}

uint16_t proto_udp_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

unsigned int proto_udp_send_batch(int fd, struct mmsghdr *msgs, unsigned int n)
{
	unsigned int done = 0, dropped = 0;

	while (done < n) {
		int k = sendmmsg(fd, msgs + done, n - done, 0);

		if (k > 0) {
			done += (unsigned int)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
			      errno == ENOBUFS))
			return dropped + (n - done);
		dropped++;	/* this one datagram failed: skip it */
		done++;
	}
	return dropped;
}

int64_t proto_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
