// SPDX-License-Identifier: MIT
/*
 * dns_serve: the library's DNS server (user/lib/dns/server.h) on its own
 * event loop with a fixed name table, for the dns suite, which queries it
 * with dig. It plays the daemon's part for names it does not know
 * (tunnels on demand): a missing name listed with --late is added and
 * answered after --miss-delay ms; a name starting with "hang" is never
 * resolved (the server answers SERVFAIL at its pending timeout); one
 * starting with "fail" is reported failed after --miss-delay ms
 * (SERVFAIL); any other missing name is "resolved" without being added
 * (NXDOMAIN).
 *
 *   dns_serve --domain D [--addr 127.0.0.1] [--port 0] --port-file F
 *             [--stats-file F] [--udp-max N] [--rate N] [--burst N]
 *             [--pending-timeout MS] [--miss-delay MS] [--no-miss]
 *             [--tcp-idle MS] [--max-tcp N] [--max-pending N]
 *             [--late NAME=A[,AAAA]]... NAME=A[,AAAA][/TTL]...
 *
 * It writes the bound port to --port-file when it serves, and the
 * server's counters as "name value" lines to --stats-file on SIGUSR1
 * and on exit (SIGTERM, SIGINT).
 */
#include "dns/names.h"
#include "dns/responder.h"
#include "dns/server.h"
#include "runtime/addr.h"
#include "runtime/evloop.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LATE 16

static struct dns_names *names;
static struct dns_server *srv;
static struct cyph_loop *loop;
static const char *stats_file;
static char *late[MAX_LATE];
static int nlate;
static unsigned miss_delay = 100;

/* "NAME=A[,AAAA][/TTL]" into the table. */
static int add_spec(const char *spec)
{
	char buf[600], *eq, *ttl, *comma;
	struct in_addr v4;
	struct in6_addr v6;
	bool has4 = false, has6 = false;

	snprintf(buf, sizeof(buf), "%s", spec);
	eq = strchr(buf, '=');
	if (!eq)
		return -1;
	*eq++ = '\0';
	ttl = strchr(eq, '/');
	if (ttl)
		*ttl++ = '\0';
	comma = strchr(eq, ',');
	if (comma)
		*comma++ = '\0';
	for (char *a = eq; a; a = (a == eq) ? comma : NULL) {
		if (addr_parse_ip4(a, &v4) == 0)
			has4 = true;
		else if (addr_parse_ip6(a, &v6) == 0)
			has6 = true;
		else if (*a)
			return -1;
	}
	return dns_names_set(names, buf, has4 ? &v4 : NULL, has6 ? &v6 : NULL,
			     ttl ? (uint32_t)strtoul(ttl, NULL, 10) : 60);
}

/* Lookups in flight, in fixed slots so none is left allocated at exit. */
static struct lookup {
	bool used;
	char name[DNS_NAME_TEXT_MAX + 1];
} lookups[64];

/* The "NMS answer" for a miss, miss_delay ms later. */
static void on_lookup_done(struct cyph_loop *l, struct cyph_timer *t, void *arg)
{
	struct lookup *lk = arg;

	(void)l; (void)t;
	for (int i = 0; i < nlate; i++) {
		size_t n = strcspn(late[i], "=");

		if (strlen(lk->name) == n && strncasecmp(late[i], lk->name, n) == 0 &&
		    add_spec(late[i]) < 0)
			fprintf(stderr, "dns_serve: --late %s: cannot add\n", late[i]);
	}
	if (strncmp(lk->name, "fail", 4) == 0)
		dns_server_lookup_failed(srv, lk->name);
	else
		dns_server_resolved(srv, lk->name);
	lk->used = false;
}

static void on_miss(void *arg, const char *name)
{
	struct lookup *lk = NULL;

	(void)arg;
	if (strncmp(name, "hang", 4) == 0)
		return;		/* never answered: the server times it out */
	for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]) && !lk; i++)
		if (!lookups[i].used)
			lk = &lookups[i];
	if (!lk)
		return;		/* as if the lookup was lost: SERVFAIL later */
	snprintf(lk->name, sizeof(lk->name), "%s", name);
	if (cyph_loop_add_timer(loop, miss_delay, false, on_lookup_done, lk))
		lk->used = true;
}

static void write_stats(void)
{
	const struct dns_server_stats *st = dns_server_stats(srv);
	char tmp[4096];
	FILE *f;

	if (!stats_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "queries %llu\n", (unsigned long long)st->queries);
	for (unsigned i = 0; i < DNS_RCODE_COUNT; i++)
		if (st->answers[i])
			fprintf(f, "answers_%s %llu\n", dns_rcode_name(i),
				(unsigned long long)st->answers[i]);
#define STAT(x) fprintf(f, #x " %llu\n", (unsigned long long)st->x)
	STAT(truncated); STAT(malformed); STAT(ratelimited); STAT(dropped);
	STAT(misses); STAT(pending_full); STAT(pending_timeouts);
	STAT(tcp_accepted); STAT(tcp_refused); STAT(tcp_closed_idle);
#undef STAT
	fprintf(f, "pending %zu\n", dns_server_pending(srv));
	fclose(f);
	rename(tmp, stats_file);
}

