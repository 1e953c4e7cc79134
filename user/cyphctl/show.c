// SPDX-License-Identifier: MIT
/* `cyphctl show` and its human-readable output. */
#include "show.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "runtime/addr.h"
#include "daemon.h"
#include "parse.h"

#define SHOW_USAGE "usage: cyphctl show [DEV] [--json]"

static void print_bytes(FILE *f, uint64_t b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	unsigned int u = 0;

	if (b < 1024) {
		fprintf(f, "%" PRIu64 " B", b);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	fprintf(f, "%.2f %s", v, units[u]);
}

static void print_ms(FILE *f, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		fprintf(f, "%" PRIu64 ".%03" PRIu64 " s", s, ms % 1000);
	else if (s < 3600)
		fprintf(f, "%" PRIu64 " min %" PRIu64 " s", s / 60, s % 60);
	else
		fprintf(f, "%" PRIu64 " h %" PRIu64 " min", s / 3600,
			(s / 60) % 60);
}

static void print_transfer(FILE *f, const char *indent,
			   const struct cy_stats *st)
{
	fprintf(f, "%stransfer: %" PRIu64 " packets (", indent,
		st->v[CYPHONIC_STAT_RX_PACKETS]);
	print_bytes(f, st->v[CYPHONIC_STAT_RX_BYTES]);
	fprintf(f, ") received, %" PRIu64 " packets (",
		st->v[CYPHONIC_STAT_TX_PACKETS]);
	print_bytes(f, st->v[CYPHONIC_STAT_TX_BYTES]);
	fprintf(f, ") sent\n");
}

/* Non-drop counters besides transfer, and only the drops that happened. */
static void print_counters(FILE *f, const char *indent,
			   const struct cy_stats *st)
{
	unsigned int i;

	print_transfer(f, indent, st);
	if (st->v[CYPHONIC_STAT_RX_CONTROL])
		fprintf(f, "%s%s: %" PRIu64 "\n", indent,
			stat_name(CYPHONIC_STAT_RX_CONTROL),
			st->v[CYPHONIC_STAT_RX_CONTROL]);
	for (i = 1; i <= CYPHONIC_STAT_MAX; i++)
		if (stat_is_drop(i) && st->v[i])
			fprintf(f, "%s%s: %" PRIu64 "\n", indent,
				stat_name(i), st->v[i]);
}

static void print_addr(FILE *f, int af, const void *a)
{
	char buf[INET6_ADDRSTRLEN];

	fputs(inet_ntop(af, a, buf, sizeof(buf)) ? buf : "?", f);
}

static void print_locals(FILE *f, const struct cy_device *d)
{
	size_t i;

	for (i = 0; i < d->nlocals; i++) {
		const struct cy_local *l = &d->locals[i];

		fprintf(f, "  local identity:");
		if (l->has_vip4) {
			fputc(' ', f);
			print_addr(f, AF_INET, &l->vip4);
		}
		if (l->has_vip6) {
			fputc(' ', f);
			print_addr(f, AF_INET6, &l->vip6);
		}
		fputc('\n', f);
	}
}

static void print_pair(FILE *f, const char *label, int af, bool hl,
		       const void *l, bool hr, const void *r)
{
	if (!hl && !hr)
		return;
	fprintf(f, "  %s: ", label);
	if (hl)
		print_addr(f, af, l);
	else
		fputs("(none)", f);
	fputs(" -> ", f);
	if (hr)
		print_addr(f, af, r);
	else
		fputs("(none)", f);
	fputc('\n', f);
}

static void print_key(FILE *f, const struct cy_key *k)
{
	fprintf(f, "  key %s: id %u, age ", slot_name(k->slot), k->id);
	print_ms(f, k->age_ms);
	fprintf(f, ", tx counter %" PRIu64 ", rx counter %" PRIu64,
		k->tx_counter, k->rx_counter);
	if (k->tx_limit)
		fprintf(f, ", tx limit %" PRIu64, k->tx_limit);
	if (k->retired) {
		fputs(", retired ", f);
		print_ms(f, k->retired_ms);
		fputs(" ago", f);
	}
	fputc('\n', f);
}

static void print_tunnel(FILE *f, const struct cy_device *d,
			 const struct cy_tunnel *t)
{
	char ep[ADDR_ENDPOINT_STRLEN];
	unsigned int i;

	fprintf(f, "\ntunnel: %" PRIu32 "\n", t->index);
	fprintf(f, "  peer index: %" PRIu32 "\n", t->peer_index);
	print_pair(f, "vip4", AF_INET, t->has_local4, &t->local4,
		   t->has_remote4, &t->remote4);
	print_pair(f, "vip6", AF_INET6, t->has_local6, &t->local6,
		   t->has_remote6, &t->remote6);
	if (t->endpoint_len &&
	    !addr_format_endpoint((const void *)&t->endpoint, t->endpoint_len,
				  ep, sizeof(ep)))
		fprintf(f, "  endpoint: %s\n", ep);
	else
		fprintf(f, "  endpoint: (none)\n");
	if (t->relay)
		fprintf(f, "  relay: session %" PRIu32 "\n", t->relay);
	else
		fprintf(f, "  relay: none (direct)\n");
	daemon_print_tunnel(f, d, t->index, print_ms);
	for (i = 0; i < t->nkeys; i++)
		print_key(f, &t->keys[i]);
	if (!t->nkeys)
		fprintf(f, "  keys: (none)\n");
	fprintf(f, "  last rx: ");
	if (t->has_last_rx) {
		print_ms(f, t->last_rx_ms);
		fprintf(f, " ago\n");
	} else {
		fprintf(f, "never\n");
	}
	print_counters(f, "  ", &t->stats);
}

static void print_device(FILE *f, const struct cy_device *d)
{
	size_t i;

	fprintf(f, "device: %s\n", d->name);
	fprintf(f, "  ifindex: %" PRIu32 "\n", d->ifindex);
	fprintf(f, "  listening port: ");
	if (d->port4)
		fprintf(f, "%u (IPv4)", d->port4);
	else
		fprintf(f, "none (IPv4)");
	if (d->port6)
		fprintf(f, ", %u (IPv6)\n", d->port6);
	else
		fprintf(f, ", none (IPv6)\n");
	fprintf(f, "  cipher: %s\n", cipher_name(d->cipher));
	if (d->workers)
		fprintf(f, "  workers: %" PRIu32 "\n", d->workers);
	else
		fprintf(f, "  workers: 0 (all online CPUs)\n");
	if (d->max_tunnels)
		fprintf(f, "  tunnels: %zu of at most %" PRIu32 "\n",
			d->ntunnels, d->max_tunnels);
	if (d->max_locals)
		fprintf(f, "  local identities: %zu of at most %" PRIu32 "\n",
			d->nlocals, d->max_locals);
	print_counters(f, "  ", &d->stats);
	daemon_print_device(f, d);
	print_locals(f, d);
	for (i = 0; i < d->ntunnels; i++)
		print_tunnel(f, d, &d->tunnels[i]);
}

void show_human(FILE *f, const struct cy_model *m)
{
	size_t i;

	for (i = 0; i < m->ndevs; i++) {
		if (i)
			fputc('\n', f);
		print_device(f, &m->devs[i]);
	}
}

static int parse_show_args(int argc, char **argv, const char **dev,
			   bool *json)
{
	int i;

	*dev = NULL;
	*json = false;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			*json = true;
		else if (argv[i][0] == '-' || *dev)
			return cmd_error("show", "unexpected argument \"%s\"\n%s",
					 argv[i], SHOW_USAGE);
		else
			*dev = argv[i];
	}
	return 0;
}

int cmd_show(int argc, char **argv)
{
	struct cy_model m;
	struct cy_nl nl;
	uint32_t ifindex = 0;
	const char *dev;
	bool json;
	int err;

	if (parse_show_args(argc, argv, &dev, &json) ||
	    cy_nl_open(&nl, "show"))
		return 1;
	if (dev && !(ifindex = cy_nl_ifindex(&nl, dev))) {
		cy_nl_close(&nl);
		return 1;
	}
	err = model_load(&nl, ifindex, &m);
	cy_nl_close(&nl);
	if (!err)
		daemon_attach(&m);
	if (!err) {
		if (json)
			err = show_json(stdout, &m);
		else
			show_human(stdout, &m);
	}
	if (!err)
		daemon_detach(&m);
	model_free(&m);
	if (fflush(stdout) || ferror(stdout))
		return cmd_error("show", "cannot write output"), 1;
	return err ? 1 : 0;
}
