// SPDX-License-Identifier: MIT
/*
 * cyphonicd: the CYPHONIC node daemon. Start-up order: configuration,
 * credential (AS), kernel device and sockets, address monitor, metrics,
 * NMS registration; then the event loop. Teardown runs the same steps
 * backwards, so SIGTERM leaves no kernel state behind.
 *
 * The loop's thread owns all state; the one blocking job (an AS login for
 * a renewal) runs on a worker thread with a copy of the configuration.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/cyphonic.h>
#include "kernel/udppair.h"
#include "pki/cred.h"
#include "runtime/evloop.h"
#include "runtime/http.h"
#include "runtime/sdnotify.h"
#include "runtime/workq.h"
#include "cyphonicd.h"

#define RENEW_RETRY_S 30

static struct cyd D;

static int load_config(struct cyd_config *c, char *err, size_t errlen)
{
	if (cyph_daemon_load_config(&D.args, cyd_config_fields, cyd_config_nfields, c,
				    err, errlen))
		return -1;
	return cyd_config_check(c, D.args.config, err, errlen);
}

static int load_initial(void *arg, char *err, size_t errlen)
{
	struct cyd *d = arg;

	return load_config(&d->cfg, err, errlen);
}

/* ---- datagrams the kernel passes up (everything but DATA) ---- */

static void on_udp(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cyd *d = arg;
	struct sockaddr_storage from;
	socklen_t flen;
	uint8_t buf[4096];
	ssize_t n;

	(void)loop;
	(void)events;
	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n <= 0)
			return;
		if (buf[0] == CYPHONIC_MSG_SIGNAL && fd == d->reg.fd &&
		    cyd_nat_input(&d->nat, buf, (size_t)n))
			;	/* the mapping port's answer (nattype.c) */
		else if (buf[0] == CYPHONIC_MSG_SIGNAL && fd == d->reg.fd)
			cyd_reg_input(cyd_adapter_signal_reg(&d->adapter, buf, (size_t)n) ?:
				      &d->reg, buf, (size_t)n);
		else if (buf[0] == CYPHONIC_MSG_HANDSHAKE)
			cyd_tunnels_input(&d->tun, fd, buf, (size_t)n, &from, flen);
		else if (buf[0] == CYPHONIC_MSG_RELAY_CTRL)
			cyd_relay_ctrl_input(&d->tun, buf, (size_t)n);
		else
			log_debug("ignored a type %u datagram", buf[0]);
	}
}

static void on_addr_event(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	struct cyd *d = arg;

	(void)loop;
	(void)fd;
	(void)events;
	if (cyd_location_events(&d->loc) && cyd_location_refresh(&d->loc) == 1) {
		log_info("addresses changed: %u usable, re-registering", d->loc.n);
		cyd_reg_location_changed(&d->reg, d->loc.changed_ms);
		cyd_adapter_location_changed(&d->adapter, d->loc.changed_ms);
	}
}

/* ---- credential renewal on a worker thread ---- */

struct renewal {
	struct cyd *d;
	struct cyd_config cfg;
	struct cyd_cred cred;
	int rc;
	char err[512];
};

static void renew_work(void *arg)
{
	struct renewal *job = arg;

	job->rc = cyd_cred_login(&job->cfg, &job->cred, job->err, sizeof(job->err));
}

static void renew_done(void *arg)
{
	struct renewal *job = arg;
	struct cyd *d = job->d;
	int64_t now = time(NULL);

	d->renewing = false;
	cyd_metrics_credential(!job->rc, job->cred.not_after);
	if (job->rc) {
		log_err("credential renewal failed, retrying in %d s: %s", RENEW_RETRY_S, job->err);
		d->cred.renew_at = now + RENEW_RETRY_S;
	} else if (!d->stopping) {
		log_info("credential renewed: valid until %lld, next renewal at %lld",
			 (long long)job->cred.not_after, (long long)job->cred.renew_at);
		cyd_cred_free(&d->cred);
		d->cred = job->cred;
		memset(&job->cred, 0, sizeof(job->cred));
		cyd_reg_new_credential(&d->reg);
		cyd_tunnels_new_credential(&d->tun);
	}
	cyd_cred_free(&job->cred);
	free(job);
}

