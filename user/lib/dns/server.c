// SPDX-License-Identifier: MIT
/*
 * The DNS server (server.h): UDP and TCP sockets on the event loop, the
 * per-source budget, counters, and the queries waiting for a miss to be
 * resolved. The order per message is always: budget, responder, send.
 */
#include "server.h"

#include "pending.h"
#include "ratelimit.h"
#include "runtime/evloop.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RL_SLOTS 1024
/* Messages handled per readiness callback, so one sender cannot starve others. */
#define BATCH 32
/* A TCP query longer than this is junk: the connection is closed. */
#define TCP_QUERY_MAX 4096
/* Output a TCP connection may have queued before it is closed. */
#define TCP_OUT_MAX (4 * (DNS_MSG_MAX + 2))

struct tcp_conn {
	struct dns_server *srv;
	int fd;				/* -1: free slot */
	uint64_t id;			/* never reused: pending queries name it */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct cyph_timer *idle;
	size_t inlen;
	uint8_t in[2 + TCP_QUERY_MAX];
	uint8_t *out;
	size_t outoff, outlen, outcap;
};

struct dns_server {
	struct cyph_loop *loop;
	struct dns_responder *r;
	struct dns_server_cfg cfg;
	int udp, tcp;
	uint16_t port;
	struct dns_ratelimit *rl;
	struct dns_pending *pending;
	struct cyph_timer *pending_timer;
	dns_miss_cb miss;
	void *miss_arg;
	struct dns_server_stats st;
	uint8_t *rbuf, *wbuf;		/* DNS_MSG_MAX each */
	struct tcp_conn *conns;		/* cfg.max_tcp slots */
	uint64_t next_conn_id;
};

static void conn_close(struct tcp_conn *c);
static void conn_process(struct tcp_conn *c);

/* ---- sending ---- */

static struct tcp_conn *conn_by_id(struct dns_server *s, uint64_t id)
{
	for (uint32_t i = 0; i < s->cfg.max_tcp; i++)
		if (s->conns[i].fd >= 0 && s->conns[i].id == id)
			return &s->conns[i];
	return NULL;
}

/* Writes what c has queued; false when the connection was closed. */
static bool conn_flush(struct tcp_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			cyph_loop_mod_fd(c->srv->loop, c->fd, EPOLLOUT);
			return true;
		}
		if (n <= 0) {
			if (errno != EINTR || n == 0) {
				conn_close(c);
				return false;
			}
			continue;
		}
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	return true;
}

/* Queues one length-prefixed message on c; false when c was closed. */
static bool conn_queue(struct tcp_conn *c, const uint8_t *msg, size_t len)
{
	size_t need;

	if (c->outoff) {
		memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
		c->outlen -= c->outoff;
		c->outoff = 0;
	}
	need = c->outlen + 2 + len;
	if (need > TCP_OUT_MAX) {	/* the peer does not read its answers */
		c->srv->st.dropped++;
		conn_close(c);
		return false;
	}
	if (need > c->outcap) {
		uint8_t *p = realloc(c->out, need);

		if (!p) {
			c->srv->st.dropped++;
			conn_close(c);
			return false;
		}
		c->out = p;
		c->outcap = need;
	}
	c->out[c->outlen] = (uint8_t)(len >> 8);
	c->out[c->outlen + 1] = (uint8_t)len;
	memcpy(c->out + c->outlen + 2, msg, len);
	c->outlen = need;
	return conn_flush(c);
}

/*
 * Sends the response in s->wbuf to a UDP source or a TCP connection
 * (conn NULL: gone, the answer is dropped) and counts it.
 */
static void send_reply(struct dns_server *s, const struct dns_result *res,
		       enum dns_transport tr, const struct sockaddr *src,
		       socklen_t srclen, struct tcp_conn *conn)
{
	if (tr == DNS_UDP) {
		if (sendto(s->udp, s->wbuf, res->len, MSG_DONTWAIT, src, srclen) < 0) {
			s->st.dropped++;
			return;
		}
	} else if (!conn || !conn_queue(conn, s->wbuf, res->len)) {
		if (!conn)
			s->st.dropped++;
		return;
	}
	s->st.answers[res->rcode < DNS_RCODE_COUNT ? res->rcode : 0]++;
	if (res->truncated)
		s->st.truncated++;
}

/* ---- queries waiting for a lookup ---- */

static void on_pending_timer(struct cyph_loop *loop, struct cyph_timer *t, void *arg);

