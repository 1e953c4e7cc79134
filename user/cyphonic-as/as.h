/* SPDX-License-Identifier: MIT */
/* cyphonic-as internals shared by its files. */
#ifndef CYPHONIC_AS_H
#define CYPHONIC_AS_H

#include "ascommon/asconfig.h"
#include "asguard/asguard.h"
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
#define AS_NRESULTS 14	/* 0 = ok, then enum cyph_as_err */

/* Why a password request was answered rate-limited. */
enum as_rl_reason { AS_RL_ACCOUNT, AS_RL_ADDRESS, AS_RL_QUEUE, AS_RL_NREASONS };
#define AS_NPHASES (CYPH_PHASE_WRITE + 1)

struct as_metrics {
	struct cyph_counter *requests[AS_REQ_NKINDS][AS_NRESULTS];
	struct cyph_histogram *latency[AS_REQ_NKINDS];
	struct cyph_gauge *connections, *draining, *pw_pending;
	struct cyph_counter *accepted, *rejected, *rejected_per_address, *tls_failures;
	struct cyph_counter *deadline_closed[AS_NPHASES];
	struct cyph_counter *rate_limited[AS_RL_NREASONS];
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
	const char *peer;	/* client endpoint, for the logs */
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

/*
 * gate.c: admission of password checks (login budgets, queue bound), on
 * the event loop's thread only.
 */
struct as_ticket {
	bool pw;		/* checks a password: runs on the password queue */
	bool held;		/* budgets charged: as_gate_done must follow */
	uint8_t acct[CYPH_BUDGET_KEY_MAX];
	size_t acct_len;
	struct cyph_srckey src;
};

struct as_gate;
struct as_gate *as_gate_new(void);
void as_gate_free(struct as_gate *g);
/*
 * Classifies the request in frame and, for a password check, charges the
 * budgets: 0 (admitted; t->pw says which queue), or CYPH_AS_E_RATE_LIMITED
 * with a message saying when to retry.
 */
uint16_t as_gate_admit(struct as_gate *g, const struct cyph_as_config *c, const uint8_t *frame,
		       size_t len, const struct as_session *s, const struct cyph_srckey *src,
		       size_t pw_pending, struct as_ticket *t, char *msg, size_t msglen);
/* The admitted request ended with err_code (0 = ok): settles the budgets. */
void as_gate_done(struct as_gate *g, const struct cyph_as_config *c, struct as_ticket *t,
		  uint16_t err_code, const char *peer);

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
