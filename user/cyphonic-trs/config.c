// SPDX-License-Identifier: MIT
/* cyphonic-trs configuration schema (docs/protocol.md, "Operations"). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "runtime/hexkey.h"
#include "trsd.h"

#define F(...) CYPH_CFG_FIELD(struct trsd_config, __VA_ARGS__)

const struct cyph_cfg_field trsd_config_fields[] = {
	F("trs", "listen", ADDR, listen4, false, "0.0.0.0:7200", 0, 0,
	  "UDP IPv4 listen address"),
	F("trs", "listen6", ADDR, listen6, false, NULL, 0, 0,
	  "UDP IPv6 listen address, e.g. [::]:7200 (same port as listen if both)"),
	F("trs", "threads", INT, threads, false, "2", 1, 64,
	  "forwarding threads (SO_REUSEPORT sockets each)"),
	F("trs", "share_port", BOOL, share_port, false, "false", 0, 0,
	  "let another process bind the same UDP port (SO_REUSEPORT); off: a second TRS is refused"),
	F("trs", "idle_timeout", DURATION_MS, idle_ms, false, "60s", 1000, 86400000,
	  "a session with no traffic or bind this long is removed"),
	F("trs", "max_skew", DURATION_MS, skew_ms, false, "30s", 1000, 600000,
	  "accepted difference between a BIND timestamp and the TRS clock"),
	/*
	 * 12.5 MB/s = 100 Mbit/s per session: about a node's own encryption
	 * ceiling on the reference machine (docs/benchmark.md), so a real
	 * tunnel is not slowed, while a session two colluding nodes point at
	 * a victim reflects at most that (issue 12 measured 500 Mbit/s).
	 */
	F("trs", "rate", INT, rate, false, "12500000", 0, 100000000000LL,
	  "per-session limit in bytes/s (0: unlimited)"),
	F("trs", "burst", INT, burst, false, "1048576", 1500, 100000000000LL,
	  "per-session token bucket depth in bytes"),
	F("trs", "max_sessions", INT, max_sessions, false, "100000", 1, 100000000,
	  "relay sessions held at most"),
	F("trs", "error_rate", INT, error_rate, false, "100", 1, 1000000,
	  "error replies per second and thread to unauthenticated BINDs"),
	F("trs", "grace_period", DURATION_MS, grace_ms, false, "10s", 0, 3600000,
	  "SIGTERM: time sessions get to finish before exit"),
	F("relay", "key_file", PATH, relay_key_file, true, NULL, 0, 0,
	  "32-byte hex key shared with the NMS (bind secrets)"),
	F("relay", "key_overlap", DURATION_MS, key_overlap_ms, false, "10m", 0, 86400000,
	  "after a key change (SIGHUP) the old key stays accepted this long"),
	F("ca", "cert", PATH, ca_cert, false, NULL, 0, 0,
	  "AS CA certificate (PEM) that signs the CRL; required with crl"),
	F("ca", "crl", PATH, crl, false, NULL, 0, 0,
	  "CRL written by the AS: revoked nodes' sessions stop forwarding"),
	F("ca", "crl_poll", DURATION_MS, crl_poll_ms, false, "2s", 100, 3600000,
	  "how often the CRL file is checked for changes"),
	CYPH_CFG_OPS_FIELDS(struct trsd_config, "127.0.0.1:9103"),
	CYPH_KV_CFG_FIELDS(struct trsd_config, kv),
};

const size_t trsd_config_nfields = sizeof(trsd_config_fields) / sizeof(trsd_config_fields[0]);

int trsd_config_apply(const struct trsd_config *c, const char *path,
		      struct trs_config *out, char *err, size_t errlen)
{
	int rc;

	if (!path)
		path = "(command line)";
	memset(out, 0, sizeof(*out));
	if (!c->listen4.len && !c->listen6.len) {
		snprintf(err, errlen, "%s:0: [trs] listen: neither listen nor listen6 is set", path);
		return -1;
	}
	if (c->listen4.ss.ss_family == AF_INET6 || c->listen6.ss.ss_family == AF_INET) {
		snprintf(err, errlen, "%s:0: [trs] listen/listen6: wrong address family", path);
		return -1;
	}
	if (cyph_kv_config_check(&c->kv, path, err, errlen))
		return -1;
	if (c->crl[0] && !c->ca_cert[0]) {
		snprintf(err, errlen, "%s:0: [ca] cert: required when [ca] crl is set", path);
		return -1;
	}
	rc = hexkey_read_file(c->relay_key_file, out->relay_key, sizeof(out->relay_key));
	if (rc) {
		snprintf(err, errlen, "%s:0: [relay] key_file: %s: %s", path, c->relay_key_file,
			 rc == -EINVAL ? "not 64 hex digits" : strerror(-rc));
		return -1;
	}
	out->skew_ms = c->skew_ms;
	out->idle_s = (uint32_t)(c->idle_ms / 1000);
	out->rate_bytes = (uint64_t)c->rate;
	out->burst_bytes = (uint64_t)c->burst;
	out->max_sessions = (size_t)c->max_sessions;
	out->key_overlap_ms = c->key_overlap_ms;
	return 0;
}
