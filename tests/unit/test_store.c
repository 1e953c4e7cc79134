// SPDX-License-Identifier: MIT
/*
 * The AS registry: schema, VIP allocation, uniqueness, revocation, paging
 * and concurrent writers. The same cases run against every backend: the
 * embedded SQLite store, and PostgreSQL when CYPH_TEST_PG holds a libpq
 * connection string to a server the test may create databases on
 * (tests/unit/suite.sh starts one with tests/lib/pg.sh and always sets it).
 */
#include "pki/cred.h"
#include "stores/store.h"
#include "tap.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/test_store.XXXXXX";
static char dbpath[300];
static const char *pg_conninfo;	/* CYPH_TEST_PG */

/*
 * A backend: opens a store on a fresh, empty database named by tag, or
 * (fresh false) the one an earlier call created.
 */
struct backend {
	const char *name;
	struct cyph_store *(*open)(const char *tag, bool fresh, char *err, size_t errlen);
	void (*schema)(const struct backend *b);
};

static struct cyph_vip_pool pool(const char *p4, const char *p6, bool reuse)
{
	struct cyph_vip_pool p = { .allow_reuse = reuse };
	const char *why;

	if (p4)
		cyph_parse_prefix4(p4, &p.v4, &why);
	if (p6)
		cyph_parse_prefix6(p6, &p.v6, &why);
	return p;
}

static int add(struct cyph_store *s, const char *name, uint8_t role, uint64_t adapter,
	       uint8_t ip_mode, const struct cyph_vip_pool *vp, struct cyph_principal *out,
	       char *err)
{
	struct cyph_principal p = { .role = role, .adapter_id = adapter, .ip_mode = ip_mode };

	snprintf(p.name, sizeof(p.name), "%s", name);
	strcpy(p.pwhash, "$x");
	if (role == CYPH_ROLE_GENERAL) {
		p.method = CYPH_GN_MAC;
		p.mac[0] = 2;
		p.mac[5] = (uint8_t)strlen(name) + (uint8_t)name[0];
	}
	if (s->ops->add(s, &p, "cyph.test", vp, err, 512))
		return -1;
	if (out)
		*out = p;
	return 0;
}

static int count_cb(const struct cyph_principal *p, void *arg)
{
	(void)p;
	(*(int *)arg)++;
	return 0;
}

