/* SPDX-License-Identifier: MIT */
/*
 * The access policy the AS holds (issue 12 point 2): which principals are
 * in which groups, and which groups may reach which. The AS turns it into
 * each certificate's groups and reach (pki/policy.h); cyphonic-admin
 * edits it (`group`, `rule`, `policy`). A text file, `[ca] policy`:
 *
 *	# comments and blank lines are ignored
 *	rule SRC DST		members of SRC may reach members of DST ("*": all)
 *	member NAME GROUP	principal NAME is in GROUP
 *
 * Every principal is also in its role's built-in group (nodes, adapters,
 * general). A missing file means the default rules (cyph_policy_defaults:
 * nodes and adapters reach each other; general nodes neither reach nor
 * are reached); a file replaces them wholly, so cyphonic-admin writes the
 * defaults into a new file first.
 */
#ifndef CYPHONIC_ASCOMMON_POLICYFILE_H
#define CYPHONIC_ASCOMMON_POLICYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pki/policy.h"
#include "stores/store.h"

#define CYPH_POLICY_FILE_MAX (1 << 20)	/* bytes */

/* A line: member (first = principal name, second = group), or rule (SRC, DST or "*"). */
struct cyph_policy_pair {
	char first[CYPH_NAME_MAX];
	char second[CYPH_GROUP_LEN + 1];
};

struct cyph_policy_file {
	struct cyph_policy_pair *members;
	size_t n_members;
	struct cyph_policy_pair *rules;
	size_t n_rules;
};

/* The default rules of a new deployment (replaces the rules, keeps members). */
int cyph_policy_defaults(struct cyph_policy_file *pf);
/* Parses the text; 0, or -1 with "line N: ..." in err. pf is reset first. */
int cyph_policy_file_parse(const char *text, size_t len, struct cyph_policy_file *pf,
			   char *err, size_t errlen);
/* Loads path; a missing file gives the defaults (*exists false). 0 or -1. */
int cyph_policy_file_load(const char *path, struct cyph_policy_file *pf, bool *exists,
			  char *err, size_t errlen);
/* Writes pf to path atomically. 0 or -1. */
int cyph_policy_file_save(const char *path, const struct cyph_policy_file *pf,
			  char *err, size_t errlen);
void cyph_policy_file_free(struct cyph_policy_file *pf);

/* Adds (add) or removes a membership or a rule. 0 done, 1 nothing to do, -1 error. */
int cyph_policy_member(struct cyph_policy_file *pf, const char *name, const char *group,
		       bool add, char *err, size_t errlen);
int cyph_policy_rule(struct cyph_policy_file *pf, const char *src, const char *dst, bool add,
		     char *err, size_t errlen);

/*
 * The certificate policy text ("g=...;r=...") of principal name with
 * role: its role group and memberships, and every rule's DST whose SRC is
 * one of them. -1 when it exceeds CYPH_POLICY_MAX entries.
 */
int cyph_policy_text_for(const struct cyph_policy_file *pf, const char *name, uint8_t role,
			 char *text, size_t cap, char *err, size_t errlen);

#endif
