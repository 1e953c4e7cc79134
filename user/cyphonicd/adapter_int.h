/* SPDX-License-Identifier: MIT */
/* What the adapter_*.c files share: one general node, the sync job. */
#ifndef CYPHONICD_ADAPTER_INT_H
#define CYPHONICD_ADAPTER_INT_H

#include "stores/store.h"
#include "cyphonicd.h"

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
};

/* One general node of a GN_LIST answer and what its GN_AUTH gave. */
struct cyd_gn_result {
	struct cyph_principal p;
	int rc;				/* 0, an AS error code (> 0), -1 transport/local */
	bool fresh;			/* cred is new (else the one held is kept) */
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
	/* out */
	int rc;				/* of the adapter's login and the list */
	char err[512];
	struct cyd_gn_result *gns;
	size_t n;
};

/* adapter_sync.c, on the worker thread: login, GN_LIST, GN_AUTH each. */
void cyd_adapter_sync_work(void *arg);
void cyd_adapter_sync_free(struct cyd_adapter_sync *job);

/* adapter_lan.c: the LAN side of one general node (route to its VIP). */
int cyd_adapter_lan_up(struct cyd_adapter *a, char *err, size_t errlen);
void cyd_adapter_lan_down(struct cyd_adapter *a);
int cyd_adapter_lan_gn(struct cyd_adapter *a, struct cyd_gn *g, bool add);

/* adapter_dhcp.c: dnsmasq, its hosts file from the table. */
int cyd_adapter_dhcp_start(struct cyd_adapter *a, char *err, size_t errlen);
void cyd_adapter_dhcp_update(struct cyd_adapter *a);
void cyd_adapter_dhcp_stop(struct cyd_adapter *a);

/* adapter_nft.c: the LAN guard (its own nftables table), admitted sets. */
int cyd_adapter_nft_start(struct cyd_adapter *a, char *err, size_t errlen);
void cyd_adapter_nft_update(struct cyd_adapter *a);
void cyd_adapter_nft_stop(struct cyd_adapter *a);

#endif
