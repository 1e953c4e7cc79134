// SPDX-License-Identifier: MIT
/* The AS configuration schema (docs/operations.md lists it). */
#include "asconfig.h"
#include "stores/store.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define F(...) CYPH_CFG_FIELD(struct cyph_as_config, __VA_ARGS__)

const struct cyph_cfg_field cyph_as_config_fields[] = {
	F("as", "listen", ADDR, listen, false, "0.0.0.0:7443", 0, 0,
	  "TLS listen address"),
	F("as", "domain", STR, domain, true, NULL, 0, 0,
	  "CYPHONIC domain: FQDN = <name>.<domain>"),
	F("as", "workers", INT, workers, false, "2", 1, 64,
	  "threads for requests without a password (general-node lists, MAC and 802.1X admissions)"),
	F("as", "max_connections", INT, max_connections, false, "1024", 1, 100000,
	  "concurrent TLS connections; more are refused"),
	F("as", "idle_timeout", DURATION_MS, idle_timeout_ms, false, "30s", 100, 3600000,
	  "close a connection that starts no request this long after its last answer"),
	F("as", "handshake_timeout", DURATION_MS, handshake_timeout_ms, false, "10s", 100, 3600000,
	  "close a connection whose TLS handshake is not done this long after accept"),
	F("as", "request_timeout", DURATION_MS, request_timeout_ms, false, "10s", 100, 3600000,
	  "close a connection whose request is not whole this long after its first byte "
	  "(or whose answer is not read this long after it is ready); bytes trickling in "
	  "do not extend it"),
	F("as", "max_connections_per_address", INT, max_per_address, false, "32", 1, 100000,
	  "concurrent connections from one IPv4 address or IPv6 /64; more are closed at accept"),
	F("as", "password_workers", INT, pw_workers, false, "2", 1, 64,
	  "threads for password checks (their own queue: guessing cannot hold up signing)"),
	F("as", "password_queue", INT, pw_queue, false, "64", 1, 100000,
	  "password checks waiting or running at most; more are answered rate-limited"),
	F("as", "password_check_cost", INT, pw_cost, false, "600000", 1000, 100000000,
	  "KDF iterations every password check costs at least (unknown names, cheaper "
	  "hashes are padded to it); set to the highest --kdf-iterations in the registry"),
	F("as", "login_free_failures", INT, login_free, false, "5", 0, 1000000,
	  "failed logins per account and per address before backoff starts"),
	F("as", "login_backoff", DURATION_MS, login_backoff_ms, false, "1s", 1, 86400000,
	  "first backoff after the free failures; doubles with every further failure"),
	F("as", "login_max_backoff", DURATION_MS, login_max_backoff_ms, false, "60s", 1, 86400000,
	  "longest backoff: an account under attack gets one try per this long"),
	F("as", "login_forget", DURATION_MS, login_forget_ms, false, "15m", 1000, 604800000LL,
	  "failures are forgotten this long after the last one"),
	F("as", "grace_period", DURATION_MS, grace_ms, false, "10s", 0, 3600000,
	  "SIGTERM: time in-flight requests get before exit"),
	F("tls", "cert", PATH, tls_cert, true, NULL, 0, 0,
	  "server certificate chain (PEM)"),
	F("tls", "key", PATH, tls_key, true, NULL, 0, 0,
	  "server private key (PEM)"),
	F("tls", "auto_generate", BOOL, tls_auto, false, "true", 0, 0,
	  "issue cert/key from the CA at start-up when they do not exist"),
	F("tls", "names", STR, tls_sans, false, "DNS:localhost,IP:127.0.0.1,IP:::1", 0, 0,
	  "subjectAltNames of an auto-generated server certificate"),
	F("ca", "cert", PATH, ca_cert, true, NULL, 0, 0, "CA certificate (PEM)"),
	F("ca", "key", PATH, ca_key, true, NULL, 0, 0, "CA private key (PEM, mode 0600)"),
	F("ca", "create", BOOL, ca_create, false, "true", 0, 0,
	  "create the CA on first start when cert and key do not exist"),
	F("ca", "cert_lifetime", DURATION_MS, cert_lifetime_ms, false, "1h", 1000, 2592000000LL,
	  "lifetime of issued node certificates"),
	F("ca", "crl", PATH, crl, true, NULL, 0, 0,
	  "CRL file written on every revocation (NMS/TRS read it)"),
	F("ca", "policy", PATH, policy, false, NULL, 0, 0,
	  "access policy file (groups and rules; cyphonic-admin rule/group) written into "
	  "certificates; unset or missing: nodes and adapters reach each other, general nodes "
	  "nothing"),
	F("ca", "crl_validity", DURATION_MS, crl_validity_ms, false, "7d", 60000, 31536000000LL,
	  "nextUpdate of the CRL"),
	F("store", "path", PATH, store, false, NULL, 0, 0,
	  "registry in an embedded SQLite file (or sqlite:PATH), the default backend; "
	  "exactly one of path and postgres"),
	F("store", "postgres", STR, store_pg, false, NULL, 0, 0,
	  "registry on PostgreSQL, shared by AS replicas: a libpq connection string "
	  "(host=/run/postgresql dbname=cyphonic) or URI (postgresql://user@host/db); "
	  "keep a password in a passfile (passfile=, ~/.pgpass), not here"),
	F("vip", "prefix4", PREFIX4, prefix4, false, NULL, 0, 0,
	  "IPv4 VIP prefix, e.g. 10.77.0.0/16"),
	F("vip", "prefix6", PREFIX6, prefix6, false, NULL, 0, 0,
	  "IPv6 VIP prefix, e.g. fd00:77::/64"),
	F("vip", "allow_reuse", BOOL, vip_reuse, false, "false", 0, 0,
	  "hand out released VIPs again once the prefix is exhausted"),
	CYPH_CFG_OPS_FIELDS(struct cyph_as_config, "127.0.0.1:9101"),
};

