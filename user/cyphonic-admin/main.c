// SPDX-License-Identifier: MIT
/*
 * cyphonic-admin: manages the AS registry and CA directly (the SQLite
 * store and CA files named in the AS config). With a replicated store the
 * same commands work against it: they go through the store interface.
 */
#include "admin.h"
#include "pki/ca.h"
#include "pki/cred.h"
#include "ascommon/crlpub.h"
#include "ascommon/names.h"
#include "runtime/fileutil.h"
#include "runtime/version.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [-c AS_CONFIG] [--set SECTION.KEY=VALUE]... COMMAND ...\n\n"
		"  init-ca                                create the CA and an empty CRL\n"
		"  node add NAME (--password P | --password-file F) [--ip-mode dual|ipv4|ipv6]\n"
		"           [--kdf-iterations N]\n"
		"  node list | node del WHO\n"
		"  adapter add NAME ... | adapter list | adapter del WHO\n"
		"  general-node add ADAPTER NAME --mac MAC --method basic|mac|8021x\n"
		"           --ip-mode ipv4|ipv6 [--password P | --password-file F] (basic, 8021x)\n"
		"  general-node list ADAPTER | general-node del WHO\n"
		"  revoke WHO | revoke --serial HEX       revoke and rewrite the CRL\n"
		"  rule add|del SRC DST                   members of group SRC may reach DST (or *)\n"
		"  group add|del WHO GROUP                put WHO in GROUP (or take it out)\n"
		"  policy [WHO]                           the rules and memberships, or WHO's\n"
		"                                         groups and reach as its certificate has them\n"
		"Access policy ([ca] policy file): every principal is in its role's group\n"
		"(nodes, adapters, general); without a file nodes and adapters reach each\n"
		"other and general nodes nothing. Changes apply to new certificates.\n\n"
		"WHO (and ADAPTER) is id:N (a node id), name:X, or a plain name X; a plain\n"
		"number is refused as ambiguous. NAME is a DNS label, not all digits; a\n"
		"general node's MAC must be unicast.\n"
		"The AS config (default /etc/cyphonic/as.conf) names the store, the CA, the\n"
		"CRL, the domain and the VIP prefixes. %s --version prints the version.\n",
		prog, prog);
}

void admin_err(struct admin *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", a->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int admin_store(struct admin *a)
{
	char err[1024];

	if (a->store)
		return 0;
	a->store = cyph_as_store_open(&a->cfg, err, sizeof(err));
	if (!a->store) {
		admin_err(a, "%s", err);
		return -1;
	}
	return 0;
}

int admin_publish_crl(struct admin *a)
{
	struct cyph_ca_signer *s;
	char err[1024];
	int n;

	s = cyph_ca_signer_load(a->cfg.ca_cert, a->cfg.ca_key, err, sizeof(err));
	if (!s) {
		admin_err(a, "CRL not updated: %s", err);
		return -1;
	}
	n = cyph_crl_publish(a->store, s, a->cfg.crl, a->cfg.crl_validity_ms / 1000, err,
			     sizeof(err));
	cyph_ca_signer_free(s);
	if (n < 0) {
		admin_err(a, "CRL not updated: %s", err);
		return -1;
	}
	printf("CRL %s: %d revoked certificate%s\n", a->cfg.crl, n, n == 1 ? "" : "s");
	return 0;
}

const char *admin_password(const char *pw, const char *file, char *buf, size_t len)
{
	char err[512], *data;
	size_t n;

	if (pw && file)
		return NULL;
	if (pw)
		return pw;
	if (!file)
		return NULL;
	if (cyph_read_file(file, len - 1, &data, &n, err, sizeof(err))) {
		fprintf(stderr, "--password-file: %s\n", err);
		return NULL;
	}
	while (n && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		data[--n] = '\0';	/* a trailing newline is not part of it */
	memcpy(buf, data, n + 1);
	free(data);
	return buf;
}

int admin_find(struct admin *a, const char *what, struct cyph_principal *p)
{
	struct cyph_selector sel;
	const char *why;
	char err[512];
	int rc;

	if (cyph_selector_parse(what, &sel, &why)) {
		admin_err(a, "'%s': %s", what, why);
		return -1;
	}
	if (admin_store(a))
		return -1;
	if (sel.by_id)
		rc = a->store->ops->get_by_id(a->store, sel.id, p, err, sizeof(err));
	else
		rc = a->store->ops->get_by_name(a->store, sel.name, p, err, sizeof(err));
	if (rc < 0)
		admin_err(a, "%s", err);
	else if (rc == 1)
		admin_err(a, "'%s': no such node, adapter or general node", what);
	return rc ? -1 : 0;
}

static int dispatch(struct admin *a, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "init-ca"))
		return cmd_init_ca(a, argc, argv);
	if (!strcmp(cmd, "node"))
		return cmd_node(a, argc, argv, CYPH_ROLE_NODE);
	if (!strcmp(cmd, "adapter"))
		return cmd_node(a, argc, argv, CYPH_ROLE_ADAPTER);
	if (!strcmp(cmd, "general-node"))
		return cmd_general_node(a, argc, argv);
	if (!strcmp(cmd, "revoke"))
		return cmd_revoke(a, argc, argv);
	if (!strcmp(cmd, "rule") || !strcmp(cmd, "group") || !strcmp(cmd, "policy"))
		return cmd_policy(a, argc, argv);
	admin_err(a, "unknown command '%s' (try --help)", cmd);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct admin a = { .config_path = "/etc/cyphonic/as.conf", .prog = "cyphonic-admin" };
	const char **sets = NULL;
	size_t nsets = 0;
	char err[1024];
	int c, rc;

	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		if (c == 'c') {
			a.config_path = optarg;
		} else if (c == 's') {
			const char **n = realloc(sets, (nsets + 1) * sizeof(*n));

			if (!n)
				return 1;
			sets = n;
			sets[nsets++] = optarg;
		} else if (c == 'h') {
			usage(stdout, argv[0]);
			free(sets);
			return 0;
		} else if (c == 'V') {
			cyph_version_print("cyphonic-admin");
			free(sets);
			return 0;
		} else {
			usage(stderr, argv[0]);
			free(sets);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr, argv[0]);
		free(sets);
		return 2;
	}
	rc = cyph_cfg_load_ex(a.config_path, cyph_as_config_fields, cyph_as_config_nfields,
			      &a.cfg, sets, nsets, err, sizeof(err));
	free(sets);
	if (rc || cyph_as_config_validate(&a.cfg, a.config_path, err, sizeof(err))) {
		admin_err(&a, "%s", err);
		return 1;
	}
	rc = dispatch(&a, argc - optind, argv + optind);
	cyph_store_close(a.store);
	return rc;
}
