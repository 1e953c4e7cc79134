/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test doubles for the functions tunnel.c and staging.c call in files that
 * cannot be linked without the whole module. They only count their calls
 * (cyph_tx_tunnel() frees the packet), which lets the suites check when
 * the code under test asks for them.
 */
#ifndef _CYPH_KUNIT_STUBS_H
#define _CYPH_KUNIT_STUBS_H

#include <linux/atomic.h>

#include "addr.h"

struct cyph_key;
struct cyph_tunnel;

struct cyph_stub_calls {
	atomic_t ntf_endpoint;		/* cyph_ntf_endpoint() */
	atomic_t tx_tunnel;		/* cyph_tx_tunnel() */
	atomic_t ntf_tunnel_needed;	/* cyph_ntf_tunnel_needed() */
	atomic_t ntf_key_limit;		/* cyph_ntf_key_limit() */
	atomic_t ntf_key_promoted;	/* cyph_ntf_key_promoted() */
	atomic_t rx_held;		/* cyph_rx_held() */
	atomic_t sock_send;		/* cyph_sock_send() */
	int sock_send_err;		/* what cyph_sock_send() returns */
	unsigned int last_segs;		/* packets in the last skb sent */
	unsigned int last_len;		/* its length */
	/* Called from cyph_sock_send() (a tunnel inside a tunnel), or NULL. */
	void (*on_send)(struct sk_buff *skb);
	const struct cyph_key *last_key;
	u64 last_counter;
	struct cyph_tunnel *last_tunnel;
	union cyph_sockaddr last_endpoint;
};

extern struct cyph_stub_calls cyph_stub_calls;

void cyph_stub_reset(void);

#endif /* _CYPH_KUNIT_STUBS_H */
