// SPDX-License-Identifier: GPL-2.0
/*
 * Notifications. They are best effort: with no listener nothing is built,
 * and a failed allocation loses the event (the condition that caused it
 * repeats: staged packets re-notify each second, roaming on the next
 * packet from yet another source).
 */

#include <linux/cyphonic.h>
#include <net/genetlink.h>

#include "device.h"
#include "events.h"
#include "keys.h"
#include "netlink.h"
#include "tunnel.h"

/* Every notification fits easily: a few addresses and counters. */
#define CYPH_NTF_SIZE	512

static struct sk_buff *cyph_ntf_new(struct cyph_device *cd, u8 cmd,
				    void **hdr)
{
	struct net *net = dev_net(cd->dev);
	struct sk_buff *msg;

	if (!genl_has_listeners(&cyph_genl_family, net, 0))
		return NULL;
	msg = genlmsg_new(CYPH_NTF_SIZE, GFP_ATOMIC);
	if (!msg)
		return NULL;
	*hdr = genlmsg_put(msg, 0, 0, &cyph_genl_family, 0, cmd);
	if (!*hdr || nla_put_u32(msg, CYPHONIC_A_IFINDEX, cd->dev->ifindex)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static void cyph_ntf_send(struct cyph_device *cd, struct sk_buff *msg,
			  void *hdr)
{
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&cyph_genl_family, dev_net(cd->dev), msg, 0, 0,
				GFP_ATOMIC);
}

/* Traffic from a local identity to a VIP without a tunnel. */
void cyph_ntf_tunnel_needed(struct cyph_device *cd,
			    const struct cyph_pair *pair)
{
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;

	msg = cyph_ntf_new(cd, CYPHONIC_CMD_TUNNEL_NEEDED_NTF, &hdr);
	if (!msg)
		return;
	nest = nla_nest_start(msg, CYPHONIC_A_TUNNEL);
	if (!nest || cyph_nl_put_pair(msg, pair))
		goto err;
	nla_nest_end(msg, nest);
	cyph_ntf_send(cd, msg, hdr);
	return;
err:
	nlmsg_free(msg);
}

/* TUNNEL { INDEX, KEY { SLOT = PRIMARY, ID } }, the key nest left open. */
static struct nlattr *cyph_ntf_put_key(struct sk_buff *msg,
				       struct cyph_tunnel *t,
				       const struct cyph_key *key,
				       struct nlattr **nest)
{
	struct nlattr *knest;

	*nest = nla_nest_start(msg, CYPHONIC_A_TUNNEL);
	if (!*nest || nla_put_u32(msg, CYPHONIC_TUNNEL_A_INDEX, t->index))
		return NULL;
	knest = nla_nest_start(msg, CYPHONIC_TUNNEL_A_KEY);
	if (!knest ||
	    nla_put_u8(msg, CYPHONIC_KEY_A_SLOT, CYPHONIC_KEY_SLOT_PRIMARY) ||
	    nla_put_u8(msg, CYPHONIC_KEY_A_ID, key->id))
		return NULL;
	return knest;
}

/* The primary key reached its rekey message count or age. */
void cyph_ntf_key_limit(struct cyph_tunnel *t, const struct cyph_key *key,
			u64 counter)
{
	struct nlattr *nest, *knest;
	struct sk_buff *msg;
	void *hdr;

	msg = cyph_ntf_new(t->cd, CYPHONIC_CMD_KEY_LIMIT_NTF, &hdr);
	if (!msg)
		return;
	knest = cyph_ntf_put_key(msg, t, key, &nest);
	if (!knest ||
	    nla_put_u64_64bit(msg, CYPHONIC_KEY_A_TX_COUNTER, counter,
			      CYPHONIC_KEY_A_PAD) ||
	    nla_put_u64_64bit(msg, CYPHONIC_KEY_A_AGE_MS, cyph_key_age_ms(key),
			      CYPHONIC_KEY_A_PAD) ||
	    nla_put_u64_64bit(msg, CYPHONIC_KEY_A_TX_LIMIT, key->reject_msgs,
			      CYPHONIC_KEY_A_PAD))
		goto err;
	nla_nest_end(msg, knest);
	nla_nest_end(msg, nest);
	cyph_ntf_send(t->cd, msg, hdr);
	return;
err:
	nlmsg_free(msg);
}

/* RX promoted the next key: it is primary now. */
void cyph_ntf_key_promoted(struct cyph_tunnel *t, const struct cyph_key *key)
{
	struct nlattr *nest, *knest;
	struct sk_buff *msg;
	void *hdr;

	msg = cyph_ntf_new(t->cd, CYPHONIC_CMD_KEY_PROMOTED_NTF, &hdr);
	if (!msg)
		return;
	knest = cyph_ntf_put_key(msg, t, key, &nest);
	if (!knest)
		goto err;
	nla_nest_end(msg, knest);
	nla_nest_end(msg, nest);
	cyph_ntf_send(t->cd, msg, hdr);
	return;
err:
	nlmsg_free(msg);
}

/* An authenticated packet came from a new source (roaming). */
void cyph_ntf_endpoint(struct cyph_tunnel *t, const union cyph_sockaddr *ep,
		       u32 relay)
{
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;

	msg = cyph_ntf_new(t->cd, CYPHONIC_CMD_ENDPOINT_NTF, &hdr);
	if (!msg)
		return;
	nest = nla_nest_start(msg, CYPHONIC_A_TUNNEL);
	if (!nest || nla_put_u32(msg, CYPHONIC_TUNNEL_A_INDEX, t->index) ||
	    cyph_nl_put_endpoint(msg, ep) ||
	    nla_put_u32(msg, CYPHONIC_TUNNEL_A_RELAY, relay))
		goto err;
	nla_nest_end(msg, nest);
	cyph_ntf_send(t->cd, msg, hdr);
	return;
err:
	nlmsg_free(msg);
}
