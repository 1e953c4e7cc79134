// SPDX-License-Identifier: MIT
/*
 * The LAN port of an 802.1X session ([adapter] ieee8021x): the source VIP
 * of an 802.1X general node is bound to its MAC *and* to the port its
 * session ran on (issue 10 point 4).
 *
 * hostapd runs on lan_interface; when that is a bridge, it sees the EAP
 * exchanges of every port but does not say which one. When hostapd
 * authorizes a session, the port is read from the bridge's forwarding
 * database: the EAPOL frames the bridge just received from the MAC taught
 * it (and frames with that MAC from any other port are dropped before the
 * bridge learns from them, see below, so it cannot be moved). When
 * lan_interface is no bridge, the port is the interface itself.
 *
 * The binding is enforced by nft.c's bridge table: a frame whose source
 * MAC is bound arrives only through its port; from any other port it is
 * dropped and counted (wrong_port), EAPOL included, so a device with a
 * copied MAC on another port can neither send as the admitted device nor
 * end its session.
 *
 * A session ends with the port: a monitor socket follows link events and
 * a bound port going down (administratively or its carrier), leaving the
 * bridge or deleted ends the admission of every session on it at once
 * (adapter.c), and hostapd is told to forget the station (eap.c) so the
 * device authenticates afresh when it is back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include "kernel/bridge.h"
#include "kernel/link.h"
#include "runtime/evloop.h"
#include "internal.h"

static struct {
	struct cyd_adapter *a;
	struct kern_nl req, mon;
	bool open;
	uint32_t lan;			/* ifindex of lan_interface */
	bool bridge;			/* lan_interface is a bridge: bind to its ports */
} port;

bool cyd_adapter_port_bridge(void)
{
	return port.open && port.bridge;
}

int cyd_adapter_port_of(const uint8_t mac[6], uint32_t *ifindex, char name[16])
{
	int rc;

	if (!port.open)
		return -ENODEV;
	if (!port.bridge) {
		*ifindex = port.lan;
	} else {
		rc = kern_bridge_fdb_port(&port.req, port.lan, mac, ifindex);
		if (rc)
			return rc;
	}
	return if_indextoname(*ifindex, name) ? 0 : -errno;
}

/* Whether ev leaves a port unable to carry a session: down, off the LAN bridge, gone. */
static const char *gone(const struct kern_link_event *ev)
{
	if (ev->deleted)
		return "deleted";
	if (!ev->up)
		return "down";
	if (port.bridge && ev->ifindex != port.lan && ev->master != port.lan)
		return "left the bridge";
	return NULL;
}

static int on_link(const struct nlmsghdr *nlh, void *arg)
{
	struct kern_link_event ev;
	const char *why;

	if (kern_link_event_parse(nlh, &ev) == 1 && (why = gone(&ev)))
		cyd_adapter_port_down(arg, ev.ifindex, why);
	return 0;
}

/* Events were lost: ask for the state of every port a session is bound to. */
static void check_bound(struct cyd_adapter *a)
{
	struct kern_link_event ev;
	const char *why;

	for (struct cyd_gn *g = a->list; g; g = g->next) {
		if (!g->eap_ok || !g->port)
			continue;
		why = kern_link_state(&port.req, g->port, &ev) ? "deleted" : gone(&ev);
		if (why)
			cyd_adapter_port_down(a, g->port, why);
	}
}

static void on_mon(struct cyph_loop *loop, int fd, uint32_t events, void *arg)
{
	int rc;

	(void)loop;
	(void)fd;
	(void)events;
	rc = kern_nl_read_events(&port.mon, on_link, arg);
	if (rc == -ENOBUFS)
		check_bound(arg);
	else if (rc)
		log_warn("[adapter] link monitor: %s", strerror(-rc));
}

int cyd_adapter_port_start(struct cyd_adapter *a, char *err, size_t errlen)
{
	const struct cyd_adapter_config *c = &a->d->cfg.adapter;
	char kind[32] = "";

	if (!c->ieee8021x)
		return 0;
	port.lan = if_nametoindex(c->lan);
	if (!port.lan) {
		snprintf(err, errlen, "[adapter] lan_interface %s: %s", c->lan, strerror(errno));
		return -1;
	}
	if (kern_nl_open(&port.req, NETLINK_ROUTE, 0, err, errlen))
		return -1;
	if (kern_link_monitor_open(&port.mon, err, errlen)) {
		kern_nl_close(&port.req);
		return -1;
	}
	if (cyph_loop_add_fd(a->d->loop, kern_nl_fd(&port.mon), EPOLLIN, on_mon, a)) {
		snprintf(err, errlen, "[adapter] link monitor: event loop");
		kern_nl_close(&port.mon);
		kern_nl_close(&port.req);
		return -1;
	}
	kern_link_kind(&port.req, port.lan, kind, sizeof(kind));
	port.bridge = !strcmp(kind, "bridge");
	port.a = a;
	port.open = true;
	log_info("[adapter] 802.1X sessions bound to their LAN port (%s)",
		 port.bridge ? "the bridge port their MAC was learned on" : c->lan);
	return 0;
}

void cyd_adapter_port_stop(struct cyd_adapter *a)
{
	if (!port.open)
		return;
	cyph_loop_del_fd(a->d->loop, kern_nl_fd(&port.mon));
	kern_nl_close(&port.mon);
	kern_nl_close(&port.req);
	port.open = false;
	port.a = NULL;
}
