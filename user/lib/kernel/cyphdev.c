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

static void put_key(struct nlmsghdr *nlh, uint8_t slot, uint8_t id, const uint8_t *tx,
		    const uint8_t *rx)
{
	struct nlattr *key = mnl_attr_nest_start(nlh, CYPHONIC_TUNNEL_A_KEY);

	mnl_attr_put_u8(nlh, CYPHONIC_KEY_A_SLOT, slot);
	mnl_attr_put_u8(nlh, CYPHONIC_KEY_A_ID, id);
	mnl_attr_put(nlh, CYPHONIC_KEY_A_TX, CYPHONIC_KEY_LEN, tx);
	mnl_attr_put(nlh, CYPHONIC_KEY_A_RX, CYPHONIC_KEY_LEN, rx);
	mnl_attr_nest_end(nlh, key);
}

int kern_cyph_tunnel_new(struct kern_cyph *c, uint32_t ifindex, const struct kern_tunnel *t)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = req(c, buf, CYPHONIC_CMD_TUNNEL_NEW, ifindex);
	struct nlattr *tun;
	int rc;

	tun = mnl_attr_nest_start(nlh, CYPHONIC_A_TUNNEL);
	mnl_attr_put_u32(nlh, CYPHONIC_TUNNEL_A_INDEX, t->index);
	mnl_attr_put_u32(nlh, CYPHONIC_TUNNEL_A_PEER_INDEX, t->peer_index);
	if (t->has4) {
		mnl_attr_put(nlh, CYPHONIC_TUNNEL_A_LOCAL4, sizeof(t->local4), &t->local4);
		mnl_attr_put(nlh, CYPHONIC_TUNNEL_A_REMOTE4, sizeof(t->remote4), &t->remote4);
	}
	if (t->has6) {
		mnl_attr_put(nlh, CYPHONIC_TUNNEL_A_LOCAL6, sizeof(t->local6), &t->local6);
		mnl_attr_put(nlh, CYPHONIC_TUNNEL_A_REMOTE6, sizeof(t->remote6), &t->remote6);
	}
	if (t->endpoint_len)
		mnl_attr_put(nlh, CYPHONIC_TUNNEL_A_ENDPOINT, t->endpoint_len, &t->endpoint);
	if (t->relay)
		mnl_attr_put_u32(nlh, CYPHONIC_TUNNEL_A_RELAY, t->relay);
	put_key(nlh, CYPHONIC_KEY_SLOT_PRIMARY, t->key_id, t->tx, t->rx);
	mnl_attr_nest_end(nlh, tun);
	rc = kern_nl_talk(&c->nl, nlh, NULL, NULL);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* A request about tunnel index; the TUNNEL nest is left open in *tun. */
static struct nlmsghdr *tunnel_req(struct kern_cyph *c, void *buf, uint8_t cmd,
				   uint32_t ifindex, uint32_t index, struct nlattr **tun)
{
	struct nlmsghdr *nlh = req(c, buf, cmd, ifindex);

	*tun = mnl_attr_nest_start(nlh, CYPHONIC_A_TUNNEL);
	mnl_attr_put_u32(nlh, CYPHONIC_TUNNEL_A_INDEX, index);
	return nlh;
}

/* cmd about tunnel index with nothing more; replies go to cb. */
static int tunnel_cmd(struct kern_cyph *c, uint8_t cmd, uint32_t ifindex, uint32_t index,
		      kern_nl_cb cb, void *arg)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlattr *tun;
	struct nlmsghdr *nlh = tunnel_req(c, buf, cmd, ifindex, index, &tun);

	mnl_attr_nest_end(nlh, tun);
	return kern_nl_talk(&c->nl, nlh, cb, arg);
}

int kern_cyph_tunnel_del(struct kern_cyph *c, uint32_t ifindex, uint32_t index)
{
	return tunnel_cmd(c, CYPHONIC_CMD_TUNNEL_DEL, ifindex, index, NULL, NULL);
}

int kern_cyph_tunnel_expect(struct kern_cyph *c, uint32_t ifindex, uint32_t index)
{
	return tunnel_cmd(c, CYPHONIC_CMD_TUNNEL_EXPECT, ifindex, index, NULL, NULL);
}

int kern_cyph_unreachable(struct kern_cyph *c, uint32_t ifindex, int family,
			  const void *local, const void *remote)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlmsghdr *nlh = req(c, buf, CYPHONIC_CMD_TUNNEL_UNREACHABLE, ifindex);
	struct nlattr *tun = mnl_attr_nest_start(nlh, CYPHONIC_A_TUNNEL);
	size_t len = family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);

	mnl_attr_put(nlh, family == AF_INET ? CYPHONIC_TUNNEL_A_LOCAL4 : CYPHONIC_TUNNEL_A_LOCAL6,
		     len, local);
	mnl_attr_put(nlh, family == AF_INET ? CYPHONIC_TUNNEL_A_REMOTE4 : CYPHONIC_TUNNEL_A_REMOTE6,
		     len, remote);
	mnl_attr_nest_end(nlh, tun);
	return kern_nl_talk(&c->nl, nlh, NULL, NULL);
}

