// SPDX-License-Identifier: MIT
#include "listen.h"
#include "config.h"
#include "sslerr.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cyph_listen_tcp(const struct cyph_cfg_addr *a, int backlog, char *err, size_t errlen)
{
	int one = 1, fd;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cyph_fail(err, errlen, "%s: socket: %s", a->text, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) ||
	    listen(fd, backlog)) {
		int e = errno;

		close(fd);
		return cyph_fail(err, errlen, "%s: bind/listen: %s", a->text, strerror(e));
	}
	return fd;
}

int cyph_listen_tcp_str(const char *addr_port, int backlog, char *err, size_t errlen)
{
	struct cyph_cfg_addr a;
	const char *why = "";

	if (cyph_parse_addr(addr_port, &a, &why))
		return cyph_fail(err, errlen, "%s: %s", addr_port, why);
	return cyph_listen_tcp(&a, backlog, err, errlen);
}

uint16_t cyph_sock_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &l))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}
