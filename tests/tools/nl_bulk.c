// SPDX-License-Identifier: GPL-2.0
/*
 * nl_bulk DEV LOCAL4 COUNT: adds COUNT tunnels from the local identity
 * LOCAL4 to 10.200.0.0/16 + i (indices 100000 + i) in one netlink session,
 * then dumps the device's tunnels and checks that every one comes back
 * exactly once. It exists because one cyphctl process per tunnel is far
 * too slow under emulation to reach the thousands of tunnels a dump must
 * handle. Prints TAP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/cyphonic.h>

#define BASE_INDEX 100000u

struct dump_state {
	unsigned int count;
	unsigned char *seen;
	unsigned int dup, foreign, messages;
};

static int put_tunnel(struct nl_msg *msg, const char *dev, int cmd_family,
		      unsigned int i, struct in_addr local)
{
	struct in_addr remote = { htonl(0x0ac80000u + i) };	/* 10.200/16 */
	struct nlattr *nest;

	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, cmd_family, 0, 0,
			 CYPHONIC_CMD_TUNNEL_NEW, CYPHONIC_GENL_VERSION))
		return -1;
	if (nla_put_string(msg, CYPHONIC_A_IFNAME, dev))
		return -1;
	nest = nla_nest_start(msg, CYPHONIC_A_TUNNEL | NLA_F_NESTED);
	if (!nest ||
	    nla_put_u32(msg, CYPHONIC_TUNNEL_A_INDEX, BASE_INDEX + i) ||
	    nla_put_u32(msg, CYPHONIC_TUNNEL_A_PEER_INDEX, i + 1) ||
	    nla_put(msg, CYPHONIC_TUNNEL_A_LOCAL4, 4, &local) ||
	    nla_put(msg, CYPHONIC_TUNNEL_A_REMOTE4, 4, &remote))
		return -1;
	nla_nest_end(msg, nest);
	return 0;
}

static int on_tunnel(struct nl_msg *msg, void *arg)
{
	struct dump_state *st = arg;
	struct nlattr *top[CYPHONIC_A_MAX + 1];
	struct nlattr *tun[CYPHONIC_TUNNEL_A_MAX + 1];
	unsigned int idx;

	st->messages++;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, top, CYPHONIC_A_MAX, NULL) ||
	    !top[CYPHONIC_A_TUNNEL] ||
	    nla_parse_nested(tun, CYPHONIC_TUNNEL_A_MAX,
			     top[CYPHONIC_A_TUNNEL], NULL) ||
	    !tun[CYPHONIC_TUNNEL_A_INDEX])
		return NL_OK;
	idx = nla_get_u32(tun[CYPHONIC_TUNNEL_A_INDEX]);
	if (idx < BASE_INDEX || idx - BASE_INDEX >= st->count) {
		st->foreign++;
		return NL_OK;
	}
	if (st->seen[idx - BASE_INDEX]++)
		st->dup++;
	return NL_OK;
}

int main(int argc, char **argv)
{
	struct dump_state st = { 0 };
	struct nl_sock *sk;
	struct in_addr local;
	unsigned int i, missing = 0, added = 0;
	int family, err = 0;

	if (argc != 4 || inet_pton(AF_INET, argv[2], &local) != 1 ||
	    (st.count = strtoul(argv[3], NULL, 10)) == 0 || st.count > 60000) {
		fprintf(stderr, "usage: nl_bulk DEV LOCAL4 COUNT (1..60000)\n");
		return 2;
	}
	st.seen = calloc(st.count, 1);
	sk = nl_socket_alloc();
	if (!st.seen || !sk || genl_connect(sk)) {
		fprintf(stderr, "nl_bulk: cannot open a netlink socket\n");
		return 1;
	}
	family = genl_ctrl_resolve(sk, CYPHONIC_GENL_NAME);
	if (family < 0) {
		fprintf(stderr, "nl_bulk: family %s not found\n", CYPHONIC_GENL_NAME);
		return 1;
	}
	printf("TAP version 13\n");
	for (i = 0; i < st.count; i++) {
		struct nl_msg *msg = nlmsg_alloc();

		if (!msg || put_tunnel(msg, argv[1], family, i, local)) {
			err = -ENOMEM;
			nlmsg_free(msg);
			break;
		}
		err = nl_send_sync(sk, msg);	/* frees msg, waits for the ack */
		if (err < 0)
			break;
		added++;
	}
	printf("%s 1 - added %u of %u tunnels in one session%s%s\n",
	       added == st.count ? "ok" : "not ok", added, st.count,
	       err < 0 ? ": " : "", err < 0 ? nl_geterror(err) : "");

	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_tunnel, &st);
	{
		struct nl_msg *msg = nlmsg_alloc();

		genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_DUMP,
			    CYPHONIC_CMD_TUNNEL_GET, CYPHONIC_GENL_VERSION);
		nla_put_string(msg, CYPHONIC_A_IFNAME, argv[1]);
		err = nl_send_auto(sk, msg);
		nlmsg_free(msg);
		if (err >= 0)
			err = nl_recvmsgs_default(sk);
	}
	for (i = 0; i < st.count; i++)
		missing += !st.seen[i];
	printf("%s 2 - dump completed (%s)\n", err >= 0 ? "ok" : "not ok",
	       err >= 0 ? "no error" : nl_geterror(err));
	printf("%s 3 - dump returned every tunnel (%u missing)\n",
	       missing ? "not ok" : "ok", missing);
	printf("%s 4 - dump returned no tunnel twice (%u duplicates)\n",
	       st.dup ? "not ok" : "ok", st.dup);
	printf("# %u tunnel messages, %u from other tunnels\n", st.messages,
	       st.foreign);
	printf("1..4\n");
	nl_socket_free(sk);
	free(st.seen);
	return (added == st.count && err >= 0 && !missing && !st.dup) ? 0 : 1;
}
