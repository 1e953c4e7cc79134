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
 * evidence from the device, collected on the loop's thread and copied
 * into the job: the login typed at the portal (USERNAME and PASSWORD,
 * checked by the AS), or hostapd's authorized 802.1X session (EAP_RESULT
 * = 1). A node without its evidence is not asked for: it stays DOWN,
 * with that reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "client/asclient.h"
#include "pki/cred.h"
#include "internal.h"

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

static const struct cyd_gn_evidence *evidence(const struct cyd_adapter_sync *job, uint64_t id)
{
	for (size_t i = 0; i < job->n_ev; i++)
		if (job->ev[i].id == id)
			return &job->ev[i];
	return NULL;
}

/* The evidence the method needs into req: 0, or -1 with why the node waits. */
static int put_evidence(const struct cyd_adapter_sync *job, struct cyd_gn_result *r,
			struct cyph_as_gn_auth_req *req)
{
	const struct cyd_gn_evidence *e = evidence(job, r->p.id);

	switch (r->p.method) {
	case CYPH_GN_MAC:
		return 0;
	case CYPH_GN_8021X:
		if (!job->cfg.adapter.ieee8021x)
			snprintf(r->err, sizeof(r->err), "802.1X admission is off "
				 "([adapter] ieee8021x = false)");
		else if (!e || !e->eap_ok)
			snprintf(r->err, sizeof(r->err), "waiting for 802.1X authentication");
		else
			return req->eap_result = 1, 0;
		return -1;
	case CYPH_GN_BASIC:
		if (!job->cfg.adapter.portal) {
			snprintf(r->err, sizeof(r->err), "basic admission is off "
				 "([adapter] portal = false)");
			return -1;
		}
		if (!e || !e->pw[0]) {
			snprintf(r->err, sizeof(r->err), "waiting for a login at the portal");
			return -1;
		}
		snprintf(req->username, sizeof(req->username), "%s", e->user);
		snprintf(req->password, sizeof(req->password), "%s", e->pw);
		req->has_username = true;
		return 0;
	}
	snprintf(r->err, sizeof(r->err), "unknown admission method %u", r->p.method);
	return -1;
}

static void gn_auth(struct cyph_asclient *as, const struct cyd_adapter_sync *job,
		    struct cyd_gn_result *r)
{
	struct cyph_as_gn_auth_req req = { .method = r->p.method };
	struct cyph_as_credential ac;
	struct cyd_cred *c = &r->cred;

	memset(&ac, 0, sizeof(ac));
	if (put_evidence(job, r, &req)) {
		r->rc = -1;
		return;
	}
	memcpy(req.mac, r->p.mac, 6);
	c->key = cyph_key_generate();
	if (!c->key || cyph_key_public(c->key, req.pubkey)) {
		r->rc = -1;
		snprintf(r->err, sizeof(r->err), "cannot generate a key");
		OPENSSL_cleanse(req.password, sizeof(req.password));
		return;
	}
	r->asked = true;
	r->rc = cyph_asclient_gn_auth(as, &req, &ac, r->err, sizeof(r->err));
	OPENSSL_cleanse(req.password, sizeof(req.password));
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
	if (job->ev)
		OPENSSL_cleanse(job->ev, job->n_ev * sizeof(*job->ev));
	free(job->ev);
	free(job);
}
