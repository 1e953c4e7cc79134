// SPDX-License-Identifier: MIT
/*
 * The adapter's LAN side. The devices get their VIPs by DHCP with the
 * overlay's prefix length, so they treat every other VIP as on-link:
 *
 *   - the adapter's own VIP goes on the LAN interface as /32 (and as
 *     the overlay prefix without a prefix route for IPv6, which dnsmasq
 *     needs to serve DHCPv6): the DHCP server's address, the devices'
 *     router and DNS server;
 *   - proxy ARP on the LAN interface: the adapter answers ARP for the
 *     VIPs it routes into the overlay (through [node] device), at once
 *     (proxy_delay 0);
 *   - each admitted general node's VIP is routed to the LAN interface
 *     (a /32 or /128, more specific than the overlay route on the
 *     device), so what the overlay delivers to it leaves on the LAN, to
 *     its MAC (a permanent neighbour entry: ARP spoofing cannot divert it);
 *   - IPv4 forwarding on the LAN interface and the device; IPv6
 *     forwarding (which Linux has per host only) when the adapter has an
 *     IPv6 VIP.
 *
 * What was changed is undone at stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include "kernel/link.h"
#include "internal.h"

struct knob {
	char path[384];
	char old[16];
	bool set;
};

#define N_KNOBS 6
static struct knob knobs[N_KNOBS];
static uint32_t lan_ifindex;
static bool addr4, addr6;

static int knob_set(struct knob *k, const char *path, const char *val)
{
	int fd;
	ssize_t n;

	if (strlen(path) >= sizeof(k->path))
		return -1;
	memcpy(k->path, path, strlen(path) + 1);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, k->old, sizeof(k->old) - 1);
	k->old[n > 0 ? n : 0] = '\0';
	k->set = pwrite(fd, val, strlen(val), 0) == (ssize_t)strlen(val);
	close(fd);
	return k->set ? 0 : -1;
}

static void knob_restore(struct knob *k)
{
	int fd;

	if (!k->set)
		return;
	fd = open(k->path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, k->old, strlen(k->old)) < 0)
			log_debug("%s: %s", k->path, strerror(errno));
		close(fd);
	}
	k->set = false;
}

int cyd_adapter_lan_up(struct cyd_adapter *a, char *err, size_t errlen)
{
	struct cyd *d = a->d;
	const char *lan = d->cfg.adapter.lan;
	char p[N_KNOBS][384];
	int rc;

	lan_ifindex = if_nametoindex(lan);
	if (!lan_ifindex) {
		snprintf(err, errlen, "lan_interface %s: %s", lan, strerror(errno));
		return -1;
	}
	snprintf(p[0], sizeof(p[0]), "/proc/sys/net/ipv4/conf/%s/forwarding", lan);
	snprintf(p[1], sizeof(p[1]), "/proc/sys/net/ipv4/conf/%s/proxy_arp", lan);
	snprintf(p[2], sizeof(p[2]), "/proc/sys/net/ipv4/conf/%s/forwarding", d->cfg.device);
	snprintf(p[3], sizeof(p[3]), "/proc/sys/net/ipv6/conf/all/forwarding");
	snprintf(p[4], sizeof(p[4]), "/proc/sys/net/ipv6/conf/%s/accept_ra", lan);
	snprintf(p[5], sizeof(p[5]), "/proc/sys/net/ipv4/neigh/%s/proxy_delay", lan);
	for (int i = 0; i < N_KNOBS; i++) {
		if ((i == 3 || i == 4) && !d->kdev.has_vip6)
			continue;
		/*
		 * accept_ra 0: router advertisements from the untrusted LAN are
		 * ignored; proxy_delay 0: a device's first ARP for a VIP behind
		 * the overlay is answered at once, not after a random wait of up
		 * to 0.8 s (the kernel's default), which its first packet to
		 * each peer would pay
		 */
		if (knob_set(&knobs[i], p[i], i >= 4 ? "0" : "1")) {
			snprintf(err, errlen, "%s: %s", p[i], strerror(errno));
			return -1;
		}
	}
	if (d->kdev.has_vip4) {
		rc = kern_addr_change(&d->kdev.rtnl, true, lan_ifindex, AF_INET, &d->kdev.vip4, 32);
		if (rc && rc != -EEXIST)
			goto fail;
		addr4 = !rc;
	}
	if (d->kdev.has_vip6) {
		/* dnsmasq serves DHCPv6 only on an interface with an address in
		 * the range's prefix: the overlay prefix, without its route */
		rc = kern_addr_change_flags(&d->kdev.rtnl, true, lan_ifindex, AF_INET6,
					    &d->kdev.vip6, d->kdev.plen6, IFA_F_NOPREFIXROUTE);
		if (rc && rc != -EEXIST)
			goto fail;
		addr6 = !rc;
	}
	rc = kern_link_set_up(&d->kdev.rtnl, lan_ifindex);
	if (rc)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "lan_interface %s: the adapter's VIP: %s", lan, strerror(-rc));
	return -1;
}

void cyd_adapter_lan_down(struct cyd_adapter *a)
{
	struct cyd *d = a->d;

	if (addr4)
		kern_addr_change(&d->kdev.rtnl, false, lan_ifindex, AF_INET, &d->kdev.vip4, 32);
	if (addr6)
		kern_addr_change(&d->kdev.rtnl, false, lan_ifindex, AF_INET6, &d->kdev.vip6,
				 d->kdev.plen6);
	addr4 = addr6 = false;
	for (int i = N_KNOBS - 1; i >= 0; i--)
		knob_restore(&knobs[i]);
}

int cyd_adapter_lan_gn(struct cyd_adapter *a, struct cyd_gn *g, bool add)
{
	struct cyd *d = a->d;
	int rc = 0;

	/* The route, and a permanent neighbour entry: no ARP or NDP from
	 * another device can divert this node's traffic to itself. */
	if (g->has4) {
		rc = kern_route_change(&d->kdev.rtnl, add, lan_ifindex, AF_INET, &g->vip4, 32);
		if (!rc || !add)
			rc = kern_neigh_change(&d->kdev.rtnl, add, lan_ifindex, AF_INET, &g->vip4,
					       g->mac);
	}
	if ((!rc || !add) && g->has6) {
		rc = kern_route_change(&d->kdev.rtnl, add, lan_ifindex, AF_INET6, &g->vip6, 128);
		if (!rc || !add)
			rc = kern_neigh_change(&d->kdev.rtnl, add, lan_ifindex, AF_INET6,
					       &g->vip6, g->mac);
	}
	if (rc)
		log_warn("general node %s: %s its route on %s: %s", g->fqdn,
			 add ? "adding" : "removing", d->cfg.adapter.lan, strerror(-rc));
	return rc;
}