static void arm_pending_timer(struct dns_server *s)
{
	uint64_t next, now;

	if (s->pending_timer || dns_pending_count(s->pending) == 0)
		return;
	next = dns_pending_next_deadline(s->pending);
	now = cyph_now_ms();
	s->pending_timer = cyph_loop_add_timer(s->loop, next > now ? next - now : 0, false,
					       on_pending_timer, s);
}

struct replay {
	struct dns_server *s;
	unsigned flags;
};

/* Answers one waiting query now (pending.h callback). */
static void answer_pending(void *arg, const struct dns_pending_query *q)
{
	struct replay *rp = arg;
	struct dns_server *s = rp->s;
	struct tcp_conn *conn = NULL;
	struct dns_result res;

	if (q->transport == DNS_TCP && !(conn = conn_by_id(s, q->conn_id)))
		return;
	if (dns_respond(s->r, q->msg, q->len, q->transport, rp->flags, s->wbuf, &res) != DNS_REPLY) {
		s->st.dropped++;
		return;
	}
	send_reply(s, &res, q->transport, (const struct sockaddr *)&q->src, q->srclen, conn);
}

static void on_pending_timer(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct dns_server *s = arg;
	struct replay rp = { s, DNS_RESPOND_SERVFAIL };

	(void)loop; (void)t;
	s->pending_timer = NULL;	/* one-shot: freed after we return */
	s->st.pending_timeouts += dns_pending_expire(s->pending, cyph_now_ms(), answer_pending, &rp);
	arm_pending_timer(s);
}

void dns_server_resolved(struct dns_server *s, const char *name)
{
	struct replay rp = { s, 0 };

	dns_pending_take(s->pending, name, answer_pending, &rp);
}

void dns_server_lookup_failed(struct dns_server *s, const char *name)
{
	struct replay rp = { s, DNS_RESPOND_SERVFAIL };

	dns_pending_take(s->pending, name, answer_pending, &rp);
}

/* The responder said DNS_MISS: wait for the lookup, or SERVFAIL now. */
static void wait_for_lookup(struct dns_server *s, const struct dns_result *res,
			    const uint8_t *msg, size_t len, enum dns_transport tr,
			    const struct sockaddr *src, socklen_t srclen,
			    struct tcp_conn *conn)
{
	struct dns_pending_query q;
	struct dns_result fail;
	int rc = -1;

	if (len <= DNS_PENDING_QUERY_MAX) {
		memset(&q, 0, sizeof(q));
		memcpy(q.name, res->miss_name, sizeof(q.name));
		q.deadline_ms = cyph_now_ms() + s->cfg.pending_timeout_ms;
		q.transport = tr;
		if (src && srclen <= sizeof(q.src)) {
			memcpy(&q.src, src, srclen);
			q.srclen = srclen;
		}
		q.conn_id = conn ? conn->id : 0;
		q.len = (uint16_t)len;
		memcpy(q.msg, msg, len);
		rc = dns_pending_add(s->pending, &q);
	}
	if (rc < 0) {
		s->st.pending_full++;
		if (dns_respond(s->r, msg, len, tr, DNS_RESPOND_SERVFAIL, s->wbuf, &fail) == DNS_REPLY)
			send_reply(s, &fail, tr, src, srclen, conn);
		return;
	}
	arm_pending_timer(s);
	if (rc == 1) {
		s->st.misses++;
		s->miss(s->miss_arg, q.name);
	}
}

/* ---- one message, either transport ---- */

static void handle_query(struct dns_server *s, const uint8_t *msg, size_t len,
			 enum dns_transport tr, const struct sockaddr *src,
			 socklen_t srclen, struct tcp_conn *conn)
{
	struct dns_result res;

	s->st.queries++;
	if (!dns_ratelimit_allow(s->rl, src, cyph_now_ms())) {
		s->st.ratelimited++;
		return;
	}
	switch (dns_respond(s->r, msg, len, tr, s->miss ? DNS_RESPOND_MAY_MISS : 0,
			    s->wbuf, &res)) {
	case DNS_DROP:
		if (res.malformed)
			s->st.malformed++;
		else
			s->st.dropped++;
		break;
	case DNS_REPLY:
		if (res.malformed)
			s->st.malformed++;
		send_reply(s, &res, tr, src, srclen, conn);
		break;
	case DNS_MISS:
		wait_for_lookup(s, &res, msg, len, tr, src, srclen, conn);
		break;
	}
}

/* ---- UDP ---- */

