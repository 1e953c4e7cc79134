// SPDX-License-Identifier: MIT
/* SQLite registry: schema, VIP allocation, uniqueness, revocation. */
#include "pki/cred.h"
#include "stores/store.h"
#include "tap.h"

#include <arpa/inet.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/test_store.XXXXXX";
static char dbpath[300];

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

static void test_schema(void)
{
	char p[320], err[512] = "";
	struct cyph_store *s;
	sqlite3 *db;

	snprintf(p, sizeof(p), "%s/future.db", dir);
	sqlite3_open(p, &db);
	sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL);
	sqlite3_close(db);
	s = cyph_store_open_sqlite(p, err, sizeof(err));
	TAP_CHECK(!s && strstr(err, "newer than this program") && strstr(err, p),
		  "newer schema refused (%s)", err);
	s = cyph_store_open_sqlite(dbpath, err, sizeof(err));
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
	TAP_CHECK(!cyph_store_open("postgres://x", err, sizeof(err)) && strstr(err, "unsupported"),
		  "unsupported store named");
	TAP_CHECK(!cyph_store_open_sqlite("/nonexistent/dir/x.db", err, sizeof(err)) &&
		  strstr(err, "/nonexistent/dir/x.db"), "unopenable path named (%s)", err);
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

int main(void)
{
	struct cyph_store *s, *s2;
	char err[512] = "", cmd[400];

	if (!mkdtemp(dir))
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/as.db", dir);
	s = cyph_store_open_sqlite(dbpath, err, sizeof(err));
	TAP_CHECK(s != NULL, "store created (%s)", err);
	if (s) {
		test_basic(s);
		cyph_store_close(s);
		snprintf(dbpath, sizeof(dbpath), "%s/vips.db", dir);
		s2 = cyph_store_open(dbpath, err, sizeof(err));
		test_vips(s2);
		test_revocation(s2);
		cyph_store_close(s2);
		test_schema();
	}
	test_helpers();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return tap_done();
}
