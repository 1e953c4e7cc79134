// SPDX-License-Identifier: MIT
/*
 * cyphonicd's pure logic: its configuration (schema, checks, file:line
 * errors, derived names), the renewal time of a credential, and the
 * parsing and filtering of rtnetlink address messages that decide what
 * the node reports to the NMS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "cyphonicd.h"
#include "kernel/addrs.h"
#include "kernel/link.h"
#include "runtime/config.h"
#include "tap.h"

static char dir[] = "/tmp/cyphonicd-test.XXXXXX";
static char conf[300], pwfile[300], cafile[300];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* A config with the required keys, then extra lines. */
static int load(const char *extra, struct cyd_config *c, char *err, size_t len)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "# cyphonicd test\n"
		 "[as]\n"
		 "address = 127.0.0.1:7443\n"
		 "ca = %s\n"
		 "name = alice\n"
		 "password_file = %s\n"
		 "[nms]\n"
		 "address = 127.0.0.1:7100\n"
		 "%s",
		 cafile, pwfile, extra);
	write_file(conf, text);
	err[0] = '\0';
	if (cyph_cfg_load(conf, cyd_config_fields, cyd_config_nfields, c, err, len))
		return -1;
	return cyd_config_check(c, conf, err, len);
}

/* err starts with "CONF:LINE: " followed by want. */
static bool err_is(const char *err, unsigned int line, const char *want)
{
	char prefix[400];

	snprintf(prefix, sizeof(prefix), "%s:%u: %s", conf, line, want);
	return !strncmp(err, prefix, strlen(prefix));
}

