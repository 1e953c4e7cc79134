// SPDX-License-Identifier: MIT
/*
 * "No device can be another" (issue 10 point 4), with nftables: the
 * daemon loads its own table (inet cyphonic_adapter) through the nft
 * program and deletes it at exit. On the LAN interface:
 *
 *   forward: a packet is let through only when its source MAC and source
 *            IP are an admitted general node's pair (sets gn4, gn6);
 *            else it is dropped and counted: not_admitted (a listed
 *            basic or 802.1X node's MAC before its login or authorized
 *            802.1X session, or after it ended), unknown_mac (no node
 *            has that MAC: unknown devices reach nothing beyond the
 *            adapter) or spoofed_source (an admitted MAC with another
 *            source address);
 *   input:   the adapter itself answers DHCP, DNS and ICMP from the LAN,
 *            and the login page ([adapter] portal_port); anything else
 *            to it is dropped and counted (to_adapter). DNS only for
 *            listed devices' MACs (else unknown_mac), each at most
 *            DNS_RATE queries a second (else dns_rate);
 *   prerouting (nat): a basic node not logged in yet that opens HTTP
 *            (port 80) to anywhere is sent to the login page (of its
 *            family: IPv4 or IPv6).
 *
 * For 802.1X the MAC . VIP pair is in the sets only while hostapd's
 * session for that MAC is authorized (eap.c), and when lan_interface is
 * a bridge, a second table (bridge cyphonic_adapter) binds the MAC to
 * the port that session ran on (port.c): on the bridge's prerouting hook,
 * before the bridge learns from a frame, a bound MAC from any other port
 * is dropped and counted (wrong_port). So the source VIP is bound to the
 * MAC and to its session on its LAN port.
 *
 * The sets are replaced in one nft transaction after every sync, and the
 * named counters are read every COUNTERS_MS for /metrics.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/wait.h>
#include "runtime/evloop.h"
#include "runtime/metrics.h"
#include "internal.h"

#define TABLE "cyphonic_adapter"
#define COUNTERS_MS 2000
/*
 * DNS queries (packets to port 53) a LAN device may send the adapter per
 * second, twice that in a burst: every LAN query reaches the daemon's
 * responder from dnsmasq, one source there, whose own budget (200/s) one
 * device could otherwise spend for all. The MACs not admitted yet share
 * one bucket, since a device may copy any listed MAC it sees on the
 * LAN. DNS_MACS bounds the set of
 * buckets; only listed devices' MACs get one.
 */
#define DNS_RATE 20
#define DNS_MACS 65536		/* as many as an adapter may list (nodestate) */

static const char *const reasons[] = { "unknown_mac", "spoofed_source", "to_adapter",
				       "not_admitted", "dns_rate", "wrong_port" };
#define WRONG_PORT 5			/* the bridge table's counter */
#define N_REASONS (sizeof(reasons) / sizeof(reasons[0]))

static struct {
	bool loaded;
	struct cyph_gauge *drops[N_REASONS];
	struct cyph_timer *timer;
} nft;

/*
 * Runs `nft ARG...` with in on its stdin (NULL: none) and, when out is
 * not NULL, its stdout into out. Returns the exit status, -1 when it
 * could not run.
 */
static int run_nft(const char *bin, const char *arg1, const char *in, char *out, size_t cap)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, status = -1;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC))
		goto out;
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		execl(bin, "nft", arg1, (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	pin[0] = pout[1] = -1;
	if (in && write(pin[1], in, strlen(in)) != (ssize_t)strlen(in))
		log_warn("[adapter] nft: writing its input: %s", strerror(errno));
	close(pin[1]);
	pin[1] = -1;
	while ((n = read(pout[0], out ? out + got : (char[256]){ 0 },
			 out ? cap - 1 - got : 256)) > 0)
		if (out && (got += (size_t)n) >= cap - 1)
			break;
	if (out)
		out[got] = '\0';
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		status = -1;
	else
		status = WEXITSTATUS(status);
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
	}
	return status;
}

