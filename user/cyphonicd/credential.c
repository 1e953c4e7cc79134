// SPDX-License-Identifier: MIT
/*
 * The node's credential: an Ed25519 key and the certificate the AS issues
 * for it after a password login over TLS. Both are kept in state_dir
 * (node.key 0600, node.crt), so a restart within the credential's life
 * needs no AS. A fresh key is generated for every login, so a renewal
 * also replaces the key.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "client/asclient.h"
#include "pki/cred.h"
#include "cyphonicd.h"

static void state_path(const struct cyd_config *c, const char *file, char *out,
		       size_t len)
{
	snprintf(out, len, "%s/%s", c->state_dir, file);
}

int64_t cyd_cred_renew_time(int64_t now, int64_t not_after, int64_t renew_before_s)
{
	int64_t half = (not_after - now) / 2;

	if (half < 0)
		return now;
	return not_after - (renew_before_s < half ? renew_before_s : half);
}

void cyd_cred_free(struct cyd_cred *cr)
{
	EVP_PKEY_free(cr->key);
	free(cr->cert);
	memset(cr, 0, sizeof(*cr));
}

int cyd_cred_fill(struct cyd_cred *out, char *err, size_t errlen)
{
	struct cyph_node_id id;

	if (cyph_cred_parse(out->cert, out->cert_len, &id, err, errlen))
		return -1;
	out->node_id = id.id;
	snprintf(out->fqdn, sizeof(out->fqdn), "%s", id.fqdn);
	out->vip4 = id.vip4;
	out->vip6 = id.vip6;
	out->has_vip4 = id.has_vip4;
	out->has_vip6 = id.has_vip6;
	out->not_after = id.not_after;
	return 0;
}

/* The stored credential, if it is ours (name) and not due for renewal. */
static int load_stored(const struct cyd_config *c, struct cyd_cred *out)
{
	char kp[CYPH_CFG_PATH_MAX + 16], cp[CYPH_CFG_PATH_MAX + 16], err[256];
	size_t n = strlen(c->name);
	int64_t now = time(NULL);

	memset(out, 0, sizeof(*out));
	state_path(c, "node.key", kp, sizeof(kp));
	state_path(c, "node.crt", cp, sizeof(cp));
	if (access(kp, R_OK) || access(cp, R_OK))
		return -1;
	out->key = cyph_key_load(kp, err, sizeof(err));
	if (!out->key || cyph_cert_load(cp, &out->cert, &out->cert_len, err, sizeof(err)) ||
	    cyd_cred_fill(out, err, sizeof(err))) {
		log_warn("stored credential in %s unusable (%s): logging in again",
			 c->state_dir, err);
		goto drop;
	}
	if (strncmp(out->fqdn, c->name, n) || out->fqdn[n] != '.') {
		log_info("stored credential is for %s, not %s: logging in again",
			 out->fqdn, c->name);
		goto drop;
	}
	out->renew_at = cyd_cred_renew_time(now, out->not_after,
					    c->renew_before_ms / 1000);
	if (out->renew_at <= now)
		goto drop;
	return 0;
drop:
	cyd_cred_free(out);
	return -1;
}

int cyd_cred_password(const char *file, char *pw, size_t len, char *err, size_t errlen)
{
	return cyph_as_password_read(file, pw, len, err, errlen);
}

/* mkdir -p: parents 0755 (/var/lib/cyphonic on a host without the package) */
static int make_dirs(const char *dir)
{
	char p[CYPH_CFG_PATH_MAX];

	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, 0700) && errno != EEXIST ? -1 : 0;
}

static int save(const struct cyd_config *c, const struct cyd_cred *cr, char *err,
		size_t errlen)
{
	char kp[CYPH_CFG_PATH_MAX + 16], cp[CYPH_CFG_PATH_MAX + 16];

	if (make_dirs(c->state_dir)) {
		snprintf(err, errlen, "%s: %s", c->state_dir, strerror(errno));
		return -1;
	}
	state_path(c, "node.key", kp, sizeof(kp));
	state_path(c, "node.crt", cp, sizeof(cp));
	/* Key first: a crash in between leaves a certificate that does not
	 * match the key, which the next start detects and replaces. */
	if (cyph_key_save(cr->key, kp, err, errlen) ||
	    cyph_cert_save(cp, cr->cert, cr->cert_len, err, errlen))
		return -1;
	return 0;
}

int cyd_cred_login(const struct cyd_config *c, struct cyd_cred *out, char *err,
		   size_t errlen)
{
	char server[CYPH_CFG_STR_MAX];
	struct cyph_asclient_opts o = { .addr = c->as_addr.text, .server_name = server,
					.ca_path = c->as_ca };
	struct cyph_as_credential ac;

	memset(out, 0, sizeof(*out));
	cyd_config_as_server_name(c, server, sizeof(server));
	if (cyph_asclient_login_new_key(&o, c->name, c->password_file, &out->key, &ac, err,
					errlen))
		return -1;
	out->cert = ac.cert;
	out->cert_len = ac.cert_len;
	ac.cert = NULL;
	cyph_as_credential_free(&ac);
	if (cyd_cred_fill(out, err, errlen) || save(c, out, err, errlen)) {
		cyd_cred_free(out);
		return -1;
	}
	out->renew_at = cyd_cred_renew_time(time(NULL), out->not_after,
					    c->renew_before_ms / 1000);
	return 0;
}

int cyd_cred_obtain(const struct cyd_config *c, struct cyd_cred *out, char *err,
		    size_t errlen)
{
	if (!load_stored(c, out)) {
		log_info("using the stored credential of %s (node %llu), valid until %lld",
			 out->fqdn, (unsigned long long)out->node_id, (long long)out->not_after);
		return 0;
	}
	return cyd_cred_login(c, out, err, errlen);
}
