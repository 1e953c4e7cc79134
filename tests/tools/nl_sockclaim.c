// SPDX-License-Identifier: GPL-2.0
/*
 * nl_sockclaim DEV1 DEV2: one UDP socket may serve one cyphonic device
 * only. Hands a bound AF_INET socket to DEV1 (accepted), then the same fd
 * to DEV2 (must fail with EBUSY and an extack message), then to DEV1 again
 * (accepted: it is already DEV1's).
 *
 * Then, in a child with a user and network namespace of its own (root
 * there, nothing outside): a device of its own accepts a socket of its own
 * namespace, but refuses one it brought from ours (EPERM and an extack
 * message), since it has no CAP_NET_ADMIN over our namespace. Prints TAP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/cyphonic.h>

static char extack[256];

/* Keeps the kernel's extack message of the last error ack. */
static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	unsigned int off = sizeof(*e);
	int *ret = arg;

	(void)nla;
	extack[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    !nla_parse(tb, NLMSGERR_ATTR_MAX,
		       (struct nlattr *)((char *)e + off),
		       nlh->nlmsg_len - NLMSG_HDRLEN - off, NULL) &&
	    tb[NLMSGERR_ATTR_MSG])
		snprintf(extack, sizeof(extack), "%s",
			 (char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	*ret = e->error;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	(void)msg;
	*(int *)arg = 0;
	return NL_STOP;
}

static int dev_set_fd(struct nl_sock *sk, int family, const char *dev, int fd)
{
	struct nl_msg *msg = nlmsg_alloc();
	int ret = 1;

	extack[0] = '\0';
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
				 NLM_F_ACK, CYPHONIC_CMD_DEV_SET,
				 CYPHONIC_GENL_VERSION) ||
	    nla_put_string(msg, CYPHONIC_A_IFNAME, dev) ||
	    nla_put_u32(msg, CYPHONIC_A_FD4, fd)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_error, &ret);
	nl_socket_modify_cb(sk, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &ret);
	if (nl_send_auto(sk, msg) < 0)
		ret = -EIO;
	else
		while (ret > 0 && nl_recvmsgs_default(sk) >= 0)
			;
	nlmsg_free(msg);
	return ret;
}

static int open_genl(struct nl_sock **skp)
{
	struct nl_sock *sk = nl_socket_alloc();
	int family, one = 1;

	if (!sk || genl_connect(sk) ||
	    setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) ||
	    (family = genl_ctrl_resolve(sk, CYPHONIC_GENL_NAME)) < 0) {
		if (sk)
			nl_socket_free(sk);
		return -1;
	}
	*skp = sk;
	return family;
}

static int bound_udp4(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, s, strlen(s));
		close(fd);
	}
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/*
 * In a new user and network namespace, root there only: tests 4 and 5.
 * @foreign: a bound socket of the parent's namespace. Returns failures.
 */
static int userns_child(int foreign)
{
	struct nl_sock *sk;
	int family, own, r, fails = 0;

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) ||
	    write_file("/proc/self/setgroups", "deny") ||
	    write_file("/proc/self/uid_map", "0 0 1") ||
	    write_file("/proc/self/gid_map", "0 0 1") ||
	    system("ip link add cyphu type cyphonic") != 0 ||
	    (family = open_genl(&sk)) < 0 || (own = bound_udp4()) < 0) {
		printf("not ok 4 - a user namespace with a device of its own: setup failed\n");
		printf("not ok 5 - # SKIP no setup\n");
		return 2;
	}
	r = dev_set_fd(sk, family, "cyphu", own);
	fails += r != 0;
	printf("%s 4 - a device in a user's own namespace accepts a socket of that namespace (%s)\n",
	       r ? "not ok" : "ok", r ? strerror(-r) : "ok");
	r = dev_set_fd(sk, family, "cyphu", foreign);
	fails += r != -EPERM || !extack[0];
	printf("%s 5 - it refuses a socket of a namespace the user does not administer with EPERM and a message (%s: %s)\n",
	       r == -EPERM && extack[0] ? "ok" : "not ok",
	       r ? strerror(-r) : "accepted", extack[0] ? extack : "no extack");
	nl_socket_free(sk);
	return fails;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct nl_sock *sk;
	int family, fd, one = 1, r, fails = 0, status;
	pid_t pid;

	if (argc != 3) {
		fprintf(stderr, "usage: nl_sockclaim DEV1 DEV2\n");
		return 2;
	}
	sk = nl_socket_alloc();
	if (!sk || genl_connect(sk) ||
	    setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) ||
	    (family = genl_ctrl_resolve(sk, CYPHONIC_GENL_NAME)) < 0) {
		fprintf(stderr, "nl_sockclaim: cannot reach the cyphonic family\n");
		return 1;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("nl_sockclaim: socket");
		return 1;
	}
	printf("TAP version 13\n");
	r = dev_set_fd(sk, family, argv[1], fd);
	fails += r != 0;
	printf("%s 1 - %s accepts a fresh socket (%s)\n", r ? "not ok" : "ok",
	       argv[1], r ? strerror(-r) : "ok");
	r = dev_set_fd(sk, family, argv[2], fd);
	fails += r != -EBUSY || !extack[0];
	printf("%s 2 - %s refuses the same socket with EBUSY and a message (%s: %s)\n",
	       r == -EBUSY && extack[0] ? "ok" : "not ok", argv[2],
	       r ? strerror(-r) : "accepted", extack[0] ? extack : "no extack");
	r = dev_set_fd(sk, family, argv[1], fd);
	fails += r != 0;
	printf("%s 3 - %s accepts its own socket again (%s)\n", r ? "not ok" : "ok",
	       argv[1], r ? strerror(-r) : "ok");
	close(fd);

	fd = bound_udp4();
	if (fd < 0) {
		perror("nl_sockclaim: socket");
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		r = userns_child(fd);
		fflush(stdout);
		_exit(r);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fails++;
	printf("1..5\n");
	close(fd);
	nl_socket_free(sk);
	return fails ? 1 : 0;
}
