// SPDX-License-Identifier: MIT
/*
 * cyphonic-as: the CYPHONIC Authentication Service.
 *
 * Start-up: flags and config, CA/TLS material (created on first start if
 * allowed), store, CRL, then the TLS listener and the health endpoint on
 * one epoll loop; password checks and signing run on worker threads.
 * SIGTERM/SIGINT drain, SIGHUP reloads (docs/operations.md).
 */
#include "as.h"
#include "ascommon/crlpub.h"
#include "runtime/evloop.h"
#include "runtime/http.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct as_daemon {
	struct cyph_daemon_args args;
	struct as_state st;
	struct cyph_loop *loop;
	struct as_server *srv;
	struct cyph_http *http;
	struct cyph_drain drain;
	struct cyph_timer *crl_timer;
	bool draining;
};

static int load_config(const struct cyph_daemon_args *a, struct cyph_as_config *c,
		       char *err, size_t errlen)
{
	if (cyph_daemon_load_config(a, cyph_as_config_fields, cyph_as_config_nfields, c, err, errlen))
		return -1;
	return cyph_as_config_validate(c, a->config, err, errlen);
}

static int publish_crl(struct as_daemon *d)
{
	struct as_pki *pki = as_pki_get(&d->st);
	char err[512];
	int rc;

	pthread_mutex_lock(&d->st.lock);
	rc = as_publish_crl(&d->st, pki->signer, err, sizeof(err));
	pthread_mutex_unlock(&d->st.lock);
	as_pki_put(&d->st, pki);
	if (rc)
		log_err("CRL: %s", err);
	return rc;
}

static void on_crl_timer(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)loop; (void)t;
	publish_crl(arg);	/* keeps nextUpdate in the future */
}

/* What a reload may not change without a restart. */
static void warn_static(const struct cyph_as_config *old, const struct cyph_as_config *new)
{
	if (strcmp(old->listen.text, new->listen.text))
		log_warn("reload: [as] listen changed: needs a restart");
	if (cyph_as_store_changed(old, new))
		log_warn("reload: [store] changed: needs a restart");
	if (old->workers != new->workers || old->pw_workers != new->pw_workers)
		log_warn("reload: [as] workers or password_workers changed: needs a restart");
	if (strcmp(old->http_listen.text, new->http_listen.text) ||
	    old->http_enabled != new->http_enabled)
		log_warn("reload: [http] changed: needs a restart");
}

static void reload(struct as_daemon *d)
{
	struct cyph_as_config *c = malloc(sizeof(*c));
	struct as_pki *pki = NULL, *old;
	char err[1024];

	if (!c || load_config(&d->args, c, err, sizeof(err)) ||
	    as_pki_prepare(c, err, sizeof(err)) || !(pki = as_pki_load(c, err, sizeof(err)))) {
		log_err("reload failed, keeping the running configuration: %s",
			c ? err : "out of memory");
		cyph_counter_inc(as_m.reload_failed);
		free(c);
		return;
	}
	warn_static(&d->st.cfg, c);
	pthread_mutex_lock(&d->st.lock);
	/* keep what needs a restart, take the rest */
	c->listen = d->st.cfg.listen;
	memcpy(c->store, d->st.cfg.store, sizeof(c->store));
	memcpy(c->store_pg, d->st.cfg.store_pg, sizeof(c->store_pg));
	c->workers = d->st.cfg.workers;
	c->pw_workers = d->st.cfg.pw_workers;
	d->st.cfg = *c;
	old = d->st.pki;
	d->st.pki = pki;
	pthread_mutex_unlock(&d->st.lock);
	as_pki_put(&d->st, old);
	cyph_log_set_level(c->log_level);
	free(c);
	publish_crl(d);
	cyph_counter_inc(as_m.reload_ok);
	log_info("reloaded configuration and certificates");
}

