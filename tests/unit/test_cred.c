// SPDX-License-Identifier: MIT
/* CA creation, issuing, verification, CRL and hostile certificates. */
#include "pki/ca.h"
#include "pki/cred.h"
#include "tap.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/test_cred.XXXXXX";
static char cert_path[256], key_path[256], crl_path[256];

static void issue(struct cyph_ca_signer *s, EVP_PKEY *k, uint64_t nid, uint8_t role,
		  int64_t now, int64_t life, uint8_t **der, size_t *len,
		  struct cyph_node_id *id)
{
	char err[512];

	memset(id, 0, sizeof(*id));
	id->id = nid;
	id->role = role;
	snprintf(id->fqdn, sizeof(id->fqdn), "n%llu.cyph.test", (unsigned long long)nid);
	inet_pton(AF_INET, "10.77.0.5", &id->vip4);
	id->has_vip4 = true;
	inet_pton(AF_INET6, "fd00:77::5", &id->vip6);
	id->has_vip6 = true;
	cyph_key_public(k, id->pubkey);
	if (cyph_ca_issue(s, id, now, life, der, len, err, sizeof(err)))
		printf("# issue: %s\n", err);
}

static void test_roundtrip(struct cyph_ca_signer *s, struct cyph_ca *ca, EVP_PKEY *k)
{
	struct cyph_node_id id, got;
	int64_t now = time(NULL);
	uint8_t *der = NULL;
	size_t len = 0;
	char err[512];

	issue(s, k, 42, CYPH_ROLE_ADAPTER, now, 3600, &der, &len, &id);
	TAP_CHECK(der && len > 100, "issue produces a certificate");
	TAP_CHECK(!cyph_cred_verify(ca, der, len, now, &got, err, sizeof(err)),
		  "fresh certificate verifies (%s)", err);
	TAP_CHECK(got.id == 42 && got.role == CYPH_ROLE_ADAPTER, "id and role bound");
	TAP_CHECK(!strcmp(got.fqdn, "n42.cyph.test"), "fqdn bound");
	TAP_CHECK(got.has_vip4 && got.has_vip6 && got.vip4.s_addr == id.vip4.s_addr &&
		  !memcmp(&got.vip6, &id.vip6, 16), "VIPs bound");
	TAP_CHECK(!memcmp(got.pubkey, id.pubkey, 32), "public key bound");
	TAP_CHECK(got.not_after == now + 3600, "expiry bound");
	TAP_CHECK(got.serial_len == 16 && !memcmp(got.serial, id.serial, 16), "serial reported");
	TAP_CHECK(cyph_cred_verify(ca, der, len, now + 3601, &got, err, sizeof(err)) &&
		  strstr(err, "expired"), "expired certificate rejected (%s)", err);
	TAP_CHECK(cyph_cred_verify(ca, der, len, now - 3600, &got, err, sizeof(err)),
		  "not-yet-valid certificate rejected");
	der[len / 2] ^= 1;
	TAP_CHECK(cyph_cred_verify(ca, der, len, now, &got, err, sizeof(err)),
		  "bit flip rejected (%s)", err);
	TAP_CHECK(cyph_cred_verify(ca, der, len - 1, now, &got, err, sizeof(err)),
		  "truncated certificate rejected");
	TAP_CHECK(cyph_cred_verify(ca, der, 0, now, &got, err, sizeof(err)),
		  "empty input rejected");
	free(der);
}

/*
 * The FQDN of a certificate names files and configuration the adapter
 * writes (its DNS domain goes into dnsmasq's configuration): a DNS SAN
 * that is no DNS name is refused, even under the right CA.
 */
static void test_hostile_fqdn(struct cyph_ca_signer *s, struct cyph_ca *ca, EVP_PKEY *k)
{
	static const char *const bad[] = {
		"gw1.cyph.test\nconf-file=/tmp/x", "gw1.cyph.test/#127.0.0.1", "gw1..cyph.test",
		"GW1.cyph.test", "gw1 .cyph.test",
	};
	struct cyph_node_id id, got;
	int64_t now = time(NULL);
	char err[512];
	int refused = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *der = NULL;
		size_t len = 0;

		memset(&id, 0, sizeof(id));
		id.id = 7;
		id.role = CYPH_ROLE_ADAPTER;
		snprintf(id.fqdn, sizeof(id.fqdn), "%s", bad[i]);
		cyph_key_public(k, id.pubkey);
		if (cyph_ca_issue(s, &id, now, 3600, &der, &len, err, sizeof(err))) {
			refused++;	/* the CA does not even make it */
			continue;
		}
		refused += cyph_cred_verify(ca, der, len, now, &got, err, sizeof(err)) != 0;
		free(der);
	}
	TAP_CHECK(refused == (int)(sizeof(bad) / sizeof(bad[0])),
		  "a DNS SAN that is no DNS name is refused (%d)", refused);
}

