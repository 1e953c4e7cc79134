/* SPDX-License-Identifier: MIT */
/* What the adapter_*.c files share: one general node, the sync job. */
#ifndef CYPHONICD_ADAPTER_INT_H
#define CYPHONICD_ADAPTER_INT_H

#include "pki/pwhash.h"
#include "stores/store.h"
#include "../cyphonicd.h"

struct cyd_gn {
	struct cyd_gn *next;
	struct cyd_adapter *a;
	uint64_t id;
	char name[CYPH_NAME_MAX];
	char fqdn[256];
	uint8_t mac[6];
	uint8_t method, ip_mode;
	struct in_addr vip4;
	struct in6_addr vip6;
	bool has4, has6;
	enum cyd_gn_state state;
	char why[160];			/* why DOWN or BLOCKED */
	struct cyd_cred cred;		/* held by the adapter on the device's behalf */
	struct cyd_reg reg;
	struct e2e_ctx *ctx;
	bool reg_started, local_added, lan_added, seen;
	/* evidence of admission the AS is given (sync.c) */
	char secret[40];		/* 802.1X: "nt:HEX" from the AS (pki/nthash.h) */
	bool eap_ok;			/* 802.1X: hostapd authorized its session */
	uint8_t eap_asks;		/* 802.1X: NEW_STAs sent since it ended (eap.c) */
	uint64_t eap_ask_ms;		/* when the next one is due (0: none) */
	uint32_t port;			/* 802.1X: the LAN port of that session (port.c) */
	char port_name[16];
	char wait_why[64];		/* why it waits, kept across syncs: an EAP
					 * failure, a refused login ("": none) */
	char login_user[CYPH_NAME_MAX];	/* basic: as typed at the portal */
	char login_pw[CYPH_PW_MAX_LEN + 1];	/* basic: held while logged in (renewals) */
	bool login_try;			/* basic: a login waits for the AS's answer */
	uint64_t login_conn;		/* the portal request to answer (0: none) */
};

/* A device that may have its lease: admitted, or a basic node (the login page). */
bool cyd_adapter_gn_leased(const struct cyd_gn *g);

/* One general node of a GN_LIST answer and what its GN_AUTH gave. */
struct cyd_gn_result {
	struct cyph_principal p;
	int rc;				/* 0, an AS error code (> 0), -1 transport/local */
	bool fresh;			/* cred is new (else the one held is kept) */
	bool asked;			/* GN_AUTH was sent (with evidence, for basic/802.1X) */
	struct cyd_cred cred;
	char err[256];
};

struct cyd_adapter_sync {
	struct cyd_adapter *a;
	struct cyd_config cfg;
	int64_t now;
	/* in: general nodes whose credential is good for now (no GN_AUTH) */
	uint64_t *keep;
	size_t n_keep;
	/* in: the evidence held for basic and 802.1X nodes (by node id) */
	struct cyd_gn_evidence {
		uint64_t id;
		bool eap_ok;
		char user[CYPH_NAME_MAX];	/* basic: "" when none */
		char pw[CYPH_PW_MAX_LEN + 1];
	} *ev;
	size_t n_ev;
	/* out */
	int rc;				/* of the adapter's login and the list */
	char err[512];
	struct cyd_gn_result *gns;
	size_t n;
};

/* sync.c, on the worker thread: login, GN_LIST, GN_AUTH each. */
void cyd_adapter_sync_work(void *arg);
void cyd_adapter_sync_free(struct cyd_adapter_sync *job);

/* lan.c: the LAN side of one general node (route to its VIP). */
int cyd_adapter_lan_up(struct cyd_adapter *a, char *err, size_t errlen);
void cyd_adapter_lan_down(struct cyd_adapter *a);
int cyd_adapter_lan_gn(struct cyd_adapter *a, struct cyd_gn *g, bool add);

/* child.c: a supervised helper program (dnsmasq, hostapd). */
struct cyd_child {
	const char *what;		/* for the log, and its argv[0] */
	const char *path;		/* the program */
	char *argv[4];			/* argv[0] = what */
	void (*started)(struct cyd_child *c, void *arg);	/* after every start */
	void *arg;
	/* private */
	struct cyph_loop *loop;
	pid_t pid;
	int pidfd;
	uint64_t started_ms, backoff_ms;
	struct cyph_timer *restart;
	unsigned int restarts;
};

int cyd_child_start(struct cyd_child *c, struct cyph_loop *loop);
void cyd_child_signal(struct cyd_child *c, int sig);
/* SIGTERM, reap, start again at once (a configuration it only reads at start changed). */
void cyd_child_restart(struct cyd_child *c);
void cyd_child_stop(struct cyd_child *c);

