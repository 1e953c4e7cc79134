// SPDX-License-Identifier: MIT
/* init-ca and revoke. */
#include "admin.h"
#include "pki/ca.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int cmd_init_ca(struct admin *a, int argc, char **argv)
{
	char err[1024];

	(void)argv;
	if (argc != 1) {
		admin_err(a, "init-ca takes no arguments (paths come from [ca] in the config)");
		return 2;
	}
	if (cyph_ca_create(a->cfg.ca_cert, a->cfg.ca_key, "cyphonic AS CA", 3650, err,
			   sizeof(err))) {
		admin_err(a, "%s", err);
		return 1;
	}
	printf("created CA certificate %s and key %s (mode 0600)\n", a->cfg.ca_cert, a->cfg.ca_key);
	if (admin_store(a))
		return 1;
	return admin_publish_crl(a) ? 1 : 0;
}

static int parse_serial(const char *hex, uint8_t out[20], size_t *len)
{
	size_t n = strlen(hex);

	if (n < 2 || n > 40 || n % 2)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static int revoke_serial(struct admin *a, const char *hex)
{
	uint8_t serial[20];
	size_t len;
	char err[1024];
	int rc;

	if (parse_serial(hex, serial, &len)) {
		admin_err(a, "--serial: '%s' is not a hex serial number", hex);
		return 2;
	}
	if (admin_store(a))
		return 1;
	rc = a->store->ops->revoke_serial(a->store, serial, len, time(NULL), err, sizeof(err));
	if (rc < 0) {
		admin_err(a, "%s", err);
		return 1;
	}
	if (rc == 1) {
		admin_err(a, "serial %s was never issued by this AS", hex);
		return 1;
	}
	printf("revoked certificate %s\n", hex);
	return admin_publish_crl(a) ? 1 : 0;
}

int cmd_revoke(struct admin *a, int argc, char **argv)
{
	struct cyph_principal p;
	char err[1024];

	if (argc == 3 && !strcmp(argv[1], "--serial"))
		return revoke_serial(a, argv[2]);
	if (argc != 2) {
		admin_err(a, "revoke: expected NAME|ID or --serial HEX");
		return 2;
	}
	if (admin_find(a, argv[1], &p))
		return 1;
	if (a->store->ops->revoke_principal(a->store, p.id, time(NULL), err, sizeof(err))) {
		admin_err(a, "%s", err);
		return 1;
	}
	printf("revoked %s %s (id %" PRIu64 ")%s\n", cyph_role_name(p.role), p.name, p.id,
	       p.role == CYPH_ROLE_ADAPTER ? " and its general nodes" : "");
	return admin_publish_crl(a) ? 1 : 0;
}
