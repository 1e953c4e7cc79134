// SPDX-License-Identifier: MIT
/*
 * cyphonic-nms: the Node Management Service daemon. One event loop
 * (evloop.h) drives the UDP sockets (IPv4 and/or IPv6, batched with
 * recvmmsg/sendmmsg), the protocol engine (nms_core.c), the health and
 * metrics endpoint, the CRL poll, SIGHUP reloads and the SIGTERM drain.
 * Certificate and signature checks of full REGISTERs run on a bounded
 * worker pool (workq.h), so that a flood of them costs the loop a copy
 * and a queue slot each, and keepalives keep their turn.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/cyphonic.h>
#include "client/asclient.h"
#include "kv/kvclient.h"
#include "pki/cred.h"
#include "runtime/daemon.h"
#include "runtime/evloop.h"
#include "runtime/http.h"
#include "runtime/workq.h"
#include "nmsd.h"
#include "wire/proto_udp.h"

#define BATCH 64
#define TX_MAX (BATCH * 3)
#define PKT_MAX 4096

struct tx_slot {
	struct sockaddr_storage to;
	struct iovec iov;
	uint8_t buf[PKT_MAX];
};

struct nmsd {
	struct cyph_daemon_args args;
	struct nmsd_config cfg;
	struct nms_config ncfg;
	struct cyph_loop *loop;
	struct cyph_http *http;
	struct cyph_drain drain;
	bool draining;
	int fd4, fd6;			/* session messages (all, when reg* are -1) */
	int reg4, reg6;			/* full REGISTERs (proto_udp_bind_split) */
	int mapfd;			/* [nms] mapping_listen, -1: none */
	int reply_fd;			/* answers go out here at once, -1: the queues */
	struct nms_store *store;
	struct nms *nms;
	struct cyph_ca *ca;
	struct cyph_workq *wq;		/* full REGISTERs' checks */
	size_t wq_max;			/* jobs queued or running at most */
	/* rx */
	struct mmsghdr rx[BATCH];
	struct iovec rx_iov[BATCH];
	struct sockaddr_storage rx_from[BATCH];
	uint8_t rx_buf[BATCH][PKT_MAX];
	/* tx, per family */
	struct tx_slot *tx[2];
	struct mmsghdr tx_msg[2][TX_MAX];
	unsigned int n_tx[2];
	uint64_t tx_dropped;
	int64_t cert_not_after;		/* 0: no [identity] cert */
	bool warned_expiry;		/* logged that it is near; reset by a reload */
	int64_t boot_ms;		/* in-process store: nothing older is fresh */
	struct nmsd_renewer *renewer;	/* [renew] as: its own certificate */
};

static struct nmsd D;

/* ---- engine callbacks ------------------------------------------------------- */

/* With a given CA: a worker's counted reference (nms_job), any thread. */
static int verify_with(void *arg, const uint8_t *der, size_t len, int64_t now,
		       struct nms_ident *out, char *err, size_t errlen)
{
	struct cyph_ca *ca = arg;
	struct cyph_node_id id;

	if (cyph_cred_verify(ca, der, len, now, &id, err, errlen)) {
		log_debug("certificate refused: %s", err);
		if (strstr(err, "revoked"))
			return PROTO_E_REVOKED;
		if (strstr(err, "expired"))
			return PROTO_E_CERT_EXPIRED;
		return PROTO_E_BAD_CERT;
	}
	memset(out, 0, sizeof(*out));
	out->id = id.id;
	memcpy(out->fqdn, id.fqdn, sizeof(out->fqdn));
	out->role = id.role;
	out->vip4 = id.vip4;
	out->vip6 = id.vip6;
	out->has_vip4 = id.has_vip4;
	out->has_vip6 = id.has_vip6;
	memcpy(out->pubkey, id.pubkey, 32);
	out->not_after = id.not_after;
	out->policy = id.policy;
	return PROTO_E_OK;
}

/* With the current CA: the loop's thread. */
static int verify_cert(void *arg, const uint8_t *der, size_t len, int64_t now,
		       struct nms_ident *out, char *err, size_t errlen)
{
	struct nmsd *d = arg;

