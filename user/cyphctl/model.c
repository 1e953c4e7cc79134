// SPDX-License-Identifier: MIT
/* Collects devices, local identities and tunnels from the kernel. */
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "policy.h"

/* A dump restarted this often in a row means the device keeps changing. */
#define DUMP_RETRIES 10

/* Makes room for one more element of size sz in *arr. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t sz)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *p = realloc(*arr, ncap * sz);

		if (!p)
			return NULL;
		*arr = p;
		*cap = ncap;
	}
	return memset((char *)*arr + (*n)++ * sz, 0, sz);
}

static int parse_stats(struct nlattr *nest, struct cy_stats *st)
{
	struct nlattr *tb[CYPHONIC_STAT_MAX + 1];
	unsigned int i;

	memset(st, 0, sizeof(*st));
	if (!nest)
		return 0;
	if (nla_parse_nested(tb, CYPHONIC_STAT_MAX, nest, cy_policy_stats))
		return -EBADMSG;
	for (i = 1; i <= CYPHONIC_STAT_MAX; i++)
		if (tb[i])
			st->v[i] = nla_get_u64(tb[i]);
	return 0;
}

static int parse_dev(struct nlattr **a, void *arg)
{
	struct cy_model *m = arg;
	struct cy_device *d;

	if (!a[CYPHONIC_A_IFINDEX])
		return -EBADMSG;
	d = grow((void **)&m->devs, &m->ndevs, &m->cap, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ifindex = nla_get_u32(a[CYPHONIC_A_IFINDEX]);
	if (a[CYPHONIC_A_IFNAME])
		nla_strlcpy(d->name, a[CYPHONIC_A_IFNAME], sizeof(d->name));
	else if (!if_indextoname(d->ifindex, d->name))
		strcpy(d->name, "?");
	if (a[CYPHONIC_A_PORT4])
		d->port4 = nla_get_u16(a[CYPHONIC_A_PORT4]);
	if (a[CYPHONIC_A_PORT6])
		d->port6 = nla_get_u16(a[CYPHONIC_A_PORT6]);
	if (a[CYPHONIC_A_CIPHER])
		d->cipher = nla_get_u8(a[CYPHONIC_A_CIPHER]);
	if (a[CYPHONIC_A_WORKERS])
		d->workers = nla_get_u32(a[CYPHONIC_A_WORKERS]);
	if (a[CYPHONIC_A_MAX_TUNNELS])
		d->max_tunnels = nla_get_u32(a[CYPHONIC_A_MAX_TUNNELS]);
	if (a[CYPHONIC_A_MAX_LOCALS])
		d->max_locals = nla_get_u32(a[CYPHONIC_A_MAX_LOCALS]);
	return parse_stats(a[CYPHONIC_A_STATS], &d->stats);
}

static int parse_local(struct nlattr **a, void *arg)
{
	struct cy_device *d = arg;
	struct nlattr *tb[CYPHONIC_LOCAL_A_MAX + 1];
	struct cy_local *l;

	if (!a[CYPHONIC_A_LOCAL] ||
	    nla_parse_nested(tb, CYPHONIC_LOCAL_A_MAX, a[CYPHONIC_A_LOCAL],
			     cy_policy_local))
		return -EBADMSG;
	l = grow((void **)&d->locals, &d->nlocals, &d->locals_cap, sizeof(*l));
	if (!l)
		return -ENOMEM;
	if (tb[CYPHONIC_LOCAL_A_VIP4]) {
		l->has_vip4 = true;
		memcpy(&l->vip4, nla_data(tb[CYPHONIC_LOCAL_A_VIP4]), 4);
	}
	if (tb[CYPHONIC_LOCAL_A_VIP6]) {
		l->has_vip6 = true;
		memcpy(&l->vip6, nla_data(tb[CYPHONIC_LOCAL_A_VIP6]), 16);
	}
	return 0;
}

static int parse_key(struct nlattr *nest, struct cy_tunnel *t)
{
	struct nlattr *tb[CYPHONIC_KEY_A_MAX + 1];
	struct cy_key *k;

	if (nla_parse_nested(tb, CYPHONIC_KEY_A_MAX, nest, cy_policy_key))
		return -EBADMSG;
	if (t->nkeys >= sizeof(t->keys) / sizeof(t->keys[0]))
		return 0;	/* more slots than we know: show the first */
	k = &t->keys[t->nkeys++];
	k->slot = tb[CYPHONIC_KEY_A_SLOT] ? nla_get_u8(tb[CYPHONIC_KEY_A_SLOT]) : 0;
	k->id = tb[CYPHONIC_KEY_A_ID] ? nla_get_u8(tb[CYPHONIC_KEY_A_ID]) : 0;
	if (tb[CYPHONIC_KEY_A_AGE_MS])
		k->age_ms = nla_get_u64(tb[CYPHONIC_KEY_A_AGE_MS]);
	if (tb[CYPHONIC_KEY_A_TX_COUNTER])
		k->tx_counter = nla_get_u64(tb[CYPHONIC_KEY_A_TX_COUNTER]);
	if (tb[CYPHONIC_KEY_A_RX_COUNTER])
		k->rx_counter = nla_get_u64(tb[CYPHONIC_KEY_A_RX_COUNTER]);
	if (tb[CYPHONIC_KEY_A_TX_LIMIT])
		k->tx_limit = nla_get_u64(tb[CYPHONIC_KEY_A_TX_LIMIT]);
	k->retired = tb[CYPHONIC_KEY_A_RETIRED_MS];
	if (k->retired)
		k->retired_ms = nla_get_u64(tb[CYPHONIC_KEY_A_RETIRED_MS]);
	return 0;
}