static int count_revoked(const struct cyph_revoked *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static void test_basic(struct cyph_store *s)
{
	struct cyph_vip_pool vp = pool("10.9.0.0/24", "fd00:9::/64", false);
	struct cyph_principal a, b, g, got;
	char err[512] = "", ip[64];
	int n = 0;

	TAP_CHECK(!add(s, "alice", CYPH_ROLE_NODE, 0, CYPH_IP_DUAL, &vp, &a, err), "add node (%s)", err);
	inet_ntop(AF_INET, &a.vip4, ip, sizeof(ip));
	TAP_CHECK(a.id == 1 && !strcmp(a.fqdn, "alice.cyph.test") && !strcmp(ip, "10.9.0.1") &&
		  a.has_vip6, "id, fqdn and first VIP assigned");
	TAP_CHECK(!add(s, "gw", CYPH_ROLE_ADAPTER, 0, CYPH_IP_DUAL, &vp, &b, err), "add adapter");
	TAP_CHECK(!add(s, "cam", CYPH_ROLE_GENERAL, b.id, CYPH_IP_V4, &vp, &g, err) &&
		  g.has_vip4 && !g.has_vip6, "general node gets only an IPv4 VIP");
	TAP_CHECK(add(s, "alice", CYPH_ROLE_NODE, 0, CYPH_IP_DUAL, &vp, NULL, err) &&
		  strstr(err, "conflicts"), "duplicate name rejected (%s)", err);
	TAP_CHECK(add(s, "Bad_Name", CYPH_ROLE_NODE, 0, CYPH_IP_DUAL, &vp, NULL, err) &&
		  strstr(err, "invalid name"), "invalid name rejected");
	TAP_CHECK(add(s, "orphan", CYPH_ROLE_GENERAL, 0, CYPH_IP_V4, &vp, NULL, err),
		  "general node without adapter rejected");
	TAP_CHECK(add(s, "cam", CYPH_ROLE_GENERAL, b.id, CYPH_IP_V4, &vp, NULL, err),
		  "duplicate general node rejected");
	TAP_CHECK(!s->ops->get_by_name(s, "alice", &got, err, sizeof(err)) && got.id == a.id &&
		  !strcmp(got.pwhash, "$x"), "get by name");
	TAP_CHECK(s->ops->get_by_name(s, "nobody", &got, err, sizeof(err)) == 1, "unknown name: 1");
	TAP_CHECK(!s->ops->get_gnode_by_mac(s, b.id, g.mac, &got, err, sizeof(err)) &&
		  got.id == g.id && got.method == CYPH_GN_MAC, "general node by MAC");
	TAP_CHECK(s->ops->get_gnode_by_mac(s, a.id, g.mac, &got, err, sizeof(err)) == 1,
		  "MAC lookup is per adapter");
	s->ops->list(s, CYPH_ROLE_GENERAL, b.id, count_cb, &n, err, sizeof(err));
	TAP_CHECK(n == 1, "list general nodes of an adapter");
	n = 0;
	s->ops->list(s, 0, 0, count_cb, &n, err, sizeof(err));
	TAP_CHECK(n == 3, "list all");
}

static void test_vips(struct cyph_store *s)
{
	struct cyph_vip_pool tiny = pool("10.8.0.0/30", NULL, false);
	struct cyph_vip_pool reuse = pool("10.8.0.0/30", NULL, true);
	struct cyph_vip_pool none = pool(NULL, NULL, false);
	struct cyph_principal p1, p2, p3;
	char err[512] = "", ip[64];

	/* /30: hosts .1 and .2 (the cursor is shared per family, so earlier
	 * allocations from the /24 moved it: start a fresh store instead) */
	TAP_CHECK(!add(s, "v1", CYPH_ROLE_NODE, 0, CYPH_IP_V4, &tiny, &p1, err) &&
		  !add(s, "v2", CYPH_ROLE_NODE, 0, CYPH_IP_V4, &tiny, &p2, err),
		  "two VIPs from a /30 (%s)", err);
	TAP_CHECK(p1.vip4.s_addr != p2.vip4.s_addr, "distinct VIPs");
	TAP_CHECK(add(s, "v3", CYPH_ROLE_NODE, 0, CYPH_IP_V4, &tiny, NULL, err) &&
		  strstr(err, "exhausted"), "pool exhausted (%s)", err);
	TAP_CHECK(!s->ops->del(s, p1.id, err, sizeof(err)), "delete frees the name");
	TAP_CHECK(add(s, "v3", CYPH_ROLE_NODE, 0, CYPH_IP_V4, &tiny, NULL, err) &&
		  strstr(err, "exhausted"), "released VIP not reused without allow_reuse");
	TAP_CHECK(!add(s, "v3", CYPH_ROLE_NODE, 0, CYPH_IP_V4, &reuse, &p3, err) &&
		  p3.vip4.s_addr == p1.vip4.s_addr, "released VIP reused with allow_reuse (%s)", err);
	inet_ntop(AF_INET, &p3.vip4, ip, sizeof(ip));
	TAP_CHECK(add(s, "v4", CYPH_ROLE_NODE, 0, CYPH_IP_V4, &none, NULL, err) &&
		  strstr(err, "no IPv4 VIP prefix"), "IPv4 mode without a prefix (%s)", err);
	TAP_CHECK(s->ops->get_by_name(s, "v4", &p1, err, sizeof(err)) == 1,
		  "failed add left nothing behind (rolled back)");
}

static void test_revocation(struct cyph_store *s)
{
	struct cyph_vip_pool vp = pool("10.7.0.0/24", "fd00:7::/64", false);
	struct cyph_principal ad, g, n;
	uint8_t s1[16] = { 1 }, s2[16] = { 2 }, s3[16] = { 3 }, s4[16] = { 4 };
	char err[512] = "";
	int cnt = 0;

	add(s, "ad", CYPH_ROLE_ADAPTER, 0, CYPH_IP_DUAL, &vp, &ad, err);
	add(s, "g1", CYPH_ROLE_GENERAL, ad.id, CYPH_IP_V6, &vp, &g, err);
	add(s, "nn", CYPH_ROLE_NODE, 0, CYPH_IP_DUAL, &vp, &n, err);
	TAP_CHECK(!s->ops->cert_issued(s, ad.id, s1, 16, 100, 4000000000LL, err, sizeof(err)) &&
		  !s->ops->cert_issued(s, g.id, s2, 16, 100, 4000000000LL, err, sizeof(err)) &&
		  !s->ops->cert_issued(s, n.id, s3, 16, 100, 4000000000LL, err, sizeof(err)) &&
		  !s->ops->cert_issued(s, n.id, s4, 16, 100, 150, err, sizeof(err)),
		  "certificates recorded");
	TAP_CHECK(s->ops->cert_issued(s, n.id, s4, 16, 100, 150, err, sizeof(err)),
		  "serial recorded once only");
	TAP_CHECK(!s->ops->revoke_principal(s, ad.id, 200, err, sizeof(err)),
		  "revoke adapter (%s)", err);
	TAP_CHECK(!s->ops->get_by_id(s, g.id, &g, err, sizeof(err)) && g.revoked,
		  "adapter revocation covers its general nodes");
	s->ops->list_revoked(s, 200, count_revoked, &cnt, err, sizeof(err));
	TAP_CHECK(cnt == 2, "adapter and general-node certificates in the CRL (%d)", cnt);
	TAP_CHECK(s->ops->revoke_serial(s, s4, 16, 200, err, sizeof(err)) == 0, "revoke serial");
	cnt = 0;
	s->ops->list_revoked(s, 200, count_revoked, &cnt, err, sizeof(err));
	TAP_CHECK(cnt == 2, "expired certificate left out of the CRL");
	{
		uint8_t unknown[16] = { 9 };

		TAP_CHECK(s->ops->revoke_serial(s, unknown, 16, 200, err, sizeof(err)) == 1,
			  "unknown serial reported");
	}
	TAP_CHECK(!s->ops->del(s, n.id, err, sizeof(err)), "delete node");
	cnt = 0;
	s->ops->list_revoked(s, 200, count_revoked, &cnt, err, sizeof(err));
	TAP_CHECK(cnt == 3, "deleting a node revokes its valid certificates");
	TAP_CHECK(s->ops->del(s, n.id, err, sizeof(err)) == 1, "delete twice: not found");
	TAP_CHECK(s->ops->revoke_principal(s, 9999, 200, err, sizeof(err)) == 1,
		  "revoke unknown id: not found");
	TAP_CHECK(!s->ops->del(s, ad.id, err, sizeof(err)) &&
		  s->ops->get_by_id(s, g.id, &g, err, sizeof(err)) == 1,
		  "deleting an adapter deletes its general nodes");
}

/* More than one page of a list (store_pg.c reads 256 rows a round trip). */
#define MANY 300

struct walk {
	struct cyph_store *s;
	int n, stop_at;
	bool ordered, nested_ok;
	uint64_t last_id;
	uint8_t last_serial[20];
	size_t last_len;
};

static int walk_principal(const struct cyph_principal *p, void *arg)
{
	struct walk *w = arg;
	struct cyph_principal again;
	char err[256];

	if (p->id <= w->last_id)
		w->ordered = false;
	w->last_id = p->id;
	/* a callback may use the store while the list runs */
	if (w->s->ops->get_by_id(w->s, p->id, &again, err, sizeof(err)) ||
	    strcmp(again.name, p->name))
		w->nested_ok = false;
	return ++w->n == w->stop_at;
}

static int walk_revoked(const struct cyph_revoked *r, void *arg)
{
	struct walk *w = arg;
	size_t l = r->serial_len < w->last_len ? r->serial_len : w->last_len;
	int c = memcmp(r->serial, w->last_serial, l);

	if (w->n && (c < 0 || (c == 0 && r->serial_len <= w->last_len)))
		w->ordered = false;
	memcpy(w->last_serial, r->serial, r->serial_len);
	w->last_len = r->serial_len;
	return ++w->n == w->stop_at;
}

static void test_paging(struct cyph_store *s)
{
	struct cyph_vip_pool vp = pool("10.6.0.0/16", NULL, false);
	struct cyph_principal p;
	struct walk w = { .s = s, .ordered = true, .nested_ok = true };
	char err[512] = "", name[16];
	int bad = 0, rc;

	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		bad += add(s, name, CYPH_ROLE_NODE, 0, CYPH_IP_V4, &vp, &p, err) != 0;
	}
	TAP_CHECK(!bad, "%d nodes added (%s)", MANY, bad ? err : "");
	rc = s->ops->list(s, 0, 0, walk_principal, &w, err, sizeof(err));
	TAP_CHECK(!rc && w.n == MANY && w.ordered && w.nested_ok, "list of %d: all, in id order, callback may use the "
		  "store (%d, %s)", MANY, w.n, err);
	memset(&w, 0, sizeof(w));
	w.s = s;
	w.stop_at = 7;
	TAP_CHECK(!s->ops->list(s, 0, 0, walk_principal, &w, err, sizeof(err)) && w.n == 7,
		  "list stops when the callback says so");
	bad = 0;
	for (int i = 0; i < MANY; i++) {
		uint8_t serial[16] = { 0x40, (uint8_t)(i >> 8), (uint8_t)i, 0xff };

		bad += s->ops->cert_issued(s, p.id, serial, (size_t)(4 + i % 3), 100, 4000000000LL,
					   err, sizeof(err)) != 0;
	}
	TAP_CHECK(!bad && !s->ops->revoke_principal(s, p.id, 200, err, sizeof(err)),
		  "%d certificates issued and revoked (%s)", MANY, err);
	memset(&w, 0, sizeof(w));
	w.ordered = true;
	rc = s->ops->list_revoked(s, 200, walk_revoked, &w, err, sizeof(err));
	TAP_CHECK(!rc && w.n == MANY && w.ordered, "CRL of %d: all, in serial order (%d)", MANY, w.n);
	memset(&w, 0, sizeof(w));
	w.stop_at = 3;
	TAP_CHECK(!s->ops->list_revoked(s, 200, walk_revoked, &w, err, sizeof(err)) && w.n == 3,
		  "CRL walk stops when the callback says so");
	TAP_CHECK(!s->ops->set_password(s, p.id, "$y", err, sizeof(err)) &&
		  !s->ops->get_by_id(s, p.id, &p, err, sizeof(err)) && !strcmp(p.pwhash, "$y") &&
		  s->ops->set_password(s, 999999, "$y", err, sizeof(err)) == 1,
		  "set password; unknown id: 1");
}

