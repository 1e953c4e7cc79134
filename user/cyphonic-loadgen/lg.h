/* SPDX-License-Identifier: MIT */
/* cyphonic-loadgen internals. */
#ifndef CYPHONIC_LG_H
#define CYPHONIC_LG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lg_opts {
	const char *as, *as_ca, *name, *password;	/* as mode */
	const char *as_name;		/* expected in the AS certificate */
	const char *nms, *trs_note;			/* nms/trs modes */
	const char *ca_cert, *ca_key, *nms_cert;	/* issuing, NMS key pin */
	const char *ramp;		/* seq: rates, comma separated */
	pid_t pid;			/* daemon whose CPU is measured */
	int nodes, threads, window, size, sessions, conns, sources, socks;
	int first_id;			/* nms/seq/trs: node ids from 100000 + this */
	int timeout_ms;			/* nms/seq/trs without --retry: failed after */
	bool retry;			/* client/retry.h backoff, not one try */
	bool tick;			/* a "RESULT test=tick" line a second */
	bool reconnect;			/* as: a new connection per authentication */
	double rate, seconds;
};

/* Latency samples (ns) and the result line. */
struct lg_stats {
	uint64_t *lat;
	size_t n, cap;
	uint64_t ok, fail, timeout, retries;
};

void lg_stats_add(struct lg_stats *s, uint64_t ns);
/* Empties s (its samples freed) for the next measurement. */
void lg_stats_reset(struct lg_stats *s);
/* "RESULT test=... ops=... secs=... rate=... cpu=... per_core=... p50_us=..." */
void lg_report(const char *test, struct lg_stats *s, double secs, double cpu_s,
	       const char *extra);

uint64_t lg_now_ns(void);
/* utime + stime of pid in seconds, from /proc/<pid>/stat; -1 if unknown. */
double lg_cpu_seconds(pid_t pid);

int lg_run_as(const struct lg_opts *o);
int lg_run_nms(const struct lg_opts *o);	/* registrations + routes */
int lg_run_seq(const struct lg_opts *o);	/* register+route sequences, ramped */
int lg_run_trs(const struct lg_opts *o);	/* relayed packets */
int lg_run_flood(const struct lg_opts *o);	/* keepalives under a REGISTER flood */
int lg_run_idle(const struct lg_opts *o);	/* hold idle AS connections */
int lg_run_timers(const struct lg_opts *o);	/* event loop re-arm cost */
int lg_issue(const struct lg_opts *o, const char *name, uint64_t id,
	     const char *cert_out, const char *key_out);

#endif
