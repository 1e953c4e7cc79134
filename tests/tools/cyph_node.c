// SPDX-License-Identifier: MIT
/*
 * cyph_node: a minimal CYPHONIC node for the cloud integration tests. It
 * runs the real signaling sequence with the library clients: credential
 * from the AS (asclient) or from files, registration and keepalive at the
 * NMS (nmsclient), route request, relay bind at the TRS (trsclient), and
 * an echo through the relay. One UDP socket carries everything, as on a
 * real node. Results are printed one per line for the test scripts:
 *
 *   ok registered id=N observed=ADDR keepalive=S local=ADDR
 *   ok route mode=relay peer=ID session=N
 *   ok echo N/N
 *   ok stream sent=N echoed=M max_gap_ms=G switched=0|1
 *   error STAGE REASON         (exit status 1)
 *
 * Replica tests (docs/scale-out.md): --nms-after sends everything after
 * the registration to another NMS replica; --save-register keeps the raw
 * REGISTER datagram for replay tests; --stream N makes `call` go on with
 * echoes through the relay for N seconds and, with --trs-alt, move to another
 * TRS replica after --failover-ms without an echo (as a re-hashed ECMP
 * path would), reporting the longest gap between two echoes.
 *
 * Relay abuse tests (issue 12): --save-bind keeps the BIND datagram the
 * TRS accepted first (after a challenge, the one carrying the proof of
 * this node's address), --close sends a CLOSE for its relay end before
 * exiting, and
 *
 *   cyph_node [--local ADDR] replay TRS BIND0 BIND1
 *
 * replays two saved BINDs from two fresh sockets (a stranger; the first
 * bound to --local, e.g. the capturing node's own address) and tries to
 * relay through the session, printing
 *   ok replay bind0=RESULT bind1=RESULT relayed=N/5
 * (RESULT: ok, an error name, or timeout) without any credential.
 *
 *   cyph_node ... flood TARGET N
 *
 * sends N route requests for TARGET back to back (--force-relay: relay
 * grants) and counts the answers for a second:
 *   ok flood sent=N routed=R rate_limited=L other=O
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/cyphonic.h>
#include "runtime/addr.h"
#include "client/asclient.h"
#include "pki/cred.h"
#include "client/nmsclient.h"
#include "wire/proto_crypto.h"
#include "wire/proto_udp.h"
#include "client/trsclient.h"

static struct {
	const char *as, *as_ca, *name, *password, *cert, *key, *save_cert,
		*save_key, *ca, *nms, *nms_name, *local;
	const char *report;	/* reported address instead of the socket's */
	const char *nms_after, *save_register, *trs_alt, *save_bind;
	int timeout_ms, nat, failover_ms, stream_s;
	bool no_keepalive, force_relay, close_end;
} o = { .local = "127.0.0.1:0", .timeout_ms = 5000, .failover_ms = 1000 };

static int fd;
static struct sockaddr_storage nms_sa;
static socklen_t nms_len;
static struct nmsc C;
static EVP_PKEY *key;
static uint8_t *cert;
static size_t cert_len;
static struct cyph_ca *ca;
static struct trsc relay;
static bool relay_bound;
static int echoes;
static int64_t last_echo_ms, max_gap_ms;

static void send_ep(const struct proto_ep *ep, const uint8_t *p, size_t n);

