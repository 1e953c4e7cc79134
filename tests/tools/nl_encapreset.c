// SPDX-License-Identifier: GPL-2.0
/*
 * nl_encapreset DEV PORT: hands a fresh AF_INET UDP socket bound to PORT
 * to DEV (FD4), then takes it back behind the device's back, as its owner
 * may: setsockopt(UDP_ENCAP, 0) replaces the encap_rcv hook and clears
 * the encapsulation type, after which the UDP core no longer tells the
 * device when the socket is closed. Then closes it and exits. The caller
 * checks that the device lets go of it all the same. Prints TAP.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/cyphonic.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_ENCAP
#define UDP_ENCAP 100
#endif

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct nl_sock *sk;
	struct nl_msg *msg;
	int family, fd, zero = 0, r, fails = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: nl_encapreset DEV PORT\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk) ||
	    (family = genl_ctrl_resolve(sk, CYPHONIC_GENL_NAME)) < 0) {
		fprintf(stderr, "nl_encapreset: cannot reach the cyphonic family\n");
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("nl_encapreset: socket");
		return 1;
	}
	printf("TAP version 13\n");
	msg = nlmsg_alloc();
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
				 NLM_F_ACK, CYPHONIC_CMD_DEV_SET,
				 CYPHONIC_GENL_VERSION) ||
	    nla_put_string(msg, CYPHONIC_A_IFNAME, argv[1]) ||
	    nla_put_u32(msg, CYPHONIC_A_FD4, (uint32_t)fd) ||
	    nl_send_auto(sk, msg) < 0)
		r = -EIO;
	else
		r = nl_wait_for_ack(sk);
	nlmsg_free(msg);
	fails += r != 0;
	printf("%s 1 - %s takes the socket (%s)\n", r ? "not ok" : "ok",
	       argv[1], r ? nl_geterror(r) : "ok");
	r = setsockopt(fd, SOL_UDP, UDP_ENCAP, &zero, sizeof(zero));
	fails += r != 0;
	printf("%s 2 - its owner resets UDP_ENCAP (%s)\n", r ? "not ok" : "ok",
	       r ? strerror(errno) : "ok");
	close(fd);
	printf("1..2\n");
	nl_socket_free(sk);
	return fails ? 1 : 0;
}