	return verify_with(d->ca, der, len, now, out, err, errlen);
}

static void flush(struct nmsd *d, int fam)
{
	d->tx_dropped += proto_udp_send_batch(fam ? d->fd6 : d->fd4, d->tx_msg[fam],
					      d->n_tx[fam]);
	d->n_tx[fam] = 0;
}

static void queue_send(void *arg, const struct proto_ep *to, const uint8_t *pkt,
		       size_t len)
{
	struct nmsd *d = arg;
	int fam = to->family == 6;
	struct tx_slot *s;
	struct mmsghdr *m;

	if (d->reply_fd >= 0) {	/* the mapping port answers from itself */
		struct sockaddr_storage sa;
		socklen_t salen = proto_ep_to_sa(to, &sa);

		if (sendto(d->reply_fd, pkt, len, 0, (struct sockaddr *)&sa, salen) < 0)
			d->tx_dropped++;
		return;
	}
	if ((fam ? d->fd6 : d->fd4) < 0 || len > PKT_MAX) {
		d->tx_dropped++;
		return;
	}
	if (d->n_tx[fam] == TX_MAX)
		flush(d, fam);
	s = &d->tx[fam][d->n_tx[fam]];
	m = &d->tx_msg[fam][d->n_tx[fam]++];
	memcpy(s->buf, pkt, len);
	s->iov.iov_base = s->buf;
	s->iov.iov_len = len;
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = &s->to;
	m->msg_hdr.msg_namelen = proto_ep_to_sa(to, &s->to);
	m->msg_hdr.msg_iov = &s->iov;
	m->msg_hdr.msg_iovlen = 1;
}

/* ---- the worker pool ------------------------------------------------------------ */

/*
 * Workers run at the loop's priority: the loop needs a tenth of a core
 * under a flood and sleeps between batches, so the scheduler lets it in
 * ahead of busy workers anyway; a lower priority only starved the checks
 * behind every other process on a shared machine.
 */
static void job_work(void *arg)
{
	nms_job_work(arg);
}

static void job_done(void *arg)
{
	struct nms_job *j = arg;
	struct cyph_ca *ca = j->verify_arg;

	nms_job_done(D.nms, j, proto_now_ms());
	cyph_ca_free(ca);	/* the job's reference */
	if (D.n_tx[0])
		flush(&D, 0);
	if (D.n_tx[1])
		flush(&D, 1);
}

/*
 * A full REGISTER past the cheap checks. The job verifies with the CA of
 * now, which a SIGHUP may replace before it runs: it holds a reference
 * (and the engine re-checks at done time if the CRL generation moved).
 */
static bool offload(void *arg, struct nms_job *j)
{
	struct nmsd *d = arg;

	if (cyph_workq_pending(d->wq) >= d->wq_max)
		return false;
	j->verify = verify_with;
	j->verify_arg = cyph_ca_ref(d->ca);
	if (cyph_workq_submit(d->wq, job_work, job_done, j)) {
		cyph_ca_free(j->verify_arg);
		return false;
	}
	return true;
}

/* ---- I/O ------------------------------------------------------------------------ */

