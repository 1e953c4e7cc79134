// SPDX-License-Identifier: MIT
/* cyphonicd's view of the tunnels, from its state file (daemon.h). */
#include "daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

void daemon_attach(struct cy_model *m)
{
	uint64_t netns = nodestate_netns();

	for (size_t i = 0; i < m->ndevs; i++) {
		struct cy_device *d = &m->devs[i];

		d->daemon = CY_DAEMON_NONE;
		if (nodestate_path(d->ds_path, sizeof(d->ds_path), NULL, d->name, netns))
			continue;
		if (nodestate_read(d->ds_path, &d->ds)) {
			d->daemon = errno == ENOENT ? CY_DAEMON_NONE : CY_DAEMON_BAD;
			continue;
		}
		if (nodestate_live(&d->ds, d->ifindex) && !strcmp(d->ds.h.device, d->name)) {
			d->daemon = CY_DAEMON_LIVE;
		} else {
			d->daemon = CY_DAEMON_STALE;
			nodestate_free(&d->ds);
		}
	}
}

void daemon_detach(struct cy_model *m)
{
	for (size_t i = 0; i < m->ndevs; i++)
		nodestate_free(&m->devs[i].ds);
}

const struct nodestate_tunnel *daemon_tunnel(const struct cy_device *d, uint32_t index)
{
	return d->daemon == CY_DAEMON_LIVE ? nodestate_find(&d->ds, index) : NULL;
}

uint64_t daemon_age_ms(int64_t unix_ms)
{
	struct timespec ts;
	int64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return now > unix_ms ? (uint64_t)(now - unix_ms) : 0;
}

/* An adapter's general nodes: one line each, why when not up. */
void daemon_print_gnodes(FILE *f, const struct cy_device *d)
{
	const struct nodestate_gnode *g;

	if (!d->ds.ng)
		return;
	fprintf(f, "  general nodes: %zu\n", d->ds.ng);
	for (size_t i = 0; i < d->ds.ng; i++) {
		g = &d->ds.g[i];
		fprintf(f, "    %s (%s) mac %s %s, vip %s: %s", g->name, g->fqdn, g->mac,
			g->method, g->vip, g->state);
		if (strcmp(g->why, "-"))
			fprintf(f, " (%s)", g->why);
		fputc('\n', f);
	}
}

void daemon_print_device(FILE *f, const struct cy_device *d)
{
	switch (d->daemon) {
	case CY_DAEMON_LIVE:
		fprintf(f, "  daemon: cyphonicd (pid %d), node %s, NAT %s\n", d->ds.h.pid,
			d->ds.h.node, d->ds.h.nat[0] ? d->ds.h.nat : "unknown");
		if (d->ds.malformed)
			fprintf(f, "  daemon state: %zu malformed lines skipped\n",
				d->ds.malformed);
		daemon_print_gnodes(f, d);
		break;
	case CY_DAEMON_STALE:
		fprintf(f, "  daemon: not running (stale state file %s)\n", d->ds_path);
		break;
	case CY_DAEMON_BAD:
		fprintf(f, "  daemon: state file %s unreadable or malformed\n", d->ds_path);
		break;
	default:
		fprintf(f, "  daemon: none (no cyphonicd manages this device)\n");
	}
}

void daemon_print_tunnel(FILE *f, const struct cy_device *d, uint32_t index,
			 void (*print_ms)(FILE *, uint64_t))
{
	const struct nodestate_tunnel *t = daemon_tunnel(d, index);

	if (!t) {
		if (d->daemon == CY_DAEMON_LIVE)
			fprintf(f, "  path: (not the daemon's tunnel, or just made)\n");
		return;
	}
	fprintf(f, "  path: %s, peer %s (%s)\n", t->path, t->peer,
		t->initiator ? "we initiated" : "peer initiated");
	fprintf(f, "  last handshake: ");
	print_ms(f, daemon_age_ms(t->handshake_unix_ms));
	fprintf(f, " ago, took %" PRId64 " ms", t->handshake_ms);
	if (t->route_ms >= 0)
		fprintf(f, "; route direction took %" PRId64 " ms", t->route_ms);
	fprintf(f, "; rekeys %" PRIu32 "\n", t->rekeys);
}
