// SPDX-License-Identifier: MIT
/* The node-id CRL entry extension (crlnode.h). */
#include "crlnode.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#define NODE_OID "2.25.108764675443610832004031267751307592421"

static ASN1_OBJECT *node_obj(void)
{
	return OBJ_txt2obj(NODE_OID, 1);
}

int cyph_crl_entry_set_node(X509_REVOKED *r, uint64_t node_id)
{
	ASN1_OBJECT *obj = node_obj();
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	int n = -1, rc = -1;

	if (obj && ai && os && ASN1_INTEGER_set_uint64(ai, node_id))
		n = i2d_ASN1_INTEGER(ai, &der);
	if (n > 0 && ASN1_OCTET_STRING_set(os, der, n))
		ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	if (ext && X509_REVOKED_add_ext(r, ext, -1))
		rc = 0;
	X509_EXTENSION_free(ext);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(os);
	ASN1_INTEGER_free(ai);
	ASN1_OBJECT_free(obj);
	return rc;
}

bool cyph_crl_entry_node(const X509_REVOKED *r, uint64_t *node_id)
{
	ASN1_OBJECT *obj = node_obj();
	int i = obj ? X509_REVOKED_get_ext_by_OBJ(r, obj, -1) : -1;
	X509_EXTENSION *ext = i >= 0 ? X509_REVOKED_get_ext(r, i) : NULL;
	ASN1_OCTET_STRING *os = ext ? X509_EXTENSION_get_data(ext) : NULL;
	const unsigned char *p = os ? ASN1_STRING_get0_data(os) : NULL;
	ASN1_INTEGER *ai = p ? d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(os)) : NULL;
	bool ok = ai && ASN1_INTEGER_get_uint64(node_id, ai) == 1;

	ASN1_INTEGER_free(ai);
	ASN1_OBJECT_free(obj);
	return ok;
}
