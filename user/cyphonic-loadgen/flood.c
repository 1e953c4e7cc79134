// SPDX-License-Identifier: MIT
/*
 * The NMS target of issue 12 (make bench-abuse): legitimate nodes keep
 * their registrations alive with KEEPALIVEs while a flood of validly
 * framed, badly signed full REGISTERs (a real certificate, a corrupted
 * signature, fresh timestamps) arrives at --rate packets/s from --sources
 * source addresses in 127.1.0.0/16, which stand for spoofed or
 * unregistered senders (one socket each: the per-source budget sees them
 * as many hosts). Reports the flood rate reached, the keepalives lost and
 * their round-trip percentiles.
 *
 *   cyphonic-loadgen flood --nms ADDR --ca-cert CA --ca-key KEY --nms-cert CERT
 *		[--nodes N (50)] [--rate PPS (50000)] [--seconds S] [--sources K (512)]
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "client/nmsclient.h"
#include "pki/ca.h"
#include "runtime/addr.h"
#include "wire/proto_udp.h"
#include "lg.h"

#define FLOOD_PKTS 256		/* distinct REGISTERs, rebuilt every second */
#define FLOOD_BATCH 64
#define KA_PER_SEC 200		/* keepalives of all legitimate nodes together */

struct legit {
	struct nmsc c;
	EVP_PKEY *key;
	uint8_t *cert;
	size_t cert_len;
	int sock;
	uint64_t ka_seq, ka_sent_ns;	/* the outstanding keepalive */
};

static struct sockaddr_storage nms_sa;
static socklen_t nms_len;
static atomic_bool flooding;
static atomic_ulong flood_sent;

struct flood_arg {
	const struct lg_opts *o;
	struct legit *attacker;
	int *socks, n_socks;
};

/* FLOOD_PKTS fresh REGISTERs from the attacker's credential, signatures broken. */
static void build_flood(struct legit *a, uint8_t pkts[][2048], size_t *lens)
{
	int i;

	for (i = 0; i < FLOOD_PKTS; i++) {
		nmsc_reset(&a->c);
		lens[i] = nmsc_register(&a->c, pkts[i], sizeof(pkts[i]), proto_now_ms(), NULL);
		if (lens[i])
			pkts[i][lens[i] - 1 - i % 32] ^= 0x5a;	/* the signature */
	}
}