/* Each BIND until one is acknowledged: the last saved is the accepted one. */
static void save_bind(const uint8_t *p, size_t n)
{
	FILE *f;

	if (o.save_bind && !relay_bound && (f = fopen(o.save_bind, "wb"))) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

/* hole punch in progress: both sides probe the other's endpoint */
static struct {
	bool active, done;
	uint64_t id;
	uint8_t secret[32];
	struct proto_ep peer;
} punch;

static void punch_start(const struct proto_msg *m)
{
	punch.active = true;
	punch.id = m->punch_id;
	memcpy(punch.secret, m->punch_secret, 32);
	punch.peer = m->peer_eps[0];
}

static void punch_probe(uint8_t kind, uint64_t nonce)
{
	uint8_t p[PROTO_PROBE_LEN];

	proto_probe_build(p, kind, (uint32_t)C.node_id, 0, punch.id, nonce, punch.secret);
	send_ep(&punch.peer, p, sizeof(p));
}

static void die(const char *stage, const char *why)
{
	printf("error %s %s\n", stage, why);
	fflush(stdout);
	exit(1);
}

static void send_to(const struct sockaddr *sa, socklen_t len, const uint8_t *p, size_t n)
{
	if (n && sendto(fd, p, n, 0, sa, len) < 0)
		fprintf(stderr, "sendto: %s\n", strerror(errno));
}

static void send_nms(const uint8_t *p, size_t n)
{
	send_to((struct sockaddr *)&nms_sa, nms_len, p, n);
}

static void send_ep(const struct proto_ep *ep, const uint8_t *p, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = proto_ep_to_sa(ep, &ss);

	send_to((struct sockaddr *)&ss, len, p, n);
}

/*
 * --bind-via ADDR: BINDs leave from a socket at ADDR that is never read,
 * as a colluding node "spoofing" a victim's address would send them; the
 * victim's view is reported at the end (victim_report).
 */
static int via_fd = -1;

static void send_bind(const uint8_t *p, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = proto_ep_to_sa(&relay.relay, &ss);

	if (via_fd < 0)
		send_ep(&relay.relay, p, n);
	else if (n && sendto(via_fd, p, n, 0, (struct sockaddr *)&ss, len) < 0)
		perror("sendto");
}

/* What reached the "victim": RELAY_CTRL (challenges) and relayed packets. */
static void victim_report(void)
{
	uint8_t buf[4096];
	ssize_t n;
	int ctrl = 0, data = 0;

	if (via_fd < 0)
		return;
	while ((n = recv(via_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (buf[0] == CYPHONIC_MSG_RELAY_CTRL)
			ctrl++;
		else
			data++;
	}
	printf("victim received ctrl=%d data=%d\n", ctrl, data);
	fflush(stdout);
}

/* ---- credentials ----------------------------------------------------------- */

static void credential(void)
{
	char err[512];

	if (o.as) {
		struct cyph_asclient_opts ao = { .addr = o.as, .server_name = "127.0.0.1",
						 .ca_path = o.as_ca };
		struct cyph_as_credential cr;
		struct cyph_asclient *c;
		uint8_t pub[32];
		int rc;

		key = cyph_key_generate();
		cyph_key_public(key, pub);
		c = cyph_asclient_connect(&ao, err, sizeof(err));
		if (!c)
			die("as", err);
		rc = cyph_asclient_auth(c, o.name, o.password, pub, &cr, err, sizeof(err));
		cyph_asclient_close(c);
		if (rc)
			die("as", err);
		cert = cr.cert;
		cert_len = cr.cert_len;
		cr.cert = NULL;
		cyph_as_credential_free(&cr);
		if (o.save_cert && (cyph_cert_save(o.save_cert, cert, cert_len, err, sizeof(err)) ||
				    cyph_key_save(key, o.save_key, err, sizeof(err))))
			die("save", err);
	} else if (o.cert && o.key) {
		key = cyph_key_load(o.key, err, sizeof(err));
		if (!key || cyph_cert_load(o.cert, &cert, &cert_len, err, sizeof(err)))
			die("credential", err);
	} else {
		die("credential", "need --as/--name/--password or --cert/--key");
	}
}

static uint64_t cert_id(void)
{
	struct cyph_node_id id;
	char err[256];

	if (cyph_cred_parse(cert, cert_len, &id, err, sizeof(err)))
		die("credential", err);
	return id.id;
}

/* ---- packet handling -------------------------------------------------------- */

static struct nmsc_event last_ev;
static bool got_ev;

static void handle_notify(const struct nmsc_event *ev)
{
	uint8_t buf[PROTO_RC_LEN + 2048];
	size_t n = nmsc_notify_ack(&C, buf, sizeof(buf), proto_now_ms(), ev->msg.notify_id);

	send_nms(buf, n);
	if (ev->msg.mode == PROTO_MODE_PUNCH && !punch.active) {
		punch_start(&ev->msg);
		punch_probe(PROTO_HS_PROBE, 1);
		printf("ok notify mode=punch peer=%llu punch=%llx\n",
		       (unsigned long long)ev->msg.peer_id, (unsigned long long)punch.id);
		fflush(stdout);
	}
	if (ev->msg.mode == PROTO_MODE_RELAY && !relay_bound) {
		trsc_init(&relay, C.node_id, &ev->msg, proto_now_ms());
		n = trsc_bind(&relay, buf, proto_now_ms());
		save_bind(buf, n);
		send_bind(buf, n);
		printf("ok notify mode=relay peer=%llu session=%u end=%u\n",
		       (unsigned long long)ev->msg.peer_id, relay.session, relay.end);
		fflush(stdout);
	}
}

/* Reads one datagram (or times out after ms); dispatches it. */
static void pump(int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t buf[4096], out[4096];
	struct nmsc_event ev;
	ssize_t n;
	size_t m;

	if (poll(&p, 1, ms) <= 0)
		return;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n <= 0)
		return;
	switch (buf[0]) {
	case CYPHONIC_MSG_SIGNAL:
		if (nmsc_input(&C, buf, (size_t)n, proto_now_ms(), 30000, &ev))
			return;
		if (ev.type == NMSC_EV_NOTIFY) {
			handle_notify(&ev);
			return;
		}
		last_ev = ev;
		got_ev = true;
		if (ev.challenged) {	/* prove a new address at once */
			m = nmsc_keepalive(&C, out, sizeof(out), proto_now_ms(), NULL);
			send_nms(out, m);
			printf("ok challenged\n");
			fflush(stdout);
		}
		return;
	case CYPHONIC_MSG_RELAY_CTRL: {
		int rc = trsc_input(&relay, buf, (size_t)n);

		if (rc == TRSC_CHALLENGED) {	/* prove our address: BIND again, with the echo */
			m = trsc_bind(&relay, out, proto_now_ms());
			save_bind(out, m);
			send_bind(out, m);
			return;
		}
		if (rc > 0)
			die("bind", proto_err_name((unsigned)rc));
		if (rc == 0 && !relay_bound) {
			relay_bound = true;
			printf("ok bound session=%u end=%u idle=%u\n", relay.session,
			       relay.end, relay.idle_s);
			fflush(stdout);
		}
		return;
	}
	case CYPHONIC_MSG_HANDSHAKE: {
		uint8_t kind;
		uint32_t snd, rcv;
		uint64_t nonce;

		if (!punch.active || !proto_probe_check(buf, (size_t)n, punch.id, punch.secret,
							&kind, &snd, &rcv, &nonce))
			return;
		if (kind == PROTO_HS_PROBE)
			punch_probe(PROTO_HS_PROBE_REPLY, nonce);
		if (!punch.done) {
			punch.done = true;
			printf("ok punch %s from peer %u\n",
			       kind == PROTO_HS_PROBE ? "probe" : "probe_reply", snd);
			fflush(stdout);
		}
		return;
	}
	case CYPHONIC_MSG_DATA:
		/* Relayed by the TRS. byte 1 = 0: request, 1: echo reply. */
		if (n < 16)
			return;
		if (buf[1] == 0 && relay_bound) {
			buf[1] = 1;
			m = trsc_wrap(&relay, buf, (size_t)n, out, sizeof(out));
			send_ep(&relay.relay, out, m);
		} else if (buf[1] == 1) {
			int64_t now = proto_now_ms();

			if (echoes && now - last_echo_ms > max_gap_ms)
				max_gap_ms = now - last_echo_ms;
			last_echo_ms = now;
			echoes++;
		}
		return;
	}
}

/* Sends a request and waits for its answer, retransmitting with backoff. */
static struct nmsc_event *transact(const char *stage,
				   size_t (*build)(uint8_t *, size_t, uint64_t *))
{
	uint8_t buf[4096];
	uint64_t seq;
	int rto = 300;
	int64_t end = proto_now_ms() + o.timeout_ms;

	while (proto_now_ms() < end) {
		size_t n = build(buf, sizeof(buf), &seq);
		int64_t next = proto_now_ms() + rto;

		if (!n)
			die(stage, "cannot build request");
		send_nms(buf, n);
		got_ev = false;
		while (proto_now_ms() < next) {
			pump((int)(next - proto_now_ms()));
			if (got_ev && last_ev.echo_seq == seq &&
			    last_ev.type == NMSC_EV_COOKIE) {
				printf("ok cookie\n");	/* NMS under load */
				fflush(stdout);
				break;		/* again at once, with it */
			}
			if (got_ev && last_ev.echo_seq == seq) {
				if (last_ev.type == NMSC_EV_ERROR)
					die(stage, proto_err_name(last_ev.error));
				return &last_ev;
			}
		}
		rto *= 2;
	}
	die(stage, "timeout");
	return NULL;
}

static size_t b_register(uint8_t *b, size_t cap, uint64_t *seq)
{
	size_t n = nmsc_register(&C, b, cap, proto_now_ms(), seq);
	FILE *f;

	if (o.save_register && n && (f = fopen(o.save_register, "wb"))) {
		fwrite(b, 1, n, f);
		fclose(f);
	}
	return n;
}

static size_t b_keepalive(uint8_t *b, size_t cap, uint64_t *seq)
{
	return nmsc_keepalive(&C, b, cap, proto_now_ms(), seq);
}

static const char *target;

static size_t b_route(uint8_t *b, size_t cap, uint64_t *seq)
{
	return nmsc_route(&C, b, cap, proto_now_ms(), target, NULL, NULL,
			  o.force_relay ? PROTO_RF_FORCE_RELAY : 0, seq);
}

static void do_register(void)
{
	char a[64], l[64];
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct proto_ep self;

	/* Report our own socket address: the NMS compares it with what it sees. */
	getsockname(fd, (struct sockaddr *)&ss, &len);
	if (o.report && addr_parse_endpoint(o.report, &ss, &len))
		die("usage", "--report ADDR:PORT");
	proto_ep_from_sa(&self, (struct sockaddr *)&ss);
	nmsc_set_location(&C, &self, 1, (uint8_t)o.nat);
	transact("register", b_register);
	proto_ep_format(&C.observed, a, sizeof(a));
	/* The socket's own address too: a test compares it with observed. */
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	proto_ep_from_sa(&self, (struct sockaddr *)&ss);
	proto_ep_format(&self, l, sizeof(l));
	printf("ok registered id=%llu observed=%s keepalive=%u local=%s\n",
	       (unsigned long long)C.node_id, a, C.keepalive_s, l);
	fflush(stdout);
}

/* Runs for ms: keepalives, notifications, relay refresh, echo service. */
static void serve(int64_t ms)
{
	int64_t end = proto_now_ms() + ms, next_ka = proto_now_ms() + 1000;

	while (proto_now_ms() < end) {
		pump(100);
		if (!o.no_keepalive && proto_now_ms() >= next_ka) {
			uint8_t buf[512];
			size_t n = nmsc_keepalive(&C, buf, sizeof(buf), proto_now_ms(), NULL);

			send_nms(buf, n);
			next_ka = proto_now_ms() + 1000;
		}
	}
}

static void parse_ep(const char *s, struct proto_ep *ep)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (addr_parse_endpoint(s, &ss, &len) || proto_ep_from_sa(ep, (struct sockaddr *)&ss))
		die("usage", "bad address");
}

/* Echoes every 10 ms for ms; fails over to --trs-alt after a silence. */
static void stream(int64_t ms)
{
	uint8_t pkt[256], out[512];
	int64_t end = proto_now_ms() + ms, next = 0;
	int sent = 0, before;
	bool switched = false;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = CYPHONIC_MSG_DATA;
	printf("ok streaming session=%u\n", relay.session);
	fflush(stdout);
	before = echoes;
	last_echo_ms = proto_now_ms();
	while (proto_now_ms() < end) {
		if (proto_now_ms() >= next) {
			size_t n = trsc_wrap(&relay, pkt, sizeof(pkt), out, sizeof(out));

			send_ep(&relay.relay, out, n);
			sent++;
			next = proto_now_ms() + 10;
		}
		if (o.trs_alt && !switched && proto_now_ms() - last_echo_ms > o.failover_ms) {
			parse_ep(o.trs_alt, &relay.relay);
			switched = true;
			printf("ok switched to %s\n", o.trs_alt);
			fflush(stdout);
		}
		pump(5);
	}
	printf("%s stream sent=%d echoed=%d max_gap_ms=%lld switched=%d\n",
	       echoes - before > sent / 2 ? "ok" : "error", sent, echoes - before,
	       (long long)max_gap_ms, switched);
	fflush(stdout);
}

static void call(int count)
{
	struct nmsc_event *ev = transact("route", b_route);
	static const char *const modes[] = { "?", "direct", "punch", "relay" };
	uint8_t pkt[256], out[512], bind[PROTO_RC_LEN];
	int64_t end, next = 0;
	int sent = 0;

	printf("ok route mode=%s peer=%llu session=%u\n", modes[ev->msg.mode],
	       (unsigned long long)ev->msg.peer_id, ev->msg.relay_session);
	fflush(stdout);
	if (ev->msg.mode == PROTO_MODE_PUNCH) {
		/* Probe every 100 ms until the peer's probe or reply arrives. */
		punch_start(&ev->msg);
		end = proto_now_ms() + o.timeout_ms;
		for (uint64_t i = 1; !punch.done && proto_now_ms() < end; i++) {
			punch_probe(PROTO_HS_PROBE, i);
			for (int j = 0; j < 5 && !punch.done; j++)
				pump(20);
		}
		if (!punch.done)
			die("punch", "timeout");
		return;
	}
	if (ev->msg.mode != PROTO_MODE_RELAY || !count)
		return;
	trsc_init(&relay, C.node_id, &ev->msg, proto_now_ms());
	end = proto_now_ms() + o.timeout_ms;
	while (!relay_bound && proto_now_ms() < end) {
		size_t bn = trsc_bind(&relay, bind, proto_now_ms());

		save_bind(bind, bn);
		send_bind(bind, bn);
		for (int i = 0; i < 5 && !relay_bound; i++)
			pump(100);
	}
	if (!relay_bound) {
		victim_report();
		die("bind", "timeout");
	}
	/* Until the peer has bound too, the TRS drops; keep trying. */
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = CYPHONIC_MSG_DATA;
	while (echoes < count && proto_now_ms() < end) {
		if (proto_now_ms() >= next && sent < count * 50) {
			size_t n = trsc_wrap(&relay, pkt, sizeof(pkt), out, sizeof(out));

			send_ep(&relay.relay, out, n);
			sent++;
			next = proto_now_ms() + (echoes ? 5 : 100);
		}
		pump(20);
	}
	printf("%s echo %d/%d\n", echoes >= count ? "ok" : "error", echoes, count);
	fflush(stdout);
	if (echoes < count)
		exit(1);
	if (o.stream_s)
		stream(o.stream_s * 1000LL);
}

/* The stranger's side of `replay`: one socket per end. */
static int replay_sock(const char *local)
{
	char err[256];
	int s = proto_udp_bind_str(local, false, err, sizeof(err));

	if (s < 0)
		die("socket", err);
	return s;
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(buf, 1, cap, f) : 0;

	if (f)
		fclose(f);
	if (!n)
		die("replay", "cannot read a saved BIND");
	return n;
}

/* Result of a BIND sent on s: "ok", the TRS's error name, or "timeout". */
static const char *replay_result(int s)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	uint8_t buf[512];
	struct proto_rc rc;
	ssize_t n;

	if (poll(&p, 1, 2000) <= 0 || (n = recv(s, buf, sizeof(buf), 0)) <= 0 ||
	    proto_rc_parse(buf, (size_t)n, &rc))
		return "timeout";
	return rc.op == PROTO_RC_BIND_ACK ? "ok" : proto_err_name(rc.code);
}

