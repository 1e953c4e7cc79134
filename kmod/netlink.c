// SPDX-License-Identifier: GPL-2.0
/*
 * The "cyphonic" generic netlink family (see uapi/linux/cyphonic.h).
 *
 * Every command needs CAP_NET_ADMIN in the device's network namespace;
 * a socket handed in (FD4, FD6) needs it in the socket's too (socket.c).
 * Policies are strict: the genl core rejects unknown attributes, wrong
 * lengths and out-of-range values before a handler runs. For doit commands
 * pre_doit resolves the device, takes a reference and cd->lock; post_doit
 * releases them and wipes any key material from the request, which the
 * netlink ack could otherwise echo back.
 */

#include <linux/cyphonic.h>
#include <linux/jiffies.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "crypto.h"
#include "device.h"
#include "keys.h"
#include "local.h"
#include "netlink.h"
#include "socket.h"
#include "tunnel.h"

static const struct nla_policy cyph_local_policy[CYPHONIC_LOCAL_A_MAX + 1] = {
	[CYPHONIC_LOCAL_A_VIP4] = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[CYPHONIC_LOCAL_A_VIP6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
};

static const struct nla_policy cyph_key_policy[CYPHONIC_KEY_A_MAX + 1] = {
	[CYPHONIC_KEY_A_SLOT] = NLA_POLICY_MAX(NLA_U8, CYPHONIC_KEY_SLOT_MAX),
	[CYPHONIC_KEY_A_ID] = NLA_POLICY_MAX(NLA_U8, CYPHONIC_DATA_F_KEY_ID_MASK),
	[CYPHONIC_KEY_A_TX] = NLA_POLICY_EXACT_LEN(CYPHONIC_KEY_LEN),
	[CYPHONIC_KEY_A_RX] = NLA_POLICY_EXACT_LEN(CYPHONIC_KEY_LEN),
};

static const struct nla_policy cyph_tunnel_policy[CYPHONIC_TUNNEL_A_MAX + 1] = {
	[CYPHONIC_TUNNEL_A_INDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[CYPHONIC_TUNNEL_A_PEER_INDEX] = { .type = NLA_U32 },
	[CYPHONIC_TUNNEL_A_LOCAL4] = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[CYPHONIC_TUNNEL_A_REMOTE4] = NLA_POLICY_EXACT_LEN(sizeof(struct in_addr)),
	[CYPHONIC_TUNNEL_A_LOCAL6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[CYPHONIC_TUNNEL_A_REMOTE6] = NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr)),
	[CYPHONIC_TUNNEL_A_ENDPOINT] = NLA_POLICY_RANGE(NLA_BINARY,
							sizeof(struct sockaddr_in),
							sizeof(struct sockaddr_in6)),
	[CYPHONIC_TUNNEL_A_RELAY] = { .type = NLA_U32 },
	[CYPHONIC_TUNNEL_A_KEY] = NLA_POLICY_NESTED(cyph_key_policy),
};

static struct netlink_range_validation cyph_max_tunnels_range = {
	.min = 1, .max = CYPHONIC_MAX_TUNNELS_LIMIT,
};

static struct netlink_range_validation cyph_max_locals_range = {
	.min = 1, .max = CYPHONIC_MAX_LOCALS_LIMIT,
};

static const struct nla_policy cyph_policy[CYPHONIC_A_MAX + 1] = {
	[CYPHONIC_A_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
	[CYPHONIC_A_IFNAME] = { .type = NLA_NUL_STRING, .len = IFNAMSIZ - 1 },
	[CYPHONIC_A_FD4] = { .type = NLA_U32 },
	[CYPHONIC_A_FD6] = { .type = NLA_U32 },
	[CYPHONIC_A_CIPHER] = NLA_POLICY_RANGE(NLA_U8, CYPHONIC_CIPHER_AES_GCM,
					       CYPHONIC_CIPHER_MAX),
	[CYPHONIC_A_WORKERS] = { .type = NLA_U32 },
	[CYPHONIC_A_MAX_TUNNELS] = NLA_POLICY_FULL_RANGE(NLA_U32,
							 &cyph_max_tunnels_range),
	[CYPHONIC_A_MAX_LOCALS] = NLA_POLICY_FULL_RANGE(NLA_U32,
							&cyph_max_locals_range),
	[CYPHONIC_A_DETACH] = NLA_POLICY_MASK(NLA_U8, CYPHONIC_DETACH_F_ALL),
	[CYPHONIC_A_LOCAL] = NLA_POLICY_NESTED(cyph_local_policy),
	[CYPHONIC_A_TUNNEL] = NLA_POLICY_NESTED(cyph_tunnel_policy),
};

/* ---- device lookup ------------------------------------------------------ */

/* Resolve IFINDEX or IFNAME (exactly one) to a held cyphonic device. */
static struct cyph_device *cyph_nl_device(struct net *net, struct nlattr **attrs,
					  struct netlink_ext_ack *extack)
{
	struct nlattr *a_idx = attrs[CYPHONIC_A_IFINDEX];
	struct nlattr *a_name = attrs[CYPHONIC_A_IFNAME];
	struct net_device *dev;

	if (a_idx && a_name) {
		NL_SET_ERR_MSG_ATTR(extack, a_name, "give IFINDEX or IFNAME, not both");
		return ERR_PTR(-EINVAL);
	}
	if (!a_idx && !a_name) {
		NL_SET_ERR_MSG(extack, "the device is missing (IFINDEX or IFNAME)");
		return ERR_PTR(-EINVAL);
	}
	if (a_idx)
		dev = dev_get_by_index(net, nla_get_u32(a_idx));
	else
		dev = dev_get_by_name(net, nla_data(a_name));
	if (!dev) {
		NL_SET_ERR_MSG_ATTR(extack, a_idx ?: a_name, "no such device");
		return ERR_PTR(-ENODEV);
	}
	if (!cyph_is_device(dev)) {
		dev_put(dev);
		NL_SET_ERR_MSG_ATTR(extack, a_idx ?: a_name, "not a cyphonic device");
		return ERR_PTR(-ENODEV);
	}
	return netdev_priv(dev);
}

/* Overwrite KEY TX/RX in every TUNNEL of the request. */
static void cyph_nl_wipe_keys(struct genl_info *info)
{
	struct nlattr *tun, *key, *a;
	int rem, rem_t, rem_k;

	nla_for_each_attr(tun, genlmsg_data(info->genlhdr),
			  genlmsg_len(info->genlhdr), rem) {
		if (nla_type(tun) != CYPHONIC_A_TUNNEL)
			continue;
		nla_for_each_nested(key, tun, rem_t) {
			if (nla_type(key) != CYPHONIC_TUNNEL_A_KEY)
				continue;
			nla_for_each_nested(a, key, rem_k)
				if (nla_type(a) == CYPHONIC_KEY_A_TX ||
				    nla_type(a) == CYPHONIC_KEY_A_RX)
					memzero_explicit(nla_data(a), nla_len(a));
		}
	}
}

static int cyph_nl_pre_doit(const struct genl_ops *ops, struct sk_buff *skb,
			    struct genl_info *info)
{
	struct cyph_device *cd;

	cd = cyph_nl_device(genl_info_net(info), info->attrs, info->extack);
	if (IS_ERR(cd)) {
		cyph_nl_wipe_keys(info);
		return PTR_ERR(cd);
	}
	mutex_lock(&cd->lock);
	if (cd->dead) {
		mutex_unlock(&cd->lock);
		dev_put(cd->dev);
		cyph_nl_wipe_keys(info);
		NL_SET_ERR_MSG(info->extack, "the device is being deleted");
		return -ENODEV;
	}
	info->user_ptr[0] = cd;
	return 0;
}

static void cyph_nl_post_doit(const struct genl_ops *ops, struct sk_buff *skb,
			      struct genl_info *info)
{
	struct cyph_device *cd = info->user_ptr[0];

	mutex_unlock(&cd->lock);
	dev_put(cd->dev);
	cyph_nl_wipe_keys(info);
}

/* ---- attribute writers -------------------------------------------------- */

int cyph_nl_put_pair(struct sk_buff *msg, const struct cyph_pair *pair)
{
	if (pair->family == AF_INET)
		return nla_put_in_addr(msg, CYPHONIC_TUNNEL_A_LOCAL4,
				       pair->local.ip4) ?:
		       nla_put_in_addr(msg, CYPHONIC_TUNNEL_A_REMOTE4,
				       pair->remote.ip4);
	return nla_put_in6_addr(msg, CYPHONIC_TUNNEL_A_LOCAL6,
				&pair->local.ip6) ?:
	       nla_put_in6_addr(msg, CYPHONIC_TUNNEL_A_REMOTE6,
				&pair->remote.ip6);
}

int cyph_nl_put_endpoint(struct sk_buff *msg, const union cyph_sockaddr *ep)
{
	if (ep->sa.sa_family == AF_INET)
		return nla_put(msg, CYPHONIC_TUNNEL_A_ENDPOINT, sizeof(ep->sin),
			       &ep->sin);
	if (ep->sa.sa_family == AF_INET6)
		return nla_put(msg, CYPHONIC_TUNNEL_A_ENDPOINT, sizeof(ep->sin6),
			       &ep->sin6);
	return 0;
}

/*
 * The STATS nest. Its attribute types are enum cyphonic_stat, so padding
 * (only on architectures that need it) uses type 0, CYPHONIC_STAT_UNSPEC.
 */
static int cyph_nl_put_stats(struct sk_buff *msg, int attr,
			     struct cyph_stats __percpu *stats, bool tunnel)
{
	u64 v[__CYPHONIC_STAT_MAX];
	struct nlattr *nest;
	int i;

	cyph_stats_read(stats, v);
	nest = nla_nest_start(msg, attr);
	if (!nest)
		return -EMSGSIZE;
	for (i = CYPHONIC_STAT_UNSPEC + 1; i < __CYPHONIC_STAT_MAX; i++) {
		if (tunnel && !cyph_stat_per_tunnel(i))
			continue;
		if (nla_put_u64_64bit(msg, i, v[i], CYPHONIC_STAT_UNSPEC)) {
			nla_nest_cancel(msg, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(msg, nest);
	return 0;
}

static u64 cyph_jiffies_age_ms(u64 then)
{
	return jiffies64_to_msecs(get_jiffies_64() - then);
}

/* RETIRED_MS only for a key that has left the primary slot. */
static int cyph_nl_put_retired(struct sk_buff *msg, const struct cyph_key *key)
{
	u64 ms = cyph_key_retired_ms(key);

	if (ms == U64_MAX)
		return 0;
	return nla_put_u64_64bit(msg, CYPHONIC_KEY_A_RETIRED_MS, ms,
				 CYPHONIC_KEY_A_PAD);
}

static int cyph_nl_put_key(struct sk_buff *msg, enum cyphonic_key_slot slot,
			   const struct cyph_key *key)
{
	struct nlattr *nest = nla_nest_start(msg, CYPHONIC_TUNNEL_A_KEY);

	if (!nest ||
	    nla_put_u8(msg, CYPHONIC_KEY_A_SLOT, slot) ||
	    nla_put_u8(msg, CYPHONIC_KEY_A_ID, key->id) ||
	    nla_put_u64_64bit(msg, CYPHONIC_KEY_A_AGE_MS, cyph_key_age_ms(key),
			      CYPHONIC_KEY_A_PAD) ||
	    nla_put_u64_64bit(msg, CYPHONIC_KEY_A_TX_LIMIT, key->reject_msgs,
			      CYPHONIC_KEY_A_PAD) ||
	    cyph_nl_put_retired(msg, key) ||
	    nla_put_u64_64bit(msg, CYPHONIC_KEY_A_TX_COUNTER,
			      (u64)atomic64_read(&key->tx_counter),
			      CYPHONIC_KEY_A_PAD) ||
	    nla_put_u64_64bit(msg, CYPHONIC_KEY_A_RX_COUNTER,
			      cyph_replay_highest(&key->replay),
			      CYPHONIC_KEY_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int cyph_nl_put_keys(struct sk_buff *msg, struct cyph_tunnel *t)
{
	struct cyph_key *key;
	int slot, err = 0;

	rcu_read_lock();
	for (slot = 0; slot < __CYPHONIC_KEY_SLOT_MAX && !err; slot++) {
		key = rcu_dereference(t->keys.slot[slot]);
		if (key)
			err = cyph_nl_put_key(msg, slot, key);
	}
	rcu_read_unlock();
	return err;
}

static int cyph_nl_put_tunnel_ep(struct sk_buff *msg, struct cyph_tunnel *t)
{
	union cyph_sockaddr ep;
	u32 relay;

	cyph_tunnel_endpoint(t, &ep, NULL, &relay);
	if (cyph_nl_put_endpoint(msg, &ep) ||
	    nla_put_u32(msg, CYPHONIC_TUNNEL_A_RELAY, relay))
		return -EMSGSIZE;
	return 0;
}

static int cyph_nl_put_tunnel(struct sk_buff *msg, struct cyph_tunnel *t)
{
	u64 last_rx = READ_ONCE(t->last_rx);
	struct nlattr *nest;

	nest = nla_nest_start(msg, CYPHONIC_A_TUNNEL);
	if (!nest ||
	    nla_put_u32(msg, CYPHONIC_TUNNEL_A_INDEX, t->index) ||
	    nla_put_u32(msg, CYPHONIC_TUNNEL_A_PEER_INDEX, t->peer_index) ||
	    (t->has4 && cyph_nl_put_pair(msg, &t->pair4)) ||
	    (t->has6 && cyph_nl_put_pair(msg, &t->pair6)) ||
	    cyph_nl_put_tunnel_ep(msg, t) ||
	    cyph_nl_put_keys(msg, t) ||
	    (last_rx && nla_put_u64_64bit(msg, CYPHONIC_TUNNEL_A_LAST_RX_MS,
					  cyph_jiffies_age_ms(last_rx),
					  CYPHONIC_TUNNEL_A_PAD)) ||
	    cyph_nl_put_stats(msg, CYPHONIC_TUNNEL_A_STATS, t->stats, true))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int cyph_nl_put_local(struct sk_buff *msg, const struct cyph_local *l)
{
	struct nlattr *nest = nla_nest_start(msg, CYPHONIC_A_LOCAL);

	if (!nest ||
	    (l->vips.has4 && nla_put_in_addr(msg, CYPHONIC_LOCAL_A_VIP4,
					     l->vips.vip4.ip4)) ||
	    (l->vips.has6 && nla_put_in6_addr(msg, CYPHONIC_LOCAL_A_VIP6,
					      &l->vips.vip6.ip6)))
		return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int cyph_nl_put_dev(struct sk_buff *msg, struct cyph_device *cd)
{
	struct net_device *dev = cd->dev;

	if (nla_put_u32(msg, CYPHONIC_A_IFINDEX, dev->ifindex) ||
	    nla_put_string(msg, CYPHONIC_A_IFNAME, dev->name) ||
	    nla_put_u16(msg, CYPHONIC_A_PORT4, cyph_sock_port(cd, AF_INET)) ||
	    nla_put_u16(msg, CYPHONIC_A_PORT6, cyph_sock_port(cd, AF_INET6)) ||
	    nla_put_u8(msg, CYPHONIC_A_CIPHER, READ_ONCE(cd->cipher)) ||
	    nla_put_u32(msg, CYPHONIC_A_WORKERS, READ_ONCE(cd->workers)) ||
	    nla_put_u32(msg, CYPHONIC_A_MAX_TUNNELS, READ_ONCE(cd->max_tunnels)) ||
	    nla_put_u32(msg, CYPHONIC_A_MAX_LOCALS, READ_ONCE(cd->max_locals)) ||
	    cyph_nl_put_stats(msg, CYPHONIC_A_STATS, cd->stats, false))
		return -EMSGSIZE;
	return 0;
}

/* ---- messages ----------------------------------------------------------- */

enum cyph_nl_obj { CYPH_NL_DEV, CYPH_NL_LOCAL, CYPH_NL_TUNNEL };

/*
 * One message about one object. In a dump @cb is set: the message carries
 * NLM_F_MULTI and, if the device changed since the dump began,
 * NLM_F_DUMP_INTR.
 */
static int cyph_nl_fill(struct sk_buff *msg, struct cyph_device *cd,
			enum cyph_nl_obj kind, const void *obj, u32 portid,
			u32 seq, u8 cmd, struct netlink_callback *cb)
{
	void *hdr;
	int err;

	hdr = genlmsg_put(msg, portid, seq, &cyph_genl_family,
			  cb ? NLM_F_MULTI : 0, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	switch (kind) {
	case CYPH_NL_DEV:
		err = cyph_nl_put_dev(msg, cd);
		break;
	case CYPH_NL_LOCAL:
		err = nla_put_u32(msg, CYPHONIC_A_IFINDEX, cd->dev->ifindex) ?:
		      cyph_nl_put_local(msg, obj);
		break;
	default:
		err = nla_put_u32(msg, CYPHONIC_A_IFINDEX, cd->dev->ifindex) ?:
		      cyph_nl_put_tunnel(msg, (struct cyph_tunnel *)obj);
		break;
	}
	if (err) {
		genlmsg_cancel(msg, hdr);
		return err;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

static int cyph_nl_reply(struct genl_info *info, struct cyph_device *cd,
			 enum cyph_nl_obj kind, const void *obj)
{
	struct sk_buff *msg;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	err = cyph_nl_fill(msg, cd, kind, obj, info->snd_portid, info->snd_seq,
			   info->genlhdr->cmd, NULL);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* ---- request parsing ---------------------------------------------------- */

static int cyph_nl_parse_local(struct genl_info *info,
			       struct cyph_local_cfg *cfg)
{
	struct nlattr *tb[CYPHONIC_LOCAL_A_MAX + 1];
	struct nlattr *attr = info->attrs[CYPHONIC_A_LOCAL];
	int err;

	if (!attr) {
		NL_SET_ERR_MSG(info->extack, "the LOCAL nest is missing");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, CYPHONIC_LOCAL_A_MAX, attr,
			       cyph_local_policy, info->extack);
	if (err)
		return err;
	memset(cfg, 0, sizeof(*cfg));
	cfg->has4 = tb[CYPHONIC_LOCAL_A_VIP4];
	cfg->has6 = tb[CYPHONIC_LOCAL_A_VIP6];
	if (!cfg->has4 && !cfg->has6) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr, "LOCAL needs VIP4 and/or VIP6");
		return -EINVAL;
	}
	if (cfg->has4)
		cfg->vip4.ip4 = nla_get_in_addr(tb[CYPHONIC_LOCAL_A_VIP4]);
	if (cfg->has6)
		cfg->vip6.ip6 = nla_get_in6_addr(tb[CYPHONIC_LOCAL_A_VIP6]);
	return 0;
}

static int cyph_nl_parse_endpoint(const struct nlattr *attr,
				  union cyph_sockaddr *ep,
				  struct netlink_ext_ack *extack)
{
	int len = nla_len(attr);

	memset(ep, 0, sizeof(*ep));
	memcpy(ep, nla_data(attr), min_t(int, len, sizeof(*ep)));
	if (len == sizeof(ep->sin) && ep->sa.sa_family == AF_INET &&
	    ep->sin.sin_port && ep->sin.sin_addr.s_addr != htonl(INADDR_ANY)) {
		memset(ep->sin.sin_zero, 0, sizeof(ep->sin.sin_zero));
		return 0;
	}
	if (len == sizeof(ep->sin6) && ep->sa.sa_family == AF_INET6 &&
	    ep->sin6.sin6_port && !ipv6_addr_any(&ep->sin6.sin6_addr)) {
		ep->sin6.sin6_flowinfo = 0;
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "ENDPOINT must be a sockaddr_in or sockaddr_in6 with an address and a port");
	return -EINVAL;
}

/* Parse one of the (LOCALx, REMOTEx) pairs; both or neither must be given. */
static int cyph_nl_parse_pair(struct nlattr **tb, sa_family_t family,
			      struct cyph_pair *pair, bool *has,
			      const struct nlattr *nest,
			      struct netlink_ext_ack *extack)
{
	int la = family == AF_INET ? CYPHONIC_TUNNEL_A_LOCAL4 : CYPHONIC_TUNNEL_A_LOCAL6;
	int ra = family == AF_INET ? CYPHONIC_TUNNEL_A_REMOTE4 : CYPHONIC_TUNNEL_A_REMOTE6;

	*has = tb[la] && tb[ra];
	if (!*has && (tb[la] || tb[ra])) {
		NL_SET_ERR_MSG_ATTR(extack, tb[la] ?: tb[ra],
				    "LOCAL and REMOTE VIPs come in pairs");
		return -EINVAL;
	}
	if (!*has)
		return 0;
	memset(pair, 0, sizeof(*pair));
	pair->family = family;
	if (family == AF_INET) {
		pair->local.ip4 = nla_get_in_addr(tb[la]);
		pair->remote.ip4 = nla_get_in_addr(tb[ra]);
	} else {
		pair->local.ip6 = nla_get_in6_addr(tb[la]);
		pair->remote.ip6 = nla_get_in6_addr(tb[ra]);
	}
	return 0;
}

static int cyph_nl_parse_key(struct nlattr *attr, struct cyph_tunnel_cfg *cfg,
			     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[CYPHONIC_KEY_A_MAX + 1];
	struct cyph_key_cfg *kc;
	int err;

	err = nla_parse_nested(tb, CYPHONIC_KEY_A_MAX, attr, cyph_key_policy,
			       extack);
	if (err)
		return err;
	if (!tb[CYPHONIC_KEY_A_SLOT] || !tb[CYPHONIC_KEY_A_ID] ||
	    !tb[CYPHONIC_KEY_A_TX] || !tb[CYPHONIC_KEY_A_RX]) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "KEY needs SLOT, ID, TX and RX");
		return -EINVAL;
	}
	kc = &cfg->key[nla_get_u8(tb[CYPHONIC_KEY_A_SLOT])];
	if (kc->set) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "two KEYs for the same SLOT");
		return -EINVAL;
	}
	kc->set = true;
	kc->id = nla_get_u8(tb[CYPHONIC_KEY_A_ID]);
	kc->tx = nla_data(tb[CYPHONIC_KEY_A_TX]);
	kc->rx = nla_data(tb[CYPHONIC_KEY_A_RX]);
	return 0;
}

static int cyph_nl_parse_keys(struct nlattr *nest, struct cyph_tunnel_cfg *cfg,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *a;
	int rem, err;

	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != CYPHONIC_TUNNEL_A_KEY)
			continue;
		err = cyph_nl_parse_key(a, cfg, extack);
		if (err)
			return err;
	}
	return 0;
}

/* The attributes TUNNEL_SET may not carry: a tunnel's identity is fixed. */
static const int cyph_tunnel_fixed_attrs[] = {
	CYPHONIC_TUNNEL_A_PEER_INDEX, CYPHONIC_TUNNEL_A_LOCAL4,
	CYPHONIC_TUNNEL_A_REMOTE4, CYPHONIC_TUNNEL_A_LOCAL6,
	CYPHONIC_TUNNEL_A_REMOTE6,
};

static int cyph_nl_check_fixed(struct nlattr **tb, struct netlink_ext_ack *extack)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(cyph_tunnel_fixed_attrs); i++) {
		if (tb[cyph_tunnel_fixed_attrs[i]]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[cyph_tunnel_fixed_attrs[i]],
					    "PEER_INDEX and VIPs cannot change; delete and re-add the tunnel");
			return -EINVAL;
		}
	}
	return 0;
}

static int cyph_nl_parse_vips(struct nlattr **tb, struct cyph_tunnel_cfg *cfg,
			      struct nlattr *nest, struct netlink_ext_ack *extack)
{
	int err;

	if (!tb[CYPHONIC_TUNNEL_A_PEER_INDEX]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "the tunnel's PEER_INDEX is missing");
		return -EINVAL;
	}
	cfg->peer_index = nla_get_u32(tb[CYPHONIC_TUNNEL_A_PEER_INDEX]);
	err = cyph_nl_parse_pair(tb, AF_INET, &cfg->pair4, &cfg->has4, nest,
				 extack);
	if (err)
		return err;
	err = cyph_nl_parse_pair(tb, AF_INET6, &cfg->pair6, &cfg->has6, nest,
				 extack);
	if (err)
		return err;
	if (!cfg->has4 && !cfg->has6) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "a tunnel needs LOCAL4+REMOTE4 and/or LOCAL6+REMOTE6");
		return -EINVAL;
	}
	return 0;
}