static void test_config(void)
{
	struct cyd_config c;
	char err[1024], name[300];

	TAP_CHECK(!load("", &c, err, sizeof(err)), "minimal config loads (%s)", err);
	TAP_CHECK(!strcmp(c.device, "cyph0") && c.port == 7300 && c.prefix4 == 16 &&
		  c.prefix6 == 64 && !strcmp(c.state_dir, "/var/lib/cyphonic/node") &&
		  c.renew_before_ms == 15 * 60 * 1000 && c.http_enabled && c.dns_enabled &&
		  !strcmp(c.dns_listen.text, "127.0.0.1:5354"),
		  "defaults: cyph0, port 7300, /16, /64, /var/lib/cyphonic/node, renew 15m, http and DNS on");
	TAP_CHECK(!strcmp(c.http_listen.text, "127.0.0.1:9104"), "metrics default 127.0.0.1:9104");
	TAP_CHECK(c.rekey_after_ms == 50 * 60 * 1000 && c.idle_timeout_ms == 3 * 60 * 1000,
		  "tunnels: rekey every 50m (below the kernel's 1 h), idle after 3m");
	TAP_CHECK(load("[node]\nrekey_after = 2h\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[node] rekey_after"),
		  "rekey_after past the kernel's limit refused (%s)", err);
	cyd_config_as_server_name(&c, name, sizeof(name));
	TAP_CHECK(!strcmp(name, "127.0.0.1"), "AS server name defaults to the address host");
	cyd_config_nms_name(&c, "alice.cyph.test", name, sizeof(name));
	TAP_CHECK(!strcmp(name, "nms.cyph.test"), "NMS name from the credential's domain");

	TAP_CHECK(!load("[node]\ndomain = example.net\n", &c, err, sizeof(err)),
		  "domain set");
	cyd_config_nms_name(&c, "alice.cyph.test", name, sizeof(name));
	TAP_CHECK(!strcmp(name, "nms.example.net"), "NMS name from [node] domain");
	TAP_CHECK(!load("[nms]\nname = sig.example.net\n[as]\nserver_name = as.example.net\n",
		       &c, err, sizeof(err)), "nms name and AS server name set (%s)", err);
	cyd_config_nms_name(&c, "alice.cyph.test", name, sizeof(name));
	TAP_CHECK(!strcmp(name, "sig.example.net"), "[nms] name wins over the domain");
	cyd_config_as_server_name(&c, name, sizeof(name));
	TAP_CHECK(!strcmp(name, "as.example.net"), "[as] server_name wins over the address");

	/* Schema errors carry the line of the offending key. */
	TAP_CHECK(load("[node]\nport = 70000\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[node] port"), "port out of range: line 10 (%s)", err);
	TAP_CHECK(load("[node]\nbogus = 1\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[node] bogus: unknown key"), "unknown key named (%s)", err);
	TAP_CHECK(load("[nodes]\n", &c, err, sizeof(err)) &&
		  err_is(err, 9, "unknown section [nodes]"), "unknown section named (%s)", err);
	TAP_CHECK(load("[node]\nprefix4 = 33\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[node] prefix4"), "prefix4 33 refused (%s)", err);

	/* Checks after the schema still name file, line, section and key. */
	TAP_CHECK(load("[node]\ndevice = has/slash\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[node] device: 'has/slash' is not an interface name"),
		  "bad device name at its line (%s)", err);
	TAP_CHECK(load("[node]\ndevice = averyveryverylongname\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[node] device"), "device name too long (%s)", err);
	TAP_CHECK(load("[node]\nstate_dir = relative/dir\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[node] state_dir: 'relative/dir' is not an absolute path"),
		  "relative state_dir refused (%s)", err);
	TAP_CHECK(load("[dns]\nlisten = 192.0.2.1:53\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[dns] listen: 192.0.2.1:53 is not a loopback address"),
		  "DNS only on loopback (%s)", err);
	TAP_CHECK(!load("[dns]\nlisten = [::1]:5354\n", &c, err, sizeof(err)) &&
		  c.dns_enabled, "DNS on ::1 accepted (%s)", err);
	TAP_CHECK(!load("[dns]\nenabled = false\nlisten = 192.0.2.1:53\n", &c, err,
			sizeof(err)), "DNS disabled: its address is not checked (%s)", err);
	TAP_CHECK(load("[node]\ndomain = Bad_Domain\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[node] domain"), "bad domain refused (%s)", err);

	/* A missing password file is named at the line that set it (6). */
	unlink(pwfile);
	TAP_CHECK(load("", &c, err, sizeof(err)) &&
		  err_is(err, 6, "[as] password_file: ") && strstr(err, "No such file"),
		  "missing password file at line 6 (%s)", err);
	write_file(pwfile, "\n");
	TAP_CHECK(load("", &c, err, sizeof(err)) && strstr(err, "empty"),
		  "empty password refused (%s)", err);
	write_file(pwfile, "secret\n");
	unlink(cafile);
	TAP_CHECK(load("", &c, err, sizeof(err)) && err_is(err, 4, "[as] ca: "),
		  "unreadable CA at line 4 (%s)", err);
	write_file(cafile, "not a certificate, but readable\n");

	/* A required key that is missing: line 0. */
	write_file(conf, "[as]\nname = alice\n");
	TAP_CHECK(cyph_cfg_load(conf, cyd_config_fields, cyd_config_nfields, &c, err,
				sizeof(err)) && err_is(err, 0, "[as] address"),
		  "missing required key: line 0 (%s)", err);
	TAP_CHECK(load("[node]\n", &c, err, sizeof(err)) == 0, "empty section is fine");
	TAP_CHECK(cyph_cfg_key_line(conf, "as", "name") == 5 &&
		  cyph_cfg_key_line(conf, "nms", "address") == 8 &&
		  cyph_cfg_key_line(conf, "node", "port") == 0,
		  "cyph_cfg_key_line finds keys per section");
	TAP_CHECK(load("", &c, err, sizeof(err)) == 0 && !cyph_cfg_override(
		  cyd_config_fields, cyd_config_nfields, &c, "as.name=Alice", err, sizeof(err)) &&
		  cyd_config_check(&c, conf, err, sizeof(err)) &&
		  err_is(err, 5, "[as] name: 'Alice' is not a DNS label"),
		  "upper-case node name refused (%s)", err);
}

