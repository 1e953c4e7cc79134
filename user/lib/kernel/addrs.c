// SPDX-License-Identifier: MIT
/* The host's addresses through rtnetlink: dump, events, usability. */
#include "addrs.h"

#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

int kern_addr_parse(const struct nlmsghdr *nlh, struct kern_addr *out)
{
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	const void *local = NULL, *address = NULL;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return 0;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	memset(out, 0, sizeof(*out));
	out->family = ifa->ifa_family;
	out->ifindex = ifa->ifa_index;
	out->prefixlen = ifa->ifa_prefixlen;
	out->scope = ifa->ifa_scope;
	out->flags = ifa->ifa_flags;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		switch (mnl_attr_get_type(a)) {
		case IFA_LOCAL:
			if (mnl_attr_get_payload_len(a) == alen)
				local = mnl_attr_get_payload(a);
			break;
		case IFA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == alen)
				address = mnl_attr_get_payload(a);
			break;
		case IFA_FLAGS:	/* the 32-bit flags, when there are more than 8 */
			if (!mnl_attr_validate(a, MNL_TYPE_U32))
				out->flags = mnl_attr_get_u32(a);
			break;
		}
	}
	/* IFA_LOCAL is the host's own address (on point-to-point links
	 * IFA_ADDRESS is the peer's); IPv6 only sends IFA_ADDRESS. */
	if (!local)
		local = address;
	if (!local)
		return 0;
	memcpy(&out->v6, local, alen);
	return 1;
}

struct dump {
	void (*fn)(const struct kern_addr *a, void *arg);
	void *arg;
};

static int on_addr(const struct nlmsghdr *nlh, void *arg)
{
	struct dump *d = arg;
	struct kern_addr a;

	if (kern_addr_parse(nlh, &a) == 1)
		d->fn(&a, d->arg);
	return 0;
}

int kern_addr_dump(struct kern_nl *nl,
		   void (*fn)(const struct kern_addr *a, void *arg), void *arg)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = kern_nl_msg(buf, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct dump d = { fn, arg };

	ifa->ifa_family = AF_UNSPEC;
	return kern_nl_talk(nl, nlh, on_addr, &d);
}

int kern_addr_monitor_open(struct kern_nl *nl, char *err, size_t errlen)
{
	return kern_nl_open(nl, NETLINK_ROUTE, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    err, errlen);
}

bool kern_addr_usable(const struct kern_addr *a, uint32_t skip)
{
	if (a->ifindex == skip || a->scope != RT_SCOPE_UNIVERSE)
		return false;
	return !(a->flags & (IFA_F_TENTATIVE | IFA_F_DEPRECATED | IFA_F_DADFAILED));
}