/* Parse the request's TUNNEL nest into @tb; it must be there. */
static int cyph_nl_tunnel_nest(struct genl_info *info, struct nlattr **tb)
{
	struct nlattr *nest = info->attrs[CYPHONIC_A_TUNNEL];

	if (!nest) {
		NL_SET_ERR_MSG(info->extack, "the TUNNEL nest is missing");
		return -EINVAL;
	}
	return nla_parse_nested(tb, CYPHONIC_TUNNEL_A_MAX, nest,
				cyph_tunnel_policy, info->extack);
}

/*
 * Parse the TUNNEL nest of NEW (@new) or SET. For other commands only
 * INDEX is read, with cyph_nl_tunnel_index().
 */
static int cyph_nl_parse_tunnel(struct genl_info *info,
				struct cyph_tunnel_cfg *cfg, bool new)
{
	struct nlattr *nest = info->attrs[CYPHONIC_A_TUNNEL];
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *tb[CYPHONIC_TUNNEL_A_MAX + 1];
	int err;

	memset(cfg, 0, sizeof(*cfg));
	err = cyph_nl_tunnel_nest(info, tb);
	if (err)
		return err;
	if (!tb[CYPHONIC_TUNNEL_A_INDEX]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "the tunnel's INDEX is missing");
		return -EINVAL;
	}
	cfg->index = nla_get_u32(tb[CYPHONIC_TUNNEL_A_INDEX]);
	err = new ? cyph_nl_parse_vips(tb, cfg, nest, extack) :
		    cyph_nl_check_fixed(tb, extack);
	if (err)
		return err;
	if (tb[CYPHONIC_TUNNEL_A_ENDPOINT]) {
		err = cyph_nl_parse_endpoint(tb[CYPHONIC_TUNNEL_A_ENDPOINT],
					     &cfg->endpoint, extack);
		if (err)
			return err;
		cfg->has_endpoint = true;
	}
	if (tb[CYPHONIC_TUNNEL_A_RELAY]) {
		cfg->relay = nla_get_u32(tb[CYPHONIC_TUNNEL_A_RELAY]);
		cfg->has_relay = true;
	}
	return cyph_nl_parse_keys(nest, cfg, extack);
}

