// SPDX-License-Identifier: MIT
/* cyphonic-nms configuration schema (docs/protocol.md, "Operations"). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "runtime/hexkey.h"
#include "nmsd.h"

#define F(...) CYPH_CFG_FIELD(struct nmsd_config, __VA_ARGS__)

const struct cyph_cfg_field nmsd_config_fields[] = {
	F("nms", "listen", ADDR, listen4, false, "0.0.0.0:7100", 0, 0,
	  "UDP IPv4 listen address (empty: no IPv4)"),
	F("nms", "listen6", ADDR, listen6, false, NULL, 0, 0,
	  "UDP IPv6 listen address, e.g. [::]:7100 (empty: no IPv6)"),
	F("nms", "mapping_listen", ADDR, mapping_listen, false, NULL, 0, 0,
	  "second UDP address (another port) answering only MAPPING: nodes compare what "
	  "both ports see of one socket to tell their NAT's mapping type (empty: off)"),
	F("nms", "lifetime", DURATION_MS, lifetime_ms, false, "90s", 5000, 86400000,
	  "registration lifetime without a keepalive"),
	F("nms", "keepalive", DURATION_MS, keepalive_ms, false, "25s", 1000, 3600000,
	  "keepalive interval advised to nodes (keep below NAT UDP timeouts)"),
	F("nms", "max_skew", DURATION_MS, skew_ms, false, "30s", 1000, 600000,
	  "accepted difference between a message timestamp and the NMS clock"),
	F("nms", "max_registrations", INT, max_registrations, false, "1000000", 1, 100000000,
	  "registrations (including tombstones) held at most"),
	F("nms", "error_rate", INT, error_rate, false, "1000", 1, 1000000,
	  "signed error replies per second to unauthenticated input"),
	F("nms", "notify_rto", DURATION_MS, notify_rto_ms, false, "500ms", 10, 60000,
	  "first PEER_NOTIFY retransmission timeout (doubles each time)"),
	F("nms", "notify_tries", INT, notify_tries, false, "4", 1, 20,
	  "PEER_NOTIFY transmissions before giving up"),
	/*
	 * Per-node quotas (issue 12), answered with RATE_LIMITED. A node asks
	 * for a route when it first talks to a peer and when a path breaks:
	 * 100 at once and 20/s after covers a node starting up with many
	 * peers; one node asked 13.4k/s in the attack.
	 */
	F("nms", "route_rate", INT, route_rate, false, "20", 0, 1000000,
	  "route requests per second and node (0: unlimited)"),
	F("nms", "route_burst", INT, route_burst, false, "100", 1, 1000000,
	  "route requests one node may make at once"),
	F("nms", "relay_rate", INT, relay_rate, false, "2", 0, 1000000,
	  "relay grants per second and node (0: unlimited)"),
	F("nms", "relay_burst", INT, relay_burst, false, "20", 1, 1000000,
	  "relay grants one node may get at once"),
	F("nms", "notify_per_node", INT, notify_per_node, false, "32", 0, 4096,
	  "unacknowledged PEER_NOTIFYs one node's requests may hold (0: no limit)"),
	/* Nodes behind one NAT share an address: generous, but bounded. */
	F("nms", "register_rate", INT, register_rate, false, "50", 0, 1000000,
	  "full (signed) REGISTERs per second and source (IPv4 address or IPv6 /64), dropped above "
	  "(0: unlimited)"),
	F("nms", "register_burst", INT, register_burst, false, "200", 1, 1000000,
	  "full REGISTERs one source (IPv4 address or IPv6 /64) may send at once"),
	/*
	 * A node registers once per lifetime and refreshes with MACs, so a
	 * healthy NMS sees few full REGISTERs; above this rate (a flood, or
	 * every node at once after a restart) each must first echo a cookie
	 * bound to its source address: one round trip more for nodes,
	 * nothing but an HMAC for a flood from spoofed sources.
	 */
	F("nms", "cookie_load", INT, cookie_load, false, "200", 0, 1000000,
	  "full REGISTERs per second above which each must echo an address-bound cookie (0: always)"),
	/*
	 * By default as generous as register_rate/register_burst: after an
	 * NMS restart every node behind one NAT needs a cookie at once, and
	 * a source gets no more answers than REGISTERs it may send. A flood
	 * from few addresses is held to it; one from many (spoofed) addresses
	 * costs one small answer per datagram up to it per address.
	 */
	F("nms", "cookie_rate", INT, cookie_rate, false, "-1", -1, 1000000,
	  "COOKIE answers per second and source (IPv4 address or IPv6 /64), twice that at once "
	  "(-1: register_rate and register_burst; 0: unlimited)"),
	/*
	 * Certificate and signature checks of full REGISTERs (a few hundred
	 * microseconds each) on worker threads, so that a flood of them
	 * neither stalls keepalives on the loop nor waits for one core.
	 */
	F("nms", "verify_workers", INT, verify_workers, false, "-1", -1, 256,
	  "threads checking certificates and signatures of full REGISTERs (-1: one per CPU; 0: on the event loop)"),
	F("nms", "verify_queue", INT, verify_queue, false, "4096", 1, 1000000,
	  "full REGISTERs queued or being checked at most; more are dropped and counted"),
	F("nms", "grace_period", DURATION_MS, grace_ms, false, "5s", 0, 3600000,
	  "SIGTERM: time pending notifications get before exit"),
	F("identity", "key", PATH, key, true, NULL, 0, 0,
	  "NMS Ed25519 private key (PEM) that signs sessionless replies"),
	F("identity", "cert", PATH, cert, false, NULL, 0, 0,
	  "NMS certificate issued by the AS CA, sent in REGISTER_ACK"),
	/*
	 * Self-renewal (renew.c): a login as the NMS's own node principal at
	 * two thirds of the certificate's remaining life; [ca] cert verifies
	 * the AS. Without [renew] as, an operator job renews and sends SIGHUP.
	 */
	F("renew", "as", ADDR, renew_as, false, NULL, 0, 0,
	  "AS address (host:port) the NMS renews its certificate at (empty: no self-renewal)"),
	F("renew", "server_name", STR, renew_server_name, false, NULL, 0, 0,
	  "name or IP expected in the AS certificate (default: the host of as)"),
	F("renew", "name", STR, renew_name, false, NULL, 0, 0,
	  "the NMS's principal at the AS (cyphonic-admin node add NAME)"),
	F("renew", "password_file", PATH, renew_password_file, false, NULL, 0, 0,
	  "file whose first line is that principal's password (mode 0600), read at each renewal"),
	F("ca", "cert", PATH, ca_cert, true, NULL, 0, 0, "AS CA certificate (PEM)"),
	F("ca", "crl", PATH, crl, false, NULL, 0, 0, "CRL written by the AS"),
	F("ca", "crl_poll", DURATION_MS, crl_poll_ms, false, "2s", 100, 3600000,
	  "how often the CRL file is checked for changes"),
	F("relay", "endpoint4", ADDR, relay4, false, NULL, 0, 0,
	  "TRS IPv4 endpoint handed to nodes"),
	F("relay", "endpoint6", ADDR, relay6, false, NULL, 0, 0,
	  "TRS IPv6 endpoint handed to nodes"),
	F("relay", "key_file", PATH, relay_key_file, false, NULL, 0, 0,
	  "32-byte hex key shared with the TRS (bind secrets)"),
	F("relay", "session_ttl", DURATION_MS, relay_ttl_ms, false, "10m", 10000, 86400000,
	  "validity of relay bind secrets"),
	CYPH_CFG_OPS_FIELDS(struct nmsd_config, "127.0.0.1:9102"),
	CYPH_KV_CFG_FIELDS(struct nmsd_config, kv),
};

