// SPDX-License-Identifier: MIT
/*
 * PostgreSQL implementation of the AS registry (store.h), for AS replicas
 * that share one registry. Same schema and semantics as store_sqlite.c.
 *
 * Concurrency: every write runs in a READ COMMITTED transaction. VIP
 * allocation locks the per-family row of vip_cursor (SELECT ... FOR
 * UPDATE), so two replicas allocating at once queue on that row: the
 * second reads the cursor the first committed and moves past it. The
 * UNIQUE constraints on vips_issued.addr and principals.vip4/vip6 are a
 * second line: a VIP can never be stored twice even if the lock were
 * bypassed. Dual-stack adds lock family 4 before 6, always, so two adds
 * cannot deadlock.
 *
 * Queries are parameterised (PQexecParams) with binary results; lists are
 * read in pages of PAGE rows (keyset pagination), so memory stays bounded
 * whatever the table size, and a callback may call the store again.
 * A dropped connection is re-established once, outside a transaction.
 */
#include "store.h"
#include "store_impl.h"
#include "pki/cred.h"
#include "runtime/sslerr.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE 256		/* rows per list round trip */
#define MAXARGS 12
#define STR_(x) #x
#define STR(x) STR_(x)

struct pg_store {
	struct cyph_store base;
	PGconn *conn;
	bool in_tx;
	char sqlstate[6];	/* of the last failed statement */
	char name[320];		/* the target without its password, for messages */
};

/*
 * Migrations, applied in order; the schema_version table records how many
 * ran. Never edit a shipped migration: append a new one. Each one is a
 * constant (no user data), run as a multi-statement PQexec.
 */
static const char *const migrations[] = {
	/* 1: initial schema (store_sqlite.c's, in PostgreSQL types) */
	"CREATE TABLE principals ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"	/* never reused */
	" name TEXT NOT NULL UNIQUE,"
	" role SMALLINT NOT NULL CHECK (role IN (1, 2, 3)),"
	" adapter_id BIGINT REFERENCES principals(id) ON DELETE CASCADE,"
	" fqdn TEXT NOT NULL UNIQUE,"
	" vip4 BYTEA UNIQUE CHECK (vip4 IS NULL OR length(vip4) = 4),"
	" vip6 BYTEA UNIQUE CHECK (vip6 IS NULL OR length(vip6) = 16),"
	" pwhash TEXT NOT NULL DEFAULT '',"
	" mac BYTEA CHECK (mac IS NULL OR length(mac) = 6),"
	" method SMALLINT NOT NULL DEFAULT 0,"
	" ip_mode SMALLINT NOT NULL,"
	" revoked BOOLEAN NOT NULL DEFAULT false,"
	" created BIGINT NOT NULL,"
	" CHECK ((role = 3) = (adapter_id IS NOT NULL)),"
	" UNIQUE (adapter_id, mac));"
	"CREATE INDEX principals_adapter ON principals(adapter_id);"
	/* every VIP ever handed out: the 'never twice' guarantee */
	"CREATE TABLE vips_issued (addr BYTEA PRIMARY KEY, principal_id BIGINT NOT NULL,"
	" issued BIGINT NOT NULL);"
	/* one row per family, locked by every allocation (see the top) */
	"CREATE TABLE vip_cursor (family SMALLINT PRIMARY KEY, next BIGINT NOT NULL);"
	"INSERT INTO vip_cursor(family, next) VALUES (4, 1), (6, 1);"
	/* certificates outlive their principal: deleting a node revokes them */
	"CREATE TABLE certs (serial BYTEA PRIMARY KEY, principal_id BIGINT NOT NULL,"
	" issued BIGINT NOT NULL, not_after BIGINT NOT NULL);"
	"CREATE INDEX certs_principal ON certs(principal_id);"
	"CREATE TABLE revocations (serial BYTEA PRIMARY KEY, principal_id BIGINT NOT NULL,"
	" revoked_at BIGINT NOT NULL, not_after BIGINT NOT NULL);",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Serialises migrations between AS replicas starting at once ("cyph"). */
#define MIGRATE_LOCK "1668905064"

int cyph_store_pg_schema_version(void)
{
	return NMIGRATIONS;
}

/* ---- errors ---- */

/* libpq's message on one line, without the trailing newline. */
static const char *one_line(const char *msg, char *buf, size_t cap)
{
	size_t j = 0;

	for (size_t i = 0; msg && msg[i] && j + 1 < cap; i++)
		buf[j++] = msg[i] == '\n' || msg[i] == '\t' ? ' ' : msg[i];
	while (j && buf[j - 1] == ' ')
		j--;
	buf[j] = 0;
	return buf;
}

/*
 * The server's message; its detail only for unique and foreign-key
 * violations ("Key (name)=(alice) already exists"): the detail of other
 * violations ("Failing row contains (...)") would show the password hash.
 */
static int pg_fail(struct pg_store *q, const PGresult *res, char *err, size_t errlen,
		   const char *what)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *detail = state && (!strcmp(state, "23505") || !strcmp(state, "23503")) ?
			     PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	char buf[512];

	if (!m)
		m = one_line(PQerrorMessage(q->conn), buf, sizeof(buf));
	return cyph_fail(err, errlen, "store %s: %s: %s%s%s", q->name, what, m,
			 detail ? " " : "", detail ? detail : "");
}

