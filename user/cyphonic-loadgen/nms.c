// SPDX-License-Identifier: MIT
/*
 * NMS and TRS load: simulated nodes with certificates issued from the CA,
 * sharing a few UDP sockets (as nodes behind one NAT, or an adapter's
 * general nodes, would). Requests are paced at `rate` per second (0: as
 * fast as the window allows) with at most `window` outstanding; every
 * answer is authenticated by the real node client before it counts.
 *
 * Phases: full registrations (certificate + Ed25519 + X25519 on both
 * sides), refresh registrations (MAC), route directions; then, for the
 * TRS, relay sessions are set up through the NMS and packets are pumped
 * through them.
 *
 * With --retry, an unanswered request (or one refused with an error a
 * retry may cure) is sent again as a new request, with the shared client
 * backoff (client/retry.h); it fails only when the budget is spent. Its
 * latency counts from the first try; retries are held to a fifth of the
 * first tries (the retry budget), so an overloaded NMS is not buried
 * under them. --socks sets how many UDP flows the
 * nodes share (behind ECMP, each flow is hashed to a replica).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <unistd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/cyphonic.h>
#include "runtime/addr.h"
#include "pki/ca.h"
#include "lg.h"
#include "client/nmsclient.h"
#include "wire/proto_udp.h"
#include "client/trsclient.h"
#include "client/retry.h"

#define MAX_SOCKS 1024
#define ID_BASE 100000
#define BATCH 64

struct lnode {
	struct nmsc c;
	EVP_PKEY *key;
	uint8_t *cert;
	size_t cert_len;
	char fqdn[64];
	int sock;
	uint64_t pending, sent_ns;	/* sent_ns: the first try's */
	uint64_t deadline_ns;		/* next try (or failure) when unanswered */
	struct cyph_retry rt;
	int target;			/* route requests: the target's index */
	uint8_t seq_step;		/* seq mode: 0 register, 1 route */
	struct trsc relay;
	bool has_relay, bound;
};

static struct lnode *nodes;
static int n_nodes;
static uint64_t id_base = ID_BASE;	/* + --first-id: generators side by side */
static int nsock = 16;
static int socks[MAX_SOCKS];
static struct sockaddr_storage nms_sa;
static socklen_t nms_len;
static uint64_t outstanding;
static struct lg_stats st, tick;
static bool retry_on;
static const struct cyph_retry_policy retry_policy = CYPH_RETRY_DEFAULT;
static struct cyph_retry_budget budget = CYPH_RETRY_BUDGET_DEFAULT;
static uint64_t held;		/* retries the budget did not allow */
static int64_t no_retry_ms = 1000;	/* --timeout */

enum phase { PH_FULL, PH_REFRESH, PH_ROUTE, PH_RELAY_SETUP, PH_BIND, PH_SEQ };

/* ---- setup ----------------------------------------------------------------- */

/*
 * A UDP socket on the address the route to the NMS leaves from (loopback
 * for a local NMS, the client host's own address behind an edge router),
 * so the location a node reports is its real one.
 */
