// SPDX-License-Identifier: MIT
/*
 * Pointing the host's resolver at the daemon's DNS responder, so that
 * `ping peer.<domain>` works (issue 9 point 5), and taking it back at
 * exit. [dns] resolver picks the set-up:
 *
 * resolved	systemd-resolved runs (its varlink socket answers): split DNS
 *		on the device, as `resolvectl` sets it: the responder as the
 *		link's DNS server, ~DOMAIN as its routing-only domain, and the
 *		link never the default route for other names. resolved lets a
 *		caller with CAP_NET_ADMIN (the unit's only capability) do
 *		this. The settings live with the link; at exit `resolvectl
 *		revert`, or nothing when the daemon deletes its device.
 * resolv.conf	no resolved: glibc's stub resolver reads [dns] resolv_conf,
 *		which has no per-domain servers and no ports. The daemon
 *		answers also on [dns] stub_listen (127.0.0.153:53) and puts it
 *		first among the nameservers, behind a marker comment. Names of
 *		the domain are answered there; every other name is REFUSED at
 *		once, and glibc then asks the next nameserver (res_send moves
 *		on after REFUSED), so other names still resolve as before, at
 *		the cost of one loopback round trip. At exit the two lines go;
 *		lines a crashed daemon left are replaced at the next start.
 *		The file is replaced by rename, or rewritten in place when it
 *		is a mount point (`ip netns exec` bind-mounts
 *		/etc/netns/NS/resolv.conf over it). Needs write access to the
 *		file and CAP_NET_BIND_SERVICE for port 53: run as root, or use
 *		resolved.
 * auto		resolved when it runs, else resolv.conf.
 * none		nothing: point the resolver yourself (docs/dns.md).
 *
 * Failures are logged and the daemon goes on: names then resolve only
 * through the responder's own address.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>
#include "runtime/fileutil.h"
#include "cyphonicd.h"

#define RESOLVED_SOCKET "/run/systemd/resolve/io.systemd.Resolve"

extern char **environ;

/* resolved answers on its varlink socket only while it runs. */
static bool resolved_running(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = RESOLVED_SOCKET };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return ok;
}

/* Runs resolvectl with args; 0 when it exits 0. */
static int resolvectl(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, "resolvectl", NULL, NULL, argv, environ)) {
		log_warn("resolvectl: cannot run it: %s", strerror(errno));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		log_warn("resolvectl %s %s: failed (status %d)", argv[1], argv[2], st);
		return -1;
	}
	return 0;
}

static int resolved_up(struct cyd *d, const char *domain)
{
	char server[300], route[300], *dev = d->cfg.device;
	const struct cyph_cfg_addr *a = &d->cfg.dns_listen;
	char *cmds[][5] = {
		{ "resolvectl", "dns", dev, server, NULL },
		{ "resolvectl", "domain", dev, route, NULL },
		{ "resolvectl", "default-route", dev, "false", NULL },
		{ "resolvectl", "llmnr", dev, "no", NULL },
		{ "resolvectl", "mdns", dev, "no", NULL },
	};

	/* resolved's syntax: 127.0.0.1:5354, [::1]:5354 (the text as written) */
	snprintf(server, sizeof(server), "%s", a->text);
	snprintf(route, sizeof(route), "~%s", domain);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (resolvectl(cmds[i]) && i < 3)
			return -1;	/* llmnr/mdns only trim noise */
	return 0;
}