/* eap.c: hostapd (802.1X authenticator), its control interface events. */
int cyd_adapter_eap_start(struct cyd_adapter *a, char *err, size_t errlen);
void cyd_adapter_eap_update(struct cyd_adapter *a);
void cyd_adapter_eap_stop(struct cyd_adapter *a);
/*
 * adapter.c: what hostapd said of the session of a MAC; for AUTHORIZED
 * the identity its EAP server authenticated (sta.c), else NULL.
 */
enum cyd_eap_event { CYD_EAP_AUTHORIZED, CYD_EAP_ENDED, CYD_EAP_FAILED };
void cyd_adapter_eap_event(struct cyd_adapter *a, const uint8_t mac[6], int ev,
			   const char *identity);
/*
 * sta.c: hostapd's answer to "STA MAC": its MAC, whether its port is
 * authorized, and the identity authenticated ("" if none, or longer than
 * idlen). -1 when reply is no such answer.
 */
/* sta.c: "xx:xx:xx:xx:xx:xx" at the start of s (hostapd's events and answers). */
int cyd_hostapd_mac_parse(const char *s, uint8_t mac[6]);
int cyd_hostapd_sta_parse(const char *reply, uint8_t mac[6], bool *authorized, char *identity,
			  size_t idlen);
/* eap.c: hostapd ends the station's session: another identity than its node's. */
void cyd_adapter_eap_refuse(const uint8_t mac[6]);

/* port.c: the LAN port an 802.1X session ran on, and its link events. */
int cyd_adapter_port_start(struct cyd_adapter *a, char *err, size_t errlen);
void cyd_adapter_port_stop(struct cyd_adapter *a);
/* Whether sessions are bound to bridge ports (nft.c's bridge table), not the interface. */
bool cyd_adapter_port_bridge(void);
/* The port (ifindex, name) MAC's frames come in on now: 0 or -errno. */
int cyd_adapter_port_of(const uint8_t mac[6], uint32_t *ifindex, char name[16]);
/* adapter.c: port ifindex can carry no session any more (why: "down", ...). */
void cyd_adapter_port_down(struct cyd_adapter *a, uint32_t ifindex, const char *why);
/* eap.c: hostapd forgets the station, whose port went (counted: port_down). */
void cyd_adapter_eap_port_down(const uint8_t mac[6]);
/* eap.c: g's session ended: ask the device to authenticate once hostapd can. */
void cyd_adapter_eap_ask_later(struct cyd_gn *g);

/* budget.c: the login page's attempts per source address. */
#define CYD_BUDGET_SLOTS 256
struct cyd_budget {
	struct cyd_budget_slot {
		uint8_t addr[16];	/* IPv4 in the first 4 bytes */
		uint64_t last_ms;	/* last refill; 0: free */
		unsigned int tokens;
	} slots[CYD_BUDGET_SLOTS];
};
/* Takes one attempt from addr's budget at now (ms): false when it is spent. */
bool cyd_budget_take(struct cyd_budget *t, const uint8_t addr[16], uint64_t now);

/* portal.c: the login page for basic admission. */
int cyd_adapter_portal_start(struct cyd_adapter *a, char *err, size_t errlen);
void cyd_adapter_portal_stop(struct cyd_adapter *a);
/* Answers the login request conn: status 200, 403, 429 or 503 with text. */
void cyd_adapter_portal_answer(struct cyd_adapter *a, uint64_t conn, int status,
			       const char *text);
/* adapter.c: src is the VIP of a listed basic node (one that logs in at the portal). */
bool cyd_adapter_login_known(struct cyd_adapter *a, int family, const void *src);
/* adapter.c: a login for the basic node with VIP src; the answer comes later. */
int cyd_adapter_login(struct cyd_adapter *a, int family, const void *src, const char *user,
		      const char *pw, uint64_t conn, char *why, size_t whylen);

/* dhcp.c: dnsmasq, its hosts file from the table. */
/*
 * run_dir, made if missing (0755), for the files dnsmasq and hostapd read:
 * refused unless it is a real directory of ours that nobody else can
 * write, since whoever could would plant what those helpers (root) read.
 */
int cyd_adapter_run_dir(const struct cyd_adapter_config *c, char *err, size_t errlen);
int cyd_adapter_dhcp_start(struct cyd_adapter *a, char *err, size_t errlen);
void cyd_adapter_dhcp_update(struct cyd_adapter *a);
void cyd_adapter_dhcp_stop(struct cyd_adapter *a);

/* nft.c: the LAN guard (its own nftables table), admitted sets. */
int cyd_adapter_nft_start(struct cyd_adapter *a, char *err, size_t errlen);
void cyd_adapter_nft_update(struct cyd_adapter *a);
void cyd_adapter_nft_stop(struct cyd_adapter *a);

#endif
