// SPDX-License-Identifier: MIT
/*
 * The access policy parsers: the certificate extension's text
 * (pki/policy.c) and the AS's policy file (ascommon/policyfile.c), then
 * the groups and reach computed from a parsed file for a principal named
 * by the input's first bytes, which must parse again as a certificate's.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz_common.h"
#include "ascommon/policyfile.h"
#include "pki/cred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cyph_policy p, q;
	struct cyph_policy_file pf = { 0 };
	char text[CYPH_POLICY_TEXT_MAX + 1], err[256], name[16];
	size_t n;

	if (!cyph_policy_parse((const char *)data, size, &p))
		(void)cyph_policy_allows(&p, &p);
	if (cyph_policy_file_parse((const char *)data, size, &pf, err, sizeof(err)))
		return 0;
	n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data, n);
	name[n] = 0;
	if (!cyph_policy_text_for(&pf, name, CYPH_ROLE_NODE, text, sizeof(text), err, sizeof(err)) &&
	    cyph_policy_parse(text, strlen(text), &q))
		abort();	/* the AS would issue a certificate nobody can read */
	cyph_policy_file_free(&pf);
	return 0;
}