static int open_flow(char *err, size_t errlen)
{
	static char local[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ip[INET6_ADDRSTRLEN];
	int fd;

	if (!local[0]) {	/* once: ask the routing table with a connect */
		fd = socket(nms_sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&nms_sa, nms_len) ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
			snprintf(err, errlen, "no route to the NMS: %s", strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		if (ss.ss_family == AF_INET6)
			snprintf(local, sizeof(local), "[%s]:0", inet_ntop(AF_INET6,
				 &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof(ip)));
		else
			snprintf(local, sizeof(local), "%s:0", inet_ntop(AF_INET,
				 &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof(ip)));
	}
	return proto_udp_bind_str(local, false, err, errlen);
}

static int setup(const struct lg_opts *o, int n)
{
	struct cyph_ca_signer *s;
	uint8_t nms_pub[32];
	uint8_t *nms_der;
	size_t nms_len_der;
	struct cyph_node_id nid;
	char err[512];
	int i;

	s = cyph_ca_signer_load(o->ca_cert, o->ca_key, err, sizeof(err));
	if (!s || cyph_cert_load(o->nms_cert, &nms_der, &nms_len_der, err, sizeof(err)) ||
	    cyph_cred_parse(nms_der, nms_len_der, &nid, err, sizeof(err)) ||
	    addr_parse_endpoint(o->nms, &nms_sa, &nms_len)) {
		fprintf(stderr, "loadgen setup: %s\n", s ? err : "CA signer");
		return -1;
	}
	memcpy(nms_pub, nid.pubkey, 32);
	free(nms_der);
	nsock = o->socks < 1 ? 16 : o->socks > MAX_SOCKS ? MAX_SOCKS : o->socks;
	for (i = 0; i < nsock; i++) {
		socks[i] = open_flow(err, sizeof(err));
		if (socks[i] < 0) {
			fprintf(stderr, "socket: %s\n", err);
			return -1;
		}
	}
	nodes = calloc((size_t)n, sizeof(*nodes));
	n_nodes = n;
	id_base = ID_BASE + (uint64_t)o->first_id;
	if (o->timeout_ms > 0)
		no_retry_ms = o->timeout_ms;
	for (i = 0; i < n; i++) {
		struct lnode *l = &nodes[i];
		struct cyph_node_id id = { .id = id_base + (uint64_t)i, .role = CYPH_ROLE_NODE,
					   .has_vip4 = true };
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct proto_ep self;

		snprintf(l->fqdn, sizeof(l->fqdn), "lg%d.bench.test", o->first_id + i);
		snprintf(id.fqdn, sizeof(id.fqdn), "%s", l->fqdn);
		id.vip4.s_addr = htonl(0x0a500000u + (uint32_t)(o->first_id + i));
		l->key = cyph_key_generate();
		if (!l->key || cyph_key_public(l->key, id.pubkey) ||
		    cyph_ca_issue(s, &id, proto_now_ms() / 1000, 3600, &l->cert, &l->cert_len,
				  err, sizeof(err))) {
			fprintf(stderr, "issue: %s\n", err);
			return -1;
		}
		l->sock = socks[i % nsock];
		nmsc_init(&l->c, id.id, l->key, l->cert, l->cert_len, proto_now_ms());
		nmsc_trust_key(&l->c, nms_pub);
		getsockname(l->sock, (struct sockaddr *)&ss, &sl);
		proto_ep_from_sa(&self, (struct sockaddr *)&ss);
		nmsc_set_location(&l->c, &self, 1, PROTO_NAT_NONE);
	}
	cyph_ca_signer_free(s);
	return 0;
}

/* ---- I/O ------------------------------------------------------------------- */

static uint64_t tick_sent, tick_recv;	/* datagrams this tick (the tick line) */

static void send_to(int sock, const struct sockaddr *sa, socklen_t len,
		    const uint8_t *p, size_t n)
{
	if (n && sendto(sock, p, n, 0, sa, len) < 0 && errno != EAGAIN)
		perror("sendto");
	else if (n)
		tick_sent++;
}

static void send_ep(int sock, const struct proto_ep *ep, const uint8_t *p, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = proto_ep_to_sa(ep, &ss);

	send_to(sock, (struct sockaddr *)&ss, len, p, n);
}

static struct lnode *node_of(const uint8_t *pkt, size_t len, size_t off)
{
	uint64_t id;

	if (len < off + 8)
		return NULL;
	id = proto_get_u64(pkt + off);
	if (id < id_base || id >= id_base + (uint64_t)n_nodes)
		return NULL;
	return &nodes[id - id_base];
}

static enum phase cur_ph;		/* the phase running (retries, sequences) */
static bool cur_force_relay;
static uint64_t seq_ok, seq_fail;	/* seq phase: whole sequences */

static bool send_req(struct lnode *l, enum phase ph);

/* The request a node has in flight belongs to this phase. */
static enum phase req_phase(const struct lnode *l)
{
	if (cur_ph != PH_SEQ)
		return cur_ph;
	return l->seq_step ? PH_ROUTE : PH_FULL;
}

static void finish(struct lnode *l)
{
	l->pending = 0;
	if (outstanding)
		outstanding--;
}

static void failed(struct lnode *l, bool timeout)
{
	if (timeout) {
		st.timeout++;
		tick.timeout++;
	} else {
		st.fail++;
		tick.fail++;
	}
	if (cur_ph == PH_SEQ)
		seq_fail++;
	finish(l);
}

/* A new request's first try was just sent: when to try again or give up. */
static void arm(struct lnode *l)
{
	uint64_t now = lg_now_ns();
	int64_t w = no_retry_ms;	/* without --retry: failed after --timeout */

	l->sent_ns = now;
	if (retry_on) {
		cyph_retry_budget_deposit(&budget);
		cyph_retry_begin(&l->rt, &retry_policy, (int64_t)(now / 1000000),
				 l->c.node_id * 0x9e3779b97f4a7c15ull ^ now);
		w = cyph_retry_next(&l->rt, (int64_t)(now / 1000000));
	}
	l->deadline_ns = now + (uint64_t)w * 1000000;
}

/* Unanswered until its deadline: a new try after the backoff, or failed. */
static void expire(struct lnode *l, uint64_t now)
{
	int64_t w = retry_on ? cyph_retry_next(&l->rt, (int64_t)(now / 1000000)) : -1;

	if (w >= 0 && !cyph_retry_budget_take(&budget, (int64_t)(now / 1000000))) {
		held++;		/* no retry now: the first try's answer may still come */
		l->deadline_ns = now + (uint64_t)w * 1000000;
		return;
	}
	if (w < 0 || !send_req(l, req_phase(l))) {
		failed(l, true);
		return;
	}
	st.retries++;
	tick.retries++;
	l->deadline_ns = now + (uint64_t)w * 1000000;
}

/* A registered node other than l, for route requests (NOT_FOUND is not load). */
static int pick_target(const struct lnode *l)
{
	int t = rand() % n_nodes, tries = 0;

	while ((&nodes[t] == l || !nodes[t].c.registered) && tries++ < 64)
		t = (t + 1) % n_nodes;
	return t;
}

static void answered(struct lnode *l)
{
	uint64_t ns = lg_now_ns() - l->sent_ns;

	lg_stats_add(&st, ns);
	lg_stats_add(&tick, ns);
	if (cur_ph == PH_SEQ && !l->seq_step) {
		/* registered: the sequence goes on with a route direction */
		l->seq_step = 1;
		l->target = pick_target(l);
		if (send_req(l, PH_ROUTE)) {
			arm(l);
			return;
		}
		failed(l, false);
		return;
	}
	if (cur_ph == PH_SEQ)
		seq_ok++;
	finish(l);
}

static void on_error(struct lnode *l, uint16_t code)
{
	if (retry_on && cur_ph == PH_SEQ && l->seq_step &&
	    (code == PROTO_E_NOT_REGISTERED || code == PROTO_E_BAD_SIGNATURE)) {
		/* the registration is gone (or has other keys): register again */
		l->seq_step = 0;
		if (send_req(l, PH_FULL)) {
			st.retries++;
			tick.retries++;
			return;		/* within the same budget */
		}
	}
	/* a retry may cure it: the deadline sends one, after the backoff */
	if (retry_on && cyph_nms_retryable(code))
		return;
	failed(l, false);
}

static void on_signal(struct lnode *l, const uint8_t *pkt, size_t len)
{
	struct nmsc_event ev;
	uint8_t buf[512];

	if (nmsc_input(&l->c, pkt, len, proto_now_ms(), 30000, &ev))
		return;
	if (ev.type == NMSC_EV_NOTIFY) {
		send_to(l->sock, (struct sockaddr *)&nms_sa, nms_len, buf,
			nmsc_notify_ack(&l->c, buf, sizeof(buf), proto_now_ms(),
					ev.msg.notify_id));
		if (ev.msg.mode == PROTO_MODE_RELAY && !l->has_relay)
			l->has_relay = !trsc_init(&l->relay, l->c.node_id, &ev.msg,
						  proto_now_ms());
		return;
	}
	if (!l->pending || ev.echo_seq != l->pending)
		return;
	if (ev.type == NMSC_EV_COOKIE) {	/* NMS under load: again, timed from the first */
		uint8_t reg[4096];

		send_to(l->sock, (struct sockaddr *)&nms_sa, nms_len, reg,
			nmsc_register(&l->c, reg, sizeof(reg), proto_now_ms(), &l->pending));
		return;
	}
	if (ev.type == NMSC_EV_ERROR) {
		on_error(l, ev.error);
		return;
	}
	if (ev.type == NMSC_EV_ROUTE && ev.msg.mode == PROTO_MODE_RELAY && !l->has_relay)
		l->has_relay = !trsc_init(&l->relay, l->c.node_id, &ev.msg, proto_now_ms());
	answered(l);
}

static void on_ctrl(const uint8_t *pkt, size_t len)
{
	struct lnode *l = node_of(pkt, len, 8);
	uint8_t bind[PROTO_RC_LEN];
	int rc = l && l->has_relay ? trsc_input(&l->relay, pkt, len) : -1;

	if (rc == TRSC_CHALLENGED) {	/* return routability: again, with the echo */
		send_ep(l->sock, &l->relay.relay, bind, trsc_bind(&l->relay, bind, proto_now_ms()));
		return;
	}
	if (rc == 0 && !l->bound) {
		l->bound = true;
		if (l->pending)
			answered(l);
	}
}

static uint64_t relayed_rx, relayed_bytes;

static void on_data(const uint8_t *pkt, size_t len)
{
	uint64_t t;

	if (len < 24)
		return;
	relayed_rx++;
	relayed_bytes += len;
	memcpy(&t, pkt + 16, 8);
	if ((relayed_rx & 15) == 0)	/* a latency sample per 16 packets */
		lg_stats_add(&st, lg_now_ns() - t);
	else
		st.ok++;
}

static void receive(int timeout_ms)
{
	static struct mmsghdr m[BATCH];
	static struct iovec iov[BATCH];
	static uint8_t buf[BATCH][2048];
	static struct pollfd p[MAX_SOCKS];
	int i, j, n;

	for (i = 0; i < nsock; i++)
		p[i] = (struct pollfd){ .fd = socks[i], .events = POLLIN };
	if (poll(p, (nfds_t)nsock, timeout_ms) <= 0)
		return;
	for (i = 0; i < nsock; i++) {
		if (!(p[i].revents & POLLIN))
			continue;
		for (j = 0; j < BATCH; j++) {
			iov[j] = (struct iovec){ buf[j], sizeof(buf[j]) };
			m[j].msg_hdr = (struct msghdr){ .msg_iov = &iov[j], .msg_iovlen = 1 };
		}
		n = recvmmsg(socks[i], m, BATCH, MSG_DONTWAIT, NULL);
		if (n > 0)
			tick_recv += (uint64_t)n;
		for (j = 0; j < n; j++) {
			const uint8_t *pkt = buf[j];
			size_t len = m[j].msg_len;
			struct lnode *l;

			if (!len)
				continue;
			if (pkt[0] == CYPHONIC_MSG_SIGNAL && (l = node_of(pkt, len, 8)))
				on_signal(l, pkt, len);
			else if (pkt[0] == CYPHONIC_MSG_RELAY_CTRL)
				on_ctrl(pkt, len);
			else if (pkt[0] == CYPHONIC_MSG_DATA)
				on_data(pkt, len);
		}
	}
}

/* ---- request phases ---------------------------------------------------------- */

/* Builds and sends one try of l's request in phase ph; false if none. */
static bool send_req(struct lnode *l, enum phase ph)
{
	uint8_t buf[4096];
	size_t n = 0;
	int64_t now = proto_now_ms();

	switch (ph) {
	case PH_FULL:
	case PH_SEQ:
		nmsc_reset(&l->c);	/* always a full registration */
		n = nmsc_register(&l->c, buf, sizeof(buf), now, &l->pending);
		break;
	case PH_REFRESH:
		if (!l->c.registered)
			return false;	/* a full one would be measured */
		n = nmsc_register(&l->c, buf, sizeof(buf), now, &l->pending);
		break;
	case PH_ROUTE:
		n = nmsc_route(&l->c, buf, sizeof(buf), now, nodes[l->target].fqdn, NULL, NULL,
			       cur_force_relay ? PROTO_RF_FORCE_RELAY : 0, &l->pending);
		break;
	case PH_RELAY_SETUP:	/* pairs (2k, 2k+1) */
		n = nmsc_route(&l->c, buf, sizeof(buf), now, l[1].fqdn, NULL, NULL,
			       PROTO_RF_FORCE_RELAY, &l->pending);
		break;
	case PH_BIND:
		if (!l->has_relay)
			return false;
		n = trsc_bind(&l->relay, buf, now);
		l->pending = 1;
		send_ep(l->sock, &l->relay.relay, buf, n);
		return true;
	}
	if (!n)
		return false;
	send_to(l->sock, (struct sockaddr *)&nms_sa, nms_len, buf, n);
	return true;
}

static bool start(struct lnode *l, enum phase ph)
{
	l->seq_step = 0;
	if (ph == PH_ROUTE)
		l->target = pick_target(l);
	if (!send_req(l, ph))
		return false;
	arm(l);
	outstanding++;
	return true;
}

/*
 * One "RESULT test=tick ..." line: the second just past. wall_ms (the
 * realtime clock at its end) lets a script cut the ticks of several
 * load generators into the windows it switched replicas at.
 */
static void report_tick(uint64_t t0, uint64_t now, uint64_t *last, double rate)
{
	struct timespec wall;
	char extra[224];

	clock_gettime(CLOCK_REALTIME, &wall);
	snprintf(extra, sizeof(extra),
		 "t=%.1f offered=%.0f retries=%llu wall_ms=%lld sent=%llu recv=%llu inflight=%llu",
		 (double)(now - t0) / 1e9, rate, (unsigned long long)tick.retries,
		 (long long)wall.tv_sec * 1000 + wall.tv_nsec / 1000000,
		 (unsigned long long)tick_sent, (unsigned long long)tick_recv,
		 (unsigned long long)outstanding);
	tick_sent = tick_recv = 0;
	lg_report("tick", &tick, (double)(now - *last) / 1e9, -1, extra);
	*last = now;
}

/*
 * Runs one phase for `secs` (or until every node did it once when once is
 * set) and prints its RESULT line (with --tick, a tick line a second).
 */
static void run_phase(const struct lg_opts *o, const char *name, enum phase ph,
		      double secs, bool once, int step, bool force_relay)
{
	uint64_t t0, end, next, now, last_scan, last_tick;
	double cpu0, self0;
	int cursor = 0, started = 0, total = (n_nodes + step - 1) / step;
	double gap = o->rate > 0 ? 1e9 / o->rate : 0;
	char extra[160];

	/* Answers to the previous phase still in flight do not count here. */
	for (int i = 0; i < 50 && outstanding; i++)
		receive(2);
	for (int i = 0; i < n_nodes; i++)
		nodes[i].pending = 0;
	lg_stats_reset(&st);	/* late answers of the previous phase added samples */
	lg_stats_reset(&tick);
	outstanding = 0;
	seq_ok = seq_fail = 0;
	cur_ph = ph;
	cur_force_relay = force_relay;
	t0 = next = last_scan = last_tick = lg_now_ns();
	end = t0 + (uint64_t)(secs * 1e9);
	cpu0 = lg_cpu_seconds(o->pid);
	self0 = lg_cpu_seconds(getpid());
	while ((now = lg_now_ns()) < end) {
		int tries = 0;

		while (outstanding < (uint64_t)o->window && now >= next &&
		       (!once || started < total) && tries++ < n_nodes) {
			struct lnode *l = &nodes[cursor];

			cursor = (cursor + step) % n_nodes;
			if (l->pending)
				continue;
			if (start(l, ph)) {
				started++;
				next = gap > 0 ? next + (uint64_t)gap : now;
			}
		}
		/* paced: an offered rate the window cannot keep is not made up later */
		if (gap > 0 && now > next + 1000000000ULL)
			next = now;
		if (once && started >= total && !outstanding)
			break;
		receive(1);
		/* Retries and failures of unanswered requests (every ~20 ms). */
		if (now - last_scan > 20000000ULL) {
			last_scan = now = lg_now_ns();
			for (int i = 0; i < n_nodes; i++)
				if (nodes[i].pending && now >= nodes[i].deadline_ns)
					expire(&nodes[i], now);
		}
		if (o->tick && now - last_tick >= 1000000000ULL)
			report_tick(t0, now, &last_tick, o->rate);
	}
	/* Sequences still in flight at the end get their answers or budget. */
	while (retry_on && outstanding && (now = lg_now_ns()) < end + 15000000000ULL) {
		receive(5);
		for (int i = 0; i < n_nodes; i++)
			if (nodes[i].pending && now >= nodes[i].deadline_ns)
				expire(&nodes[i], now);
		if (o->tick && now - last_tick >= 1000000000ULL)
			report_tick(t0, now, &last_tick, 0);
	}
	if (o->tick)
		report_tick(t0, lg_now_ns(), &last_tick, o->rate);
	snprintf(extra, sizeof(extra),
		 "retries=%llu held=%llu seq_ok=%llu seq_fail=%llu offered=%.0f lg_cpu=%.2f",
		 (unsigned long long)st.retries, (unsigned long long)held,
		 (unsigned long long)seq_ok, (unsigned long long)seq_fail, o->rate,
		 lg_cpu_seconds(getpid()) - self0);
	held = 0;
	lg_report(name, &st, (double)(lg_now_ns() - t0) / 1e9,
		  lg_cpu_seconds(o->pid) - cpu0, extra);
}

int lg_run_nms(const struct lg_opts *o)
{
	retry_on = o->retry;
	if (setup(o, o->nodes))
		return 1;
	/*
	 * First registration of every node: the certificate is verified. It
	 * ends when every node is registered; the cap (3x --seconds, at
	 * least 30 s, at least 200 a second) only bounds a stuck NMS, so a slow machine still
	 * registers them all and the later phases start from the same state.
	 */
	run_phase(o, "nms_register_first", PH_FULL,
		  fmax(fmax(o->seconds * 3, 30), o->nodes / 200.0), true, 1, false);
	/* Full re-registrations: same certificate, new session keys. */
	run_phase(o, "nms_register_full", PH_FULL, o->seconds, false, 1, false);
	run_phase(o, "nms_register_refresh", PH_REFRESH, o->seconds, false, 1, false);
	run_phase(o, "nms_route_direct", PH_ROUTE, o->seconds, false, 1, false);
	run_phase(o, "nms_route_relay", PH_ROUTE, o->seconds, false, 1, true);
	return 0;
}

/*
 * Signaling sequences (a full registration, then a route direction) at
 * each rate of --ramp in turn, --seconds each: "RESULT test=seq_R ..."
 * per step, with seq_ok/seq_fail; with --retry a sequence fails only when
 * one of its requests spent its retry budget or met a final error.
 */
int lg_run_seq(const struct lg_opts *o)
{
	struct lg_opts q = *o;
	const char *p = o->ramp;
	char name[48];

	retry_on = o->retry;
	if (setup(o, o->nodes))
		return 1;
	q.rate = 0;
	q.tick = false;
	if (q.window > 256)	/* as fast as answered, not as fast as sent */
		q.window = 256;
	/* every node registered once, so route targets exist */
	run_phase(&q, "seq_setup", PH_FULL, 60, true, 1, false);
	while (p && *p) {
		char *e;

		q.rate = strtod(p, &e);
		q.tick = o->tick;
		q.window = o->window;
		if (!strncmp(p, "max", 3)) {	/* as fast as --window allows */
			q.rate = 0;
			e = (char *)p + 3;
		} else if (e == p || q.rate <= 0) {
			fprintf(stderr, "loadgen: --ramp: sequences/s or max, comma separated\n");
			return 2;
		}
		if (q.rate > 0)
			snprintf(name, sizeof(name), "seq_%.0f", q.rate);
		else
			snprintf(name, sizeof(name), "seq_max");
		run_phase(&q, name, PH_SEQ, o->seconds, false, 1, false);
		p = *e == ',' ? e + 1 : e;
	}
	return 0;
}

/* ---- TRS ------------------------------------------------------------------------- */

static void pump(const struct lg_opts *o, double secs)
{
	static struct mmsghdr m[BATCH];
	static struct iovec iov[BATCH];
	static struct sockaddr_storage to[BATCH];
	uint8_t pkt[2048] = { CYPHONIC_MSG_RELAY };
	uint64_t t0 = lg_now_ns(), end = t0 + (uint64_t)(secs * 1e9), sent = 0, next = t0;
	double cpu0 = lg_cpu_seconds(o->pid), gap = o->rate > 0 ? 1e9 / o->rate : 0;
	size_t size = (size_t)(o->size < 64 ? 64 : o->size > 1400 ? 1400 : o->size);
	int k = 0, i, sessions = n_nodes / 2;
	uint64_t lost, lost_est = 0, stall_ns = 0;
	char extra[160];

	lg_stats_reset(&st);	/* late answers of the previous phase added samples */
	relayed_rx = relayed_bytes = 0;
	pkt[8] = CYPHONIC_MSG_DATA;
	while (lg_now_ns() < end) {
		uint64_t now = lg_now_ns();
		/* A burst of up to BATCH packets for one session (one socket). */
		struct lnode *a = &nodes[2 * (k++ % sessions)];
		int n = 0;

		pkt[4] = (uint8_t)(a->relay.session >> 24);
		pkt[5] = (uint8_t)(a->relay.session >> 16);
		pkt[6] = (uint8_t)(a->relay.session >> 8);
		pkt[7] = (uint8_t)a->relay.session;
		memcpy(pkt + 8 + 16, &now, 8);
		/* Keep at most `window` packets in flight so drops stay rare. */
		if (sent - relayed_rx - lost_est >= (uint64_t)o->window) {
			if (!stall_ns)
				stall_ns = now;
			else if (now - stall_ns > 20000000ULL)	/* 20 ms: lost */
				lost_est = sent - relayed_rx;
		} else {
			stall_ns = 0;
		}
		while (n < BATCH && sent - relayed_rx - lost_est < (uint64_t)o->window &&
		       (gap == 0 || now >= next)) {
			iov[n] = (struct iovec){ pkt, 8 + size };
			m[n].msg_hdr = (struct msghdr){ .msg_name = &to[n], .msg_iov = &iov[n],
							.msg_iovlen = 1 };
			m[n].msg_hdr.msg_namelen = proto_ep_to_sa(&a->relay.relay, &to[n]);
			n++;
			sent++;
			if (gap > 0)
				next += (uint64_t)gap;
		}
		if (n && sendmmsg(a->sock, m, (unsigned)n, 0) < 0 && errno != EAGAIN)
			perror("sendmmsg");
		receive(0);
	}
	for (i = 0; i < 20; i++)
		receive(5);	/* stragglers */
	lost = sent > relayed_rx ? sent - relayed_rx : 0;
	snprintf(extra, sizeof(extra), "sent=%llu lost=%llu size=%zu mbit_s=%.1f",
		 (unsigned long long)sent, (unsigned long long)lost, 8 + size,
		 (double)relayed_bytes * 8 / 1e6 / ((double)(lg_now_ns() - t0) / 1e9));
	lg_report("trs_relay", &st, (double)(lg_now_ns() - t0) / 1e9,
		  lg_cpu_seconds(o->pid) - cpu0, extra);
}

int lg_run_trs(const struct lg_opts *o)
{
	int i, bound = 0;
	struct lg_opts q = *o;

	if (setup(o, o->sessions * 2))
		return 1;
	q.pid = 0;
	q.rate = 0;
	run_phase(&q, "setup_register", PH_FULL, 20, true, 1, false);
	run_phase(&q, "setup_relay_route", PH_RELAY_SETUP, 20, true, 2, false);
	/* Wait (at most 10 s) for the targets' notifications. */
	for (i = 0; i < 2000; i++) {
		int have = 0;

		for (int j = 0; j < n_nodes; j++)
			have += nodes[j].has_relay;
		if (have == n_nodes)
			break;
		receive(5);
	}
	run_phase(&q, "setup_bind", PH_BIND, 20, true, 1, false);
	for (i = 0; i < n_nodes; i++)
		bound += nodes[i].bound;
	if (bound != n_nodes) {
		fprintf(stderr, "loadgen: only %d of %d relay ends bound\n", bound, n_nodes);
		return 1;
	}
	pump(o, o->seconds);
	return 0;
}
