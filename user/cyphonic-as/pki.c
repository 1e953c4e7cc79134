// SPDX-License-Identifier: MIT
/* CA, TLS context and CRL of the AS; swapped as a whole on SIGHUP. */
#include "as.h"
#include "pki/ca.h"
#include "ascommon/crlpub.h"
#include "pki/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Creates what is missing and allowed to be created (first start). */
int as_pki_prepare(const struct cyph_as_config *c, char *err, size_t errlen)
{
	struct cyph_ca_signer *s;
	int rc = 0;

	if (access(c->ca_cert, F_OK) && access(c->ca_key, F_OK)) {
		if (!c->ca_create) {
			snprintf(err, errlen, "%s does not exist and [ca] create is off "
				 "(run cyphonic-admin init-ca)", c->ca_cert);
			return -1;
		}
		if (cyph_ca_create(c->ca_cert, c->ca_key, "cyphonic AS CA", 3650, err, errlen))
			return -1;
		log_info("created CA %s (key %s)", c->ca_cert, c->ca_key);
	}
	if (!access(c->tls_cert, F_OK) || !c->tls_auto)
		return 0;
	s = cyph_ca_signer_load(c->ca_cert, c->ca_key, err, errlen);
	if (!s)
		return -1;
	rc = cyph_ca_issue_tls(s, c->tls_cert, c->tls_key, c->tls_sans, 825, err, errlen);
	if (!rc)
		log_info("issued TLS certificate %s for %s", c->tls_cert, c->tls_sans);
	cyph_ca_signer_free(s);
	return rc;
}

struct as_pki *as_pki_load(const struct cyph_as_config *c, char *err, size_t errlen)
{
	struct as_pki *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->refs = 1;
	p->signer = cyph_ca_signer_load(c->ca_cert, c->ca_key, err, errlen);
	if (p->signer)
		p->tls = cyph_tls_server_ctx(c->tls_cert, c->tls_key, err, errlen);
	if (!p->tls) {
		cyph_ca_signer_free(p->signer);
		free(p);
		return NULL;
	}
	return p;
}

struct as_pki *as_pki_get(struct as_state *st)
{
	struct as_pki *p;

	pthread_mutex_lock(&st->lock);
	p = st->pki;
	p->refs++;
	pthread_mutex_unlock(&st->lock);
	return p;
}

void as_pki_put(struct as_state *st, struct as_pki *p)
{
	bool last;

	if (!p)
		return;
	pthread_mutex_lock(&st->lock);
	last = --p->refs == 0;
	pthread_mutex_unlock(&st->lock);
	if (!last)
		return;
	cyph_ca_signer_free(p->signer);
	SSL_CTX_free(p->tls);
	free(p);
}

int as_publish_crl(struct as_state *st, struct cyph_ca_signer *s, char *err, size_t errlen)
{
	int n = cyph_crl_publish(st->store, s, st->cfg.crl, st->cfg.crl_validity_ms / 1000,
				 err, errlen);

	if (n < 0)
		return -1;
	cyph_counter_inc(as_m.crl_writes);
	log_debug("CRL %s written with %d entries", st->cfg.crl, n);
	return 0;
}
