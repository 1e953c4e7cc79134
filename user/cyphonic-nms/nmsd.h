/* SPDX-License-Identifier: MIT */
/* cyphonic-nms daemon internals: configuration and metrics. */
#ifndef CYPHONIC_NMSD_H
#define CYPHONIC_NMSD_H

#include <stdbool.h>
#include "kv/kvconfig.h"
#include "runtime/config.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "nms.h"

struct nmsd_config {
	struct cyph_cfg_addr listen4, listen6, mapping_listen;
	long long lifetime_ms, keepalive_ms, skew_ms;
	long long max_registrations, error_rate;
	long long notify_rto_ms, notify_tries;
	long long route_rate, route_burst, relay_rate, relay_burst, notify_per_node;
	long long register_rate, register_burst, cookie_load, cookie_rate;
	long long verify_workers, verify_queue;
	long long grace_ms;
	cyph_cfg_path key, cert;
	struct cyph_cfg_addr renew_as;
	cyph_cfg_str renew_server_name, renew_name;
	cyph_cfg_path renew_password_file;
	cyph_cfg_path ca_cert, crl;
	long long crl_poll_ms;
	struct cyph_cfg_addr relay4, relay6;
	cyph_cfg_path relay_key_file;
	long long relay_ttl_ms;
	enum cyph_log_level log_level;
	bool http_enabled;
	struct cyph_cfg_addr http_listen;
	struct cyph_kv_config kv;	/* [store]: Redis shared by replicas */
};

extern const struct cyph_cfg_field nmsd_config_fields[];
extern const size_t nmsd_config_nfields;
/* Cross-field checks; fills the engine config (relay key read here). */
int nmsd_config_apply(const struct nmsd_config *c, const char *path,
		      struct nms_config *out, char *err, size_t errlen);

/* Metrics: created once, synchronised from the engine's counters. */
int nmsd_metrics_init(void);
void nmsd_metrics_sync(const struct nms *n, bool draining, uint64_t send_dropped);
void nmsd_metrics_latency(uint8_t op, uint64_t start_ns);
void nmsd_metrics_reload(bool ok);
/* Seconds until the NMS certificate expires (negative: expired). */
void nmsd_metrics_identity(int64_t seconds_left);
/* A renewal of the NMS certificate ended (renew.c). */
void nmsd_metrics_renewal(bool ok);
/* Full REGISTERs queued for or on the worker threads. */
void nmsd_metrics_verify_queue(size_t depth);
/*
 * Datagrams the kernel dropped at the NMS's full receive queues: the
 * session sockets' and the full-REGISTER sockets' (a split port).
 */
void nmsd_metrics_rx_drops(uint64_t session, uint64_t reg);

/*
 * Checks the NMS credential (identity.c): cert issued by the CA, valid at
 * now (Unix seconds), not revoked, a node certificate with a DNS name,
 * matching key. Sets *not_after; -1 with err naming what is wrong.
 */
struct cyph_ca;
int nmsd_identity_check(struct cyph_ca *ca, EVP_PKEY *key, const uint8_t *cert, size_t len,
			int64_t now, int64_t *not_after, char *err, size_t errlen);

/*
 * Self-renewal of the NMS certificate (renew.c). apply runs on the loop's
 * thread with the new key and certificate: 0 when they are in use, or -1
 * with err (then the renewal counts as failed and is retried).
 */
struct cyph_loop;
struct cyph_as_credential;
typedef int (*nmsd_renew_apply_fn)(void *arg, EVP_PKEY *key, const uint8_t *cert, size_t len,
				   char *err, size_t errlen);
struct nmsd_renewer;
struct nmsd_renewer *nmsd_renewer_new(struct cyph_loop *loop, nmsd_renew_apply_fn apply,
				      void *arg);
void nmsd_renewer_free(struct nmsd_renewer *r);
/* The certificate in use ends at not_after_s: next renewal at 2/3 of what is left. */
void nmsd_renewer_plan(struct nmsd_renewer *r, int64_t now_ms, int64_t not_after_s);
/* From the loop's timer: starts a login on the renewer's thread when due. */
void nmsd_renewer_tick(struct nmsd_renewer *r, const struct nmsd_config *c, int64_t now_ms);
/* The blocking login itself (any thread): a fresh key and its certificate. */
int nmsd_renew_login(const struct nmsd_config *c, EVP_PKEY **key,
		     struct cyph_as_credential *cred, char *err, size_t errlen);

#endif
