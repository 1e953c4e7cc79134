/* SPDX-License-Identifier: MIT */
/*
 * Access policy carried in node certificates (issue 12 point 2), in the
 * spirit of Nebula's certificate groups: the AS writes into each
 * certificate the groups its principal belongs to and the groups it may
 * reach (from the rules between groups it holds, docs/abuse.md), so
 * the NMS and the peers decide "may A reach B" offline, from the two
 * certificates alone:
 *
 *	A may reach B  <=>  one of A's reach entries is one of B's groups, or "*"
 *
 * A is the side that starts: the NMS asks it for ROUTE_REQ (A = source),
 * a responder asks it of the initiator of a handshake, an initiator of
 * the peer the other way round. A policy change takes effect with the
 * next certificate (`[ca] cert_lifetime`; revoke to force it).
 *
 * Extension: non-critical, OID 2.25.297530834744530357453766052395016451398,
 * a UTF8String "g=G1,G2;r=R1,R2" (either list may be empty). Group names
 * are [a-z0-9-], 1..31 characters; "*" only in r. A certificate without
 * it (issued before the policy existed) gets its role's default
 * (cyph_policy_default_text), so an old certificate reaches nothing a new
 * default one would not.
 */
#ifndef CYPHONIC_PKI_POLICY_H
#define CYPHONIC_PKI_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

#define CYPH_POLICY_MAX 16		/* groups, and reach entries, per certificate */
#define CYPH_GROUP_LEN 31		/* characters of a group name */
#define CYPH_POLICY_TEXT_MAX (6 + 2 * CYPH_POLICY_MAX * (CYPH_GROUP_LEN + 1))

/* Built-in groups every principal of a role is in. */
#define CYPH_GROUP_NODES "nodes"
#define CYPH_GROUP_ADAPTERS "adapters"
#define CYPH_GROUP_GENERAL "general"

struct cyph_policy {
	uint8_t n_groups, n_reach;
	bool reach_all;				/* "*" */
	uint64_t groups[CYPH_POLICY_MAX];	/* hashes of the names */
	uint64_t reach[CYPH_POLICY_MAX];
};

/* [a-z0-9-], 1..CYPH_GROUP_LEN, no leading '-'; "*" is not a group. */
bool cyph_group_valid(const char *name, size_t len);
/* Parses "g=...;r=..." (exactly that order). 0, or -1 if malformed. */
int cyph_policy_parse(const char *text, size_t len, struct cyph_policy *out);
/* Does the starting side `from` reach `to`? */
bool cyph_policy_allows(const struct cyph_policy *from, const struct cyph_policy *to);
/*
 * The policy text of a role when no policy file says otherwise (the safe
 * default of a new deployment): nodes and adapters reach nodes and
 * adapters; general nodes (the devices behind adapters) reach nothing and
 * nothing reaches them until a rule names them.
 */
const char *cyph_policy_default_text(uint8_t role);

/* Adds the extension (text must parse). 0 or -1. */
int cyph_policy_ext_add(X509 *x, const char *text);
/* The extension's text: 1 found, 0 absent, -1 malformed. */
int cyph_policy_ext_get(const X509 *x, char *text, size_t cap);

#endif
