// SPDX-License-Identifier: MIT
/* libnl policies for the attributes cyphctl reads from the kernel. */
#include "policy.h"

#include <netinet/in.h>

#define BIN(n) { .type = NLA_UNSPEC, .minlen = (n), .maxlen = (n) }

struct nla_policy cy_policy_top[CYPHONIC_A_MAX + 1] = {
	[CYPHONIC_A_IFINDEX] = { .type = NLA_U32 },
	[CYPHONIC_A_IFNAME] = { .type = NLA_STRING, .maxlen = 16 },
	[CYPHONIC_A_PORT4] = { .type = NLA_U16 },
	[CYPHONIC_A_PORT6] = { .type = NLA_U16 },
	[CYPHONIC_A_CIPHER] = { .type = NLA_U8 },
	[CYPHONIC_A_WORKERS] = { .type = NLA_U32 },
	[CYPHONIC_A_MAX_TUNNELS] = { .type = NLA_U32 },
	[CYPHONIC_A_MAX_LOCALS] = { .type = NLA_U32 },
	[CYPHONIC_A_STATS] = { .type = NLA_NESTED },
	[CYPHONIC_A_LOCAL] = { .type = NLA_NESTED },
	[CYPHONIC_A_TUNNEL] = { .type = NLA_NESTED },
};

struct nla_policy cy_policy_local[CYPHONIC_LOCAL_A_MAX + 1] = {
	[CYPHONIC_LOCAL_A_VIP4] = BIN(sizeof(struct in_addr)),
	[CYPHONIC_LOCAL_A_VIP6] = BIN(sizeof(struct in6_addr)),
};

struct nla_policy cy_policy_tunnel[CYPHONIC_TUNNEL_A_MAX + 1] = {
	[CYPHONIC_TUNNEL_A_INDEX] = { .type = NLA_U32 },
	[CYPHONIC_TUNNEL_A_PEER_INDEX] = { .type = NLA_U32 },
	[CYPHONIC_TUNNEL_A_LOCAL4] = BIN(sizeof(struct in_addr)),
	[CYPHONIC_TUNNEL_A_REMOTE4] = BIN(sizeof(struct in_addr)),
	[CYPHONIC_TUNNEL_A_LOCAL6] = BIN(sizeof(struct in6_addr)),
	[CYPHONIC_TUNNEL_A_REMOTE6] = BIN(sizeof(struct in6_addr)),
	[CYPHONIC_TUNNEL_A_ENDPOINT] = { .type = NLA_UNSPEC,
					 .minlen = sizeof(struct sockaddr_in) },
	[CYPHONIC_TUNNEL_A_RELAY] = { .type = NLA_U32 },
	[CYPHONIC_TUNNEL_A_KEY] = { .type = NLA_NESTED },
	[CYPHONIC_TUNNEL_A_LAST_RX_MS] = { .type = NLA_U64 },
	[CYPHONIC_TUNNEL_A_STATS] = { .type = NLA_NESTED },
};

struct nla_policy cy_policy_key[CYPHONIC_KEY_A_MAX + 1] = {
	[CYPHONIC_KEY_A_SLOT] = { .type = NLA_U8 },
	[CYPHONIC_KEY_A_ID] = { .type = NLA_U8 },
	[CYPHONIC_KEY_A_AGE_MS] = { .type = NLA_U64 },
	[CYPHONIC_KEY_A_TX_COUNTER] = { .type = NLA_U64 },
	[CYPHONIC_KEY_A_RX_COUNTER] = { .type = NLA_U64 },
	[CYPHONIC_KEY_A_TX_LIMIT] = { .type = NLA_U64 },
	[CYPHONIC_KEY_A_RETIRED_MS] = { .type = NLA_U64 },
};

/* Every counter is a u64; index 0 (UNSPEC) stays unchecked. */
#define U64 { .type = NLA_U64 }
struct nla_policy cy_policy_stats[CYPHONIC_STAT_MAX + 1] = {
	[1 ... CYPHONIC_STAT_MAX] = U64,
};
