/* SPDX-License-Identifier: MIT */
/* cyphonic-admin internals. */
#ifndef CYPHONIC_ADMIN_H
#define CYPHONIC_ADMIN_H

#include "ascommon/asconfig.h"
#include "stores/store.h"

struct admin {
	const char *config_path;
	struct cyph_as_config cfg;
	struct cyph_store *store;	/* opened on demand */
	const char *prog;
};

/* Opens the store named in the config; prints the error. 0 or -1. */
int admin_store(struct admin *a);
/* Rewrites the CRL from the store (after a revocation or deletion). */
int admin_publish_crl(struct admin *a);
/* Reads the password from --password or --password-file. NULL on error. */
const char *admin_password(const char *pw, const char *file, char *buf, size_t len);
/*
 * Looks a principal up by selector (id:N, name:X or a plain non-numeric
 * name: ascommon/names.h); prints why not found or refused. 0/-1.
 */
int admin_find(struct admin *a, const char *what, struct cyph_principal *p);

__attribute__((format(printf, 2, 3)))
void admin_err(struct admin *a, const char *fmt, ...);

int cmd_init_ca(struct admin *a, int argc, char **argv);
int cmd_node(struct admin *a, int argc, char **argv, uint8_t role);
int cmd_general_node(struct admin *a, int argc, char **argv);
int cmd_revoke(struct admin *a, int argc, char **argv);
int cmd_policy(struct admin *a, int argc, char **argv);

#endif