static void test_revocation(struct cyph_ca_signer *s, struct cyph_ca *ca, EVP_PKEY *k)
{
	struct cyph_node_id id, got;
	struct cyph_crl_entry e = { 0 };
	int64_t now = time(NULL);
	uint8_t *der = NULL;
	size_t len = 0;
	char err[512];

	issue(s, k, 7, CYPH_ROLE_NODE, now, 600, &der, &len, &id);
	memcpy(e.serial, id.serial, id.serial_len);
	e.serial_len = id.serial_len;
	e.revoked_at = now;
	e.node_id = 0x1234567890ULL;	/* for the TRS, which knows nodes by id */
	TAP_CHECK(!cyph_ca_write_crl(s, &e, 1, now, 86400, crl_path, err, sizeof(err)),
		  "CRL written (%s)", err);
	TAP_CHECK(cyph_ca_crl_refresh(ca) == 0, "refresh without a CRL is a no-op");
	TAP_CHECK(!cyph_ca_load_crl(ca, crl_path), "CRL loads (%s)", cyph_ca_error(ca));
	TAP_CHECK(cyph_ca_crl_count(ca) == 1, "one revoked serial");
	{
		uint64_t *ids;
		size_t n = cyph_ca_revoked_nodes(ca, &ids);

		TAP_CHECK(n == 1 && ids[0] == 0x1234567890ULL,
			  "the CRL entry carries the revoked node's id");
		free(ids);
	}
	TAP_CHECK(cyph_cred_verify(ca, der, len, now, &got, err, sizeof(err)) &&
		  strstr(err, "revoked"), "revoked certificate rejected (%s)", err);
	TAP_CHECK(!cyph_ca_write_crl(s, NULL, 0, now, 86400, crl_path, err, sizeof(err)),
		  "empty CRL written");
	{
		struct timespec ts[2] = { { .tv_sec = now + 5 }, { .tv_sec = now + 5 } };

		utimensat(AT_FDCWD, crl_path, ts, 0);	/* same-second rewrite */
	}
	TAP_CHECK(cyph_ca_crl_refresh(ca) == 1, "changed CRL reloaded");
	TAP_CHECK(cyph_ca_crl_count(ca) == 0 &&
		  !cyph_cred_verify(ca, der, len, now, &got, err, sizeof(err)),
		  "un-revoked certificate verifies again");
	TAP_CHECK(cyph_ca_crl_refresh(ca) == 0, "unchanged CRL not reloaded");
	free(der);
}

static void test_foreign_ca(struct cyph_ca *ca, EVP_PKEY *k)
{
	char c2[300], k2[300], err[512];
	struct cyph_ca_signer *other;
	struct cyph_node_id id, got;
	uint8_t *der = NULL;
	size_t len = 0;
	FILE *f;

	snprintf(c2, sizeof(c2), "%s/other.crt", dir);
	snprintf(k2, sizeof(k2), "%s/other.key", dir);
	cyph_ca_create(c2, k2, "other", 1, err, sizeof(err));
	other = cyph_ca_signer_load(c2, k2, err, sizeof(err));
	issue(other, k, 9, CYPH_ROLE_NODE, time(NULL), 600, &der, &len, &id);
	TAP_CHECK(cyph_cred_verify(ca, der, len, time(NULL), &got, err, sizeof(err)),
		  "certificate from another CA rejected (%s)", err);
	/* a CRL signed by another CA must not be accepted */
	TAP_CHECK(!cyph_ca_write_crl(other, NULL, 0, time(NULL), 60, c2, err, sizeof(err)) &&
		  cyph_ca_load_crl(ca, c2) && strstr(cyph_ca_error(ca), "not signed"),
		  "foreign CRL rejected (%s)", cyph_ca_error(ca));
	f = fopen(k2, "w");
	fputs("garbage\n", f);
	fclose(f);
	TAP_CHECK(cyph_ca_load_crl(ca, k2), "garbage CRL rejected");
	TAP_CHECK(cyph_ca_load_crl(ca, "/nonexistent/crl.pem") &&
		  strstr(cyph_ca_error(ca), "No such file"), "missing CRL reported");
	free(der);
	cyph_ca_signer_free(other);
}