const size_t nmsd_config_nfields = sizeof(nmsd_config_fields) / sizeof(nmsd_config_fields[0]);

static void ep_of(const struct cyph_cfg_addr *a, struct proto_ep *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (a->len)
		proto_ep_from_sa(ep, (const struct sockaddr *)&a->ss);
}

int nmsd_config_apply(const struct nmsd_config *c, const char *path,
		      struct nms_config *out, char *err, size_t errlen)
{
	bool relay = c->relay4.len || c->relay6.len;
	int rc;

	if (!path)
		path = "(command line)";
	memset(out, 0, sizeof(*out));
	if (!c->listen4.len && !c->listen6.len) {
		snprintf(err, errlen, "%s:0: [nms] listen: neither listen nor listen6 is set", path);
		return -1;
	}
	if (c->keepalive_ms * 2 > c->lifetime_ms) {
		snprintf(err, errlen, "%s:0: [nms] keepalive: must be at most half of lifetime", path);
		return -1;
	}
	if (cyph_kv_config_check(&c->kv, path, err, errlen))
		return -1;
	if (c->renew_as.len && (!c->renew_name[0] || !c->renew_password_file[0] ||
				!c->cert[0])) {
		snprintf(err, errlen, "%s:0: [renew] as: needs [renew] name, [renew] password_file "
			 "and [identity] cert", path);
		return -1;
	}
	if (relay && !c->relay_key_file[0]) {
		snprintf(err, errlen, "%s:0: [relay] key_file: required when a relay endpoint is set",
			 path);
		return -1;
	}
	if (c->relay_key_file[0]) {
		rc = hexkey_read_file(c->relay_key_file, out->relay_key, sizeof(out->relay_key));
		if (rc) {
			snprintf(err, errlen, "%s:0: [relay] key_file: %s: %s", path,
				 c->relay_key_file,
				 rc == -EINVAL ? "not 64 hex digits" : strerror(-rc));
			return -1;
		}
	}
	out->lifetime_s = (uint32_t)(c->lifetime_ms / 1000);
	out->keepalive_s = (uint32_t)(c->keepalive_ms / 1000);
	out->skew_ms = c->skew_ms;
	out->relay_ttl_s = (uint32_t)(c->relay_ttl_ms / 1000);
	out->notify_rto_ms = (uint32_t)c->notify_rto_ms;
	out->notify_tries = (uint32_t)c->notify_tries;
	out->error_rate = (uint32_t)c->error_rate;
	out->route_rate = (uint32_t)c->route_rate;
	out->route_burst = (uint32_t)c->route_burst;
	out->relay_rate = (uint32_t)c->relay_rate;
	out->relay_burst = (uint32_t)c->relay_burst;
	out->notify_per_node = (uint32_t)c->notify_per_node;
	out->register_rate = (uint32_t)c->register_rate;
	out->register_burst = (uint32_t)c->register_burst;
	out->cookie_load = (uint32_t)c->cookie_load;
	if (c->cookie_rate < 0) {
		out->cookie_rate = out->register_rate;
		out->cookie_burst = out->register_burst;
	} else {
		out->cookie_rate = (uint32_t)c->cookie_rate;
		out->cookie_burst = 2 * out->cookie_rate;
	}
	ep_of(&c->relay4, &out->relay4);
	ep_of(&c->relay6, &out->relay6);
	if (out->relay4.family == 6 || out->relay6.family == 4) {
		snprintf(err, errlen, "%s:0: [relay] endpoint4/endpoint6: wrong address family", path);
		return -1;
	}
	return 0;
}
