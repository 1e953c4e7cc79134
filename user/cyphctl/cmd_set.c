// SPDX-License-Identifier: MIT
/* `cyphctl set DEV ...`: device settings (CYPHONIC_CMD_DEV_SET). */
#include <string.h>
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
	struct kw kw[4];
};

static int parse_set(int argc, char **argv, struct set_args *a)
{
	struct kw kw[] = {
		{ "listen-port", KW_PORT, &a->port, false },
		{ "cipher", KW_CIPHER, &a->cipher, false },
		{ "workers", KW_U32, &a->workers, false },
		{ NULL, 0, NULL, false },
	};

	if (kw_parse(CMD, argc, argv, kw))
		return -1;
	memcpy(a->kw, kw, sizeof(kw));
	if (!kw_seen(kw, "listen-port") && !kw_seen(kw, "cipher") &&
	    !kw_seen(kw, "workers"))
		return cmd_error(CMD, "nothing to set (expected listen-port, cipher or workers)");
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
	       nla_put_u32(msg, CYPHONIC_A_WORKERS, a->workers));
	if (err) {
		nlmsg_free(msg);
		return cmd_error(CMD, "message too large");
	}
	return cy_nl_report(nl, cy_nl_exchange(nl, msg, NULL, NULL),
			    "DEV_SET");
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
	/* The kernel holds its own reference; ours close on exit. */
	ret = send_set(&nl, ifindex, &a, fd4, fd6) ? 1 : 0;
out:
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
	cy_nl_close(&nl);
	return ret;
}
