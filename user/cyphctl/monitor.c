// SPDX-License-Identifier: MIT
/*
 * `cyphctl monitor`: prints the kernel's notifications (multicast group
 * "events"), one line each, until SIGINT or SIGTERM.
 *
 * libnl restarts recvmsg() after EINTR, so a signal handler could not stop
 * a blocking receive; the signals are taken through a signalfd polled next
 * to the non-blocking netlink socket instead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "runtime/addr.h"
#include "commands.h"
#include "runtime/json_out.h"
#include "nl.h"
#include "parse.h"
#include "policy.h"

struct event {
	const char *name;	/* human name; JSON uses it with '_' */
	const char *json_name;
	char dev[IF_NAMESIZE];
	uint32_t ifindex;
	struct nlattr *tb[CYPHONIC_TUNNEL_A_MAX + 1];
	struct nlattr *key[CYPHONIC_KEY_A_MAX + 1];
};

/* Output for one field, human ("name value") or JSON ("name": value). */
struct out {
	bool json;
	bool first;
	struct json_out j;
};

static void field_str(struct out *o, const char *name, const char *v)
{
	if (o->json) {
		json_key(&o->j, name);
		json_str(&o->j, v);
	} else {
		printf(" %s %s", name, v);
	}
}

static void field_u64(struct out *o, const char *name, const char *jname,
		      uint64_t v)
{
	if (o->json) {
		json_key(&o->j, jname);
		json_u64(&o->j, v);
	} else {
		printf(" %s %" PRIu64, name, v);
	}
}

static void field_addr(struct out *o, const char *name, int af,
		       struct nlattr *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (a && inet_ntop(af, nla_data(a), buf, sizeof(buf)))
		field_str(o, name, buf);
}

static void print_tunnel_needed(struct out *o, struct event *e)
{
	struct nlattr **tb = e->tb;

	field_addr(o, "local", AF_INET, tb[CYPHONIC_TUNNEL_A_LOCAL4]);
	field_addr(o, "remote", AF_INET, tb[CYPHONIC_TUNNEL_A_REMOTE4]);
	field_addr(o, "local", AF_INET6, tb[CYPHONIC_TUNNEL_A_LOCAL6]);
	field_addr(o, "remote", AF_INET6, tb[CYPHONIC_TUNNEL_A_REMOTE6]);
}

static void print_key_limit(struct out *o, struct event *e)
{
	struct nlattr **k = e->key;

	if (e->tb[CYPHONIC_TUNNEL_A_INDEX])
		field_u64(o, "index", "index",
			  nla_get_u32(e->tb[CYPHONIC_TUNNEL_A_INDEX]));
	if (k[CYPHONIC_KEY_A_SLOT])
		field_str(o, "slot", slot_name(nla_get_u8(k[CYPHONIC_KEY_A_SLOT])));
	if (k[CYPHONIC_KEY_A_ID])
		field_u64(o, "key-id", "key_id", nla_get_u8(k[CYPHONIC_KEY_A_ID]));
	if (k[CYPHONIC_KEY_A_TX_COUNTER])
		field_u64(o, "tx-counter", "tx_counter",
			  nla_get_u64(k[CYPHONIC_KEY_A_TX_COUNTER]));
	if (k[CYPHONIC_KEY_A_TX_LIMIT])
		field_u64(o, "tx-limit", "tx_limit",
			  nla_get_u64(k[CYPHONIC_KEY_A_TX_LIMIT]));
	if (k[CYPHONIC_KEY_A_AGE_MS])
		field_u64(o, "age-ms", "age_ms",
			  nla_get_u64(k[CYPHONIC_KEY_A_AGE_MS]));
}

static void print_endpoint(struct out *o, struct event *e)
{
	struct nlattr *ep = e->tb[CYPHONIC_TUNNEL_A_ENDPOINT];
	char buf[ADDR_ENDPOINT_STRLEN];

	if (e->tb[CYPHONIC_TUNNEL_A_INDEX])
		field_u64(o, "index", "index",
			  nla_get_u32(e->tb[CYPHONIC_TUNNEL_A_INDEX]));
	if (ep && !addr_format_endpoint(nla_data(ep), (socklen_t)nla_len(ep),
					buf, sizeof(buf)))
		field_str(o, "endpoint", buf);
	if (e->tb[CYPHONIC_TUNNEL_A_RELAY])
		field_u64(o, "relay", "relay",
			  nla_get_u32(e->tb[CYPHONIC_TUNNEL_A_RELAY]));
}

