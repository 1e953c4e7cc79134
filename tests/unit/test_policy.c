// SPDX-License-Identifier: MIT
/*
 * Access policy: the certificate text (pki/policy.c) and its decision,
 * the AS's policy file (ascommon/policyfile.c): parsing, editing, the
 * groups and reach it gives a principal, and the certificate the CA
 * issues carrying them.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ascommon/policyfile.h"
#include "pki/ca.h"
#include "pki/cred.h"
#include "tap.h"

static struct cyph_policy pol(const char *t)
{
	struct cyph_policy p;

	if (cyph_policy_parse(t, strlen(t), &p))
		memset(&p, 0xff, sizeof(p));	/* fails every check below */
	return p;
}

static bool parses(const char *t)
{
	struct cyph_policy p;

	return !cyph_policy_parse(t, strlen(t), &p);
}

static void test_text(void)
{
	struct cyph_policy node = pol(cyph_policy_default_text(CYPH_ROLE_NODE));
	struct cyph_policy adapter = pol(cyph_policy_default_text(CYPH_ROLE_ADAPTER));
	struct cyph_policy general = pol(cyph_policy_default_text(CYPH_ROLE_GENERAL));
	struct cyph_policy staff = pol("g=staff;r=cams"), cam = pol("g=cams,general;r=");
	struct cyph_policy admin = pol("g=admins;r=*");

	TAP_CHECK(parses("g=a,b-1;r=c") && parses("g=;r=") && parses("g=a;r=*,b"),
		  "valid policy texts parse");
	TAP_CHECK(!parses("") && !parses("g=a") && !parses("r=a;g=b") && !parses("g=A;r=") &&
		  !parses("g=a,;r=") && !parses("g=,a;r=") && !parses("g=*;r=") &&
		  !parses("g=-a;r=") && !parses("g=a;r=b;") && !parses("g=a b;r=") &&
		  !parses("g=abcdefghijklmnopqrstuvwxyz0123456;r="),
		  "malformed texts refused (case, empty names, * as a group, junk, 32+ chars)");
	TAP_CHECK(!parses("g=a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a;r="), "at most 16 groups");
	TAP_CHECK(cyph_policy_allows(&node, &node) && cyph_policy_allows(&node, &adapter) &&
		  cyph_policy_allows(&adapter, &node),
		  "default: nodes and adapters reach each other");
	TAP_CHECK(!cyph_policy_allows(&node, &general) && !cyph_policy_allows(&general, &node) &&
		  !cyph_policy_allows(&general, &general),
		  "default: general nodes reach nothing and nothing reaches them");
	TAP_CHECK(cyph_policy_allows(&staff, &cam) && !cyph_policy_allows(&cam, &staff),
		  "a rule has a direction: staff -> cams, not back");
	TAP_CHECK(cyph_policy_allows(&admin, &general) && cyph_policy_allows(&admin, &cam),
		  "* reaches every group");
}