/* ---- statements ---- */

struct pg_args {
	int n;
	const char *v[MAXARGS];
	int len[MAXARGS];
	int fmt[MAXARGS];
	char num[MAXARGS][24];
};

static void arg_i64(struct pg_args *a, int64_t x)
{
	snprintf(a->num[a->n], sizeof(a->num[0]), "%lld", (long long)x);
	a->v[a->n] = a->num[a->n];
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

static void arg_text(struct pg_args *a, const char *s)
{
	a->v[a->n] = s;
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

/* bytea, sent in binary; NULL p: SQL NULL. */
static void arg_blob(struct pg_args *a, const void *p, size_t len)
{
	a->v[a->n] = p ? (len ? p : "") : NULL;
	a->len[a->n] = (int)len;
	a->fmt[a->n++] = 1;
}

static bool conn_lost(struct pg_store *q)
{
	return PQstatus(q->conn) == CONNECTION_BAD;
}

/*
 * Runs one statement. Returns its result (COMMAND_OK or TUPLES_OK; binary
 * columns), or NULL with err set and the SQLSTATE in q->sqlstate. A lost
 * connection is reset and the statement retried once, but only outside a
 * transaction (inside one, the transaction is gone: the caller fails).
 */
static PGresult *run(struct pg_store *q, const char *sql, const struct pg_args *a,
		     const char *what, char *err, size_t errlen)
{
	static const struct pg_args none;
	PGresult *res;
	const char *st;

	if (!a)
		a = &none;
	for (int attempt = 0;; attempt++) {
		if (conn_lost(q) && !q->in_tx)
			PQreset(q->conn);
		res = PQexecParams(q->conn, sql, a->n, NULL, a->v, a->len, a->fmt, 1);
		if (res && (PQresultStatus(res) == PGRES_COMMAND_OK ||
			    PQresultStatus(res) == PGRES_TUPLES_OK))
			return res;
		if (attempt || q->in_tx || !conn_lost(q))
			break;
		PQclear(res);
	}
	st = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(q->sqlstate, sizeof(q->sqlstate), "%s", st ? st : "");
	pg_fail(q, res, err, errlen, what);
	PQclear(res);
	return NULL;
}

/* A statement whose result is not needed. */
static int run_ok(struct pg_store *q, const char *sql, const struct pg_args *a,
		  const char *what, char *err, size_t errlen)
{
	PGresult *res = run(q, sql, a, what, err, errlen);

	PQclear(res);
	return res ? 0 : -1;
}

static int tx_begin(struct pg_store *q, char *err, size_t errlen)
{
	if (run_ok(q, "BEGIN", NULL, "begin", err, errlen))
		return -1;
	q->in_tx = true;
	return 0;
}

static int tx_commit(struct pg_store *q, char *err, size_t errlen)
{
	int rc = run_ok(q, "COMMIT", NULL, "commit", err, errlen);

	q->in_tx = false;
	return rc;
}

static void tx_rollback(struct pg_store *q)
{
	if (q->in_tx && !conn_lost(q))
		PQclear(PQexec(q->conn, "ROLLBACK"));
	q->in_tx = false;
}

/* Integers in binary results: int2, int4, int8 and bool, big-endian. */
static int64_t col_i64(const PGresult *r, int row, int col)
{
	const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
	int n = PQgetlength(r, row, col);
	uint64_t x = 0;

	if (PQgetisnull(r, row, col) || n <= 0 || n > 8)
		return 0;
	for (int i = 0; i < n; i++)
		x = x << 8 | v[i];
	if (n < 8 && (v[0] & 0x80))
		x |= ~(uint64_t)0 << (n * 8);
	return (int64_t)x;
}

static void col_text(const PGresult *r, int row, int col, char *dst, size_t cap)
{
	snprintf(dst, cap, "%s", PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* Copies a bytea column of exactly len bytes; false otherwise (NULL too). */
static bool col_blob(const PGresult *r, int row, int col, void *dst, int len)
{
	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != len)
		return false;
	memcpy(dst, PQgetvalue(r, row, col), (size_t)len);
	return true;
}

/* ---- schema ---- */

static int migrate(struct pg_store *q, char *err, size_t errlen)
{
	PGresult *res;
	int v;

	if (tx_begin(q, err, errlen) ||
	    run_ok(q, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")", NULL, "schema lock",
		   err, errlen))
		goto fail;
	/* look before creating: once migrated, the user needs no CREATE right */
	res = run(q, "SELECT to_regclass('schema_version') IS NOT NULL", NULL, "schema version",
		  err, errlen);
	if (!res)
		goto fail;
	v = (int)col_i64(res, 0, 0);
	PQclear(res);
	if (!v && run_ok(q, "CREATE TABLE schema_version (version INTEGER NOT NULL)", NULL,
			 "schema_version", err, errlen))
		goto fail;
	res = run(q, "SELECT version FROM schema_version", NULL, "schema version", err, errlen);
	if (!res)
		goto fail;
	v = PQntuples(res) ? (int)col_i64(res, 0, 0) : -1;
	PQclear(res);
	if (v < 0 && run_ok(q, "INSERT INTO schema_version(version) VALUES (0)", NULL,
			    "schema version", err, errlen))
		goto fail;
	if (v < 0)
		v = 0;
	if (v > NMIGRATIONS) {
		cyph_fail(err, errlen, "store %s: schema version %d is newer than this program (%d)",
			  q->name, v, NMIGRATIONS);
		goto fail;
	}
	for (; v < NMIGRATIONS; v++) {
		res = PQexec(q->conn, migrations[v]);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pg_fail(q, res, err, errlen, "migration");
			PQclear(res);
			goto fail;
		}
		PQclear(res);
	}
	{
		struct pg_args a = { 0 };

		arg_i64(&a, NMIGRATIONS);
		if (run_ok(q, "UPDATE schema_version SET version = $1::integer", &a,
			   "schema version", err, errlen))
			goto fail;
	}
	return tx_commit(q, err, errlen);
fail:
	tx_rollback(q);
	return -1;
}

/* ---- rows ---- */

#define COLS "id, name, role, adapter_id, fqdn, vip4, vip6, pwhash, mac, method, " \
	     "ip_mode, revoked, created"

static void row_to_principal(const PGresult *r, int i, struct cyph_principal *p)
{
	memset(p, 0, sizeof(*p));
	p->id = (uint64_t)col_i64(r, i, 0);
	col_text(r, i, 1, p->name, sizeof(p->name));
	p->role = (uint8_t)col_i64(r, i, 2);
	p->adapter_id = (uint64_t)col_i64(r, i, 3);
	col_text(r, i, 4, p->fqdn, sizeof(p->fqdn));
	p->has_vip4 = col_blob(r, i, 5, &p->vip4, 4);
	p->has_vip6 = col_blob(r, i, 6, &p->vip6, 16);
	col_text(r, i, 7, p->pwhash, sizeof(p->pwhash));
	col_blob(r, i, 8, p->mac, 6);
	p->method = (uint8_t)col_i64(r, i, 9);
	p->ip_mode = (uint8_t)col_i64(r, i, 10);
	p->revoked = col_i64(r, i, 11) != 0;
	p->created = col_i64(r, i, 12);
}

/* A SELECT expecting at most one principal. 0 / 1 (none) / -1. */
static int fetch_one(struct pg_store *q, const char *sql, const struct pg_args *a,
		     struct cyph_principal *out, char *err, size_t errlen)
{
	PGresult *res = run(q, sql, a, "lookup", err, errlen);
	int rc;

	if (!res)
		return -1;
	rc = PQntuples(res) ? 0 : 1;
	if (!rc)
		row_to_principal(res, 0, out);
	PQclear(res);
	return rc;
}

static int pg_get_by_name(struct cyph_store *s, const char *name, struct cyph_principal *out,
			  char *err, size_t errlen)
{
	struct pg_args a = { 0 };

	arg_text(&a, name);
	return fetch_one((struct pg_store *)s, "SELECT " COLS " FROM principals "
			 "WHERE name = $1::text", &a, out, err, errlen);
}

static int pg_get_by_id(struct cyph_store *s, uint64_t id, struct cyph_principal *out,
			char *err, size_t errlen)
{
	struct pg_args a = { 0 };

	arg_i64(&a, (int64_t)id);
	return fetch_one((struct pg_store *)s, "SELECT " COLS " FROM principals "
			 "WHERE id = $1::bigint", &a, out, err, errlen);
}

static int pg_get_gnode_by_mac(struct cyph_store *s, uint64_t adapter_id, const uint8_t mac[6],
			       struct cyph_principal *out, char *err, size_t errlen)
{
	struct pg_args a = { 0 };

	arg_i64(&a, (int64_t)adapter_id);
	arg_blob(&a, mac, 6);
	return fetch_one((struct pg_store *)s, "SELECT " COLS " FROM principals "
			 "WHERE adapter_id = $1::bigint AND mac = $2::bytea", &a, out, err, errlen);
}

static int pg_list(struct cyph_store *s, uint8_t role, uint64_t adapter_id,
		   cyph_principal_cb cb, void *arg, char *err, size_t errlen)
{
	struct pg_store *q = (struct pg_store *)s;
	struct cyph_principal p;
	int64_t after = 0;

	for (;;) {
		struct pg_args a = { 0 };
		PGresult *res;
		int n;

		arg_i64(&a, role);
		arg_i64(&a, (int64_t)adapter_id);
		arg_i64(&a, after);
		res = run(q, "SELECT " COLS " FROM principals WHERE ($1::smallint = 0 OR "
			  "role = $1::smallint) AND ($2::bigint = 0 OR adapter_id = $2::bigint) "
			  "AND id > $3::bigint ORDER BY id LIMIT " STR(PAGE), &a, "list",
			  err, errlen);
		if (!res)
			return -1;
		n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			row_to_principal(res, i, &p);
			after = (int64_t)p.id;
			if (cb(&p, arg)) {
				PQclear(res);
				return 0;
			}
		}
		PQclear(res);
		if (n < PAGE)
			return 0;
	}
}

/* ---- VIP allocation ---- */

/* Locks the family's cursor row until the transaction ends. */
static int cursor_lock(struct pg_store *q, int family, int64_t *next, char *err, size_t errlen)
{
	struct pg_args a = { 0 };
	PGresult *res;

	arg_i64(&a, family);
	res = run(q, "SELECT next FROM vip_cursor WHERE family = $1::smallint FOR UPDATE", &a,
		  "vip cursor", err, errlen);
	if (!res)
		return -1;
	*next = PQntuples(res) ? col_i64(res, 0, 0) : -1;
	PQclear(res);
	if (*next < 0)
		return cyph_fail(err, errlen, "store %s: vip cursor of IPv%d missing", q->name,
				 family);
	return 0;
}

/* Is addr taken? issued table (never reuse) or, with reuse, live principals. 1/0/-1 */
static int addr_taken(struct pg_store *q, const uint8_t *addr, int alen, bool reuse,
		      char *err, size_t errlen)
{
	const char *sql = reuse ?
		(alen == 4 ? "SELECT 1 FROM principals WHERE vip4 = $1::bytea" :
			     "SELECT 1 FROM principals WHERE vip6 = $1::bytea") :
		"SELECT 1 FROM vips_issued WHERE addr = $1::bytea";
	struct pg_args a = { 0 };
	PGresult *res;
	int taken;

	arg_blob(&a, addr, (size_t)alen);
	res = run(q, sql, &a, "vip lookup", err, errlen);
	if (!res)
		return -1;
	taken = PQntuples(res) > 0;
	PQclear(res);
	return taken;
}

static int alloc_vip(struct pg_store *q, const uint8_t *prefix, int alen, int plen, bool reuse,
		     uint8_t *out, char *err, size_t errlen)
{
	int family = alen == 4 ? 4 : 6;
	uint64_t limit = cyph_store_host_count(alen, plen);
	bool wrapped = false;
	int64_t cur;

	if (cursor_lock(q, family, &cur, err, errlen))
		return -1;
	for (uint64_t off = (uint64_t)cur;; off++) {
		struct pg_args a = { 0 };
		int t;

		if (off >= limit) {
			if (!reuse || wrapped)
				return cyph_fail(err, errlen, "IPv%d VIP pool exhausted "
						 "(released VIPs are not reused)", family);
			wrapped = true;
			off = 1;
		}
		cyph_store_addr_at(prefix, alen, off, out);
		t = addr_taken(q, out, alen, reuse, err, errlen);
		if (t < 0)
			return -1;
		if (t)
			continue;
		arg_i64(&a, family);
		arg_i64(&a, (int64_t)off + 1);
		return run_ok(q, "UPDATE vip_cursor SET next = $2::bigint WHERE family = "
			      "$1::smallint", &a, "vip cursor", err, errlen);
	}
}

static int record_vip(struct pg_store *q, const uint8_t *addr, int alen, uint64_t id,
		      char *err, size_t errlen)
{
	struct pg_args a = { 0 };

	arg_blob(&a, addr, (size_t)alen);
	arg_i64(&a, (int64_t)id);
	arg_i64(&a, (int64_t)time(NULL));
	return run_ok(q, "INSERT INTO vips_issued(addr, principal_id, issued) "
		      "VALUES ($1::bytea, $2::bigint, $3::bigint) ON CONFLICT (addr) DO UPDATE "
		      "SET principal_id = EXCLUDED.principal_id, issued = EXCLUDED.issued",
		      &a, "record vip", err, errlen);
}

/* Family 4 before 6: every add takes the cursor locks in the same order. */
static int assign_vips(struct pg_store *q, struct cyph_principal *p,
		       const struct cyph_vip_pool *pool, char *err, size_t errlen)
{
	bool want4 = p->ip_mode == CYPH_IP_V4 || p->ip_mode == CYPH_IP_DUAL;
	bool want6 = p->ip_mode == CYPH_IP_V6 || p->ip_mode == CYPH_IP_DUAL;

	if (want4 && pool->v4.len) {
		if (alloc_vip(q, (const uint8_t *)&pool->v4.addr, 4, pool->v4.len,
			      pool->allow_reuse, (uint8_t *)&p->vip4, err, errlen))
			return -1;
		p->has_vip4 = true;
	} else if (want4 && p->ip_mode == CYPH_IP_V4) {
		return cyph_fail(err, errlen, "no IPv4 VIP prefix configured");
	}
	if (want6 && pool->v6.len) {
		if (alloc_vip(q, pool->v6.addr.s6_addr, 16, pool->v6.len,
			      pool->allow_reuse, p->vip6.s6_addr, err, errlen))
			return -1;
		p->has_vip6 = true;
	} else if (want6 && p->ip_mode == CYPH_IP_V6) {
		return cyph_fail(err, errlen, "no IPv6 VIP prefix configured");
	}
	return 0;
}

static int insert_principal(struct pg_store *q, struct cyph_principal *p, char *err,
			    size_t errlen)
{
	static const uint8_t zero_mac[6];
	bool has_mac = p->role == CYPH_ROLE_GENERAL && memcmp(p->mac, zero_mac, 6);
	struct pg_args a = { 0 };
	PGresult *res;

	arg_text(&a, p->name);
	arg_i64(&a, p->role);
	if (p->adapter_id)
		arg_i64(&a, (int64_t)p->adapter_id);
	else
		arg_text(&a, NULL);
	arg_text(&a, p->fqdn);
	arg_blob(&a, p->has_vip4 ? (const void *)&p->vip4 : NULL, 4);
	arg_blob(&a, p->has_vip6 ? (const void *)&p->vip6 : NULL, 16);
	arg_text(&a, p->pwhash);
	arg_blob(&a, has_mac ? p->mac : NULL, 6);
	arg_i64(&a, p->method);
	arg_i64(&a, p->ip_mode);
	arg_i64(&a, p->created);
	res = run(q, "INSERT INTO principals(name, role, adapter_id, fqdn, vip4, vip6, pwhash, "
		  "mac, method, ip_mode, created) VALUES ($1::text, $2::smallint, $3::bigint, "
		  "$4::text, $5::bytea, $6::bytea, $7::text, $8::bytea, $9::smallint, "
		  "$10::smallint, $11::bigint) RETURNING id", &a, "insert", err, errlen);
	if (!res) {
		/* class 23: integrity constraint violation, as SQLITE_CONSTRAINT */
		if (!strncmp(q->sqlstate, "23", 2)) {
			char why[256];

			snprintf(why, sizeof(why), "%s", err);
			return cyph_fail(err, errlen, "'%s' conflicts with an existing entry (%s)",
					 p->name, why);
		}
		return -1;
	}
	p->id = (uint64_t)col_i64(res, 0, 0);
	PQclear(res);
	return 0;
}

static int pg_add(struct cyph_store *s, struct cyph_principal *p, const char *domain,
		  const struct cyph_vip_pool *pool, char *err, size_t errlen)
{
	struct pg_store *q = (struct pg_store *)s;

	if (cyph_store_check_new(p, domain, err, errlen))
		return -1;
	snprintf(p->fqdn, sizeof(p->fqdn), "%s.%s", p->name, domain);
	p->has_vip4 = p->has_vip6 = false;
	p->created = time(NULL);
	if (tx_begin(q, err, errlen))
		return -1;
	if (assign_vips(q, p, pool, err, errlen) || insert_principal(q, p, err, errlen) ||
	    (p->has_vip4 && record_vip(q, (uint8_t *)&p->vip4, 4, p->id, err, errlen)) ||
	    (p->has_vip6 && record_vip(q, p->vip6.s6_addr, 16, p->id, err, errlen)) ||
	    tx_commit(q, err, errlen)) {
		tx_rollback(q);
		p->has_vip4 = p->has_vip6 = false;
		return -1;
	}
	return 0;
}

/* ---- certificates and revocation ---- */

static int pg_cert_issued(struct cyph_store *s, uint64_t id, const uint8_t *serial,
			  size_t serial_len, int64_t issued, int64_t not_after,
			  char *err, size_t errlen)
{
	struct pg_args a = { 0 };

	arg_blob(&a, serial, serial_len);
	arg_i64(&a, (int64_t)id);
	arg_i64(&a, issued);
	arg_i64(&a, not_after);
	return run_ok((struct pg_store *)s, "INSERT INTO certs(serial, principal_id, issued, "
		      "not_after) VALUES ($1::bytea, $2::bigint, $3::bigint, $4::bigint)", &a,
		      "record certificate", err, errlen);
}

/* Revokes id and, for an adapter, its general nodes (their certs too). */
static int revoke_tree(struct pg_store *q, uint64_t id, int64_t now, char *err, size_t errlen)
{
	struct pg_args one = { 0 }, a = { 0 };

	arg_i64(&one, (int64_t)id);
	arg_i64(&a, now);
	arg_i64(&a, (int64_t)id);
	return run_ok(q, "UPDATE principals SET revoked = true WHERE id = $1::bigint OR "
		      "adapter_id = $1::bigint", &one, "revoke", err, errlen) ||
	       run_ok(q, "INSERT INTO revocations(serial, principal_id, revoked_at, not_after) "
		      "SELECT serial, principal_id, $1::bigint, not_after FROM certs "
		      "WHERE principal_id = $2::bigint AND not_after > $1::bigint "
		      "ON CONFLICT DO NOTHING", &a, "revoke certificates", err, errlen) ||
	       run_ok(q, "INSERT INTO revocations(serial, principal_id, revoked_at, not_after) "
		      "SELECT c.serial, c.principal_id, $1::bigint, c.not_after FROM certs c "
		      "JOIN principals p ON p.id = c.principal_id WHERE p.adapter_id = "
		      "$2::bigint AND c.not_after > $1::bigint ON CONFLICT DO NOTHING", &a,
		      "revoke general nodes", err, errlen) ? -1 : 0;
}

/* Locks the principal's row for the transaction. 0, 1 (not found), -1. */
static int lock_principal(struct pg_store *q, uint64_t id, char *err, size_t errlen)
{
	struct pg_args a = { 0 };
	PGresult *res;
	int rc;

	arg_i64(&a, (int64_t)id);
	res = run(q, "SELECT 1 FROM principals WHERE id = $1::bigint FOR UPDATE", &a, "lookup",
		  err, errlen);
	if (!res)
		return -1;
	rc = PQntuples(res) ? 0 : 1;
	PQclear(res);
	return rc;
}

static int pg_revoke_principal(struct cyph_store *s, uint64_t id, int64_t now,
			       char *err, size_t errlen)
{
	struct pg_store *q = (struct pg_store *)s;
	int rc;

	if (tx_begin(q, err, errlen))
		return -1;
	rc = lock_principal(q, id, err, errlen);
	if (rc == 0)
		rc = revoke_tree(q, id, now, err, errlen);
	if (rc < 0 || tx_commit(q, err, errlen)) {
		tx_rollback(q);
		return -1;
	}
	return rc;
}

static int pg_del(struct cyph_store *s, uint64_t id, char *err, size_t errlen)
{
	struct pg_store *q = (struct pg_store *)s;
	int rc;

	if (tx_begin(q, err, errlen))
		return -1;
	rc = lock_principal(q, id, err, errlen);
	/* a deleted node's certificates must stop working too */
	if (rc == 0)
		rc = revoke_tree(q, id, time(NULL), err, errlen);
	if (rc == 0) {
		struct pg_args a = { 0 };

		arg_i64(&a, (int64_t)id);
		rc = run_ok(q, "DELETE FROM principals WHERE id = $1::bigint", &a, "delete",
			    err, errlen);
	}
	if (rc < 0 || tx_commit(q, err, errlen)) {
		tx_rollback(q);
		return -1;
	}
	return rc;
}

static int pg_revoke_serial(struct cyph_store *s, const uint8_t *serial, size_t len,
			    int64_t now, char *err, size_t errlen)
{
	struct pg_store *q = (struct pg_store *)s;
	struct pg_args a = { 0 };
	PGresult *res;
	int rc;

	arg_i64(&a, now);
	arg_blob(&a, serial, len);
	if (run_ok(q, "INSERT INTO revocations(serial, principal_id, revoked_at, not_after) "
		   "SELECT serial, principal_id, $1::bigint, not_after FROM certs "
		   "WHERE serial = $2::bytea ON CONFLICT DO NOTHING", &a, "revoke serial",
		   err, errlen))
		return -1;
	a.n = 0;
	arg_blob(&a, serial, len);
	res = run(q, "SELECT 1 FROM revocations WHERE serial = $1::bytea", &a, "revoke serial",
		  err, errlen);
	if (!res)
		return -1;
	rc = PQntuples(res) ? 0 : 1;
	PQclear(res);
	return rc;
}

static int pg_list_revoked(struct cyph_store *s, int64_t now, cyph_revoked_cb cb, void *arg,
			   char *err, size_t errlen)
{
	struct pg_store *q = (struct pg_store *)s;
	uint8_t after[20];
	size_t after_len = 0;	/* the empty bytea sorts before every serial */
	struct cyph_revoked r;

	for (;;) {
		struct pg_args a = { 0 };
		PGresult *res;
		int n;

		arg_i64(&a, now);
		arg_blob(&a, after, after_len);
		res = run(q, "SELECT serial, revoked_at, principal_id FROM revocations "
			  "WHERE not_after > $1::bigint AND serial > $2::bytea ORDER BY serial "
			  "LIMIT " STR(PAGE), &a, "list revocations", err, errlen);
		if (!res)
			return -1;
		n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			int len = PQgetlength(res, i, 0);

			if (len <= 0 || len > 20) {
				/* out of the record's range: skipped, as in SQLite; but
				 * a longer key cannot page on, so stop at it */
				if (len > 20) {
					PQclear(res);
					return 0;
				}
				continue;
			}
			memset(&r, 0, sizeof(r));
			memcpy(r.serial, PQgetvalue(res, i, 0), (size_t)len);
			r.serial_len = (size_t)len;
			r.revoked_at = col_i64(res, i, 1);
			r.principal_id = (uint64_t)col_i64(res, i, 2);
			memcpy(after, r.serial, r.serial_len);
			after_len = r.serial_len;
			if (cb(&r, arg)) {
				PQclear(res);
				return 0;
			}
		}
		PQclear(res);
		if (n < PAGE)
			return 0;
	}
}