static void on_signal(struct cyph_loop *loop, int signo, void *arg)
{
	struct as_daemon *d = arg;

	if (signo == SIGHUP) {
		reload(d);
		return;
	}
	if (d->draining) {
		log_info("second %s: stopping now", strsignal(signo));
		cyph_loop_stop(loop);
		return;
	}
	d->draining = true;
	log_info("%s: draining (%zu connections, grace %lld ms)", strsignal(signo),
		 as_server_connections(d->srv), d->st.cfg.grace_ms);
	cyph_gauge_set(as_m.draining, 1);
	if (d->http)
		cyph_http_set_draining(d->http, true);
	as_server_drain(d->srv);
	if (cyph_drain_start(&d->drain, loop, (uint64_t)d->st.cfg.grace_ms, as_server_idle,
			     d->srv))
		cyph_loop_stop(loop);
}

static int setup_signals(struct as_daemon *d)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (cyph_loop_on_signal(d->loop, sigs[i], on_signal, d))
			return -1;
	return 0;
}

static int open_state(struct as_daemon *d, char *err, size_t errlen)
{
	pthread_mutex_init(&d->st.lock, NULL);
	if (as_pki_prepare(&d->st.cfg, err, errlen))
		return -1;
	d->st.pki = as_pki_load(&d->st.cfg, err, errlen);
	if (!d->st.pki)
		return -1;
	d->st.store = cyph_as_store_open(&d->st.cfg, err, errlen);
	return d->st.store ? 0 : -1;
}

static int start(struct as_daemon *d, char *err, size_t errlen)
{
	if (open_state(d, err, errlen) || publish_crl(d))
		return -1;
	d->loop = cyph_loop_new();
	if (!d->loop || setup_signals(d)) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	/* signals are blocked before the worker threads start */
	d->srv = as_server_new(d->loop, &d->st, err, errlen);
	if (!d->srv)
		return -1;
	if (d->st.cfg.http_enabled) {
		d->http = cyph_http_listen(d->st.cfg.http_listen.text, err, errlen);
		if (!d->http || cyph_http_attach(d->http, d->loop))
			return -1;
		cyph_http_set_ready(d->http, true);
	}
	d->crl_timer = cyph_loop_add_timer(d->loop, (uint64_t)d->st.cfg.crl_validity_ms / 2,
					   true, on_crl_timer, d);
	return d->crl_timer ? 0 : -1;
}

static void stop(struct as_daemon *d)
{
	if (d->http) {
		cyph_http_detach(d->http);
		cyph_http_free(d->http);
	}
	as_server_free(d->srv);
	if (d->loop) {
		cyph_loop_del_timer(d->loop, d->crl_timer);
		cyph_loop_del_timer(d->loop, d->drain.timer);
	}
	cyph_loop_free(d->loop);
	cyph_store_close(d->st.store);
	if (d->st.pki)
		as_pki_put(&d->st, d->st.pki);
	cyph_daemon_args_free(&d->args);
	cyph_metrics_reset();
}

static int load_initial(void *arg, char *err, size_t errlen)
{
	struct as_daemon *d = arg;

	return load_config(&d->args, &d->st.cfg, err, errlen);
}

int main(int argc, char **argv)
{
	static struct as_daemon d;
	char err[1024];
	int rc;

	rc = cyph_daemon_begin(argc, argv, "cyphonic-as", "CYPHONIC Authentication Service",
			       cyph_as_config_fields, cyph_as_config_nfields, &d.args,
			       load_initial, &d);
	if (rc >= 0)
		return rc;
	cyph_log_set_level(d.st.cfg.log_level);
	if (as_metrics_init() || start(&d, err, sizeof(err))) {
		log_err("%s", err);
		stop(&d);
		return 1;
	}
	log_info("listening on %s (TLS 1.3), domain %s%s%s", d.st.cfg.listen.text, d.st.cfg.domain,
		 d.http ? ", health/metrics on " : "", d.http ? d.st.cfg.http_listen.text : "");
	rc = cyph_loop_run(d.loop);
	if (d.drain.timed_out) {
		/*
		 * Workers may be deep in a KDF; joining them would overrun the
		 * grace period. The store is crash-safe (WAL), so just go.
		 */
		log_warn("grace period over with %zu connections still open: exiting",
			 as_server_connections(d.srv));
		_exit(0);
	}
	log_info("stopped");
	stop(&d);
	return rc ? 1 : 0;
}
