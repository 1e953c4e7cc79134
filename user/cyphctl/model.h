/* SPDX-License-Identifier: MIT */
/*
 * What `cyphctl show` reads from the kernel: devices with their local
 * identities and tunnels, collected from DEV_GET, LOCAL_GET and TUNNEL_GET
 * dumps before anything is printed (so an interrupted dump can be repeated
 * without printing twice).
 */
#ifndef CYPHCTL_MODEL_H
#define CYPHCTL_MODEL_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "nl.h"
#include "nodestate/statefile.h"
#include "stats.h"

struct cy_key {
	unsigned int slot, id;
	uint64_t age_ms, tx_counter, rx_counter, tx_limit;
	bool retired;			/* left the primary slot */
	uint64_t retired_ms;
};

struct cy_tunnel {
	uint32_t index, peer_index, relay;
	bool has_local4, has_remote4, has_local6, has_remote6;
	struct in_addr local4, remote4;
	struct in6_addr local6, remote6;
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;		/* 0 = none */
	struct cy_key keys[CYPHONIC_KEY_SLOT_MAX + 1];
	unsigned int nkeys;
	bool has_last_rx;
	uint64_t last_rx_ms;
	struct cy_stats stats;
};

struct cy_local {
	bool has_vip4, has_vip6;
	struct in_addr vip4;
	struct in6_addr vip6;
};

/* What cyphonicd's state file says about a device (daemon.c). */
enum cy_daemon {
	CY_DAEMON_NONE,		/* no state file: no daemon manages the device */
	CY_DAEMON_LIVE,		/* written by a running daemon for this device */
	CY_DAEMON_STALE,	/* its writer is gone, or it is about another device */
	CY_DAEMON_BAD,		/* unreadable or malformed */
};

struct cy_device {
	uint32_t ifindex, workers;
	enum cy_daemon daemon;
	struct nodestate ds;		/* CY_DAEMON_LIVE only */
	char ds_path[4200];
	uint32_t max_tunnels, max_locals;	/* 0: kernel did not say */
	char name[IF_NAMESIZE];
	uint16_t port4, port6;
	uint8_t cipher;
	struct cy_stats stats;
	struct cy_local *locals;
	size_t nlocals, locals_cap;
	struct cy_tunnel *tunnels;
	size_t ntunnels, tunnels_cap;
};

struct cy_model {
	struct cy_device *devs;
	size_t ndevs, cap;
};

/*
 * Reads every cyphonic device (ifindex 0) or one device, with its locals
 * and tunnels. Returns 0, or -errno after printing the error.
 */
int model_load(struct cy_nl *nl, uint32_t ifindex, struct cy_model *m);
void model_free(struct cy_model *m);

#endif
