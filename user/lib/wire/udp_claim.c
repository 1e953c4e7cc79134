// SPDX-License-Identifier: MIT
/* One service instance per UDP port (udp_claim.h). */
#include "udp_claim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

static void addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(out, outlen, "%s:%u", host, port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(out, outlen, "[%s]:%u", host, port);
	}
}

int proto_udp_port_free(const struct sockaddr *sa, socklen_t len, char *err, size_t errlen)
{
	int fd, one = 1, rc = 0;
	char text[64];

	if ((sa->sa_family == AF_INET && !((const struct sockaddr_in *)sa)->sin_port) ||
	    (sa->sa_family == AF_INET6 && !((const struct sockaddr_in6 *)sa)->sin6_port))
		return 0;	/* the kernel picks a free one */
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;	/* the real bind will say why */
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, len) && errno == EADDRINUSE) {
		addr_text(sa, text, sizeof(text));
		snprintf(err, errlen, "udp %s is already bound by another process "
			 "(another instance running?)", text);
		rc = -1;
	}
	close(fd);
	return rc;
}

int proto_udp_claim(const char *service, int fd, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char text[64];
	int u, n;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		return -1;
	}
	addr_text((struct sockaddr *)&ss, text, sizeof(text));
	/* Abstract name (leading NUL): gone with the process, no file. */
	n = snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "cyphonic-%s/udp/%s",
		     service, text);
	u = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u < 0) {
		snprintf(err, errlen, "claim socket: %s", strerror(errno));
		return -1;
	}
	if (bind(u, (struct sockaddr *)&un,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n))) {
		snprintf(err, errlen, "udp %s is claimed by another cyphonic-%s (%s)", text,
			 service, strerror(errno));
		close(u);
		return -1;
	}
	return u;
}
