// SPDX-License-Identifier: MIT
/* rtnetlink link and address changes (RTM_NEWLINK, RTM_NEWADDR, ...). */
#include "link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#ifndef IFF_LOWER_UP		/* linux/if.h has it, but clashes with net/if.h */
#define IFF_LOWER_UP 0x10000
#endif

static struct nlmsghdr *link_msg(void *buf, uint16_t type, uint16_t flags,
				 uint32_t ifindex)
{
	struct nlmsghdr *nlh = kern_nl_msg(buf, type, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	return nlh;
}

int kern_link_create(struct kern_nl *nl, const char *name, const char *kind)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK,
					NLM_F_CREATE | NLM_F_EXCL, 0);
	struct nlattr *info;

	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	mnl_attr_nest_end(nlh, info);
	return kern_nl_talk(nl, nlh, NULL, NULL);
}

int kern_link_delete(struct kern_nl *nl, uint32_t ifindex)
{
	char buf[KERN_NL_BUFSIZE];

	return kern_nl_talk(nl, link_msg(buf, RTM_DELLINK, 0, ifindex), NULL, NULL);
}

int kern_link_set_up(struct kern_nl *nl, uint32_t ifindex)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return kern_nl_talk(nl, nlh, NULL, NULL);
}

struct kind {
	char *buf;
	size_t len;
};

static int on_link(const struct nlmsghdr *nlh, void *arg)
{
	struct kind *k = arg;
	const struct nlattr *a, *i;

	mnl_attr_for_each(a, nlh, sizeof(struct ifinfomsg)) {
		if (mnl_attr_get_type(a) != IFLA_LINKINFO)
			continue;
		mnl_attr_for_each_nested(i, a) {
			if (mnl_attr_get_type(i) == IFLA_INFO_KIND &&
			    !mnl_attr_validate(i, MNL_TYPE_NUL_STRING))
				snprintf(k->buf, k->len, "%s", mnl_attr_get_str(i));
		}
	}
	return 0;
}

int kern_link_kind(struct kern_nl *nl, uint32_t ifindex, char *kind, size_t len)
{
	char buf[KERN_NL_BUFSIZE];
	struct kind k = { kind, len };

	kind[0] = '\0';
	return kern_nl_talk(nl, link_msg(buf, RTM_GETLINK, 0, ifindex), on_link, &k);
}

int kern_addr_change(struct kern_nl *nl, bool add, uint32_t ifindex, int family,
		     const void *addr, uint8_t plen)
{
	return kern_addr_change_flags(nl, add, ifindex, family, addr, plen, 0);
}

int kern_addr_change_flags(struct kern_nl *nl, bool add, uint32_t ifindex, int family,
			   const void *addr, uint8_t plen, uint32_t flags)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = kern_nl_msg(buf, add ? RTM_NEWADDR : RTM_DELADDR,
					   add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t alen = family == AF_INET ? 4 : 16;

	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	if (family == AF_INET6)
		flags |= IFA_F_NODAD;
	ifa->ifa_flags = (uint8_t)flags;
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	if (flags > 0xff)
		mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	return kern_nl_talk(nl, nlh, NULL, NULL);
}

int kern_route_change(struct kern_nl *nl, bool add, uint32_t ifindex, int family,
		      const void *dst, uint8_t plen)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = kern_nl_msg(buf, add ? RTM_NEWROUTE : RTM_DELROUTE,
					   add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));

	rt->rtm_family = (uint8_t)family;
	rt->rtm_dst_len = plen;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	return kern_nl_talk(nl, nlh, NULL, NULL);
}

int kern_neigh_change(struct kern_nl *nl, bool add, uint32_t ifindex, int family,
		      const void *addr, const uint8_t lladdr[6])
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = kern_nl_msg(buf, add ? RTM_NEWNEIGH : RTM_DELNEIGH,
					   add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct ndmsg *nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));

	nd->ndm_family = (uint8_t)family;
	nd->ndm_ifindex = (int)ifindex;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, addr);
	if (add)
		mnl_attr_put(nlh, NDA_LLADDR, 6, lladdr);
	return kern_nl_talk(nl, nlh, NULL, NULL);
}

int kern_link_monitor_open(struct kern_nl *nl, char *err, size_t errlen)
{
	return kern_nl_open(nl, NETLINK_ROUTE, RTMGRP_LINK, err, errlen);
}

int kern_link_event_parse(const struct nlmsghdr *nlh, struct kern_link_event *out)
{
	const struct ifinfomsg *ifi;
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return 0;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return 0;
	ifi = mnl_nlmsg_get_payload(nlh);
	memset(out, 0, sizeof(*out));
	out->ifindex = (uint32_t)ifi->ifi_index;
	out->deleted = nlh->nlmsg_type == RTM_DELLINK;
	out->up = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_LOWER_UP);
	mnl_attr_for_each(a, nlh, sizeof(*ifi))
		if (mnl_attr_get_type(a) == IFLA_MASTER && !mnl_attr_validate(a, MNL_TYPE_U32))
			out->master = mnl_attr_get_u32(a);
	return 1;
}

static int on_state(const struct nlmsghdr *nlh, void *arg)
{
	kern_link_event_parse(nlh, arg);
	return 0;
}

int kern_link_state(struct kern_nl *nl, uint32_t ifindex, struct kern_link_event *out)
{
	char buf[KERN_NL_BUFSIZE];

	memset(out, 0, sizeof(*out));
	return kern_nl_talk(nl, link_msg(buf, RTM_GETLINK, 0, ifindex), on_state, out);
}
