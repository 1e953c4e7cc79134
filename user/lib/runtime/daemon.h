/* SPDX-License-Identifier: MIT */
/*
 * What every cloud daemon does the same way: command-line flags, loading
 * the config (file + --set overrides), and the SIGTERM drain timer.
 *
 *	prog -c FILE [--set section.key=value]... [--check] [--help-config]
 *	prog --version
 */
#ifndef CYPHONIC_DAEMON_H
#define CYPHONIC_DAEMON_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cyph_loop;
struct cyph_http;

struct cyph_daemon_args {
	const char *config;		/* -c FILE (NULL: defaults + --set only) */
	const char **sets;		/* --set values, nsets of them */
	size_t nsets;
	bool check;			/* --check: validate config and exit */
	bool help_config;		/* --help-config: print the schema */
};

/*
 * Parses argv. Returns 0 to continue, 1 when the program should exit 0
 * (--help or --version printed), 2 on a usage error (message printed to stderr; exit 2).
 */
int cyph_daemon_parse_args(int argc, char **argv, const char *summary,
			   struct cyph_daemon_args *a);
void cyph_daemon_args_free(struct cyph_daemon_args *a);

/*
 * The start of every daemon's main(): starts logging as name, parses argv
 * into a, answers --help and --help-config (the schema fields), loads and
 * validates the configuration with load(arg, ...) and answers --check.
 * Returns -1 when the daemon should go on, else its exit status (a load
 * error is logged).
 */
int cyph_daemon_begin(int argc, char **argv, const char *name, const char *summary,
		      const struct cyph_cfg_field *fields, size_t nfields,
		      struct cyph_daemon_args *a,
		      int (*load)(void *arg, char *err, size_t errlen), void *arg);

/* cyph_cfg_load_ex with the file and overrides from a. */
int cyph_daemon_load_config(const struct cyph_daemon_args *a,
			    const struct cyph_cfg_field *fields, size_t n, void *out,
			    char *err, size_t errlen);

/*
 * The [http] endpoints: when enabled, listens on listen ("host:port") and
 * attaches to loop (not yet ready: the caller says when), logging where it
 * serves, or why it cannot. *out stays NULL when disabled. 0, or -1.
 */
int cyph_daemon_http(struct cyph_loop *loop, bool enabled, const char *listen,
		     struct cyph_http **out);

/*
 * Drain: polls idle(arg) every 20 ms and stops loop as soon as it returns
 * true or grace_ms have passed (then *timed_out is set, if given). The
 * caller has already stopped accepting new work.
 */
struct cyph_drain {
	struct cyph_loop *loop;
	bool (*idle)(void *arg);
	void *arg;
	uint64_t deadline_ms;
	bool timed_out;
	struct cyph_timer *timer;
};

int cyph_drain_start(struct cyph_drain *d, struct cyph_loop *loop, uint64_t grace_ms,
		     bool (*idle)(void *arg), void *arg);

#endif
