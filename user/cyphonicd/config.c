// SPDX-License-Identifier: MIT
/*
 * cyphonicd configuration: the schema (--help-config, the .conf(5) page)
 * and the checks the schema cannot express. Every error names the file,
 * the line that set the key (0 when it was not set in the file) and
 * "[section] key", like the cloud daemons' errors.
 */
#include <ctype.h>
#include <errno.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "client/asclient.h"
#include "runtime/dnsname.h"
#include "cyphonicd.h"

#define F(...) CYPH_CFG_FIELD(struct cyd_config, __VA_ARGS__)

const struct cyph_cfg_field cyd_config_fields[] = {
	F("as", "address", ADDR, as_addr, true, NULL, 0, 0,
	  "AS TLS address, host:port"),
	F("as", "ca", PATH, as_ca, true, NULL, 0, 0,
	  "AS CA certificate (PEM): verifies the AS, the NMS and peers"),
	F("as", "crl", PATH, crl, false, NULL, 0, 0,
	  "the AS's CRL (PEM, as.conf [ca] crl, copied or shared): peers it lists get no "
	  "tunnel, their tunnels go; re-read when it changes (default: none)"),
	F("as", "server_name", STR, as_server_name, false, NULL, 0, 0,
	  "name or IP expected in the AS certificate (default: the host of address)"),
	F("as", "name", STR, name, true, NULL, 0, 0,
	  "this node's name at the AS (cyphonic-admin node add NAME)"),
	F("as", "password_file", PATH, password_file, true, NULL, 0, 0,
	  "file whose first line is the node's password (mode 0600)"),
	F("as", "renew_before", DURATION_MS, renew_before_ms, false, "15m", 10000, 2592000000LL,
	  "renew the credential this long before it expires (at most half its lifetime)"),
	F("nms", "address", ADDR, nms_addr, true, NULL, 0, 0,
	  "NMS UDP address, host:port (its family picks the socket used)"),
	F("nms", "mapping_address", ADDR, nms_mapping, false, NULL, 0, 0,
	  "the NMS's mapping port ([nms] mapping_listen there), same family as address: "
	  "tells the NAT's mapping type, so the NMS picks punch or relay up front (empty: unknown)"),
	F("nms", "name", STR, nms_name, false, NULL, 0, 0,
	  "FQDN in the NMS certificate (default: nms.DOMAIN)"),
	F("node", "device", STR, device, false, "cyph0", 0, 0,
	  "cyphonic device; created when absent, deleted at exit if created"),
	F("node", "port", INT, port, false, "7300", 0, 65535,
	  "UDP port of the node's IPv4 and IPv6 sockets (0: any)"),
	F("node", "state_dir", PATH, state_dir, false, "/var/lib/cyphonic/node", 0, 0,
	  "where the credential (node.crt, node.key) is kept"),
	F("node", "runtime_dir", PATH, runtime_dir, false, "/run/cyphonic", 0, 0,
	  "where the state file cyphctl show reads is kept (DEVICE.NETNS.state)"),
	F("node", "domain", STR, domain, false, NULL, 0, 0,
	  "CYPHONIC DNS domain (default: from the credential's FQDN)"),
	F("node", "prefix4", INT, prefix4, false, "16", 8, 32,
	  "prefix length of the IPv4 VIP on the device (the overlay's route)"),
	F("node", "prefix6", INT, prefix6, false, "64", 16, 128,
	  "prefix length of the IPv6 VIP on the device (the overlay's route)"),
	F("node", "rekey_after", DURATION_MS, rekey_after_ms, false, "50m", 2000, 3540000,
	  "new tunnel keys this often (before the kernel's 1 h limit)"),
	F("node", "idle_timeout", DURATION_MS, idle_timeout_ms, false, "3m", 5000, 86400000,
	  "a tunnel that received nothing this long is removed (made again on demand)"),
	F("dns", "enabled", BOOL, dns_enabled, false, "true", 0, 0,
	  "answer the CYPHONIC domain (peers' names looked up at the NMS on demand)"),
	F("dns", "listen", ADDR, dns_listen, false, "127.0.0.1:5354", 0, 0,
	  "UDP and TCP address of the DNS responder (loopback only)"),
	F("dns", "resolver", STR, resolver, false, "auto", 0, 0,
	  "point the host's resolver at the responder for the domain: auto (resolved "
	  "when it runs, else resolv.conf), resolved, resolv.conf, none; undone at exit"),
	F("dns", "resolv_conf", PATH, resolv_conf, false, "/etc/resolv.conf", 0, 0,
	  "the file the resolv.conf set-up edits (first nameserver: stub_listen)"),
	F("dns", "stub_listen", ADDR, stub_listen, false, "127.0.0.153:53", 0, 0,
	  "loopback address on port 53 the responder also answers on in the resolv.conf set-up"),
	CYPH_CFG_OPS_FIELDS(struct cyd_config, "127.0.0.1:9104"),
	CYD_ADAPTER_CONFIG_FIELDS(struct cyd_config),
};

