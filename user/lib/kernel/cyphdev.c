// SPDX-License-Identifier: MIT
/* The node daemon's side of the "cyphonic" generic netlink family. */
#include "cyphdev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/cyphonic.h>
#include <linux/genetlink.h>
#include "genl.h"

int kern_cyph_open(struct kern_cyph *c, char *err, size_t errlen)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if (kern_nl_open(&c->nl, NETLINK_GENERIC, 0, err, errlen))
		return -EIO;
	rc = kern_genl_resolve(&c->nl, CYPHONIC_GENL_NAME, &c->family,
			       CYPHONIC_MCGRP_EVENTS, &c->events_group);
	if (rc) {
		snprintf(err, errlen, rc == -ENOENT ?
			 "generic netlink family '%s' not found (cyphonic module not loaded?)" :
			 "cannot resolve generic netlink family '%s': %s",
			 CYPHONIC_GENL_NAME, strerror(-rc));
		kern_nl_close(&c->nl);
	}
	return rc;
}

void kern_cyph_close(struct kern_cyph *c)
{
	kern_nl_close(&c->nl);
}

static struct nlmsghdr *req(struct kern_cyph *c, void *buf, uint8_t cmd,
			    uint32_t ifindex)
{
	struct nlmsghdr *nlh = kern_genl_msg(buf, c->family, cmd,
					     CYPHONIC_GENL_VERSION, 0);

	mnl_attr_put_u32(nlh, CYPHONIC_A_IFINDEX, ifindex);
	return nlh;
}

int kern_cyph_set_sockets(struct kern_cyph *c, uint32_t ifindex, int fd4, int fd6)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = req(c, buf, CYPHONIC_CMD_DEV_SET, ifindex);

	if (fd4 >= 0)
		mnl_attr_put_u32(nlh, CYPHONIC_A_FD4, (uint32_t)fd4);
	if (fd6 >= 0)
		mnl_attr_put_u32(nlh, CYPHONIC_A_FD6, (uint32_t)fd6);
	return kern_nl_talk(&c->nl, nlh, NULL, NULL);
}

int kern_cyph_detach(struct kern_cyph *c, uint32_t ifindex, uint8_t which)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = req(c, buf, CYPHONIC_CMD_DEV_SET, ifindex);

	mnl_attr_put_u8(nlh, CYPHONIC_A_DETACH, which);
	return kern_nl_talk(&c->nl, nlh, NULL, NULL);
}

int kern_cyph_local(struct kern_cyph *c, uint32_t ifindex, bool add,
		    const struct in_addr *vip4, const struct in6_addr *vip6)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = req(c, buf, add ? CYPHONIC_CMD_LOCAL_ADD :
				   CYPHONIC_CMD_LOCAL_DEL, ifindex);
	struct nlattr *nest = mnl_attr_nest_start(nlh, CYPHONIC_A_LOCAL);

	if (vip4)
		mnl_attr_put(nlh, CYPHONIC_LOCAL_A_VIP4, sizeof(*vip4), vip4);
	if (vip6)
		mnl_attr_put(nlh, CYPHONIC_LOCAL_A_VIP6, sizeof(*vip6), vip6);
	mnl_attr_nest_end(nlh, nest);
	return kern_nl_talk(&c->nl, nlh, NULL, NULL);
}

struct ports {
	uint16_t p4, p6;
};

static int on_dev(const struct nlmsghdr *nlh, void *arg)
{
	struct ports *p = arg;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_validate(a, MNL_TYPE_U16))
			continue;
		if (mnl_attr_get_type(a) == CYPHONIC_A_PORT4)
			p->p4 = mnl_attr_get_u16(a);
		else if (mnl_attr_get_type(a) == CYPHONIC_A_PORT6)
			p->p6 = mnl_attr_get_u16(a);
	}
	return 0;
}

int kern_cyph_ports(struct kern_cyph *c, uint32_t ifindex, uint16_t *port4,
		    uint16_t *port6)
{
	char buf[KERN_NL_BUFSIZE];
	struct ports p = { 0, 0 };
	int rc = kern_nl_talk(&c->nl, req(c, buf, CYPHONIC_CMD_DEV_GET, ifindex),
			      on_dev, &p);

	*port4 = p.p4;
	*port6 = p.p6;
	return rc;
}
