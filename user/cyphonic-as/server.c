// SPDX-License-Identifier: MIT
/*
 * TLS connections of the AS: non-blocking handshake, framing, hand-off of
 * complete requests to the worker pools (password checks on their own,
 * behind the gate of gate.c), writing answers, per-phase deadlines and
 * drain. One request per connection is in flight at a time; pipelined
 * requests wait in the input buffer. Request bytes are wiped once
 * consumed: frames carry passwords.
 */
#include "server_int.h"
#include "runtime/evloop.h"
#include "runtime/sslerr.h"
#include "runtime/workq.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
	struct as_request req;
	struct as_conn *conn;
	struct as_ticket ticket;
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
	cyph_conncap_del(s->cap, &c->src);
	as_listener_slot_freed(s);
}

/* Closes the socket now; the struct lives on while a job refers to it. */
void as_conn_close(struct as_conn *c)
{
	struct as_server *s = c->srv;

	if (c->fd >= 0) {
		cyph_loop_del_fd(s->loop, c->fd);
		SSL_free(c->ssl);
		c->ssl = NULL;
		close(c->fd);
		c->fd = -1;
		ERR_clear_error();
		cyph_loop_del_timer(s->loop, c->deadline);
		c->deadline = NULL;
		conn_unlink(c);
	}
	if (c->state == C_BUSY) {
		c->dead = true;
		return;
	}
	OPENSSL_cleanse(c->in, c->in_len);
	free(c->out);
	free(c);
}

static void set_events(struct as_conn *c, uint32_t ev)
{
	cyph_loop_mod_fd(c->srv->loop, c->fd, ev);
}

static struct cyph_deadline_policy deadlines(const struct as_server *s)
{
	const struct cyph_as_config *c = &s->st->cfg;

	return (struct cyph_deadline_policy){ .handshake_ms = c->handshake_timeout_ms,
					      .idle_ms = c->idle_timeout_ms,
					      .request_ms = c->request_timeout_ms };
}

/* Milliseconds until the current phase's deadline (at least 1). */
static uint64_t time_left(const struct as_conn *c)
{
	struct cyph_deadline_policy p = deadlines(c->srv);
	int64_t d = cyph_conn_deadline(&c->clock, &p), now = (int64_t)cyph_now_ms();

	if (d == CYPH_NO_DEADLINE)
		return (uint64_t)p.request_ms;	/* look again later */
	return d > now ? (uint64_t)(d - now) : 1;
}

static void on_deadline(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct as_conn *c = arg;
	struct cyph_deadline_policy p = deadlines(c->srv);

	if (cyph_conn_deadline(&c->clock, &p) > (int64_t)cyph_now_ms()) {
		cyph_loop_timer_rearm(loop, t, time_left(c));	/* BUSY, or config changed */
		return;
	}
	cyph_counter_inc(as_m.deadline_closed[c->clock.phase]);
	log_debug("%s: %s phase over its deadline: closed", c->peer,
		  cyph_conn_phase_name(c->clock.phase));
	c->deadline = NULL;	/* one-shot: freed by the loop after we return */
	as_conn_close(c);
}

/*
 * Enters a phase; its deadline counts from now. Re-entering the current
 * phase (more bytes of the same request) leaves the deadline alone.
 */
static void phase(struct as_conn *c, enum cyph_conn_phase ph)
{
	if (cyph_conn_clock_enter(&c->clock, ph, (int64_t)cyph_now_ms()) && c->deadline)
		cyph_loop_timer_rearm(c->srv->loop, c->deadline, time_left(c));
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
	struct as_server *s = c->srv;

	as_count_request(j->req.type, j->req.err_code, j->req.start_ns);
	if (j->ticket.pw) {
		s->pw_pending--;
		cyph_gauge_add(as_m.pw_pending, -1);
		as_gate_done(s->gate, &s->st->cfg, &j->ticket, j->req.err_code, c->peer);
	}
	OPENSSL_cleanse(j->req.frame, j->req.frame_len);
	free(j->req.frame);
	if (c->dead) {
		c->state = C_READ;	/* lets conn_close free it */
		cyph_as_buf_free(&j->req.resp);
		as_conn_close(c);
		free(j);
		return;
	}
	c->session = j->req.session;
	c->out = j->req.resp.data;	/* take the buffer */
	c->out_len = j->req.resp.failed ? 0 : j->req.resp.len;
	c->out_off = 0;
	c->state = C_WRITE;
	phase(c, CYPH_PHASE_WRITE);
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
	phase(c, CYPH_PHASE_WRITE);
}

