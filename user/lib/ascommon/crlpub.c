// SPDX-License-Identifier: MIT
#include "crlpub.h"
#include "pki/ca.h"
#include "stores/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct crl_ctx {
	struct cyph_crl_entry *v;
	size_t n, cap;
};

static int add_entry(const struct cyph_revoked *r, void *arg)
{
	struct crl_ctx *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct cyph_crl_entry *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	memcpy(c->v[c->n].serial, r->serial, r->serial_len);
	c->v[c->n].serial_len = r->serial_len;
	c->v[c->n].revoked_at = r->revoked_at;
	c->v[c->n].node_id = r->principal_id;	/* the TRS knows nodes by id */
	c->n++;
	return 0;
}

int cyph_crl_publish(struct cyph_store *store, struct cyph_ca_signer *s, const char *path,
		     int64_t validity_s, char *err, size_t errlen)
{
	struct crl_ctx c = { 0 };
	int64_t now = time(NULL);
	int rc;

	rc = store->ops->list_revoked(store, now, add_entry, &c, err, errlen);
	if (!rc)
		rc = cyph_ca_write_crl(s, c.v, c.n, now, validity_s, path, err, errlen);
	free(c.v);
	return rc ? -1 : (int)c.n;
}
