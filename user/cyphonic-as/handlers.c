// SPDX-License-Identifier: MIT
/*
 * AS request handlers. They run on worker threads (password KDF and
 * signing are slow on purpose); the store is shared under st->lock.
 */
#include "as.h"
#include "ascommon/policyfile.h"
#include "pki/ca.h"
#include "pki/cred.h"
#include "pki/pwhash.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void as_error_frame(struct cyph_as_buf *b, uint32_t req_id, uint16_t code, const char *msg)
{
	cyph_as_begin(b, CYPH_AS_ERROR, req_id);
	cyph_as_put_u16(b, CYPH_AS_A_ERR_CODE, code);
	cyph_as_put_str(b, CYPH_AS_A_ERR_MSG, msg);
	if (code == CYPH_AS_E_VERSION)
		cyph_as_put_u8(b, CYPH_AS_A_VERSION, CYPH_AS_VERSION);
	cyph_as_finish(b);
}

static void fail(struct as_request *r, uint16_t code, const char *msg)
{
	r->err_code = code;
	as_error_frame(&r->resp, r->req_id, code, msg);
}

/* Store lookups under the lock. */
static int lookup_name(struct as_state *st, const char *name, struct cyph_principal *p)
{
	char err[256];
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = st->store->ops->get_by_name(st->store, name, p, err, sizeof(err));
	pthread_mutex_unlock(&st->lock);
	if (rc < 0)
		log_err("%s", err);
	return rc;
}

static int lookup_id(struct as_state *st, uint64_t id, struct cyph_principal *p)
{
	char err[256];
	int rc;

	pthread_mutex_lock(&st->lock);
	rc = st->store->ops->get_by_id(st->store, id, p, err, sizeof(err));
	pthread_mutex_unlock(&st->lock);
	if (rc < 0)
		log_err("%s", err);
	return rc;
}

/*
 * p's groups and reach from the access policy file, read at every issue
 * (it is small; a change applies to the next certificate without a
 * reload). A file that does not parse refuses issuing rather than
 * falling back to a policy the operator did not write.
 */
static int policy_text(const char *path, const struct cyph_principal *p, char *text,
		       size_t cap)
{
	struct cyph_policy_file pf;
	char err[512];
	bool exists;
	int rc;

	if (cyph_policy_file_load(path, &pf, &exists, err, sizeof(err))) {
		log_err("access policy: %s", err);
		return -1;
	}
	rc = cyph_policy_text_for(&pf, p->name, p->role, text, cap, err, sizeof(err));
	if (rc)
		log_err("access policy: %s", err);
	cyph_policy_file_free(&pf);
	return rc;
}

/* Issues a certificate for p and writes the *_RESP frame. */
static void issue(struct as_request *r, const struct cyph_principal *p,
		  const uint8_t pubkey[32], uint8_t resp_type)
{
	struct as_pki *pki = as_pki_get(r->st);
	struct cyph_node_id id = { .id = p->id, .role = p->role, .vip4 = p->vip4,
				   .vip6 = p->vip6, .has_vip4 = p->has_vip4,
				   .has_vip6 = p->has_vip6 };
	struct cyph_as_cred c = { 0 };
	int64_t now = time(NULL), life;
	uint8_t *der = NULL;
	size_t len = 0;
	char err[512], policy_path[sizeof(r->st->cfg.policy)];
	int rc;

	memcpy(id.fqdn, p->fqdn, sizeof(id.fqdn));
	memcpy(id.pubkey, pubkey, 32);
	pthread_mutex_lock(&r->st->lock);
	life = r->st->cfg.cert_lifetime_ms / 1000;
	snprintf(policy_path, sizeof(policy_path), "%s", r->st->cfg.policy);
	pthread_mutex_unlock(&r->st->lock);
	if (policy_text(policy_path, p, id.policy_text, sizeof(id.policy_text))) {
		fail(r, CYPH_AS_E_INTERNAL, "access policy unusable");
		goto out;
	}
	if (cyph_ca_issue(pki->signer, &id, now, life, &der, &len, err, sizeof(err))) {
		log_err("%s", err);
		fail(r, CYPH_AS_E_INTERNAL, "cannot issue certificate");
		goto out;
	}
	pthread_mutex_lock(&r->st->lock);
	rc = r->st->store->ops->cert_issued(r->st->store, p->id, id.serial, id.serial_len, now,
					    id.not_after, err, sizeof(err));
	pthread_mutex_unlock(&r->st->lock);
	if (rc) {
		/* an unrecorded certificate could not be revoked by node id */
		log_err("%s", err);
		fail(r, CYPH_AS_E_INTERNAL, "cannot record certificate");
		goto out;
	}
	cyph_counter_inc(as_m.certs_issued);
	c.node_id = p->id;
	c.role = p->role;
	memcpy(c.fqdn, p->fqdn, sizeof(c.fqdn));
	c.vip4 = p->vip4;
	c.vip6 = p->vip6;
	c.has_vip4 = p->has_vip4;
	c.has_vip6 = p->has_vip6;
	c.not_after = id.not_after;
	c.cert = der;
	c.cert_len = len;
	c.ca_cert = cyph_ca_signer_cert(pki->signer, &c.ca_cert_len);
	cyph_as_begin(&r->resp, resp_type, r->req_id);
	cyph_as_put_cred(&r->resp, &c);
	if (cyph_as_finish(&r->resp))
		fail(r, CYPH_AS_E_INTERNAL, "response too large");
out:
	free(der);
	as_pki_put(r->st, pki);
}