static int cyph_nl_tunnel_index(struct genl_info *info, u32 *index)
{
	struct nlattr *nest = info->attrs[CYPHONIC_A_TUNNEL];
	struct nlattr *tb[CYPHONIC_TUNNEL_A_MAX + 1];
	int err;

	err = cyph_nl_tunnel_nest(info, tb);
	if (err)
		return err;
	if (!tb[CYPHONIC_TUNNEL_A_INDEX]) {
		NL_SET_ERR_MSG_ATTR(info->extack, nest, "the tunnel's INDEX is missing");
		return -EINVAL;
	}
	*index = nla_get_u32(tb[CYPHONIC_TUNNEL_A_INDEX]);
	return 0;
}

/* ---- doit handlers ------------------------------------------------------ */

static int cyph_nl_dev_get(struct sk_buff *skb, struct genl_info *info)
{
	return cyph_nl_reply(info, info->user_ptr[0], CYPH_NL_DEV, NULL);
}

/* DETACH: the sockets to give back; not with a new FD of the same family. */
static int cyph_nl_detach_flags(struct genl_info *info, u8 *flags)
{
	struct nlattr *a = info->attrs[CYPHONIC_A_DETACH];

	*flags = a ? nla_get_u8(a) : 0;
	if (((*flags & CYPHONIC_DETACH_F_4) && info->attrs[CYPHONIC_A_FD4]) ||
	    ((*flags & CYPHONIC_DETACH_F_6) && info->attrs[CYPHONIC_A_FD6])) {
		NL_SET_ERR_MSG_ATTR(info->extack, a,
				    "DETACH and a new FD for the same family");
		return -EINVAL;
	}
	return 0;
}

