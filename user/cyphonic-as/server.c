// SPDX-License-Identifier: MIT
/*
 * TLS connections of the AS: non-blocking handshake, framing, hand-off of
 * complete requests to the worker pool, writing answers, idle timeout and
 * drain. One request per connection is in flight at a time; pipelined
 * requests wait in the input buffer.
 */
#include "as.h"
#include "runtime/evloop.h"
#include "runtime/listen.h"
#include "runtime/sslerr.h"
#include "runtime/workq.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
	struct cyph_timer *idle;
};

struct as_server {
	struct cyph_loop *loop;
	struct as_state *st;
	struct cyph_workq *wq;
	int lfd;
	struct as_conn *conns;
	size_t nconns;
	bool draining;
};

struct job {
	struct as_request req;
	struct as_conn *conn;
};

static void drive(struct as_conn *c);

static void conn_unlink(struct as_conn *c)
{
	struct as_server *s = c->srv;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	cyph_gauge_add(as_m.connections, -1);
}

/* Closes the socket now; the struct lives on while a job refers to it. */
static void conn_close(struct as_conn *c)
{
	struct as_server *s = c->srv;

	if (c->fd >= 0) {
		cyph_loop_del_fd(s->loop, c->fd);
		SSL_free(c->ssl);
		c->ssl = NULL;
		close(c->fd);
		c->fd = -1;
		ERR_clear_error();
		cyph_loop_del_timer(s->loop, c->idle);
		c->idle = NULL;
		conn_unlink(c);
	}
	if (c->state == C_BUSY) {
		c->dead = true;
		return;
	}
	free(c->out);
	free(c);
}

static void set_events(struct as_conn *c, uint32_t ev)
{
	cyph_loop_mod_fd(c->srv->loop, c->fd, ev);
}

static void on_idle(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct as_conn *c = arg;

	if (c->state == C_BUSY) {
		cyph_loop_timer_rearm(loop, t, (uint64_t)c->srv->st->cfg.idle_timeout_ms);
		return;
	}
	cyph_counter_inc(as_m.idle_closed);
	log_debug("connection idle for %lld ms: closed", c->srv->st->cfg.idle_timeout_ms);
	c->idle = NULL;		/* one-shot: freed by the loop after we return */
	conn_close(c);
}

static void touch(struct as_conn *c)
{
	if (c->idle)
		cyph_loop_timer_rearm(c->srv->loop, c->idle, (uint64_t)c->srv->st->cfg.idle_timeout_ms);
}

/* SSL_ERROR_WANT_* -> wait for that; anything else -> false (close). */
static bool ssl_wait(struct as_conn *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);

	if (e == SSL_ERROR_WANT_READ) {
		set_events(c, EPOLLIN);
		return true;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		set_events(c, EPOLLOUT);
		return true;
	}
	if (e != SSL_ERROR_ZERO_RETURN && (e != SSL_ERROR_SYSCALL || errno)) {
		char buf[256];

		log_debug("connection closed: %s", cyph_ssl_drain(buf, sizeof(buf)));
	}
	return false;
}

static void job_work(void *arg)
{
	as_handle(&((struct job *)arg)->req);
}

static void job_done(void *arg)
{
	struct job *j = arg;
	struct as_conn *c = j->conn;

	as_count_request(j->req.type, j->req.err_code, j->req.start_ns);
	free(j->req.frame);
	if (c->dead) {
		c->state = C_READ;	/* lets conn_close free it */
		cyph_as_buf_free(&j->req.resp);
		conn_close(c);
		free(j);
		return;
	}
	c->session = j->req.session;
	c->out = j->req.resp.data;	/* take the buffer */
	c->out_len = j->req.resp.failed ? 0 : j->req.resp.len;
	c->out_off = 0;
	c->state = C_WRITE;
	free(j);
	drive(c);
}

/* Queues an immediate error answer (no worker needed). */
static void answer_error(struct as_conn *c, uint32_t req_id, uint16_t code, const char *msg,
			 uint8_t type)
{
	struct cyph_as_buf b;

	cyph_as_buf_init(&b, CYPH_AS_MAX_RESPONSE);
	as_error_frame(&b, req_id, code, msg);
	as_count_request(type, code, 0);
	c->out = b.data;
	c->out_len = b.failed ? 0 : b.len;
	c->out_off = 0;
	c->state = C_WRITE;
}

