// SPDX-License-Identifier: MIT
/* Names of the kernel's counters. */
#include "stats.h"

#include <string.h>

static const char *const names[CYPHONIC_STAT_MAX + 1] = {
	[CYPHONIC_STAT_RX_PACKETS] = "rx_packets",
	[CYPHONIC_STAT_RX_BYTES] = "rx_bytes",
	[CYPHONIC_STAT_TX_PACKETS] = "tx_packets",
	[CYPHONIC_STAT_TX_BYTES] = "tx_bytes",
	[CYPHONIC_STAT_RX_CONTROL] = "rx_control",
	[CYPHONIC_STAT_RX_DROP_BAD_HEADER] = "rx_drop_bad_header",
	[CYPHONIC_STAT_RX_DROP_UNKNOWN_INDEX] = "rx_drop_unknown_index",
	[CYPHONIC_STAT_RX_DROP_NO_KEY] = "rx_drop_no_key",
	[CYPHONIC_STAT_RX_DROP_AUTH] = "rx_drop_auth",
	[CYPHONIC_STAT_RX_DROP_REPLAY] = "rx_drop_replay",
	[CYPHONIC_STAT_RX_DROP_CRYPTOKEY] = "rx_drop_cryptokey",
	[CYPHONIC_STAT_RX_DROP_BAD_INNER] = "rx_drop_bad_inner",
	[CYPHONIC_STAT_RX_DROP_QUEUE_FULL] = "rx_drop_queue_full",
	[CYPHONIC_STAT_TX_DROP_NO_TUNNEL] = "tx_drop_no_tunnel",
	[CYPHONIC_STAT_TX_DROP_STAGED_FULL] = "tx_drop_staged_full",
	[CYPHONIC_STAT_TX_DROP_STAGED_TIMEOUT] = "tx_drop_staged_timeout",
	[CYPHONIC_STAT_TX_DROP_NO_KEY] = "tx_drop_no_key",
	[CYPHONIC_STAT_TX_DROP_NO_ENDPOINT] = "tx_drop_no_endpoint",
	[CYPHONIC_STAT_TX_DROP_BAD_INNER] = "tx_drop_bad_inner",
	[CYPHONIC_STAT_TX_DROP_QUEUE_FULL] = "tx_drop_queue_full",
	[CYPHONIC_STAT_TX_DROP_SEND_ERROR] = "tx_drop_send_error",
	[CYPHONIC_STAT_TX_DROP_KEY_EXHAUSTED] = "tx_drop_key_exhausted",
	[CYPHONIC_STAT_TX_DROP_KEY_EXPIRED] = "tx_drop_key_expired",
	[CYPHONIC_STAT_RX_DROP_KEY_EXPIRED] = "rx_drop_key_expired",
	[CYPHONIC_STAT_TX_DROP_NO_SOCKET] = "tx_drop_no_socket",
	[CYPHONIC_STAT_RX_DROP_TOO_LONG] = "rx_drop_too_long",
	[CYPHONIC_STAT_TX_DROP_QUEUE_SHARE] = "tx_drop_queue_share",
	[CYPHONIC_STAT_RX_DROP_QUEUE_SHARE] = "rx_drop_queue_share",
	[CYPHONIC_STAT_TX_DROP_ROUTE_LOOP] = "tx_drop_route_loop",
	[CYPHONIC_STAT_TX_DROP_UNREACHABLE] = "tx_drop_unreachable",
	[CYPHONIC_STAT_TX_ICMP_UNREACHABLE] = "tx_icmp_unreachable",
	[CYPHONIC_STAT_TX_GSO_SENDS] = "tx_gso_sends",
	[CYPHONIC_STAT_RX_EARLY_HELD] = "rx_early_held",
	[CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT] = "rx_drop_early_timeout",
	[CYPHONIC_STAT_TX_GSO_SHARED] = "tx_gso_shared",
	[CYPHONIC_STAT_RX_TRAIN_UNITS] = "rx_train_units",
	[CYPHONIC_STAT_TX_DROP_QUEUE_DELAY] = "tx_drop_queue_delay",
	[CYPHONIC_STAT_RX_DROP_QUEUE_DELAY] = "rx_drop_queue_delay",
};

/* A counter added to the header without a name here fails the build. */
_Static_assert(CYPHONIC_STAT_MAX == 38, "update stats.c for new counters");

const char *stat_name(unsigned int stat)
{
	return stat <= CYPHONIC_STAT_MAX && names[stat] ? names[stat] : NULL;
}

bool stat_is_drop(unsigned int stat)
{
	const char *n = stat_name(stat);

	return n && strstr(n, "_drop_");
}