/* The KDF cost every check spends at least (password_check_cost). */
static unsigned int check_cost(struct as_state *st)
{
	unsigned int cost;

	pthread_mutex_lock(&st->lock);
	cost = (unsigned int)st->cfg.pw_cost;
	pthread_mutex_unlock(&st->lock);
	return cost;
}

static void handle_auth(struct as_request *r, const struct cyph_as_msg *m)
{
	struct cyph_as_auth_req *q = calloc(1, sizeof(*q));
	unsigned int cost = check_cost(r->st);
	struct cyph_principal p;
	const char *why = "";
	int rc;

	if (!q) {
		fail(r, CYPH_AS_E_INTERNAL, "out of memory");
		return;
	}
	if (cyph_as_parse_auth_req(m, q, &why)) {
		fail(r, CYPH_AS_E_MALFORMED, why);
		goto out;
	}
	rc = lookup_name(r->st, q->name, &p);
	if (rc < 0) {
		fail(r, CYPH_AS_E_INTERNAL, "store error");
		goto out;
	}
	/*
	 * unknown name, general node, wrong password: one answer, one cost
	 * (whatever iteration count the stored hash has, at least cost)
	 */
	if (rc == 1 || p.role == CYPH_ROLE_GENERAL || !p.pwhash[0]) {
		cyph_pw_dummy_verify_cost(q->password, cost);
		fail(r, CYPH_AS_E_AUTH_FAILED, "authentication failed");
		log_info("auth %s from %s: failed (unknown or not a node)", q->name, r->peer);
		goto out;
	}
	if (!cyph_pw_verify_cost(q->password, p.pwhash, cost)) {
		fail(r, CYPH_AS_E_AUTH_FAILED, "authentication failed");
		log_info("auth %s from %s: failed (password)", q->name, r->peer);
		goto out;
	}
	if (p.revoked) {
		fail(r, CYPH_AS_E_REVOKED, "credential revoked");
		log_info("auth %s from %s: refused (revoked)", q->name, r->peer);
		goto out;
	}
	issue(r, &p, q->pubkey, CYPH_AS_AUTH_RESP);
	if (!r->err_code) {
		r->session.principal_id = p.id;
		r->session.role = p.role;
		memcpy(r->session.name, p.name, sizeof(p.name));
		log_info("auth %s (id %" PRIu64 ", %s) from %s: certificate issued", p.name, p.id,
			 cyph_role_name(p.role), r->peer);
	}
out:
	OPENSSL_cleanse(q, sizeof(*q));
	free(q);
}

/* The session must be a live, unrevoked adapter. 0 or an error sent. */
static int require_adapter(struct as_request *r)
{
	struct cyph_principal a;
	int rc;

	if (!r->session.principal_id) {
		fail(r, CYPH_AS_E_NOT_AUTHENTICATED, "authenticate as an adapter first");
		return -1;
	}
	if (r->session.role != CYPH_ROLE_ADAPTER) {
		fail(r, CYPH_AS_E_FORBIDDEN, "only adapters manage general nodes");
		return -1;
	}
	rc = lookup_id(r->st, r->session.principal_id, &a);
	if (rc) {
		fail(r, rc < 0 ? CYPH_AS_E_INTERNAL : CYPH_AS_E_REVOKED,
		     rc < 0 ? "store error" : "adapter deleted");
		return -1;
	}
	if (a.revoked) {
		fail(r, CYPH_AS_E_REVOKED, "adapter revoked");
		return -1;
	}
	return 0;
}

static int put_gnode(const struct cyph_principal *g, void *arg)
{
	cyph_as_put_gnode(arg, g);
	return 0;
}

