// SPDX-License-Identifier: MIT
/*
 * Idle connections: opens `conns` TLS connections to the AS (handshake
 * complete, no request), `window` handshakes in flight at a time, prints
 * "RESULT test=as_idle_open ..." and then "READY", and holds them for
 * `seconds` or until killed. What a fleet of nodes that keep their AS
 * connection open looks like to the AS; tests/bench/evloop.sh measures the
 * AS meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "pki/tls.h"
#include "runtime/config.h"
#include "lg.h"

struct idle_conn {
	int fd;
	SSL *ssl;
};

struct idle {
	const struct lg_opts *o;
	struct cyph_cfg_addr addr;
	SSL_CTX *ctx;
	int ep;
	struct idle_conn *c;
	int started, inflight, ok, fail;
};

/* One fd per connection, plus a few: ask for it rather than fail at 1024. */
static void raise_nofile(int need)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur >= (rlim_t)need)
		return;
	r.rlim_cur = r.rlim_max < (rlim_t)need ? r.rlim_max : (rlim_t)need;
	setrlimit(RLIMIT_NOFILE, &r);
}

static void conn_fail(struct idle *d, int i)
{
	struct idle_conn *c = &d->c[i];

	if (d->fail++ == 0) {
		char msg[256];

		ERR_error_string_n(ERR_peek_last_error(), msg, sizeof(msg));
		fprintf(stderr, "idle: connection %d failed: %s (errno %s)\n", i, msg,
			strerror(errno));
	}
	ERR_clear_error();
	SSL_free(c->ssl);
	close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	d->inflight--;
}

static void conn_start(struct idle *d, int i)
{
	struct idle_conn *c = &d->c[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = (uint32_t)i };
	char err[256];

	d->started++;
	d->inflight++;
	c->fd = socket(d->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	c->ssl = NULL;
	if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&d->addr.ss, d->addr.len) &&
			  errno != EINPROGRESS)) {
		conn_fail(d, i);
		return;
	}
	c->ssl = cyph_tls_client_new(d->ctx, c->fd, "127.0.0.1", err, sizeof(err));
	if (!c->ssl || epoll_ctl(d->ep, EPOLL_CTL_ADD, c->fd, &ev)) {
		conn_fail(d, i);
		return;
	}
	/* an idle client needs no record buffers: keep the load generator small */
	SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
}

static void conn_step(struct idle *d, int i)
{
	struct idle_conn *c = &d->c[i];
	struct epoll_event ev = { .data.u32 = (uint32_t)i };
	int ret = SSL_connect(c->ssl);

	if (ret == 1) {
		epoll_ctl(d->ep, EPOLL_CTL_DEL, c->fd, NULL);
		d->inflight--;
		d->ok++;
		return;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		ev.events = EPOLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		ev.events = EPOLLOUT;
		break;
	default:
		conn_fail(d, i);
		return;
	}
	epoll_ctl(d->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Keeps `window` handshakes in flight until all are open or failed. */
static void open_all(struct idle *d)
{
	struct epoll_event evs[256];
	int n = d->o->conns;

	while (d->started < n || d->inflight > 0) {
		int k;

		while (d->started < n && d->inflight < d->o->window)
			conn_start(d, d->started);
		k = epoll_wait(d->ep, evs, 256, 10000);
		if (k == 0) {
			fprintf(stderr, "idle: no progress for 10 s, %d handshakes stuck\n",
				d->inflight);
			d->fail += d->inflight;
			return;
		}
		for (int j = 0; j < k; j++)
			conn_step(d, (int)evs[j].data.u32);
	}
}

int lg_run_idle(const struct lg_opts *o)
{
	struct idle d = { .o = o, .ep = -1 };
	const char *why = "";
	char err[512];
	uint64_t t0, t1;

	if (cyph_parse_addr(o->as, &d.addr, &why)) {
		fprintf(stderr, "idle: %s: %s\n", o->as, why);
		return 2;
	}
	raise_nofile(o->conns + 64);
	d.ctx = cyph_tls_client_ctx(o->as_ca, err, sizeof(err));
	d.ep = epoll_create1(EPOLL_CLOEXEC);
	d.c = calloc((size_t)o->conns, sizeof(*d.c));
	if (!d.ctx || d.ep < 0 || !d.c) {
		fprintf(stderr, "idle: %s\n", d.ctx ? "out of memory" : err);
		return 1;
	}
	t0 = lg_now_ns();
	open_all(&d);
	t1 = lg_now_ns();
	printf("RESULT test=as_idle_open conns=%d ok=%d fail=%d secs=%.2f rate=%.0f\n",
	       o->conns, d.ok, d.fail, (double)(t1 - t0) / 1e9,
	       (double)d.ok / ((double)(t1 - t0) / 1e9));
	printf("READY\n");
	fflush(stdout);
	/* hold; the connections close when the process ends */
	while (lg_now_ns() - t1 < (uint64_t)(o->seconds * 1e9))
		usleep(100000);
	return d.fail ? 1 : 0;
}
