// SPDX-License-Identifier: MIT
/* The UDP socket pair a cyphonic device is given. */
#include "udppair.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

uint16_t kern_udp_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void add_note(char *note, size_t len, const char *name, int err)
{
	size_t used = strlen(note);

	snprintf(note + used, len - used, "%s%s is unavailable (%s); not handing over an %s socket",
		 used ? "; " : "", name, strerror(err), name);
}

struct want {
	int af;
	uint16_t port;
	bool any_ok;
	char *note, *err;
	size_t notelen, errlen;
};

/* Returns the fd, -1 after an error, or -2 if the family is missing. */
static int open_one(const struct want *w)
{
	const char *name = w->af == AF_INET ? "IPv4" : "IPv6";
	int one = 1, fd, e;

	fd = socket(w->af, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
	if (fd < 0 && family_missing(errno)) {
		add_note(w->note, w->notelen, name, errno);
		return -2;
	}
	if (fd < 0) {
		snprintf(w->err, w->errlen, "cannot create a UDP %s socket: %s",
			 name, strerror(errno));
		return -1;
	}
	if (w->af == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) {
		snprintf(w->err, w->errlen, "IPV6_V6ONLY: %s", strerror(errno));
		goto fail;
	}
	if (!bind_port(fd, w->af, w->port))
		return fd;
	/* A port the IPv4 socket picked may be taken for IPv6: any will do. */
	if (w->any_ok && errno == EADDRINUSE && !bind_port(fd, w->af, 0))
		return fd;
	e = errno;
	if (w->af == AF_INET6 && e == EADDRNOTAVAIL) {
		add_note(w->note, w->notelen, name, e);
		close(fd);
		return -2;
	}
	snprintf(w->err, w->errlen, "cannot bind UDP port %u (%s): %s", w->port,
		 name, strerror(e));
fail:
	close(fd);
	return -1;
}

int kern_udp_open_pair(uint16_t port, int *fd4, int *fd6, char *note,
		       size_t notelen, char *err, size_t errlen)
{
	struct want w = { AF_INET, port, false, note, err, notelen, errlen };

	note[0] = '\0';
	*fd6 = -1;
	*fd4 = open_one(&w);
	if (*fd4 == -1)
		return -1;
	w.af = AF_INET6;
	if (*fd4 >= 0 && port == 0)
		w.port = kern_udp_port(*fd4);
	w.any_ok = port == 0;
	*fd6 = open_one(&w);
	if (*fd6 == -1) {
		if (*fd4 >= 0)
			close(*fd4);
		*fd4 = -1;
		return -1;
	}
	if (*fd4 < 0)
		*fd4 = -1;
	if (*fd6 < 0)
		*fd6 = -1;
	if (*fd4 < 0 && *fd6 < 0) {
		snprintf(err, errlen, "neither IPv4 nor IPv6 is available");
		return -1;
	}
	return 0;
}
