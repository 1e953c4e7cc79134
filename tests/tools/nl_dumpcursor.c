// SPDX-License-Identifier: GPL-2.0
/*
 * nl_dumpcursor DEV CMD: a TUNNEL_GET dump must not carry on over another
 * device. Starts a dump of DEV's tunnels, reads its first datagram, runs
 * CMD (a shell command that deletes DEV and creates another device with
 * the same ifindex, populated the same way, so that its generation is the
 * same), then reads the rest. The dump must either hold the tunnels of
 * one device only (all with one LOCAL4), or say it was interrupted
 * (NLM_F_DUMP_INTR) or end in an error. Prints TAP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/cyphonic.h>

#define MAX_LOCALS 8

struct result {
	unsigned int messages, nlocals;
	uint32_t locals[MAX_LOCALS];
	bool intr, done;
	int error;
};

static void note_local(struct result *r, uint32_t l4)
{
	unsigned int i;

	for (i = 0; i < r->nlocals; i++)
		if (r->locals[i] == l4)
			return;
	if (r->nlocals < MAX_LOCALS)
		r->locals[r->nlocals++] = l4;
}

/* One datagram of the dump; returns false once it has ended. */
static bool read_part(struct nl_sock *sk, struct result *r)
{
	struct nlattr *tb[CYPHONIC_A_MAX + 1], *tun[CYPHONIC_TUNNEL_A_MAX + 1];
	struct sockaddr_nl who;
	unsigned char *buf = NULL;
	struct nlmsghdr *h;
	int n;

	n = nl_recv(sk, &who, &buf, NULL);
	if (n <= 0) {
		r->error = n ? -n : EIO;
		return false;
	}
	for (h = (struct nlmsghdr *)buf; nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
		if (h->nlmsg_flags & NLM_F_DUMP_INTR)
			r->intr = true;
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
			int err = 0;

			if (nlmsg_datalen(h) >= (int)sizeof(err))
				memcpy(&err, nlmsg_data(h), sizeof(err));
			r->error = err < 0 ? -err : 0;
			r->done = true;
			break;
		}
		r->messages++;
		if (genlmsg_parse(h, 0, tb, CYPHONIC_A_MAX, NULL) ||
		    !tb[CYPHONIC_A_TUNNEL] ||
		    nla_parse_nested(tun, CYPHONIC_TUNNEL_A_MAX,
				     tb[CYPHONIC_A_TUNNEL], NULL) ||
		    !tun[CYPHONIC_TUNNEL_A_LOCAL4])
			continue;
		note_local(r, nla_get_u32(tun[CYPHONIC_TUNNEL_A_LOCAL4]));
	}
	free(buf);
	return !r->done;
}

int main(int argc, char **argv)
{
	struct result r = { 0 };
	struct nl_sock *sk;
	struct nl_msg *msg;
	char l1[INET_ADDRSTRLEN] = "-", l2[INET_ADDRSTRLEN] = "-";
	int family;
	bool ok;

	if (argc != 3) {
		fprintf(stderr, "usage: nl_dumpcursor DEV CMD\n");
		return 2;
	}
	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk) ||
	    (family = genl_ctrl_resolve(sk, CYPHONIC_GENL_NAME)) < 0) {
		fprintf(stderr, "nl_dumpcursor: cannot reach the cyphonic family\n");
		return 1;
	}
	msg = nlmsg_alloc();
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
				 NLM_F_DUMP, CYPHONIC_CMD_TUNNEL_GET,
				 CYPHONIC_GENL_VERSION) ||
	    nla_put_string(msg, CYPHONIC_A_IFNAME, argv[1]) ||
	    nl_send_auto(sk, msg) < 0) {
		fprintf(stderr, "nl_dumpcursor: cannot send the dump request\n");
		return 1;
	}
	nlmsg_free(msg);
	printf("TAP version 13\n");
	if (!read_part(sk, &r) || !r.messages) {
		printf("not ok 1 - the dump has a first part and more (%u messages, error %d)\n",
		       r.messages, r.error);
		printf("1..1\n");
		return 1;
	}
	printf("# first part: %u tunnels\n", r.messages);
	fflush(stdout);
	if (system(argv[2]) != 0) {
		printf("not ok 1 - the command between the parts failed: %s\n", argv[2]);
		printf("1..1\n");
		return 1;
	}
	while (read_part(sk, &r))
		;
	if (r.nlocals > 0)
		inet_ntop(AF_INET, &r.locals[0], l1, sizeof(l1));
	if (r.nlocals > 1)
		inet_ntop(AF_INET, &r.locals[1], l2, sizeof(l2));
	ok = r.nlocals <= 1 || r.intr || r.error;
	printf("%s 1 - a dump whose device was replaced (same ifindex) is not carried on over the other device unflagged (%u tunnels of %u devices: %s %s; DUMP_INTR %s; error %s)\n",
	       ok ? "ok" : "not ok", r.messages, r.nlocals, l1, l2,
	       r.intr ? "yes" : "no", r.error ? strerror(r.error) : "none");
	printf("1..1\n");
	nl_socket_free(sk);
	return ok ? 0 : 1;
}
