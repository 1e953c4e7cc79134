/* SPDX-License-Identifier: MIT */
/*
 * Blocking client for the AS protocol (docs/as.md), for tests, the load
 * generator and the node daemon (which runs it on a helper thread).
 *
 * Every call returns 0 on success, a positive enum cyph_as_err code when
 * the AS answered with an error (its message in err), or -1 on a
 * transport or protocol failure (reason in err). One request at a time
 * per client; a successful cyph_asclient_auth() as an adapter makes the
 * connection an adapter session for the general-node calls.
 *
 * The process must ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)): OpenSSL
 * writes with write(2), and an AS that hangs up would otherwise kill it.
 */
#ifndef CYPHONIC_ASCLIENT_H
#define CYPHONIC_ASCLIENT_H

#include "wire/asproto.h"
#include "stores/store.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

struct cyph_asclient;

struct cyph_asclient_opts {
	const char *addr;		/* "host:port" of the AS */
	const char *server_name;	/* expected in the AS certificate (DNS or IP) */
	const char *ca_path;		/* the AS CA certificate (PEM) */
	int timeout_ms;			/* per send/receive; 0: 10 s */
};

/* A credential owned by the caller (cert buffers are malloc'd). */
struct cyph_as_credential {
	uint64_t node_id;
	uint8_t role;
	char fqdn[256];
	struct in_addr vip4;
	struct in6_addr vip6;
	bool has_vip4, has_vip6;
	int64_t not_after;
	uint8_t *cert;
	size_t cert_len;
	uint8_t *ca_cert;
	size_t ca_cert_len;
};

void cyph_as_credential_free(struct cyph_as_credential *c);

struct cyph_asclient *cyph_asclient_connect(const struct cyph_asclient_opts *o,
					    char *err, size_t errlen);
void cyph_asclient_close(struct cyph_asclient *c);

int cyph_asclient_auth(struct cyph_asclient *c, const char *name, const char *password,
		       const uint8_t pubkey[32], struct cyph_as_credential *out,
		       char *err, size_t errlen);

struct cyph_retry_policy;
/*
 * cyph_asclient_auth(), each failed try retried on a NEW connection (behind
 * ECMP a new flow, so another replica once the failed one's route is gone)
 * after the backoff of p (client/retry.h), while cyph_as_retryable() says
 * another try may cure it. *c: a connection to use first, or NULL; on
 * return the one that worked (the caller closes it), or NULL. Blocks for
 * at most p->budget_ms plus one try. *retries (may be NULL) is increased
 * per retry. Returns like cyph_asclient_auth(): the last try's result.
 */
int cyph_asclient_auth_retry(struct cyph_asclient **c, const struct cyph_asclient_opts *o,
			     const struct cyph_retry_policy *p, const char *name,
			     const char *password, const uint8_t pubkey[32],
			     struct cyph_as_credential *out, unsigned int *retries,
			     char *err, size_t errlen);

/*
 * aslogin.c: a login with a fresh Ed25519 key (*key, the caller frees it)
 * and the password in the first line of password_file, read for this
 * call and wiped after it; retried as cyph_asclient_auth_retry() does
 * with CYPH_RETRY_DEFAULT. Returns like cyph_asclient_auth().
 */
int cyph_asclient_login_new_key(const struct cyph_asclient_opts *o, const char *name,
				const char *password_file, EVP_PKEY **key,
				struct cyph_as_credential *out, char *err, size_t errlen);
/* The first line of file (a password) into pw. 0 or -1 with err. */
int cyph_as_password_read(const char *file, char *pw, size_t len, char *err, size_t errlen);
/*
 * The name to expect in the AS certificate: configured when set, else the
 * host part of addr ("host:port" or "[v6]:port").
 */
void cyph_as_server_name(const char *addr, const char *configured, char *out, size_t len);

/* *list is malloc'd (free()); role GENERAL entries with MAC/method/mode. */
int cyph_asclient_gn_list(struct cyph_asclient *c, struct cyph_principal **list,
			  size_t *n, char *err, size_t errlen);

int cyph_asclient_gn_auth(struct cyph_asclient *c, const struct cyph_as_gn_auth_req *req,
			  struct cyph_as_credential *out, char *err, size_t errlen);

/* Low level, for hostile-input tests: send bytes, read one frame (malloc'd). */
int cyph_asclient_send_raw(struct cyph_asclient *c, const void *buf, size_t len,
			   char *err, size_t errlen);
int cyph_asclient_recv_frame(struct cyph_asclient *c, uint8_t **frame, size_t *len,
			     char *err, size_t errlen);

#endif