/* [adapter]: off by default; when on, the LAN interface and its programs. */
static void test_adapter_config(void)
{
	struct cyd_config c;
	char err[1024];

	TAP_CHECK(!load("", &c, err, sizeof(err)) && !c.adapter.enabled && c.adapter.dhcp &&
		  c.adapter.sync_ms == 30000 && c.adapter.lease_ms == 3600000 &&
		  !strcmp(c.adapter.nft, "/usr/sbin/nft"),
		  "adapter off by default; sync 30 s, lease 1 h (%s)", err);
	TAP_CHECK(load("[adapter]\nenabled = true\n", &c, err, sizeof(err)) &&
		  err_is(err, 0, "[adapter] lan_interface: required"),
		  "enabled without lan_interface: refused (%s)", err);
	TAP_CHECK(load("[adapter]\nenabled = true\nlan_interface = cyph0\n", &c, err,
		       sizeof(err)) && err_is(err, 11, "[adapter] lan_interface: 'cyph0'"),
		  "the overlay device is no LAN: refused at its line (%s)", err);
	TAP_CHECK(load("[adapter]\nenabled = true\nlan_interface = lan0\n"
		       "dnsmasq = /nonexistent/dnsmasq\n", &c, err, sizeof(err)) &&
		  err_is(err, 12, "[adapter] dnsmasq: /nonexistent/dnsmasq"),
		  "a dnsmasq that cannot run: refused at its line (%s)", err);
	TAP_CHECK(!load("[adapter]\nenabled = true\nlan_interface = lan0\ndhcp = false\n"
			"nft = /bin/true\n", &c, err, sizeof(err)),
		  "without DHCP dnsmasq is not needed (%s)", err);
	TAP_CHECK(load("[adapter]\nenabled = true\nlan_interface = lan0\ndhcp = false\n"
		       "run_dir = rel\nnft = /bin/true\n", &c, err, sizeof(err)) &&
		  err_is(err, 13, "[adapter] run_dir: 'rel' is not an absolute path"),
		  "relative run_dir refused (%s)", err);
	TAP_CHECK(load("[adapter]\nenabled = true\nlan_interface = lan0\ndhcp = false\n"
		       "nft = /nonexistent/nft\n", &c, err, sizeof(err)) &&
		  err_is(err, 13, "[adapter] nft: /nonexistent/nft"),
		  "an nft that cannot run: refused (%s)", err);
	TAP_CHECK(load("[adapter]\nsync_interval = 500ms\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[adapter] sync_interval"), "sync_interval below 1 s (%s)", err);
	TAP_CHECK(load("[dns]\nenabled = false\n[adapter]\nenabled = true\nlan_interface = lan0\n"
		       "dnsmasq = /bin/true\nnft = /bin/true\n", &c, err, sizeof(err)) &&
		  err_is(err, 10, "[dns] enabled: must be true on an adapter"),
		  "DHCP on the LAN needs the DNS responder (%s)", err);
}

static void test_renewal(void)
{
	/* 1 h credential, renew 15 min before. */
	TAP_CHECK(cyd_cred_renew_time(1000, 1000 + 3600, 900) == 1000 + 2700,
		  "renewal renew_before ahead of expiry");
	/* 10 min credential: renew at half its life, not 15 min before. */
	TAP_CHECK(cyd_cred_renew_time(1000, 1600, 900) == 1300,
		  "short credential renews at half life");
	TAP_CHECK(cyd_cred_renew_time(1000, 900, 900) == 1000, "expired: renew now");
}

/* An RTM_NEWADDR message for addr on ifindex. */
static struct nlmsghdr *addr_msg(char *buf, int family, const char *addr,
				 uint32_t ifindex, uint8_t scope, uint32_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	unsigned char a[16];

	nlh->nlmsg_type = RTM_NEWADDR;
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = family == AF_INET ? 24 : 64;
	ifa->ifa_scope = scope;
	ifa->ifa_index = ifindex;
	inet_pton(family, addr, a);
	mnl_attr_put(nlh, IFA_ADDRESS, family == AF_INET ? 4 : 16, a);
	if (family == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, 4, a);
	mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	return nlh;
}

