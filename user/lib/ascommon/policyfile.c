// SPDX-License-Identifier: MIT
/* The AS's access policy file (policyfile.h). */
#include "policyfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pki/cred.h"
#include "runtime/fileutil.h"

static const struct cyph_policy_pair default_rules[] = {
	{ CYPH_GROUP_NODES, CYPH_GROUP_NODES },
	{ CYPH_GROUP_NODES, CYPH_GROUP_ADAPTERS },
	{ CYPH_GROUP_ADAPTERS, CYPH_GROUP_NODES },
	{ CYPH_GROUP_ADAPTERS, CYPH_GROUP_ADAPTERS },
};

void cyph_policy_file_free(struct cyph_policy_file *pf)
{
	free(pf->members);
	free(pf->rules);
	memset(pf, 0, sizeof(*pf));
}

static bool group_ok(const char *g, bool star)
{
	return (star && !strcmp(g, "*")) || cyph_group_valid(g, strlen(g));
}

/* Adds or removes (first, second) in a list of pairs: 0 done, 1 nothing to do, -1. */
static int pair_edit(struct cyph_policy_pair **list, size_t *n, const char *first,
		     const char *second, bool add, char *err, size_t errlen)
{
	struct cyph_policy_pair *p;
	size_t i;

	for (i = 0; i < *n; i++) {
		if (strcmp((*list)[i].first, first) || strcmp((*list)[i].second, second))
			continue;
		if (add)
			return 1;
		(*list)[i] = (*list)[--*n];
		return 0;
	}
	if (!add)
		return 1;
	p = realloc(*list, (*n + 1) * sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*list = p;
	snprintf(p[*n].first, sizeof(p->first), "%s", first);
	snprintf(p[*n].second, sizeof(p->second), "%s", second);
	(*n)++;
	return 0;
}

int cyph_policy_rule(struct cyph_policy_file *pf, const char *src, const char *dst, bool add,
		     char *err, size_t errlen)
{
	if (!group_ok(src, false) || !group_ok(dst, true)) {
		snprintf(err, errlen, "a group is [a-z0-9-], 1..%d characters (DST may be *)",
			 CYPH_GROUP_LEN);
		return -1;
	}
	return pair_edit(&pf->rules, &pf->n_rules, src, dst, add, err, errlen);
}

int cyph_policy_member(struct cyph_policy_file *pf, const char *name, const char *group,
		       bool add, char *err, size_t errlen)
{
	if (!cyph_name_valid(name) || !group_ok(group, false)) {
		snprintf(err, errlen, "bad name or group (a group is [a-z0-9-], 1..%d characters)",
			 CYPH_GROUP_LEN);
		return -1;
	}
	return pair_edit(&pf->members, &pf->n_members, name, group, add, err, errlen);
}

int cyph_policy_defaults(struct cyph_policy_file *pf)
{
	char err[128];
	size_t i;

	pf->n_rules = 0;
	for (i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++)
		if (cyph_policy_rule(pf, default_rules[i].first, default_rules[i].second, true, err,
				     sizeof(err)) < 0)
			return -1;
	return 0;
}

/* One line: "rule SRC DST" or "member NAME GROUP"; 0 or -1 with err. */
static int parse_line(struct cyph_policy_file *pf, char *line, char *err, size_t errlen)
{
	char *save = NULL, *kw = strtok_r(line, " \t", &save);
	char *a = kw ? strtok_r(NULL, " \t", &save) : NULL;
	char *b = a ? strtok_r(NULL, " \t", &save) : NULL;

	if (!kw || kw[0] == '#')
		return 0;
	if (!b || strtok_r(NULL, " \t", &save)) {
		snprintf(err, errlen, "expected 'rule SRC DST' or 'member NAME GROUP'");
		return -1;
	}
	if (!strcmp(kw, "rule"))
		return cyph_policy_rule(pf, a, b, true, err, errlen) < 0 ? -1 : 0;
	if (!strcmp(kw, "member"))
		return cyph_policy_member(pf, a, b, true, err, errlen) < 0 ? -1 : 0;
	snprintf(err, errlen, "unknown keyword '%.20s'", kw);
	return -1;
}

int cyph_policy_file_parse(const char *text, size_t len, struct cyph_policy_file *pf,
			   char *err, size_t errlen)
{
	char line[256], why[160];
	size_t i = 0, n;
	unsigned int lineno = 0;

	cyph_policy_file_free(pf);
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);

		n = (size_t)((nl ? nl : text + len) - (text + i));
		lineno++;
		if (n >= sizeof(line) || memchr(text + i, 0, n)) {
			snprintf(err, errlen, "line %u: too long or binary", lineno);
			goto fail;
		}
		memcpy(line, text + i, n);
		line[n] = 0;
		if (n && line[n - 1] == '\r')
			line[n - 1] = 0;
		if (parse_line(pf, line, why, sizeof(why))) {
			snprintf(err, errlen, "line %u: %s", lineno, why);
			goto fail;
		}
		i += n + 1;
	}
	return 0;
