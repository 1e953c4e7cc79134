// SPDX-License-Identifier: MIT
/* node / adapter / general-node add, list, del. */
#include "admin.h"
#include "ascommon/names.h"
#include "pki/cred.h"
#include "pki/nthash.h"
#include "pki/pwhash.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct add_opts {
	const char *password, *password_file, *mac, *method, *ip_mode;
	unsigned long iterations;
};

static int parse_add_opts(struct admin *a, int argc, char **argv, struct add_opts *o)
{
	static const struct option opts[] = {
		{ "password", required_argument, NULL, 'p' },
		{ "password-file", required_argument, NULL, 'f' },
		{ "mac", required_argument, NULL, 'm' },
		{ "method", required_argument, NULL, 'M' },
		{ "ip-mode", required_argument, NULL, 'i' },
		{ "kdf-iterations", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->iterations = CYPH_PW_DEFAULT_ITER;
	optind = 0;	/* GNU: fully re-initialise (argv changed) */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o->password = optarg; break;
		case 'f': o->password_file = optarg; break;
		case 'm': o->mac = optarg; break;
		case 'M': o->method = optarg; break;
		case 'i': o->ip_mode = optarg; break;
		case 'k':
			o->iterations = strtoul(optarg, &end, 10);
			if (*end || o->iterations < CYPH_PW_MIN_ITER ||
			    o->iterations > CYPH_PW_MAX_ITER) {
				admin_err(a, "--kdf-iterations: '%s' not in %d..%d", optarg,
					  CYPH_PW_MIN_ITER, CYPH_PW_MAX_ITER);
				return -1;
			}
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/*
 * Hashes the password given by --password / --password-file into out:
 * PBKDF2 (pwhash.h), or with nt the NT hash an 802.1X authenticator
 * needs (nthash.h).
 */
static int hash_password_as(struct admin *a, const struct add_opts *o, bool nt,
			    char out[CYPH_PW_HASH_MAX])
{
	uint8_t h[16];
	char buf[CYPH_PW_MAX_LEN + 2];
	const char *pw;
	int rc;

	if (o->password && o->password_file) {
		admin_err(a, "give --password or --password-file, not both");
		return -1;
	}
	pw = admin_password(o->password, o->password_file, buf, sizeof(buf));
	if (!pw) {
		admin_err(a, "a password is required (--password or --password-file)");
		return -1;
	}
	if (strlen(pw) > CYPH_PW_MAX_LEN || !*pw) {
		admin_err(a, "password must be 1..%d bytes", CYPH_PW_MAX_LEN);
		return -1;
	}
	if (nt) {
		rc = cyph_nt_hash(pw, h);
		if (!rc)
			cyph_nt_format(h, out);
		OPENSSL_cleanse(h, sizeof(h));
	} else {
		rc = cyph_pw_hash(pw, (unsigned int)o->iterations, out);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc)
		admin_err(a, nt ? "the password must be UTF-8 within U+FFFF (MSCHAPv2), "
			  "and MD4 needs OpenSSL's legacy provider" : "hashing the password failed");
	return rc;
}

static int hash_password(struct admin *a, const struct add_opts *o, char out[CYPH_PW_HASH_MAX])
{
	return hash_password_as(a, o, false, out);
}

static void print_vips(const struct cyph_principal *p)
{
	char a4[INET_ADDRSTRLEN] = "-", a6[INET6_ADDRSTRLEN] = "-";

	if (p->has_vip4)
		inet_ntop(AF_INET, &p->vip4, a4, sizeof(a4));
	if (p->has_vip6)
		inet_ntop(AF_INET6, &p->vip6, a6, sizeof(a6));
	printf("%-15s %-24s", a4, a6);
}

static int add_principal(struct admin *a, struct cyph_principal *p)
{
	struct cyph_vip_pool pool;
	char err[1024];

	if (admin_store(a))
		return 1;
	cyph_as_config_pool(&a->cfg, &pool);
	if (a->store->ops->add(a->store, p, a->cfg.domain, &pool, err, sizeof(err))) {
		admin_err(a, "%s", err);
		return 1;
	}
	printf("added %s %s: id %" PRIu64 ", fqdn %s, vips ", cyph_role_name(p->role), p->name,
	       p->id, p->fqdn);
	print_vips(p);
	printf("\n");
	return 0;
}

static int node_add(struct admin *a, int argc, char **argv, uint8_t role)
{
	struct cyph_principal p = { .role = role, .ip_mode = CYPH_IP_DUAL };
	struct add_opts o;

	if (parse_add_opts(a, argc, argv, &o))
		return 2;
	if (optind != argc - 1) {
		admin_err(a, "%s add: expected exactly one NAME", cyph_role_name(role));
		return 2;
	}
	if (o.mac || o.method) {
		admin_err(a, "--mac/--method are for general nodes");
		return 2;
	}
	if (o.ip_mode && !(p.ip_mode = cyph_ip_mode_parse(o.ip_mode))) {
		admin_err(a, "--ip-mode: '%s' is not ipv4, ipv6 or dual", o.ip_mode);
		return 2;
	}
	snprintf(p.name, sizeof(p.name), "%s", argv[optind]);
	if (strlen(argv[optind]) >= sizeof(p.name) || !cyph_admin_name_ok(argv[optind])) {
		admin_err(a, "NAME '%s': must be a DNS label (a-z, 0-9, '-', 1..63), not all "
			  "digits (it would read as an id)", argv[optind]);
		return 2;
	}
	if (hash_password(a, &o, p.pwhash))
		return 2;
	return add_principal(a, &p);
}

static int print_row(const struct cyph_principal *p, void *arg)
{
	char mac[18];

	printf("%-6" PRIu64 " %-20s %-8s ", p->id, p->name, cyph_role_name(p->role));
	if (arg) {	/* general nodes */
		cyph_mac_format(p->mac, mac);
		printf("%-17s %-6s %-5s ", mac, cyph_gn_method_name(p->method),
		       cyph_ip_mode_name(p->ip_mode));
	}
	print_vips(p);
	printf(" %-30s %s\n", p->fqdn, p->revoked ? "revoked" : "active");
	return 0;
}

static int list(struct admin *a, uint8_t role, uint64_t adapter_id)
{
	char err[1024];

	if (admin_store(a))
		return 1;
	printf("%-6s %-20s %-8s ", "ID", "NAME", "ROLE");
	if (role == CYPH_ROLE_GENERAL)
		printf("%-17s %-6s %-5s ", "MAC", "METHOD", "IP");
	printf("%-15s %-24s %-30s %s\n", "VIP4", "VIP6", "FQDN", "STATE");
	if (a->store->ops->list(a->store, role, adapter_id, print_row,
				role == CYPH_ROLE_GENERAL ? (void *)1 : NULL, err, sizeof(err))) {
		admin_err(a, "%s", err);
		return 1;
	}
	return 0;
}

static int del(struct admin *a, const char *what, uint8_t role)
{
	struct cyph_principal p;
	char err[1024];

	if (admin_find(a, what, &p))
		return 1;
	if (p.role != role) {
		admin_err(a, "'%s' is a %s, not a %s", what, cyph_role_name(p.role),
			  cyph_role_name(role));
		return 1;
	}
	if (a->store->ops->del(a->store, p.id, err, sizeof(err))) {
		admin_err(a, "%s", err);
		return 1;
	}
	printf("deleted %s %s (id %" PRIu64 "); its certificates are revoked\n",
	       cyph_role_name(p.role), p.name, p.id);
	return admin_publish_crl(a) ? 1 : 0;
}

int cmd_node(struct admin *a, int argc, char **argv, uint8_t role)
{
	if (argc < 2) {
		admin_err(a, "%s: expected add, list or del", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "add"))
		return node_add(a, argc - 1, argv + 1, role);
	if (!strcmp(argv[1], "list") && argc == 2)
		return list(a, role, 0);
	if (!strcmp(argv[1], "del") && argc == 3)
		return del(a, argv[2], role);
	admin_err(a, "%s: bad arguments (try --help)", argv[0]);
	return 2;
}

static int gn_add(struct admin *a, int argc, char **argv)
{
	struct cyph_principal p = { .role = CYPH_ROLE_GENERAL }, ad;
	struct add_opts o;

	if (parse_add_opts(a, argc, argv, &o))
		return 2;
	if (optind != argc - 2) {
		admin_err(a, "general-node add: expected ADAPTER NAME");
		return 2;
	}
	if (!o.mac || cyph_mac_parse(o.mac, p.mac)) {
		admin_err(a, "--mac: '%s' is not aa:bb:cc:dd:ee:ff", o.mac ? o.mac : "(missing)");
		return 2;
	}
	if (cyph_mac_refusal(p.mac)) {
		admin_err(a, "--mac: '%s' is not unicast (%s): a general node needs a unicast MAC",
			  o.mac, cyph_mac_refusal(p.mac));
		return 2;
	}
	if (!o.method || !(p.method = cyph_gn_method_parse(o.method))) {
		admin_err(a, "--method: '%s' is not basic, mac or 8021x",
			  o.method ? o.method : "(missing)");
		return 2;
	}
	p.ip_mode = o.ip_mode ? cyph_ip_mode_parse(o.ip_mode) : 0;
	if (p.ip_mode != CYPH_IP_V4 && p.ip_mode != CYPH_IP_V6) {
		admin_err(a, "--ip-mode: '%s' is not ipv4 or ipv6",
			  o.ip_mode ? o.ip_mode : "(missing)");
		return 2;
	}
	/* basic: PBKDF2, checked by the AS; 8021x: the NT hash its adapter's EAP server needs */
	if (p.method != CYPH_GN_MAC ? hash_password_as(a, &o, p.method == CYPH_GN_8021X,
						       p.pwhash) :
	    !!(o.password || o.password_file)) {
		if (p.method == CYPH_GN_MAC)
			admin_err(a, "a password only applies to --method basic or 8021x");
		return 2;
	}
	if (!cyph_admin_name_ok(argv[optind + 1])) {
		admin_err(a, "NAME '%s': must be a DNS label (a-z, 0-9, '-', 1..63), not all "
			  "digits (it would read as an id)", argv[optind + 1]);
		return 2;
	}
	snprintf(p.name, sizeof(p.name), "%s", argv[optind + 1]);
	if (admin_find(a, argv[optind], &ad))
		return 1;
	if (ad.role != CYPH_ROLE_ADAPTER) {
		admin_err(a, "'%s' is a %s, not an adapter", argv[optind], cyph_role_name(ad.role));
		return 1;
	}
	p.adapter_id = ad.id;
	return add_principal(a, &p);
}

int cmd_general_node(struct admin *a, int argc, char **argv)
{
	struct cyph_principal ad;

	if (argc >= 2 && !strcmp(argv[1], "add"))
		return gn_add(a, argc - 1, argv + 1);
	if (argc == 3 && !strcmp(argv[1], "list")) {
		if (admin_find(a, argv[2], &ad))
			return 1;
		if (ad.role != CYPH_ROLE_ADAPTER) {
			admin_err(a, "'%s' is not an adapter", argv[2]);
			return 1;
		}
		return list(a, CYPH_ROLE_GENERAL, ad.id);
	}
	if (argc == 3 && !strcmp(argv[1], "del"))
		return del(a, argv[2], CYPH_ROLE_GENERAL);
	admin_err(a, "general-node: expected add ADAPTER NAME ..., list ADAPTER or del NAME");
	return 2;
}
