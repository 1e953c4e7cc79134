// SPDX-License-Identifier: MIT
/*
 * DHCP and DNS for the LAN through a real dnsmasq that cyphonicd writes
 * the configuration of and supervises ([adapter] dhcp):
 *
 *   run_dir/dnsmasq.conf  written once at start: the LAN interface only,
 *       static DHCPv4 (and stateful DHCPv6) ranges over the overlay
 *       prefix, router and DNS server = the adapter's VIP, the CYPHONIC
 *       domain forwarded to the daemon's DNS responder, and no lease for
 *       a MAC the hosts file does not list (MAC admission);
 *   run_dir/hosts         one line per admitted general node, MAC -> VIP
 *       and name; rewritten (atomically) after every sync that changed
 *       it, then dnsmasq gets SIGHUP, which re-reads it and keeps the
 *       leases it gave;
 *   run_dir/leases        dnsmasq's lease database.
 *
 * dnsmasq runs in the foreground as our supervised child (child.c:
 * restarted after a backoff when it dies, SIGTERM at exit).
 *
 * Admission decides who is in the hosts file: a MAC or 802.1X node once
 * admitted (for 802.1X: after its EAP success), a basic node as soon as
 * it is listed, because it needs its address to reach the login page
 * (portal.c); the nftables guard keeps it to that page until it
 * logs in.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "runtime/evloop.h"
#include "runtime/fileutil.h"
#include "internal.h"

struct cyd_adapter_dhcp {
	struct cyd_child child;
	char conf[CYPH_CFG_PATH_MAX + 32], hosts[CYPH_CFG_PATH_MAX + 32];
	char conf_arg[CYPH_CFG_PATH_MAX + 48];
	char *hosts_text;		/* what the hosts file holds now */
};

static struct cyd_adapter_dhcp dhcp_state;

static void domain_of(const struct cyd *d, char *out, size_t len)
{
	const char *dot = strchr(d->cred.fqdn, '.');

	snprintf(out, len, "%s", d->cfg.domain[0] ? d->cfg.domain : dot ? dot + 1 : "");
}

/* Writes text to path through a temporary file and rename (readers never see half). */
/* A file dnsmasq reads: a fresh inode, never a planted file or link. */
static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	return cyph_write_file_atomic(path, text, strlen(text), 0644, err, errlen);
}

/* The daemon's DNS responder ([dns] listen) as dnsmasq's server=/DOMAIN/HOST#PORT. */
static void responder(const struct cyd *d, char *host, size_t len, unsigned int *port)
{
	const struct sockaddr_storage *ss = &d->cfg.dns_listen.ss;
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, host, (socklen_t)len);
		*port = ntohs(in6->sin6_port);
	} else {
		inet_ntop(AF_INET, &in->sin_addr, host, (socklen_t)len);
		*port = ntohs(in->sin_port);
	}
}

static int write_conf(struct cyd_adapter *a, char *err, size_t errlen)
{
	const struct cyd *d = a->d;
	const struct cyd_adapter_config *c = &d->cfg.adapter;
	char domain[256], net[INET6_ADDRSTRLEN], me[INET6_ADDRSTRLEN], buf[4096];
	char host[INET6_ADDRSTRLEN];
	unsigned int port;
	struct in_addr n4, m4;
	struct in6_addr n6;
	size_t off = 0;
	long long lease_s = c->lease_ms / 1000;

	domain_of(d, domain, sizeof(domain));
#define OUT(...) (off += (size_t)snprintf(buf + off, off < sizeof(buf) ? sizeof(buf) - off : 0, \
					  __VA_ARGS__))
	responder(d, host, sizeof(host), &port);
	OUT("# written by cyphonicd at start ([adapter] in its configuration); do not edit\n"
	    "keep-in-foreground\nlog-facility=-\nlog-dhcp\nno-hosts\nno-resolv\n"
	    "interface=%s\nexcept-interface=lo\nbind-dynamic\n"
	    "server=/%s/%s#%u\n"
	    "dhcp-hostsfile=%s\ndhcp-leasefile=%s/leases\ndhcp-authoritative\n"
	    "# MAC admission: a MAC the hosts file does not list gets no lease\n"
	    "dhcp-ignore=tag:!known\n"
	    "# broadcast to unconfigured clients: a unicast reply would make dnsmasq\n"
	    "# replace the permanent neighbour entry the adapter pins for the VIP\n"
	    "dhcp-broadcast\n"
	    "dhcp-option=option:domain-name,%s\ndhcp-option=option:domain-search,%s\n",
	    c->lan, domain, host, port, dhcp_state.hosts, c->run_dir, domain, domain);
	if (d->kdev.has_vip4) {
		m4.s_addr = htonl(d->kdev.plen4 ? ~0U << (32 - d->kdev.plen4) : 0);
		n4.s_addr = d->kdev.vip4.s_addr & m4.s_addr;
		inet_ntop(AF_INET, &n4, net, sizeof(net));
		inet_ntop(AF_INET, &d->kdev.vip4, me, sizeof(me));
		OUT("dhcp-range=set:v4,%s,static,", net);
		inet_ntop(AF_INET, &m4, net, sizeof(net));
		OUT("%s,%llds\ndhcp-option=tag:v4,option:router,%s\n"
		    "dhcp-option=tag:v4,option:dns-server,%s\n", net, lease_s, me, me);
	}
	if (d->kdev.has_vip6) {
		n6 = d->kdev.vip6;
		for (int i = 0; i < 16; i++) {
			int bits = (int)d->kdev.plen6 - 8 * i;

			n6.s6_addr[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
		}
		inet_ntop(AF_INET6, &n6, net, sizeof(net));
		inet_ntop(AF_INET6, &d->kdev.vip6, me, sizeof(me));
		/* off-link: every VIP6, on the LAN or not, goes through the adapter */
		OUT("enable-ra\ndhcp-range=set:v6,%s,static,off-link,%u,%llds\n"
		    "dhcp-option=tag:v6,option6:dns-server,[%s]\n"
		    "dhcp-option=tag:v6,option6:domain-search,%s\n",
		    net, (unsigned int)d->kdev.plen6, lease_s, me, domain);
	}
#undef OUT
	if (off >= sizeof(buf)) {
		snprintf(err, errlen, "%s: too long", dhcp_state.conf);
		return -1;
	}
	return write_file(dhcp_state.conf, buf, err, errlen);
}