static void test_addrs(void)
{
	char buf[512], text[64];
	struct kern_addr a;

	TAP_CHECK(kern_addr_parse(addr_msg(buf, AF_INET, "192.0.2.7", 2, RT_SCOPE_UNIVERSE, 0),
				  &a) == 1 && a.family == AF_INET && a.ifindex == 2 &&
		  !strcmp(inet_ntop(AF_INET, &a.v4, text, sizeof(text)), "192.0.2.7"),
		  "IPv4 address parsed");
	TAP_CHECK(kern_addr_usable(&a, 5), "global IPv4 usable");
	TAP_CHECK(!kern_addr_usable(&a, 2), "address on the overlay device skipped");
	kern_addr_parse(addr_msg(buf, AF_INET, "127.0.0.1", 1, RT_SCOPE_HOST, 0), &a);
	TAP_CHECK(!kern_addr_usable(&a, 5), "loopback (host scope) skipped");
	TAP_CHECK(kern_addr_parse(addr_msg(buf, AF_INET6, "2001:db8::5", 3, RT_SCOPE_UNIVERSE,
					   IFA_F_TENTATIVE), &a) == 1 &&
		  a.family == AF_INET6 && !strcmp(inet_ntop(AF_INET6, &a.v6, text, sizeof(text)),
						  "2001:db8::5"),
		  "IPv6 address parsed (IFA_ADDRESS only)");
	TAP_CHECK(!kern_addr_usable(&a, 5), "tentative IPv6 (DAD pending) skipped");
	kern_addr_parse(addr_msg(buf, AF_INET6, "fe80::1", 3, RT_SCOPE_LINK, 0), &a);
	TAP_CHECK(!kern_addr_usable(&a, 5), "link-local IPv6 skipped");
	kern_addr_parse(addr_msg(buf, AF_INET6, "2001:db8::6", 3, RT_SCOPE_UNIVERSE,
				 IFA_F_DEPRECATED), &a);
	TAP_CHECK(!kern_addr_usable(&a, 5), "deprecated IPv6 skipped");
	addr_msg(buf, AF_INET, "192.0.2.7", 2, RT_SCOPE_UNIVERSE, 0)->nlmsg_type = RTM_NEWLINK;
	TAP_CHECK(kern_addr_parse((struct nlmsghdr *)buf, &a) == 0, "other messages ignored");
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, int ifindex, unsigned int flags,
				 uint32_t master)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	nlh->nlmsg_type = type;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	if (master)
		mnl_attr_put_u32(nlh, IFLA_MASTER, master);
	return nlh;
}

/* link events the adapter follows for its 802.1X ports (adapter/port.c) */
static void test_link_events(void)
{
	char buf[512];
	struct kern_link_event e;

	TAP_CHECK(kern_link_event_parse(link_msg(buf, RTM_NEWLINK, 7, 0x1 | 0x10000, 3), &e) == 1 &&
		  e.ifindex == 7 && e.master == 3 && e.up && !e.deleted,
		  "link event: a bridge port up with carrier, its master");
	kern_link_event_parse(link_msg(buf, RTM_NEWLINK, 7, 0x1, 3), &e);
	TAP_CHECK(!e.up, "link event: up without carrier is not up");
	kern_link_event_parse(link_msg(buf, RTM_NEWLINK, 7, 0x10000, 0), &e);
	TAP_CHECK(!e.up && !e.master, "link event: down, out of the bridge");
	TAP_CHECK(kern_link_event_parse(link_msg(buf, RTM_DELLINK, 7, 0, 0), &e) == 1 && e.deleted,
		  "link event: deleted");
	link_msg(buf, RTM_NEWADDR, 7, 0, 0);
	TAP_CHECK(kern_link_event_parse((struct nlmsghdr *)buf, &e) == 0, "link event: other messages ignored");
}

/* resolv.conf edits of the resolv.conf set-up (resolvconf.c) */
static void test_resolv_conf(void)
{
	static const char *const orig =
		"# from DHCP\nsearch example.org\nnameserver 192.0.2.53\nnameserver 192.0.2.54\noptions edns0";
	static const char *const want =
		"# from DHCP\nsearch example.org\n"
		"# added by cyphonicd: its DNS responder, for the overlay on cyph0\nnameserver 127.0.0.153\n"
		"nameserver 192.0.2.53\nnameserver 192.0.2.54\noptions edns0\n";
	char *a, *b, *c, *e;

	a = cyd_resolv_conf_edit(orig, "127.0.0.153", "cyph0");
	TAP_CHECK(a && !strcmp(a, want), "resolv.conf: ours first among the nameservers, behind the marker");
	b = cyd_resolv_conf_edit(a, "127.0.0.153", "cyph0");
	TAP_CHECK(b && !strcmp(b, want), "resolv.conf: a second start (after a crash) replaces, never doubles");
	c = cyd_resolv_conf_edit(b, NULL, "cyph0");
	TAP_CHECK(c && !strcmp(c, "# from DHCP\nsearch example.org\nnameserver 192.0.2.53\n"
			    "nameserver 192.0.2.54\noptions edns0\n"),
		  "resolv.conf: at exit only our two lines go");
	e = cyd_resolv_conf_edit("", "127.0.0.153", "d");
	TAP_CHECK(e && !strcmp(e, "# added by cyphonicd: its DNS responder, for the overlay on d\nnameserver 127.0.0.153\n"),
		  "resolv.conf: an empty (or missing) file gets our nameserver");
	free(a);
	free(b);
	free(c);
	free(e);
}

