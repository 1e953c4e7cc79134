// SPDX-License-Identifier: MIT
/* SQLite implementation of the AS registry (store.h). */
#include "store.h"
#include "store_impl.h"
#include "pki/cred.h"
#include "runtime/sslerr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct sq_store {
	struct cyph_store base;
	sqlite3 *db;
};

/*
 * Migrations, applied in order; PRAGMA user_version records how many ran.
 * Never edit a shipped migration: append a new one.
 */
static const char *const migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE principals ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"	/* ids are never reused */
	" name TEXT NOT NULL UNIQUE,"
	" role INTEGER NOT NULL CHECK (role IN (1, 2, 3)),"
	" adapter_id INTEGER REFERENCES principals(id) ON DELETE CASCADE,"
	" fqdn TEXT NOT NULL UNIQUE,"
	" vip4 BLOB UNIQUE CHECK (vip4 IS NULL OR length(vip4) = 4),"
	" vip6 BLOB UNIQUE CHECK (vip6 IS NULL OR length(vip6) = 16),"
	" pwhash TEXT NOT NULL DEFAULT '',"
	" mac BLOB CHECK (mac IS NULL OR length(mac) = 6),"
	" method INTEGER NOT NULL DEFAULT 0,"
	" ip_mode INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" CHECK ((role = 3) = (adapter_id IS NOT NULL)),"
	" UNIQUE (adapter_id, mac));"
	/* every VIP ever handed out: the 'never twice' guarantee */
	"CREATE TABLE vips_issued (addr BLOB PRIMARY KEY, principal_id INTEGER NOT NULL,"
	" issued INTEGER NOT NULL);"
	"CREATE TABLE vip_cursor (family INTEGER PRIMARY KEY, next INTEGER NOT NULL);"
	/* certificates outlive their principal: deleting a node revokes them */
	"CREATE TABLE certs (serial BLOB PRIMARY KEY, principal_id INTEGER NOT NULL,"
	" issued INTEGER NOT NULL, not_after INTEGER NOT NULL);"
	"CREATE INDEX certs_principal ON certs(principal_id);"
	"CREATE TABLE revocations (serial BLOB PRIMARY KEY, principal_id INTEGER NOT NULL,"
	" revoked_at INTEGER NOT NULL, not_after INTEGER NOT NULL);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int cyph_store_sqlite_schema_version(void)
{
	return NMIGRATIONS;
}