/* A whole frame of n bytes is at the start of c->in. */
static bool submit_frame(struct as_conn *c, size_t n)
{
	struct cyph_as_msg m;
	struct job *j;

	if (cyph_as_parse(c->in, n, &m)) {
		answer_error(c, 0, CYPH_AS_E_MALFORMED, "bad frame", 0);
		return true;
	}
	if (m.version != CYPH_AS_VERSION) {
		answer_error(c, m.req_id, CYPH_AS_E_VERSION, "unsupported protocol version", m.type);
		return true;
	}
	j = calloc(1, sizeof(*j));
	if (j)
		j->req.frame = malloc(n);
	if (!j || !j->req.frame) {
		free(j);
		answer_error(c, m.req_id, CYPH_AS_E_INTERNAL, "out of memory", m.type);
		return true;
	}
	memcpy(j->req.frame, c->in, n);
	j->req.frame_len = n;
	j->req.st = c->srv->st;
	j->req.type = m.type;
	j->req.req_id = m.req_id;
	j->req.session = c->session;
	j->req.start_ns = cyph_metrics_now_ns();
	j->conn = c;
	if (cyph_workq_submit(c->srv->wq, job_work, job_done, j)) {
		free(j->req.frame);
		free(j);
		answer_error(c, m.req_id, CYPH_AS_E_INTERNAL, "out of memory", m.type);
		return true;
	}
	c->state = C_BUSY;
	return true;
}

/*
 * If c->in holds a whole frame, takes it out and starts it. Returns true
 * when the state changed, false when more input is needed. An oversized
 * or undersized length prefix gets an error and the connection closes
 * after it (the stream cannot be resynchronised).
 */
static bool take_frame(struct as_conn *c, bool *fatal)
{
	size_t n = cyph_as_frame_len(c->in, c->in_len);

	if (c->in_len < 4)
		return false;
	if (n < CYPH_AS_HDR_LEN || n > CYPH_AS_MAX_REQUEST) {
		answer_error(c, 0, n > CYPH_AS_MAX_REQUEST ? CYPH_AS_E_TOO_LARGE :
			     CYPH_AS_E_MALFORMED, "bad frame length", 0);
		*fatal = true;
		return true;
	}
	if (c->in_len < n)
		return false;
	submit_frame(c, n);
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	return true;
}

static bool step_read(struct as_conn *c, bool *fatal)
{
	size_t got = 0;
	int ret;

	if (take_frame(c, fatal))
		return true;
	ret = SSL_read_ex(c->ssl, c->in + c->in_len, sizeof(c->in) - c->in_len, &got);
	if (ret != 1) {
		if (!ssl_wait(c, ret))
			*fatal = true;
		return false;
	}
	c->in_len += got;
	touch(c);
	return true;
}

