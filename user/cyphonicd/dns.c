// SPDX-License-Identifier: MIT
/*
 * The node's DNS responder for the CYPHONIC domain (user/lib/dns) on the
 * daemon's loop: the node's own name from its credential, and peers'
 * names on demand. A query for a name the table does not hold waits while
 * the daemon asks the NMS for route direction to that FQDN (tunnels.c);
 * the answer gives the peer's VIPs, which go into the table and answer
 * the query, and a direct route starts the tunnel's handshake at once, so
 * the program that resolved the name finds the tunnel (nearly) ready.
 */
#include <string.h>
#include "dns/server.h"
#include "cyphonicd.h"

#define PEER_TTL 60		/* seconds a peer's VIPs may be cached */
#define NEGATIVE_TTL 30

static void on_miss(void *arg, const char *name)
{
	struct cyd *d = arg;

	cyd_tunnels_lookup(&d->tun, name);
}

void cyd_dns_domain(const struct cyd *d, char *out, size_t len)
{
	const char *dot = strchr(d->cred.fqdn, '.');

	snprintf(out, len, "%s", d->cfg.domain[0] ? d->cfg.domain : dot ? dot + 1 : "");
}

int cyd_dns_start(struct cyd_dns *s, struct cyd *d, char *err, size_t errlen)
{
	struct dns_server_cfg sc = { .addrlen = d->cfg.dns_listen.len };
	struct dns_responder_cfg rc = { .negative_ttl = NEGATIVE_TTL };
	char domain[256];

	memset(s, 0, sizeof(*s));
	if (!d->cfg.dns_enabled)
		return 0;
	cyd_dns_domain(d, domain, sizeof(domain));
	rc.domain = domain;
	memcpy(&sc.addr, &d->cfg.dns_listen.ss, d->cfg.dns_listen.len);
	s->names = dns_names_new(4096);
	if (!s->names) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->resp = dns_responder_new(&rc, s->names, err, errlen);
	if (!s->resp)
		return -1;
	s->srv = dns_server_new(d->loop, &sc, s->resp, err, errlen);
	if (!s->srv)
		return -1;
	dns_server_on_miss(s->srv, on_miss, d);
	s->d = d;
	dns_names_set(s->names, d->cred.fqdn, d->cred.has_vip4 ? &d->cred.vip4 : NULL,
		      d->cred.has_vip6 ? &d->cred.vip6 : NULL, PEER_TTL);
	log_info("DNS for %s on %s", domain, d->cfg.dns_listen.text);
	return 0;
}

int cyd_dns_stub(struct cyd_dns *s, const struct cyph_cfg_addr *a, char *err, size_t errlen)
{
	struct dns_server_cfg sc = { .addrlen = a->len };

	if (!s->srv) {
		snprintf(err, errlen, "[dns] is not enabled");
		return -1;
	}
	memcpy(&sc.addr, &a->ss, a->len);
	s->stub = dns_server_new(s->d->loop, &sc, s->resp, err, errlen);
	if (!s->stub)
		return -1;
	dns_server_on_miss(s->stub, on_miss, s->d);
	log_info("DNS also on %s (for %s)", a->text, s->d->cfg.resolv_conf);
	return 0;
}

void cyd_dns_answer(struct cyd_dns *s, const char *name, const struct in_addr *vip4,
		    const struct in6_addr *vip6, bool failed)
{
	if (!s->srv)
		return;
	if (failed) {
		dns_server_lookup_failed(s->srv, name);
		if (s->stub)
			dns_server_lookup_failed(s->stub, name);
		return;
	}
	/* Without an address the name stays out of the table: NXDOMAIN. */
	if (vip4 || vip6)
		dns_names_set(s->names, name, vip4, vip6, PEER_TTL);
	dns_server_resolved(s->srv, name);
	if (s->stub)
		dns_server_resolved(s->stub, name);
}

void cyd_dns_stop(struct cyd_dns *s)
{
	dns_server_free(s->stub);
	dns_server_free(s->srv);
	dns_responder_free(s->resp);
	dns_names_free(s->names);
	memset(s, 0, sizeof(*s));
}