static int replay(const char *trs, const char *f0, const char *f1)
{
	uint8_t b0[512], b1[512], pkt[64] = { CYPHONIC_MSG_RELAY }, in[512];
	size_t n0 = read_file(f0, b0, sizeof(b0)), n1 = read_file(f1, b1, sizeof(b1));
	struct sockaddr_storage ss;
	socklen_t len;
	struct proto_rc rc;
	const char *r0, *r1;
	int s0 = replay_sock(o.local), s1 = replay_sock("127.0.0.1:0"), got = 0;

	if (addr_parse_endpoint(trs, &ss, &len) || proto_rc_parse(b0, n0, &rc))
		die("usage", "replay TRS BIND0 BIND1");
	sendto(s0, b0, n0, 0, (struct sockaddr *)&ss, len);
	r0 = replay_result(s0);
	sendto(s1, b1, n1, 0, (struct sockaddr *)&ss, len);
	r1 = replay_result(s1);
	pkt[4] = (uint8_t)(rc.session >> 24);
	pkt[5] = (uint8_t)(rc.session >> 16);
	pkt[6] = (uint8_t)(rc.session >> 8);
	pkt[7] = (uint8_t)rc.session;
	pkt[8] = CYPHONIC_MSG_DATA;
	for (int i = 0; i < 5; i++) {
		struct pollfd p = { .fd = s1, .events = POLLIN };

		sendto(s0, pkt, sizeof(pkt), 0, (struct sockaddr *)&ss, len);
		if (poll(&p, 1, 200) > 0 && recv(s1, in, sizeof(in), 0) > 0)
			got++;
	}
	printf("ok replay bind0=%s bind1=%s relayed=%d/5\n", r0, r1, got);
	return 0;
}