/* The hosts file's text for the admitted general nodes (malloc'd). */
static char *hosts_text(const struct cyd_adapter *a)
{
	char addr[INET6_ADDRSTRLEN], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (const struct cyd_gn *g = a->list; g; g = g->next) {
		if (!cyd_adapter_gn_leased(g))	/* not admitted: no lease */
			continue;
		if (g->has4) {
			inet_ntop(AF_INET, &g->vip4, addr, sizeof(addr));
			fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x,%s,%s\n", g->mac[0], g->mac[1],
				g->mac[2], g->mac[3], g->mac[4], g->mac[5], addr, g->name);
		}
		if (g->has6) {
			inet_ntop(AF_INET6, &g->vip6, addr, sizeof(addr));
			fprintf(f, "%02x:%02x:%02x:%02x:%02x:%02x,[%s],%s\n", g->mac[0], g->mac[1],
				g->mac[2], g->mac[3], g->mac[4], g->mac[5], addr, g->name);
		}
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

void cyd_adapter_dhcp_update(struct cyd_adapter *a)
{
	struct cyd_adapter_dhcp *s = a->dhcp;
	char *text, err[256];

	if (!s || !(text = hosts_text(a)))
		return;
	if (s->hosts_text && !strcmp(text, s->hosts_text)) {
		free(text);
		return;
	}
	if (write_file(s->hosts, text, err, sizeof(err))) {
		log_err("[adapter] %s", err);
		free(text);
		return;
	}
	free(s->hosts_text);
	s->hosts_text = text;
	/* dnsmasq re-reads the hosts file on SIGHUP and keeps its leases */
	cyd_child_signal(&s->child, SIGHUP);
	log_info("[adapter] DHCP hosts updated (%s)", s->hosts);
}

int cyd_adapter_dhcp_start(struct cyd_adapter *a, char *err, size_t errlen)
{
	struct cyd_adapter_dhcp *s = &dhcp_state;
	const struct cyd_adapter_config *c = &a->d->cfg.adapter;

	if (!c->dhcp)
		return 0;
	memset(s, 0, sizeof(*s));
	snprintf(s->conf, sizeof(s->conf), "%s/dnsmasq.conf", c->run_dir);
	snprintf(s->hosts, sizeof(s->hosts), "%s/hosts", c->run_dir);
	if (cyd_adapter_run_dir(c, err, errlen))
		return -1;
	a->dhcp = s;
	if (write_conf(a, err, errlen) || write_file(s->hosts, "", err, errlen)) {
		a->dhcp = NULL;
		return -1;
	}
	s->hosts_text = strdup("");
	if ((size_t)snprintf(s->conf_arg, sizeof(s->conf_arg), "--conf-file=%s", s->conf) >=
	    sizeof(s->conf_arg)) {
		snprintf(err, errlen, "run_dir %s: path too long", c->run_dir);
		return -1;
	}
	s->child = (struct cyd_child){ .what = "dnsmasq", .path = c->dnsmasq,
				       .argv = { "dnsmasq", s->conf_arg, NULL } };
	if (cyd_child_start(&s->child, a->d->loop)) {
		snprintf(err, errlen, "dnsmasq: cannot start");
		return -1;
	}
	return 0;
}

void cyd_adapter_dhcp_stop(struct cyd_adapter *a)
{
	struct cyd_adapter_dhcp *s = a->dhcp;

	if (!s)
		return;
	cyd_child_stop(&s->child);
	free(s->hosts_text);
	s->hosts_text = NULL;
	a->dhcp = NULL;
}
