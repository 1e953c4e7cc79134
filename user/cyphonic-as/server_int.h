/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by server.c (connections, requests) and listener.c
 * (accepting, per-address cap, accept backoff).
 */
#ifndef CYPHONIC_AS_SERVER_INT_H
#define CYPHONIC_AS_SERVER_INT_H

#include "as.h"
#include "runtime/addr.h"

enum conn_state { C_HANDSHAKE, C_READ, C_BUSY, C_WRITE };

struct as_conn {
	struct as_conn *prev, *next;
	struct as_server *srv;
	int fd;
	SSL *ssl;
	enum conn_state state;
	bool dead;		/* closed while a job runs: free when it ends */
	unsigned int served;	/* answers written on this connection */
	uint8_t in[CYPH_AS_MAX_REQUEST];
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_off;
	struct as_session session;
	struct cyph_srckey src;		/* counted in srv->cap */
	char peer[ADDR_ENDPOINT_STRLEN];
	struct cyph_conn_clock clock;
	struct cyph_timer *deadline;
};

struct as_server {
	struct cyph_loop *loop;
	struct as_state *st;
	struct cyph_workq *wq;		/* requests without a password */
	struct cyph_workq *pwq;		/* password checks */
	size_t pw_pending;
	struct as_gate *gate;
	struct cyph_conncap *cap;
	int lfd;
	bool accept_paused;
	struct cyph_timer *accept_timer;
	uint64_t accept_backoff_ms;
	struct as_conn *conns;
	size_t nconns;
	bool draining;
};

/* server.c */
struct as_conn *as_conn_new(struct as_server *s, int fd, const struct cyph_srckey *src,
			    const char *peer);
void as_conn_close(struct as_conn *c);

/* listener.c */
int as_listener_start(struct as_server *s, char *err, size_t errlen);
void as_listener_stop(struct as_server *s);
/* A connection went away: accepting may resume. */
void as_listener_slot_freed(struct as_server *s);

#endif