/* The set elements of the admitted nodes: "MAC . VIP, ..." per family. */
static void elements(const struct cyd_adapter *a, FILE *f, int family)
{
	char addr[INET6_ADDRSTRLEN];
	bool first = true;

	for (const struct cyd_gn *g = a->list; g; g = g->next) {
		if (!g->ctx || (family == AF_INET ? !g->has4 : !g->has6))
			continue;
		inet_ntop(family, family == AF_INET ? (const void *)&g->vip4 : &g->vip6, addr,
			  sizeof(addr));
		fprintf(f, "%s%02x:%02x:%02x:%02x:%02x:%02x . %s", first ? "" : ", ", g->mac[0],
			g->mac[1], g->mac[2], g->mac[3], g->mac[4], g->mac[5], addr);
		first = false;
	}
}

static void macs(const struct cyd_adapter *a, FILE *f)
{
	bool first = true;

	for (const struct cyd_gn *g = a->list; g; g = g->next) {
		if (!g->ctx)
			continue;
		fprintf(f, "%s%02x:%02x:%02x:%02x:%02x:%02x", first ? "" : ", ", g->mac[0],
			g->mac[1], g->mac[2], g->mac[3], g->mac[4], g->mac[5]);
		first = false;
	}
}

/* Listed basic and 802.1X nodes not admitted (now): portal only, or nothing. */
static void pending(const struct cyd_adapter *a, FILE *f, bool basic_only)
{
	bool first = true;

	for (const struct cyd_gn *g = a->list; g; g = g->next) {
		if (g->ctx || g->method == CYPH_GN_MAC ||
		    (basic_only && g->method != CYPH_GN_BASIC))
			continue;
		fprintf(f, "%s%02x:%02x:%02x:%02x:%02x:%02x", first ? "" : ", ", g->mac[0],
			g->mac[1], g->mac[2], g->mac[3], g->mac[4], g->mac[5]);
		first = false;
	}
}

/* 802.1X sessions bound to a bridge port: "MAC . PORT" (ports) or "MAC" (bound). */
static void bound(const struct cyd_adapter *a, FILE *f, bool with_port)
{
	bool first = true;

	for (const struct cyd_gn *g = a->list; g; g = g->next) {
		if (!g->eap_ok || !g->port_name[0])
			continue;
		fprintf(f, "%s%02x:%02x:%02x:%02x:%02x:%02x", first ? "" : ", ", g->mac[0],
			g->mac[1], g->mac[2], g->mac[3], g->mac[4], g->mac[5]);
		if (with_port)
			fprintf(f, " . \"%s\"", g->port_name);
		first = false;
	}
}

/* The transaction that replaces the sets' contents with the admitted nodes. */
static void put_sets(const struct cyd_adapter *a, FILE *f)
{
	if (cyd_adapter_port_bridge()) {
		fputs("flush set bridge " TABLE " ports\nflush set bridge " TABLE " bound\n"
		      "add element bridge " TABLE " ports { ", f);
		bound(a, f, true);
		fputs(" }\nadd element bridge " TABLE " bound { ", f);
		bound(a, f, false);
		fputs(" }\n", f);
	}
	fputs("flush set inet " TABLE " gn4\nflush set inet " TABLE " gn6\n"
	      "flush set inet " TABLE " macs\nflush set inet " TABLE " pending\n"
	      "flush set inet " TABLE " login\n", f);
	if (!a->list)
		return;
	fputs("add element inet " TABLE " pending { ", f);
	pending(a, f, false);
	fputs(" }\nadd element inet " TABLE " login { ", f);
	pending(a, f, true);
	fputs(" }\n", f);
	fputs("add element inet " TABLE " gn4 { ", f);
	elements(a, f, AF_INET);
	fputs(" }\nadd element inet " TABLE " gn6 { ", f);
	elements(a, f, AF_INET6);
	fputs(" }\nadd element inet " TABLE " macs { ", f);
	macs(a, f);
	fputs(" }\n", f);
}

/* An empty "add element ... {  }" is a syntax error: drop those lines. */
static void drop_empty(char *s)
{
	char *line = s, *end;

	while ((end = strchr(line, '\n'))) {
		if (strstr(line, "{  }") && strstr(line, "{  }") < end)
			memmove(line, end + 1, strlen(end + 1) + 1);
		else
			line = end + 1;
	}
}

