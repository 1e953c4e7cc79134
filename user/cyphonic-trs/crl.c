// SPDX-License-Identifier: MIT
/*
 * The TRS side of revocation: it reads the CRL the AS writes, as the NMS
 * does (load at start and on SIGHUP, poll the file's mtime), and hands the
 * revoked node ids to the session table (trs_set_revoked()). The relay
 * grant names the node by id only, so the AS writes each CRL entry's node
 * id beside the serial (pki/crlnode.h); a CRL without them revokes nothing
 * here.
 */
#include <stdio.h>
#include <stdlib.h>
#include "pki/cred.h"
#include "wire/proto_udp.h"
#include "trsd.h"

static void push(struct cyph_ca *ca, struct trs *t)
{
	uint64_t *ids;
	size_t n = cyph_ca_revoked_nodes(ca, &ids), gone;

	gone = trs_set_revoked(t, ids, n, proto_now_ms());
	log_info("CRL: %zu revoked certificates, %zu revoked nodes; %zu session ends unbound",
		 cyph_ca_crl_count(ca), n, gone);
}

struct cyph_ca *trsd_crl_load(const struct trsd_config *c, struct trs *t, char *err,
			      size_t errlen)
{
	struct cyph_ca *ca;

	err[0] = 0;
	if (!c->crl[0])
		return NULL;
	ca = cyph_ca_load(c->ca_cert, err, errlen);
	if (ca && cyph_ca_load_crl(ca, c->crl)) {
		snprintf(err, errlen, "%s", cyph_ca_error(ca));
		cyph_ca_free(ca);
		return NULL;
	}
	if (ca)
		push(ca, t);
	return ca;
}

void trsd_crl_poll(struct cyph_ca *ca, struct trs *t)
{
	int rc = cyph_ca_crl_refresh(ca);

	if (rc == 1)
		push(ca, t);
	else if (rc < 0)
		log_warn("CRL reload failed, keeping the old one: %s", cyph_ca_error(ca));
}
