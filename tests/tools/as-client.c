// SPDX-License-Identifier: MIT
/*
 * as-client: drives the AS through the library client (asclient.h) for
 * the integration tests.
 *
 *   as-client [-a ADDR] [-n NAME] [-C CA] [-k KEYOUT] [-o CERTOUT] [-t MS] CMD ARGS
 *     auth NAME PASSWORD
 *     gn-list ADAPTER PASSWORD
 *     gn-auth ADAPTER PASSWORD MAC METHOD [USER PASS | EAP_RESULT]
 *     raw HEX [N]        send raw bytes after the handshake, print N answers (1)
 *     verify CERT CA [CRL [UNIX_TIME]]   cyph_cred_verify on a file
 *
 * Exit status: 0 success, the AS error code on an AS error, 100 on a
 * transport/protocol failure, 2 on usage errors.
 */
#include "client/asclient.h"
#include "pki/cred.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *key_out, *cert_out;

static void print_cred(const struct cyph_as_credential *c)
{
	char a4[INET_ADDRSTRLEN] = "-", a6[INET6_ADDRSTRLEN] = "-";

	if (c->has_vip4)
		inet_ntop(AF_INET, &c->vip4, a4, sizeof(a4));
	if (c->has_vip6)
		inet_ntop(AF_INET6, &c->vip6, a6, sizeof(a6));
	printf("ok id=%" PRIu64 " role=%s fqdn=%s vip4=%s vip6=%s not_after=%lld\n", c->node_id,
	       cyph_role_name(c->role) ? cyph_role_name(c->role) : "?", c->fqdn, a4, a6,
	       (long long)c->not_after);
}

