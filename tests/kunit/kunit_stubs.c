// SPDX-License-Identifier: GPL-2.0
/*
 * Link seams for tunnel.c, keys.c, staging.c, early.c and train.c:
 * events.c needs the generic netlink family, tx.c and rx.c the whole
 * pipeline, socket.c user-space sockets, none of which exists without
 * main.c. The signatures come from kmod/'s own
 * headers, so a change there breaks this build instead of silently testing
 * something else.
 */

#include <linux/string.h>

#include "events.h"
#include "pipeline.h"
#include "tunnel.h"
#include "rx.h"
#include "socket.h"
#include "tx.h"
#include "kunit_stubs.h"

struct cyph_stub_calls cyph_stub_calls;

void cyph_stub_reset(void)
{
	memset(&cyph_stub_calls, 0, sizeof(cyph_stub_calls));
}

void cyph_ntf_endpoint(struct cyph_tunnel *t, const union cyph_sockaddr *ep,
		       u32 relay)
{
	cyph_stub_calls.last_tunnel = t;
	cyph_stub_calls.last_endpoint = *ep;
	atomic_inc(&cyph_stub_calls.ntf_endpoint);
}

void cyph_ntf_key_limit(struct cyph_tunnel *t, const struct cyph_key *key,
			u64 counter)
{
	cyph_stub_calls.last_tunnel = t;
	cyph_stub_calls.last_key = key;
	cyph_stub_calls.last_counter = counter;
	atomic_inc(&cyph_stub_calls.ntf_key_limit);
}

void cyph_ntf_key_promoted(struct cyph_tunnel *t, const struct cyph_key *key)
{
	cyph_stub_calls.last_tunnel = t;
	cyph_stub_calls.last_key = key;
	atomic_inc(&cyph_stub_calls.ntf_key_promoted);
}

void cyph_ntf_tunnel_needed(struct cyph_device *cd,
			    const struct cyph_pair *pair)
{
	atomic_inc(&cyph_stub_calls.ntf_tunnel_needed);
}

/* What staging hands to a tunnel: counted, then gone as TX would take it. */
void cyph_tx_tunnel(struct cyph_tunnel *t, struct sk_buff *skb)
{
	cyph_stub_calls.last_tunnel = t;
	atomic_inc(&cyph_stub_calls.tx_tunnel);
	consume_skb(skb);
	cyph_tunnel_put(t);
}

/* What early.c hands back to RX once its tunnel exists: counted, freed. */
void cyph_rx_held(struct cyph_device *cd, struct sk_buff *skb)
{
	atomic_inc(&cyph_stub_calls.rx_held);
	consume_skb(skb);
}

/*
 * What train.c sends: counted with its packets, then gone as the UDP
 * core would take it, or refused (kept by the caller) as told.
 */
int cyph_sock_send(struct cyph_device *cd, struct sk_buff *skb,
		   const union cyph_sockaddr *dst, struct cyph_src *src,
		   struct dst_cache *cache)
{
	atomic_inc(&cyph_stub_calls.sock_send);
	cyph_stub_calls.last_segs = skb_is_gso(skb) ?
				    skb_shinfo(skb)->gso_segs : 1;
	cyph_stub_calls.last_len = skb->len;
	cyph_stub_calls.last_endpoint = *dst;
	if (cyph_stub_calls.on_send)
		cyph_stub_calls.on_send(skb);
	if (cyph_stub_calls.sock_send_err)
		return cyph_stub_calls.sock_send_err;
	consume_skb(skb);
	return 0;
}
