// SPDX-License-Identifier: MIT
/* Operations HTTP endpoint (http.h). */
#include "http.h"
#include "httpreq.h"
#include "evloop.h"
#include "listen.h"
#include "metrics.h"
#include "sslerr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_conn {
	int fd;
	uint64_t id;		/* generation << 8 | slot: what cyph_http_reply names */
	bool held;		/* the application answers later */
	struct sockaddr_storage peer;
	uint64_t last_ms;
	size_t in_len;
	char in[CYPH_HTTP_MAX_REQUEST];
	char *out;		/* response being written */
	size_t out_len, out_off;
};

struct cyph_http {
	int lfd, epfd;
	uint16_t port;
	bool ready, draining;
	struct http_conn *conns[CYPH_HTTP_MAX_CONNS];
	void (*hook)(struct cyph_http *, void *);
	void *hook_arg;
	struct cyph_loop *loop;
	struct cyph_timer *tick;
	cyph_http_app_fn app;
	void *app_arg;
	size_t max_body;
	uint64_t gen;
};

/* Tag for the listener in the internal epoll set. */
#define LISTEN_TAG UINT64_MAX

struct cyph_http *cyph_http_listen(const char *addr_port, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = LISTEN_TAG };
	struct cyph_http *h = calloc(1, sizeof(*h));

	if (!h) {
		cyph_fail(err, errlen, "out of memory");
		return NULL;
	}
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->lfd = cyph_listen_tcp_str(addr_port, 64, err, errlen);
	if (h->epfd < 0 || h->lfd < 0 || epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->lfd, &ev)) {
		if (h->epfd < 0 || h->lfd >= 0)
			cyph_fail(err, errlen, "http %s: %s", addr_port, strerror(errno));
		if (h->lfd >= 0)
			close(h->lfd);
		if (h->epfd >= 0)
			close(h->epfd);
		free(h);
		return NULL;
	}
	h->port = cyph_sock_port(h->lfd);
	return h;
}

static void conn_close(struct cyph_http *h, size_t i)
{
	struct http_conn *c = h->conns[i];

	epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
	h->conns[i] = NULL;
}

void cyph_http_free(struct cyph_http *h)
{
	if (!h)
		return;
	cyph_http_detach(h);
	for (size_t i = 0; i < CYPH_HTTP_MAX_CONNS; i++)
		if (h->conns[i])
			conn_close(h, i);
	close(h->lfd);
	close(h->epfd);
	free(h);
}

int cyph_http_fd(struct cyph_http *h) { return h->epfd; }
uint16_t cyph_http_port(struct cyph_http *h) { return h->port; }
void cyph_http_set_ready(struct cyph_http *h, bool ready) { h->ready = ready; }
void cyph_http_set_draining(struct cyph_http *h, bool d) { h->draining = d; }

void cyph_http_set_hook(struct cyph_http *h, void (*hook)(struct cyph_http *, void *),
			void *arg)
{
	h->hook = hook;
	h->hook_arg = arg;
}

void cyph_http_set_app(struct cyph_http *h, cyph_http_app_fn fn, void *arg, size_t max_body)
{
	h->app = fn;
	h->app_arg = arg;
	h->max_body = max_body;
}

/* The address of a peer (no port): what a per-source cap counts by. */
static bool same_source(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return true;
}

/*
 * Whether peer may have one more connection: a single source that opens
 * connections and sends nothing (slowloris) would otherwise hold every
 * slot, for CYPH_HTTP_IDLE_MS at a time, again and again.
 */
static bool source_ok(const struct cyph_http *h, const struct sockaddr_storage *peer)
{
	unsigned int n = 0;

	for (size_t i = 0; i < CYPH_HTTP_MAX_CONNS; i++)
		if (h->conns[i] && same_source(&h->conns[i]->peer, peer))
			n++;
	return n < CYPH_HTTP_MAX_PER_SOURCE;
}

