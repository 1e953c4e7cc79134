// SPDX-License-Identifier: MIT
/*
 * The AS listener: accepts connections, refuses those over
 * max_connections or over max_connections_per_address (closed at once,
 * so a client can try another replica), and backs off instead of
 * spinning: after refusing because the server is full, or when accept
 * itself fails for lack of descriptors or memory, the listener is left
 * alone for a while (doubling, 10 ms .. 1 s) and new connections wait in
 * the kernel's backlog.
 */
#include "server_int.h"
#include "runtime/evloop.h"
#include "runtime/listen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 1000
#define REFUSE_BURST 64		/* per-address refusals per wake-up */

static void on_listen(struct cyph_loop *loop, int lfd, uint32_t ev, void *arg);

static void resume(struct as_server *s)
{
	if (!s->accept_paused || s->lfd < 0)
		return;
	s->accept_paused = false;
	cyph_loop_mod_fd(s->loop, s->lfd, EPOLLIN);
}

static void on_backoff(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct as_server *s = arg;

	(void)loop; (void)t;
	s->accept_timer = NULL;	/* one-shot: freed after we return */
	resume(s);
}

static void pause_accept(struct as_server *s)
{
	if (s->accept_paused)
		return;
	s->accept_backoff_ms = s->accept_backoff_ms ? s->accept_backoff_ms * 2 : BACKOFF_MIN_MS;
	if (s->accept_backoff_ms > BACKOFF_MAX_MS)
		s->accept_backoff_ms = BACKOFF_MAX_MS;
	s->accept_timer = cyph_loop_add_timer(s->loop, s->accept_backoff_ms, false, on_backoff, s);
	if (!s->accept_timer)
		return;	/* no timer: keep accepting rather than stall */
	s->accept_paused = true;
	cyph_loop_mod_fd(s->loop, s->lfd, 0);
}

/* Closes with a reset: a refused peer leaves no TIME_WAIT behind. */
static void refuse(int fd)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static void on_listen(struct cyph_loop *loop, int lfd, uint32_t ev, void *arg)
{
	struct as_server *s = arg;
	unsigned int refused = 0;

	(void)loop; (void)ev;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char peer[ADDR_ENDPOINT_STRLEN];
		struct cyph_srckey k;
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				log_warn("accept: %s: backing off", strerror(errno));
				pause_accept(s);
			}
			return;
		}
		if (s->nconns >= (size_t)s->st->cfg.max_connections) {
			cyph_counter_inc(as_m.rejected);
			refuse(fd);
			pause_accept(s);	/* the rest wait in the backlog */
			return;
		}
		cyph_srckey_from((struct sockaddr *)&ss, sl, &k);
		if (addr_format_endpoint((struct sockaddr *)&ss, sl, peer, sizeof(peer)))
			snprintf(peer, sizeof(peer), "(non-IP peer)");
		if (!cyph_conncap_add(s->cap, &k, (unsigned int)s->st->cfg.max_per_address)) {
			cyph_counter_inc(as_m.rejected_per_address);
			log_debug("%s: over max_connections_per_address (%lld): refused", peer,
				  s->st->cfg.max_per_address);
			refuse(fd);
			if (++refused >= REFUSE_BURST)
				return;	/* let other work run; epoll calls again */
			continue;
		}
		if (!as_conn_new(s, fd, &k, peer)) {
			log_err("out of memory accepting a connection");
			cyph_conncap_del(s->cap, &k);
			close(fd);
			continue;
		}
		s->accept_backoff_ms = 0;
		cyph_counter_inc(as_m.accepted);
	}
}

int as_listener_start(struct as_server *s, char *err, size_t errlen)
{
	s->lfd = cyph_listen_tcp(&s->st->cfg.listen, 512, err, errlen);
	if (s->lfd < 0)
		return -1;
	if (cyph_loop_add_fd(s->loop, s->lfd, EPOLLIN, on_listen, s)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		close(s->lfd);
		s->lfd = -1;
		return -1;
	}
	return 0;
}

void as_listener_stop(struct as_server *s)
{
	if (s->accept_timer) {
		cyph_loop_del_timer(s->loop, s->accept_timer);
		s->accept_timer = NULL;
	}
	s->accept_paused = false;
	if (s->lfd < 0)
		return;
	cyph_loop_del_fd(s->loop, s->lfd);
	close(s->lfd);	/* new connections are now refused by the kernel */
	s->lfd = -1;
}

void as_listener_slot_freed(struct as_server *s)
{
	/* a full server waits for its backoff; a free slot ends it early */
	if (s->accept_paused && s->nconns < (size_t)s->st->cfg.max_connections) {
		if (s->accept_timer)
			cyph_loop_del_timer(s->loop, s->accept_timer);
		s->accept_timer = NULL;
		resume(s);
	}
}