/* A node abusing its registration: N route requests at once. */
static void flood(int count)
{
	uint8_t buf[2048];
	int routed = 0, limited = 0, other = 0;
	int64_t end;

	for (int i = 0; i < count; i++)
		send_nms(buf, nmsc_route(&C, buf, sizeof(buf), proto_now_ms(), target, NULL, NULL,
					 o.force_relay ? PROTO_RF_FORCE_RELAY : 0, NULL));
	end = proto_now_ms() + 1000;
	while (proto_now_ms() < end) {
		got_ev = false;
		pump(50);
		if (!got_ev)
			continue;
		if (last_ev.type == NMSC_EV_ROUTE)
			routed++;
		else if (last_ev.type == NMSC_EV_ERROR && last_ev.error == PROTO_E_RATE_LIMITED)
			limited++;
		else
			other++;
	}
	printf("ok flood sent=%d routed=%d rate_limited=%d other=%d\n", count, routed, limited,
	       other);
}

/*
 * An on-path attacker's catch: a fresh KEEPALIVE built and written to
 * file, never sent, so the NMS has not seen its sequence number. The test
 * then sends it from another address (return routability, issue 12).
 */
static void divert(const char *file)
{
	uint8_t buf[512];
	size_t n = nmsc_keepalive(&C, buf, sizeof(buf), proto_now_ms(), NULL);
	FILE *f = fopen(file, "wb");

	if (!n || !f || fwrite(buf, 1, n, f) != n)
		die("divert", "cannot write");
	fclose(f);
	printf("ok diverted\n");
}