static int sq_fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
	return cyph_fail(err, errlen, "store: %s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		cyph_fail(err, errlen, "store: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	char sql[64];
	int v;

	if (exec(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	v = user_version(db);
	if (v < 0 || v > NMIGRATIONS) {
		exec(db, "ROLLBACK", NULL, 0);
		return cyph_fail(err, errlen, "store: schema version %d is newer than this "
				 "program (%d)", v, NMIGRATIONS);
	}
	for (; v < NMIGRATIONS; v++) {
		if (exec(db, migrations[v], err, errlen)) {
			exec(db, "ROLLBACK", NULL, 0);
			return -1;
		}
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", NMIGRATIONS);
	if (exec(db, sql, err, errlen) || exec(db, "COMMIT", err, errlen)) {
		exec(db, "ROLLBACK", NULL, 0);
		return -1;
	}
	return 0;
}

/* ---- rows ---- */

#define COLS "id, name, role, adapter_id, fqdn, vip4, vip6, pwhash, mac, method, " \
	     "ip_mode, revoked, created"

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
	snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static void row_to_principal(sqlite3_stmt *st, struct cyph_principal *p)
{
	memset(p, 0, sizeof(*p));
	p->id = (uint64_t)sqlite3_column_int64(st, 0);
	copy_text(p->name, sizeof(p->name), sqlite3_column_text(st, 1));
	p->role = (uint8_t)sqlite3_column_int(st, 2);
	p->adapter_id = (uint64_t)sqlite3_column_int64(st, 3);
	copy_text(p->fqdn, sizeof(p->fqdn), sqlite3_column_text(st, 4));
	if (sqlite3_column_bytes(st, 5) == 4) {
		memcpy(&p->vip4, sqlite3_column_blob(st, 5), 4);
		p->has_vip4 = true;
	}
	if (sqlite3_column_bytes(st, 6) == 16) {
		memcpy(&p->vip6, sqlite3_column_blob(st, 6), 16);
		p->has_vip6 = true;
	}
	copy_text(p->pwhash, sizeof(p->pwhash), sqlite3_column_text(st, 7));
	if (sqlite3_column_bytes(st, 8) == 6)
		memcpy(p->mac, sqlite3_column_blob(st, 8), 6);
	p->method = (uint8_t)sqlite3_column_int(st, 9);
	p->ip_mode = (uint8_t)sqlite3_column_int(st, 10);
	p->revoked = sqlite3_column_int(st, 11) != 0;
	p->created = sqlite3_column_int64(st, 12);
}

/* Runs a prepared SELECT expecting at most one principal. 0 / 1 / -1. */
static int fetch_one(sqlite3 *db, sqlite3_stmt *st, struct cyph_principal *out,
		     char *err, size_t errlen)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		row_to_principal(st, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 1;
	} else {
		rc = sq_fail(db, err, errlen, "lookup");
	}
	sqlite3_finalize(st);
	return rc;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sq_fail(db, err, errlen, "prepare");
		return NULL;
	}
	return st;
}

static int sq_get_by_name(struct cyph_store *s, const char *name, struct cyph_principal *out,
			  char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	sqlite3_stmt *st = prep(db, "SELECT " COLS " FROM principals WHERE name = ?", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	return fetch_one(db, st, out, err, errlen);
}

static int sq_get_by_id(struct cyph_store *s, uint64_t id, struct cyph_principal *out,
			char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	sqlite3_stmt *st = prep(db, "SELECT " COLS " FROM principals WHERE id = ?", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	return fetch_one(db, st, out, err, errlen);
}

static int sq_get_gnode_by_mac(struct cyph_store *s, uint64_t adapter_id, const uint8_t mac[6],
			       struct cyph_principal *out, char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	sqlite3_stmt *st = prep(db, "SELECT " COLS " FROM principals WHERE adapter_id = ? "
				"AND mac = ?", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)adapter_id);
	sqlite3_bind_blob(st, 2, mac, 6, SQLITE_TRANSIENT);
	return fetch_one(db, st, out, err, errlen);
}

static int sq_list(struct cyph_store *s, uint8_t role, uint64_t adapter_id,
		   cyph_principal_cb cb, void *arg, char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	sqlite3_stmt *st = prep(db, "SELECT " COLS " FROM principals WHERE (?1 = 0 OR role = ?1) "
				"AND (?2 = 0 OR adapter_id = ?2) ORDER BY id", err, errlen);
	struct cyph_principal p;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, role);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)adapter_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_principal(st, &p);
		if (cb(&p, arg))
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return sq_fail(db, err, errlen, "list");
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- VIP allocation ---- */

static int step_done(sqlite3 *db, sqlite3_stmt *st, char *err, size_t errlen, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sq_fail(db, err, errlen, what);
	return 0;
}

static int64_t cursor_get(sqlite3 *db, int family)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 1;

	if (sqlite3_prepare_v2(db, "SELECT next FROM vip_cursor WHERE family = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int(st, 1, family);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int cursor_set(sqlite3 *db, int family, int64_t next, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, "INSERT OR REPLACE INTO vip_cursor(family, next) "
				"VALUES (?, ?)", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, family);
	sqlite3_bind_int64(st, 2, next);
	return step_done(db, st, err, errlen, "vip cursor");
}

/* Is addr taken? issued table (never reuse) or, with reuse, live principals. */
static int addr_taken(sqlite3 *db, const uint8_t *addr, int alen, bool reuse)
{
	const char *sql = reuse ?
		(alen == 4 ? "SELECT 1 FROM principals WHERE vip4 = ?" :
			     "SELECT 1 FROM principals WHERE vip6 = ?") :
		"SELECT 1 FROM vips_issued WHERE addr = ?";
	sqlite3_stmt *st = NULL;
	int taken;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_blob(st, 1, addr, alen, SQLITE_TRANSIENT);
	taken = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return taken;
}

static int alloc_vip(sqlite3 *db, const uint8_t *prefix, int alen, int plen, bool reuse,
		     uint8_t *out, char *err, size_t errlen)
{
	int family = alen == 4 ? 4 : 6;
	uint64_t limit = cyph_store_host_count(alen, plen);
	int64_t cur = cursor_get(db, family);
	bool wrapped = false;

	if (cur < 0)
		return sq_fail(db, err, errlen, "vip cursor");
	for (uint64_t off = (uint64_t)cur;; off++) {
		int t;

		if (off >= limit) {
			if (!reuse || wrapped)
				return cyph_fail(err, errlen, "IPv%d VIP pool exhausted "
						 "(released VIPs are not reused)", family);
			wrapped = true;
			off = 1;
		}
		cyph_store_addr_at(prefix, alen, off, out);
		t = addr_taken(db, out, alen, reuse);
		if (t < 0)
			return sq_fail(db, err, errlen, "vip lookup");
		if (!t)
			return cursor_set(db, family, (int64_t)off + 1, err, errlen);
	}
}

static int record_vip(sqlite3 *db, const uint8_t *addr, int alen, uint64_t id,
		      char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, "INSERT OR REPLACE INTO vips_issued(addr, principal_id, issued)"
				" VALUES (?, ?, ?)", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, addr, alen, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	return step_done(db, st, err, errlen, "record vip");
}

static int assign_vips(sqlite3 *db, struct cyph_principal *p, const struct cyph_vip_pool *pool,
		       char *err, size_t errlen)
{
	bool want4 = p->ip_mode == CYPH_IP_V4 || p->ip_mode == CYPH_IP_DUAL;
	bool want6 = p->ip_mode == CYPH_IP_V6 || p->ip_mode == CYPH_IP_DUAL;

	if (want4 && pool->v4.len) {
		if (alloc_vip(db, (const uint8_t *)&pool->v4.addr, 4, pool->v4.len,
			      pool->allow_reuse, (uint8_t *)&p->vip4, err, errlen))
			return -1;
		p->has_vip4 = true;
	} else if (want4 && p->ip_mode == CYPH_IP_V4) {
		return cyph_fail(err, errlen, "no IPv4 VIP prefix configured");
	}
	if (want6 && pool->v6.len) {
		if (alloc_vip(db, pool->v6.addr.s6_addr, 16, pool->v6.len,
			      pool->allow_reuse, p->vip6.s6_addr, err, errlen))
			return -1;
		p->has_vip6 = true;
	} else if (want6 && p->ip_mode == CYPH_IP_V6) {
		return cyph_fail(err, errlen, "no IPv6 VIP prefix configured");
	}
	return 0;
}

static void bind_principal(sqlite3_stmt *st, const struct cyph_principal *p)
{
	static const uint8_t zero_mac[6];

	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, p->role);
	if (p->adapter_id)
		sqlite3_bind_int64(st, 3, (sqlite3_int64)p->adapter_id);
	sqlite3_bind_text(st, 4, p->fqdn, -1, SQLITE_TRANSIENT);
	if (p->has_vip4)
		sqlite3_bind_blob(st, 5, &p->vip4, 4, SQLITE_TRANSIENT);
	if (p->has_vip6)
		sqlite3_bind_blob(st, 6, &p->vip6, 16, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, p->pwhash, -1, SQLITE_TRANSIENT);
	if (p->role == CYPH_ROLE_GENERAL && memcmp(p->mac, zero_mac, 6))
		sqlite3_bind_blob(st, 8, p->mac, 6, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 9, p->method);
	sqlite3_bind_int(st, 10, p->ip_mode);
	sqlite3_bind_int64(st, 11, p->created);
}

