/* SPDX-License-Identifier: MIT */
/*
 * One netlink socket (libmnl) for requests or for events. A request is
 * sent with NLM_F_ACK and answered by its replies and an ack; a failed
 * request leaves the errno and the kernel's extended-ack message in the
 * socket, so callers can log what the kernel said.
 */
#ifndef CYPHONIC_KERNEL_NLSOCK_H
#define CYPHONIC_KERNEL_NLSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

struct mnl_socket;

/* Large enough for one message of a dump burst (the kernel's page size). */
#define KERN_NL_BUFSIZE 16384

struct kern_nl {
	struct mnl_socket *sk;
	uint32_t portid;
	uint32_t seq;
	int error;		/* positive errno of the last failed request */
	char extack[256];	/* its extended-ack message, "" if none */
};

/* Called for each reply (or event); returns 0 to go on, -errno to stop. */
typedef int (*kern_nl_cb)(const struct nlmsghdr *nlh, void *arg);

/*
 * Opens a socket of bus (NETLINK_ROUTE, NETLINK_GENERIC) subscribed to
 * the legacy group bitmask groups (0 for a request socket). 0, or -1 with
 * err.
 */
int kern_nl_open(struct kern_nl *nl, int bus, unsigned int groups,
		 char *err, size_t errlen);
void kern_nl_close(struct kern_nl *nl);
int kern_nl_fd(const struct kern_nl *nl);
/* Joins a multicast group by id (generic netlink groups). 0 or -errno. */
int kern_nl_join(struct kern_nl *nl, unsigned int group);

/* Starts a message of type with flags in buf (KERN_NL_BUFSIZE bytes). */
struct nlmsghdr *kern_nl_msg(void *buf, uint16_t type, uint16_t flags);

/*
 * Sends nlh with NLM_F_ACK and reads until its ack (or the end of the
 * dump), handing every reply to cb (may be NULL). Returns 0 or -errno;
 * on a kernel error nl->error and nl->extack say why.
 */
int kern_nl_talk(struct kern_nl *nl, struct nlmsghdr *nlh, kern_nl_cb cb,
		 void *arg);

/*
 * Reads what is queued on an event socket without blocking and hands each
 * message to cb. Returns 0 when drained, -ENOBUFS when the kernel dropped
 * events (the caller must resynchronise by a dump), or another -errno.
 */
int kern_nl_read_events(struct kern_nl *nl, kern_nl_cb cb, void *arg);

/* "strerror (kernel: extack)" of the last failure, for logs. */
const char *kern_nl_strerror(const struct kern_nl *nl, int err, char *buf,
			     size_t len);

#endif