static void on_udp(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	struct dns_server *s = arg;

	(void)loop; (void)events;
	for (int i = 0; i < BATCH; i++) {
		struct sockaddr_storage src;
		socklen_t srclen = sizeof(src);
		ssize_t n = recvfrom(fd, s->rbuf, DNS_MSG_MAX, MSG_DONTWAIT,
				     (struct sockaddr *)&src, &srclen);

		if (n < 0)
			return;		/* EAGAIN, or an ICMP error: nothing to do */
		handle_query(s, s->rbuf, (size_t)n, DNS_UDP, (struct sockaddr *)&src, srclen, NULL);
	}
}

/* ---- TCP ---- */

static void conn_close(struct tcp_conn *c)
{
	struct dns_server *s = c->srv;

	if (c->fd < 0)
		return;
	cyph_loop_del_fd(s->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	if (c->idle)
		cyph_loop_del_timer(s->loop, c->idle);
	c->idle = NULL;
	dns_pending_drop_conn(s->pending, c->id);
	free(c->out);
	c->out = NULL;
	c->outoff = c->outlen = c->outcap = c->inlen = 0;
}

static void on_conn_idle(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct tcp_conn *c = arg;

	(void)loop; (void)t;
	c->idle = NULL;		/* one-shot: freed after we return */
	c->srv->st.tcp_closed_idle++;
	conn_close(c);
}

/*
 * Handles the complete messages in c->in (a few hundred at most: the
 * buffer is small), but not while answers wait to be written: a peer
 * that does not read its answers stops being read.
 */
static void conn_process(struct tcp_conn *c)
{
	struct dns_server *s = c->srv;

	while (c->fd >= 0 && c->outlen == 0 && c->inlen >= 2) {
		size_t mlen = (size_t)c->in[0] << 8 | c->in[1];
		uint64_t id = c->id;

		if (mlen == 0 || mlen > TCP_QUERY_MAX) {
			s->st.queries++;
			s->st.malformed++;
			conn_close(c);
			return;
		}
		if (c->inlen < 2 + mlen)
			return;
		handle_query(s, c->in + 2, mlen, DNS_TCP, (struct sockaddr *)&c->peer,
			     c->peerlen, c);
		if (c->fd < 0 || c->id != id)
			return;
		c->inlen -= 2 + mlen;
		memmove(c->in, c->in + 2 + mlen, c->inlen);
	}
}

static void on_conn(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	struct tcp_conn *c = arg;
	ssize_t n;

	(void)fd;
	if (events & EPOLLERR) {
		conn_close(c);
		return;
	}
	if (events & EPOLLOUT) {
		if (conn_flush(c) && c->outlen == 0) {
			cyph_loop_mod_fd(loop, c->fd, EPOLLIN);
			conn_process(c);
		}
		return;
	}
	if (c->outlen) {	/* waiting for EPOLLOUT; a hang-up ends it */
		if (events & EPOLLHUP)
			conn_close(c);
		return;
	}
	/* EPOLLIN, or EPOLLHUP: recv then says 0 */
	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (n > 0) {
		c->inlen += (size_t)n;
		cyph_loop_timer_rearm(loop, c->idle, c->srv->cfg.tcp_idle_ms);
		conn_process(c);
	}
}

static void on_accept(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	struct dns_server *s = arg;

	(void)events;
	for (int i = 0; i < BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof(peer);
		int cfd = accept4(fd, (struct sockaddr *)&peer, &peerlen,
				  SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct tcp_conn *c = NULL;

		if (cfd < 0)
			return;
		for (uint32_t j = 0; j < s->cfg.max_tcp && !c; j++)
			if (s->conns[j].fd < 0)
				c = &s->conns[j];
		if (!c) {
			s->st.tcp_refused++;
			close(cfd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->srv = s;
		c->fd = cfd;
		c->id = ++s->next_conn_id;
		memcpy(&c->peer, &peer, peerlen);
		c->peerlen = peerlen;
		c->idle = cyph_loop_add_timer(loop, s->cfg.tcp_idle_ms, false, on_conn_idle, c);
		if (!c->idle || cyph_loop_add_fd(loop, cfd, EPOLLIN, on_conn, c) < 0) {
			if (c->idle)
				cyph_loop_del_timer(loop, c->idle);
			close(cfd);
			c->fd = -1;
			s->st.tcp_refused++;
			continue;
		}
		s->st.tcp_accepted++;
	}
}

/* ---- set-up ---- */

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port :
		     ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int bind_socket(const struct sockaddr_storage *ss, socklen_t len, int type,
		       char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(ss->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (ss->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		int e = errno;	/* the caller tells EADDRINUSE apart */

		snprintf(err, errlen, "%s bind: %s", type == SOCK_STREAM ? "TCP" : "UDP",
			 strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * UDP first: with port 0 the kernel picks the port and TCP binds the same
 * number. Another program may hold that number for TCP already; then pick
 * again (a few times) rather than fail a server asked for any port.
 */
static int bind_pair(struct dns_server *s, const struct sockaddr_storage *want,
		     socklen_t wantlen, char *err, size_t errlen)
{
	const int tries = port_of(want) ? 1 : 8;
	struct sockaddr_storage ss;
	socklen_t len;

	for (int i = 0; i < tries; i++) {
		s->udp = bind_socket(want, wantlen, SOCK_DGRAM, err, errlen);
		if (s->udp < 0)
			return -1;
		len = sizeof(ss);
		if (getsockname(s->udp, (struct sockaddr *)&ss, &len) < 0) {
			snprintf(err, errlen, "getsockname: %s", strerror(errno));
			return -1;
		}
		s->port = port_of(&ss);
		s->tcp = bind_socket(&ss, len, SOCK_STREAM, err, errlen);
		if (s->tcp >= 0)
			return 0;
		if (errno != EADDRINUSE)
			return -1;
		close(s->udp);
		s->udp = -1;
	}
	return -1;
}

static void cfg_defaults(struct dns_server_cfg *c)
{
	if (!c->rate)
		c->rate = 200;
	if (!c->burst)
		c->burst = 2 * c->rate;
	if (!c->max_pending)
		c->max_pending = 256;
	if (!c->pending_timeout_ms)
		c->pending_timeout_ms = 3000;
	if (!c->max_tcp)
		c->max_tcp = 32;
	if (!c->tcp_idle_ms)
		c->tcp_idle_ms = 10000;
}

struct dns_server *dns_server_new(struct cyph_loop *loop,
				  const struct dns_server_cfg *cfg,
				  struct dns_responder *r, char *err, size_t errlen)
{
	struct dns_server *s;
	struct sockaddr_storage ss;

	if (!is_loopback(&cfg->addr) || cfg->addrlen > sizeof(ss)) {
		snprintf(err, errlen, "the DNS server binds only to a loopback address");
		return NULL;
	}
	if (cfg->max_tcp > 1024 || cfg->max_pending > 65536) {
		snprintf(err, errlen, "max_tcp above 1024 or max_pending above 65536");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = loop;
	s->r = r;
	s->cfg = *cfg;
	cfg_defaults(&s->cfg);
	s->udp = s->tcp = -1;
	s->rl = dns_ratelimit_new(RL_SLOTS, s->cfg.rate, s->cfg.burst);
	s->pending = dns_pending_new(s->cfg.max_pending);
	s->rbuf = malloc(DNS_MSG_MAX);
	s->wbuf = malloc(DNS_MSG_MAX);
	s->conns = calloc(s->cfg.max_tcp, sizeof(*s->conns));
	for (uint32_t i = 0; s->conns && i < s->cfg.max_tcp; i++)
		s->conns[i].fd = -1;
	if (!s->rl || !s->pending || !s->rbuf || !s->wbuf || !s->conns) {
		snprintf(err, errlen, "out of memory (or a limit out of range)");
		goto fail;
	}
	if (bind_pair(s, &cfg->addr, cfg->addrlen, err, errlen) < 0)
		goto fail;
	if (cyph_loop_add_fd(loop, s->udp, EPOLLIN, on_udp, s) < 0 ||
	    cyph_loop_add_fd(loop, s->tcp, EPOLLIN, on_accept, s) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		goto fail;
	}
	return s;
fail:
	dns_server_free(s);
	return NULL;
}

void dns_server_free(struct dns_server *s)
{
	if (!s)
		return;
	if (s->conns)
		for (uint32_t i = 0; i < s->cfg.max_tcp; i++)
			conn_close(&s->conns[i]);
	if (s->pending_timer)
		cyph_loop_del_timer(s->loop, s->pending_timer);
	if (s->udp >= 0) {
		cyph_loop_del_fd(s->loop, s->udp);
		close(s->udp);
	}
	if (s->tcp >= 0) {
		cyph_loop_del_fd(s->loop, s->tcp);
		close(s->tcp);
	}
	dns_ratelimit_free(s->rl);
	dns_pending_free(s->pending);
	free(s->conns);
	free(s->rbuf);
	free(s->wbuf);
	free(s);
}

void dns_server_on_miss(struct dns_server *s, dns_miss_cb cb, void *arg)
{
	s->miss = cb;
	s->miss_arg = arg;
}

const struct dns_server_stats *dns_server_stats(const struct dns_server *s)
{
	return &s->st;
}

uint16_t dns_server_port(const struct dns_server *s)
{
	return s->port;
}

size_t dns_server_pending(const struct dns_server *s)
{
	return dns_pending_count(s->pending);
}
