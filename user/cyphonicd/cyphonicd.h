/* SPDX-License-Identifier: MIT */
/*
 * cyphonicd internals: one struct for the daemon's state, and the files
 * that own each part of it:
 *
 *	config.c	the INI schema and its checks
 *	credential.c	AS login over TLS, the stored credential, renewal
 *	kdev.c		the cyphonic device, its UDP sockets, the VIPs
 *	location.c	the host's addresses (rtnetlink dump + monitor)
 *	registration.c	NMS registration, keepalive, re-registration
 *	tunnels.c	tunnels on demand: route direction, DTLS, TUNNEL_NEW
 *	punch.c		hole punching (PUNCH), and the probes relay.c sends too
 *	relay.c		the relay path (RELAY): TRS binding, wrapping
 *	dns.c		the DNS responder for the domain, lookups on demand
 *	resolver.c	the host's resolver pointed at that responder
 *	status.c	the state file cyphctl show reads (user/lib/nodestate)
 *	metrics.c	/metrics
 *	main.c		event loop, signals, start and teardown order
 */
#ifndef CYPHONICD_H
#define CYPHONICD_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include "client/nmsclient.h"
#include "client/retry.h"
#include "kernel/cyphdev.h"
#include "kernel/nlsock.h"
#include "runtime/config.h"
#include "runtime/daemon.h"
#include "runtime/log.h"
#include "adapter/adapter.h"

/* ---- config.c ---- */

struct cyd_config {
	struct cyph_cfg_addr as_addr;
	cyph_cfg_path as_ca;
	cyph_cfg_path crl;		/* "" = none */
	cyph_cfg_str as_server_name;	/* "" = host part of as_addr */
	cyph_cfg_str name;
	cyph_cfg_path password_file;
	long long renew_before_ms;
	struct cyph_cfg_addr nms_addr;
	struct cyph_cfg_addr nms_mapping;	/* the NMS's mapping port, empty: no NAT check */
	cyph_cfg_str nms_name;		/* "" = nms.<domain> */
	cyph_cfg_str device;
	long long port;
	cyph_cfg_path state_dir;
	cyph_cfg_path runtime_dir;	/* the state file for cyphctl */
	cyph_cfg_str domain;		/* "" = from the credential's FQDN */
	long long prefix4, prefix6;	/* VIP prefix lengths on the device */
	long long rekey_after_ms, idle_timeout_ms;
	bool dns_enabled;
	struct cyph_cfg_addr dns_listen;
	cyph_cfg_str resolver;		/* auto, resolved, resolv.conf, none */
	cyph_cfg_path resolv_conf;
	struct cyph_cfg_addr stub_listen;
	enum cyph_log_level log_level;
	bool http_enabled;
	struct cyph_cfg_addr http_listen;
	struct cyd_adapter_config adapter;
};

extern const struct cyph_cfg_field cyd_config_fields[];
extern const size_t cyd_config_nfields;
/*
 * Checks what the schema cannot (names, cross-field rules, readable
 * files). path names the file in "PATH:LINE: [section] key: why" errors.
 */
int cyd_config_check(const struct cyd_config *c, const char *path, char *err,
		     size_t errlen);
/* The AS host to verify in its certificate (server_name or address host). */
void cyd_config_as_server_name(const struct cyd_config *c, char *out, size_t len);
/* The NMS name to verify: nms_name, or nms.<domain>. */
void cyd_config_nms_name(const struct cyd_config *c, const char *cred_fqdn,
			 char *out, size_t len);

/* ---- credential.c ---- */

struct cyd_cred {
	EVP_PKEY *key;
	uint8_t *cert;
	size_t cert_len;
	uint64_t node_id;
	char fqdn[256];
	struct in_addr vip4;
	struct in6_addr vip6;
	bool has_vip4, has_vip6;
	int64_t not_after;		/* Unix seconds */
	int64_t renew_at;		/* Unix seconds */
};

/* Stored credential if still good for renew_before, else a new one from the AS. */
int cyd_cred_obtain(const struct cyd_config *c, struct cyd_cred *out, char *err,
		    size_t errlen);
/* A new credential from the AS, saved to state_dir. 0 or -1 with err. */
int cyd_cred_login(const struct cyd_config *c, struct cyd_cred *out, char *err,
		   size_t errlen);
