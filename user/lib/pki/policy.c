// SPDX-License-Identifier: MIT
/* Access policy in node certificates (policy.h). */
#include "policy.h"
#include "cred.h"

#include <string.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#define POLICY_OID "2.25.297530834744530357453766052395016451398"

/* FNV-1a: names are the admin's, not an attacker's; only equality matters. */
static uint64_t name_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= (uint8_t)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

bool cyph_group_valid(const char *name, size_t len)
{
	size_t i;

	if (!len || len > CYPH_GROUP_LEN || name[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* One comma-separated list up to end; "*" allowed when all != NULL. */
static int parse_list(const char *p, const char *end, uint64_t *out, uint8_t *n, bool *all)
{
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t len = (size_t)((c ? c : end) - p);

		if (all && len == 1 && *p == '*')
			*all = true;
		else if (!cyph_group_valid(p, len) || *n == CYPH_POLICY_MAX)
			return -1;
		else
			out[(*n)++] = name_hash(p, len);
		if (!c)
			break;
		p = c + 1;
		if (p == end)
			return -1;	/* trailing comma */
	}
	return 0;
}

int cyph_policy_parse(const char *text, size_t len, struct cyph_policy *out)
{
	const char *end = text + len, *semi;

	memset(out, 0, sizeof(*out));
	if (len < 5 || len > CYPH_POLICY_TEXT_MAX || memcmp(text, "g=", 2))
		return -1;
	semi = memchr(text, ';', len);
	if (!semi || end - semi < 3 || memcmp(semi, ";r=", 3))
		return -1;
	if (parse_list(text + 2, semi, out->groups, &out->n_groups, NULL) ||
	    parse_list(semi + 3, end, out->reach, &out->n_reach, &out->reach_all))
		return -1;
	return 0;
}

bool cyph_policy_allows(const struct cyph_policy *from, const struct cyph_policy *to)
{
	unsigned int i, j;

	if (from->reach_all)
		return true;
	for (i = 0; i < from->n_reach; i++)
		for (j = 0; j < to->n_groups; j++)
			if (from->reach[i] == to->groups[j])
				return true;
	return false;
}

const char *cyph_policy_default_text(uint8_t role)
{
	switch (role) {
	case CYPH_ROLE_NODE:
		return "g=" CYPH_GROUP_NODES ";r=" CYPH_GROUP_NODES "," CYPH_GROUP_ADAPTERS;
	case CYPH_ROLE_ADAPTER:
		return "g=" CYPH_GROUP_ADAPTERS ";r=" CYPH_GROUP_NODES "," CYPH_GROUP_ADAPTERS;
	case CYPH_ROLE_GENERAL:
		return "g=" CYPH_GROUP_GENERAL ";r=";
	}
	return "g=;r=";
}

int cyph_policy_ext_add(X509 *x, const char *text)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(POLICY_OID, 1);
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	struct cyph_policy p;
	int n = -1, rc = -1;

	if (cyph_policy_parse(text, strlen(text), &p))
		goto out;
	if (obj && s && os && ASN1_STRING_set(s, text, (int)strlen(text)))
		n = i2d_ASN1_UTF8STRING(s, &der);
	if (n > 0 && ASN1_OCTET_STRING_set(os, der, n))
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	if (ext && X509_add_ext(x, ext, -1))
		rc = 0;
out:
	X509_EXTENSION_free(ext);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(os);
	ASN1_UTF8STRING_free(s);
	ASN1_OBJECT_free(obj);
	return rc;
}

int cyph_policy_ext_get(const X509 *x, char *text, size_t cap)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(POLICY_OID, 1);
	int i = obj ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
	X509_EXTENSION *ext = i >= 0 ? X509_get_ext(x, i) : NULL;
	ASN1_OCTET_STRING *os = ext ? X509_EXTENSION_get_data(ext) : NULL;
	const unsigned char *p = os ? ASN1_STRING_get0_data(os) : NULL;
	ASN1_UTF8STRING *s = p ? d2i_ASN1_UTF8STRING(NULL, &p, ASN1_STRING_length(os)) : NULL;
	int rc = -1;

	ASN1_OBJECT_free(obj);
	if (i < 0)
		return 0;
	/* Exactly one, wholly the string, text that fits. */
	if (s && p == ASN1_STRING_get0_data(os) + ASN1_STRING_length(os) &&
	    X509_get_ext_by_OBJ(x, X509_EXTENSION_get_object(ext), i) < 0 &&
	    (size_t)ASN1_STRING_length(s) < cap &&
	    !memchr(ASN1_STRING_get0_data(s), 0, (size_t)ASN1_STRING_length(s))) {
		memcpy(text, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
		text[ASN1_STRING_length(s)] = 0;
		rc = 1;
	}
	ASN1_UTF8STRING_free(s);
	return rc;
}
