// SPDX-License-Identifier: MIT
/*
 * TRS forwarding threads: the hot path. Each thread owns one IPv4 and one
 * IPv6 socket bound to the shared port with SO_REUSEPORT (the kernel
 * spreads flows over the threads), receives up to BATCH datagrams with one
 * recvmmsg, and sends every forward of the batch with one sendmmsg per
 * family. Buffers are allocated once per thread; a forwarded packet is
 * sent straight from its receive buffer (the relay header is skipped by
 * the iovec), so nothing is allocated or copied per packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <linux/cyphonic.h>
#include "wire/proto_udp.h"
#include "wire/udp_claim.h"
#include "trsd.h"

#define BATCH 64
#define PKT_MAX 2048

struct txq {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage to[BATCH];
	uint8_t ctrl[BATCH][PROTO_RC_LEN];	/* control replies */
	unsigned int n;
};

struct bufs {
	struct mmsghdr rx[BATCH];
	struct iovec rx_iov[BATCH];
	struct sockaddr_storage from[BATCH];
	uint8_t data[BATCH][PKT_MAX];
	struct txq tx[2];			/* [0] IPv4, [1] IPv6 */
	double err_tokens;
	int64_t err_ms;
};

/*
 * Binds one thread's socket. The first thread's (port 0 here) also makes
 * sure no other process has the port and claims it, unless share_port:
 * the threads' SO_REUSEPORT would otherwise let a second TRS in.
 */
