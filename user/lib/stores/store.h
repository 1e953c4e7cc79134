/* SPDX-License-Identifier: MIT */
/*
 * The AS registry behind an interface: the embedded SQLite store
 * (store_sqlite.c, the default) or PostgreSQL (store_pg.c), which AS
 * replicas share.
 *
 * One table of principals holds nodes, adapters and general nodes (a
 * general node belongs to an adapter). Names are unique across all
 * principals, since FQDN = <name>.<domain>. VIPs are allocated by the
 * store, inside the same transaction as the insert: sequentially from the
 * configured prefixes, and every address ever handed out is remembered,
 * so a released VIP is not handed out again for the lifetime of the store
 * unless the pool allows reuse.
 *
 * Every function returns 0 on success and -1 with a message in err;
 * lookups return 1 when not found. Stores are not thread-safe: one
 * connection per thread (open one store per worker).
 */
#ifndef CYPHONIC_STORE_H
#define CYPHONIC_STORE_H

#include "runtime/config.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CYPH_NAME_MAX 64	/* incl. NUL; names are DNS labels */

enum cyph_gn_method { CYPH_GN_BASIC = 1, CYPH_GN_MAC = 2, CYPH_GN_8021X = 3 };
enum cyph_ip_mode { CYPH_IP_V4 = 4, CYPH_IP_V6 = 6, CYPH_IP_DUAL = 46 };

struct cyph_principal {
	uint64_t id;
	char name[CYPH_NAME_MAX];
	uint8_t role;			/* enum cyph_role (cred.h) */
	uint64_t adapter_id;		/* general nodes only */
	char fqdn[256];
	struct in_addr vip4;
	struct in6_addr vip6;
	bool has_vip4, has_vip6;
	char pwhash[128];		/* "" when none (MAC / 802.1X) */
	uint8_t mac[6];			/* general nodes */
	uint8_t method;			/* enum cyph_gn_method, general nodes */
	uint8_t ip_mode;		/* enum cyph_ip_mode */
	bool revoked;
	int64_t created;
};

struct cyph_vip_pool {
	struct cyph_prefix4 v4;		/* len 0: no IPv4 VIPs */
	struct cyph_prefix6 v6;		/* len 0: no IPv6 VIPs */
	bool allow_reuse;		/* hand out released VIPs again */
};

struct cyph_revoked {
	uint8_t serial[20];
	size_t serial_len;
	int64_t revoked_at;
	uint64_t principal_id;
};

typedef int (*cyph_principal_cb)(const struct cyph_principal *p, void *arg);
typedef int (*cyph_revoked_cb)(const struct cyph_revoked *r, void *arg);

struct cyph_store;

struct cyph_store_ops {
	void (*close)(struct cyph_store *s);
	/*
	 * Inserts p (name, role, adapter_id, pwhash, mac, method, ip_mode),
	 * assigning id, fqdn (name.domain) and VIPs per ip_mode from pool.
	 */
	int (*add)(struct cyph_store *s, struct cyph_principal *p, const char *domain,
		   const struct cyph_vip_pool *pool, char *err, size_t errlen);
	int (*get_by_name)(struct cyph_store *s, const char *name, struct cyph_principal *out,
			   char *err, size_t errlen);
	int (*get_by_id)(struct cyph_store *s, uint64_t id, struct cyph_principal *out,
			 char *err, size_t errlen);
	int (*get_gnode_by_mac)(struct cyph_store *s, uint64_t adapter_id, const uint8_t mac[6],
				struct cyph_principal *out, char *err, size_t errlen);
	/* role 0: all; adapter_id 0: any. Stops early if cb returns non-zero. */
	int (*list)(struct cyph_store *s, uint8_t role, uint64_t adapter_id,
		    cyph_principal_cb cb, void *arg, char *err, size_t errlen);
	/* Deletes a principal (an adapter's general nodes with it). 1: not found. */
	int (*del)(struct cyph_store *s, uint64_t id, char *err, size_t errlen);
	int (*set_password)(struct cyph_store *s, uint64_t id, const char *pwhash,
			    char *err, size_t errlen);
	/* Remembers an issued certificate (for revocation by principal). */
	int (*cert_issued)(struct cyph_store *s, uint64_t id, const uint8_t *serial,
			   size_t serial_len, int64_t issued, int64_t not_after,
			   char *err, size_t errlen);
	/*
	 * Marks the principal revoked (authentication refused from now on)
	 * and revokes its certificates still valid at now. 1: not found.
	 */
	int (*revoke_principal)(struct cyph_store *s, uint64_t id, int64_t now,
				char *err, size_t errlen);
	/* Revokes one certificate by serial. 1: serial never issued here. */
	int (*revoke_serial)(struct cyph_store *s, const uint8_t *serial, size_t len,
			     int64_t now, char *err, size_t errlen);
	/* Revoked certificates not yet expired at now (the CRL content). */
	int (*list_revoked)(struct cyph_store *s, int64_t now, cyph_revoked_cb cb, void *arg,
			    char *err, size_t errlen);
};

struct cyph_store {
	const struct cyph_store_ops *ops;
};

/*
 * Opens (creating and migrating as needed) the SQLite store at path: WAL
 * mode, foreign keys on, a 5 s busy timeout so the CLI and the AS can
 * write the same file.
 */
struct cyph_store *cyph_store_open_sqlite(const char *path, char *err, size_t errlen);
/* Schema version the code expects (the migrations it knows). */
int cyph_store_sqlite_schema_version(void);

/*
 * Opens (creating and migrating as needed) the PostgreSQL store a libpq
 * connection string names: "host=/run/postgresql dbname=cyphonic" or
 * "postgresql://user@db.example/cyphonic". Replicas may share it. Error
 * messages name the host, port, database and user, never the password.
 */
struct cyph_store *cyph_store_open_pg(const char *conninfo, char *err, size_t errlen);
int cyph_store_pg_schema_version(void);

/*
 * Opens a store from a spec: "sqlite:PATH" or a plain path (SQLite, the
 * default); "postgresql://..." or "postgres://..." (a libpq URI, passed
 * whole), or "postgres:CONNINFO" / "postgresql:CONNINFO" (a libpq
 * key=value connection string).
 */
struct cyph_store *cyph_store_open(const char *spec, char *err, size_t errlen);

static inline void cyph_store_close(struct cyph_store *s)
{
	if (s)
		s->ops->close(s);
}

/* Names: DNS label, [a-z0-9-], 1..63, no leading/trailing '-'. */
bool cyph_name_valid(const char *name);
/* "aa:bb:cc:dd:ee:ff" <-> bytes. */
int cyph_mac_parse(const char *s, uint8_t mac[6]);
void cyph_mac_format(const uint8_t mac[6], char out[18]);
const char *cyph_gn_method_name(uint8_t m);
uint8_t cyph_gn_method_parse(const char *s);	/* 0 if unknown */
const char *cyph_ip_mode_name(uint8_t m);
uint8_t cyph_ip_mode_parse(const char *s);	/* 0 if unknown */

#endif