static void accept_all(struct cyph_http *h)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		struct http_conn *c;
		size_t i;
		int fd = accept4(h->lfd, (struct sockaddr *)&peer, &plen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (i = 0; i < CYPH_HTTP_MAX_CONNS && h->conns[i]; i++)
			;
		c = i < CYPH_HTTP_MAX_CONNS && source_ok(h, &peer) ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {	/* full, or this source's share: refuse rather than queue */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->peer = peer;
		c->id = (++h->gen << 8) | i;
		c->last_ms = cyph_now_ms();
		ev.data.u64 = i;
		if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		h->conns[i] = c;
	}
}

static void respond(struct http_conn *c, int code, const char *reason,
		    const char *ctype, const char *body, size_t blen)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 code, reason, ctype, blen);

	c->out = malloc((size_t)n + blen);
	if (!c->out)
		return;
	memcpy(c->out, hdr, (size_t)n);
	memcpy(c->out + n, body, blen);
	c->out_len = (size_t)n + blen;
	c->out_off = 0;
}

static void respond_text(struct http_conn *c, int code, const char *reason,
			 const char *body)
{
	respond(c, code, reason, "text/plain; charset=utf-8", body, strlen(body));
}

static void serve_path(struct cyph_http *h, struct http_conn *c, const char *path)
{
	if (h->hook && (!strcmp(path, "/healthz") || !strcmp(path, "/readyz")))
		h->hook(h, h->hook_arg);
	if (!strcmp(path, "/healthz")) {
		if (h->draining)
			respond_text(c, 503, "Service Unavailable", "draining\n");
		else
			respond_text(c, 200, "OK", "ok\n");
	} else if (!strcmp(path, "/readyz")) {
		if (h->ready && !h->draining)
			respond_text(c, 200, "OK", "ready\n");
		else
			respond_text(c, 503, "Service Unavailable",
				     h->draining ? "draining\n" : "not ready\n");
	} else if (!strcmp(path, "/metrics")) {
		size_t len = 0;
		char *body = cyph_metrics_render_buf(&len);

		if (!body) {
			respond_text(c, 500, "Internal Server Error", "out of memory\n");
			return;
		}
		respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, len);
		free(body);
	} else {
		respond_text(c, 404, "Not Found", "not found\n");
	}
}

static bool conn_write(struct cyph_http *h, size_t i);

static const char *reason_of(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

/*
 * An application request whose headers (and body) are all in: 1 when
 * answered or held, 0 when more body is needed.
 */
static int handle_app(struct cyph_http *h, struct http_conn *c, const struct cyph_http_req *r)
{
	struct cyph_http_app_req a = { .conn = c->id, .post = r->post, .head = r->head,
				       .path = r->path, .peer = c->peer };
	const char *ctype = "text/plain; charset=utf-8";
	char text[4096] = "";
	int code;

	if (r->post && r->content_length < 0)
		code = 411, snprintf(text, sizeof(text), "Content-Length required\n");
	else if (r->post && (size_t)r->content_length > h->max_body)
		code = 413, snprintf(text, sizeof(text), "body over %zu bytes\n", h->max_body);
	else if (r->post && c->in_len < r->header_len + (size_t)r->content_length)
		return 0;
	else {
		a.body = r->post ? c->in + r->header_len : "";
		a.body_len = r->post ? (size_t)r->content_length : 0;
		if (r->post)
			c->in[r->header_len + a.body_len] = '\0';
		code = h->app(h, &a, &ctype, text, sizeof(text), h->app_arg);
	}
	if (!code) {
		c->held = true;
		c->last_ms = cyph_now_ms();	/* CYPH_HTTP_HOLD_MS from now */
		return 1;
	}
	respond(c, code, reason_of(code), ctype, text, r->head ? 0 : strlen(text));
	return 1;
}

bool cyph_http_reply(struct cyph_http *h, uint64_t conn, int status, const char *ctype,
		     const char *body)
{
	size_t i = conn & 0xff;
	struct http_conn *c = i < CYPH_HTTP_MAX_CONNS ? h->conns[i] : NULL;

	if (!c || c->id != conn || !c->held)
		return false;
	c->held = false;
	respond(c, status, reason_of(status), ctype ? ctype : "text/plain; charset=utf-8", body,
		strlen(body));
	if (!c->out || !conn_write(h, i))
		conn_close(h, i);
	return true;
}

/* Answers a complete header block. */
static void handle_request(struct cyph_http *h, struct http_conn *c)
{
	struct cyph_http_req r;
	int rc = cyph_http_parse_request2(c->in, c->in_len, h->app != NULL, &r);

	if (!rc && h->app) {
		handle_app(h, c, &r);
		return;
	}
	if (rc) {
		respond_text(c, rc, rc == 405 ? "Method Not Allowed" : "Bad Request",
			     rc == 405 ? "method not allowed\n" : "bad request\n");
		return;
	}
	serve_path(h, c, r.path);
	if (r.head && c->out) {
		char *body = strstr(c->out, "\r\n\r\n");

		if (body)
			c->out_len = (size_t)(body + 4 - c->out);
	}
}

/* Returns false when the connection is finished and must be closed. */
static bool conn_write(struct cyph_http *h, size_t i)
{
	struct http_conn *c = h->conns[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = i };

	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			return true;
		}
		if (n <= 0)
			return false;
		c->out_off += (size_t)n;
	}
	return false;	/* all sent: Connection: close */
}

