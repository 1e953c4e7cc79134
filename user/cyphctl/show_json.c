// SPDX-License-Identifier: MIT
/*
 * `cyphctl show --json`. The shape is an interface (tests and scripts read
 * it with jq); docs/cyphctl.md describes it. Every counter is always
 * present; absent addresses are left out; absent endpoint/last rx are null.
 */
#include "show.h"

#include <arpa/inet.h>
#include <string.h>

#include "runtime/addr.h"
#include "runtime/json_out.h"
#include "daemon.h"
#include "parse.h"

static void put_stats(struct json_out *j, const struct cy_stats *st)
{
	unsigned int i;

	json_key(j, "stats");
	json_obj_begin(j);
	for (i = 1; i <= CYPHONIC_STAT_MAX; i++) {
		json_key(j, stat_name(i));
		json_u64(j, st->v[i]);
	}
	json_obj_end(j);
}

static void put_addr(struct json_out *j, const char *key, bool has, int af,
		     const void *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (!has || !inet_ntop(af, a, buf, sizeof(buf)))
		return;
	json_key(j, key);
	json_str(j, buf);
}

static void put_locals(struct json_out *j, const struct cy_device *d)
{
	size_t i;

	json_key(j, "locals");
	json_arr_begin(j);
	for (i = 0; i < d->nlocals; i++) {
		json_obj_begin(j);
		put_addr(j, "vip4", d->locals[i].has_vip4, AF_INET,
			 &d->locals[i].vip4);
		put_addr(j, "vip6", d->locals[i].has_vip6, AF_INET6,
			 &d->locals[i].vip6);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void put_keys(struct json_out *j, const struct cy_tunnel *t)
{
	unsigned int i;

	json_key(j, "keys");
	json_arr_begin(j);
	for (i = 0; i < t->nkeys; i++) {
		const struct cy_key *k = &t->keys[i];

		json_obj_begin(j);
		json_key(j, "slot");
		json_str(j, slot_name(k->slot));
		json_key(j, "key_id");
		json_u64(j, k->id);
		json_key(j, "age_ms");
		json_u64(j, k->age_ms);
		json_key(j, "tx_counter");
		json_u64(j, k->tx_counter);
		json_key(j, "rx_counter");
		json_u64(j, k->rx_counter);
		json_key(j, "tx_limit");
		json_u64(j, k->tx_limit);
		if (k->retired) {
			json_key(j, "retired_ms");
			json_u64(j, k->retired_ms);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void put_endpoint(struct json_out *j, const struct cy_tunnel *t)
{
	char ep[ADDR_ENDPOINT_STRLEN];

	json_key(j, "endpoint");
	if (t->endpoint_len &&
	    !addr_format_endpoint((const void *)&t->endpoint, t->endpoint_len,
				  ep, sizeof(ep)))
		json_str(j, ep);
	else
		json_null(j);
}

/* cyphonicd's view of the tunnel; null when no live daemon knows it. */
static void put_tunnel_daemon(struct json_out *j, const struct cy_device *d,
			      const struct cy_tunnel *t)
{
	const struct nodestate_tunnel *n = daemon_tunnel(d, t->index);

	json_key(j, "daemon");
	if (!n) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_key(j, "path");
	json_str(j, n->path);
	json_key(j, "peer");
	json_str(j, n->peer);
	json_key(j, "role");
	json_str(j, n->initiator ? "initiator" : "responder");
	json_key(j, "last_handshake_unix_ms");
	json_u64(j, (uint64_t)n->handshake_unix_ms);
	json_key(j, "last_handshake_age_ms");
	json_u64(j, daemon_age_ms(n->handshake_unix_ms));
	json_key(j, "handshake_ms");
	json_u64(j, (uint64_t)n->handshake_ms);
	json_key(j, "route_direction_ms");
	if (n->route_ms >= 0)
		json_u64(j, (uint64_t)n->route_ms);
	else
		json_null(j);
	json_key(j, "rekeys");
	json_u64(j, n->rekeys);
	json_obj_end(j);
}

/* An adapter's general nodes (empty for a plain node); "why" null when none. */
static void put_gnodes(struct json_out *j, const struct cy_device *d)
{
	json_key(j, "general_nodes");
	json_arr_begin(j);
	for (size_t i = 0; i < d->ds.ng; i++) {
		const struct nodestate_gnode *g = &d->ds.g[i];

		json_obj_begin(j);
		json_key(j, "name");
		json_str(j, g->name);
		json_key(j, "fqdn");
		json_str(j, g->fqdn);
		json_key(j, "mac");
		json_str(j, g->mac);
		json_key(j, "method");
		json_str(j, g->method);
		json_key(j, "vip");
		if (strcmp(g->vip, "-"))
			json_str(j, g->vip);
		else
			json_null(j);
		json_key(j, "state");
		json_str(j, g->state);
		json_key(j, "why");
		if (strcmp(g->why, "-"))
			json_str(j, g->why);
		else
			json_null(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void put_device_daemon(struct json_out *j, const struct cy_device *d)
{
	static const char *const names[] = {
		[CY_DAEMON_NONE] = "none", [CY_DAEMON_LIVE] = "running",
		[CY_DAEMON_STALE] = "stale", [CY_DAEMON_BAD] = "malformed",
	};

	json_key(j, "daemon");
	json_obj_begin(j);
	json_key(j, "state");
	json_str(j, names[d->daemon]);
	if (d->daemon == CY_DAEMON_LIVE) {
		json_key(j, "pid");
		json_u64(j, (uint64_t)d->ds.h.pid);
		json_key(j, "node");
		json_str(j, d->ds.h.node);
		json_key(j, "nat");
		json_str(j, d->ds.h.nat[0] ? d->ds.h.nat : "unknown");
		json_key(j, "malformed_lines");
		json_u64(j, d->ds.malformed);
		put_gnodes(j, d);
	}
	json_obj_end(j);
}

static void put_tunnel(struct json_out *j, const struct cy_device *d,
		       const struct cy_tunnel *t)
{
	json_obj_begin(j);
	json_key(j, "index");
	json_u64(j, t->index);
	json_key(j, "peer_index");
	json_u64(j, t->peer_index);
	put_addr(j, "local4", t->has_local4, AF_INET, &t->local4);
	put_addr(j, "remote4", t->has_remote4, AF_INET, &t->remote4);
	put_addr(j, "local6", t->has_local6, AF_INET6, &t->local6);
	put_addr(j, "remote6", t->has_remote6, AF_INET6, &t->remote6);
	put_endpoint(j, t);
	json_key(j, "relay");
	json_u64(j, t->relay);
	put_keys(j, t);
	json_key(j, "last_rx_ms");
	if (t->has_last_rx)
		json_u64(j, t->last_rx_ms);
	else
		json_null(j);
	/* stats right after last_rx_ms: scripts (tests/selftests/lib.sh) match that */
	put_stats(j, &t->stats);
	put_tunnel_daemon(j, d, t);
	json_obj_end(j);
}

static void put_device(struct json_out *j, const struct cy_device *d)
{
	size_t i;

	json_obj_begin(j);
	json_key(j, "name");
	json_str(j, d->name);
	json_key(j, "ifindex");
	json_u64(j, d->ifindex);
	json_key(j, "port4");
	json_u64(j, d->port4);
	json_key(j, "port6");
	json_u64(j, d->port6);
	json_key(j, "cipher");
	json_str(j, cipher_name(d->cipher));
	json_key(j, "workers");
	json_u64(j, d->workers);
	json_key(j, "max_tunnels");
	json_u64(j, d->max_tunnels);
	json_key(j, "max_locals");
	json_u64(j, d->max_locals);
	put_stats(j, &d->stats);
	put_device_daemon(j, d);
	put_locals(j, d);
	json_key(j, "tunnels");
	json_arr_begin(j);
	for (i = 0; i < d->ntunnels; i++)
		put_tunnel(j, d, &d->tunnels[i]);
	json_arr_end(j);
	json_obj_end(j);
}

int show_json(FILE *f, const struct cy_model *m)
{
	struct json_out j;
	size_t i;

	json_init(&j, f);
	json_obj_begin(&j);
	json_key(&j, "devices");
	json_arr_begin(&j);
	for (i = 0; i < m->ndevs; i++)
		put_device(&j, &m->devs[i]);
	json_arr_end(&j);
	json_obj_end(&j);
	fputc('\n', f);
	return json_out_ok(&j) ? 0 : -1;
}
