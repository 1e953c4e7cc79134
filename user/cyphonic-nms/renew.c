// SPDX-License-Identifier: MIT
/*
 * The NMS renews its own certificate (issue 12). It logs in to the AS as
 * its service identity (a node principal named after the NMS, enrolled
 * with `cyphonic-admin node add`) with a fresh key, as a node does, at
 * two thirds of the certificate's remaining life, on a thread of its own
 * so the loop keeps serving. The new key and certificate replace the old
 * ones between two datagrams (nms_set_identity on the loop's thread):
 * every REGISTER_ACK and error signed after that carries the new pair.
 * A failed try is retried with a doubling backoff until the old
 * certificate expires, and after (readiness then says no until one
 * works). Why a password: the AS issues credentials only to a login;
 * the password file is read for each login and wiped after it.
 */
#include <stdlib.h>
#include <string.h>
#include "client/asclient.h"
#include "pki/cred.h"
#include "runtime/workq.h"
#include "nmsd.h"
#include "wire/proto_udp.h"

#define BACKOFF_FIRST_MS 2000
#define BACKOFF_MAX_MS 300000

struct job {
	struct nmsd_renewer *r;
	struct nmsd_config cfg;	/* a copy: a SIGHUP may replace it meanwhile */
	EVP_PKEY *key;
	struct cyph_as_credential cred;
	int rc;
	char err[512];
};

struct nmsd_renewer {
	struct cyph_workq *wq;
	nmsd_renew_apply_fn apply;
	void *arg;
	int64_t due_ms;		/* 0: nothing planned */
	int64_t backoff_ms;
	bool busy;
};

struct nmsd_renewer *nmsd_renewer_new(struct cyph_loop *loop, nmsd_renew_apply_fn apply,
				      void *arg)
{
	struct nmsd_renewer *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->wq = cyph_workq_new(loop, 1);
	if (!r->wq) {
		free(r);
		return NULL;
	}
	r->apply = apply;
	r->arg = arg;
	return r;
}

void nmsd_renewer_free(struct nmsd_renewer *r)
{
	if (!r)
		return;
	cyph_workq_free(r->wq);	/* a login under way ends first */
	free(r);
}

void nmsd_renewer_plan(struct nmsd_renewer *r, int64_t now_ms, int64_t not_after_s)
{
	int64_t left = not_after_s * 1000 - now_ms;

	r->due_ms = now_ms + (left > 0 ? left * 2 / 3 : 0);
	r->backoff_ms = 0;
}

int nmsd_renew_login(const struct nmsd_config *c, EVP_PKEY **key,
		     struct cyph_as_credential *cred, char *err, size_t errlen)
{
	char server[CYPH_CFG_STR_MAX];
	struct cyph_asclient_opts o = { .addr = c->renew_as.text, .server_name = server,
					.ca_path = c->ca_cert };

	cyph_as_server_name(c->renew_as.text, c->renew_server_name, server, sizeof(server));
	return cyph_asclient_login_new_key(&o, c->renew_name, c->renew_password_file, key,
					   cred, err, errlen);
}

static void job_work(void *arg)
{
	struct job *j = arg;

	j->rc = nmsd_renew_login(&j->cfg, &j->key, &j->cred, j->err, sizeof(j->err));
}

static void job_done(void *arg)
{
	struct job *j = arg;
	struct nmsd_renewer *r = j->r;
	bool ok = !j->rc;

	r->busy = false;
	if (ok && r->apply(r->arg, j->key, j->cred.cert, j->cred.cert_len, j->err,
			   sizeof(j->err)))
		ok = false;
	nmsd_metrics_renewal(ok);
	if (!ok) {
		r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : BACKOFF_FIRST_MS;
		if (r->backoff_ms > BACKOFF_MAX_MS)
			r->backoff_ms = BACKOFF_MAX_MS;
		r->due_ms = proto_now_ms() + r->backoff_ms;
		log_warn("renewing the NMS certificate failed (next try in %lld ms): %s",
			 (long long)r->backoff_ms, j->err);
	}
	EVP_PKEY_free(j->key);
	cyph_as_credential_free(&j->cred);
	free(j);
}

void nmsd_renewer_tick(struct nmsd_renewer *r, const struct nmsd_config *c, int64_t now_ms)
{
	struct job *j;

	if (!r || r->busy || !r->due_ms || now_ms < r->due_ms || !c->renew_as.len)
		return;
	j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->r = r;
	j->cfg = *c;
	if (cyph_workq_submit(r->wq, job_work, job_done, j)) {
		free(j);
		return;
	}
	r->busy = true;
	log_info("renewing the NMS certificate at %s as %s", c->renew_as.text, c->renew_name);
}