/* Replace by rename; a mount point (a bind-mounted file) in place. */
static int write_resolv_conf(const char *file, const char *text)
{
	struct stat st;
	char err[512];
	mode_t mode = 0644;
	ssize_t n;
	int fd;

	if (!stat(file, &st))
		mode = st.st_mode & 07777;
	if (!cyph_write_file_atomic(file, text, strlen(text), mode, err, sizeof(err)))
		return 0;
	fd = open(file, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	if (n != (ssize_t)strlen(text)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Edits file; server NULL takes our lines out. 0, or -1 with errno. */
static int edit_resolv_conf(const char *file, const char *server, const char *device)
{
	char err[512], *text = NULL, *out;
	int rc, e;

	if (cyph_read_file(file, 1 << 20, &text, NULL, err, sizeof(err))) {
		if (errno != ENOENT || !server)
			return -1;
		text = strdup("");
	}
	out = text ? cyd_resolv_conf_edit(text, server, device) : NULL;
	free(text);
	if (!out) {
		errno = ENOMEM;
		return -1;
	}
	rc = write_resolv_conf(file, out);
	e = errno;
	free(out);
	errno = e;
	return rc;
}

/* The resolv.conf set-up applies: asked for, or auto without resolved. */
static bool resolv_conf_mode(const struct cyd_config *c)
{
	return c->dns_enabled && (!strcmp(c->resolver, "resolv.conf") ||
				  (!strcmp(c->resolver, "auto") && !resolved_running()));
}

/* The real file behind a symlink (resolvconf, a stub link), and our server. */
static void resolv_conf_target(const struct cyd_config *c, char *file, size_t flen,
			       char *host, size_t hlen)
{
	const struct cyph_cfg_addr *a = &c->stub_listen;
	const void *ip;
	char real[PATH_MAX];

	if (realpath(c->resolv_conf, real))
		snprintf(file, flen, "%s", real);
	else
		snprintf(file, flen, "%s", c->resolv_conf);
	if (a->ss.ss_family == AF_INET)
		ip = &((const struct sockaddr_in *)&a->ss)->sin_addr;
	else
		ip = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
	inet_ntop(a->ss.ss_family, ip, host, (socklen_t)hlen);
}

static bool not_allowed(int e)
{
	return e == EACCES || e == EPERM || e == EROFS;
}

static int resolv_conf_up(struct cyd_resolver *r, struct cyd *d)
{
	char host[INET6_ADDRSTRLEN], err[512];

	resolv_conf_target(&d->cfg, r->file, sizeof(r->file), host, sizeof(host));
	if (cyd_dns_stub(&d->dns, &d->cfg.stub_listen, err, sizeof(err))) {
		log_warn("[dns] stub_listen %s: %s; the resolver is not pointed at the domain",
			 d->cfg.stub_listen.text, err);
		return -1;
	}
	if (!edit_resolv_conf(r->file, host, d->cfg.device))
		return 0;
	if (not_allowed(errno))
		/* the unit: ExecStartPost=+ does the edit as root */
		log_info("%s: %s here; `cyphonicd --resolver-setup=up` as root adds the "
			 "nameserver (the systemd unit runs it)", r->file, strerror(errno));
	else
		log_warn("[dns] resolv_conf %s: %s", r->file, strerror(errno));
	return -1;
}

void cyd_resolver_up(struct cyd_resolver *r, struct cyd *d)
{
	const char *mode = d->cfg.resolver;
	char domain[256];

	memset(r, 0, sizeof(*r));
	if (!d->cfg.dns_enabled || !strcmp(mode, "none"))
		return;
	cyd_dns_domain(d, domain, sizeof(domain));
	if (!resolv_conf_mode(&d->cfg)) {
		if (resolved_up(d, domain))
			return;
		r->mode = CYD_RES_RESOLVED;
		log_info("systemd-resolved sends %s to %s (split DNS on %s)", domain,
			 d->cfg.dns_listen.text, d->cfg.device);
		return;
	}
	if (resolv_conf_up(r, d))
		return;
	r->mode = CYD_RES_RESOLV_CONF;
	log_info("%s: first nameserver %s for %s (other names: REFUSED, then the next one)",
		 r->file, d->cfg.stub_listen.text, domain);
}

void cyd_resolver_down(struct cyd_resolver *r, struct cyd *d)
{
	char *revert[] = { "resolvectl", "revert", d->cfg.device, NULL };

	if (r->mode == CYD_RES_RESOLVED && !d->kdev.created)
		resolvectl(revert);	/* a deleted link takes its settings along */
	if (r->mode == CYD_RES_RESOLV_CONF) {
		if (!edit_resolv_conf(r->file, NULL, d->cfg.device))
			log_info("%s: our nameserver taken out", r->file);
		else
			log_warn("%s: taking our nameserver out: %s", r->file, strerror(errno));
	}
	r->mode = CYD_RES_NONE;
}

int cyd_resolver_setup(const struct cyd_config *c, bool up)
{
	char file[PATH_MAX], host[INET6_ADDRSTRLEN];

	if (!resolv_conf_mode(c) || !strcmp(c->resolver, "none"))
		return 0;	/* resolved, or nothing: the daemon does it */
	resolv_conf_target(c, file, sizeof(file), host, sizeof(host));
	if (edit_resolv_conf(file, up ? host : NULL, c->device)) {
		log_err("[dns] resolv_conf %s: %s", file, strerror(errno));
		return 1;
	}
	log_info("%s: nameserver %s %s", file, host, up ? "added" : "taken out");
	return 0;
}