static int cyph_nl_dev_set_socks(struct cyph_device *cd, struct sk_buff *skb,
				 struct genl_info *info)
{
	struct nlattr *a4 = info->attrs[CYPHONIC_A_FD4];
	struct nlattr *a6 = info->attrs[CYPHONIC_A_FD6];
	struct cyph_sock *s4 = NULL, *s6 = NULL;
	u8 detach;
	int err;

	err = cyph_nl_detach_flags(info, &detach);
	if (err)
		return err;

	/* Check both before changing either, so a request applies whole. */
	if (a4) {
		s4 = cyph_sock_prepare(cd, skb, nla_get_u32(a4), AF_INET, a4,
				       info->extack);
		if (IS_ERR(s4))
			return PTR_ERR(s4);
	}
	if (a6) {
		s6 = cyph_sock_prepare(cd, skb, nla_get_u32(a6), AF_INET6, a6,
				       info->extack);
		if (IS_ERR(s6)) {
			cyph_sock_discard(s4);
			return PTR_ERR(s6);
		}
	}
	cyph_sock_install(cd, AF_INET, s4);
	cyph_sock_install(cd, AF_INET6, s6);
	if (detach & CYPHONIC_DETACH_F_4)
		cyph_sock_detach(cd, AF_INET);
	if (detach & CYPHONIC_DETACH_F_6)
		cyph_sock_detach(cd, AF_INET6);
	cyph_tunnel_reset_routes(cd);
	return 0;
}