static void test_file(void)
{
	struct cyph_policy_file pf = { 0 };
	char text[CYPH_POLICY_TEXT_MAX + 1], err[256];
	const char *f = "# site policy\n\nrule nodes nodes\nrule staff cams\r\n"
			"member alice staff\nmember cam1 cams\n";
	int i;
	bool ok = true;

	TAP_CHECK(!cyph_policy_file_parse(f, strlen(f), &pf, err, sizeof(err)) &&
		  pf.n_rules == 2 && pf.n_members == 2, "policy file parses (comments, CRLF)");
	TAP_CHECK(!cyph_policy_text_for(&pf, "alice", CYPH_ROLE_NODE, text, sizeof(text), err,
					sizeof(err)) && !strcmp(text, "g=nodes,staff;r=nodes,cams"),
		  "alice: her role group and staff; reach from both rules (%s)", text);
	TAP_CHECK(!cyph_policy_text_for(&pf, "cam1", CYPH_ROLE_GENERAL, text, sizeof(text), err,
					sizeof(err)) && !strcmp(text, "g=general,cams;r="),
		  "cam1 (general node): general and cams, reaches nothing (%s)", text);
	TAP_CHECK(cyph_policy_member(&pf, "alice", "staff", true, err, sizeof(err)) == 1 &&
		  cyph_policy_rule(&pf, "staff", "cams", true, err, sizeof(err)) == 1,
		  "adding what is there changes nothing");
	TAP_CHECK(cyph_policy_rule(&pf, "staff", "cams", false, err, sizeof(err)) == 0 &&
		  !cyph_policy_text_for(&pf, "alice", CYPH_ROLE_NODE, text, sizeof(text), err,
					sizeof(err)) && !strcmp(text, "g=nodes,staff;r=nodes"),
		  "removing the rule removes the reach (%s)", text);
	TAP_CHECK(cyph_policy_rule(&pf, "staff", "Cams", true, err, sizeof(err)) < 0 &&
		  cyph_policy_member(&pf, "Alice!", "x", true, err, sizeof(err)) < 0,
		  "bad names refused");
	for (i = 0; i < 20; i++) {
		char g[16];

		snprintf(g, sizeof(g), "g%d", i);
		ok &= cyph_policy_member(&pf, "bob", g, true, err, sizeof(err)) == 0;
	}
	TAP_CHECK(ok && cyph_policy_text_for(&pf, "bob", CYPH_ROLE_NODE, text, sizeof(text), err,
					     sizeof(err)) < 0,
		  "more groups than a certificate holds: refused, not truncated (%s)", err);
	f = "rule a\n";
	TAP_CHECK(cyph_policy_file_parse(f, strlen(f), &pf, err, sizeof(err)) < 0 &&
		  strstr(err, "line 1"), "a malformed line is refused with its number (%s)", err);
	f = "member x y\nallow a b\n";
	TAP_CHECK(cyph_policy_file_parse(f, strlen(f), &pf, err, sizeof(err)) < 0 &&
		  strstr(err, "line 2"), "an unknown keyword is refused (%s)", err);
	TAP_CHECK(!cyph_policy_defaults(&pf) && pf.n_rules == 4 &&
		  !cyph_policy_text_for(&pf, "gw", CYPH_ROLE_ADAPTER, text, sizeof(text), err,
					sizeof(err)) && !strcmp(text, cyph_policy_default_text(
								      CYPH_ROLE_ADAPTER)),
		  "the default rules give the built-in default texts (%s)", text);
	cyph_policy_file_free(&pf);
}

/* The CA writes the policy into the certificate; cred reads it back. */
static void test_certificate(void)
{
	char dir[] = "/tmp/cyph-policy-XXXXXX", cert[64], key[64], err[512];
	struct cyph_ca_signer *s;
	struct cyph_node_id id = { .id = 7, .role = CYPH_ROLE_NODE }, out;
	uint8_t *der = NULL;
	size_t len = 0;
	EVP_PKEY *k = cyph_key_generate();

	if (!mkdtemp(dir) || !k)
		return;
	snprintf(cert, sizeof(cert), "%s/ca.crt", dir);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	snprintf(id.fqdn, sizeof(id.fqdn), "n7.test");
	cyph_key_public(k, id.pubkey);
	if (cyph_ca_create(cert, key, "t", 1, err, sizeof(err)) ||
	    !(s = cyph_ca_signer_load(cert, key, err, sizeof(err)))) {
		tap_skip(err, "policy certificate");
		return;
	}
	snprintf(id.policy_text, sizeof(id.policy_text), "g=staff;r=cams");
	TAP_CHECK(!cyph_ca_issue(s, &id, 1700000000, 3600, &der, &len, err, sizeof(err)) &&
		  !cyph_cred_parse(der, len, &out, err, sizeof(err)) &&
		  !strcmp(out.policy_text, "g=staff;r=cams") && out.policy.n_groups == 1,
		  "the issued certificate carries the policy (%s)", out.policy_text);
	free(der);
	id.policy_text[0] = 0;
	id.role = CYPH_ROLE_GENERAL;
	der = NULL;
	TAP_CHECK(!cyph_ca_issue(s, &id, 1700000000, 3600, &der, &len, err, sizeof(err)) &&
		  !cyph_cred_parse(der, len, &out, err, sizeof(err)) &&
		  !strcmp(out.policy_text, cyph_policy_default_text(CYPH_ROLE_GENERAL)),
		  "no policy given: the role's default is written (%s)", out.policy_text);
	free(der);
	cyph_ca_signer_free(s);
	EVP_PKEY_free(k);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

int main(void)
{
	test_text();
	test_file();
	test_certificate();
	return tap_done();
}