static void test_sig(EVP_PKEY *k)
{
	uint8_t pub[32], sig[64], msg[] = "register me";

	cyph_key_public(k, pub);
	TAP_CHECK(!cyph_sig_sign(k, msg, sizeof(msg), sig), "sign");
	TAP_CHECK(!cyph_sig_verify(pub, msg, sizeof(msg), sig), "signature verifies");
	msg[0] ^= 1;
	TAP_CHECK(cyph_sig_verify(pub, msg, sizeof(msg), sig), "tampered message rejected");
	msg[0] ^= 1;
	sig[10] ^= 1;
	TAP_CHECK(cyph_sig_verify(pub, msg, sizeof(msg), sig), "tampered signature rejected");
}

static void test_files(void)
{
	char p[300], err[512];
	EVP_PKEY *k = cyph_key_generate(), *k2;
	uint8_t a[32], b[32];
	struct stat st;

	snprintf(p, sizeof(p), "%s/node.key", dir);
	TAP_CHECK(!cyph_key_save(k, p, err, sizeof(err)), "key saved");
	TAP_CHECK(!stat(p, &st) && (st.st_mode & 0777) == 0600, "key file mode 0600");
	k2 = cyph_key_load(p, err, sizeof(err));
	TAP_CHECK(k2 && !cyph_key_public(k, a) && !cyph_key_public(k2, b) &&
		  !memcmp(a, b, 32), "key round trip");
	{
		/*
		 * Regression: the temporary file was opened with O_TRUNC, so a
		 * file planted under its name (mode 0666, kept open) received
		 * the private key.
		 */
		char tmp[320], leak[64];
		int fd;

		snprintf(tmp, sizeof(tmp), "%s.tmp.%d", p, (int)getpid());
		fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0666);
		TAP_CHECK(fd >= 0 && !cyph_key_save(k, p, err, sizeof(err)) &&
			  pread(fd, leak, sizeof(leak), 0) == 0,
			  "key save never writes into a pre-existing temporary file");
		if (fd >= 0)
			close(fd);
	}
	TAP_CHECK(!cyph_key_load("/nonexistent", err, sizeof(err)) &&
		  strstr(err, "/nonexistent"), "missing key names the file (%s)", err);
	TAP_CHECK(!stat(key_path, &st) && (st.st_mode & 0777) == 0600, "CA key mode 0600");
	TAP_CHECK(cyph_ca_create(cert_path, key_path, "x", 1, err, sizeof(err)) &&
		  strstr(err, "refusing"), "CA creation refuses to overwrite");
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

int main(void)
{
	struct cyph_ca_signer *s;
	struct cyph_ca *ca;
	char err[512] = "", cmd[300];
	EVP_PKEY *k;

	if (!mkdtemp(dir))
		return 1;
	snprintf(cert_path, sizeof(cert_path), "%s/ca.crt", dir);
	snprintf(key_path, sizeof(key_path), "%s/ca.key", dir);
	snprintf(crl_path, sizeof(crl_path), "%s/crl.pem", dir);
	TAP_CHECK(!cyph_ca_create(cert_path, key_path, "test CA", 30, err, sizeof(err)),
		  "CA created (%s)", err);
	s = cyph_ca_signer_load(cert_path, key_path, err, sizeof(err));
	TAP_CHECK(s != NULL, "signer loads (%s)", err);
	ca = cyph_ca_load(cert_path, err, sizeof(err));
	TAP_CHECK(ca != NULL, "trust store loads (%s)", err);
	k = cyph_key_generate();
	if (s && ca && k) {
		test_roundtrip(s, ca, k);
		test_hostile_fqdn(s, ca, k);
		test_revocation(s, ca, k);
		test_foreign_ca(ca, k);
		test_sig(k);
		test_files();
	}
	TAP_CHECK(!cyph_ca_load(key_path, err, sizeof(err)), "a key is not a CA certificate");
	TAP_CHECK(cyph_role_parse("adapter") == CYPH_ROLE_ADAPTER &&
		  cyph_role_parse("root") == CYPH_ROLE_NONE &&
		  !strcmp(cyph_role_name(CYPH_ROLE_GENERAL), "general"), "role names");
	EVP_PKEY_free(k);
	cyph_ca_free(ca);
	cyph_ca_signer_free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return tap_done();
}
