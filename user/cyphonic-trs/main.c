// SPDX-License-Identifier: MIT
/*
 * cyphonic-trs: the Tunnel Relay Service daemon. The main thread runs the
 * event loop (health/metrics, signals, idle expiry, metrics sync); the
 * forwarding threads (io.c) do all packet work on the shared session
 * table (trs_core.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/daemon.h"
#include "runtime/evloop.h"
#include "runtime/http.h"
#include "pki/cred.h"
#include "wire/proto_udp.h"
#include "trsd.h"
#include "trs_sync.h"

struct trsd {
	struct cyph_daemon_args args;
	struct trsd_config cfg;
	struct trs_config tcfg;
	struct trs trs;
	struct trsd_worker *w;
	size_t nw;
	_Atomic bool stop;
	bool draining;
	struct cyph_loop *loop;
	struct cyph_http *http;
	struct cyph_drain drain;
	struct trs_sync *sync;		/* [store] redis set: shared sessions */
	struct cyph_ca *ca;		/* [ca] crl set: revoked nodes */
};

static struct trsd D;

static int load_config(struct trsd_config *c, struct trs_config *tc, char *err,
		       size_t errlen)
{
	if (cyph_daemon_load_config(&D.args, trsd_config_fields, trsd_config_nfields,
				    c, err, errlen))
		return -1;
	return trsd_config_apply(c, D.args.config, tc, err, errlen);
}

static void on_hup(struct cyph_loop *loop, int signo, void *arg)
{
	struct trsd *d = arg;
	struct trsd_config c;
	struct trs_config tc;
	struct cyph_ca *ca = NULL;
	char err[512];

	(void)loop;
	(void)signo;
	if (load_config(&c, &tc, err, sizeof(err)) ||
	    (!(ca = trsd_crl_load(&c, &d->trs, err, sizeof(err))) && err[0])) {
		log_err("reload failed, keeping the old configuration: %s", err);
		trsd_metrics_reload(false);
		return;
	}
	if (!ca && d->ca)	/* [ca] crl removed: nothing is revoked any more */
		trs_set_revoked(&d->trs, NULL, 0, proto_now_ms());
	cyph_ca_free(d->ca);
	d->ca = ca;
	if (c.threads != d->cfg.threads || strcmp(c.listen4.text, d->cfg.listen4.text) ||
	    strcmp(c.listen6.text, d->cfg.listen6.text))
		log_warn("reload: listen addresses and threads change only on restart");
	if (strcmp(c.kv.redis, d->cfg.kv.redis) || strcmp(c.kv.prefix, d->cfg.kv.prefix) ||
	    c.kv.timeout_ms != d->cfg.kv.timeout_ms)
		log_warn("reload: [store] changes only on restart");
	c.kv = d->cfg.kv;
	c.threads = d->cfg.threads;
	c.listen4 = d->cfg.listen4;
	c.listen6 = d->cfg.listen6;
	d->cfg = c;
	d->tcfg = tc;
	trs_set_config(&d->trs, &tc, proto_now_ms());
	cyph_log_set_level(c.log_level);
	trsd_metrics_reload(true);
	log_info("configuration, relay key and CRL reloaded");
}

static void on_tick(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct trsd *d = arg;
	static unsigned int n;

	(void)loop;
	(void)t;
	if (++n % 5 == 0) {
		size_t gone = trs_expire(&d->trs, proto_now_ms());

		if (gone)
			log_debug("%zu idle sessions expired", gone);
	}
	trsd_metrics_sync(&d->trs, d->w, d->nw, d->draining);
	if (d->sync) {
		struct trs_sync_stats st;

		trs_sync_get_stats(d->sync, &st);
		trsd_metrics_store(&st);
	}
}

static void on_crl_poll(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct trsd *d = arg;

	(void)loop;
	(void)t;
	if (d->ca)
		trsd_crl_poll(d->ca, &d->trs);
}

static bool drained(void *arg)
{
	struct trsd *d = arg;

	return trs_sessions(&d->trs) == 0;
}

static void on_term(struct cyph_loop *loop, int signo, void *arg)
{
	struct trsd *d = arg;

	if (d->draining)
		return;
	log_info("%s: draining (%zu sessions; new ones refused, grace %lld ms)",
		 strsignal(signo), trs_sessions(&d->trs), d->cfg.grace_ms);
	d->draining = true;
	atomic_store(&d->trs.draining, true);
	if (d->http)
		cyph_http_set_draining(d->http, true);
	cyph_drain_start(&d->drain, loop, (uint64_t)d->cfg.grace_ms, drained, d);
}

