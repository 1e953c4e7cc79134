// SPDX-License-Identifier: MIT
/* AS protocol codec: round trips, hostile frames, random input; pwhash. */
#include "wire/asproto.h"
#include "pki/cred.h"
#include "pki/pwhash.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static struct cyph_as_msg parse_buf(struct cyph_as_buf *b, int *rc)
{
	struct cyph_as_msg m = { 0 };

	*rc = cyph_as_finish(b) || cyph_as_parse(b->data, b->len, &m);
	return m;
}

static void test_auth_roundtrip(void)
{
	struct cyph_as_auth_req r;
	struct cyph_as_buf b;
	struct cyph_as_msg m;
	uint8_t key[32] = { 7 };
	const char *why = "";
	int rc;

	cyph_as_buf_init(&b, CYPH_AS_MAX_REQUEST);
	cyph_as_begin(&b, CYPH_AS_AUTH_REQ, 77);
	cyph_as_put_str(&b, CYPH_AS_A_NAME, "alice");
	cyph_as_put_str(&b, CYPH_AS_A_PASSWORD, "pw");
	cyph_as_put(&b, CYPH_AS_A_PUBKEY, key, 32);
	cyph_as_put_u8(&b, 999, 1);	/* unknown attribute: ignored */
	m = parse_buf(&b, &rc);
	TAP_CHECK(!rc && m.version == CYPH_AS_VERSION && m.type == CYPH_AS_AUTH_REQ &&
		  m.req_id == 77, "header round trip");
	TAP_CHECK(!cyph_as_parse_auth_req(&m, &r, &why) && !strcmp(r.name, "alice") &&
		  !strcmp(r.password, "pw") && r.pubkey[0] == 7, "AUTH_REQ round trip (%s)", why);

	cyph_as_begin(&b, CYPH_AS_AUTH_REQ, 1);
	cyph_as_put_str(&b, CYPH_AS_A_NAME, "alice");
	cyph_as_put_str(&b, CYPH_AS_A_NAME, "bob");
	cyph_as_put_str(&b, CYPH_AS_A_PASSWORD, "pw");
	cyph_as_put(&b, CYPH_AS_A_PUBKEY, key, 32);
	m = parse_buf(&b, &rc);
	TAP_CHECK(cyph_as_parse_auth_req(&m, &r, &why) && strstr(why, "duplicate"),
		  "duplicate attribute rejected");

	cyph_as_begin(&b, CYPH_AS_AUTH_REQ, 1);
	cyph_as_put_str(&b, CYPH_AS_A_NAME, "alice");
	cyph_as_put_str(&b, CYPH_AS_A_PASSWORD, "pw");
	cyph_as_put(&b, CYPH_AS_A_PUBKEY, key, 31);
	m = parse_buf(&b, &rc);
	TAP_CHECK(cyph_as_parse_auth_req(&m, &r, &why), "short public key rejected");

	cyph_as_begin(&b, CYPH_AS_AUTH_REQ, 1);
	cyph_as_put(&b, CYPH_AS_A_NAME, "al\0ce", 5);
	cyph_as_put_str(&b, CYPH_AS_A_PASSWORD, "pw");
	cyph_as_put(&b, CYPH_AS_A_PUBKEY, key, 32);
	m = parse_buf(&b, &rc);
	TAP_CHECK(cyph_as_parse_auth_req(&m, &r, &why), "NUL inside a string rejected");

	cyph_as_begin(&b, CYPH_AS_AUTH_REQ, 1);
	cyph_as_put_str(&b, CYPH_AS_A_NAME, "alice");
	m = parse_buf(&b, &rc);
	TAP_CHECK(cyph_as_parse_auth_req(&m, &r, &why) && strstr(why, "needs"),
		  "missing attributes rejected");

	{
		char name[100];

		memset(name, 'a', sizeof(name) - 1);
		name[99] = '\0';
		cyph_as_begin(&b, CYPH_AS_AUTH_REQ, 1);
		cyph_as_put_str(&b, CYPH_AS_A_NAME, name);
		cyph_as_put_str(&b, CYPH_AS_A_PASSWORD, "pw");
		cyph_as_put(&b, CYPH_AS_A_PUBKEY, key, 32);
		m = parse_buf(&b, &rc);
		TAP_CHECK(cyph_as_parse_auth_req(&m, &r, &why), "overlong name rejected");
	}
	cyph_as_buf_free(&b);
}