/* A whole frame of n bytes is at the start of c->in. */
static void submit_frame(struct as_conn *c, size_t n)
{
	struct as_server *s = c->srv;
	struct cyph_as_msg m;
	struct as_ticket t;
	struct job *j;
	char why[128];
	uint16_t code;

	if (cyph_as_parse(c->in, n, &m)) {
		answer_error(c, 0, CYPH_AS_E_MALFORMED, "bad frame", 0);
		return;
	}
	if (m.version != CYPH_AS_VERSION) {
		answer_error(c, m.req_id, CYPH_AS_E_VERSION, "unsupported protocol version", m.type);
		return;
	}
	code = as_gate_admit(s->gate, &s->st->cfg, c->in, n, &c->session, &c->src, s->pw_pending,
			     &t, why, sizeof(why));
	if (code) {
		log_debug("%s: %s", c->peer, why);
		answer_error(c, m.req_id, code, why, m.type);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j)
		j->req.frame = malloc(n);
	if (!j || !j->req.frame) {
		free(j);
		as_gate_done(s->gate, &s->st->cfg, &t, CYPH_AS_E_INTERNAL, c->peer);
		answer_error(c, m.req_id, CYPH_AS_E_INTERNAL, "out of memory", m.type);
		return;
	}
	memcpy(j->req.frame, c->in, n);
	j->req.frame_len = n;
	j->req.st = s->st;
	j->req.peer = c->peer;
	j->req.type = m.type;
	j->req.req_id = m.req_id;
	j->req.session = c->session;
	j->req.start_ns = cyph_metrics_now_ns();
	j->conn = c;
	j->ticket = t;
	if (cyph_workq_submit(t.pw ? s->pwq : s->wq, job_work, job_done, j)) {
		OPENSSL_cleanse(j->req.frame, n);
		free(j->req.frame);
		free(j);
		as_gate_done(s->gate, &s->st->cfg, &t, CYPH_AS_E_INTERNAL, c->peer);
		answer_error(c, m.req_id, CYPH_AS_E_INTERNAL, "out of memory", m.type);
		return;
	}
	if (t.pw) {
		s->pw_pending++;
		cyph_gauge_add(as_m.pw_pending, 1);
	}
	c->state = C_BUSY;
	phase(c, CYPH_PHASE_BUSY);
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
	OPENSSL_cleanse(c->in + c->in_len, n);	/* the frame's old bytes */
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
	phase(c, CYPH_PHASE_REQUEST);	/* from the first byte; more do not extend it */
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
	phase(c, c->in_len ? CYPH_PHASE_REQUEST : CYPH_PHASE_IDLE);
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
				phase(c, CYPH_PHASE_IDLE);
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
		as_conn_close(c);
}

static void on_conn(struct cyph_loop *loop, int fd, uint32_t ev, void *arg)
{
	struct as_conn *c = arg;

	(void)loop; (void)fd;
	if ((ev & (EPOLLERR | EPOLLHUP)) && c->state == C_BUSY) {
		as_conn_close(c);	/* marks dead; freed when the job ends */
		return;
	}
	drive(c);
}

struct as_conn *as_conn_new(struct as_server *s, int fd, const struct cyph_srckey *src,
			    const char *peer)
{
	struct as_conn *c = calloc(1, sizeof(*c));
	struct as_pki *pki;

	if (!c)
		return NULL;
	c->srv = s;
	c->fd = fd;
	c->src = *src;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
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
	 * nothing is pending, rather than hold them per connection. Those
	 * buffers held passwords in plain text: have them wiped when freed.
	 */
	SSL_set_mode(c->ssl, SSL_MODE_RELEASE_BUFFERS);
#ifdef SSL_OP_CLEANSE_PLAINTEXT
	SSL_set_options(c->ssl, SSL_OP_CLEANSE_PLAINTEXT);
#endif
	cyph_conn_clock_start(&c->clock, CYPH_PHASE_HANDSHAKE, (int64_t)cyph_now_ms());
	c->deadline = cyph_loop_add_timer(s->loop, time_left(c), false, on_deadline, c);
	if (!c->deadline || cyph_loop_add_fd(s->loop, fd, EPOLLIN, on_conn, c)) {
		cyph_loop_del_timer(s->loop, c->deadline);
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
	s->lfd = -1;
	s->gate = as_gate_new();
	s->cap = cyph_conncap_new((size_t)st->cfg.max_connections);
	if (!s->gate || !s->cap) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->wq = cyph_workq_new(loop, (unsigned int)st->cfg.workers);
	s->pwq = cyph_workq_new(loop, (unsigned int)st->cfg.pw_workers);
	if (!s->wq || !s->pwq) {
		snprintf(err, errlen, "cannot start %lld + %lld worker threads", st->cfg.workers,
			 st->cfg.pw_workers);
		goto fail;
	}
	if (as_listener_start(s, err, errlen))
		goto fail;
	return s;
fail:
	cyph_workq_free(s->wq);
	cyph_workq_free(s->pwq);
	as_gate_free(s->gate);
	cyph_conncap_free(s->cap);
	free(s);
	return NULL;
}

void as_server_drain(struct as_server *s)
{
	struct as_conn *c, *next;

	s->draining = true;
	as_listener_stop(s);
	for (c = s->conns; c; c = next) {
		next = c->next;
		/*
		 * Idle between requests: nothing in flight, close. A connection
		 * that has not sent its first request yet was accepted before
		 * the drain and gets it answered (within the grace period).
		 */
		if (c->state == C_READ && c->in_len == 0 && c->served)
			as_conn_close(c);
	}
}

bool as_server_idle(void *arg)
{
	struct as_server *s = arg;

	return s->nconns == 0 && cyph_workq_pending(s->wq) == 0 &&
	       cyph_workq_pending(s->pwq) == 0;
}

size_t as_server_connections(struct as_server *s)
{
	return s->nconns;
}

void as_server_free(struct as_server *s)
{
	if (!s)
		return;
	as_listener_stop(s);
	s->draining = true;
	cyph_workq_free(s->wq);	/* finishes running jobs first */
	cyph_workq_free(s->pwq);
	while (s->conns)
		as_conn_close(s->conns);
	as_gate_free(s->gate);
	cyph_conncap_free(s->cap);
	free(s);
}
