// SPDX-License-Identifier: MIT
/* Shared daemon plumbing: flags, config, drain (daemon.h). */
#include "daemon.h"
#include "http.h"
#include "evloop.h"
#include "log.h"
#include "version.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(const char *prog, const char *summary, FILE *f)
{
	fprintf(f,
		"usage: %s [-c FILE] [--set SECTION.KEY=VALUE]... [--check]\n"
		"%s\n\n"
		"  -c, --config FILE   INI configuration file\n"
		"  --set S.K=V         override one setting (repeatable)\n"
		"  --check             validate the configuration and exit\n"
		"  --help-config       list every setting with its default\n"
		"  -h, --help          this help\n"
		"  -V, --version       print the version and exit\n",
		prog, summary ? summary : "");
}

int cyph_daemon_parse_args(int argc, char **argv, const char *summary,
			   struct cyph_daemon_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'k' },
		{ "help-config", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 's': {
			const char **n = realloc(a->sets, (a->nsets + 1) * sizeof(*n));

			if (!n) {
				fprintf(stderr, "%s: out of memory\n", argv[0]);
				return 2;
			}
			a->sets = n;
			a->sets[a->nsets++] = optarg;
			break;
		}
		case 'k':
			a->check = true;
			break;
		case 'H':
			a->help_config = true;
			break;
		case 'h':
			usage(argv[0], summary, stdout);
			return 1;
		case 'V':
			cyph_version_print(prog);
			return 1;
		default:
			usage(argv[0], summary, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
		return 2;
	}
	return 0;
}

void cyph_daemon_args_free(struct cyph_daemon_args *a)
{
	free(a->sets);
	a->sets = NULL;
	a->nsets = 0;
}

int cyph_daemon_load_config(const struct cyph_daemon_args *a,
			    const struct cyph_cfg_field *fields, size_t n, void *out,
			    char *err, size_t errlen)
{
	return cyph_cfg_load_ex(a->config, fields, n, out, a->sets, a->nsets, err, errlen);
}

static void drain_tick(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	struct cyph_drain *d = arg;

	(void)t;
	if (d->idle(d->arg)) {
		cyph_loop_del_timer(loop, d->timer);
		d->timer = NULL;
		cyph_loop_stop(loop);
	} else if (cyph_now_ms() >= d->deadline_ms) {
		d->timed_out = true;
		cyph_loop_del_timer(loop, d->timer);
		d->timer = NULL;
		cyph_loop_stop(loop);
	}
}

int cyph_drain_start(struct cyph_drain *d, struct cyph_loop *loop, uint64_t grace_ms,
		     bool (*idle)(void *arg), void *arg)
{
	if (d->timer)
		return 0;	/* already draining (second SIGTERM) */
	d->loop = loop;
	d->idle = idle;
	d->arg = arg;
	d->deadline_ms = cyph_now_ms() + grace_ms;
	d->timed_out = false;
	d->timer = cyph_loop_add_timer(loop, 20, true, drain_tick, d);
	return d->timer ? 0 : -1;
}

int cyph_daemon_begin(int argc, char **argv, const char *name, const char *summary,
		      const struct cyph_cfg_field *fields, size_t nfields,
		      struct cyph_daemon_args *a,
		      int (*load)(void *arg, char *err, size_t errlen), void *arg)
{
	char err[1024];
	int rc;

	cyph_log_init(name, CYPH_LOG_INFO);
	rc = cyph_daemon_parse_args(argc, argv, summary, a);
	if (rc)
		return rc == 1 ? 0 : 2;
	if (a->help_config) {
		cyph_cfg_describe(fields, nfields, stdout);
		return 0;
	}
	if (load(arg, err, sizeof(err))) {
		log_err("%s", err);
		return 1;
	}
	if (a->check) {
		printf("%s: configuration OK\n", a->config ? a->config : "(defaults)");
		return 0;
	}
	return -1;
}

int cyph_daemon_http(struct cyph_loop *loop, bool enabled, const char *listen,
		     struct cyph_http **out)
{
	char err[512];

	*out = NULL;
	if (!enabled)
		return 0;
	*out = cyph_http_listen(listen, err, sizeof(err));
	if (!*out || cyph_http_attach(*out, loop)) {
		log_err("[http] listen: %s", err);
		return -1;
	}
	log_info("health and metrics on http://%s", listen);
	return 0;
}