/* A cap may not go below what the device already holds. */
static int cyph_nl_check_max(struct genl_info *info, struct nlattr *attr,
			     unsigned int have)
{
	if (attr && nla_get_u32(attr) < have) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "the device already holds more than that");
		return -EBUSY;
	}
	return 0;
}

static int cyph_nl_dev_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *cipher = info->attrs[CYPHONIC_A_CIPHER];
	struct nlattr *workers = info->attrs[CYPHONIC_A_WORKERS];
	struct nlattr *max_tunnels = info->attrs[CYPHONIC_A_MAX_TUNNELS];
	struct nlattr *max_locals = info->attrs[CYPHONIC_A_MAX_LOCALS];
	struct cyph_device *cd = info->user_ptr[0];
	int err;

	if (cipher && cd->n_tunnels) {
		NL_SET_ERR_MSG_ATTR(info->extack, cipher,
				    "the cipher can only change while the device has no tunnels");
		return -EBUSY;
	}
	err = cyph_nl_check_max(info, max_tunnels, cd->n_tunnels) ?:
	      cyph_nl_check_max(info, max_locals, cd->n_locals) ?:
	      cyph_nl_dev_set_socks(cd, skb, info);
	if (err)
		return err;
	if (cipher) {
		WRITE_ONCE(cd->cipher, nla_get_u8(cipher));
		cyph_aead_warm(cd->cipher);
	}
	if (workers)
		WRITE_ONCE(cd->workers, nla_get_u32(workers));
	if (max_tunnels)
		WRITE_ONCE(cd->max_tunnels, nla_get_u32(max_tunnels));
	if (max_locals)
		WRITE_ONCE(cd->max_locals, nla_get_u32(max_locals));
	return 0;
}