static void handle_gn_list(struct as_request *r)
{
	char err[256];
	int rc;

	if (require_adapter(r))
		return;
	cyph_as_begin(&r->resp, CYPH_AS_GN_LIST_RESP, r->req_id);
	pthread_mutex_lock(&r->st->lock);
	rc = r->st->store->ops->list(r->st->store, CYPH_ROLE_GENERAL, r->session.principal_id,
				     put_gnode, &r->resp, err, sizeof(err));
	pthread_mutex_unlock(&r->st->lock);
	if (rc) {
		log_err("%s", err);
		fail(r, CYPH_AS_E_INTERNAL, "store error");
	} else if (cyph_as_finish(&r->resp)) {
		fail(r, CYPH_AS_E_TOO_LARGE, "general-node list exceeds the frame limit");
	}
}

/* Checks the admission evidence the adapter brings for g. */
static uint16_t admit(const struct cyph_as_gn_auth_req *q, const struct cyph_principal *g,
		      unsigned int cost, const char **why)
{
	if (q->method != g->method) {
		*why = "admission method differs from the registered one";
		return CYPH_AS_E_METHOD;
	}
	switch (g->method) {
	case CYPH_GN_MAC:
		return 0;	/* the MAC matched the registry */
	case CYPH_GN_BASIC:
		if (!q->has_username || strcmp(q->username, g->name) ||
		    !cyph_pw_verify_cost(q->password, g->pwhash, cost)) {
			*why = "basic credentials rejected";
			return CYPH_AS_E_AUTH_FAILED;
		}
		return 0;
	case CYPH_GN_8021X:
		if (q->eap_result != 1) {
			*why = "adapter reports no EAP success";
			return CYPH_AS_E_AUTH_FAILED;
		}
		return 0;
	}
	*why = "unknown admission method";
	return CYPH_AS_E_METHOD;
}

static void handle_gn_auth(struct as_request *r, const struct cyph_as_msg *m)
{
	struct cyph_as_gn_auth_req *q;
	struct cyph_principal g;
	const char *why = "";
	char err[256], mac[18];
	uint16_t code;
	int rc;

	if (require_adapter(r))
		return;
	q = calloc(1, sizeof(*q));
	if (!q) {
		fail(r, CYPH_AS_E_INTERNAL, "out of memory");
		return;
	}
	if (cyph_as_parse_gn_auth_req(m, q, &why)) {
		fail(r, CYPH_AS_E_MALFORMED, why);
		goto out;
	}
	cyph_mac_format(q->mac, mac);
	pthread_mutex_lock(&r->st->lock);
	rc = r->st->store->ops->get_gnode_by_mac(r->st->store, r->session.principal_id, q->mac,
						 &g, err, sizeof(err));
	pthread_mutex_unlock(&r->st->lock);
	if (rc) {
		if (rc < 0)
			log_err("%s", err);
		fail(r, rc < 0 ? CYPH_AS_E_INTERNAL : CYPH_AS_E_NOT_FOUND,
		     rc < 0 ? "store error" : "no such general node behind this adapter");
		goto out;
	}
	code = g.revoked ? CYPH_AS_E_REVOKED : admit(q, &g, check_cost(r->st), &why);
	if (code) {
		fail(r, code, g.revoked ? "general node revoked" : why);
		log_info("general node %s (%s) via %s from %s: refused: %s", g.name, mac,
			 r->session.name, r->peer, cyph_as_err_name(code));
		goto out;
	}
	issue(r, &g, q->pubkey, CYPH_AS_GN_AUTH_RESP);
	if (!r->err_code)
		log_info("general node %s (%s, %s) via adapter %s from %s: certificate issued",
			 g.name, mac, cyph_gn_method_name(g.method), r->session.name, r->peer);
out:
	OPENSSL_cleanse(q, sizeof(*q));
	free(q);
}

void as_handle(struct as_request *r)
{
	struct cyph_as_msg m;

	cyph_as_buf_init(&r->resp, CYPH_AS_MAX_RESPONSE);
	if (cyph_as_parse(r->frame, r->frame_len, &m)) {
		fail(r, CYPH_AS_E_MALFORMED, "bad frame");
		return;
	}
	switch (r->type) {
	case CYPH_AS_AUTH_REQ:
		handle_auth(r, &m);
		break;
	case CYPH_AS_GN_LIST_REQ:
		handle_gn_list(r);
		break;
	case CYPH_AS_GN_AUTH_REQ:
		handle_gn_auth(r, &m);
		break;
	default:
		fail(r, CYPH_AS_E_UNKNOWN_TYPE, "unknown request type");
	}
}