static int pg_set_password(struct cyph_store *s, uint64_t id, const char *pwhash,
			   char *err, size_t errlen)
{
	struct pg_args a = { 0 };
	PGresult *res;
	int rc;

	arg_text(&a, pwhash);
	arg_i64(&a, (int64_t)id);
	res = run((struct pg_store *)s, "UPDATE principals SET pwhash = $1::text "
		  "WHERE id = $2::bigint", &a, "set password", err, errlen);
	if (!res)
		return -1;
	rc = atoi(PQcmdTuples(res)) ? 0 : 1;
	PQclear(res);
	return rc;
}

static void pg_close(struct cyph_store *s)
{
	struct pg_store *q = (struct pg_store *)s;

	PQfinish(q->conn);
	free(q);
}

static const struct cyph_store_ops pg_ops = {
	.close = pg_close,
	.add = pg_add,
	.get_by_name = pg_get_by_name,
	.get_by_id = pg_get_by_id,
	.get_gnode_by_mac = pg_get_gnode_by_mac,
	.list = pg_list,
	.del = pg_del,
	.set_password = pg_set_password,
	.cert_issued = pg_cert_issued,
	.revoke_principal = pg_revoke_principal,
	.revoke_serial = pg_revoke_serial,
	.list_revoked = pg_list_revoked,
};