/*
 * Two writers (two connections, as two AS replicas have) allocating at
 * once must never hand out the same VIP, nor fail because of each other.
 */
#define RACERS 2
#define PER_RACER 40

struct racer {
	const struct backend *b;
	int idx, failed;
	char err[512];
	struct in_addr vip[PER_RACER];
	struct in6_addr vip6[PER_RACER];
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct cyph_vip_pool vp = pool("10.5.0.0/24", "fd00:5::/64", false);
	struct cyph_store *s = r->b->open("race", false, r->err, sizeof(r->err));
	struct cyph_principal p;
	char name[16];

	if (!s) {
		r->failed = PER_RACER;
		return NULL;
	}
	for (int i = 0; i < PER_RACER; i++) {
		snprintf(name, sizeof(name), "r%d-%d", r->idx, i);
		if (add(s, name, CYPH_ROLE_NODE, 0, CYPH_IP_DUAL, &vp, &p, r->err)) {
			r->failed++;
			continue;
		}
		r->vip[i] = p.vip4;
		r->vip6[i] = p.vip6;
	}
	cyph_store_close(s);
	return NULL;
}

static int cmp_vip(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct in6_addr));
}

static void test_concurrent(const struct backend *b)
{
	struct racer r[RACERS];
	pthread_t th[RACERS];
	struct in6_addr all[RACERS * PER_RACER * 2];
	char err[512] = "";
	struct cyph_store *s = b->open("race", true, err, sizeof(err));
	int n = 0, dup = 0, failed = 0, listed = 0;

	TAP_CHECK(s != NULL, "store for the race (%s)", err);
	if (!s)
		return;
	cyph_store_close(s);
	for (int i = 0; i < RACERS; i++) {
		r[i] = (struct racer){ .b = b, .idx = i };
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		failed += r[i].failed;
		for (int j = 0; j < PER_RACER && !r[i].failed; j++) {
			memset(&all[n], 0, sizeof(all[n]));
			memcpy(&all[n++], &r[i].vip[j], 4);
			all[n++] = r[i].vip6[j];
		}
	}
	TAP_CHECK(!failed, "%d writers x %d adds at once: none failed (%s)", RACERS, PER_RACER,
		  failed ? (r[0].failed ? r[0].err : r[1].err) : "");
	qsort(all, (size_t)n, sizeof(all[0]), cmp_vip);
	for (int i = 1; i < n; i++)
		dup += !memcmp(&all[i - 1], &all[i], sizeof(all[0]));
	TAP_CHECK(n == RACERS * PER_RACER * 2 && !dup, "no VIP handed out twice (%d VIPs, %d "
		  "duplicates)", n, dup);
	s = b->open("race", false, err, sizeof(err));
	if (s) {
		s->ops->list(s, 0, 0, count_cb, &listed, err, sizeof(err));
		cyph_store_close(s);
	}
	TAP_CHECK(listed == RACERS * PER_RACER, "all %d principals stored (%d)",
		  RACERS * PER_RACER, listed);
}