static int save_cred(const struct cyph_as_credential *c, EVP_PKEY *key)
{
	char err[512];

	if (cert_out && cyph_cert_save(cert_out, c->cert, c->cert_len, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 100;
	}
	if (key_out && cyph_key_save(key, key_out, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 100;
	}
	return 0;
}

static int report(int rc, const char *err)
{
	if (rc) {
		printf("error %d %s\n", rc, err);
		return rc < 0 ? 100 : rc;
	}
	return 0;
}

static int do_auth(struct cyph_asclient *c, char **argv, EVP_PKEY *key)
{
	struct cyph_as_credential cr;
	uint8_t pub[32];
	char err[512];
	int rc;

	cyph_key_public(key, pub);
	rc = cyph_asclient_auth(c, argv[0], argv[1], pub, &cr, err, sizeof(err));
	if (rc)
		return report(rc, err);
	print_cred(&cr);
	rc = save_cred(&cr, key);
	cyph_as_credential_free(&cr);
	return rc;
}

static int do_gn_list(struct cyph_asclient *c, char **argv, EVP_PKEY *key)
{
	struct cyph_as_credential cr;
	struct cyph_principal *v = NULL;
	size_t n = 0;
	uint8_t pub[32];
	char err[512];
	int rc;

	cyph_key_public(key, pub);
	rc = cyph_asclient_auth(c, argv[0], argv[1], pub, &cr, err, sizeof(err));
	if (rc)
		return report(rc, err);
	cyph_as_credential_free(&cr);
	rc = cyph_asclient_gn_list(c, &v, &n, err, sizeof(err));
	if (rc)
		return report(rc, err);
	for (size_t i = 0; i < n; i++) {
		char mac[18], a[INET6_ADDRSTRLEN] = "-";

		cyph_mac_format(v[i].mac, mac);
		if (v[i].has_vip4)
			inet_ntop(AF_INET, &v[i].vip4, a, sizeof(a));
		else if (v[i].has_vip6)
			inet_ntop(AF_INET6, &v[i].vip6, a, sizeof(a));
		printf("gnode id=%" PRIu64 " name=%s mac=%s method=%s ip=%s fqdn=%s vip=%s\n",
		       v[i].id, v[i].name, mac, cyph_gn_method_name(v[i].method),
		       cyph_ip_mode_name(v[i].ip_mode), v[i].fqdn, a);
	}
	printf("ok %zu general nodes\n", n);
	free(v);
	return 0;
}

static int do_gn_auth(struct cyph_asclient *c, int argc, char **argv, EVP_PKEY *key)
{
	struct cyph_as_gn_auth_req q = { 0 };
	struct cyph_as_credential cr;
	uint8_t pub[32];
	char err[512];
	int rc;

	cyph_key_public(key, pub);
	rc = cyph_asclient_auth(c, argv[0], argv[1], pub, &cr, err, sizeof(err));
	if (rc)
		return report(rc, err);
	cyph_as_credential_free(&cr);
	if (cyph_mac_parse(argv[2], q.mac) || !(q.method = cyph_gn_method_parse(argv[3]))) {
		fprintf(stderr, "bad MAC or method\n");
		return 2;
	}
	if (argc == 6) {
		q.has_username = true;
		snprintf(q.username, sizeof(q.username), "%s", argv[4]);
		snprintf(q.password, sizeof(q.password), "%s", argv[5]);
	} else if (argc == 5) {
		q.eap_result = (uint8_t)atoi(argv[4]);
	}
	memcpy(q.pubkey, pub, 32);
	rc = cyph_asclient_gn_auth(c, &q, &cr, err, sizeof(err));
	if (rc)
		return report(rc, err);
	print_cred(&cr);
	rc = save_cred(&cr, key);
	cyph_as_credential_free(&cr);
	return rc;
}

static int print_answer(const uint8_t *frame, size_t len)
{
	struct cyph_as_msg m;
	struct cyph_as_error e;
	const char *why;

	if (cyph_as_parse(frame, len, &m) || m.type != CYPH_AS_ERROR ||
	    cyph_as_parse_error(&m, &e, &why)) {
		printf("answer type 0x%02x id %u\n", len >= 6 ? frame[5] : 0,
		       len >= 12 ? m.req_id : 0);
		return 0;
	}
	printf("error %u %s: %s\n", e.code, cyph_as_err_name(e.code), e.msg);
	return e.code;
}

static int do_raw(struct cyph_asclient *c, const char *hex, int count)
{
	size_t n = strlen(hex) / 2, len;
	uint8_t *buf = malloc(n + 1), *frame = NULL;
	char err[512];
	int rc;

	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		sscanf(hex + 2 * i, "%2x", &v);
		buf[i] = (uint8_t)v;
	}
	rc = cyph_asclient_send_raw(c, buf, n, err, sizeof(err));
	free(buf);
	for (int i = 0; !rc && i < count; i++) {
		rc = cyph_asclient_recv_frame(c, &frame, &len, err, sizeof(err));
		if (rc)
			break;
		rc = print_answer(frame, len);
		free(frame);
		if (rc && i < count - 1)
			rc = 0;	/* report only the last answer's code */
	}
	if (rc < 0) {
		printf("closed %s\n", err);
		return 100;
	}
	return rc;
}

static int do_verify(int argc, char **argv)
{
	struct cyph_node_id id;
	struct cyph_ca *ca;
	int64_t now = argc > 3 ? atoll(argv[3]) : (int64_t)time(NULL);
	uint8_t *der;
	size_t len;
	char err[1024], a4[INET_ADDRSTRLEN] = "-", a6[INET6_ADDRSTRLEN] = "-";
	int rc;

	ca = cyph_ca_load(argv[1], err, sizeof(err));
	if (!ca || cyph_cert_load(argv[0], &der, &len, err, sizeof(err))) {
		printf("error %s\n", err);
		cyph_ca_free(ca);
		return 100;
	}
	if (argc > 2 && cyph_ca_load_crl(ca, argv[2])) {
		printf("error %s\n", cyph_ca_error(ca));
		rc = 100;
	} else if (cyph_cred_verify(ca, der, len, now, &id, err, sizeof(err))) {
		printf("invalid %s\n", err);
		rc = 1;
	} else {
		if (id.has_vip4)
			inet_ntop(AF_INET, &id.vip4, a4, sizeof(a4));
		if (id.has_vip6)
			inet_ntop(AF_INET6, &id.vip6, a6, sizeof(a6));
		printf("valid id=%" PRIu64 " role=%s fqdn=%s vip4=%s vip6=%s not_after=%lld serial=",
		       id.id, cyph_role_name(id.role), id.fqdn, a4, a6, (long long)id.not_after);
		for (size_t i = 0; i < id.serial_len; i++)
			printf("%02x", id.serial[i]);
		printf("\n");
		rc = 0;
	}
	free(der);
	cyph_ca_free(ca);
	return rc;
}

int main(int argc, char **argv)
{
	struct cyph_asclient_opts o = { .addr = "127.0.0.1:7443", .server_name = "127.0.0.1",
					.timeout_ms = 20000 };
	struct cyph_asclient *c;
	EVP_PKEY *key;
	char err[1024];
	int opt, rc = 2;

	signal(SIGPIPE, SIG_IGN);	/* a peer that hangs up is an error, not a kill */
	while ((opt = getopt(argc, argv, "+a:n:C:k:o:t:")) != -1) {
		switch (opt) {
		case 'a': o.addr = optarg; break;
		case 'n': o.server_name = optarg; break;
		case 'C': o.ca_path = optarg; break;
		case 'k': key_out = optarg; break;
		case 'o': cert_out = optarg; break;
		case 't': o.timeout_ms = atoi(optarg); break;
		default: return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc >= 3 && !strcmp(argv[0], "verify"))
		return do_verify(argc - 1, argv + 1);
	if (argc < 2 || !o.ca_path) {
		fprintf(stderr, "usage: see the comment at the top of as-client.c\n");
		return 2;
	}
	c = cyph_asclient_connect(&o, err, sizeof(err));
	if (!c) {
		printf("error -1 %s\n", err);
		return 100;
	}
	key = cyph_key_generate();
	if (!strcmp(argv[0], "auth") && argc == 3)
		rc = do_auth(c, argv + 1, key);
	else if (!strcmp(argv[0], "gn-list") && argc == 3)
		rc = do_gn_list(c, argv + 1, key);
	else if (!strcmp(argv[0], "gn-auth") && argc >= 5 && argc <= 7)
		rc = do_gn_auth(c, argc - 1, argv + 1, key);
	else if (!strcmp(argv[0], "raw") && (argc == 2 || argc == 3))
		rc = do_raw(c, argv[1], argc == 3 ? atoi(argv[2]) : 1);
	EVP_PKEY_free(key);
	cyph_asclient_close(c);
	return rc;
}