static int insert_principal(sqlite3 *db, struct cyph_principal *p, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO principals(name, role, adapter_id, fqdn, vip4, "
				"vip6, pwhash, mac, method, ip_mode, created) "
				"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", err, errlen);
	int rc;

	if (!st)
		return -1;
	bind_principal(st, p);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return cyph_fail(err, errlen, "'%s' conflicts with an existing entry (%s)",
				 p->name, sqlite3_errmsg(db));
	if (rc != SQLITE_DONE)
		return sq_fail(db, err, errlen, "insert");
	p->id = (uint64_t)sqlite3_last_insert_rowid(db);
	return 0;
}

static int sq_add(struct cyph_store *s, struct cyph_principal *p, const char *domain,
		  const struct cyph_vip_pool *pool, char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;

	if (cyph_store_check_new(p, domain, err, errlen))
		return -1;
	snprintf(p->fqdn, sizeof(p->fqdn), "%s.%s", p->name, domain);
	p->has_vip4 = p->has_vip6 = false;
	p->created = time(NULL);
	if (exec(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	if (assign_vips(db, p, pool, err, errlen) || insert_principal(db, p, err, errlen) ||
	    (p->has_vip4 && record_vip(db, (uint8_t *)&p->vip4, 4, p->id, err, errlen)) ||
	    (p->has_vip6 && record_vip(db, p->vip6.s6_addr, 16, p->id, err, errlen)) ||
	    exec(db, "COMMIT", err, errlen)) {
		exec(db, "ROLLBACK", NULL, 0);
		return -1;
	}
	return 0;
}

/* ---- certificates and revocation ---- */

static int sq_cert_issued(struct cyph_store *s, uint64_t id, const uint8_t *serial,
			  size_t serial_len, int64_t issued, int64_t not_after,
			  char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	sqlite3_stmt *st = prep(db, "INSERT INTO certs(serial, principal_id, issued, not_after) "
				"VALUES (?, ?, ?, ?)", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, serial, (int)serial_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 3, issued);
	sqlite3_bind_int64(st, 4, not_after);
	return step_done(db, st, err, errlen, "record certificate");
}

static int revoke_certs_of(sqlite3 *db, uint64_t id, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, "INSERT OR IGNORE INTO revocations(serial, principal_id, "
				"revoked_at, not_after) SELECT serial, principal_id, ?, not_after "
				"FROM certs WHERE principal_id = ? AND not_after > ?", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
	sqlite3_bind_int64(st, 3, now);
	return step_done(db, st, err, errlen, "revoke certificates");
}

/* Revokes id and, for an adapter, its general nodes (their certs too). */
static int revoke_tree(sqlite3 *db, uint64_t id, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *st = prep(db, "UPDATE principals SET revoked = 1 WHERE id = ?1 OR "
				"adapter_id = ?1", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	if (step_done(db, st, err, errlen, "revoke") || revoke_certs_of(db, id, now, err, errlen))
		return -1;
	st = prep(db, "INSERT OR IGNORE INTO revocations(serial, principal_id, revoked_at, "
		  "not_after) SELECT c.serial, c.principal_id, ?1, c.not_after FROM certs c "
		  "JOIN principals p ON p.id = c.principal_id WHERE p.adapter_id = ?2 "
		  "AND c.not_after > ?1", err, errlen);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
	return step_done(db, st, err, errlen, "revoke general nodes");
}

static int sq_revoke_principal(struct cyph_store *s, uint64_t id, int64_t now,
			       char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	struct cyph_principal p;
	int rc;

	if (exec(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	rc = sq_get_by_id(s, id, &p, err, errlen);
	if (rc == 0)
		rc = revoke_tree(db, id, now, err, errlen);
	if (rc < 0 || exec(db, "COMMIT", err, errlen)) {
		exec(db, "ROLLBACK", NULL, 0);
		return -1;
	}
	return rc;
}

static int sq_del(struct cyph_store *s, uint64_t id, char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	sqlite3_stmt *st;
	struct cyph_principal p;
	int rc;

	if (exec(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	rc = sq_get_by_id(s, id, &p, err, errlen);
	/* a deleted node's certificates must stop working too */
	if (rc == 0)
		rc = revoke_tree(db, id, time(NULL), err, errlen);
	if (rc == 0) {
		st = prep(db, "DELETE FROM principals WHERE id = ?", err, errlen);
		if (!st)
			rc = -1;
		else {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
			rc = step_done(db, st, err, errlen, "delete");
		}
	}
	if (rc < 0 || exec(db, "COMMIT", err, errlen)) {
		exec(db, "ROLLBACK", NULL, 0);
		return -1;
	}
	return rc;
}

static int sq_revoke_serial(struct cyph_store *s, const uint8_t *serial, size_t len,
			    int64_t now, char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	sqlite3_stmt *st = prep(db, "INSERT OR IGNORE INTO revocations(serial, principal_id, "
				"revoked_at, not_after) SELECT serial, principal_id, ?, not_after "
				"FROM certs WHERE serial = ?", err, errlen);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_blob(st, 2, serial, (int)len, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_fail(db, err, errlen, "revoke serial");
	st = prep(db, "SELECT 1 FROM revocations WHERE serial = ?", err, errlen);
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, serial, (int)len, SQLITE_TRANSIENT);
	rc = sqlite3_step(st) == SQLITE_ROW ? 0 : 1;
	sqlite3_finalize(st);
	return rc;
}

static int sq_list_revoked(struct cyph_store *s, int64_t now, cyph_revoked_cb cb, void *arg,
			   char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	sqlite3_stmt *st = prep(db, "SELECT serial, revoked_at, principal_id FROM revocations "
				"WHERE not_after > ? ORDER BY serial", err, errlen);
	struct cyph_revoked r;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_bytes(st, 0);

		memset(&r, 0, sizeof(r));
		if (n <= 0 || n > 20)
			continue;
		memcpy(r.serial, sqlite3_column_blob(st, 0), (size_t)n);
		r.serial_len = (size_t)n;
		r.revoked_at = sqlite3_column_int64(st, 1);
		r.principal_id = (uint64_t)sqlite3_column_int64(st, 2);
		if (cb(&r, arg))
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_fail(db, err, errlen, "list revocations");
	return 0;
}

static int sq_set_password(struct cyph_store *s, uint64_t id, const char *pwhash,
			   char *err, size_t errlen)
{
	sqlite3 *db = ((struct sq_store *)s)->db;
	sqlite3_stmt *st = prep(db, "UPDATE principals SET pwhash = ? WHERE id = ?", err, errlen);

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, pwhash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)id);
	if (step_done(db, st, err, errlen, "set password"))
		return -1;
	return sqlite3_changes(db) ? 0 : 1;
}

static void sq_close(struct cyph_store *s)
{
	struct sq_store *q = (struct sq_store *)s;

	sqlite3_close(q->db);
	free(q);
}

static const struct cyph_store_ops sq_ops = {
	.close = sq_close,
	.add = sq_add,
	.get_by_name = sq_get_by_name,
	.get_by_id = sq_get_by_id,
	.get_gnode_by_mac = sq_get_gnode_by_mac,
	.list = sq_list,
	.del = sq_del,
	.set_password = sq_set_password,
	.cert_issued = sq_cert_issued,
	.revoke_principal = sq_revoke_principal,
	.revoke_serial = sq_revoke_serial,
	.list_revoked = sq_list_revoked,
};

/*
 * The registry holds password hashes: a new database file is created 0600
 * whatever the umask (SQLite would create it 0644 & ~umask). SQLite gives
 * the -wal, -shm and -journal files the database file's mode, so they
 * follow. An existing database readable by others (made by an older
 * version) loses those bits; group bits an admin chose are kept.
 */
static int make_private(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (!*path || !strcmp(path, ":memory:"))
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cyph_fail(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) ||
	    (S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO) &&
	     fchmod(fd, st.st_mode & 0770))) {
		int e = errno;

		close(fd);
		return cyph_fail(err, errlen, "%s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

struct cyph_store *cyph_store_open_sqlite(const char *path, char *err, size_t errlen)
{
	struct sq_store *q = calloc(1, sizeof(*q));

	if (!q) {
		cyph_fail(err, errlen, "out of memory");
		return NULL;
	}
	q->base.ops = &sq_ops;
	if (make_private(path, err, errlen))
		goto fail;
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		cyph_fail(err, errlen, "%s: %s", path, q->db ? sqlite3_errmsg(q->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(q->db, 5000);
	if (exec(q->db, "PRAGMA journal_mode = WAL", err, errlen) ||
	    exec(q->db, "PRAGMA foreign_keys = ON", err, errlen) ||
	    exec(q->db, "PRAGMA synchronous = NORMAL", err, errlen) ||
	    migrate(q->db, err, errlen)) {
		size_t l = strlen(err);

		if (l + strlen(path) + 3 < errlen) {
			memmove(err + strlen(path) + 2, err, l + 1);
			memcpy(err, path, strlen(path));
			memcpy(err + strlen(path), ": ", 2);
		}
		goto fail;
	}
	return &q->base;
fail:
	sqlite3_close(q->db);
	free(q);
	return NULL;
}
