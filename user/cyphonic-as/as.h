/* SPDX-License-Identifier: MIT */
/* cyphonic-as internals shared by its files. */
#ifndef CYPHONIC_AS_H
#define CYPHONIC_AS_H

#include "ascommon/asconfig.h"
#include "wire/asproto.h"
#include "runtime/config.h"
#include "runtime/daemon.h"
#include "runtime/log.h"
#include "runtime/metrics.h"
#include "stores/store.h"

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* struct cyph_as_config: user/lib/ascommon/asconfig.h (shared with cyphonic-admin). */

/* Metrics (as_metrics.c). */
enum as_req_kind { AS_REQ_AUTH, AS_REQ_GN_LIST, AS_REQ_GN_AUTH, AS_REQ_OTHER, AS_REQ_NKINDS };
#define AS_NRESULTS 13	/* 0 = ok, then enum cyph_as_err */

struct as_metrics {
	struct cyph_counter *requests[AS_REQ_NKINDS][AS_NRESULTS];
	struct cyph_histogram *latency[AS_REQ_NKINDS];
	struct cyph_gauge *connections, *draining;
	struct cyph_counter *accepted, *rejected, *tls_failures, *idle_closed;
	struct cyph_counter *certs_issued, *crl_writes, *reload_ok, *reload_failed;
};

extern struct as_metrics as_m;
int as_metrics_init(void);
enum as_req_kind as_req_kind(uint8_t type);
void as_count_request(uint8_t type, uint16_t err_code, uint64_t start_ns);

/*
 * The parts a request handler needs; replaced as a whole on SIGHUP. Held
 * by reference count because jobs on worker threads may still use the
 * old one while the new one serves.
 */
struct as_pki {
	int refs;		/* under as_state.lock */
	struct cyph_ca_signer *signer;
	SSL_CTX *tls;
};

struct as_state {
	pthread_mutex_t lock;	/* store access, pki swap, config swap */
	struct cyph_as_config cfg;
	struct cyph_store *store;
	struct as_pki *pki;
};

/* pki.c */
int as_pki_prepare(const struct cyph_as_config *c, char *err, size_t errlen);
struct as_pki *as_pki_load(const struct cyph_as_config *c, char *err, size_t errlen);
struct as_pki *as_pki_get(struct as_state *st);
void as_pki_put(struct as_state *st, struct as_pki *p);
/* Rewrites the CRL from the store's revocations (caller holds st->lock). */
int as_publish_crl(struct as_state *st, struct cyph_ca_signer *s, char *err, size_t errlen);

/* handlers.c: run on a worker thread, fill resp (a finished frame). */
struct as_session {
	uint64_t principal_id;	/* 0: not authenticated */
	uint8_t role;
	char name[CYPH_NAME_MAX];
};

struct as_request {
	struct as_state *st;
	uint8_t type;
	uint32_t req_id;
	uint8_t *frame;		/* owned copy of the request */
	size_t frame_len;
	struct as_session session;	/* in: current; out: after the request */
	struct cyph_as_buf resp;
	uint16_t err_code;	/* 0 = ok */
	uint64_t start_ns;
};

void as_handle(struct as_request *r);
void as_error_frame(struct cyph_as_buf *b, uint32_t req_id, uint16_t code, const char *msg);

/* server.c */
struct as_server;
struct cyph_loop;
struct as_server *as_server_new(struct cyph_loop *loop, struct as_state *st, char *err,
				size_t errlen);
void as_server_free(struct as_server *s);
/*
 * Stops accepting and closes connections idle between requests; requests
 * in flight, and first requests of connections accepted before, finish.
 */
void as_server_drain(struct as_server *s);
bool as_server_idle(void *s);
size_t as_server_connections(struct as_server *s);

#endif
