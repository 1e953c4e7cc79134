// SPDX-License-Identifier: MIT
/*
 * The adapter's AS exchange (docs/as.md, "Adapter and its general
 * nodes"), run on the worker thread because the AS client blocks: log in
 * as the adapter (a throwaway key: the session is what is needed, the
 * adapter's own credential stays the one credential.c keeps), GN_LIST,
 * then GN_AUTH for every listed node whose credential is missing or due
 * for renewal, each with a fresh Ed25519 key the adapter holds for it.
 *
 * Admission by MAC is the AS's match of the MAC registered under this
 * adapter; the LAN side enforces it (dnsmasq serves known MACs only, and
 * nftables binds each VIP to its MAC). Basic and 802.1X admission need
 * evidence from the device (a login, an EAP exchange) that the adapter
 * does not collect yet: such nodes stay DOWN, with that reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "client/asclient.h"
#include "pki/cred.h"
#include "adapter_int.h"

struct list_acc {
	struct cyd_gn_result *v;
	size_t n, cap;
};

static int collect(const struct cyph_principal *p, void *arg)
{
	struct list_acc *l = arg;
	struct cyd_gn_result *v;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		v = realloc(l->v, l->cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n++].p = *p;
	return 0;
}

static bool kept(const struct cyd_adapter_sync *job, uint64_t id)
{
	for (size_t i = 0; i < job->n_keep; i++)
		if (job->keep[i] == id)
			return true;
	return false;
}

static void gn_auth(struct cyph_asclient *as, const struct cyd_adapter_sync *job,
		    struct cyd_gn_result *r)
{
	struct cyph_as_gn_auth_req req = { .method = r->p.method };
	struct cyph_as_credential ac;
	struct cyd_cred *c = &r->cred;

	memset(&ac, 0, sizeof(ac));
	if (r->p.method != CYPH_GN_MAC) {
		r->rc = -1;
		snprintf(r->err, sizeof(r->err), "admission method %s is not built yet "
			 "(only mac)", cyph_gn_method_name(r->p.method));
		return;
	}
	memcpy(req.mac, r->p.mac, 6);
	c->key = cyph_key_generate();
	if (!c->key || cyph_key_public(c->key, req.pubkey)) {
		r->rc = -1;
		snprintf(r->err, sizeof(r->err), "cannot generate a key");
		return;
	}
	r->rc = cyph_asclient_gn_auth(as, &req, &ac, r->err, sizeof(r->err));
	if (r->rc)
		goto fail;
	c->cert = ac.cert;
	c->cert_len = ac.cert_len;
	ac.cert = NULL;
	if (cyd_cred_fill(c, r->err, sizeof(r->err))) {
		r->rc = -1;
		goto fail;
	}
	c->renew_at = cyd_cred_renew_time(job->now, c->not_after,
					  job->cfg.renew_before_ms / 1000);
	r->fresh = true;
	cyph_as_credential_free(&ac);
	return;
fail:
	cyph_as_credential_free(&ac);
	cyd_cred_free(c);
}

void cyd_adapter_sync_work(void *arg)
{
	struct cyd_adapter_sync *job = arg;
	const struct cyd_config *c = &job->cfg;
	char server[CYPH_CFG_STR_MAX], pw[512];
	struct cyph_asclient_opts o = { .addr = c->as_addr.text, .server_name = server,
					.ca_path = c->as_ca };
	struct cyph_as_credential ac;
	struct cyph_principal *list = NULL;
	struct list_acc acc = { 0 };
	struct cyph_asclient *as;
	uint8_t pub[32];
	EVP_PKEY *key;
	size_t n = 0;

	memset(&ac, 0, sizeof(ac));
	cyd_config_as_server_name(c, server, sizeof(server));
	job->rc = -1;
	if (cyd_cred_password(c->password_file, pw, sizeof(pw), job->err, sizeof(job->err)))
		return;
	key = cyph_key_generate();
	if (!key || cyph_key_public(key, pub)) {
		snprintf(job->err, sizeof(job->err), "cannot generate a key");
		goto out;
	}
	as = cyph_asclient_connect(&o, job->err, sizeof(job->err));
	if (!as)
		goto out;
	job->rc = cyph_asclient_auth(as, c->name, pw, pub, &ac, job->err, sizeof(job->err));
	if (!job->rc && ac.role != CYPH_ROLE_ADAPTER) {
		job->rc = -1;
		snprintf(job->err, sizeof(job->err), "%s is a %s at the AS, not an adapter",
			 c->name, cyph_role_name(ac.role));
	}
	if (!job->rc)
		job->rc = cyph_asclient_gn_list(as, &list, &n, job->err, sizeof(job->err));
	for (size_t i = 0; !job->rc && i < n; i++)
		if (list[i].role == CYPH_ROLE_GENERAL && collect(&list[i], &acc)) {
			job->rc = -1;
			snprintf(job->err, sizeof(job->err), "out of memory");
		}
	for (size_t i = 0; !job->rc && i < acc.n; i++)
		if (!kept(job, acc.v[i].p.id))
			gn_auth(as, job, &acc.v[i]);
	cyph_asclient_close(as);
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	EVP_PKEY_free(key);
	cyph_as_credential_free(&ac);
	free(list);
	job->gns = acc.v;
	job->n = acc.n;
}

void cyd_adapter_sync_free(struct cyd_adapter_sync *job)
{
	for (size_t i = 0; i < job->n; i++) {
		cyd_cred_free(&job->gns[i].cred);
		OPENSSL_cleanse(&job->gns[i], sizeof(job->gns[i]));
	}
	free(job->gns);
	free(job->keep);
	free(job);
}