static void ruleset(const struct cyd_adapter *a, FILE *f)
{
	const struct cyd_adapter_config *c = &a->d->cfg.adapter;
	const char *lan = c->lan;
	const struct cyd_kdev *k = &a->d->kdev;
	char portal[96] = "", redirect[2 * CYPH_CFG_STR_MAX + 256] = "", vip[INET6_ADDRSTRLEN];
	size_t off = 0;

	if (c->portal) {
		snprintf(portal, sizeof(portal), "    tcp dport %lld accept\n", c->portal_port);
		/* to the page's own address of the family: a redirect would pick
		 * the interface's first IPv6 address, perhaps its link-local one */
		if (k->has_vip4) {
			inet_ntop(AF_INET, &k->vip4, vip, sizeof(vip));
			off += (size_t)snprintf(redirect + off, sizeof(redirect) - off,
				"    iifname \"%s\" ether saddr @login tcp dport 80 dnat ip to %s:%lld\n",
				lan, vip, c->portal_port);
		}
		if (k->has_vip6 && off < sizeof(redirect)) {
			inet_ntop(AF_INET6, &k->vip6, vip, sizeof(vip));
			snprintf(redirect + off, sizeof(redirect) - off,
				 "    iifname \"%s\" ether saddr @login tcp dport 80 dnat ip6 to [%s]:%lld\n",
				 lan, vip, c->portal_port);
		}
	}
	fprintf(f,
		"table inet " TABLE " {\n"
		"  counter unknown_mac { }\n  counter spoofed_source { }\n"
		"  counter to_adapter { }\n  counter not_admitted { }\n  counter dns_rate { }\n"
		"  set gn4 { type ether_addr . ipv4_addr; }\n"
		"  set gn6 { type ether_addr . ipv6_addr; }\n"
		"  set macs { type ether_addr; }\n"
		"  set pending { type ether_addr; }\n"
		"  set login { type ether_addr; }\n"
		"  set dns { type ether_addr; size %d; flags dynamic,timeout; timeout 1m; }\n"
		"  chain forward {\n"
		"    type filter hook forward priority filter - 10; policy accept;\n"
		"    iifname != \"%s\" accept\n"
		"    ether saddr . ip saddr @gn4 accept\n"
		"    ether saddr . ip6 saddr @gn6 accept\n"
		"    ether saddr @pending counter name not_admitted drop\n"
		"    ether saddr != @macs counter name unknown_mac drop\n"
		"    counter name spoofed_source drop\n"
		"  }\n"
		"  chain input {\n"
		"    type filter hook input priority filter - 10; policy accept;\n"
		"    iifname != \"%s\" accept\n"
		/* before conntrack's verdict: a flood from one UDP socket is
		 * "established" after its first answer */
		"    meta l4proto { tcp, udp } th dport 53 ether saddr != @macs "
		"ether saddr != @pending counter name unknown_mac drop\n"
		"    meta l4proto { tcp, udp } th dport 53 ether saddr @pending "
		"limit rate over %d/second burst %d packets counter name dns_rate drop\n"
		"    meta l4proto { tcp, udp } th dport 53 update @dns { ether saddr "
		"limit rate over %d/second burst %d packets } counter name dns_rate drop\n"
		"    ct state established,related accept\n"
		"    udp dport { 53, 67, 547 } accept\n"
		"    tcp dport 53 accept\n"
		"%s"
		"    meta l4proto { icmp, ipv6-icmp } accept\n"
		"    counter name to_adapter drop\n"
		"  }\n"
		"  chain prerouting {\n"
		"    type nat hook prerouting priority dstnat - 10; policy accept;\n"
		"%s"
		"  }\n"
		"}\n", DNS_MACS, lan, lan, DNS_RATE, 2 * DNS_RATE, DNS_RATE, 2 * DNS_RATE, portal,
		redirect);
	if (!cyd_adapter_port_bridge())
		return;
	/* before the bridge learns from the frame: a copied MAC moves nothing */
	fprintf(f,
		"table bridge " TABLE " {\n"
		"  counter wrong_port { }\n"
		"  set ports { type ether_addr . ifname; }\n"
		"  set bound { type ether_addr; }\n"
		"  chain prerouting {\n"
		"    type filter hook prerouting priority filter - 10; policy accept;\n"
		"    meta ibrname != \"%s\" accept\n"
		"    ether saddr . iifname @ports accept\n"
		"    ether saddr @bound counter name wrong_port drop\n"
		"  }\n"
		"}\n", lan);
}