static int on_tunnel(const struct nlmsghdr *nlh, void *arg)
{
	int64_t *ms = arg;
	const struct nlattr *a, *t;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) != CYPHONIC_A_TUNNEL)
			continue;
		mnl_attr_for_each_nested(t, a)
			if (mnl_attr_get_type(t) == CYPHONIC_TUNNEL_A_LAST_RX_MS &&
			    !mnl_attr_validate(t, MNL_TYPE_U64))
				*ms = (int64_t)mnl_attr_get_u64(t);
	}
	return 0;
}

int kern_cyph_tunnel_last_rx(struct kern_cyph *c, uint32_t ifindex, uint32_t index,
			     int64_t *ms)
{
	*ms = -1;
	return tunnel_cmd(c, CYPHONIC_CMD_TUNNEL_GET, ifindex, index, on_tunnel, ms);
}

int kern_cyph_key_swap(struct kern_cyph *c, uint32_t ifindex, uint32_t index)
{
	return tunnel_cmd(c, CYPHONIC_CMD_KEY_SWAP, ifindex, index, NULL, NULL);
}

int kern_cyph_tunnel_key(struct kern_cyph *c, uint32_t ifindex, uint32_t index,
			 uint8_t slot, uint8_t key_id, const uint8_t *tx, const uint8_t *rx)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlattr *tun;
	struct nlmsghdr *nlh = tunnel_req(c, buf, CYPHONIC_CMD_TUNNEL_SET, ifindex, index, &tun);
	int rc;

	put_key(nlh, slot, key_id, tx, rx);
	mnl_attr_nest_end(nlh, tun);
	rc = kern_nl_talk(&c->nl, nlh, NULL, NULL);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

int kern_cyph_tunnel_relay(struct kern_cyph *c, uint32_t ifindex, uint32_t index,
			   const struct sockaddr_storage *ep, socklen_t len, uint32_t relay)
{
	char buf[KERN_NL_BUFSIZE];
	struct nlattr *tun;
	struct nlmsghdr *nlh = tunnel_req(c, buf, CYPHONIC_CMD_TUNNEL_SET, ifindex, index, &tun);

	mnl_attr_put(nlh, CYPHONIC_TUNNEL_A_ENDPOINT, len, ep);
	mnl_attr_put_u32(nlh, CYPHONIC_TUNNEL_A_RELAY, relay);
	mnl_attr_nest_end(nlh, tun);
	return kern_nl_talk(&c->nl, nlh, NULL, NULL);
}

int kern_cyph_events_open(const struct kern_cyph *c, struct kern_nl *ev, char *err,
			  size_t errlen)
{
	int rc;

	if (kern_nl_open(ev, NETLINK_GENERIC, 0, err, errlen))
		return -1;
	rc = kern_nl_join(ev, c->events_group);
	if (rc) {
		snprintf(err, errlen, "joining the cyphonic events group: %s", strerror(-rc));
		kern_nl_close(ev);
		return -1;
	}
	return 0;
}

static void copy_addr(const struct nlattr *a, void *dst, size_t len)
{
	if (mnl_attr_get_payload_len(a) == len)
		memcpy(dst, mnl_attr_get_payload(a), len);
}

static bool is_cmd(const struct kern_cyph *c, const struct nlmsghdr *nlh, uint8_t cmd)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	return nlh->nlmsg_type == c->family && mnl_nlmsg_get_payload_len(nlh) >= sizeof(*g) &&
	       g->cmd == cmd;
}

int kern_cyph_parse_key_limit(const struct kern_cyph *c, const struct nlmsghdr *nlh,
			      uint32_t *ifindex, uint32_t *index)
{
	const struct nlattr *a, *t;

	if (!is_cmd(c, nlh, CYPHONIC_CMD_KEY_LIMIT_NTF))
		return 0;
	*ifindex = *index = 0;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == CYPHONIC_A_IFINDEX &&
		    !mnl_attr_validate(a, MNL_TYPE_U32))
			*ifindex = mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) != CYPHONIC_A_TUNNEL)
			continue;
		mnl_attr_for_each_nested(t, a)
			if (mnl_attr_get_type(t) == CYPHONIC_TUNNEL_A_INDEX &&
			    !mnl_attr_validate(t, MNL_TYPE_U32))
				*index = mnl_attr_get_u32(t);
	}
	return *index ? 1 : 0;
}

int kern_cyph_parse_needed(const struct kern_cyph *c, const struct nlmsghdr *nlh,
			   struct kern_cyph_needed *out)
{
	const struct nlattr *a, *t;

	if (!is_cmd(c, nlh, CYPHONIC_CMD_TUNNEL_NEEDED_NTF))
		return 0;
	memset(out, 0, sizeof(*out));
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == CYPHONIC_A_IFINDEX &&
		    !mnl_attr_validate(a, MNL_TYPE_U32))
			out->ifindex = mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) != CYPHONIC_A_TUNNEL)
			continue;
		mnl_attr_for_each_nested(t, a) {
			switch (mnl_attr_get_type(t)) {
			case CYPHONIC_TUNNEL_A_LOCAL4:
				copy_addr(t, &out->local4, 4);
				out->family = AF_INET;
				break;
			case CYPHONIC_TUNNEL_A_REMOTE4:
				copy_addr(t, &out->remote4, 4);
				break;
			case CYPHONIC_TUNNEL_A_LOCAL6:
				copy_addr(t, &out->local6, 16);
				out->family = AF_INET6;
				break;
			case CYPHONIC_TUNNEL_A_REMOTE6:
				copy_addr(t, &out->remote6, 16);
				break;
			}
		}
	}
	return out->family ? 1 : 0;
}