static void *flood_thread(void *p)
{
	struct flood_arg *f = p;
	static uint8_t pkts[FLOOD_PKTS][2048];
	static size_t lens[FLOOD_PKTS];
	struct mmsghdr m[FLOOD_BATCH];
	struct iovec iov[FLOOD_BATCH];
	uint64_t start = lg_now_ns(), built = 0, sent = 0;
	int k = 0, s = 0, i;

	while (atomic_load(&flooding)) {
		uint64_t now = lg_now_ns(), due;

		if (now - built > 1000000000ULL) {
			build_flood(f->attacker, pkts, lens);
			built = now;
		}
		due = (uint64_t)((double)(now - start) / 1e9 * f->o->rate);
		if (sent >= due) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
			continue;
		}
		for (i = 0; i < FLOOD_BATCH; i++, k = (k + 1) % FLOOD_PKTS) {
			iov[i] = (struct iovec){ pkts[k], lens[k] };
			m[i].msg_hdr = (struct msghdr){ .msg_name = &nms_sa, .msg_namelen = nms_len,
							.msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		/* a batch per source: many hosts, each at rate / sources */
		i = sendmmsg(f->socks[s], m, FLOOD_BATCH, 0);
		s = (s + 1) % f->n_socks;
		if (i > 0) {
			sent += (uint64_t)i;
			atomic_fetch_add(&flood_sent, (unsigned long)i);
		}
	}
	return NULL;
}

static int issue(struct cyph_ca_signer *s, struct legit *l, uint64_t id, int sock,
		 const uint8_t nms_pub[32])
{
	struct cyph_node_id nid = { .id = id, .role = CYPH_ROLE_NODE };
	char err[512];

	snprintf(nid.fqdn, sizeof(nid.fqdn), "fl%llu.bench.test", (unsigned long long)id);
	l->key = cyph_key_generate();
	if (!l->key || cyph_key_public(l->key, nid.pubkey) ||
	    cyph_ca_issue(s, &nid, proto_now_ms() / 1000, 3600, &l->cert, &l->cert_len, err,
			  sizeof(err))) {
		fprintf(stderr, "issue: %s\n", err);
		return -1;
	}
	l->sock = sock;
	nmsc_init(&l->c, id, l->key, l->cert, l->cert_len, proto_now_ms());
	nmsc_trust_key(&l->c, nms_pub);
	return 0;
}

/* Answers on the legitimate nodes' sockets: registrations and keepalives. */
static void receive(struct legit *n, int count, struct lg_stats *st, int timeout_ms)
{
	struct pollfd p[count];
	uint8_t buf[4096];
	struct nmsc_event ev;
	int i;
	ssize_t len;

	for (i = 0; i < count; i++)
		p[i] = (struct pollfd){ .fd = n[i].sock, .events = POLLIN };
	if (poll(p, (nfds_t)count, timeout_ms) <= 0)
		return;
	for (i = 0; i < count; i++) {
		while ((len = recv(n[i].sock, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			if (nmsc_input(&n[i].c, buf, (size_t)len, proto_now_ms(), 30000, &ev))
				continue;
			if (ev.type == NMSC_EV_COOKIE)	/* registering under load */
				sendto(n[i].sock, buf, nmsc_register(&n[i].c, buf, sizeof(buf),
								     proto_now_ms(), NULL),
				       0, (struct sockaddr *)&nms_sa, nms_len);
			if (ev.type == NMSC_EV_KEEPALIVE && ev.echo_seq == n[i].ka_seq) {
				lg_stats_add(st, lg_now_ns() - n[i].ka_sent_ns);
				n[i].ka_seq = 0;
			}
		}
	}
}

static int register_all(struct legit *n, int count)
{
	uint8_t buf[4096];
	struct lg_stats st = { 0 };
	int i, tries, ok = 0;

	for (tries = 0; tries < 20 && ok < count; tries++) {
		for (i = 0; i < count; i++)
			if (!n[i].c.registered)
				sendto(n[i].sock, buf, nmsc_register(&n[i].c, buf, sizeof(buf),
								     proto_now_ms(), NULL),
				       0, (struct sockaddr *)&nms_sa, nms_len);
		for (i = 0; i < 10; i++)
			receive(n, count, &st, 50);
		for (ok = 0, i = 0; i < count; i++)
			ok += n[i].c.registered;
	}
	lg_stats_reset(&st);
	return ok == count ? 0 : -1;
}

int lg_run_flood(const struct lg_opts *o)
{
	int count = o->nodes, n_src = o->sources, i;
	struct legit *n = calloc((size_t)count + 1, sizeof(*n));
	int *socks = calloc((size_t)n_src, sizeof(int));
	struct cyph_ca_signer *s;
	struct cyph_node_id nid;
	struct lg_stats st = { 0 };
	struct flood_arg fa = { o, NULL, socks, n_src };
	uint8_t *der, buf[512], nms_pub[32];
	size_t der_len;
	char err[512], a[32], extra[160];
	uint64_t lost = 0, sent = 0, t0, next_ns;
	pthread_t th;
	int k = 0;

	s = cyph_ca_signer_load(o->ca_cert, o->ca_key, err, sizeof(err));
	if (!n || !socks || !s || cyph_cert_load(o->nms_cert, &der, &der_len, err, sizeof(err)) ||
	    cyph_cred_parse(der, der_len, &nid, err, sizeof(err)) ||
	    addr_parse_endpoint(o->nms, &nms_sa, &nms_len)) {
		fprintf(stderr, "flood setup: %s\n", s ? err : "CA signer");
		return 1;
	}
	memcpy(nms_pub, nid.pubkey, 32);
	free(der);
	for (i = 0; i < n_src; i++) {
		snprintf(a, sizeof(a), "127.1.%d.%d:0", 1 + i / 250, 1 + i % 250);
		socks[i] = proto_udp_bind_str(a, false, err, sizeof(err));
		if (socks[i] < 0) {
			fprintf(stderr, "flood socket %s: %s\n", a, err);
			return 1;
		}
	}
	for (i = 0; i <= count; i++) {
		int sock = proto_udp_bind_str("127.0.0.1:0", false, err, sizeof(err));

		if (sock < 0 || issue(s, &n[i], 900000 + (uint64_t)i, sock, nms_pub))
			return 1;
	}
	cyph_ca_signer_free(s);
	fa.attacker = &n[count];	/* registered never: its REGISTERs are the flood */
	if (register_all(n, count)) {
		fprintf(stderr, "flood: legitimate nodes did not register\n");
		return 1;
	}
	atomic_store(&flooding, o->rate > 0);
	if (o->rate > 0 && pthread_create(&th, NULL, flood_thread, &fa))
		return 1;
	t0 = lg_now_ns();
	next_ns = t0;
	while (lg_now_ns() - t0 < (uint64_t)(o->seconds * 1e9)) {
		if (lg_now_ns() >= next_ns) {
			struct legit *l = &n[k];

			if (l->ka_seq)		/* unanswered within count/KA_PER_SEC s */
				lost++;
			l->ka_sent_ns = lg_now_ns();
			sendto(l->sock, buf, nmsc_keepalive(&l->c, buf, sizeof(buf), proto_now_ms(),
							    &l->ka_seq),
			       0, (struct sockaddr *)&nms_sa, nms_len);
			sent++;
			k = (k + 1) % count;
			next_ns += 1000000000ULL / KA_PER_SEC;
		}
		receive(n, count, &st, 1);
	}
	atomic_store(&flooding, false);
	if (o->rate > 0)
		pthread_join(th, NULL);
	for (i = 0; i < 20; i++)	/* the last keepalives' answers */
		receive(n, count, &st, 50);
	for (i = 0; i < count; i++)
		lost += n[i].ka_seq != 0;
	snprintf(extra, sizeof(extra), "flood_sent=%lu flood_pps=%.0f keepalives=%llu lost=%llu",
		 atomic_load(&flood_sent), (double)atomic_load(&flood_sent) / o->seconds,
		 (unsigned long long)sent, (unsigned long long)lost);
	st.fail = lost;
	lg_report("nms_flood_keepalive", &st, o->seconds, lg_cpu_seconds(o->pid), extra);
	return 0;
}