static void test_framing(void)
{
	uint8_t f[64] = { 0, 0, 0, 8, 1, 0x10, 0, 0, 0, 0, 0, 1 };
	struct cyph_as_msg m;
	struct cyph_as_attr_v a;
	const uint8_t *p;
	size_t left;
	struct cyph_as_buf b;

	TAP_CHECK(!cyph_as_parse(f, 12, &m) && m.attrs_len == 0, "minimal frame");
	TAP_CHECK(cyph_as_parse(f, 11, &m), "short frame rejected");
	f[3] = 9;
	TAP_CHECK(cyph_as_parse(f, 12, &m), "length mismatch rejected");
	f[3] = 12;	/* one TLV header claiming 100 bytes */
	f[12] = 0; f[13] = 1; f[14] = 0; f[15] = 100;
	TAP_CHECK(!cyph_as_parse(f, 16, &m), "frame with a TLV parses");
	p = m.attrs;
	left = m.attrs_len;
	TAP_CHECK(cyph_as_next(&p, &left, &a) == -1, "TLV running past the frame rejected");
	p = f;
	left = 3;
	TAP_CHECK(cyph_as_next(&p, &left, &a) == -1, "partial TLV header rejected");
	TAP_CHECK(cyph_as_frame_len(f, 3) == 0, "frame length needs 4 bytes");

	cyph_as_buf_init(&b, 64);
	cyph_as_begin(&b, CYPH_AS_AUTH_REQ, 1);
	cyph_as_put(&b, CYPH_AS_A_CERT, f, 60);
	TAP_CHECK(b.failed && cyph_as_finish(&b) == -1, "writer enforces the size limit");
	cyph_as_buf_free(&b);
}

static int collect(const struct cyph_principal *g, void *arg)
{
	struct cyph_principal *out = arg;

	out[out[0].id ? 1 : 0] = *g;
	return 0;
}

static void test_gnodes_and_cred(void)
{
	struct cyph_principal g = { .id = 5, .method = CYPH_GN_BASIC, .ip_mode = CYPH_IP_V6,
				    .has_vip6 = true, .mac = { 2, 0, 0, 0, 0, 9 } };
	struct cyph_principal got[2] = { 0 };
	struct cyph_as_cred c = { .node_id = 42, .role = CYPH_ROLE_GENERAL, .has_vip4 = true,
				  .not_after = 12345 };
	struct cyph_as_cred cc;
	struct cyph_as_error e;
	struct cyph_as_buf b;
	struct cyph_as_msg m;
	uint8_t cert[300] = { 0x30 };
	const char *why = "";
	int rc;

	strcpy(g.name, "plc");
	strcpy(g.fqdn, "plc.cyph.test");
	strcpy(g.pwhash, "$pbkdf2-sha256$1000$c2FsdA==$a2V5");
	g.vip6.s6_addr[15] = 3;
	cyph_as_buf_init(&b, CYPH_AS_MAX_RESPONSE);
	cyph_as_begin(&b, CYPH_AS_GN_LIST_RESP, 3);
	cyph_as_put_gnode(&b, &g);
	g.id = 6;
	g.method = CYPH_GN_8021X;
	strcpy(g.pwhash, "nt:8846f7eaee8fb117ad06bdd830b7586c");
	cyph_as_put_gnode(&b, &g);
	m = parse_buf(&b, &rc);
	TAP_CHECK(!rc && !cyph_as_parse_gn_list(&m, collect, got, &why) && got[0].id == 5 &&
		  got[1].id == 6 && !strcmp(got[1].name, "plc") && got[1].mac[5] == 9 &&
		  got[1].method == CYPH_GN_8021X && got[1].has_vip6 && got[1].vip6.s6_addr[15] == 3,
		  "general-node list round trip");
	TAP_CHECK(!got[0].pwhash[0], "a basic node's PBKDF2 hash is never sent to the adapter");
	TAP_CHECK(!strcmp(got[1].pwhash, "nt:8846f7eaee8fb117ad06bdd830b7586c"),
		  "an 802.1X node's NT hash reaches its adapter (EAP_SECRET)");

	strcpy(c.fqdn, "cam.cyph.test");
	c.cert = cert;
	c.cert_len = sizeof(cert);
	cyph_as_begin(&b, CYPH_AS_GN_AUTH_RESP, 4);
	cyph_as_put_cred(&b, &c);
	m = parse_buf(&b, &rc);
	TAP_CHECK(!cyph_as_parse_cred(&m, &cc, &why) && cc.node_id == 42 &&
		  cc.role == CYPH_ROLE_GENERAL && cc.not_after == 12345 && cc.cert_len == 300 &&
		  !strcmp(cc.fqdn, "cam.cyph.test"), "credential round trip");

	cyph_as_begin(&b, CYPH_AS_ERROR, 9);
	cyph_as_put_u16(&b, CYPH_AS_A_ERR_CODE, CYPH_AS_E_REVOKED);
	cyph_as_put_str(&b, CYPH_AS_A_ERR_MSG, "bad\nline");
	m = parse_buf(&b, &rc);
	TAP_CHECK(!cyph_as_parse_error(&m, &e, &why) && e.code == CYPH_AS_E_REVOKED &&
		  !strcmp(e.msg, "bad?line"), "error round trip, control characters masked");
	TAP_CHECK(!strcmp(cyph_as_err_name(CYPH_AS_E_AUTH_FAILED), "auth-failed") &&
		  !strcmp(cyph_as_err_name(999), "unknown-error"), "error names");
	cyph_as_buf_free(&b);
}