void cyd_cred_free(struct cyd_cred *cr);
/* The certificate's fields into out (which already holds key and cert). */
int cyd_cred_fill(struct cyd_cred *out, char *err, size_t errlen);
/* The first line of file (the password) into pw. 0 or -1 with err. */
int cyd_cred_password(const char *file, char *pw, size_t len, char *err, size_t errlen);
/* When to renew a credential valid until not_after, fetched at now. */
int64_t cyd_cred_renew_time(int64_t now, int64_t not_after, int64_t renew_before_s);

/* ---- kdev.c ---- */

struct cyd_kdev {
	struct kern_nl rtnl;
	struct kern_cyph genl;
	uint32_t ifindex;
	bool created;			/* we created the device: delete it */
	bool local_added, addr4_added, addr6_added;
	int fd4, fd6;			/* our UDP sockets, held by the kernel */
	uint16_t port;
	struct in_addr vip4;
	struct in6_addr vip6;
	bool has_vip4, has_vip6;
	uint8_t plen4, plen6;
};

int cyd_kdev_up(struct cyd_kdev *k, const struct cyd_config *c,
		const struct cyd_cred *cr, char *err, size_t errlen);
/* Undoes everything cyd_kdev_up did, in reverse. */
void cyd_kdev_down(struct cyd_kdev *k);

/* ---- location.c ---- */

struct cyd_location {
	struct kern_nl mon, req;
	uint32_t skip_ifindex;
	uint16_t port4, port6;
	struct proto_ep eps[PROTO_MAX_ADDRS];
	unsigned int n;
	uint64_t changed_ms;		/* monotonic time of the last change event */
};

int cyd_location_open(struct cyd_location *l, char *err, size_t errlen);
void cyd_location_close(struct cyd_location *l);
/* Re-reads the addresses; returns 1 when the list changed, 0 if not, -1. */
int cyd_location_refresh(struct cyd_location *l);
/* Drains the monitor socket; returns true when an address event came. */
bool cyd_location_events(struct cyd_location *l);

/* ---- registration.c ---- */

enum cyd_reg_state { CYD_UNREGISTERED, CYD_REGISTERING, CYD_REGISTERED };

struct cyd;
struct cyd_reg {
	struct cyd *d;
	const struct cyd_cred *cred;	/* the node's, or a general node's (adapter.c) */
	struct nmsc nmsc;
	int fd;				/* socket towards the NMS (fd4 or fd6) */
	struct sockaddr_storage nms_sa;
	socklen_t nms_len;
	enum cyd_reg_state state;
	uint64_t pending_seq;		/* REGISTER awaiting its ACK, 0: none */
	struct cyph_retry rt;		/* REGISTER retransmissions */
	uint64_t last_heard_ms;		/* monotonic, last authentic NMS message */
	uint64_t change_ms;		/* address change awaiting re-registration */
	struct cyph_timer *retx, *keepalive;
	char observed[64];
	uint64_t rtt_sent_ms;		/* monotonic: a first try awaiting its answer, 0: none */
	uint32_t srtt_ms;		/* smoothed round trip to the NMS, 0: none yet */
	uint32_t last_rtt_ms;		/* the latest sample */
};

int cyd_reg_start(struct cyd_reg *r, struct cyd *d, char *err, size_t errlen);
/* The same for another identity this daemon serves (a general node). */
int cyd_reg_start_as(struct cyd_reg *r, struct cyd *d, const struct cyd_cred *cred,
		     char *err, size_t errlen);
/* adapter.c: a general node's registration r changed state. */
void cyd_adapter_reg_state(struct cyd_adapter *a, struct cyd_reg *r);
/* New credential or new addresses: register again now. */
void cyd_reg_restart(struct cyd_reg *r, bool full);
/* The credential in d->cred was renewed: full REGISTER with it. */
void cyd_reg_new_credential(struct cyd_reg *r);
void cyd_reg_location_changed(struct cyd_reg *r, uint64_t event_ms);
/*
 * A round trip to the NMS was measured (a first try and its answer).
 * cyd_reg_rtt(), the larger of the smoothed value and the latest sample
 * (a path that just got slower counts at once: a timer too short costs a
 * spurious retry, one too long only slower loss recovery), paces route
 * retries and the handshakes' first retransmission (e2e_ctx_set_rtt).
 */