static int bind_one(const struct cyph_cfg_addr *a, uint16_t port, bool exclusive,
		    int *claim, char *err, size_t errlen)
{
	struct sockaddr_storage ss = a->ss;
	int fd;

	if (port)	/* every thread binds the port the first one got */
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	if (exclusive && proto_udp_port_free((struct sockaddr *)&ss, a->len, err, errlen))
		return -1;
	fd = proto_udp_bind((struct sockaddr *)&ss, a->len, true, err, errlen);
	if (fd >= 0 && exclusive) {
		*claim = proto_udp_claim("trs", fd, err, errlen);
		if (*claim < 0) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

int trsd_workers_open(struct trsd_worker *w, size_t n,
		      const struct trsd_config *c, char *err, size_t errlen)
{
	uint16_t p4 = 0, p6 = 0;
	size_t i;

	for (i = 0; i < n; i++)
		w[i].fd4 = w[i].fd6 = w[i].claim[0] = w[i].claim[1] = w[i].ep = -1;
	for (i = 0; i < n; i++) {
		bool first = !i && !c->share_port;

		if (c->listen4.len) {
			w[i].fd4 = bind_one(&c->listen4, p4, first, &w[0].claim[0], err, errlen);
			if (w[i].fd4 < 0)
				return -1;
			p4 = proto_udp_port(w[i].fd4);
		}
		if (c->listen6.len) {
			/* Same port on both families when listen6 says 0. */
			uint16_t want = p6 ? p6 :
				(!ntohs(((struct sockaddr_in6 *)&c->listen6.ss)->sin6_port) ? p4 : 0);

			w[i].fd6 = bind_one(&c->listen6, want, first, &w[0].claim[1], err, errlen);
			if (w[i].fd6 < 0)
				return -1;
			p6 = proto_udp_port(w[i].fd6);
		}
		w[i].ep = epoll_create1(EPOLL_CLOEXEC);
		if (w[i].ep < 0) {
			snprintf(err, errlen, "epoll: %s", strerror(errno));
			return -1;
		}
		for (int f = 0; f < 2; f++) {
			int fd = f ? w[i].fd6 : w[i].fd4;
			struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

			if (fd >= 0 && epoll_ctl(w[i].ep, EPOLL_CTL_ADD, fd, &ev)) {
				snprintf(err, errlen, "epoll: %s", strerror(errno));
				return -1;
			}
		}
	}
	return 0;
}

static bool error_budget(struct trsd_worker *w, struct bufs *b, int64_t now)
{
	if (now > b->err_ms) {
		b->err_tokens += (double)(now - b->err_ms) * w->error_rate / 1000.0;
		if (b->err_tokens > w->error_rate)
			b->err_tokens = w->error_rate;
		b->err_ms = now;
	}
	if (b->err_tokens < 1)
		return false;
	b->err_tokens -= 1;
	return true;
}

static struct mmsghdr *tx_slot(struct bufs *b, const struct proto_ep *to)
{
	struct txq *q = &b->tx[to->family == 6];
	struct mmsghdr *m = &q->msg[q->n];

	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = &q->to[q->n];
	m->msg_hdr.msg_namelen = proto_ep_to_sa(to, &q->to[q->n]);
	m->msg_hdr.msg_iov = &q->iov[q->n];
	m->msg_hdr.msg_iovlen = 1;
	q->n++;
	return m;
}

static void handle(struct trsd_worker *w, struct bufs *b, int i, int64_t now)
{
	const uint8_t *p = b->data[i], *inner;
	size_t len = b->rx[i].msg_len, inner_len, rl;
	struct proto_ep from, to;
	struct mmsghdr *m;
	bool unauth;
	int rc;

	if (!len || proto_ep_from_sa(&from, (struct sockaddr *)&b->from[i]))
		return;
	if (b->rx[i].msg_hdr.msg_flags & MSG_TRUNC) {	/* larger than PKT_MAX */
		atomic_fetch_add_explicit(&w->stats.drops[TRS_DROP_MALFORMED], 1,
					  memory_order_relaxed);
		return;
	}
	if (p[0] == CYPHONIC_MSG_RELAY) {
		rc = trs_forward(w->trs, p, len, &from, now, &to, &inner, &inner_len);
		if (rc >= 0) {
			atomic_fetch_add_explicit(&w->stats.drops[rc], 1, memory_order_relaxed);
			return;
		}
		if ((to.family == 6 ? w->fd6 : w->fd4) < 0) {
			atomic_fetch_add_explicit(&w->stats.drops[TRS_DROP_FAMILY], 1,
						  memory_order_relaxed);
			return;
		}
		m = tx_slot(b, &to);
		m->msg_hdr.msg_iov->iov_base = (void *)inner;
		m->msg_hdr.msg_iov->iov_len = inner_len;
		atomic_fetch_add_explicit(&w->stats.fwd_pkts, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&w->stats.fwd_bytes, inner_len, memory_order_relaxed);
		return;
	}
	if (p[0] != CYPHONIC_MSG_RELAY_CTRL) {
		atomic_fetch_add_explicit(&w->stats.drops[TRS_DROP_MALFORMED], 1,
					  memory_order_relaxed);
		return;
	}
	uint64_t t0 = cyph_metrics_now_ns();
	struct txq *q = &b->tx[from.family == 6];

	rc = trs_ctrl(w->trs, p, len, &from, now, q->ctrl[q->n], &rl, &unauth);
	if (rc >= 0 && rc < PROTO_E_COUNT && len == PROTO_RC_LEN &&
	    (p[2] == PROTO_RC_BIND || p[2] == PROTO_RC_CLOSE))
		atomic_fetch_add_explicit(&w->stats.ctrl[p[2]][rc], 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&w->stats.ctrl_malformed, 1, memory_order_relaxed);
	if (rl && (!unauth || error_budget(w, b, now))) {
		m = tx_slot(b, &from);
		m->msg_hdr.msg_iov->iov_base = q->ctrl[q->n - 1];
		m->msg_hdr.msg_iov->iov_len = rl;
	}
	trsd_metrics_ctrl_latency(t0);
}

static void flush(struct trsd_worker *w, struct bufs *b)
{
	for (int f = 0; f < 2; f++) {
		struct txq *q = &b->tx[f];
		unsigned int lost = q->n ? proto_udp_send_batch(f ? w->fd6 : w->fd4,
								q->msg, q->n) : 0;

		if (lost)
			atomic_fetch_add_explicit(&w->stats.drops[TRS_DROP_SEND], lost,
						  memory_order_relaxed);
		q->n = 0;
	}
}

static void drain_socket(struct trsd_worker *w, struct bufs *b, int fd)
{
	int i, n, rounds = 0;

	do {
		for (i = 0; i < BATCH; i++) {
			b->rx_iov[i].iov_base = b->data[i];
			b->rx_iov[i].iov_len = PKT_MAX;
			b->rx[i].msg_hdr.msg_name = &b->from[i];
			b->rx[i].msg_hdr.msg_namelen = sizeof(b->from[i]);
			b->rx[i].msg_hdr.msg_iov = &b->rx_iov[i];
			b->rx[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, b->rx, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		int64_t now = proto_now_ms();

		for (i = 0; i < n; i++)
			handle(w, b, i, now);
		flush(w, b);	/* before the buffers are reused */
	} while (n == BATCH && ++rounds < 64);
}

static void *worker(void *arg)
{
	struct trsd_worker *w = arg;
	struct bufs *b = calloc(1, sizeof(*b));
	struct epoll_event ev[2];

	if (!b) {
		log_err("worker: out of memory");
		return NULL;
	}
	b->err_tokens = w->error_rate;
	while (!atomic_load(w->stop)) {
		/* The timeout bounds how late a thread notices stop. */
		int n = epoll_wait(w->ep, ev, 2, 100);

		for (int i = 0; i < n; i++)
			drain_socket(w, b, ev[i].data.fd);
	}
	free(b);
	return NULL;
}

int trsd_workers_start(struct trsd_worker *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pthread_create(&w[i].thread, NULL, worker, &w[i]))
			return -1;
	return 0;
}

void trsd_workers_join(struct trsd_worker *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].fd4 >= 0)
			close(w[i].fd4);
		if (w[i].fd6 >= 0)
			close(w[i].fd6);
		for (int f = 0; f < 2; f++)
			if (w[i].claim[f] >= 0)
				close(w[i].claim[f]);
		close(w[i].ep);
	}
}