/*
 * What the AS sends about general nodes ends up in files the adapter
 * writes for root's helpers (dnsmasq's hosts, hostapd's eap_user) and in
 * its DNS: a name or FQDN that is no DNS name (a newline, a quote, a
 * comma) is a hostile or broken AS, refused at the codec.
 */
static void test_hostile_names(void)
{
	static const char *const bad_names[] = {
		"cam\n02:00:5e:00:00:66,10.0.0.5", "cam\" MSCHAPV2", "cam,infinite", "Cam", "-cam",
		"cam/../x", "",
	};
	static const char *const bad_fqdns[] = {
		"cam.cyph.test\nconf-file=/tmp/x", "cam.cyph.test/#1.2.3.4", "cam..cyph.test",
		".cyph.test", "cam.cyph.test.", "cam cyph.test", "CAM.cyph.test",
	};
	struct cyph_principal g = { .id = 5, .method = CYPH_GN_MAC, .ip_mode = CYPH_IP_V4 };
	struct cyph_principal got[2];
	struct cyph_as_cred c = { .node_id = 42, .role = CYPH_ROLE_ADAPTER };
	struct cyph_as_cred cc;
	struct cyph_as_buf b;
	struct cyph_as_msg m;
	uint8_t cert[64] = { 0x30 };
	const char *why = "";
	int rc, refused = 0;

	cyph_as_buf_init(&b, CYPH_AS_MAX_RESPONSE);
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		snprintf(g.name, sizeof(g.name), "%s", bad_names[i]);
		strcpy(g.fqdn, "cam.cyph.test");
		cyph_as_begin(&b, CYPH_AS_GN_LIST_RESP, 3);
		cyph_as_put_gnode(&b, &g);
		m = parse_buf(&b, &rc);
		memset(got, 0, sizeof(got));
		refused += !rc && cyph_as_parse_gn_list(&m, collect, got, &why) && !got[0].id;
	}
	TAP_CHECK(refused == (int)(sizeof(bad_names) / sizeof(bad_names[0])),
		  "GN_LIST with a name that is no DNS label refused (%d)", refused);
	refused = 0;
	for (size_t i = 0; i < sizeof(bad_fqdns) / sizeof(bad_fqdns[0]); i++) {
		strcpy(g.name, "cam");
		snprintf(g.fqdn, sizeof(g.fqdn), "%s", bad_fqdns[i]);
		cyph_as_begin(&b, CYPH_AS_GN_LIST_RESP, 3);
		cyph_as_put_gnode(&b, &g);
		m = parse_buf(&b, &rc);
		memset(got, 0, sizeof(got));
		refused += !rc && cyph_as_parse_gn_list(&m, collect, got, &why) && !got[0].id;
		snprintf(c.fqdn, sizeof(c.fqdn), "%s", bad_fqdns[i]);
		c.cert = cert;
		c.cert_len = sizeof(cert);
		cyph_as_begin(&b, CYPH_AS_AUTH_RESP, 4);
		cyph_as_put_cred(&b, &c);
		m = parse_buf(&b, &rc);
		refused += !rc && cyph_as_parse_cred(&m, &cc, &why);
	}
	TAP_CHECK(refused == 2 * (int)(sizeof(bad_fqdns) / sizeof(bad_fqdns[0])),
		  "GN_LIST and credentials with an FQDN that is no DNS name refused (%d)", refused);
	strcpy(g.name, "cam-1");
	strcpy(g.fqdn, "cam-1.site-2.cyph.test");
	cyph_as_begin(&b, CYPH_AS_GN_LIST_RESP, 3);
	cyph_as_put_gnode(&b, &g);
	m = parse_buf(&b, &rc);
	memset(got, 0, sizeof(got));
	TAP_CHECK(!rc && !cyph_as_parse_gn_list(&m, collect, got, &why) && got[0].id == 5,
		  "a good name and FQDN still parse (%s)", why);
	cyph_as_buf_free(&b);
}