void cyd_reg_rtt_sample(struct cyd_reg *r, uint64_t ms);
uint32_t cyd_reg_rtt(const struct cyd_reg *r);
/* A non-DATA datagram on one of the node's sockets. */
void cyd_reg_input(struct cyd_reg *r, const uint8_t *pkt, size_t len);
/* SIGTERM: DEREGISTER (best effort) and stop the timers. */
void cyd_reg_stop(struct cyd_reg *r);
/* Sends a datagram nmsc_*() built to the NMS (n 0: nothing). */
void cyd_reg_send(struct cyd_reg *r, const uint8_t *p, size_t n);

/* ---- tunnels.c ---- */

/* How a tunnel reaches its peer (shown by cyphctl show, counted in /metrics). */
enum cyd_path {
	CYD_PATH_DIRECT,	/* to the endpoint the NMS directed, no probing */
	CYD_PATH_PUNCHED,	/* to the endpoint a hole-punch probe answered from */
	CYD_PATH_RELAYED,	/* through the TRS (relay header, session id) */
	CYD_PATH_COUNT,
};

const char *cyd_path_name(enum cyd_path p);

struct cyd_tun;
struct e2e_ctx;
struct cyd_tunnels {
	struct cyd *d;
	struct e2e_ctx *ctx;
	struct kern_nl ev;		/* the cyphonic events group */
	struct cyd_tun *list;
	uint32_t next_index;
	struct cyph_timer *tick;
	uint64_t idle_check_ms;		/* monotonic, last idle scan */
};

int cyd_tunnels_start(struct cyd_tunnels *t, struct cyd *d, char *err, size_t errlen);
void cyd_tunnels_stop(struct cyd_tunnels *t);
/* A ROUTE_RESP, or an ERROR, from the NMS to registration r (ignored unless it answers ours). */
void cyd_tunnels_route(struct cyd_tunnels *t, const struct cyd_reg *r,
		       const struct nmsc_event *ev);
/* A general node is cut off: its tunnels go. */
void cyd_tunnels_forget(struct cyd_tunnels *t, const struct cyd_gn *g);
/* A HANDSHAKE datagram from a peer. */
void cyd_tunnels_input(struct cyd_tunnels *t, int fd, const uint8_t *pkt, size_t len,
		       const struct sockaddr_storage *from, socklen_t flen);
void cyd_tunnels_new_credential(struct cyd_tunnels *t);
/* The CRL changed: tunnels to peers it revokes are removed. */
void cyd_tunnels_revoked(struct cyd_tunnels *t);
/* A DNS query for name waits: ask the NMS (answer through cyd_dns_answer). */
void cyd_tunnels_lookup(struct cyd_tunnels *t, const char *name);
/* The NMS sees the node at a new public endpoint: punched tunnels punch again. */
void cyd_tunnels_own_endpoint_changed(struct cyd_tunnels *t);
/* A PEER_NOTIFY (already acknowledged): a peer punches or relays to us. */
void cyd_tunnels_notify(struct cyd_tunnels *t, const struct cyd_reg *r,
			const struct nmsc_event *ev);
/* A RELAY_CTRL datagram (BIND_ACK or ERROR from a TRS). */
void cyd_relay_ctrl_input(struct cyd_tunnels *t, const uint8_t *pkt, size_t len);

/* ---- hsbudget.c ---- */

struct e2e_config;
/*
 * The key a handshake source's budget is counted under: its address's
 * srckey (an IPv4 address, an IPv6 /64) and what follows the sockaddr
 * (a relay session id); e2e_config.budget_key.
 */
size_t cyd_hs_budget_key(const void *src, size_t srclen, void *key, size_t cap);
/* The e2e configuration of the daemon's contexts: defaults, budgets per host. */
void cyd_e2e_config(struct e2e_config *c);

/* ---- dns.c ---- */

struct dns_names;
struct dns_responder;
struct dns_server;
struct cyd_dns {
	struct cyd *d;
	struct dns_names *names;
	struct dns_responder *resp;
	struct dns_server *srv;
	struct dns_server *stub;	/* the resolv.conf set-up's port-53 listener */
};

int cyd_dns_start(struct cyd_dns *s, struct cyd *d, char *err, size_t errlen);
/* The lookup of name ended: its VIPs (none: NXDOMAIN), or failed (SERVFAIL). */
void cyd_dns_answer(struct cyd_dns *s, const char *name, const struct in_addr *vip4,
		    const struct in6_addr *vip6, bool failed);