/* ---- SQLite ---- */

static struct cyph_store *sqlite_open(const char *tag, bool fresh, char *err, size_t errlen)
{
	char p[340];

	snprintf(p, sizeof(p), "%s/%s.db", dir, tag);
	if (fresh)
		unlink(p);
	/* the default: a plain path is a SQLite file */
	return cyph_store_open(p, err, errlen);
}

static void sqlite_schema(const struct backend *b)
{
	char p[320], err[512] = "";
	struct cyph_store *s;
	sqlite3 *db;

	(void)b;
	snprintf(p, sizeof(p), "%s/future.db", dir);
	sqlite3_open(p, &db);
	sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL);
	sqlite3_close(db);
	s = cyph_store_open_sqlite(p, err, sizeof(err));
	TAP_CHECK(!s && strstr(err, "newer than this program") && strstr(err, p),
		  "newer schema refused (%s)", err);
	snprintf(dbpath, sizeof(dbpath), "%s/basic.db", dir);
	s = cyph_store_open(dbpath, err, sizeof(err));
	TAP_CHECK(s != NULL, "reopen migrated store");
	sqlite3_open(dbpath, &db);
	{
		sqlite3_stmt *st;
		int v = -1;
		char mode[16] = "";

		sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(mode, sizeof(mode), "%s", sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		TAP_CHECK(v == cyph_store_sqlite_schema_version(), "schema version recorded (%d)", v);
		TAP_CHECK(!strcmp(mode, "wal"), "WAL mode (%s)", mode);
	}
	sqlite3_close(db);
	cyph_store_close(s);
	TAP_CHECK(!cyph_store_open_sqlite("/nonexistent/dir/x.db", err, sizeof(err)) &&
		  strstr(err, "/nonexistent/dir/x.db"), "unopenable path named (%s)", err);
}