/* Once a second: a changed CRL is re-read, and revoked peers lose their tunnels. */
static void crl_poll(struct cyd *d)
{
	int rc = d->ca ? cyph_ca_crl_refresh(d->ca) : 0;

	if (rc == 1) {
		log_info("CRL reloaded: %zu revoked", cyph_ca_crl_count(d->ca));
		cyd_tunnels_revoked(&d->tun);
	} else if (rc < 0) {
		log_warn("CRL reload failed, keeping the old one: %s", cyph_ca_error(d->ca));
	}
}

static void on_tick(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct cyd *d = arg;
	struct renewal *job;

	(void)loop;
	(void)t;
	crl_poll(d);
	if (d->renewing || d->stopping || time(NULL) < d->cred.renew_at)
		return;
	job = calloc(1, sizeof(*job));
	if (!job)
		return;
	job->d = d;
	job->cfg = d->cfg;
	d->renewing = true;
	log_info("renewing the credential (expires at %lld)", (long long)d->cred.not_after);
	if (cyph_workq_submit(d->wq, renew_work, renew_done, job)) {
		d->renewing = false;
		free(job);
	}
}

/* ---- signals ---- */

static void on_hup(struct cyph_loop *loop, int signo, void *arg)
{
	struct cyd *d = arg;
	struct cyd_config c;
	char err[1024];
	bool nms_changed;

	(void)loop;
	(void)signo;
	cyph_sd_notify("RELOADING=1");
	if (load_config(&c, err, sizeof(err))) {
		log_err("reload failed, keeping the old configuration: %s", err);
		cyd_metrics_reload(false);
		cyph_sd_notify("READY=1");
		return;
	}
	if (strcmp(c.device, d->cfg.device) || c.port != d->cfg.port ||
	    strcmp(c.state_dir, d->cfg.state_dir) ||
	    strcmp(c.runtime_dir, d->cfg.runtime_dir) || c.prefix4 != d->cfg.prefix4 ||
	    c.prefix6 != d->cfg.prefix6 || c.http_enabled != d->cfg.http_enabled ||
	    c.dns_enabled != d->cfg.dns_enabled || strcmp(c.dns_listen.text, d->cfg.dns_listen.text) ||
	    strcmp(c.resolver, d->cfg.resolver) || strcmp(c.resolv_conf, d->cfg.resolv_conf) ||
	    strcmp(c.stub_listen.text, d->cfg.stub_listen.text) ||
	    strcmp(c.http_listen.text, d->cfg.http_listen.text) || strcmp(c.name, d->cfg.name) ||
	    strcmp(c.as_ca, d->cfg.as_ca) || strcmp(c.crl, d->cfg.crl))
		log_warn("reload: [node] device/port/state_dir/runtime_dir/prefix*, [as] name and ca, "
			 "[as] crl, [dns] and [http] change only on restart");
	memcpy(c.device, d->cfg.device, sizeof(c.device));
	memcpy(c.state_dir, d->cfg.state_dir, sizeof(c.state_dir));
	memcpy(c.runtime_dir, d->cfg.runtime_dir, sizeof(c.runtime_dir));
	memcpy(c.name, d->cfg.name, sizeof(c.name));
	memcpy(c.as_ca, d->cfg.as_ca, sizeof(c.as_ca));
	memcpy(c.crl, d->cfg.crl, sizeof(c.crl));
	c.port = d->cfg.port;
	c.prefix4 = d->cfg.prefix4;
	c.prefix6 = d->cfg.prefix6;
	c.http_enabled = d->cfg.http_enabled;
	c.http_listen = d->cfg.http_listen;
	c.dns_enabled = d->cfg.dns_enabled;
	c.dns_listen = d->cfg.dns_listen;
	memcpy(c.resolver, d->cfg.resolver, sizeof(c.resolver));
	memcpy(c.resolv_conf, d->cfg.resolv_conf, sizeof(c.resolv_conf));
	c.stub_listen = d->cfg.stub_listen;
	if (!cyd_adapter_config_equal(&c.adapter, &d->cfg.adapter))
		log_warn("reload: [adapter] changes only on restart");
	c.adapter = d->cfg.adapter;
	nms_changed = strcmp(c.nms_addr.text, d->cfg.nms_addr.text) ||
		      strcmp(c.nms_name, d->cfg.nms_name) || strcmp(c.domain, d->cfg.domain);
	d->cfg = c;
	cyph_log_set_level(c.log_level);
	d->cred.renew_at = cyd_cred_renew_time(time(NULL), d->cred.not_after,
					       c.renew_before_ms / 1000);
	if (nms_changed) {
		cyd_reg_stop(&d->reg);
		if (cyd_reg_start(&d->reg, d, err, sizeof(err)))
			log_err("reload: NMS: %s", err);
	}
	cyd_adapter_reload(&d->adapter);
	cyd_metrics_reload(true);
	log_info("configuration reloaded%s", nms_changed ? " (NMS settings changed)" : "");
	cyph_sd_notify("READY=1");
}

