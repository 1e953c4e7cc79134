/* SPDX-License-Identifier: MIT */
/*
 * Adapter mode of cyphonicd (issue 10): the daemon also serves the
 * "general nodes" behind it on a LAN, unmodified devices (cameras, PLCs)
 * that get their own overlay identity, VIP and FQDN. The adapter does all
 * signalling on their behalf:
 *
 *	adapter.c	the general-node table and its lifecycle: list from the
 *			AS, credential (GN_AUTH), local identity on the device,
 *			NMS registration, state; periodic and SIGHUP re-sync
 *	sync.c	the blocking AS exchange, on the worker thread
 *	lan.c	the LAN interface: addresses, routes, forwarding
 *	dhcp.c	dnsmasq: configuration and supervision
 *	nft.c	nftables: source VIP bound to the admitted MAC
 *	eap.c	hostapd: 802.1X admission, its session events
 *	portal.c the login page: basic admission
 *	child.c	supervision of dnsmasq and hostapd
 *
 * Each general node has its own NMS registration (struct cyd_reg with its
 * credential) on the node's socket: the NMS tells them apart by the node
 * id in the SIGNAL header. Its tunnels are its own (tunnels.c asks
 * cyd_adapter_gn_by_vip() / _by_fqdn() which identity a tunnel is for,
 * and runs the handshake with that identity's e2e context).
 */
#ifndef CYPHONICD_ADAPTER_H
#define CYPHONICD_ADAPTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <netinet/in.h>
#include "runtime/config.h"

/* [adapter] settings: a member of struct cyd_config. */
struct cyd_adapter_config {
	bool enabled;
	cyph_cfg_str lan;		/* the LAN interface the devices are on */
	long long sync_ms;		/* re-fetch the general nodes this often */
	bool dhcp;			/* run dnsmasq for DHCP and DNS on the LAN */
	cyph_cfg_path dnsmasq;		/* the dnsmasq binary */
	cyph_cfg_path run_dir;		/* dnsmasq's files: config, hosts, leases */
	cyph_cfg_path nft;		/* the nft program (the LAN guard) */
	long long lease_ms;		/* DHCP lease time */
	bool ieee8021x;			/* run hostapd: 802.1X admission on the LAN */
	cyph_cfg_path hostapd;		/* the hostapd binary */
	cyph_cfg_path eap_cert, eap_key;	/* the EAP server's certificate and key */
	bool portal;			/* the login page: basic admission */
	long long portal_port;
};

/* The [adapter] schema rows, inside cyd_config_fields[] (st: struct cyd_config). */
#define CYD_ADAPTER_CONFIG_FIELDS(st) \
	CYPH_CFG_FIELD(st, "adapter", "enabled", BOOL, adapter.enabled, false, "false", 0, 0, \
		       "serve the general nodes the AS lists for this adapter"), \
	CYPH_CFG_FIELD(st, "adapter", "lan_interface", STR, adapter.lan, false, NULL, 0, 0, \
		       "LAN interface of the general nodes (required when enabled)"), \
	CYPH_CFG_FIELD(st, "adapter", "sync_interval", DURATION_MS, adapter.sync_ms, false, \
		       "30s", 1000, 3600000, \
		       "fetch the general nodes from the AS this often (and on SIGHUP)"), \
	CYPH_CFG_FIELD(st, "adapter", "dhcp", BOOL, adapter.dhcp, false, "true", 0, 0, \
		       "run dnsmasq: DHCP leases by MAC and DNS for the LAN"), \
	CYPH_CFG_FIELD(st, "adapter", "dnsmasq", PATH, adapter.dnsmasq, false, \
		       "/usr/sbin/dnsmasq", 0, 0, "the dnsmasq program"), \
	CYPH_CFG_FIELD(st, "adapter", "run_dir", PATH, adapter.run_dir, false, \
		       "/run/cyphonic/adapter", 0, 0, \
		       "dnsmasq's configuration, hosts and lease files"), \
	CYPH_CFG_FIELD(st, "adapter", "nft", PATH, adapter.nft, false, "/usr/sbin/nft", 0, 0, \
		       "the nft program: loads the LAN guard (table inet cyphonic_adapter)"), \
	CYPH_CFG_FIELD(st, "adapter", "lease_time", DURATION_MS, adapter.lease_ms, false, \
		       "1h", 120000, 604800000LL, "DHCP lease time"), \
	CYPH_CFG_FIELD(st, "adapter", "ieee8021x", BOOL, adapter.ieee8021x, false, "false", 0, 0, \
		       "run hostapd on lan_interface: 802.1X admission (PEAP-MSCHAPv2)"), \
	CYPH_CFG_FIELD(st, "adapter", "hostapd", PATH, adapter.hostapd, false, \
		       "/usr/sbin/hostapd", 0, 0, "the hostapd program (wired driver, EAP server)"), \
	CYPH_CFG_FIELD(st, "adapter", "eap_server_cert", PATH, adapter.eap_cert, false, NULL, \
		       0, 0, "PEM certificate of the EAP server (required with ieee8021x)"), \
	CYPH_CFG_FIELD(st, "adapter", "eap_server_key", PATH, adapter.eap_key, false, NULL, \
		       0, 0, "PEM private key of the EAP server (required with ieee8021x)"), \
	CYPH_CFG_FIELD(st, "adapter", "portal", BOOL, adapter.portal, false, "false", 0, 0, \
		       "serve the login page for basic admission on the adapter's LAN address"), \
	CYPH_CFG_FIELD(st, "adapter", "portal_port", INT, adapter.portal_port, false, "8080", \
		       1, 65535, "TCP port of the login page (HTTP to any port 80 goes there)")

