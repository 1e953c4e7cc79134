// SPDX-License-Identifier: MIT
/* `cyphctl local add|del DEV [vip4 A] [vip6 A]`: local identities. */
#include <string.h>

#include "commands.h"
#include "nl.h"
#include "parse.h"

static int send_local(struct cy_nl *nl, uint8_t cmd, uint32_t ifindex,
		      const struct kw *kw, const struct in_addr *v4,
		      const struct in6_addr *v6)
{
	struct nl_msg *msg = cy_nl_request(nl, cmd, false);
	struct nlattr *nest;

	if (!msg)
		return cmd_error(nl->cmd, "out of memory");
	if (nla_put_u32(msg, CYPHONIC_A_IFINDEX, ifindex) ||
	    !(nest = nla_nest_start(msg, CYPHONIC_A_LOCAL)) ||
	    (kw_seen(kw, "vip4") &&
	     nla_put(msg, CYPHONIC_LOCAL_A_VIP4, sizeof(*v4), v4)) ||
	    (kw_seen(kw, "vip6") &&
	     nla_put(msg, CYPHONIC_LOCAL_A_VIP6, sizeof(*v6), v6))) {
		nlmsg_free(msg);
		return cmd_error(nl->cmd, "message too large");
	}
	nla_nest_end(msg, nest);
	return cy_nl_report(nl, cy_nl_exchange(nl, msg, NULL, NULL),
			    cmd == CYPHONIC_CMD_LOCAL_ADD ? "LOCAL_ADD" :
							    "LOCAL_DEL");
}

int cmd_local(int argc, char **argv)
{
	struct in_addr v4;
	struct in6_addr v6;
	struct kw kw[] = {
		{ "vip4", KW_IP4, &v4, false },
		{ "vip6", KW_IP6, &v6, false },
		{ NULL, 0, NULL, false },
	};
	const char *name;
	uint32_t ifindex;
	struct cy_nl nl;
	uint8_t cmd;
	int ret;

	if (argc < 2)
		return usage_error("local");
	if (!strcmp(argv[0], "add")) {
		cmd = CYPHONIC_CMD_LOCAL_ADD;
		name = "local add";
	} else if (!strcmp(argv[0], "del")) {
		cmd = CYPHONIC_CMD_LOCAL_DEL;
		name = "local del";
	} else {
		cmd_error("local", "unknown subcommand \"%s\" (expected add or del)",
			  argv[0]);
		return usage_error("local");
	}
	if (kw_parse(name, argc - 2, argv + 2, kw))
		return 1;
	if (!kw_seen(kw, "vip4") && !kw_seen(kw, "vip6"))
		return cmd_error(name, "at least one of vip4 and vip6 is required"), 1;
	if (cy_nl_open(&nl, name))
		return 1;
	ifindex = cy_nl_ifindex(&nl, argv[1]);
	ret = !ifindex || send_local(&nl, cmd, ifindex, kw, &v4, &v6) ? 1 : 0;
	cy_nl_close(&nl);
	return ret;
}
