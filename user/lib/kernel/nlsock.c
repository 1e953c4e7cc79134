// SPDX-License-Identifier: MIT
/* One netlink socket through libmnl: requests with acks, dumps, events. */
#include "nlsock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <libmnl/libmnl.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int kern_nl_open(struct kern_nl *nl, int bus, unsigned int groups,
		 char *err, size_t errlen)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sk = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (!nl->sk || mnl_socket_bind(nl->sk, groups, MNL_SOCKET_AUTOPID)) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		kern_nl_close(nl);
		return -1;
	}
	/* The kernel's reason in errors, and acks that do not echo the
	 * request back (it may be large). */
	mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void kern_nl_close(struct kern_nl *nl)
{
	if (nl->sk)
		mnl_socket_close(nl->sk);
	nl->sk = NULL;
}

int kern_nl_fd(const struct kern_nl *nl)
{
	return nl->sk ? mnl_socket_get_fd(nl->sk) : -1;
}

int kern_nl_join(struct kern_nl *nl, unsigned int group)
{
	int g = (int)group;

	if (mnl_socket_setsockopt(nl->sk, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)))
		return -errno;
	return 0;
}

struct nlmsghdr *kern_nl_msg(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

struct talk {
	struct kern_nl *nl;
	kern_nl_cb cb;
	void *arg;
};

static int on_data(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	int rc;

	if (!t->cb)
		return MNL_CB_OK;
	rc = t->cb(nlh, t->arg);
	if (rc < 0) {
		errno = -rc;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int on_extack_attr(const struct nlattr *a, void *data)
{
	struct kern_nl *nl = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
		snprintf(nl->extack, sizeof(nl->extack), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int on_error(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	unsigned int off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;	/* the ack */
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, off, on_extack_attr, t->nl);
	}
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int on_done(const struct nlmsghdr *nlh, void *data)
{
	(void)data;
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		int e = *(const int *)mnl_nlmsg_get_payload(nlh);

		if (e < 0) {
			errno = -e;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = on_error,
	[NLMSG_DONE] = on_done,
};

/* Whether a batch holds the end (DONE or the ACK) of request seq. */
static bool batch_ends(const char *buf, size_t n, uint32_t seq)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	int left = (int)n;

	for (; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left))
		if (h->nlmsg_seq == seq &&
		    (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR))
			return true;
	return false;
}

/*
 * A dump that raced a change (NLM_F_DUMP_INTR: libmnl stops with EINTR)
 * may be inconsistent, and the rest of it is still queued: read it to its
 * end, so the next request does not read it as its answer, and say EINTR.
 * The caller dumps again.
 */
static int drain_interrupted(struct kern_nl *nl, char *buf, size_t n, uint32_t seq)
{
	ssize_t got = (ssize_t)n;

	while (!batch_ends(buf, (size_t)got, seq)) {
		got = mnl_socket_recvfrom(nl->sk, buf, KERN_NL_BUFSIZE);
		if (got < 0)
			break;
	}
	nl->error = EINTR;
	return -EINTR;
}

int kern_nl_talk(struct kern_nl *nl, struct nlmsghdr *nlh, kern_nl_cb cb,
		 void *arg)
{
	static _Thread_local char buf[KERN_NL_BUFSIZE];
	struct talk t = { nl, cb, arg };
	ssize_t n;
	int rc;

	nl->error = 0;
	nl->extack[0] = '\0';
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	do {
		n = mnl_socket_recvfrom(nl->sk, buf, sizeof(buf));
		if (n < 0)
			goto fail;
		rc = mnl_cb_run2(buf, (size_t)n, nlh->nlmsg_seq, nl->portid,
				 on_data, &t, ctl_cbs, NLMSG_MIN_TYPE);
		if (rc == MNL_CB_ERROR && errno == EINTR)
			return drain_interrupted(nl, buf, (size_t)n, nlh->nlmsg_seq);
	} while (rc > MNL_CB_STOP);
	if (rc == MNL_CB_STOP)
		return 0;
fail:
	nl->error = errno ? errno : EIO;
	return -nl->error;
}

int kern_nl_read_events(struct kern_nl *nl, kern_nl_cb cb, void *arg)
{
	static _Thread_local char buf[KERN_NL_BUFSIZE];
	struct talk t = { nl, cb, arg };
	ssize_t n;

	for (;;) {
		n = recv(kern_nl_fd(nl), buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		/* seq and portid 0: events, no request to match. */
		if (mnl_cb_run2(buf, (size_t)n, 0, 0, on_data, &t, ctl_cbs,
				NLMSG_MIN_TYPE) == MNL_CB_ERROR && errno != ENOENT)
			return -errno;
	}
}

const char *kern_nl_strerror(const struct kern_nl *nl, int err, char *buf,
			     size_t len)
{
	if (err < 0)
		err = -err;
	if (nl->error == err && nl->extack[0])
		snprintf(buf, len, "%s (kernel: %s)", strerror(err), nl->extack);
	else
		snprintf(buf, len, "%s", strerror(err));
	return buf;
}