struct cyd_config;
/* Cross-field checks of [adapter]; 0 or -1 with "PATH:LINE: [adapter] key: why". */
int cyd_adapter_config_check(const struct cyd_config *c, const char *path, char *err,
			     size_t errlen);
bool cyd_adapter_config_equal(const struct cyd_adapter_config *a,
			      const struct cyd_adapter_config *b);

enum cyd_gn_state {
	CYD_GN_DOWN,		/* listed; no credential (yet), or not admitted */
	CYD_GN_ADMITTED,	/* credential held, identity on the device, registering */
	CYD_GN_UP,		/* registered at the NMS: reachable by its name */
	CYD_GN_BLOCKED,		/* the AS refused it (revoked, method mismatch, ...) */
	CYD_GN_NSTATES
};

const char *cyd_gn_state_name(enum cyd_gn_state s);

struct cyd;
struct cyd_gn;
struct cyd_reg;
struct e2e_ctx;
struct cyd_adapter_dhcp;

struct cyd_adapter {
	struct cyd *d;
	struct cyd_gn *list;
	struct cyph_timer *timer;
	bool syncing, resync;		/* a sync runs; another is due after it */
	uint64_t synced_ms;		/* monotonic, last completed sync (0: none) */
	unsigned int n;
	struct cyd_adapter_dhcp *dhcp;
};

/* Adapter mode on (config enabled): first sync now. 0 or -1 with err. */
int cyd_adapter_start(struct cyd_adapter *a, struct cyd *d, char *err, size_t errlen);
/* Cuts every general node off (identity, registration, tunnels), stops dnsmasq. */
void cyd_adapter_stop(struct cyd_adapter *a);
/* SIGHUP: fetch the list again now (also makes dnsmasq re-read its hosts). */
void cyd_adapter_reload(struct cyd_adapter *a);
/* The host's addresses changed: every general node re-registers. */
void cyd_adapter_location_changed(struct cyd_adapter *a, uint64_t event_ms);
/* The registration a SIGNAL datagram is for (its recipient node id), or NULL. */
struct cyd_reg *cyd_adapter_signal_reg(struct cyd_adapter *a, const uint8_t *pkt, size_t len);

/* What tunnels.c needs of a general node. */
struct cyd_gn *cyd_adapter_gn_by_vip(struct cyd_adapter *a, int family,
				     const struct in_addr *v4, const struct in6_addr *v6);
struct cyd_gn *cyd_adapter_gn_by_fqdn(struct cyd_adapter *a, const char *fqdn);
struct cyd_gn *cyd_adapter_gn_by_reg(struct cyd_adapter *a, const struct cyd_reg *r);
struct cyd_reg *cyd_gn_reg(struct cyd_gn *g);
struct e2e_ctx *cyd_gn_ctx(struct cyd_gn *g);
/* Its node id (from its credential): what a relay grant names. */
uint64_t cyd_gn_node_id(const struct cyd_gn *g);
/* The general node's VIP (one family, its IP mode). */
void cyd_gn_vips(const struct cyd_gn *g, struct in_addr *v4, struct in6_addr *v6,
		 bool *has4, bool *has6);
const char *cyd_gn_fqdn(const struct cyd_gn *g);

struct nodestate_gnode;
/* Each general node as the state file shows it (malloc'd in *out, count returned). */
size_t cyd_adapter_status(const struct cyd_adapter *a, struct nodestate_gnode **out);

/* Per-state counts for /metrics. */
void cyd_adapter_counts(const struct cyd_adapter *a, unsigned int out[CYD_GN_NSTATES]);

#endif