/*
 * Moves to a new local address (a NAT rebinding, a new network): a
 * refresh REGISTER from there is answered with a challenge, the echo in a
 * KEEPALIVE proves the address; the next KEEPALIVE_ACK reports it.
 */
static void roam(const char *local)
{
	char err[256], a[64];
	int nfd = proto_udp_bind_str(local, false, err, sizeof(err));
	int64_t end = proto_now_ms() + o.timeout_ms;

	if (nfd < 0)
		die("socket", err);
	close(fd);
	fd = nfd;
	transact("register", b_register);	/* pump() answers the challenge */
	while (proto_now_ms() < end) {
		struct nmsc_event *ev = transact("keepalive", b_keepalive);
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct proto_ep self;

		getsockname(fd, (struct sockaddr *)&ss, &len);
		proto_ep_from_sa(&self, (struct sockaddr *)&ss);
		if (!ev->challenged && proto_ep_equal(&C.observed, &self)) {
			proto_ep_format(&C.observed, a, sizeof(a));
			printf("ok roamed observed=%s\n", a);
			return;
		}
	}
	die("roam", "timeout");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "as", 1, NULL, 'a' }, { "as-ca", 1, NULL, 'A' }, { "name", 1, NULL, 'n' },
		{ "password", 1, NULL, 'p' }, { "cert", 1, NULL, 'c' }, { "key", 1, NULL, 'k' },
		{ "save-cert", 1, NULL, 'C' }, { "save-key", 1, NULL, 'K' },
		{ "ca", 1, NULL, 'r' }, { "nms", 1, NULL, 'm' }, { "nms-name", 1, NULL, 'N' },
		{ "local", 1, NULL, 'l' }, { "timeout", 1, NULL, 't' },
		{ "no-keepalive", 0, NULL, 'q' }, { "force-relay", 0, NULL, 'f' },
		{ "report", 1, NULL, 'R' }, { "nat", 1, NULL, 'T' },
		{ "nms-after", 1, NULL, 'M' }, { "save-register", 1, NULL, 'S' },
		{ "trs-alt", 1, NULL, 'X' }, { "failover-ms", 1, NULL, 'F' },
		{ "stream", 1, NULL, 's' }, { "save-bind", 1, NULL, 'B' },
		{ "close", 0, NULL, 'Z' }, { "bind-via", 1, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': o.as = optarg; break;
		case 'A': o.as_ca = optarg; break;
		case 'n': o.name = optarg; break;
		case 'p': o.password = optarg; break;
		case 'c': o.cert = optarg; break;
		case 'k': o.key = optarg; break;
		case 'C': o.save_cert = optarg; break;
		case 'K': o.save_key = optarg; break;
		case 'r': o.ca = optarg; break;
		case 'm': o.nms = optarg; break;
		case 'N': o.nms_name = optarg; break;
		case 'l': o.local = optarg; break;
		case 't': o.timeout_ms = atoi(optarg); break;
		case 'q': o.no_keepalive = true; break;
		case 'f': o.force_relay = true; break;
		case 'R': o.report = optarg; break;
		case 'T': o.nat = atoi(optarg); break;
		case 'M': o.nms_after = optarg; break;
		case 'S': o.save_register = optarg; break;
		case 'X': o.trs_alt = optarg; break;
		case 'F': o.failover_ms = atoi(optarg); break;
		case 's': o.stream_s = atoi(optarg); break;
		case 'B': o.save_bind = optarg; break;
		case 'Z': o.close_end = true; break;
		case 'V':
			via_fd = proto_udp_bind_str(optarg, false, err, sizeof(err));
			if (via_fd < 0)
				die("--bind-via", err);
			break;
		default:
			fprintf(stderr, "usage: %s [options] enrol|register|serve SECONDS|"
				"call TARGET COUNT\n", argv[0]);
			return 2;
		}
	}
	if (optind >= argc)
		die("usage", "no command");
	if (!strcmp(argv[optind], "replay") && optind + 3 < argc)
		return replay(argv[optind + 1], argv[optind + 2], argv[optind + 3]);
	credential();
	if (!strcmp(argv[optind], "enrol")) {
		printf("ok enrolled id=%llu\n", (unsigned long long)cert_id());
		return 0;
	}
	if (!o.nms || addr_parse_endpoint(o.nms, &nms_sa, &nms_len))
		die("usage", "--nms HOST:PORT needed");
	fd = proto_udp_bind_str(o.local, false, err, sizeof(err));
	if (fd < 0)
		die("socket", err);
	ca = cyph_ca_load(o.ca ? o.ca : o.as_ca, err, sizeof(err));
	if (!ca)
		die("ca", err);
	nmsc_init(&C, cert_id(), key, cert, cert_len, proto_now_ms());
	nmsc_trust_ca(&C, ca, o.nms_name);
	do_register();
	o.save_register = NULL;	/* the first, full REGISTER only */
	if (o.nms_after && addr_parse_endpoint(o.nms_after, &nms_sa, &nms_len))
		die("usage", "--nms-after HOST:PORT");
	if (!strcmp(argv[optind], "register")) {
		return 0;
	} else if (!strcmp(argv[optind], "serve") && optind + 1 < argc) {
		serve(atoll(argv[optind + 1]) * 1000);
	} else if (!strcmp(argv[optind], "call") && optind + 2 < argc) {
		target = argv[optind + 1];
		call(atoi(argv[optind + 2]));
	} else if (!strcmp(argv[optind], "flood") && optind + 2 < argc) {
		target = argv[optind + 1];
		flood(atoi(argv[optind + 2]));
	} else if (!strcmp(argv[optind], "keepalive")) {
		transact("keepalive", b_keepalive);
		printf("ok keepalive\n");
	} else if (!strcmp(argv[optind], "divert") && optind + 1 < argc) {
		divert(argv[optind + 1]);
	} else if (!strcmp(argv[optind], "roam") && optind + 1 < argc) {
		roam(argv[optind + 1]);
	} else {
		die("usage", "unknown command");
	}
	if (o.close_end && relay_bound) {
		uint8_t buf[PROTO_RC_LEN];

		send_ep(&relay.relay, buf, trsc_close(&relay, buf, proto_now_ms()));
		printf("ok closed session=%u end=%u\n", relay.session, relay.end);
	}
	return 0;
}