static bool conn_read(struct cyph_http *h, size_t i)
{
	struct http_conn *c = h->conns[i];

	for (;;) {
		ssize_t n;

		if (c->in_len >= sizeof(c->in) - 1) {
			respond_text(c, 431, "Request Header Fields Too Large", "request too large\n");
			return c->out ? conn_write(h, i) : false;
		}
		n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0)
			return false;
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		/* last_ms stays the accept time: trickled bytes do not extend it */
		if (cyph_http_headers_complete(c->in, c->in_len)) {
			handle_request(h, c);
			if (c->held)
				return true;
			/* an application POST whose body is still coming */
			if (!c->out && h->app)
				continue;
			return c->out ? conn_write(h, i) : false;
		}
	}
}

void cyph_http_on_readable(struct cyph_http *h)
{
	struct epoll_event evs[16];
	int n = epoll_wait(h->epfd, evs, 16, 0);

	for (int k = 0; k < n; k++) {
		uint64_t tag = evs[k].data.u64;
		struct http_conn *c;
		bool keep;

		if (tag == LISTEN_TAG) {
			accept_all(h);
			continue;
		}
		if (tag >= CYPH_HTTP_MAX_CONNS || !(c = h->conns[tag]))
			continue;
		if (c->held) {	/* nothing more is read; a peer that closes is gone */
			char scratch[256];
			ssize_t n = recv(c->fd, scratch, sizeof(scratch), 0);

			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
				conn_close(h, tag);
			continue;
		}
		keep = c->out ? conn_write(h, tag) : conn_read(h, tag);
		if (!keep)
			conn_close(h, tag);
	}
}

void cyph_http_tick(struct cyph_http *h)
{
	uint64_t now = cyph_now_ms();

	for (size_t i = 0; i < CYPH_HTTP_MAX_CONNS; i++) {
		struct http_conn *c = h->conns[i];

		if (c && c->held && now - c->last_ms > CYPH_HTTP_HOLD_MS)
			cyph_http_reply(h, c->id, 504, NULL, "no answer in time: try again\n");
		else if (c && !c->held && now - c->last_ms > CYPH_HTTP_IDLE_MS)
			conn_close(h, i);
	}
}

static void on_fd(struct cyph_loop *loop, int fd, uint32_t ev, void *arg)
{
	(void)loop; (void)fd; (void)ev;
	cyph_http_on_readable(arg);
}

static void on_tick(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)loop; (void)t;
	cyph_http_tick(arg);
}

int cyph_http_attach(struct cyph_http *h, struct cyph_loop *loop)
{
	if (cyph_loop_add_fd(loop, h->epfd, EPOLLIN, on_fd, h))
		return -1;
	h->tick = cyph_loop_add_timer(loop, 1000, true, on_tick, h);
	if (!h->tick) {
		cyph_loop_del_fd(loop, h->epfd);
		return -1;
	}
	h->loop = loop;
	return 0;
}

void cyph_http_detach(struct cyph_http *h)
{
	if (!h->loop)
		return;
	cyph_loop_del_fd(h->loop, h->epfd);
	cyph_loop_del_timer(h->loop, h->tick);
	h->loop = NULL;
	h->tick = NULL;
}