static int cyph_nl_local_add(struct sk_buff *skb, struct genl_info *info)
{
	struct cyph_local_cfg cfg;
	int err;

	err = cyph_nl_parse_local(info, &cfg);
	return err ?: cyph_local_add(info->user_ptr[0], &cfg, info->extack);
}

static int cyph_nl_local_del(struct sk_buff *skb, struct genl_info *info)
{
	struct cyph_local_cfg cfg;
	int err;

	err = cyph_nl_parse_local(info, &cfg);
	return err ?: cyph_local_del(info->user_ptr[0], &cfg, info->extack);
}

static int cyph_nl_tunnel_new(struct sk_buff *skb, struct genl_info *info)
{
	struct cyph_tunnel_cfg cfg;
	int err;

	err = cyph_nl_parse_tunnel(info, &cfg, true);
	return err ?: cyph_tunnel_new(info->user_ptr[0], &cfg, info->extack);
}

static int cyph_nl_tunnel_set(struct sk_buff *skb, struct genl_info *info)
{
	struct cyph_tunnel_cfg cfg;
	int err;

	err = cyph_nl_parse_tunnel(info, &cfg, false);
	return err ?: cyph_tunnel_set(info->user_ptr[0], &cfg, info->extack);
}

static int cyph_nl_tunnel_del(struct sk_buff *skb, struct genl_info *info)
{
	u32 index;
	int err;

	err = cyph_nl_tunnel_index(info, &index);
	return err ?: cyph_tunnel_del(info->user_ptr[0], index, info->extack);
}