static int setup(struct trsd *d)
{
	char err[512];
	size_t i;

	d->nw = (size_t)d->cfg.threads;
	d->w = calloc(d->nw, sizeof(*d->w));
	d->loop = cyph_loop_new();
	if (!d->w || !d->loop || trs_init(&d->trs, &d->tcfg) || trsd_metrics_init()) {
		log_err("out of memory");
		return -1;
	}
	for (i = 0; i < d->nw; i++) {
		d->w[i].trs = &d->trs;
		d->w[i].stop = &d->stop;
		d->w[i].error_rate = (uint32_t)d->cfg.error_rate;
	}
	d->ca = trsd_crl_load(&d->cfg, &d->trs, err, sizeof(err));
	if (!d->ca && err[0]) {
		log_err("[ca] %s", err);
		return -1;
	}
	if (trsd_workers_open(d->w, d->nw, &d->cfg, err, sizeof(err))) {
		log_err("[trs] listen: %s", err);
		return -1;
	}
	/* Block signals before the threads start so only the loop sees them. */
	if (cyph_loop_on_signal(d->loop, SIGTERM, on_term, d) ||
	    cyph_loop_on_signal(d->loop, SIGINT, on_term, d) ||
	    cyph_loop_on_signal(d->loop, SIGHUP, on_hup, d) ||
	    !cyph_loop_add_timer(d->loop, 200, true, on_tick, d) ||
	    (d->cfg.crl[0] &&
	     !cyph_loop_add_timer(d->loop, (uint64_t)d->cfg.crl_poll_ms, true, on_crl_poll, d))) {
		log_err("event loop setup failed");
		return -1;
	}
	if (cyph_daemon_http(d->loop, d->cfg.http_enabled, d->cfg.http_listen.text, &d->http))
		return -1;
	if (cyph_kv_enabled(&d->cfg.kv)) {
		/* Redis keeps a closed session's windows at least max_skew too. */
		d->sync = trs_sync_start(&d->trs, &d->cfg.kv,
					 d->cfg.idle_ms > d->cfg.skew_ms + 1000 ? d->cfg.idle_ms
									     : d->cfg.skew_ms + 1000,
					 err, sizeof(err));
		if (!d->sync) {
			log_err("[store] %s", err);
			return -1;
		}
		log_info("relay sessions shared in redis %s (prefix %s)", d->cfg.kv.redis,
			 d->cfg.kv.prefix);
	}
	if (trsd_workers_start(d->w, d->nw)) {
		log_err("cannot start forwarding threads");
		return -1;
	}
	if (d->http)
		cyph_http_set_ready(d->http, true);
	log_info("relaying on udp%s%s%s%s (ports %u/%u), %zu threads", d->w[0].fd4 >= 0 ? " " : "",
		 d->w[0].fd4 >= 0 ? d->cfg.listen4.text : "", d->w[0].fd6 >= 0 ? " " : "",
		 d->w[0].fd6 >= 0 ? d->cfg.listen6.text : "",
		 d->w[0].fd4 >= 0 ? proto_udp_port(d->w[0].fd4) : 0,
		 d->w[0].fd6 >= 0 ? proto_udp_port(d->w[0].fd6) : 0, d->nw);
	return 0;
}

static int load_initial(void *arg, char *err, size_t errlen)
{
	struct trsd *d = arg;

	return load_config(&d->cfg, &d->tcfg, err, errlen);
}

int main(int argc, char **argv)
{
	struct trsd *d = &D;
	int rc;

	rc = cyph_daemon_begin(argc, argv, "cyphonic-trs",
		"CYPHONIC Tunnel Relay Service: relays end-to-end encrypted packets",
		trsd_config_fields, trsd_config_nfields, &d->args, load_initial, d);
	if (rc >= 0)
		return rc;
	cyph_log_set_level(d->cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	if (setup(d))
		return 1;
	rc = cyph_loop_run(d->loop);
	atomic_store(&d->stop, true);
	trsd_workers_join(d->w, d->nw);
	trs_sync_stop(d->sync);
	trsd_metrics_sync(&d->trs, d->w, d->nw, d->draining);
	log_info("stopped%s: %zu sessions left", d->drain.timed_out ? " (grace period over)" : "",
		 trs_sessions(&d->trs));
	if (d->http) {
		cyph_http_detach(d->http);
		cyph_http_free(d->http);
	}
	trs_destroy(&d->trs);
	cyph_ca_free(d->ca);
	cyph_loop_free(d->loop);
	free(d->w);
	cyph_daemon_args_free(&d->args);
	return rc ? 1 : 0;
}