static void ignore_notice(void *arg, const char *msg)
{
	(void)arg; (void)msg;
}

/*
 * "postgres[host=... port=... dbname=... user=...]": the target as the
 * connection string names it, never its password.
 */
static void describe(const char *conninfo, char *out, size_t cap)
{
	static const char *const keys[] = { "host", "hostaddr", "port", "dbname", "user" };
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	size_t len;

	len = (size_t)snprintf(out, cap, "postgres[");
	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			if (strcmp(o->keyword, keys[k]) || !o->val || !*o->val || len >= cap)
				continue;
			len += (size_t)snprintf(out + len, cap - len, "%s%s=%s",
						out[len - 1] == '[' ? "" : " ", o->keyword, o->val);
		}
	}
	if (len < cap)
		snprintf(out + len, cap - len, "%s]", opts ? "" : "unparsable connection string");
	PQconninfoFree(opts);
}

/*
 * Opens the PostgreSQL store named by a libpq connection string
 * ("host=/run/pg dbname=cyphonic" or "postgresql://user@host/db"),
 * creating and migrating the schema as needed.
 */
struct cyph_store *cyph_store_open_pg(const char *conninfo, char *err, size_t errlen)
{
	/* ours first: the connection string may override them */
	const char *const keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *const vals[] = { "10", "cyphonic", conninfo, NULL };
	struct pg_store *q = calloc(1, sizeof(*q));
	char *perr = NULL, buf[512];
	PQconninfoOption *opts;