const size_t cyd_config_nfields = sizeof(cyd_config_fields) / sizeof(cyd_config_fields[0]);

__attribute__((format(printf, 6, 7)))
static int fail(char *err, size_t errlen, const char *path, const char *sec,
		const char *key, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: [%s] %s: %s", path ? path : "(command line)",
		 cyph_cfg_key_line(path, sec, key), sec, key, why);
	return -1;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]))
			return false;
	return true;
}

static bool loopback(const struct cyph_cfg_addr *a)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;

	if (a->ss.ss_family == AF_INET)
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	return a->ss.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

static unsigned int port_of(const struct cyph_cfg_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

/* The password file must hold a non-empty first line. */
static int password_ok(const char *file, const char **why)
{
	char line[8];
	FILE *f = fopen(file, "re");

	if (!f) {
		*why = strerror(errno);
		return -1;
	}
	if (!fgets(line, sizeof(line), f) || line[0] == '\n' || line[0] == '\0')
		*why = "empty (the first line is the password)";
	else
		*why = NULL;
	fclose(f);
	return *why ? -1 : 0;
}

int cyd_config_check(const struct cyd_config *c, const char *path, char *err,
		     size_t errlen)
{
	const char *why;

	if (!cyph_dns_label_valid(c->name, strlen(c->name)))
		return fail(err, errlen, path, "as", "name", "'%s' is not a DNS label "
			    "(a-z, 0-9, '-', at most 63)", c->name);
	if (access(c->as_ca, R_OK))
		return fail(err, errlen, path, "as", "ca", "%s: %s", c->as_ca, strerror(errno));
	if (c->crl[0] && access(c->crl, R_OK))
		return fail(err, errlen, path, "as", "crl", "%s: %s", c->crl, strerror(errno));
	if (password_ok(c->password_file, &why))
		return fail(err, errlen, path, "as", "password_file", "%s: %s",
			    c->password_file, why);
	if (c->domain[0] && !cyph_dns_name_valid(c->domain))
		return fail(err, errlen, path, "node", "domain", "'%s' is not a DNS name",
			    c->domain);
	if (c->nms_name[0] && !cyph_dns_name_valid(c->nms_name))
		return fail(err, errlen, path, "nms", "name", "'%s' is not a DNS name",
			    c->nms_name);
	if (!ifname_ok(c->device))
		return fail(err, errlen, path, "node", "device",
			    "'%s' is not an interface name (1..%d characters, no '/', ':' or space)",
			    c->device, IFNAMSIZ - 1);
	if (c->dns_enabled && !loopback(&c->dns_listen))
		return fail(err, errlen, path, "dns", "listen", "%s is not a loopback address "
			    "(127.0.0.0/8 or ::1)", c->dns_listen.text);
	if (strcmp(c->resolver, "auto") && strcmp(c->resolver, "resolved") &&
	    strcmp(c->resolver, "resolv.conf") && strcmp(c->resolver, "none"))
		return fail(err, errlen, path, "dns", "resolver",
			    "'%s': auto, resolved, resolv.conf or none", c->resolver);
	if (!c->dns_enabled && strcmp(c->resolver, "none") && cyph_cfg_key_line(path, "dns", "resolver"))
		return fail(err, errlen, path, "dns", "resolver",
			    "needs [dns] enabled = true (or resolver = none)");
	if (c->dns_enabled && strcmp(c->resolver, "none") && strcmp(c->resolver, "resolved") &&
	    (!loopback(&c->stub_listen) || port_of(&c->stub_listen) != 53))
		return fail(err, errlen, path, "dns", "stub_listen", "%s: resolv.conf names servers "
			    "without a port: a loopback address on port 53", c->stub_listen.text);
	if (c->resolv_conf[0] != '/')
		return fail(err, errlen, path, "dns", "resolv_conf", "'%s' is not an absolute path",
			    c->resolv_conf);
	if (c->runtime_dir[0] != '/')
		return fail(err, errlen, path, "node", "runtime_dir", "'%s' is not an absolute path",
			    c->runtime_dir);
	if (c->state_dir[0] != '/')
		return fail(err, errlen, path, "node", "state_dir", "'%s' is not an absolute path",
			    c->state_dir);
	return cyd_adapter_config_check(c, path, err, errlen);
}

void cyd_config_as_server_name(const struct cyd_config *c, char *out, size_t len)
{
	cyph_as_server_name(c->as_addr.text, c->as_server_name, out, len);
}

void cyd_config_nms_name(const struct cyd_config *c, const char *cred_fqdn,
			 char *out, size_t len)
{
	const char *dot = strchr(cred_fqdn, '.');

	if (c->nms_name[0])
		snprintf(out, len, "%s", c->nms_name);
	else if (c->domain[0])
		snprintf(out, len, "nms.%s", c->domain);
	else
		snprintf(out, len, "nms.%s", dot ? dot + 1 : cred_fqdn);
}

int cyd_adapter_config_check(const struct cyd_config *c, const char *path, char *err,
			     size_t errlen)
{
	const struct cyd_adapter_config *a = &c->adapter;

	if (!a->enabled)
		return 0;
	if (!a->lan[0])
		return fail(err, errlen, path, "adapter", "lan_interface",
			    "required when [adapter] enabled = true");
	if (!ifname_ok(a->lan) || !strcmp(a->lan, c->device))
		return fail(err, errlen, path, "adapter", "lan_interface",
			    "'%s' is not an interface name other than [node] device", a->lan);
	if (a->run_dir[0] != '/')
		return fail(err, errlen, path, "adapter", "run_dir", "'%s' is not an absolute path",
			    a->run_dir);
	if (a->dhcp && access(a->dnsmasq, X_OK))
		return fail(err, errlen, path, "adapter", "dnsmasq", "%s: %s", a->dnsmasq,
			    strerror(errno));
	if (access(a->nft, X_OK))
		return fail(err, errlen, path, "adapter", "nft", "%s: %s", a->nft, strerror(errno));
	if (a->dhcp && !c->dns_enabled)
		return fail(err, errlen, path, "dns", "enabled", "must be true on an adapter with "
			    "[adapter] dhcp: the LAN's DNS forwards the domain to the responder");
	if (a->ieee8021x && access(a->hostapd, X_OK))
		return fail(err, errlen, path, "adapter", "hostapd", "%s: %s", a->hostapd,
			    strerror(errno));
	if (a->ieee8021x && (!a->eap_cert[0] || access(a->eap_cert, R_OK)))
		return fail(err, errlen, path, "adapter", "eap_server_cert", "%s",
			    a->eap_cert[0] ? strerror(errno) : "required when ieee8021x = true");
	if (a->ieee8021x && (!a->eap_key[0] || access(a->eap_key, R_OK)))
		return fail(err, errlen, path, "adapter", "eap_server_key", "%s",
			    a->eap_key[0] ? strerror(errno) : "required when ieee8021x = true");
	if ((a->ieee8021x || a->portal) && !a->dhcp)
		return fail(err, errlen, path, "adapter", a->portal ? "portal" : "ieee8021x",
			    "needs [adapter] dhcp = true: admission decides who gets a lease");
	return 0;
}

bool cyd_adapter_config_equal(const struct cyd_adapter_config *a,
			      const struct cyd_adapter_config *b)
{
	return a->enabled == b->enabled && a->dhcp == b->dhcp && a->sync_ms == b->sync_ms &&
	       a->lease_ms == b->lease_ms && !strcmp(a->lan, b->lan) &&
	       !strcmp(a->dnsmasq, b->dnsmasq) && !strcmp(a->run_dir, b->run_dir) &&
	       !strcmp(a->nft, b->nft) && a->ieee8021x == b->ieee8021x &&
	       !strcmp(a->hostapd, b->hostapd) && !strcmp(a->eap_cert, b->eap_cert) &&
	       !strcmp(a->eap_key, b->eap_key) && a->portal == b->portal &&
	       a->portal_port == b->portal_port;
}
