/* SPDX-License-Identifier: MIT */
/* cyphonic-trs daemon internals: configuration, metrics, worker threads. */
#ifndef CYPHONIC_TRSD_H
#define CYPHONIC_TRSD_H

#include <pthread.h>
#include <stdbool.h>
#include "kv/kvconfig.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "trs.h"

struct trsd_config {
	struct cyph_cfg_addr listen4, listen6;
	long long threads;
	bool share_port;
	long long idle_ms, skew_ms, grace_ms;
	long long rate, burst, max_sessions, error_rate;
	cyph_cfg_path relay_key_file;
	long long key_overlap_ms;
	cyph_cfg_path ca_cert, crl;		/* [ca]: optional, both or neither */
	long long crl_poll_ms;
	enum cyph_log_level log_level;
	bool http_enabled;
	struct cyph_cfg_addr http_listen;
	struct cyph_kv_config kv;	/* [store]: Redis shared by replicas */
};

extern const struct cyph_cfg_field trsd_config_fields[];
extern const size_t trsd_config_nfields;
int trsd_config_apply(const struct trsd_config *c, const char *path,
		      struct trs_config *out, char *err, size_t errlen);

/* One forwarding thread with its own IPv4/IPv6 sockets (SO_REUSEPORT). */
struct trsd_worker {
	pthread_t thread;
	int fd4, fd6, ep;
	struct trs *trs;
	_Atomic bool *stop;
	uint32_t error_rate;
	int claim[2];		/* w[0] only: the port claims (io.c), or -1 */
	struct trs_stats stats;
};

/* Opens the sockets of n workers on the same ports; -1 with err. */
int trsd_workers_open(struct trsd_worker *w, size_t n,
		      const struct trsd_config *c, char *err, size_t errlen);
int trsd_workers_start(struct trsd_worker *w, size_t n);
void trsd_workers_join(struct trsd_worker *w, size_t n);

int trsd_metrics_init(void);
void trsd_metrics_sync(struct trs *t, const struct trsd_worker *w, size_t n,
		       bool draining);
void trsd_metrics_ctrl_latency(uint64_t start_ns);
struct trs_sync_stats;
void trsd_metrics_store(const struct trs_sync_stats *s);	/* [store] redis */
void trsd_metrics_reload(bool ok);

/*
 * The CRL ([ca] cert, crl): loads the CA and CRL (NULL with err when
 * configured and unreadable; NULL and no err when not configured) and
 * hands the CRL's revoked node ids to t.
 */
struct cyph_ca;
struct cyph_ca *trsd_crl_load(const struct trsd_config *c, struct trs *t, char *err,
			      size_t errlen);
/* Re-reads the CRL if it changed (timer); logs the outcome. */
void trsd_crl_poll(struct cyph_ca *ca, struct trs *t);

#endif