static bool step_write(struct as_conn *c, bool *closing)
{
	size_t done = 0;
	int ret;

	if (c->out_off < c->out_len) {
		ret = SSL_write_ex(c->ssl, c->out + c->out_off, c->out_len - c->out_off, &done);
		if (ret != 1) {
			if (!ssl_wait(c, ret))
				*closing = true;
			return false;
		}
		c->out_off += done;
		touch(c);
		if (c->out_off < c->out_len)
			return true;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	c->served++;
	if (c->srv->draining || *closing) {
		*closing = true;
		return false;
	}
	c->state = C_READ;
	return true;
}

/* Runs the connection's state machine as far as it goes without blocking. */
static void drive(struct as_conn *c)
{
	bool closing = false, progress = true;
	int ret;

	while (progress && !closing) {
		switch (c->state) {
		case C_HANDSHAKE:
			ret = SSL_do_handshake(c->ssl);
			if (ret == 1) {
				c->state = C_READ;
				touch(c);
			} else {
				progress = false;
				if (!ssl_wait(c, ret)) {
					cyph_counter_inc(as_m.tls_failures);
					closing = true;
				}
			}
			break;
		case C_READ: {
			bool fatal = false;

			progress = step_read(c, &fatal);
			if (fatal && c->state == C_WRITE) {
				/* answer the bad frame, then close */
				step_write(c, &closing);
				closing = true;
			} else if (fatal) {
				closing = true;
			}
			break;
		}
		case C_BUSY:
			set_events(c, 0);	/* no input while a request runs */
			return;
		case C_WRITE:
			progress = step_write(c, &closing);
			break;
		}
	}
	if (closing)
		conn_close(c);
}

static void on_conn(struct cyph_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct as_conn *c = arg;

	(void)loop; (void)fd;
	if ((ev & (EPOLLERR | EPOLLHUP)) && c->state == C_BUSY) {
		conn_close(c);	/* marks dead; freed when the job ends */
		return;
	}
	drive(c);
}

static struct as_conn *conn_new(struct as_server *s, int fd)
{
	struct as_conn *c = calloc(1, sizeof(*c));
	struct as_pki *pki;

	if (!c)
		return NULL;
	c->srv = s;
	c->fd = fd;
	pki = as_pki_get(s->st);
	c->ssl = SSL_new(pki->tls);	/* holds its own reference to the context */
	as_pki_put(s->st, pki);
	if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	SSL_set_accept_state(c->ssl);
	/*
	 * Most connections sit idle between requests (a fleet of nodes keeps
	 * them open): let OpenSSL free its ~34 KiB of record buffers while
	 * nothing is pending, rather than hold them per connection.
	 */
	SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
	c->idle = cyph_loop_add_timer(s->loop, (uint64_t)s->st->cfg.idle_timeout_ms, false,
				      on_idle, c);
	if (!c->idle || cyph_loop_add_fd(s->loop, fd, EPOLLIN, on_conn, c)) {
		cyph_loop_del_timer(s->loop, c->idle);
		SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	cyph_gauge_add(as_m.connections, 1);
	return c;
}

static void on_listen(struct cyph_loop *loop, int lfd, uint32_t ev, void *arg)
{
	struct as_server *s = arg;

	(void)loop; (void)ev;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (s->nconns >= (size_t)s->st->cfg.max_connections) {
			cyph_counter_inc(as_m.rejected);
			close(fd);
			continue;
		}
		if (!conn_new(s, fd)) {
			log_err("out of memory accepting a connection");
			close(fd);
			continue;
		}
		cyph_counter_inc(as_m.accepted);
	}
}

struct as_server *as_server_new(struct cyph_loop *loop, struct as_state *st, char *err,
				size_t errlen)
{
	struct as_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->st = st;
	s->lfd = cyph_listen_tcp(&st->cfg.listen, 512, err, errlen);
	if (s->lfd < 0)
		goto fail;
	s->wq = cyph_workq_new(loop, (unsigned int)st->cfg.workers);
	if (!s->wq) {
		snprintf(err, errlen, "cannot start %lld worker threads", st->cfg.workers);
		goto fail;
	}
	if (cyph_loop_add_fd(loop, s->lfd, EPOLLIN, on_listen, s)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	return s;
fail:
	cyph_workq_free(s->wq);
	if (s->lfd >= 0)
		close(s->lfd);
	free(s);
	return NULL;
}

static void stop_listening(struct as_server *s)
{
	if (s->lfd < 0)
		return;
	cyph_loop_del_fd(s->loop, s->lfd);
	close(s->lfd);	/* new connections are now refused by the kernel */
	s->lfd = -1;
}

void as_server_drain(struct as_server *s)
{
	struct as_conn *c, *next;

	s->draining = true;
	stop_listening(s);
	for (c = s->conns; c; c = next) {
		next = c->next;
		/*
		 * Idle between requests: nothing in flight, close. A connection
		 * that has not sent its first request yet was accepted before
		 * the drain and gets it answered (within the grace period).
		 */
		if (c->state == C_READ && c->in_len == 0 && c->served)
			conn_close(c);
	}
}

bool as_server_idle(void *arg)
{
	struct as_server *s = arg;

	return s->nconns == 0 && cyph_workq_pending(s->wq) == 0;
}

size_t as_server_connections(struct as_server *s)
{
	return s->nconns;
}

void as_server_free(struct as_server *s)
{
	if (!s)
		return;
	stop_listening(s);
	s->draining = true;
	cyph_workq_free(s->wq);	/* finishes running jobs first */
	while (s->conns)
		conn_close(s->conns);
	free(s);
}