static void on_term(struct cyph_loop *loop, int signo, void *arg)
{
	struct cyd *d = arg;

	log_info("%s: stopping", strsignal(signo));
	d->stopping = true;
	cyph_sd_notify("STOPPING=1");
	cyph_loop_stop(loop);
}

/* ---- start and stop ---- */

static int watch(struct cyd *d, int fd, cyph_fd_cb cb)
{
	return fd < 0 ? 0 : cyph_loop_add_fd(d->loop, fd, EPOLLIN, cb, d);
}

static int setup(struct cyd *d)
{
	char err[1024];

	d->loop = cyph_loop_new();
	if (!d->loop || cyd_metrics_init() ||
	    cyph_loop_on_signal(d->loop, SIGTERM, on_term, d) ||
	    cyph_loop_on_signal(d->loop, SIGINT, on_term, d) ||
	    cyph_loop_on_signal(d->loop, SIGHUP, on_hup, d)) {
		log_err("event loop setup failed");
		return -1;
	}
	/* Signals are blocked before the worker thread starts. */
	d->wq = cyph_workq_new(d->loop, 1);
	if (!d->wq) {
		log_err("out of memory");
		return -1;
	}
	if (cyd_cred_obtain(&d->cfg, &d->cred, err, sizeof(err))) {
		cyd_metrics_credential(false, 0);
		log_err("[as] login as %s at %s: %s", d->cfg.name, d->cfg.as_addr.text, err);
		return -1;
	}
	cyd_metrics_credential(true, d->cred.not_after);
	log_info("node %s (id %llu), credential valid until %lld, renewal at %lld",
		 d->cred.fqdn, (unsigned long long)d->cred.node_id,
		 (long long)d->cred.not_after, (long long)d->cred.renew_at);
	d->ca = cyph_ca_load(d->cfg.as_ca, err, sizeof(err));
	if (!d->ca) {
		log_err("[as] ca: %s", err);
		return -1;
	}
	/* The handshakes check peers against it (e2e verify, the same CA). */
	if (d->cfg.crl[0] && cyph_ca_load_crl(d->ca, d->cfg.crl)) {
		log_err("[as] crl: %s", cyph_ca_error(d->ca));
		return -1;
	}
	if (cyd_kdev_up(&d->kdev, &d->cfg, &d->cred, err, sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	if (cyd_location_open(&d->loc, err, sizeof(err))) {
		log_err("address monitor: %s", err);
		return -1;
	}
	d->loc.skip_ifindex = d->kdev.ifindex;
	d->loc.port4 = d->kdev.fd4 >= 0 ? d->kdev.port : 0;
	d->loc.port6 = d->kdev.fd6 >= 0 ? kern_udp_port(d->kdev.fd6) : 0;
	cyd_location_refresh(&d->loc);
	if (watch(d, d->kdev.fd4, on_udp) || watch(d, d->kdev.fd6, on_udp) ||
	    watch(d, kern_nl_fd(&d->loc.mon), on_addr_event) ||
	    !cyph_loop_add_timer(d->loop, 1000, true, on_tick, d)) {
		log_err("event loop setup failed: %s", strerror(errno));
		return -1;
	}
	if (cyph_daemon_http(d->loop, d->cfg.http_enabled, d->cfg.http_listen.text, &d->http))
		return -1;
	if (d->http)
		cyph_http_set_ready(d->http, true);
	if (cyd_reg_start(&d->reg, d, err, sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	if (cyd_tunnels_start(&d->tun, d, err, sizeof(err))) {
		log_err("tunnels: %s", err);
		return -1;
	}
	if (cyd_dns_start(&d->dns, d, err, sizeof(err))) {
		log_err("[dns] listen: %s", err);
		return -1;
	}
	cyd_resolver_up(&d->resolver, d);
	if (cyd_status_start(&d->status, d)) {
		log_err("state file: out of memory");
		return -1;
	}
	if (cyd_adapter_start(&d->adapter, d, err, sizeof(err))) {
		log_err("[adapter] %s", err);
		return -1;
	}
	return 0;
}

static void teardown(struct cyd *d)
{
	/* DNS and tunnels first: lookups wait on routes, handshakes use the
	 * credential and the CA. */
	cyd_status_stop(&d->status, d);
	cyd_resolver_down(&d->resolver, d);
	cyd_dns_stop(&d->dns);
	cyd_adapter_stop(&d->adapter);
	cyd_tunnels_stop(&d->tun);
	cyd_nat_stop(&d->nat);
	cyd_reg_stop(&d->reg);
	if (d->http) {
		cyph_http_detach(d->http);
		cyph_http_free(d->http);
	}
	/* Joins the worker; a renewal still running completes first. */
	if (d->wq)
		cyph_workq_free(d->wq);
	cyd_location_close(&d->loc);
	cyd_kdev_down(&d->kdev);
	cyd_cred_free(&d->cred);
	cyph_ca_free(d->ca);
	if (d->loop)
		cyph_loop_free(d->loop);
	cyph_daemon_args_free(&d->args);
}

/*
 * --resolver-setup=up|down (taken out of argv before the common parser):
 * only the resolv.conf edit, run as root by the unit around an
 * unprivileged daemon. 0: not given, 1 up, 2 down, -1 bad value.
 */
static int take_resolver_setup(int *argc, char **argv)
{
	int i, v = 0;

	for (i = 1; i < *argc; i++)
		if (!strncmp(argv[i], "--resolver-setup=", 17))
			break;
	if (i == *argc)
		return 0;
	if (!strcmp(argv[i] + 17, "up"))
		v = 1;
	else if (!strcmp(argv[i] + 17, "down"))
		v = 2;
	else
		v = -1;
	memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof(*argv));
	(*argc)--;
	return v;
}

int main(int argc, char **argv)
{
	struct cyd *d = &D;
	int rc, setup_only;

	d->kdev.fd4 = d->kdev.fd6 = -1;
	setup_only = take_resolver_setup(&argc, argv);
	if (setup_only < 0) {
		fprintf(stderr, "cyphonicd: --resolver-setup=up or --resolver-setup=down\n");
		return 2;
	}
	rc = cyph_daemon_begin(argc, argv, "cyphonicd",
		"CYPHONIC node daemon: joins this host to the overlay\n"
		"  --resolver-setup=up|down\n"
		"                      only add (up) or take out (down) the daemon's nameserver\n"
		"                      in [dns] resolv_conf, then exit (the unit runs it as root)",
		cyd_config_fields, cyd_config_nfields, &d->args, load_initial, d);
	if (rc >= 0)
		return rc;
	if (setup_only) {
		cyph_log_set_level(d->cfg.log_level);
		rc = cyd_resolver_setup(&d->cfg, setup_only == 1);
		cyph_daemon_args_free(&d->args);
		return rc;
	}
	cyph_log_set_level(d->cfg.log_level);
	signal(SIGPIPE, SIG_IGN);	/* the AS client writes with write(2) */
	if (setup(d)) {
		teardown(d);
		return 1;
	}
	cyph_sd_notify("READY=1\nSTATUS=device up, registering at the NMS");
	rc = cyph_loop_run(d->loop);
	d->stopping = true;
	teardown(d);
	log_info("stopped");
	return rc ? 1 : 0;
}