static void parse_endpoint(struct nlattr *a, struct cy_tunnel *t)
{
	size_t len = (size_t)nla_len(a);

	if (len > sizeof(t->endpoint))
		return;
	memcpy(&t->endpoint, nla_data(a), len);
	t->endpoint_len = (socklen_t)len;
}

#define COPY_ADDR(tb, attr, has, dst)					\
	do {								\
		if ((tb)[attr]) {					\
			(has) = true;					\
			memcpy(&(dst), nla_data((tb)[attr]), sizeof(dst)); \
		}							\
	} while (0)

static int parse_tunnel_attrs(struct nlattr **tb, struct nlattr *nest,
			      struct cy_tunnel *t)
{
	struct nlattr *a;
	int rem, err;

	t->index = nla_get_u32(tb[CYPHONIC_TUNNEL_A_INDEX]);
	if (tb[CYPHONIC_TUNNEL_A_PEER_INDEX])
		t->peer_index = nla_get_u32(tb[CYPHONIC_TUNNEL_A_PEER_INDEX]);
	if (tb[CYPHONIC_TUNNEL_A_RELAY])
		t->relay = nla_get_u32(tb[CYPHONIC_TUNNEL_A_RELAY]);
	COPY_ADDR(tb, CYPHONIC_TUNNEL_A_LOCAL4, t->has_local4, t->local4);
	COPY_ADDR(tb, CYPHONIC_TUNNEL_A_REMOTE4, t->has_remote4, t->remote4);
	COPY_ADDR(tb, CYPHONIC_TUNNEL_A_LOCAL6, t->has_local6, t->local6);
	COPY_ADDR(tb, CYPHONIC_TUNNEL_A_REMOTE6, t->has_remote6, t->remote6);
	if (tb[CYPHONIC_TUNNEL_A_ENDPOINT])
		parse_endpoint(tb[CYPHONIC_TUNNEL_A_ENDPOINT], t);
	if (tb[CYPHONIC_TUNNEL_A_LAST_RX_MS]) {
		t->has_last_rx = true;
		t->last_rx_ms = nla_get_u64(tb[CYPHONIC_TUNNEL_A_LAST_RX_MS]);
	}
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != CYPHONIC_TUNNEL_A_KEY)
			continue;
		err = parse_key(a, t);
		if (err)
			return err;
	}
	return parse_stats(tb[CYPHONIC_TUNNEL_A_STATS], &t->stats);
}

static int parse_tunnel(struct nlattr **a, void *arg)
{
	struct cy_device *d = arg;
	struct nlattr *tb[CYPHONIC_TUNNEL_A_MAX + 1];
	struct cy_tunnel *t;

	if (!a[CYPHONIC_A_TUNNEL] ||
	    nla_parse_nested(tb, CYPHONIC_TUNNEL_A_MAX, a[CYPHONIC_A_TUNNEL],
			     cy_policy_tunnel) ||
	    !tb[CYPHONIC_TUNNEL_A_INDEX])
		return -EBADMSG;
	t = grow((void **)&d->tunnels, &d->ntunnels, &d->tunnels_cap,
		 sizeof(*t));
	if (!t)
		return -ENOMEM;
	return parse_tunnel_attrs(tb, a[CYPHONIC_A_TUNNEL], t);
}

/* One request; a dump is repeated from scratch when it was interrupted. */
static int request(struct cy_nl *nl, uint8_t cmd, bool dump, uint32_t ifindex,
		   cy_nl_reply_fn fn, void *arg, void (*reset)(void *))
{
	struct nl_msg *msg;
	int tries, err = -EINTR;

	for (tries = 0; tries < DUMP_RETRIES && err == -EINTR; tries++) {
		reset(arg);
		msg = cy_nl_request(nl, cmd, dump);
		if (!msg)
			return -ENOMEM;
		if (ifindex && nla_put_u32(msg, CYPHONIC_A_IFINDEX, ifindex)) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
		err = cy_nl_exchange(nl, msg, fn, arg);
		if (err == -EINTR && getenv("CYPHCTL_DEBUG"))
			fprintf(stderr, "cyphctl: %s: dump interrupted by a change, repeating it\n",
				nl->cmd);
	}
	return err;
}

static void reset_devs(void *arg)
{
	model_free(arg);
}

static void reset_locals(void *arg)
{
	struct cy_device *d = arg;

	d->nlocals = 0;
}

static void reset_tunnels(void *arg)
{
	struct cy_device *d = arg;

	d->ntunnels = 0;
}

static int load_device(struct cy_nl *nl, struct cy_device *d)
{
	int err;

	err = request(nl, CYPHONIC_CMD_LOCAL_GET, true, d->ifindex,
		      parse_local, d, reset_locals);
	if (err) {
		cy_nl_report(nl, err, "reading local identities");
		return err;
	}
	err = request(nl, CYPHONIC_CMD_TUNNEL_GET, true, d->ifindex,
		      parse_tunnel, d, reset_tunnels);
	if (err)
		cy_nl_report(nl, err, "reading tunnels");
	return err;
}

int model_load(struct cy_nl *nl, uint32_t ifindex, struct cy_model *m)
{
	size_t i;
	int err;

	memset(m, 0, sizeof(*m));
	err = request(nl, CYPHONIC_CMD_DEV_GET, !ifindex, ifindex, parse_dev,
		      m, reset_devs);
	if (err) {
		cy_nl_report(nl, err, "reading devices");
		return err;
	}
	for (i = 0; i < m->ndevs; i++) {
		err = load_device(nl, &m->devs[i]);
		if (err)
			return err;
	}
	return 0;
}

void model_free(struct cy_model *m)
{
	size_t i;

	for (i = 0; i < m->ndevs; i++) {
		free(m->devs[i].locals);
		free(m->devs[i].tunnels);
	}
	free(m->devs);
	memset(m, 0, sizeof(*m));
}