/* Random frames must never crash the parsers (ASan watches). */
static void test_random(void)
{
	uint8_t buf[512];
	unsigned int seed = 12345;
	struct cyph_as_auth_req ar;
	struct cyph_as_gn_auth_req gr;
	struct cyph_as_cred c;
	struct cyph_as_error e;
	struct cyph_principal g[2];
	int parsed = 0;

	for (int i = 0; i < 20000; i++) {
		size_t len = 12 + (size_t)(rand_r(&seed) % 200);
		struct cyph_as_msg m;
		const char *why;

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rand_r(&seed);
		/* valid header half the time so the TLV parsers get exercised */
		buf[0] = buf[1] = 0;
		buf[2] = (uint8_t)((len - 4) >> 8);
		buf[3] = (uint8_t)(len - 4);
		if (i % 2) {	/* plausible TLV lengths */
			buf[14] = 0;
			buf[15] = (uint8_t)(rand_r(&seed) % 40);
		}
		if (cyph_as_parse(buf, len, &m))
			continue;
		parsed++;
		cyph_as_parse_auth_req(&m, &ar, &why);
		cyph_as_parse_gn_auth_req(&m, &gr, &why);
		cyph_as_parse_cred(&m, &c, &why);
		cyph_as_parse_error(&m, &e, &why);
		memset(g, 0, sizeof(g));
		cyph_as_parse_gn_list(&m, collect, g, &why);
	}
	TAP_CHECK(parsed == 20000, "20000 random frames parsed without a crash");
}

static void test_pwhash(void)
{
	char h[CYPH_PW_HASH_MAX], h2[CYPH_PW_HASH_MAX], bad[CYPH_PW_HASH_MAX];
	char longpw[CYPH_PW_MAX_LEN + 10];

	TAP_CHECK(!cyph_pw_hash("s3cret", 1000, h) && !strncmp(h, "$pbkdf2-sha256$1000$", 20),
		  "hash format");
	TAP_CHECK(!cyph_pw_hash("s3cret", 1000, h2) && strcmp(h, h2), "random salt");
	TAP_CHECK(cyph_pw_verify("s3cret", h), "right password verifies");
	TAP_CHECK(!cyph_pw_verify("s3creT", h) && !cyph_pw_verify("", h), "wrong password fails");
	TAP_CHECK(cyph_pw_hash("x", 10, h2) == -1, "too few iterations refused");
	strcpy(bad, h);
	bad[strlen(bad) - 3] = '!';
	TAP_CHECK(!cyph_pw_verify("s3cret", bad), "corrupt hash never matches");
	TAP_CHECK(!cyph_pw_verify("s3cret", "$pbkdf2-sha256$1$AAAA$AAAA") &&
		  !cyph_pw_verify("s3cret", "plaintext") && !cyph_pw_verify("s3cret", ""),
		  "malformed hashes never match");
	memset(longpw, 'p', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	TAP_CHECK(cyph_pw_hash(longpw, 1000, h2) == -1, "overlong password refused");
}

int main(void)
{
	test_auth_roundtrip();
	test_framing();
	test_gnodes_and_cred();
	test_hostile_names();
	test_random();
	test_pwhash();
	return tap_done();
}
