// SPDX-License-Identifier: MIT
/* Test PKI for the e2e tests (e2e_fixture.h). */
#include "e2e_fixture.h"
#include "ascommon/crlpub.h"
#include "stores/store.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int e2e_pki_init(struct e2e_pki *p, const char *cn)
{
	char err[512];

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/test_e2e.XXXXXX");
	if (!mkdtemp(p->dir)) {
		perror("# mkdtemp");
		return -1;
	}
	snprintf(p->ca_cert, sizeof(p->ca_cert), "%s/ca.pem", p->dir);
	snprintf(p->ca_key, sizeof(p->ca_key), "%s/ca.key", p->dir);
	snprintf(p->crl, sizeof(p->crl), "%s/crl.pem", p->dir);
	if (cyph_ca_create(p->ca_cert, p->ca_key, cn, 1, err, sizeof(err)) ||
	    !(p->signer = cyph_ca_signer_load(p->ca_cert, p->ca_key, err, sizeof(err))) ||
	    !(p->ca = cyph_ca_load(p->ca_cert, err, sizeof(err)))) {
		printf("# test PKI: %s\n", err);
		return -1;
	}
	return 0;
}

void e2e_pki_fini(struct e2e_pki *p)
{
	char path[160];

	cyph_ca_signer_free(p->signer);
	cyph_ca_free(p->ca);
	unlink(p->ca_cert);
	unlink(p->ca_key);
	unlink(p->crl);
	snprintf(path, sizeof(path), "%s/registry.db", p->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/registry.db-wal", p->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/registry.db-shm", p->dir);
	unlink(path);
	if (p->dir[0])
		rmdir(p->dir);
}

int e2e_node_issue(struct e2e_pki *p, struct e2e_node *n, uint64_t nid,
		   int64_t issued_at, int64_t lifetime_s)
{
	return e2e_node_issue_policy(p, n, nid, issued_at, lifetime_s, NULL);
}

int e2e_node_issue_policy(struct e2e_pki *p, struct e2e_node *n, uint64_t nid,
			  int64_t issued_at, int64_t lifetime_s, const char *policy)
{
	char err[512], ip[64];

	memset(n, 0, sizeof(*n));
	if (policy)
		snprintf(n->id.policy_text, sizeof(n->id.policy_text), "%s", policy);
	n->id.id = nid;
	n->id.role = CYPH_ROLE_NODE;
	snprintf(n->id.fqdn, sizeof(n->id.fqdn), "n%llu.e2e.test", (unsigned long long)nid);
	snprintf(ip, sizeof(ip), "10.99.0.%u", (unsigned int)(nid & 0xff));
	inet_pton(AF_INET, ip, &n->id.vip4);
	snprintf(ip, sizeof(ip), "fd99::%x", (unsigned int)(nid & 0xffff));
	inet_pton(AF_INET6, ip, &n->id.vip6);
	n->id.has_vip4 = n->id.has_vip6 = true;
	if (!(n->key = cyph_key_generate()) || cyph_key_public(n->key, n->id.pubkey) ||
	    cyph_ca_issue(p->signer, &n->id, issued_at, lifetime_s, &n->der, &n->len,
			  err, sizeof(err))) {
		printf("# issue node %llu: %s\n", (unsigned long long)nid, err);
		return -1;
	}
	return 0;
}

void e2e_node_free(struct e2e_node *n)
{
	EVP_PKEY_free(n->key);
	free(n->der);
	memset(n, 0, sizeof(*n));
}

/* The AS's path: the registry records the certificate, revokes it, and
 * cyph_crl_publish() writes the CRL from the registry. */
int e2e_pki_revoke(struct e2e_pki *p, const struct e2e_node *n)
{
	struct cyph_principal pr = { .role = CYPH_ROLE_NODE, .ip_mode = CYPH_IP_DUAL };
	struct cyph_vip_pool pool = { .v4.len = 24, .v6.len = 64 };
	struct cyph_store *st;
	char err[512] = "", db[160];
	int64_t now = time(NULL);
	int rc = -1;

	snprintf(db, sizeof(db), "%s/registry.db", p->dir);
	snprintf(pr.name, sizeof(pr.name), "n%llu-%lld", (unsigned long long)n->id.id,
		 (long long)n->id.serial[1]);
	inet_pton(AF_INET, "10.99.0.0", &pool.v4.addr);
	inet_pton(AF_INET6, "fd99::", &pool.v6.addr);
	st = cyph_store_open_sqlite(db, err, sizeof(err));
	if (st && !st->ops->add(st, &pr, "e2e.test", &pool, err, sizeof(err)) &&
	    !st->ops->cert_issued(st, pr.id, n->id.serial, n->id.serial_len, now,
				  n->id.not_after, err, sizeof(err)) &&
	    !st->ops->revoke_serial(st, n->id.serial, n->id.serial_len, now, err, sizeof(err)) &&
	    cyph_crl_publish(st, p->signer, p->crl, 3600, err, sizeof(err)) >= 1)
		rc = 0;
	if (st)
		st->ops->close(st);
	if (rc) {
		printf("# CRL: %s\n", err);
		return -1;
	}
	if (cyph_ca_load_crl(p->ca, p->crl)) {
		printf("# CRL load: %s\n", cyph_ca_error(p->ca));
		return -1;
	}
	return 0;
}

void e2e_expect_node(const struct e2e_node *n, struct e2e_expect *e)
{
	memset(e, 0, sizeof(*e));
	e->id = n->id.id;
	snprintf(e->fqdn, sizeof(e->fqdn), "%s", n->id.fqdn);
	e->vip4 = n->id.vip4;
	e->vip6 = n->id.vip6;
	e->has_vip4 = n->id.has_vip4;
	e->has_vip6 = n->id.has_vip6;
}