static void on_signal(struct cyph_loop *l, int signo, void *arg)
{
	(void)arg;
	write_stats();
	if (signo != SIGUSR1)
		cyph_loop_stop(l);
}

static void usage(void)
{
	fprintf(stderr, "usage: dns_serve --domain D --port-file F [options] NAME=A[,AAAA][/TTL]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", 1, NULL, 'd' }, { "addr", 1, NULL, 'a' },
		{ "port", 1, NULL, 'p' }, { "port-file", 1, NULL, 'P' },
		{ "stats-file", 1, NULL, 'S' }, { "udp-max", 1, NULL, 'u' },
		{ "rate", 1, NULL, 'r' }, { "burst", 1, NULL, 'b' },
		{ "pending-timeout", 1, NULL, 't' }, { "miss-delay", 1, NULL, 'm' },
		{ "no-miss", 0, NULL, 'n' }, { "late", 1, NULL, 'l' },
		{ "tcp-idle", 1, NULL, 'i' }, { "max-tcp", 1, NULL, 'T' },
		{ "max-pending", 1, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct dns_responder_cfg rcfg = { .negative_ttl = 30 };
	struct dns_server_cfg scfg = { 0 };
	const char *addr = "127.0.0.1", *port_file = NULL;
	unsigned short port = 0;
	bool no_miss = false;
	char err[256];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': rcfg.domain = optarg; break;
		case 'a': addr = optarg; break;
		case 'p': if (addr_parse_port(optarg, &port)) usage(); break;
		case 'P': port_file = optarg; break;
		case 'S': stats_file = optarg; break;
		case 'u': rcfg.udp_max = (uint16_t)atoi(optarg); break;
		case 'r': scfg.rate = (uint32_t)atoi(optarg); break;
		case 'b': scfg.burst = (uint32_t)atoi(optarg); break;
		case 't': scfg.pending_timeout_ms = (uint32_t)atoi(optarg); break;
		case 'i': scfg.tcp_idle_ms = (uint32_t)atoi(optarg); break;
		case 'T': scfg.max_tcp = (uint32_t)atoi(optarg); break;
		case 'M': scfg.max_pending = (uint32_t)atoi(optarg); break;
		case 'm': miss_delay = (unsigned)atoi(optarg); break;
		case 'n': no_miss = true; break;
		case 'l':
			if (nlate == MAX_LATE)
				usage();
			late[nlate++] = optarg;
			break;
		default: usage();
		}
	}
	if (!rcfg.domain || !port_file)
		usage();
	struct sockaddr_in *s4 = (struct sockaddr_in *)&scfg.addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&scfg.addr;
	if (addr_parse_ip4(addr, &s4->sin_addr) == 0) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		scfg.addrlen = sizeof(*s4);
	} else if (addr_parse_ip6(addr, &s6->sin6_addr) == 0) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		scfg.addrlen = sizeof(*s6);
	} else {
		usage();
	}

	names = dns_names_new(1024);
	for (int i = optind; i < argc; i++) {
		if (add_spec(argv[i]) < 0) {
			fprintf(stderr, "dns_serve: %s: not NAME=A[,AAAA][/TTL]\n", argv[i]);
			return 2;
		}
	}
	struct dns_responder *r = dns_responder_new(&rcfg, names, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "dns_serve: %s\n", err);
		return 1;
	}
	loop = cyph_loop_new();
	srv = loop ? dns_server_new(loop, &scfg, r, err, sizeof(err)) : NULL;
	if (!srv) {
		fprintf(stderr, "dns_serve: %s\n", loop ? err : "event loop");
		return 1;
	}
	if (!no_miss)
		dns_server_on_miss(srv, on_miss, NULL);
	cyph_loop_on_signal(loop, SIGTERM, on_signal, NULL);
	cyph_loop_on_signal(loop, SIGINT, on_signal, NULL);
	cyph_loop_on_signal(loop, SIGUSR1, on_signal, NULL);

	char tmp[4096];
	FILE *f;
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", dns_server_port(srv)) < 0 || fclose(f) || rename(tmp, port_file)) {
		perror("dns_serve: port file");
		return 1;
	}
	int rc = cyph_loop_run(loop);
	dns_server_free(srv);
	cyph_loop_free(loop);
	dns_responder_free(r);
	dns_names_free(names);
	return rc ? 1 : 0;
}