fail:
	cyph_policy_file_free(pf);
	return -1;
}

int cyph_policy_file_load(const char *path, struct cyph_policy_file *pf, bool *exists,
			  char *err, size_t errlen)
{
	char *data = NULL, why[256];
	size_t len = 0;
	int rc;

	memset(pf, 0, sizeof(*pf));
	*exists = false;
	if (!path || !*path || access(path, F_OK)) {
		if (path && *path && errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		return cyph_policy_defaults(pf);
	}
	if (cyph_read_file(path, CYPH_POLICY_FILE_MAX, &data, &len, err, errlen))
		return -1;
	*exists = true;
	rc = cyph_policy_file_parse(data, len, pf, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "%s: %s", path, why);
	free(data);
	return rc;
}

int cyph_policy_file_save(const char *path, const struct cyph_policy_file *pf,
			  char *err, size_t errlen)
{
	size_t cap = 128 + (pf->n_rules + pf->n_members) * (8 + CYPH_NAME_MAX + CYPH_GROUP_LEN + 2);
	char *buf = malloc(cap);
	size_t len, i;
	int rc;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	len = (size_t)snprintf(buf, cap, "# cyphonic access policy (cyphonic-admin rule/group; "
			       "docs/abuse.md)\n");
	for (i = 0; i < pf->n_rules; i++)
		len += (size_t)snprintf(buf + len, cap - len, "rule %s %s\n", pf->rules[i].first,
					pf->rules[i].second);
	for (i = 0; i < pf->n_members; i++)
		len += (size_t)snprintf(buf + len, cap - len, "member %s %s\n",
					pf->members[i].first, pf->members[i].second);
	rc = cyph_write_file_atomic(path, buf, len, 0644, err, errlen);
	free(buf);
	return rc;
}

/* Appends name to list (comma-separated) unless there; counts in *n. */
static int add_name(char *list, size_t cap, const char *name, unsigned int *n)
{
	size_t len = strlen(list), nl = strlen(name);
	const char *p = list;

	while (*p) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l == nl && !memcmp(p, name, l))
			return 0;
		p += l + (c ? 1 : 0);
	}
	if (*n == CYPH_POLICY_MAX || len + nl + 2 > cap)
		return -1;
	if (len)
		list[len++] = ',';
	memcpy(list + len, name, nl + 1);
	(*n)++;
	return 0;
}

static const char *role_group(uint8_t role)
{
	return role == CYPH_ROLE_ADAPTER ? CYPH_GROUP_ADAPTERS :
	       role == CYPH_ROLE_GENERAL ? CYPH_GROUP_GENERAL : CYPH_GROUP_NODES;
}

int cyph_policy_text_for(const struct cyph_policy_file *pf, const char *name, uint8_t role,
			 char *text, size_t cap, char *err, size_t errlen)
{
	char g[CYPH_POLICY_TEXT_MAX / 2] = "", r[CYPH_POLICY_TEXT_MAX / 2] = "";
	char wrapped[sizeof(g) + 2];
	unsigned int ng = 0, nr = 0;
	size_t i;

	if (add_name(g, sizeof(g), role_group(role), &ng))
		goto big;
	for (i = 0; i < pf->n_members; i++)
		if (!strcmp(pf->members[i].first, name) &&
		    add_name(g, sizeof(g), pf->members[i].second, &ng))
			goto big;
	snprintf(wrapped, sizeof(wrapped), ",%s,", g);	/* ",a,b," finds ",a," exactly */
	for (i = 0; i < pf->n_rules; i++) {
		char one[sizeof(pf->rules[i].first) + 2];

		snprintf(one, sizeof(one), ",%s,", pf->rules[i].first);
		if (strstr(wrapped, one) && add_name(r, sizeof(r), pf->rules[i].second, &nr))
			goto big;
	}
	if ((size_t)snprintf(text, cap, "g=%s;r=%s", g, r) >= cap)
		goto big;
	return 0;
big:
	snprintf(err, errlen, "%s: more than %d groups or reachable groups", name,
		 CYPH_POLICY_MAX);
	return -1;
}