/* One recvmmsg batch from fd through the engine; returns the count. */
static int rx_batch(struct nmsd *d, int fd)
{
	int i, n;

	for (i = 0; i < BATCH; i++) {
		d->rx_iov[i].iov_base = d->rx_buf[i];
		d->rx_iov[i].iov_len = PKT_MAX;
		d->rx[i].msg_hdr.msg_name = &d->rx_from[i];
		d->rx[i].msg_hdr.msg_namelen = sizeof(d->rx_from[i]);
		d->rx[i].msg_hdr.msg_iov = &d->rx_iov[i];
		d->rx[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(fd, d->rx, BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	int64_t now = proto_now_ms();
	const uint8_t *pkts[BATCH];
	size_t lens[BATCH];

	/* A shared store: the batch's records in one round trip. */
	for (i = 0; i < n; i++) {
		pkts[i] = d->rx_buf[i];
		lens[i] = d->rx[i].msg_len;
	}
	nms_batch_begin(d->nms, pkts, lens, (size_t)n, now);
	for (i = 0; i < n; i++) {
		struct proto_ep from;
		uint64_t t0 = cyph_metrics_now_ns();
		const uint8_t *p = d->rx_buf[i];
		size_t len = d->rx[i].msg_len;

		if (proto_ep_from_sa(&from, (struct sockaddr *)&d->rx_from[i]))
			continue;
		nms_input(d->nms, p, len, &from, now);
		if (len > 2 && p[0] == CYPHONIC_MSG_SIGNAL)
			nmsd_metrics_latency(p[2], t0);
	}
	nms_batch_end(d->nms);	/* the batch's writes are in the store before its answers go */
	flush(d, 0);
	flush(d, 1);
	return n;
}

/* Up to 16 full batches, then timers get their turn. */
static void drain_fd(struct nmsd *d, int fd)
{
	int rounds = 0;

	/*
	 * Then timers and /readyz get their turn: 16 batches (1024 requests,
	 * each with Redis round trips) took seconds of wall time at a 0.15
	 * CPU quota, and a readiness probe that late withdrew the replica.
	 */
	while (rx_batch(d, fd) == BATCH && ++rounds < 4)
		;
}

/* Session messages (and everything else when the port is not split). */
static void on_udp(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)events;
	drain_fd(arg, fd);
}

/*
 * The mapping port: MAPPING requests only (anything else is not for it),
 * answered from this socket, so the answer reaches a NAT mapping that
 * exists only towards this port (a symmetric NAT's).
 */
static void on_udp_mapping(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	struct nmsd *d = arg;
	struct sockaddr_storage sa;
	uint8_t buf[PKT_MAX];
	struct proto_ep from;
	socklen_t salen;
	ssize_t n;
	int i;

	(void)loop;
	(void)events;
	for (i = 0; i < BATCH; i++) {
		salen = sizeof(sa);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sa, &salen);
		if (n <= 0)
			return;
		if (n < 3 || buf[0] != CYPHONIC_MSG_SIGNAL || buf[2] != PROTO_OP_MAPPING ||
		    proto_ep_from_sa(&from, (struct sockaddr *)&sa))
			continue;
		d->reply_fd = fd;
		nms_input(d->nms, buf, (size_t)n, &from, proto_now_ms());
		d->reply_fd = -1;
	}
}

/*
 * The full-REGISTER socket of a split port (proto_udp_bind_split): one
 * batch at a time, each after the session socket of its family is
 * drained, so a flood here never delays a keepalive more than one batch.
 */
static void on_udp_register(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	struct nmsd *d = arg;

	(void)loop;
	(void)events;
	drain_fd(d, fd == d->reg6 ? d->fd6 : d->fd4);
	rx_batch(d, fd);
}

/* ---- identity, CA, config ------------------------------------------------------ */

static void identity_in_use(struct nmsd *d, int64_t not_after)
{
	d->cert_not_after = not_after;
	d->warned_expiry = false;
	if (d->renewer && not_after)
		nmsd_renewer_plan(d->renewer, proto_now_ms(), not_after);
}

static int load_identity(struct nmsd *d, struct nms *n, struct cyph_ca *ca, char *err,
			 size_t errlen)
{
	int64_t not_after = 0;
	EVP_PKEY *key = cyph_key_load(d->cfg.key, err, errlen);
	uint8_t *cert = NULL;
	size_t cert_len = 0;
	int rc;

	if (!key)
		return -1;
	if (d->cfg.cert[0] &&
	    (cyph_cert_load(d->cfg.cert, &cert, &cert_len, err, errlen) ||
	     nmsd_identity_check(ca, key, cert, cert_len, proto_now_ms() / 1000, &not_after,
				 err, errlen))) {
		EVP_PKEY_free(key);
		free(cert);
		return -1;
	}
	rc = nms_set_identity(n, key, cert, cert_len);
	EVP_PKEY_free(key);
	free(cert);
	if (rc)
		snprintf(err, errlen, "out of memory");
	else
		identity_in_use(d, not_after);
	return rc;
}

/*
 * A renewed identity (renew.c), on the loop's thread: checked as one from
 * the files is, used from the next datagram on, then written over the
 * [identity] files (key first: a crash in between leaves a pair that does
 * not match, which the next start renews). A read-only file (a mounted
 * Secret) only costs a renewal at the next start.
 */
static int renew_apply(void *arg, EVP_PKEY *key, const uint8_t *cert, size_t len, char *err,
		       size_t errlen)
{
	struct nmsd *d = arg;
	int64_t not_after;
	char werr[512];

	if (nmsd_identity_check(d->ca, key, cert, len, proto_now_ms() / 1000, &not_after, err,
				errlen))
		return -1;
	if (nms_set_identity(d->nms, key, cert, len)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	identity_in_use(d, not_after);
	if (d->http && !d->draining)
		cyph_http_set_ready(d->http, true);
	if (cyph_key_save(key, d->cfg.key, werr, sizeof(werr)) ||
	    cyph_cert_save(d->cfg.cert, cert, len, werr, sizeof(werr)))
		log_warn("renewed certificate in use but not saved: %s", werr);
	log_info("NMS certificate renewed at the AS, valid until %lld", (long long)not_after);
	return 0;
}

/*
 * At start, an identity that cannot be used (expired, missing, not
 * matching its key) is renewed at once when [renew] is set: the NMS
 * becomes ready with the new one or not at all.
 */
static int renew_at_start(struct nmsd *d, char *err, size_t errlen)
{
	struct cyph_as_credential cred;
	EVP_PKEY *key;
	int rc;

	if (!d->cfg.renew_as.len)
		return -1;
	log_warn("%s: renewing at the AS %s", err, d->cfg.renew_as.text);
	rc = nmsd_renew_login(&d->cfg, &key, &cred, err, errlen);
	if (!rc)
		rc = renew_apply(d, key, cred.cert, cred.cert_len, err, errlen);
	nmsd_metrics_renewal(!rc);
	EVP_PKEY_free(key);
	cyph_as_credential_free(&cred);
	return rc ? -1 : 0;
}

static struct cyph_ca *load_ca(const struct nmsd_config *c, char *err, size_t errlen)
{
	struct cyph_ca *ca = cyph_ca_load(c->ca_cert, err, errlen);

	if (ca && c->crl[0] && cyph_ca_load_crl(ca, c->crl)) {
		snprintf(err, errlen, "%s", cyph_ca_error(ca));
		cyph_ca_free(ca);
		return NULL;
	}
	return ca;
}

static int load_config(struct nmsd_config *c, struct nms_config *nc, char *err,
		       size_t errlen)
{
	if (cyph_daemon_load_config(&D.args, nmsd_config_fields, nmsd_config_nfields,
				    c, err, errlen))
		return -1;
	return nmsd_config_apply(c, D.args.config, nc, err, errlen);
}

/* SIGHUP: everything or nothing. Listen addresses need a restart. */
static void on_hup(struct cyph_loop *loop, int signo, void *arg)
{
	struct nmsd *d = arg;
	struct nmsd_config c;
	struct nms_config nc;
	struct cyph_ca *ca;
	char err[512];

	(void)loop;
	(void)signo;
	if (load_config(&c, &nc, err, sizeof(err)) ||
	    !(ca = load_ca(&c, err, sizeof(err)))) {
		log_err("reload failed, keeping the old configuration: %s", err);
		nmsd_metrics_reload(false);
		return;
	}
	struct nmsd_config old = d->cfg;

	if (strcmp(c.kv.redis, old.kv.redis) || strcmp(c.kv.prefix, old.kv.prefix) ||
	    c.kv.timeout_ms != old.kv.timeout_ms)
		log_warn("reload: [store] changes only on restart");
	c.kv = old.kv;
	d->cfg = c;
	if (load_identity(d, d->nms, ca, err, sizeof(err))) {
		d->cfg = old;
		cyph_ca_free(ca);
		log_err("reload failed, keeping the old identity: %s", err);
		nmsd_metrics_reload(false);
		return;
	}
	cyph_ca_free(d->ca);
	d->ca = ca;
	nc.boot_ms = d->boot_ms;
	d->ncfg = nc;
	nms_set_config(d->nms, &nc);
	cyph_log_set_level(c.log_level);
	nms_recheck(d->nms, proto_now_ms());
	nmsd_metrics_reload(true);
	log_info("configuration, identity, CA and CRL reloaded");
}

/* ---- timers and drain ------------------------------------------------------------ */

/*
 * The NMS renews its own certificate when [renew] is set (renew.c), else
 * an operator job does and sends SIGHUP (docs/protocol.md 12). Either
 * way its time left is a metric, a warning when RENEW_WARN_S remain, and
 * at expiry /readyz says not ready (nodes would refuse every
 * REGISTER_ACK it signs) until a renewal or a reload brings a valid one.
 */
#define RENEW_WARN_S 600

static void identity_watch(struct nmsd *d, int64_t left)
{
	nmsd_metrics_identity(left);
	/* with [renew], each failed try is logged: only expiry is news */
	if (!d->warned_expiry && (left <= 0 || (left <= RENEW_WARN_S && !d->renewer))) {
		log_warn("[identity] cert %s: %s",
			 left > 0 ? "expires in less than 10 minutes" : "has expired",
			 d->cfg.renew_as.len ? "renewing has not worked yet"
					     : "renew it and send SIGHUP");
		d->warned_expiry = true;
	}
	if (d->http && !d->draining)
		cyph_http_set_ready(d->http, left > 0);
}

static void on_tick(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct nmsd *d = arg;

	(void)loop;
	(void)t;
	nms_tick(d->nms, proto_now_ms());
	nmsd_renewer_tick(d->renewer, &d->cfg, proto_now_ms());
	if (d->cert_not_after)
		identity_watch(d, d->cert_not_after - proto_now_ms() / 1000);
	nmsd_metrics_rx_drops(proto_udp_rx_drops(d->fd4) + proto_udp_rx_drops(d->fd6),
			      proto_udp_rx_drops(d->reg4) + proto_udp_rx_drops(d->reg6));
	if (d->wq)
		nmsd_metrics_verify_queue(cyph_workq_pending(d->wq));
	flush(d, 0);
	flush(d, 1);
	nmsd_metrics_sync(d->nms, d->draining, d->tx_dropped);
}

static void on_crl_poll(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct nmsd *d = arg;
	int rc;

	(void)loop;
	(void)t;
	rc = cyph_ca_crl_refresh(d->ca);
	if (rc == 1) {
		log_info("CRL reloaded (%zu revoked); re-checking registrations",
			 cyph_ca_crl_count(d->ca));
		nms_recheck(d->nms, proto_now_ms());
	} else if (rc < 0) {
		log_warn("CRL reload failed, keeping the old one: %s", cyph_ca_error(d->ca));
	}
}

static bool drained(void *arg)
{
	struct nmsd *d = arg;

	return nms_pending_notifies(d->nms) == 0;
}

static void on_term(struct cyph_loop *loop, int signo, void *arg)
{
	struct nmsd *d = arg;

	if (d->draining)
		return;
	log_info("%s: draining (new registrations refused, grace %lld ms)",
		 strsignal(signo), d->cfg.grace_ms);
	d->draining = true;
	nms_set_draining(d->nms, true);
	if (d->http)
		cyph_http_set_draining(d->http, true);
	cyph_drain_start(&d->drain, loop, (uint64_t)d->cfg.grace_ms, drained, d);
}

/* ---- start-up ------------------------------------------------------------------- */

/*
 * The port's sockets: a split pair (session messages, full REGISTERs) when
 * the kernel takes the steering program, else one socket (*reg = -1).
 */
static int open_socket(const struct cyph_cfg_addr *a, const char *what, int *reg)
{
	char err[256];
	int fds[2];

	*reg = -1;
	if (!a->len)
		return -1;
	if (!proto_udp_bind_split((const struct sockaddr *)&a->ss, a->len, fds, err,
				  sizeof(err))) {
		*reg = fds[1];
		log_info("listening on udp %s (port %u; full REGISTERs on a queue of their own)",
			 a->text, proto_udp_port(fds[0]));
		return fds[0];
	}
	log_warn("%s: no separate queue for full REGISTERs (%s)", what, err);
	fds[0] = proto_udp_bind((const struct sockaddr *)&a->ss, a->len, false, err, sizeof(err));
	if (fds[0] < 0) {
		log_err("%s: %s", what, err);
		exit(1);
	}
	log_info("listening on udp %s (port %u)", a->text, proto_udp_port(fds[0]));
	return fds[0];
}

/* Redis when [store] redis is set (replicas), else in this process. */
static struct nms_store *open_store(const struct nmsd_config *c, char *err, size_t errlen)
{
	struct cyph_kv *kv;
	struct nms_store *s;

	if (!cyph_kv_enabled(&c->kv)) {
		s = nms_store_mem_new((size_t)c->max_registrations);
		if (!s)
			snprintf(err, errlen, "out of memory");
		return s;
	}
	kv = cyph_kv_open(&c->kv, "nms store", err, errlen);
	if (!kv)
		return NULL;
	/* Records outlive their expiry by the timestamp window, as tombstones do. */
	s = nms_store_redis_new(kv, (size_t)c->max_registrations, 2 * c->skew_ms);
	if (!s)
		snprintf(err, errlen, "out of memory");
	else
		log_info("registrations in redis %s (prefix %s)", c->kv.redis, c->kv.prefix);
	return s;
}

static int setup(struct nmsd *d)
{
	char err[512];

	d->ca = load_ca(&d->cfg, err, sizeof(err));
	if (!d->ca) {
		log_err("%s", err);
		return -1;
	}
	d->store = open_store(&d->cfg, err, sizeof(err));
	if (!d->store) {
		log_err("[store] %s", err);
		return -1;
	}
	/*
	 * Boot epoch: the in-process replay windows die with the process, so
	 * nothing timestamped before this start is accepted (nodes notice the
	 * restart by NOT_REGISTERED and re-register anyway). Redis keeps the
	 * replay claims across restarts and replicas: no epoch needed there.
	 */
	if (!cyph_kv_enabled(&d->cfg.kv))
		d->boot_ms = proto_now_ms();
	d->ncfg.boot_ms = d->boot_ms;
	d->nms = d->store ? nms_new(&d->ncfg, d->store, verify_cert, d, queue_send, d) : NULL;
	d->tx[0] = calloc(TX_MAX, sizeof(struct tx_slot));
	d->tx[1] = calloc(TX_MAX, sizeof(struct tx_slot));
	d->loop = cyph_loop_new();
	if (!d->nms || !d->tx[0] || !d->tx[1] || !d->loop || nmsd_metrics_init()) {
		log_err("out of memory");
		return -1;
	}
	if (d->cfg.renew_as.len && !(d->renewer = nmsd_renewer_new(d->loop, renew_apply, d))) {
		log_err("renewal thread: %s", strerror(errno));
		return -1;
	}
	if (load_identity(d, d->nms, d->ca, err, sizeof(err)) &&
	    renew_at_start(d, err, sizeof(err))) {
		log_err("not starting: %s", err);
		return -1;
	}
	if (d->cfg.verify_workers) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		unsigned int nw = d->cfg.verify_workers > 0 ? (unsigned int)d->cfg.verify_workers
							    : (unsigned int)(cpus > 0 ? cpus : 1);

		d->wq = cyph_workq_new(d->loop, nw);
		if (!d->wq) {
			log_err("worker threads: %s", strerror(errno));
			return -1;
		}
		d->wq_max = (size_t)d->cfg.verify_queue;
		nms_set_offload(d->nms, offload, d);
		log_info("signature checks on %u worker threads (queue %zu)", nw, d->wq_max);
	}
	d->fd4 = open_socket(&d->cfg.listen4, "[nms] listen", &d->reg4);
	d->fd6 = open_socket(&d->cfg.listen6, "[nms] listen6", &d->reg6);
	d->reply_fd = d->mapfd = -1;
	if (d->cfg.mapping_listen.len) {
		char err[256];

		d->mapfd = proto_udp_bind((const struct sockaddr *)&d->cfg.mapping_listen.ss,
					  d->cfg.mapping_listen.len, false, err, sizeof(err));
		if (d->mapfd < 0) {
			log_err("[nms] mapping_listen: %s", err);
			return -1;
		}
		log_info("mapping port: udp %s", d->cfg.mapping_listen.text);
	}
	if ((d->fd4 >= 0 && cyph_loop_add_fd(d->loop, d->fd4, EPOLLIN, on_udp, d)) ||
	    (d->fd6 >= 0 && cyph_loop_add_fd(d->loop, d->fd6, EPOLLIN, on_udp, d)) ||
	    (d->reg4 >= 0 && cyph_loop_add_fd(d->loop, d->reg4, EPOLLIN, on_udp_register, d)) ||
	    (d->reg6 >= 0 && cyph_loop_add_fd(d->loop, d->reg6, EPOLLIN, on_udp_register, d)) ||
	    (d->mapfd >= 0 && cyph_loop_add_fd(d->loop, d->mapfd, EPOLLIN, on_udp_mapping, d)) ||
	    cyph_loop_on_signal(d->loop, SIGTERM, on_term, d) ||
	    cyph_loop_on_signal(d->loop, SIGINT, on_term, d) ||
	    cyph_loop_on_signal(d->loop, SIGHUP, on_hup, d) ||
	    !cyph_loop_add_timer(d->loop, 200, true, on_tick, d) ||
	    (d->cfg.crl[0] &&
	     !cyph_loop_add_timer(d->loop, (uint64_t)d->cfg.crl_poll_ms, true, on_crl_poll, d))) {
		log_err("event loop: %s", strerror(errno));
		return -1;
	}
	if (cyph_daemon_http(d->loop, d->cfg.http_enabled, d->cfg.http_listen.text, &d->http))
		return -1;
	if (d->http)
		cyph_http_set_ready(d->http, true);
	return 0;
}

static int load_initial(void *arg, char *err, size_t errlen)
{
	struct nmsd *d = arg;

	return load_config(&d->cfg, &d->ncfg, err, errlen);
}

int main(int argc, char **argv)
{
	struct nmsd *d = &D;
	int rc;

	rc = cyph_daemon_begin(argc, argv, "cyphonic-nms",
		"CYPHONIC Node Management Service: registration, keepalive, route direction",
		nmsd_config_fields, nmsd_config_nfields, &d->args, load_initial, d);
	if (rc >= 0)
		return rc;
	cyph_log_set_level(d->cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	if (setup(d))
		return 1;
	log_info("ready: lifetime %us keepalive %us relay %s%s%s",
		 d->ncfg.lifetime_s, d->ncfg.keepalive_s,
		 d->cfg.relay4.len ? d->cfg.relay4.text : "",
		 d->cfg.relay4.len && d->cfg.relay6.len ? " " : "",
		 d->cfg.relay6.len ? d->cfg.relay6.text : (d->cfg.relay4.len ? "" : "none"));
	rc = cyph_loop_run(d->loop);
	cyph_workq_free(d->wq);	/* finishes the queued REGISTERs first */
	nmsd_renewer_free(d->renewer);
	nmsd_metrics_sync(d->nms, d->draining, d->tx_dropped);
	log_info("stopped%s: %zu registrations, %zu notifications pending",
		 d->drain.timed_out ? " (grace period over)" : "",
		 nms_active(d->nms), nms_pending_notifies(d->nms));
	if (d->http) {
		cyph_http_detach(d->http);
		cyph_http_free(d->http);
	}
	nms_free(d->nms);
	d->store->ops->destroy(d->store);
	cyph_ca_free(d->ca);
	cyph_loop_free(d->loop);
	free(d->tx[0]);
	free(d->tx[1]);
	cyph_daemon_args_free(&d->args);
	return rc ? 1 : 0;
}
