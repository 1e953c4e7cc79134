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
#include <sys/socket.h>
#include <unistd.h>

struct http_conn {
	int fd;
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

static void accept_all(struct cyph_http *h)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct http_conn *c;
		size_t i;
		int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		for (i = 0; i < CYPH_HTTP_MAX_CONNS && h->conns[i]; i++)
			;
		c = i < CYPH_HTTP_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {	/* full: refuse rather than queue unbounded */
			close(fd);
			continue;
		}
		c->fd = fd;
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

/* Answers a complete header block. */
static void handle_request(struct cyph_http *h, struct http_conn *c)
{
	struct cyph_http_req r;
	int rc = cyph_http_parse_request(c->in, c->in_len, &r);

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
		keep = c->out ? conn_write(h, tag) : conn_read(h, tag);
		if (!keep)
			conn_close(h, tag);
	}
}

void cyph_http_tick(struct cyph_http *h)
{
	uint64_t now = cyph_now_ms();

	for (size_t i = 0; i < CYPH_HTTP_MAX_CONNS; i++)
		if (h->conns[i] && now - h->conns[i]->last_ms > CYPH_HTTP_IDLE_MS)
			conn_close(h, i);
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