static int cyph_nl_tunnel_expect(struct sk_buff *skb, struct genl_info *info)
{
	u32 index;
	int err;

	err = cyph_nl_tunnel_index(info, &index);
	if (!err && !index) {
		NL_SET_ERR_MSG(info->extack, "INDEX must not be 0");
		err = -EINVAL;
	}
	return err ?: cyph_early_expect(info->user_ptr[0], index, info->extack);
}

static int cyph_nl_key_swap(struct sk_buff *skb, struct genl_info *info)
{
	u32 index;
	int err;

	err = cyph_nl_tunnel_index(info, &index);
	return err ?: cyph_tunnel_swap(info->user_ptr[0], index, info->extack);
}

/*
 * TUNNEL { LOCAL4, REMOTE4 } or TUNNEL { LOCAL6, REMOTE6 }: no tunnel can
 * be made for the pair; staging.c refuses its packets for a while.
 */
static int cyph_nl_tunnel_unreachable(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct nlattr *nest = info->attrs[CYPHONIC_A_TUNNEL];
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr *tb[CYPHONIC_TUNNEL_A_MAX + 1];
	struct cyph_pair pair4, pair6;
	bool has4, has6;
	int err, i;

	err = cyph_nl_tunnel_nest(info, tb);
	if (err)
		return err;
	for (i = 0; i <= CYPHONIC_TUNNEL_A_MAX; i++) {
		if (tb[i] && i != CYPHONIC_TUNNEL_A_LOCAL4 &&
		    i != CYPHONIC_TUNNEL_A_REMOTE4 &&
		    i != CYPHONIC_TUNNEL_A_LOCAL6 &&
		    i != CYPHONIC_TUNNEL_A_REMOTE6) {
			NL_SET_ERR_MSG_ATTR(extack, tb[i],
					    "TUNNEL_UNREACHABLE takes one VIP pair only");
			return -EINVAL;
		}
	}
	err = cyph_nl_parse_pair(tb, AF_INET, &pair4, &has4, nest, extack) ?:
	      cyph_nl_parse_pair(tb, AF_INET6, &pair6, &has6, nest, extack);
	if (err)
		return err;
	if (has4 == has6) {
		NL_SET_ERR_MSG_ATTR(extack, nest,
				    "give one pair: LOCAL4+REMOTE4 or LOCAL6+REMOTE6");
		return -EINVAL;
	}
	return cyph_staging_unreachable(info->user_ptr[0],
					has4 ? &pair4 : &pair6, extack);
}

static int cyph_nl_tunnel_get(struct sk_buff *skb, struct genl_info *info)
{
	struct cyph_device *cd = info->user_ptr[0];
	struct cyph_tunnel *t;
	u32 index;
	int err;

	err = cyph_nl_tunnel_index(info, &index);
	if (err)
		return err;
	t = cyph_tunnel_find(cd, index);
	if (!t) {
		NL_SET_ERR_MSG(info->extack, "no tunnel with this INDEX");
		return -ENOENT;
	}
	return cyph_nl_reply(info, cd, CYPH_NL_TUNNEL, t);
}

/* ---- dumps -------------------------------------------------------------- */

/*
 * Dump cursor in cb->args: [0] ifindex of the dumped device (0 before the
 * first pass), [1] objects already dumped, [2] the device's id. Objects
 * sit on lists in creation order and cb->seq is the device's generation,
 * so a change between passes is flagged with NLM_F_DUMP_INTR. The id
 * tells the device from another one created meanwhile with its ifindex
 * (`ip link add ... index N`), whose generation may well be the same:
 * the dump would otherwise go on over that device's list as if it were
 * the rest of the first one's.
 */
enum { CYPH_DUMP_IFINDEX, CYPH_DUMP_POS, CYPH_DUMP_ID };

static struct cyph_device *cyph_nl_dump_device(struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct net *net = sock_net(cb->skb->sk);
	struct net_device *dev;
	struct cyph_device *cd;

	if (!cb->args[CYPH_DUMP_IFINDEX]) {
		cd = cyph_nl_device(net, info->attrs, cb->extack);
		if (!IS_ERR(cd)) {
			cb->args[CYPH_DUMP_IFINDEX] = cd->dev->ifindex;
			cb->args[CYPH_DUMP_ID] = cd->id;
		}
		return cd;
	}
	dev = dev_get_by_index(net, cb->args[CYPH_DUMP_IFINDEX]);
	/* cb->args are longs: compare as stored (truncated on 32 bits). */
	if (!dev || !cyph_is_device(dev) ||
	    (long)((struct cyph_device *)netdev_priv(dev))->id !=
	    cb->args[CYPH_DUMP_ID]) {
		dev_put(dev);
		NL_SET_ERR_MSG(cb->extack, "the device went away during the dump");
		return ERR_PTR(-ENODEV);
	}
	return netdev_priv(dev);
}

static int cyph_nl_dump_one(struct sk_buff *msg, struct netlink_callback *cb,
			    struct cyph_device *cd, enum cyph_nl_obj kind,
			    const void *obj, u8 cmd)
{
	return cyph_nl_fill(msg, cd, kind, obj, NETLINK_CB(cb->skb).portid,
			    cb->nlh->nlmsg_seq, cmd, cb);
}

/* End a dump pass: an empty pass ends the dump, a full first object fails. */
static int cyph_nl_dump_end(struct sk_buff *msg, int err)
{
	if (err && !msg->len)
		return err;
	return msg->len;
}

/*
 * Dump one of the device's configuration lists (tunnels or local
 * identities), resuming after the objects earlier passes already sent.
 * @member is the offset of the list_head inside the listed object.
 */
