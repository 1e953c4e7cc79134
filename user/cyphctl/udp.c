// SPDX-License-Identifier: MIT
/* The UDP sockets `cyphctl set listen-port` hands to the kernel. */
#include "udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parse.h"

/* The host has no such address family (kernel built or booted without). */
static bool family_missing(int err)
{
	return err == EAFNOSUPPORT || err == EPROTONOSUPPORT;
}

static int bind_port(int fd, int af, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

	if (af == AF_INET) {
		sin.sin_port = htons(port);
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
		return bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	sin6.sin6_port = htons(port);
	sin6.sin6_addr = in6addr_any;
	return bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Returns the fd, -1 after an error message, or -2 if af is missing. */
static int open_one(const char *cmd, int af, uint16_t port, bool any_ok)
{
	const char *name = af == AF_INET ? "IPv4" : "IPv6";
	int one = 1, fd;

	fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0 && family_missing(errno)) {
		fprintf(stderr, "cyphctl: %s: %s is unavailable (%s); not handing over an %s socket\n",
			cmd, name, strerror(errno), name);
		return -2;
	}
	if (fd < 0)
		return cmd_error(cmd, "cannot create a UDP %s socket: %s",
				 name, strerror(errno));
	if (af == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) {
		cmd_error(cmd, "IPV6_V6ONLY: %s", strerror(errno));
		goto fail;
	}
	if (!bind_port(fd, af, port))
		return fd;
	/* A port the IPv4 socket picked may be taken for IPv6: any will do. */
	if (any_ok && errno == EADDRINUSE && !bind_port(fd, af, 0))
		return fd;
	if (af == AF_INET6 && errno == EADDRNOTAVAIL) {
		fprintf(stderr, "cyphctl: %s: IPv6 is unavailable (%s); not handing over an IPv6 socket\n",
			cmd, strerror(errno));
		close(fd);
		return -2;
	}
	cmd_error(cmd, "cannot bind UDP port %u (%s): %s", port, name,
		  strerror(errno));
fail:
	close(fd);
	return -1;
}

int udp_open_pair(const char *cmd, uint16_t port, int *fd4, int *fd6)
{
	uint16_t port6 = port;

	*fd4 = open_one(cmd, AF_INET, port, false);
	if (*fd4 == -1)
		return -1;
	if (*fd4 >= 0 && port == 0)
		port6 = bound_port(*fd4);
	*fd6 = open_one(cmd, AF_INET6, port6, port == 0);
	if (*fd6 == -1) {
		if (*fd4 >= 0)
			close(*fd4);
		return -1;
	}
	if (*fd4 < 0 && *fd6 < 0)
		return cmd_error(cmd, "neither IPv4 nor IPv6 is available");
	if (*fd4 < 0)
		*fd4 = -1;
	if (*fd6 < 0)
		*fd6 = -1;
	return 0;
}