	if (!q) {
		cyph_fail(err, errlen, "out of memory");
		return NULL;
	}
	q->base.ops = &pg_ops;
	describe(conninfo, q->name, sizeof(q->name));
	opts = PQconninfoParse(conninfo, &perr);
	if (!opts) {
		/* libpq quotes the offending text, which may be a password */
		bool secret = strstr(conninfo, "password") || strchr(conninfo, '@');

		cyph_fail(err, errlen, "store %s: invalid connection string%s%s", q->name,
			  secret ? "" : ": ", secret ? "" : one_line(perr, buf, sizeof(buf)));
		PQfreemem(perr);
		free(q);
		return NULL;
	}
	PQconninfoFree(opts);
	q->conn = PQconnectdbParams(keys, vals, 1);
	if (!q->conn || PQstatus(q->conn) != CONNECTION_OK) {
		cyph_fail(err, errlen, "store %s: cannot connect: %s", q->name,
			  q->conn ? one_line(PQerrorMessage(q->conn), buf, sizeof(buf)) :
			  "out of memory");
		goto fail;
	}
	if (PQserverVersion(q->conn) < 100000) {
		cyph_fail(err, errlen, "store %s: PostgreSQL %d is too old (10 or later needed)",
			  q->name, PQserverVersion(q->conn));
		goto fail;
	}
	/* notices (e.g. "relation already exists, skipping") are not errors */
	PQsetNoticeProcessor(q->conn, ignore_notice, NULL);
	if (migrate(q, err, errlen))
		goto fail;
	return &q->base;
fail:
	PQfinish(q->conn);
	free(q);
	return NULL;
}
