// SPDX-License-Identifier: MIT
/*
 * The NMS's check of its own credential (user/cyphonic-nms/identity.c,
 * issue 12): a matching, valid node certificate passes and reports its
 * expiry; a key of another certificate, an expired or not-yet-valid
 * certificate, one from another CA, and an adapter's certificate are
 * refused with a message naming the problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pki/ca.h"
#include "pki/cred.h"
#include "nmsd.h"
#include "tap.h"

static char dir[] = "/tmp/test_nms_identity.XXXXXX";

static uint8_t *issue(struct cyph_ca_signer *s, EVP_PKEY *k, uint8_t role, const char *fqdn,
		      int64_t now, int64_t life, size_t *len)
{
	struct cyph_node_id id = { .id = 1, .role = role };
	uint8_t *der = NULL;
	char err[512];

	snprintf(id.fqdn, sizeof(id.fqdn), "%s", fqdn);
	cyph_key_public(k, id.pubkey);
	if (cyph_ca_issue(s, &id, now, life, &der, len, err, sizeof(err)))
		printf("# issue: %s\n", err);
	return der;
}

static bool refused(struct cyph_ca *ca, EVP_PKEY *k, const uint8_t *der, size_t len,
		    int64_t now, const char *want)
{
	int64_t na = 0;
	char err[512] = "";
	int rc = nmsd_identity_check(ca, k, der, len, now, &na, err, sizeof(err));

	printf("# %s\n", err);
	return rc == -1 && strstr(err, want);
}

int main(void)
{
	char cert[300], key[300], cert2[300], key2[300], err[512] = "";
	int64_t now = time(NULL), na = 0;
	struct cyph_ca_signer *s, *s2;
	struct cyph_ca *ca;
	EVP_PKEY *k, *k2;
	uint8_t *der;
	size_t len = 0;

	if (!mkdtemp(dir))
		return 1;
	snprintf(cert, sizeof(cert), "%s/ca.crt", dir);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	snprintf(cert2, sizeof(cert2), "%s/ca2.crt", dir);
	snprintf(key2, sizeof(key2), "%s/ca2.key", dir);
	if (cyph_ca_create(cert, key, "test CA", 30, err, sizeof(err)) ||
	    cyph_ca_create(cert2, key2, "other CA", 30, err, sizeof(err)))
		printf("# %s\n", err);
	s = cyph_ca_signer_load(cert, key, err, sizeof(err));
	s2 = cyph_ca_signer_load(cert2, key2, err, sizeof(err));
	ca = cyph_ca_load(cert, err, sizeof(err));
	k = cyph_key_generate();
	k2 = cyph_key_generate();
	TAP_CHECK(s && s2 && ca && k && k2, "test CAs and keys (%s)", err);

	der = issue(s, k, CYPH_ROLE_NODE, "nms.cyph.test", now, 3600, &len);
	TAP_CHECK(!nmsd_identity_check(ca, k, der, len, now, &na, err, sizeof(err)) &&
		  na == now + 3600, "a valid NMS identity passes, expiry reported (%s)", err);
	TAP_CHECK(refused(ca, k2, der, len, now, "key does not match"),
		  "a key of another certificate: refused");
	TAP_CHECK(refused(ca, k, der, len, now + 3601, "expired"), "an expired certificate: refused");
	TAP_CHECK(refused(ca, k, der, len, now - 3600, "not valid yet"),
		  "a not-yet-valid certificate: refused");
	free(der);
	der = issue(s2, k, CYPH_ROLE_NODE, "nms.cyph.test", now, 3600, &len);
	TAP_CHECK(refused(ca, k, der, len, now, "not issued by"), "another CA's certificate: refused");
	free(der);
	der = issue(s, k, CYPH_ROLE_ADAPTER, "nms.cyph.test", now, 3600, &len);
	TAP_CHECK(refused(ca, k, der, len, now, "role adapter"), "an adapter's certificate: refused");
	free(der);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	cyph_ca_free(ca);
	cyph_ca_signer_free(s);
	cyph_ca_signer_free(s2);
	snprintf(cert, sizeof(cert), "rm -rf %s", dir);
	if (system(cert))
		printf("# cleanup failed\n");
	return tap_done();
}