/* Do sources x and y get one handshake budget key (hsbudget.c)? */
static bool same_key(const void *x, size_t xlen, const void *y, size_t ylen)
{
	uint8_t kx[32], ky[32];
	size_t nx = cyd_hs_budget_key(x, xlen, kx, sizeof(kx));
	size_t ny = cyd_hs_budget_key(y, ylen, ky, sizeof(ky));

	return nx && nx <= sizeof(kx) && nx == ny && !memcmp(kx, ky, nx);
}

/* Handshake budgets per host (hsbudget.c), not per socket address. */
static void test_hs_budget_key(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(1000) }, b = a;
	struct sockaddr_in6 c = { .sin6_family = AF_INET6, .sin6_port = htons(1) }, e = c;
	uint8_t r1[64], r2[64], k[32];
	uint32_t session = 7;

	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	b.sin_addr = a.sin_addr;
	b.sin_port = htons(2000);
	TAP_CHECK(same_key(&a, sizeof(a), &b, sizeof(b)), "hs budget: one IPv4 host, two ports: one key");
	inet_pton(AF_INET, "192.0.2.2", &b.sin_addr);
	TAP_CHECK(!same_key(&a, sizeof(a), &b, sizeof(b)), "hs budget: another IPv4 address: another key");

	inet_pton(AF_INET6, "2001:db8:1:2::1", &c.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &e.sin6_addr);
	e.sin6_port = htons(2);
	TAP_CHECK(same_key(&c, sizeof(c), &e, sizeof(e)), "hs budget: one IPv6 /64: one key");
	inet_pton(AF_INET6, "2001:db8:1:3::1", &e.sin6_addr);
	TAP_CHECK(!same_key(&c, sizeof(c), &e, sizeof(e)), "hs budget: another /64: another key");

	/* a relayed ClientHello: the sockaddr, then the relay session id */
	memcpy(r1, &a, sizeof(a));
	memcpy(r1 + sizeof(a), &session, sizeof(session));
	memcpy(r2, r1, sizeof(a) + sizeof(session));
	r2[sizeof(a)] ^= 1;
	TAP_CHECK(!same_key(r1, sizeof(a) + sizeof(session), r2, sizeof(a) + sizeof(session)),
		  "hs budget: two relay sessions through one TRS: two keys");

	memset(r1, 0x41, sizeof(r1));
	TAP_CHECK(cyd_hs_budget_key(r1, 5, k, sizeof(k)) == 5 && !memcmp(k, r1, 5),
		  "hs budget: no IP address: the source itself");
	TAP_CHECK(cyd_hs_budget_key(r1, 40, k, sizeof(k)) > sizeof(k),
		  "hs budget: a source too long for the key: refused");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(conf, sizeof(conf), "%s/cyphonicd.conf", dir);
	snprintf(pwfile, sizeof(pwfile), "%s/pw", dir);
	snprintf(cafile, sizeof(cafile), "%s/ca.crt", dir);
	write_file(pwfile, "secret\n");
	write_file(cafile, "readable\n");
	cyph_log_init("test_cyphonicd", CYPH_LOG_ERR);
	test_config();
	test_adapter_config();
	test_renewal();
	test_addrs();
	test_link_events();
	test_resolv_conf();
	test_hs_budget_key();
	unlink(conf);
	unlink(pwfile);
	unlink(cafile);
	rmdir(dir);
	return tap_done();
}
