/* SPDX-License-Identifier: MIT */
/*
 * The AS configuration: schema and struct, shared by cyphonic-as and
 * cyphonic-admin (which reads the same file to find the store, the CA
 * and the VIP prefixes). Reference: docs/operations.md.
 */
#ifndef CYPHONIC_ASCONFIG_H
#define CYPHONIC_ASCONFIG_H

#include "runtime/config.h"
#include "runtime/log.h"

#include <stdbool.h>

struct cyph_as_config {
	struct cyph_cfg_addr listen;
	cyph_cfg_str domain;
	long long workers;
	long long max_connections;
	long long idle_timeout_ms;
	long long handshake_timeout_ms, request_timeout_ms;
	long long max_per_address;
	long long pw_workers, pw_queue, pw_cost;
	long long login_free, login_backoff_ms, login_max_backoff_ms, login_forget_ms;
	long long grace_ms;
	cyph_cfg_path tls_cert, tls_key;
	cyph_cfg_str tls_sans;
	bool tls_auto;
	cyph_cfg_path ca_cert, ca_key, crl;
	cyph_cfg_path policy;		/* [ca] policy: access policy file */
	bool ca_create;
	long long cert_lifetime_ms;
	long long crl_validity_ms;
	cyph_cfg_path store;		/* [store] path: SQLite */
	cyph_cfg_str store_pg;		/* [store] postgres: libpq conninfo or URI */
	struct cyph_prefix4 prefix4;
	struct cyph_prefix6 prefix6;
	bool vip_reuse;
	enum cyph_log_level log_level;
	bool http_enabled;
	struct cyph_cfg_addr http_listen;
};

extern const struct cyph_cfg_field cyph_as_config_fields[];
extern const size_t cyph_as_config_nfields;
/* Cross-field checks the schema cannot express. */
int cyph_as_config_validate(const struct cyph_as_config *c, const char *path, char *err,
			    size_t errlen);

/*
 * Opens the registry the config names ([store] path or postgres; the
 * config was validated, so exactly one is set). Errors never show a
 * password the connection string may hold.
 */
struct cyph_store;
struct cyph_store *cyph_as_store_open(const struct cyph_as_config *c, char *err, size_t errlen);
/* Did [store] change between two configs (a reload cannot apply it)? */
bool cyph_as_store_changed(const struct cyph_as_config *a, const struct cyph_as_config *b);

/* Also exposes the VIP pool the store needs. */
struct cyph_vip_pool;
void cyph_as_config_pool(const struct cyph_as_config *c, struct cyph_vip_pool *pool);

#endif
