// SPDX-License-Identifier: MIT
/*
 * The daemon's view of its tunnels for `cyphctl show` (issue 9 point 6):
 * the state file of user/lib/nodestate (statefile.h says why a file and
 * not a socket). Every STATUS_MS the daemon formats its installed tunnels
 * and, when the text changed, replaces the file atomically, so a reader
 * never sees half of it and an idle daemon writes nothing. The file goes
 * at exit; one left by a daemon that died is recognised by its pid.
 *
 * tunnels.c and rekey.c call cyd_status_keyed() when a tunnel gets keys;
 * everything else is read from the tunnel list here, so the handshake
 * code carries no bookkeeping for this.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "nodestate/statefile.h"
#include "runtime/evloop.h"
#include "runtime/fileutil.h"
#include "cyphonicd.h"
#include "tunnels.h"

#define STATUS_MS 250

static int64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cyd_status_keyed(struct cyd_tun *u, bool rekey)
{
	uint64_t now = cyph_now_ms();

	u->hs_took_ms = now - u->hs_ms;
	u->hs_unix_ms = unix_ms();
	if (rekey)
		u->rekeys++;
	else
		/* the route request was answered when the handshake began */
		u->route_took_ms = u->route_ms ? (int64_t)(u->hs_ms - u->route_ms) : -1;
}

static const char *path_of(const struct cyd_tun *u)
{
	return cyd_path_name(u->path);
}

static size_t collect(struct cyd *d, struct nodestate_tunnel **out)
{
	struct nodestate_tunnel *v;
	struct cyd_tun *u;
	size_t n = 0, i = 0;

	for (u = d->tun.list; u; u = u->next)
		n += u->installed;
	v = n ? calloc(n, sizeof(*v)) : NULL;
	*out = v;
	if (!v)
		return 0;
	for (u = d->tun.list; u && i < n; u = u->next) {
		if (!u->installed)
			continue;
		v[i].index = u->index;
		snprintf(v[i].path, sizeof(v[i].path), "%s", path_of(u));
		snprintf(v[i].peer, sizeof(v[i].peer), "%s", u->who.fqdn);
		v[i].initiator = u->initiator;
		v[i].handshake_unix_ms = u->hs_unix_ms;
		v[i].route_ms = u->route_took_ms;
		v[i].handshake_ms = (int64_t)u->hs_took_ms;
		v[i].rekeys = u->rekeys;
		i++;
	}
	return i;
}

static void write_now(struct cyd *d)
{
	struct cyd_status *s = &d->status;
	struct nodestate_header h = { .pid = (int)getpid(), .ifindex = d->kdev.ifindex };
	struct nodestate_tunnel *v;
	struct nodestate_gnode *g;
	size_t n = collect(d, &v), ng = cyd_adapter_status(&d->adapter, &g), need, off;
	char *buf, err[512];

	snprintf(h.device, sizeof(h.device), "%.*s", IF_NAMESIZE - 1, d->cfg.device);
	snprintf(h.node, sizeof(h.node), "%s", d->cred.fqdn);
	snprintf(h.nat, sizeof(h.nat), "%s", cyd_nat_name(d->nat.type));
	/* an adapter's general nodes follow its tunnels */
	need = nodestate_format(NULL, 0, &h, v, n) + nodestate_format_gnodes(NULL, 0, g, ng) + 1;
	buf = malloc(need);
	if (buf) {
		off = nodestate_format(buf, need, &h, v, n);
		nodestate_format_gnodes(buf + off, need - off, g, ng);
	}
	free(v);
	free(g);
	if (!buf)
		return;
	if (s->last && !strcmp(s->last, buf)) {
		free(buf);
		return;
	}
	if (cyph_write_file_atomic(s->path, buf, need - 1, 0644, err, sizeof(err))) {
		if (!s->warned)
			log_warn("state file for cyphctl: %s", err);
		s->warned = true;
		free(buf);
		return;
	}
	s->warned = false;
	free(s->last);
	s->last = buf;
}

static void on_tick(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	write_now(arg);
}

int cyd_status_start(struct cyd_status *s, struct cyd *d)
{
	memset(s, 0, sizeof(*s));
	if (nodestate_path(s->path, sizeof(s->path), d->cfg.runtime_dir, d->cfg.device,
			   nodestate_netns())) {
		log_warn("[node] runtime_dir: path too long, no state file for cyphctl");
		return 0;
	}
	/* /run/cyphonic: the unit's RuntimeDirectory=, or made here */
	if (mkdir(d->cfg.runtime_dir, 0755) && errno != EEXIST)
		log_warn("[node] runtime_dir %s: %s", d->cfg.runtime_dir, strerror(errno));
	s->tick = cyph_loop_add_timer(d->loop, STATUS_MS, true, on_tick, d);
	write_now(d);
	return s->tick ? 0 : -1;
}

void cyd_status_stop(struct cyd_status *s, struct cyd *d)
{
	if (s->tick)
		cyph_loop_del_timer(d->loop, s->tick);
	if (s->last)
		unlink(s->path);
	free(s->last);
	memset(s, 0, sizeof(*s));
}
