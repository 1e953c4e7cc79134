// SPDX-License-Identifier: MIT
/*
 * The NMS's own credential, checked before it is used (issue 12): an NMS
 * started with a key that does not match its certificate, or with an
 * expired certificate, used to report ready and then time out every node
 * (they verify the certificate in REGISTER_ACK and drop what fails). Now
 * it refuses to start, or a SIGHUP keeps the old identity.
 */
#include <stdio.h>
#include <string.h>
#include "pki/cred.h"
#include "nmsd.h"

static const char *const why[] = {
	[CYPH_CRED_MALFORMED] = "not a certificate",
	[CYPH_CRED_UNTRUSTED] = "not issued by the [ca] cert",
	[CYPH_CRED_EXPIRED] = "expired",
	[CYPH_CRED_NOT_YET_VALID] = "not valid yet",
	[CYPH_CRED_REVOKED] = "revoked in the CRL",
	[CYPH_CRED_BAD_FIELDS] = "without well-formed cyphonic fields",
};

int nmsd_identity_check(struct cyph_ca *ca, EVP_PKEY *key, const uint8_t *cert, size_t len,
			int64_t now, int64_t *not_after, char *err, size_t errlen)
{
	struct cyph_node_id id;
	enum cyph_cred_status st;
	uint8_t pub[32];
	char why_ssl[256];

	st = cyph_cred_check(ca, cert, len, now, &id, why_ssl, sizeof(why_ssl));
	if (st != CYPH_CRED_OK) {
		snprintf(err, errlen, "[identity] cert is %s (%s)",
			 st < sizeof(why) / sizeof(why[0]) && why[st] ? why[st] : "refused", why_ssl);
		return -1;
	}
	if (cyph_key_public(key, pub) || memcmp(pub, id.pubkey, sizeof(pub))) {
		snprintf(err, errlen, "[identity] key does not match the public key of [identity] cert");
		return -1;
	}
	/*
	 * Nodes check the NMS certificate's name; its role must be that of a
	 * service identity, which the AS issues as a plain node (an adapter's
	 * or a general node's certificate acts for others and is refused).
	 */
	if (id.role != CYPH_ROLE_NODE || !id.fqdn[0]) {
		snprintf(err, errlen, "[identity] cert has role %s%s: not an NMS identity "
			 "(a node certificate with the NMS's DNS name is expected)",
			 cyph_role_name(id.role) ? cyph_role_name(id.role) : "none",
			 id.fqdn[0] ? "" : " and no DNS name");
		return -1;
	}
	*not_after = id.not_after;
	return 0;
}
