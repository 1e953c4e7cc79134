/* SPDX-License-Identifier: MIT */
/*
 * runtime: what every daemon and tool is built on, with nothing of
 * CYPHONIC's own protocols or keys in it.
 *
 *	evloop.h	epoll event loop with timers and signalfd
 *	workq.h		worker pool for blocking work off the loop's thread
 *	config.h	schema-driven INI parser (config.c, cfgvalue.c)
 *	daemon.h	daemon flags, config loading, SIGTERM drain timer
 *	log.h		leveled logging to stderr / the journal
 *	http.h		/healthz, /readyz and /metrics server
 *	httpreq.h	its request parsing (apart from sockets, for fuzzing)
 *	metrics.h	Prometheus registry
 *	sdnotify.h	systemd readiness notification without libsystemd
 *	mix.h		hash mixing and string hashing for hash tables
 *	json_out.h	streaming JSON writer
 *	listen.h	TCP listening sockets
 *	addr.h		IP address and endpoint parsing and printing
 *	dnsname.h	node names and FQDNs: DNS labels of [a-z0-9-]
 *	fileutil.h	atomic file writes, whole-file reads
 *	hexkey.h	symmetric keys as hex text
 *	sslerr.h	"char *err, size_t errlen" failures, OpenSSL's error queue
 *	version.h	the release version (../../../VERSION) and --version output
 *
 * May include: nothing (only system headers)
 *
 * The "May include:" line is the rule scripts/check-lib-deps.sh enforces
 * on every file in this folder.
 */
#ifndef CYPHONIC_LIB_RUNTIME_H
#define CYPHONIC_LIB_RUNTIME_H
#include "addr.h"
#include "config.h"
#include "daemon.h"
#include "evloop.h"
#include "fileutil.h"
#include "hexkey.h"
#include "http.h"
#include "httpreq.h"
#include "json_out.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "mix.h"
#include "sdnotify.h"
#include "sslerr.h"
#include "version.h"
#include "workq.h"
#endif
