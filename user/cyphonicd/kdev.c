// SPDX-License-Identifier: MIT
/*
 * The kernel side of a node: the cyphonic device (created when absent),
 * the node's UDP sockets handed to it, the node's VIPs as its local
 * identity and as addresses on the device. cyd_kdev_down() undoes exactly
 * what cyd_kdev_up() did, so a stopped daemon leaves no kernel state
 * behind: a device it created is deleted (which frees tunnels and
 * sockets with it); on a device it found, its own identity, addresses
 * and sockets are removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/cyphonic.h>
#include "kernel/link.h"
#include "kernel/udppair.h"
#include "cyphonicd.h"

static void nonblock(int fd)
{
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int device(struct cyd_kdev *k, const char *name, char *err, size_t errlen)
{
	char kind[32], why[320];
	int rc;

	k->ifindex = if_nametoindex(name);
	if (!k->ifindex) {
		/* Creating the link loads the module (rtnl-link-cyphonic). */
		rc = kern_link_create(&k->rtnl, name, CYPHONIC_LINK_KIND);
		if (rc && rc != -EEXIST) {
			snprintf(err, errlen, "[node] device: cannot create %s: %s", name,
				 kern_nl_strerror(&k->rtnl, rc, why, sizeof(why)));
			return -1;
		}
		k->created = !rc;
		k->ifindex = if_nametoindex(name);
		if (k->created)
			log_info("created device %s (ifindex %u)", name, k->ifindex);
	}
	rc = k->ifindex ? kern_link_kind(&k->rtnl, k->ifindex, kind, sizeof(kind)) : -ENODEV;
	if (rc || strcmp(kind, CYPHONIC_LINK_KIND)) {
		snprintf(err, errlen, "[node] device: %s %s", name,
			 rc ? strerror(-rc) : "exists and is not a cyphonic device");
		return -1;
	}
	return 0;
}

static int sockets(struct cyd_kdev *k, uint16_t port, char *err, size_t errlen)
{
	char note[256], why[320];
	int rc;

	if (kern_udp_open_pair(port, &k->fd4, &k->fd6, note, sizeof(note), err, errlen))
		return -1;
	if (note[0])
		log_warn("%s", note);
	nonblock(k->fd4);
	nonblock(k->fd6);
	k->port = kern_udp_port(k->fd4 >= 0 ? k->fd4 : k->fd6);
	rc = kern_cyph_set_sockets(&k->genl, k->ifindex, k->fd4, k->fd6);
	if (rc) {
		snprintf(err, errlen, "handing the UDP sockets to the device: %s",
			 kern_nl_strerror(&k->genl.nl, rc, why, sizeof(why)));
		return -1;
	}
	return 0;
}

static int vips(struct cyd_kdev *k, const struct cyd_config *c, const struct cyd_cred *cr,
		char *err, size_t errlen)
{
	char why[320];
	int rc;

	k->vip4 = cr->vip4;
	k->vip6 = cr->vip6;
	k->has_vip4 = cr->has_vip4;
	k->has_vip6 = cr->has_vip6;
	k->plen4 = (uint8_t)c->prefix4;
	k->plen6 = (uint8_t)c->prefix6;
	rc = kern_cyph_local(&k->genl, k->ifindex, true, k->has_vip4 ? &k->vip4 : NULL,
			     k->has_vip6 ? &k->vip6 : NULL);
	if (rc && rc != -EEXIST) {
		snprintf(err, errlen, "local identity: %s",
			 kern_nl_strerror(&k->genl.nl, rc, why, sizeof(why)));
		return -1;
	}
	k->local_added = !rc;
	if (k->has_vip4) {
		rc = kern_addr_change(&k->rtnl, true, k->ifindex, AF_INET, &k->vip4,
				      k->plen4);
		if (rc)
			goto addr_fail;
		k->addr4_added = true;
	}
	if (k->has_vip6) {
		rc = kern_addr_change(&k->rtnl, true, k->ifindex, AF_INET6, &k->vip6,
				      k->plen6);
		if (rc)
			goto addr_fail;
		k->addr6_added = true;
	}
	return 0;
addr_fail:
	snprintf(err, errlen, "VIP address on the device: %s",
		 kern_nl_strerror(&k->rtnl, rc, why, sizeof(why)));
	return -1;
}

int cyd_kdev_up(struct cyd_kdev *k, const struct cyd_config *c,
		const struct cyd_cred *cr, char *err, size_t errlen)
{
	char why[320];
	int rc;

	memset(k, 0, sizeof(*k));
	k->fd4 = k->fd6 = -1;
	if (kern_nl_open(&k->rtnl, NETLINK_ROUTE, 0, err, errlen) ||
	    device(k, c->device, err, errlen) ||
	    kern_cyph_open(&k->genl, err, errlen) ||
	    sockets(k, (uint16_t)c->port, err, errlen) ||
	    vips(k, c, cr, err, errlen))
		return -1;
	rc = kern_link_set_up(&k->rtnl, k->ifindex);
	if (rc) {
		snprintf(err, errlen, "setting %s up: %s", c->device,
			 kern_nl_strerror(&k->rtnl, rc, why, sizeof(why)));
		return -1;
	}
	log_info("device %s: UDP port %u (%s%s%s), VIPs set", c->device, k->port,
		 k->fd4 >= 0 ? "IPv4" : "", k->fd4 >= 0 && k->fd6 >= 0 ? " + " : "",
		 k->fd6 >= 0 ? "IPv6" : "");
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void cyd_kdev_down(struct cyd_kdev *k)
{
	char why[320];
	int rc;

	if (k->created && k->ifindex) {
		rc = kern_link_delete(&k->rtnl, k->ifindex);
		if (rc)
			log_warn("deleting the device: %s",
				 kern_nl_strerror(&k->rtnl, rc, why, sizeof(why)));
		else
			log_info("deleted the device it created");
	} else if (k->ifindex && k->genl.nl.sk) {
		if (k->addr4_added)
			kern_addr_change(&k->rtnl, false, k->ifindex, AF_INET, &k->vip4, k->plen4);
		if (k->addr6_added)
			kern_addr_change(&k->rtnl, false, k->ifindex, AF_INET6, &k->vip6, k->plen6);
		if (k->local_added)
			kern_cyph_local(&k->genl, k->ifindex, false,
					k->has_vip4 ? &k->vip4 : NULL,
					k->has_vip6 ? &k->vip6 : NULL);
		if (k->fd4 >= 0 || k->fd6 >= 0)
			kern_cyph_detach(&k->genl, k->ifindex,
					 (k->fd4 >= 0 ? CYPHONIC_DETACH_F_4 : 0) |
					 (k->fd6 >= 0 ? CYPHONIC_DETACH_F_6 : 0));
		log_info("removed its identity, addresses and sockets from the device");
	}
	close_fd(&k->fd4);
	close_fd(&k->fd6);
	kern_cyph_close(&k->genl);
	kern_nl_close(&k->rtnl);
	memset(k, 0, sizeof(*k));
	k->fd4 = k->fd6 = -1;
}
