// SPDX-License-Identifier: MIT
/* The generic netlink connection to the cyphonic family. */
#include "nl.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/msg.h>
#include <linux/cyphonic.h>

#include "runtime/hexkey.h"
#include "parse.h"
#include "policy.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Dumps of thousands of tunnels arrive in bursts; a large buffer avoids
 * ENOBUFS while we parse. */
#define CY_NL_RCVBUF (4 << 20)

int cy_nl_open(struct cy_nl *nl, const char *cmd)
{
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->cmd = cmd;
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return cmd_error(cmd, "out of memory");
	err = genl_connect(nl->sk);
	if (err) {
		cmd_error(cmd, "cannot open a generic netlink socket: %s",
			  nl_geterror(err));
		goto fail;
	}
	/* libnl 3.7 has no nl_socket_set_ext_ack(); ask the kernel directly
	 * for extended acks, and for capped acks that do not echo requests
	 * (which may contain keys). */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl_socket_set_buffer_size(nl->sk, CY_NL_RCVBUF, 0);
	nl_socket_enable_msg_peek(nl->sk);
	nl->family = genl_ctrl_resolve(nl->sk, CYPHONIC_GENL_NAME);
	if (nl->family < 0) {
		if (nl->family == -NLE_OBJ_NOTFOUND)
			cmd_error(cmd, "cyphonic kernel module not loaded: generic netlink family '%s' not found (try: modprobe cyphonic)",
				  CYPHONIC_GENL_NAME);
		else
			cmd_error(cmd, "cannot resolve generic netlink family '%s': %s",
				  CYPHONIC_GENL_NAME, nl_geterror(nl->family));
		goto fail;
	}
	return 0;
fail:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return -1;
}

void cy_nl_close(struct cy_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

int cy_nl_group(struct cy_nl *nl, const char *group)
{
	int id = genl_ctrl_resolve_grp(nl->sk, CYPHONIC_GENL_NAME, group);

	if (id < 0)
		return cmd_error(nl->cmd, "multicast group '%s' of family '%s' not found: %s",
				 group, CYPHONIC_GENL_NAME, nl_geterror(id));
	return id;
}

struct nl_msg *cy_nl_request(struct cy_nl *nl, uint8_t cmd, bool dump)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 NLM_F_ACK | (dump ? NLM_F_DUMP : 0), cmd,
			 CYPHONIC_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Copies the NLMSGERR_ATTR_MSG string out of an error or done message
 * whose TLVs start at byte off.
 */
static void read_extack(struct cy_nl *nl, const struct nlmsghdr *nlh,
			size_t off)
{
	const struct nlattr *a;
	int rem;

	nl->extack[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= nlh->nlmsg_len)
		return;
	a = (const void *)((const char *)nlh + off);
	rem = (int)(nlh->nlmsg_len - off);
	for (; nla_ok(a, rem); a = nla_next(a, &rem)) {
		if (nla_type(a) != NLMSGERR_ATTR_MSG || nla_len(a) < 1)
			continue;
		snprintf(nl->extack, sizeof(nl->extack), "%.*s",
			 nla_len(a), (const char *)nla_data(a));
		/* Drop the trailing newline some kernel messages carry. */
		nl->extack[strcspn(nl->extack, "\n")] = '\0';
	}
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct cy_nl *nl = arg;

	const struct nlmsghdr *nlh = (const void *)((const char *)e - NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	(void)who;
	/* Without NLM_F_CAPPED the whole request is echoed before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	nl->error = -e->error;
	read_extack(nl, nlh, off);
	return NL_STOP;
}

struct exchange {
	struct cy_nl *nl;
	cy_nl_reply_fn fn;
	void *arg;
	int err;	/* from fn */
	bool done;
};

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct exchange *x = arg;

	(void)msg;
	x->done = true;
	return NL_STOP;
}

/* A dump that failed half-way carries its errno in NLMSG_DONE. */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct exchange *x = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int err;

	x->done = true;
	if (nlmsg_datalen(nlh) >= (int)sizeof(int)) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0) {
			x->nl->error = -err;
			read_extack(x->nl, nlh, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int)));
		}
	}
	return NL_STOP;
}

static int on_dump_intr(struct nl_msg *msg, void *arg)
{
	struct exchange *x = arg;

	(void)msg;
	x->nl->dump_intr = true;
	return NL_OK;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct exchange *x = arg;
	struct nlattr *attrs[CYPHONIC_A_MAX + 1];
	int err;

	if (x->err || !x->fn)
		return NL_OK;
	err = genlmsg_parse(nlmsg_hdr(msg), 0, attrs, CYPHONIC_A_MAX,
			    cy_policy_top);
	if (err) {
		x->err = -EBADMSG;
		return NL_OK;
	}
	/* Keep reading after a callback error so the dump is drained. */
	x->err = x->fn(attrs, x->arg);
	return NL_OK;
}

static void wipe_free(struct nl_msg *msg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);

	hexkey_wipe(h, h->nlmsg_len);
	nlmsg_free(msg);
}

int cy_nl_exchange(struct cy_nl *nl, struct nl_msg *msg,
		   cy_nl_reply_fn fn, void *arg)
{
	struct exchange x = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	nl->error = 0;
	nl->extack[0] = '\0';
	nl->detail[0] = '\0';
	nl->dump_intr = false;
	if (!cb) {
		wipe_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, nl);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &x);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &x);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &x);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_dump_intr, &x);
	err = nl_send_auto(nl->sk, msg);
	wipe_free(msg);
	if (err < 0) {
		nl_cb_put(cb);
		snprintf(nl->detail, sizeof(nl->detail), "send: %s",
			 nl_geterror(err));
		return -EIO;
	}
	while (!x.done && !nl->error) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !nl->error) {
			nl->error = err == -NLE_NOMEM ? ENOBUFS : EIO;
			snprintf(nl->detail, sizeof(nl->detail), "receive: %s",
				 nl_geterror(err));
		}
	}
	nl_cb_put(cb);
	if (nl->error)
		return -nl->error;
	if (x.err)
		return x.err;
	return nl->dump_intr ? -EINTR : 0;
}

static const char *errno_hint(int err)
{
	switch (err) {
	case EPERM:
		return " (CAP_NET_ADMIN is required)";
	case ENODEV:
		return " (no such cyphonic device)";
	case EINTR:
		return " (the dump kept being interrupted by changes)";
	default:
		return "";
	}
}

int cy_nl_report(const struct cy_nl *nl, int err, const char *what)
{
	if (err >= 0)
		return 0;
	if (nl->detail[0])
		return cmd_error(nl->cmd, "%s: %s (%s)", what, strerror(-err),
				 nl->detail);
	if (nl->extack[0])
		return cmd_error(nl->cmd, "%s: %s%s (kernel: %s)", what,
				 strerror(-err), errno_hint(-err), nl->extack);
	return cmd_error(nl->cmd, "%s: %s%s", what, strerror(-err),
			 errno_hint(-err));
}

uint32_t cy_nl_ifindex(const struct cy_nl *nl, const char *dev)
{
	unsigned int idx;

	if (strlen(dev) >= IFNAMSIZ) {
		cmd_error(nl->cmd, "invalid device name \"%s\"", dev);
		return 0;
	}
	idx = if_nametoindex(dev);
	if (!idx)
		cmd_error(nl->cmd, "device \"%s\" does not exist (create it with: ip link add %s type cyphonic)",
			  dev, dev);
	return idx;
}
