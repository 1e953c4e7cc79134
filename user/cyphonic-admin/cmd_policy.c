// SPDX-License-Identifier: MIT
/*
 * rule, group and policy: the access policy file ([ca] policy,
 * ascommon/policyfile.h). Changes apply to certificates issued from then
 * on (within [ca] cert_lifetime everywhere; revoke to force it sooner).
 */
#include "admin.h"
#include "ascommon/policyfile.h"
#include "pki/cred.h"

#include <stdio.h>
#include <string.h>

static int load(struct admin *a, struct cyph_policy_file *pf, bool *exists)
{
	char err[1024];

	if (cyph_policy_file_load(a->cfg.policy, pf, exists, err, sizeof(err))) {
		admin_err(a, "%s", err);
		return -1;
	}
	return 0;
}

/* Applies one edit and writes the file (the defaults first when new). */
static int edit(struct admin *a, bool rule, bool add, const char *x, const char *y)
{
	struct cyph_policy_file pf;
	char err[1024];
	bool exists;
	int rc;

	if (!a->cfg.policy[0]) {
		admin_err(a, "no access policy file: set [ca] policy in %s", a->config_path);
		return 1;
	}
	if (load(a, &pf, &exists))
		return 1;
	rc = rule ? cyph_policy_rule(&pf, x, y, add, err, sizeof(err))
		  : cyph_policy_member(&pf, x, y, add, err, sizeof(err));
	if (rc < 0) {
		admin_err(a, "%s", err);
	} else if (rc == 1 && exists) {
		printf("%s %s %s: nothing to change\n", rule ? "rule" : "member", x, y);
		rc = 0;
	} else if (cyph_policy_file_save(a->cfg.policy, &pf, err, sizeof(err))) {
		admin_err(a, "%s", err);
		rc = -1;
	} else {
		printf("%s %s %s %s in %s (applies to certificates issued from now on)\n",
		       rule ? "rule" : "member", x, y, add ? "added" : "removed", a->cfg.policy);
		rc = 0;
	}
	cyph_policy_file_free(&pf);
	return rc ? 1 : 0;
}

static int show(struct admin *a, const char *who)
{
	struct cyph_policy_file pf;
	struct cyph_principal p;
	char text[CYPH_POLICY_TEXT_MAX + 1], err[512];
	bool exists;
	size_t i;
	int rc = 0;

	if (load(a, &pf, &exists))
		return 1;
	if (who) {
		if (admin_find(a, who, &p)) {
			rc = 1;
		} else if (cyph_policy_text_for(&pf, p.name, p.role, text, sizeof(text), err,
						sizeof(err))) {
			admin_err(a, "%s", err);
			rc = 1;
		} else {
			printf("%s (%s): %s\n", p.name, cyph_role_name(p.role), text);
		}
		cyph_policy_file_free(&pf);
		return rc;
	}
	printf("# %s\n", exists ? a->cfg.policy : "built-in default (no [ca] policy file)");
	for (i = 0; i < pf.n_rules; i++)
		printf("rule %s %s\n", pf.rules[i].first, pf.rules[i].second);
	for (i = 0; i < pf.n_members; i++)
		printf("member %s %s\n", pf.members[i].first, pf.members[i].second);
	cyph_policy_file_free(&pf);
	return 0;
}

int cmd_policy(struct admin *a, int argc, char **argv)
{
	bool add = argc > 1 && !strcmp(argv[1], "add");
	struct cyph_principal p;

	if (!strcmp(argv[0], "policy")) {
		if (argc > 2) {
			admin_err(a, "usage: policy [WHO]");
			return 2;
		}
		return show(a, argc == 2 ? argv[1] : NULL);
	}
	if (argc != 4 || (!add && strcmp(argv[1], "del"))) {
		admin_err(a, "usage: %s add|del %s", argv[0],
			  !strcmp(argv[0], "rule") ? "SRC_GROUP DST_GROUP|*" : "WHO GROUP");
		return 2;
	}
	if (!strcmp(argv[0], "rule"))
		return edit(a, true, add, argv[2], argv[3]);
	/* a membership names an existing principal (by its name) */
	if (admin_find(a, argv[2], &p))
		return 1;
	return edit(a, false, add, p.name, argv[3]);
}
