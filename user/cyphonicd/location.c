// SPDX-License-Identifier: MIT
/*
 * Where this node can be reached: its global IPv4 and IPv6 addresses with
 * the node's UDP port, as REGISTER reports them. The list is re-read with
 * one rtnetlink dump whenever the monitor socket reports an address event,
 * rather than patched event by event: a dump cannot drift from the
 * kernel's truth, and an event burst (an address replaced, a DHCP renew)
 * costs one dump.
 */
#include <errno.h>
#include <string.h>
#include "kernel/addrs.h"
#include "runtime/evloop.h"
#include "cyphonicd.h"

int cyd_location_open(struct cyd_location *l, char *err, size_t errlen)
{
	if (kern_addr_monitor_open(&l->mon, err, errlen))
		return -1;
	if (kern_nl_open(&l->req, NETLINK_ROUTE, 0, err, errlen)) {
		kern_nl_close(&l->mon);
		return -1;
	}
	return 0;
}

void cyd_location_close(struct cyd_location *l)
{
	kern_nl_close(&l->mon);
	kern_nl_close(&l->req);
}

struct collect {
	const struct cyd_location *l;
	struct proto_ep eps[PROTO_MAX_ADDRS];
	unsigned int n;
};

static void one(const struct kern_addr *a, void *arg)
{
	struct collect *c = arg;
	struct proto_ep *ep;
	uint16_t port = a->family == AF_INET ? c->l->port4 : c->l->port6;

	if (!port || c->n == PROTO_MAX_ADDRS || !kern_addr_usable(a, c->l->skip_ifindex))
		return;
	ep = &c->eps[c->n++];
	memset(ep, 0, sizeof(*ep));
	ep->family = a->family == AF_INET ? 4 : 6;
	ep->port = port;
	if (a->family == AF_INET)
		ep->v4 = a->v4;
	else
		ep->v6 = a->v6;
}

#define DUMP_TRIES 4

int cyd_location_refresh(struct cyd_location *l)
{
	struct collect c;
	unsigned int i;
	int rc, tries = 0;

	/* A dump that raced an address change (this daemon's own VIPs being
	 * set, a DHCP renew) is incomplete: read them all again. */
	do {
		memset(&c, 0, sizeof(c));
		c.l = l;
		rc = kern_addr_dump(&l->req, one, &c);
	} while (rc == -EINTR && ++tries < DUMP_TRIES);
	if (rc) {
		log_warn("reading the host's addresses: %s", strerror(-rc));
		return -1;
	}
	if (c.n == l->n) {
		for (i = 0; i < c.n && proto_ep_equal(&c.eps[i], &l->eps[i]); i++)
			;
		if (i == c.n)
			return 0;
	}
	memcpy(l->eps, c.eps, sizeof(c.eps));
	l->n = c.n;
	return 1;
}

static int on_event(const struct nlmsghdr *nlh, void *arg)
{
	struct kern_addr a;

	if (kern_addr_parse(nlh, &a) == 1)
		*(bool *)arg = true;
	return 0;
}

bool cyd_location_events(struct cyd_location *l)
{
	bool seen = false;
	int rc = kern_nl_read_events(&l->mon, on_event, &seen);

	/* Events were lost: something changed, the dump will say what. */
	if (rc == -ENOBUFS)
		seen = true;
	else if (rc)
		log_warn("address monitor: %s", strerror(-rc));
	if (seen)
		l->changed_ms = cyph_now_ms();
	return seen;
}
