/* SPDX-License-Identifier: MIT */
/*
 * Minimal non-blocking HTTP/1.1 server for the operations endpoints of a
 * daemon:
 *
 *	GET /healthz	200 "ok", or 503 "draining" once draining
 *	GET /readyz	200 "ready" when ready and not draining, else 503
 *	GET /metrics	200, Prometheus text format (metrics.h)
 *
 * Anything else gets 404/405; malformed or oversized requests (> 8 KiB of
 * headers) get 400/431 and the connection is closed; each connection
 * serves one request (Connection: close). At most CYPH_HTTP_MAX_CONNS
 * connections at once, CYPH_HTTP_MAX_PER_SOURCE of them from one source
 * address (more are closed at accept); one not done 5 s after accept is
 * closed (bytes trickling in do not extend that).
 *
 * The server has its own internal epoll set, so it shows up in the
 * daemon's loop as a single fd:
 *
 *	h = cyph_http_listen("127.0.0.1:9100", err, sizeof(err));
 *	cyph_loop_add_fd(loop, cyph_http_fd(h), EPOLLIN, on_http, h);
 *	// on_http: cyph_http_on_readable(h);
 *	// and a 1 s timer calling cyph_http_tick(h) for idle expiry
 *
 * or, simpler, cyph_http_attach(h, loop) does both.
 */
#ifndef CYPHONIC_HTTP_H
#define CYPHONIC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CYPH_HTTP_MAX_CONNS 64
#define CYPH_HTTP_MAX_PER_SOURCE 8	/* connections of one source address at once */
#define CYPH_HTTP_MAX_REQUEST 8192
#define CYPH_HTTP_IDLE_MS 5000
#define CYPH_HTTP_HOLD_MS 30000		/* a held request is answered 504 after this */

struct cyph_http;
struct cyph_loop;

struct cyph_http *cyph_http_listen(const char *addr_port, char *err, size_t errlen);
void cyph_http_free(struct cyph_http *h);

/* The pollable fd (readable when the listener or a connection needs work). */
int cyph_http_fd(struct cyph_http *h);
/* Accepts and serves whatever is ready; never blocks. */
void cyph_http_on_readable(struct cyph_http *h);
/* Closes connections accepted more than CYPH_HTTP_IDLE_MS ago. */
void cyph_http_tick(struct cyph_http *h);

/* Registers the fd and a 1 s tick timer with loop. 0 or -1. */
int cyph_http_attach(struct cyph_http *h, struct cyph_loop *loop);
/* Undoes cyph_http_attach (call before cyph_http_free). */
void cyph_http_detach(struct cyph_http *h);

/* Ready/draining state for /readyz and /healthz. Starts not ready. */
void cyph_http_set_ready(struct cyph_http *h, bool ready);
void cyph_http_set_draining(struct cyph_http *h, bool draining);

/*
 * An application instead of the operations endpoints (cyphonicd's login
 * page, docs/cyphonicd.md): every request goes to fn, POST included,
 * with a body of at most max_body bytes (Content-Length required, else
 * 411; larger: 413; max_body + headers must fit CYPH_HTTP_MAX_REQUEST).
 * fn returns the status to answer at once, with the body it wrote into
 * text (ctype defaults to text/plain), or 0 to hold the request and
 * answer it later with cyph_http_reply(h, r->conn, ...) (a request not
 * answered within CYPH_HTTP_HOLD_MS gets 504).
 */
struct cyph_http_app_req {
	uint64_t conn;
	bool post, head;
	const char *path;		/* without the query string */
	const char *body;		/* POST: body_len bytes, NUL after them */
	size_t body_len;
	struct sockaddr_storage peer;
};

typedef int (*cyph_http_app_fn)(struct cyph_http *h, const struct cyph_http_app_req *r,
				const char **ctype, char *text, size_t textlen, void *arg);
void cyph_http_set_app(struct cyph_http *h, cyph_http_app_fn fn, void *arg, size_t max_body);
/* Answers a held request; false when it is gone (timed out, peer closed). */
bool cyph_http_reply(struct cyph_http *h, uint64_t conn, int status, const char *ctype,
		     const char *body);

/* The bound port (useful with port 0 in tests). */
uint16_t cyph_http_port(struct cyph_http *h);

/*
 * Optional hook: called before answering /healthz and /readyz; may update
 * the state (e.g. "store unreachable" -> not ready).
 */
void cyph_http_set_hook(struct cyph_http *h, void (*hook)(struct cyph_http *, void *),
			void *arg);

#endif