static int parse_event(struct nlattr **a, struct event *e)
{
	struct nlattr *k;
	int rem;

	memset(e->tb, 0, sizeof(e->tb));
	memset(e->key, 0, sizeof(e->key));
	e->ifindex = a[CYPHONIC_A_IFINDEX] ?
		     nla_get_u32(a[CYPHONIC_A_IFINDEX]) : 0;
	if (!e->ifindex || !if_indextoname(e->ifindex, e->dev))
		snprintf(e->dev, sizeof(e->dev), "%" PRIu32, e->ifindex);
	if (a[CYPHONIC_A_TUNNEL] &&
	    nla_parse_nested(e->tb, CYPHONIC_TUNNEL_A_MAX, a[CYPHONIC_A_TUNNEL],
			     cy_policy_tunnel))
		return -1;
	if (!a[CYPHONIC_A_TUNNEL])
		return 0;
	nla_for_each_nested(k, a[CYPHONIC_A_TUNNEL], rem)
		if (nla_type(k) == CYPHONIC_TUNNEL_A_KEY)
			return nla_parse_nested(e->key, CYPHONIC_KEY_A_MAX, k,
						cy_policy_key) ? -1 : 0;
	return 0;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlattr *a[CYPHONIC_A_MAX + 1];
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct out *o = arg;
	struct event e = { 0 };
	void (*print)(struct out *, struct event *);

	switch (g->cmd) {
	case CYPHONIC_CMD_TUNNEL_NEEDED_NTF:
		e.name = "tunnel-needed", e.json_name = "tunnel_needed";
		print = print_tunnel_needed;
		break;
	case CYPHONIC_CMD_KEY_LIMIT_NTF:
		e.name = "key-limit", e.json_name = "key_limit";
		print = print_key_limit;
		break;
	case CYPHONIC_CMD_ENDPOINT_NTF:
		e.name = e.json_name = "endpoint";
		print = print_endpoint;
		break;
	case CYPHONIC_CMD_KEY_PROMOTED_NTF:
		/* Same fields as key-limit: index, slot, key id. */
		e.name = "key-promoted", e.json_name = "key_promoted";
		print = print_key_limit;
		break;
	default:
		return NL_SKIP;		/* a newer kernel's event */
	}
	if (genlmsg_parse(nlmsg_hdr(msg), 0, a, CYPHONIC_A_MAX, cy_policy_top) ||
	    parse_event(a, &e)) {
		fprintf(stderr, "cyphctl: monitor: malformed %s event\n", e.name);
		return NL_SKIP;
	}
	if (o->json) {
		json_init(&o->j, stdout);
		json_obj_begin(&o->j);
		field_str(o, "event", e.json_name);
		field_str(o, "dev", e.dev);
		field_u64(o, "ifindex", "ifindex", e.ifindex);
	} else {
		printf("%s", e.name);
		field_str(o, "dev", e.dev);
	}
	print(o, &e);
	if (o->json)
		json_obj_end(&o->j);
	printf("\n");
	fflush(stdout);
	return NL_OK;
}

/* Notifications carry sequence number 0: accept every one. */
static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int signal_fd(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, old))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int loop(struct cy_nl *nl, struct nl_cb *cb, int sfd)
{
	struct pollfd p[2] = {
		{ .fd = nl_socket_get_fd(nl->sk), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	int err;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return cmd_error("monitor", "poll: %s", strerror(errno));
		}
		if (p[1].revents)
			return 0;
		err = nl_recvmsgs(nl->sk, cb);
		/* Overflow loses events but the subscription stays valid. */
		if (err == -NLE_NOMEM)
			fprintf(stderr, "cyphctl: monitor: events lost (receive buffer overflow)\n");
		else if (err < 0 && err != -NLE_AGAIN)
			return cmd_error("monitor", "receive: %s", nl_geterror(err));
	}
}

int cmd_monitor(int argc, char **argv)
{
	struct out o = { 0 };
	struct nl_cb *cb = NULL;
	struct cy_nl nl;
	sigset_t old;
	int grp, sfd = -1, ret = 1;

	if (argc > 1 || (argc == 1 && strcmp(argv[0], "--json")))
		return usage_error("monitor");
	o.json = argc == 1;
	if (cy_nl_open(&nl, "monitor"))
		return 1;
	grp = cy_nl_group(&nl, CYPHONIC_MCGRP_EVENTS);
	if (grp < 0)
		goto out;
	if (nl_socket_add_membership(nl.sk, grp) ||
	    nl_socket_set_nonblocking(nl.sk)) {
		cmd_error("monitor", "cannot join group '%s': %s",
			  CYPHONIC_MCGRP_EVENTS, strerror(errno));
		goto out;
	}
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	sfd = signal_fd(&old);
	if (!cb || sfd < 0) {
		cmd_error("monitor", "setup failed: %s", strerror(errno));
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &o);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	ret = loop(&nl, cb, sfd) ? 1 : 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (cb)
		nl_cb_put(cb);
	cy_nl_close(&nl);
	return ret;
}