void cyd_dns_stop(struct cyd_dns *s);
/* The same responder on a second address (resolver.c, resolv.conf mode). */
int cyd_dns_stub(struct cyd_dns *s, const struct cyph_cfg_addr *a, char *err, size_t errlen);
/* The CYPHONIC domain: [node] domain, or from the node's FQDN. */
void cyd_dns_domain(const struct cyd *d, char *out, size_t len);

/* ---- resolver.c ---- */

enum cyd_resolver_mode { CYD_RES_NONE, CYD_RES_RESOLVED, CYD_RES_RESOLV_CONF };

struct cyd_resolver {
	enum cyd_resolver_mode mode;	/* what was set up, to undo at exit */
	char file[4096];		/* resolv.conf edited (its real path) */
};

/* Points the host's resolver at the responder for the domain ([dns] resolver). */
void cyd_resolver_up(struct cyd_resolver *r, struct cyd *d);
void cyd_resolver_down(struct cyd_resolver *r, struct cyd *d);
/*
 * --resolver-setup=up|down: only the resolv.conf edit, for a unit whose
 * daemon may not write the file (ExecStartPost=+, ExecStopPost=+). 0 or 1.
 */
int cyd_resolver_setup(const struct cyd_config *c, bool up);
/* resolv.conf text without our lines, with them when server is non-NULL. */
char *cyd_resolv_conf_edit(const char *text, const char *server, const char *device);

/* ---- status.c ---- */

struct cyd_status {
	char path[4200];
	char *last;			/* the text last written, NULL: none */
	struct cyph_timer *tick;
	bool warned;
};

/* Writes the state file now and whenever the tunnels change. */
int cyd_status_start(struct cyd_status *s, struct cyd *d);
/* Removes the file. */
void cyd_status_stop(struct cyd_status *s, struct cyd *d);

/* ---- metrics.c ---- */

int cyd_metrics_init(void);
void cyd_metrics_state(enum cyd_reg_state s);
void cyd_metrics_register(bool ok);
void cyd_metrics_reregistration(uint64_t ms);
void cyd_metrics_credential(bool ok, int64_t not_after);
void cyd_metrics_reload(bool ok);
void cyd_metrics_signal_dropped(void);
void cyd_metrics_handshake(bool ok);
void cyd_metrics_tunnels(enum cyd_path path, int delta);
void cyd_metrics_punch(bool ok);
void cyd_metrics_relay_bind(bool ok);
void cyd_metrics_probe_dropped(void);
void cyd_metrics_relay_ctrl_dropped(void);
void cyd_metrics_route_latency(uint64_t start_ns);
void cyd_metrics_route_retry(void);
void cyd_metrics_peer_expired(void);
void cyd_metrics_relay_renewal(bool ok);
void cyd_metrics_rekey(bool ok);
void cyd_metrics_peer_revoked(void);

/* ---- nattype.c: the NAT's mapping type, told to the NMS ---- */

struct cyd_nat {
	struct cyd *d;
	uint8_t type;			/* PROTO_NAT_*: what REGISTERs carry */
	uint64_t seq;			/* the MAPPING awaiting its answer, 0: none */
	unsigned int tries;
	struct cyph_timer *timer;
};

/* After a registration with a new endpoint: ask the mapping port. */
void cyd_nat_check(struct cyd_nat *n, struct cyd *d);
/* A SIGNAL datagram: false when it is not a MAPPING_ACK. */
bool cyd_nat_input(struct cyd_nat *n, const uint8_t *pkt, size_t len);
void cyd_nat_stop(struct cyd_nat *n);
const char *cyd_nat_name(uint8_t type);
void cyd_metrics_nat_type(uint8_t type);
void cyd_metrics_nat_check(bool answered);
void cyd_metrics_repunch(void);

/* ---- main.c ---- */

struct cyd {
	struct cyph_daemon_args args;
	struct cyd_config cfg;
	struct cyd_cred cred;
	struct cyd_kdev kdev;
	struct cyd_location loc;
	struct cyd_reg reg;
	struct cyd_nat nat;
	struct cyd_tunnels tun;
	struct cyd_dns dns;
	struct cyd_status status;
	struct cyd_resolver resolver;
	struct cyd_adapter adapter;
	struct cyph_ca *ca;		/* [as] ca: NMS and peer certificates */
	struct cyph_loop *loop;
	struct cyph_http *http;
	struct cyph_workq *wq;
	bool renewing, stopping;
};

#endif