const size_t cyph_as_config_nfields =
	sizeof(cyph_as_config_fields) / sizeof(cyph_as_config_fields[0]);

int cyph_as_config_validate(const struct cyph_as_config *c, const char *path, char *err,
			    size_t errlen)
{
	const char *d = c->domain;

	if (!path)
		path = "(command line)";
	if (!*d || strlen(d) > 180 || d[0] == '.' || d[strlen(d) - 1] == '.' ||
	    strspn(d, "abcdefghijklmnopqrstuvwxyz0123456789-.") != strlen(d)) {
		snprintf(err, errlen, "%s:0: [as] domain: '%s' is not a lower-case DNS name", path, d);
		return -1;
	}
	if (!*c->store == !*c->store_pg) {
		snprintf(err, errlen, "%s:0: [store] %s: set exactly one of path (SQLite) and "
			 "postgres (PostgreSQL)", path, *c->store ? "postgres" : "path");
		return -1;
	}
	if (!c->prefix4.len && !c->prefix6.len) {
		snprintf(err, errlen, "%s:0: [vip] prefix4: at least one of prefix4 and prefix6 "
			 "is required", path);
		return -1;
	}
	if ((c->prefix4.len && c->prefix4.len > 30) || (c->prefix6.len && c->prefix6.len > 126)) {
		snprintf(err, errlen, "%s:0: [vip] prefix: too small to hold VIPs", path);
		return -1;
	}
	return 0;
}

struct cyph_store *cyph_as_store_open(const struct cyph_as_config *c, char *err, size_t errlen)
{
	if (*c->store_pg)
		return cyph_store_open_pg(c->store_pg, err, errlen);
	return cyph_store_open(c->store, err, errlen);
}

bool cyph_as_store_changed(const struct cyph_as_config *a, const struct cyph_as_config *b)
{
	return strcmp(a->store, b->store) || strcmp(a->store_pg, b->store_pg);
}

void cyph_as_config_pool(const struct cyph_as_config *c, struct cyph_vip_pool *pool)
{
	pool->v4 = c->prefix4;
	pool->v6 = c->prefix6;
	pool->allow_reuse = c->vip_reuse;
}
