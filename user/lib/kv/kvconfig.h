/* SPDX-License-Identifier: MIT */
/*
 * The [store] section a daemon with shared state has (NMS, TRS):
 *
 *	[store]
 *	redis = 127.0.0.1:6379     or  /run/redis/redis.sock  (empty: in-process)
 *	prefix = cyphonic:         every key and channel starts with it
 *	timeout = 500ms            connect and per-command limit
 *
 * The fields are parsed by the config framework (runtime/config.h) into a
 * struct cyph_kv_config member of the daemon's config struct; the cross-
 * field check here names the file and line of the value it refuses.
 */
#ifndef CYPHONIC_KV_CONFIG_H
#define CYPHONIC_KV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "runtime/config.h"

struct cyph_kv_config {
	cyph_cfg_str redis;	/* "" = no shared store */
	cyph_cfg_str prefix;
	long long timeout_ms;
};

/* The three schema entries, for a member M of the daemon's struct ST. */
#define CYPH_KV_CFG_FIELDS(st, m) \
	CYPH_CFG_FIELD(st, "store", "redis", STR, m.redis, false, NULL, 0, 0, \
		       "Redis server shared by the replicas: host:port or a Unix " \
		       "socket path (empty: state in this process only)"), \
	CYPH_CFG_FIELD(st, "store", "prefix", STR, m.prefix, false, "cyphonic:", 0, 0, \
		       "prefix of every Redis key and channel (one per deployment)"), \
	CYPH_CFG_FIELD(st, "store", "timeout", DURATION_MS, m.timeout_ms, false, "500ms", \
		       10, 60000, "Redis connect and command timeout")

/* True when a Redis server is configured. */
static inline bool cyph_kv_enabled(const struct cyph_kv_config *c)
{
	return c->redis[0] != '\0';
}

/*
 * Checks the values: an address is "host:port" (port 1..65535, IPv6 in
 * brackets) or an absolute socket path; the prefix is 1..64 of
 * [A-Za-z0-9:_.-]. Errors read "PATH:LINE: [store] key: what is wrong"
 * (LINE of the key in PATH, 0 when it came from --set).
 */
int cyph_kv_config_check(const struct cyph_kv_config *c, const char *path,
			 char *err, size_t errlen);

/* Splits a checked address: *unix_path set for a socket, else host/port. */
int cyph_kv_addr_split(const char *addr, char *host, size_t hostlen,
		       int *port, bool *is_unix);

#endif