static int load(const struct cyd_adapter *a, bool with_table)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (!f)
		return -1;
	if (with_table) {
		/* "add table" then "delete table": a leftover from a crash goes */
		fputs("add table inet " TABLE "\ndelete table inet " TABLE "\n", f);
		if (cyd_adapter_port_bridge())
			fputs("add table bridge " TABLE "\ndelete table bridge " TABLE "\n", f);
		ruleset(a, f);
	}
	put_sets(a, f);
	if (fclose(f)) {
		free(text);
		return -1;
	}
	drop_empty(text);
	rc = run_nft(a->d->cfg.adapter.nft, "-f-", text, NULL, 0);
	free(text);
	return rc;
}

/* Reads the named counters' packet counts of one table into the gauges. */
static void read_table(const struct cyd_adapter *a, const char *family, size_t from, size_t to)
{
	char out[4096], cmd[64], *p;

	snprintf(cmd, sizeof(cmd), "list counters table %s " TABLE, family);
	if (run_nft(a->d->cfg.adapter.nft, cmd, NULL, out, sizeof(out)))
		return;
	for (size_t i = from; i < to; i++) {
		char key[64];
		uint64_t packets;

		snprintf(key, sizeof(key), "counter %s {", reasons[i]);
		p = strstr(out, key);
		if (p && (p = strstr(p, "packets ")) && sscanf(p, "packets %" SCNu64, &packets) == 1)
			cyph_gauge_set(nft.drops[i], (int64_t)packets);
	}
}

static void read_counters(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	read_table(arg, "inet", 0, WRONG_PORT);
	if (cyd_adapter_port_bridge())
		read_table(arg, "bridge", WRONG_PORT, N_REASONS);
}

int cyd_adapter_nft_start(struct cyd_adapter *a, char *err, size_t errlen)
{
	char labels[48];

	for (size_t i = 0; i < N_REASONS; i++) {
		if (nft.drops[i])
			continue;
		snprintf(labels, sizeof(labels), "reason=\"%s\"", reasons[i]);
		nft.drops[i] = cyph_gauge_new("cyphonicd_lan_dropped_packets",
			"LAN packets the adapter's nftables guard dropped, by reason", labels);
	}
	if (load(a, true)) {
		snprintf(err, errlen, "nftables table inet %s on %s could not be loaded (%s)",
			 TABLE, a->d->cfg.adapter.lan, a->d->cfg.adapter.nft);
		return -1;
	}
	nft.loaded = true;
	nft.timer = cyph_loop_add_timer(a->d->loop, COUNTERS_MS, true, read_counters, a);
	log_info("[adapter] nftables guard on %s: table inet %s", a->d->cfg.adapter.lan, TABLE);
	return 0;
}

void cyd_adapter_nft_update(struct cyd_adapter *a)
{
	if (nft.loaded && load(a, false))
		log_err("[adapter] nftables: updating the admitted sets failed");
}

void cyd_adapter_nft_stop(struct cyd_adapter *a)
{
	if (nft.timer)
		cyph_loop_del_timer(a->d->loop, nft.timer);
	nft.timer = NULL;
	if (nft.loaded && run_nft(a->d->cfg.adapter.nft, "-f-", cyd_adapter_port_bridge() ?
				  "delete table inet " TABLE "\ndelete table bridge " TABLE "\n" :
				  "delete table inet " TABLE "\n", NULL, 0))
		log_warn("[adapter] nftables: deleting table inet %s failed", TABLE);
	nft.loaded = false;
}