/* ---- PostgreSQL ---- */

static void quiet(void *arg, const char *msg)
{
	(void)arg; (void)msg;
}

/* The test's own connection, to create databases and look behind the store. */
static PGconn *pg_admin(const char *db)
{
	char ci[1024];
	PGconn *c;

	snprintf(ci, sizeof(ci), "%s%s%s", pg_conninfo, db ? " dbname=" : "", db ? db : "");
	c = PQconnectdb(ci);
	if (PQstatus(c) != CONNECTION_OK) {
		printf("# %s: %s", ci, PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

/* Runs a constant statement of the test; 0 on success. */
static int pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		printf("# %s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

static struct cyph_store *pg_open(const char *tag, bool fresh, char *err, size_t errlen)
{
	char spec[1024], sql[128];

	if (fresh) {
		PGconn *c = pg_admin(NULL);
		int rc = -1;

		if (c) {
			/* tag is a constant of this file, not input */
			snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS t_%s WITH (FORCE)", tag);
			rc = pg_exec(c, sql);
			snprintf(sql, sizeof(sql), "CREATE DATABASE t_%s", tag);
			rc = rc ? rc : pg_exec(c, sql);
			PQfinish(c);
		}
		if (rc) {
			snprintf(err, errlen, "cannot create database t_%s", tag);
			return NULL;
		}
	}
	snprintf(spec, sizeof(spec), "postgres:%s dbname=t_%s", pg_conninfo, tag);
	return cyph_store_open(spec, err, errlen);
}

static int pg_version(PGconn *c)
{
	PGresult *r = PQexec(c, "SELECT version FROM schema_version");
	int v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ?
		atoi(PQgetvalue(r, 0, 0)) : -1;

	PQclear(r);
	return v;
}

static void pg_schema(const struct backend *b)
{
	char err[512] = "", spec[1024];
	struct cyph_store *s = b->open("schema", true, err, sizeof(err));
	struct cyph_principal p;
	PGconn *c = pg_admin("t_schema");

	TAP_CHECK(s && c, "fresh store migrated (%s)", err);
	if (!s || !c) {
		cyph_store_close(s);
		PQfinish(c);
		return;
	}
	TAP_CHECK(pg_version(c) == cyph_store_pg_schema_version(),
		  "schema_version table records %d", cyph_store_pg_schema_version());
	/* a dropped connection (server restart, failover) is re-established */
	pg_exec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
		"datname = 't_schema' AND pid <> pg_backend_pid()");
	usleep(100 * 1000);
	TAP_CHECK(s->ops->get_by_name(s, "nobody", &p, err, sizeof(err)) == 1,
		  "reconnects after the server dropped the connection (%s)", err);
	cyph_store_close(s);
	s = b->open("schema", false, err, sizeof(err));
	TAP_CHECK(s != NULL && pg_version(c) == cyph_store_pg_schema_version(),
		  "reopen: migrations not applied twice (%s)", err);
	cyph_store_close(s);
	/* once migrated, a user with data rights only (no CREATE) suffices */
	{
		PGconn *root = pg_admin(NULL);

		pg_exec(root, "DROP ROLE IF EXISTS cyph_dml");
		pg_exec(root, "CREATE ROLE cyph_dml LOGIN");
		PQfinish(root);
	}
	pg_exec(c, "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
	pg_exec(c, "GRANT USAGE ON SCHEMA public TO cyph_dml");
	pg_exec(c, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
		"TO cyph_dml");
	snprintf(spec, sizeof(spec), "postgres:%s dbname=t_schema user=cyph_dml", pg_conninfo);
	s = cyph_store_open(spec, err, sizeof(err));
	{
		struct cyph_vip_pool vp = pool("10.4.0.0/24", NULL, false);

		TAP_CHECK(s && !add(s, "dml", CYPH_ROLE_NODE, 0, CYPH_IP_V4, &vp, &p, err),
			  "a user with SELECT/INSERT/UPDATE/DELETE only opens and writes a "
			  "migrated store (%s)", err);
	}
	cyph_store_close(s);
	pg_exec(c, "UPDATE schema_version SET version = 999");
	s = b->open("schema", false, err, sizeof(err));
	TAP_CHECK(!s && strstr(err, "newer than this program") && strstr(err, "dbname=t_schema"),
		  "newer schema refused, store named (%s)", err);
	cyph_store_close(s);
	PQfinish(c);

	/* errors name the server and database, never the password */
	s = cyph_store_open("postgres:host=/nonexistent/pg user=u password=hunter2 dbname=reg",
			    err, sizeof(err));
	TAP_CHECK(!s && strstr(err, "cannot connect") && strstr(err, "host=/nonexistent/pg") &&
		  strstr(err, "dbname=reg") && !strstr(err, "hunter2"),
		  "unreachable server named, password not shown (%s)", err);
	s = cyph_store_open("postgresql://u:hunter2@/reg?host=/nonexistent/pg", err, sizeof(err));
	TAP_CHECK(!s && strstr(err, "dbname=reg") && !strstr(err, "hunter2"),
		  "URI form: same, password not shown (%s)", err);
	s = cyph_store_open("postgres:password=hunter2 dbname", err, sizeof(err));
	TAP_CHECK(!s && strstr(err, "invalid connection string") && !strstr(err, "hunter2"),
		  "malformed connection string refused, password not shown (%s)", err);
	snprintf(spec, sizeof(spec), "postgres:%s dbname=no_such_db", pg_conninfo);
	s = cyph_store_open(spec, err, sizeof(err));
	TAP_CHECK(!s && strstr(err, "no_such_db"), "missing database named (%s)", err);
}

static void test_helpers(void)
{
	uint8_t mac[6];
	char s[18];

	TAP_CHECK(!cyph_mac_parse("02:AB:cd:00:11:ff", mac) && mac[1] == 0xab, "MAC parse");
	cyph_mac_format(mac, s);
	TAP_CHECK(!strcmp(s, "02:ab:cd:00:11:ff"), "MAC format");
	TAP_CHECK(cyph_mac_parse("02:ab:cd:00:11", mac) && cyph_mac_parse("02:ab:cd:00:11:fg", mac) &&
		  cyph_mac_parse("02:ab:cd:00:11:ff:", mac), "bad MACs rejected");
	TAP_CHECK(cyph_name_valid("cam-1") && !cyph_name_valid("-cam") && !cyph_name_valid("") &&
		  !cyph_name_valid("a.b") &&
		  !cyph_name_valid("0123456789012345678901234567890123456789012345678901234567890123"),
		  "name validation");
	TAP_CHECK(cyph_gn_method_parse("8021x") == CYPH_GN_8021X && !cyph_gn_method_parse("eap") &&
		  cyph_ip_mode_parse("ipv6") == CYPH_IP_V6 && !cyph_ip_mode_parse("v6"),
		  "method and IP mode names");
}


static const struct backend backends[] = {
	{ "sqlite", sqlite_open, sqlite_schema },
	{ "postgres", pg_open, pg_schema },
};

static void run_backend(const struct backend *b)
{
	char err[512] = "";
	struct cyph_store *s;

	s = b->open("basic", true, err, sizeof(err));
	TAP_CHECK(s != NULL, "store created (%s)", err);
	if (!s)
		return;
	test_basic(s);
	cyph_store_close(s);
	/* the VIP cursor is shared per family: a fresh store for the /30 */
	s = b->open("vips", true, err, sizeof(err));
	TAP_CHECK(s != NULL, "second store created (%s)", err);
	if (!s)
		return;
	test_vips(s);
	test_revocation(s);
	cyph_store_close(s);
	s = b->open("pages", true, err, sizeof(err));
	TAP_CHECK(s != NULL, "third store created (%s)", err);
	if (!s)
		return;
	test_paging(s);
	cyph_store_close(s);
	test_concurrent(b);
	b->schema(b);
}

int main(void)
{
	char err[512] = "", cmd[400];

	if (!mkdtemp(dir))
		return 1;
	pg_conninfo = getenv("CYPH_TEST_PG");
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "%s: ", backends[i].name);
		tap_prefix = prefix;
		if (!strcmp(backends[i].name, "postgres") && (!pg_conninfo || !*pg_conninfo)) {
			tap_skip("CYPH_TEST_PG not set (tests/unit/suite.sh sets it)", "all cases");
			continue;
		}
		run_backend(&backends[i]);
	}
	tap_prefix = "";
	TAP_CHECK(!cyph_store_open("redis://u:hunter2@x", err, sizeof(err)) &&
		  strstr(err, "unsupported") && !strstr(err, "hunter2"),
		  "unsupported store named by its scheme only (%s)", err);
	test_helpers();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return tap_done();
}
