/* SPDX-License-Identifier: MIT */
/*
 * Test PKI for the e2e tests and fuzz target: a real AS CA (pki/ca.h) in a
 * temporary directory, node credentials issued by it (or by a second,
 * untrusted CA), the CRL as the AS publishes it, and the expectation that
 * matches a node.
 */
#ifndef CYPHONIC_TEST_E2E_FIXTURE_H
#define CYPHONIC_TEST_E2E_FIXTURE_H

#include "e2e/session.h"
#include "pki/ca.h"
#include "pki/cred.h"

struct e2e_pki {
	char dir[64];
	char ca_cert[128], ca_key[128], crl[128];
	struct cyph_ca_signer *signer;
	struct cyph_ca *ca;		/* the verifier's view: CA + CRL */
};

struct e2e_node {
	EVP_PKEY *key;
	uint8_t *der;
	size_t len;
	struct cyph_node_id id;
};

/* A CA named cn in a fresh temporary directory. 0 or -1 (message printed). */
int e2e_pki_init(struct e2e_pki *p, const char *cn);
void e2e_pki_fini(struct e2e_pki *p);

/*
 * Issues node nid ("n<nid>.e2e.test", VIPs 10.99.0.<nid> and fd99::<nid>)
 * valid from issued_at - 60 s for lifetime_s. 0 or -1.
 */
int e2e_node_issue(struct e2e_pki *p, struct e2e_node *n, uint64_t nid,
		   int64_t issued_at, int64_t lifetime_s);
/* The same with an access policy text ("g=...;r=...", pki/policy.h). */
int e2e_node_issue_policy(struct e2e_pki *p, struct e2e_node *n, uint64_t nid,
			  int64_t issued_at, int64_t lifetime_s, const char *policy);
void e2e_node_free(struct e2e_node *n);

/*
 * Revokes n the way the AS does (a SQLite registry in the directory
 * records and revokes the serial, ascommon's cyph_crl_publish() writes the
 * CRL) and loads that CRL into p->ca. 0 or -1.
 */
int e2e_pki_revoke(struct e2e_pki *p, const struct e2e_node *n);

/* What an initiator directed to n expects: its id, FQDN and VIPs. */
void e2e_expect_node(const struct e2e_node *n, struct e2e_expect *e);

#endif