static int cyph_nl_list_dump(struct sk_buff *msg, struct netlink_callback *cb,
			     enum cyph_nl_obj kind, u8 cmd)
{
	long pos = 0, skip = cb->args[CYPH_DUMP_POS];
	struct list_head *head, *node;
	struct cyph_device *cd;
	size_t member;
	int err = 0;

	cd = cyph_nl_dump_device(cb);
	if (IS_ERR(cd))
		return PTR_ERR(cd);
	if (kind == CYPH_NL_TUNNEL) {
		head = &cd->tunnels;
		member = offsetof(struct cyph_tunnel, list);
	} else {
		head = &cd->locals;
		member = offsetof(struct cyph_local, list);
	}
	mutex_lock(&cd->lock);
	cb->seq = cd->generation;
	list_for_each(node, head) {
		if (pos++ < skip)
			continue;
		err = cyph_nl_dump_one(msg, cb, cd, kind,
				       (const char *)node - member, cmd);
		if (err) {
			pos--;
			break;
		}
	}
	mutex_unlock(&cd->lock);
	dev_put(cd->dev);
	cb->args[CYPH_DUMP_POS] = pos;
	return cyph_nl_dump_end(msg, err);
}

static int cyph_nl_tunnel_dump(struct sk_buff *msg, struct netlink_callback *cb)
{
	return cyph_nl_list_dump(msg, cb, CYPH_NL_TUNNEL, CYPHONIC_CMD_TUNNEL_GET);
}

static int cyph_nl_local_dump(struct sk_buff *msg, struct netlink_callback *cb)
{
	return cyph_nl_list_dump(msg, cb, CYPH_NL_LOCAL, CYPHONIC_CMD_LOCAL_GET);
}

/* DEV_GET dump: the named device, or every cyphonic device in the netns. */
static int cyph_nl_dev_dump(struct sk_buff *msg, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	long pos = 0, skip = cb->args[CYPH_DUMP_POS];
	struct net *net = sock_net(cb->skb->sk);
	struct net_device *dev;
	int err = 0;

	if (info->attrs[CYPHONIC_A_IFINDEX] || info->attrs[CYPHONIC_A_IFNAME]) {
		struct cyph_device *cd;

		if (skip)
			return 0;
		cd = cyph_nl_device(net, info->attrs, cb->extack);
		if (IS_ERR(cd))
			return PTR_ERR(cd);
		err = cyph_nl_dump_one(msg, cb, cd, CYPH_NL_DEV, NULL,
				       CYPHONIC_CMD_DEV_GET);
		dev_put(cd->dev);
		cb->args[CYPH_DUMP_POS] = 1;
		return cyph_nl_dump_end(msg, err);
	}

	rcu_read_lock();
	cb->seq = READ_ONCE(net->dev_base_seq);
	for_each_netdev_rcu(net, dev) {
		if (!cyph_is_device(dev))
			continue;
		if (pos++ < skip)
			continue;
		err = cyph_nl_dump_one(msg, cb, netdev_priv(dev), CYPH_NL_DEV,
				       NULL, CYPHONIC_CMD_DEV_GET);
		if (err) {
			pos--;
			break;
		}
	}
	rcu_read_unlock();
	cb->args[CYPH_DUMP_POS] = pos;
	return cyph_nl_dump_end(msg, err);
}

/* ---- family ------------------------------------------------------------- */

static const struct genl_small_ops cyph_genl_ops[] = {
	{
		.cmd = CYPHONIC_CMD_DEV_GET,
		.doit = cyph_nl_dev_get,
		.dumpit = cyph_nl_dev_dump,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_DEV_SET,
		.doit = cyph_nl_dev_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_LOCAL_ADD,
		.doit = cyph_nl_local_add,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_LOCAL_DEL,
		.doit = cyph_nl_local_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_LOCAL_GET,
		.dumpit = cyph_nl_local_dump,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_TUNNEL_NEW,
		.doit = cyph_nl_tunnel_new,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_TUNNEL_SET,
		.doit = cyph_nl_tunnel_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_TUNNEL_DEL,
		.doit = cyph_nl_tunnel_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_TUNNEL_GET,
		.doit = cyph_nl_tunnel_get,
		.dumpit = cyph_nl_tunnel_dump,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_KEY_SWAP,
		.doit = cyph_nl_key_swap,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_TUNNEL_UNREACHABLE,
		.doit = cyph_nl_tunnel_unreachable,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CYPHONIC_CMD_TUNNEL_EXPECT,
		.doit = cyph_nl_tunnel_expect,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group cyph_genl_mcgrps[] = {
	/* Events reveal who talks to whom: only admins may listen. */
	{ .name = CYPHONIC_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

struct genl_family cyph_genl_family __ro_after_init = {
	.name = CYPHONIC_GENL_NAME,
	.version = CYPHONIC_GENL_VERSION,
	.maxattr = CYPHONIC_A_MAX,
	.policy = cyph_policy,
	.netnsok = true,
	/* Handlers serialise on their device's lock, not on genl_mutex. */
	.parallel_ops = true,
	.pre_doit = cyph_nl_pre_doit,
	.post_doit = cyph_nl_post_doit,
	.small_ops = cyph_genl_ops,
	.n_small_ops = ARRAY_SIZE(cyph_genl_ops),
	.resv_start_op = __CYPHONIC_CMD_MAX,
	.mcgrps = cyph_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(cyph_genl_mcgrps),
	.module = THIS_MODULE,
};

int __init cyph_genl_init(void)
{
	return genl_register_family(&cyph_genl_family);
}

void cyph_genl_exit(void)
{
	genl_unregister_family(&cyph_genl_family);
}
