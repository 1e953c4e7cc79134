// SPDX-License-Identifier: MIT
/* `cyphctl set DEV ...`: device settings (CYPHONIC_CMD_DEV_SET). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "nl.h"
#include "parse.h"
#include "udp.h"

#define CMD "set"

struct set_args {
	uint16_t port;
	uint8_t cipher;
	uint32_t workers;
	uint32_t max_tunnels;
	uint32_t max_locals;
	uint8_t detach;
	struct kw kw[7];
};

static int parse_set(int argc, char **argv, struct set_args *a)
{
	struct kw kw[] = {
		{ "listen-port", KW_PORT, &a->port, false },
		{ "cipher", KW_CIPHER, &a->cipher, false },
		{ "workers", KW_U32, &a->workers, false },
		{ "detach", KW_DETACH, &a->detach, false },
		{ "max-tunnels", KW_U32, &a->max_tunnels, false },
		{ "max-locals", KW_U32, &a->max_locals, false },
		{ NULL, 0, NULL, false },
	};

	if (kw_parse(CMD, argc, argv, kw))
		return -1;
	memcpy(a->kw, kw, sizeof(kw));
	if (!kw_seen(kw, "listen-port") && !kw_seen(kw, "cipher") &&
	    !kw_seen(kw, "workers") && !kw_seen(kw, "detach") &&
	    !kw_seen(kw, "max-tunnels") && !kw_seen(kw, "max-locals"))
		return cmd_error(CMD, "nothing to set (expected listen-port, cipher, workers, detach, max-tunnels or max-locals)");
	if (kw_seen(kw, "listen-port") && kw_seen(kw, "detach"))
		return cmd_error(CMD, "listen-port and detach do not go together");
	return 0;
}

static int put_fd(struct nl_msg *msg, int attr, int fd)
{
	return fd >= 0 ? nla_put_u32(msg, attr, (uint32_t)fd) : 0;
}

static int send_set(struct cy_nl *nl, uint32_t ifindex, struct set_args *a,
		    int fd4, int fd6)
{
	struct nl_msg *msg = cy_nl_request(nl, CYPHONIC_CMD_DEV_SET, false);
	int err;

	if (!msg)
		return cmd_error(CMD, "out of memory");
	err = nla_put_u32(msg, CYPHONIC_A_IFINDEX, ifindex) ||
	      put_fd(msg, CYPHONIC_A_FD4, fd4) ||
	      put_fd(msg, CYPHONIC_A_FD6, fd6) ||
	      (kw_seen(a->kw, "cipher") &&
	       nla_put_u8(msg, CYPHONIC_A_CIPHER, a->cipher)) ||
	      (kw_seen(a->kw, "workers") &&
	       nla_put_u32(msg, CYPHONIC_A_WORKERS, a->workers)) ||
	      (kw_seen(a->kw, "detach") &&
	       nla_put_u8(msg, CYPHONIC_A_DETACH, a->detach)) ||
	      (kw_seen(a->kw, "max-tunnels") &&
	       nla_put_u32(msg, CYPHONIC_A_MAX_TUNNELS, a->max_tunnels)) ||
	      (kw_seen(a->kw, "max-locals") &&
	       nla_put_u32(msg, CYPHONIC_A_MAX_LOCALS, a->max_locals));
	if (err) {
		nlmsg_free(msg);
		return cmd_error(CMD, "message too large");
	}
	return cy_nl_report(nl, cy_nl_exchange(nl, msg, NULL, NULL),
			    "DEV_SET");
}

/* The kernel still uses @fd: its encap hook is installed. */
static bool kernel_uses(int fd)
{
	socklen_t len = sizeof(int);
	int encap = 0;

	return fd >= 0 &&
	       !getsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &encap, &len) && encap;
}

/* Datagrams the kernel passes up (signaling); cyphctl speaks none. */
static void drain(int fd)
{
	char buf[2048];

	while (fd >= 0 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

/*
 * The kernel uses a socket only while user space keeps it open (it lets
 * go when the owner closes it or dies). cyphctl is no daemon, so a child
 * process ("cyphctl-socks") keeps the sockets, and exits, freeing the
 * port, once the kernel has let go of both: device deleted, sockets
 * replaced or detached. Killing it detaches the sockets from the device.
 */
static int hold_sockets(struct cy_nl *nl, int fd4, int fd6)
{
	struct pollfd p[2] = {
		{ .fd = fd4, .events = POLLIN },
		{ .fd = fd6, .events = POLLIN },
	};
	pid_t pid = fork();
	int null;

	if (pid < 0)
		return cmd_error(CMD, "cannot start the socket holder: %s",
				 strerror(errno));
	if (pid > 0)
		return 0;
	cy_nl_close(nl);
	setsid();
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	prctl(PR_SET_NAME, "cyphctl-socks");
	while (kernel_uses(fd4) || kernel_uses(fd6)) {
		if (poll(p, 2, 1000) > 0) {
			drain(fd4);
			drain(fd6);
		}
	}
	_exit(0);
}

int cmd_set(int argc, char **argv)
{
	struct set_args a = { 0 };
	int fd4 = -1, fd6 = -1, ret = 1;
	uint32_t ifindex;
	struct cy_nl nl;

	if (argc < 1)
		return usage_error(CMD);
	if (parse_set(argc - 1, argv + 1, &a) || cy_nl_open(&nl, CMD))
		return 1;
	ifindex = cy_nl_ifindex(&nl, argv[0]);
	if (!ifindex)
		goto out;
	if (kw_seen(a.kw, "listen-port") &&
	    udp_open_pair(CMD, a.port, &fd4, &fd6))
		goto out;
	ret = send_set(&nl, ifindex, &a, fd4, fd6) ? 1 : 0;
	if (!ret && (fd4 >= 0 || fd6 >= 0))
		ret = hold_sockets(&nl, fd4, fd6) ? 1 : 0;
out:
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
	cy_nl_close(&nl);
	return ret;
}
