/* SPDX-License-Identifier: MIT */
/*
 * The DNS server: the responder (responder.h) on UDP and TCP (RFC 7766:
 * length-prefixed messages, several per connection, idle timeout) on one
 * loopback address and port, driven by the caller's event loop.
 *
 * Hostile-sender rules: each query costs one token of its source's budget
 * (ratelimit.h) before it is parsed; what is not a query is dropped and
 * counted; TCP connections, their idle time and their query size are
 * bounded; queries waiting for a lookup are bounded (pending.h).
 *
 * Names the table does not hold (tunnels on demand): with a miss handler
 * set, a query for an unknown name inside the domain waits instead of
 * getting NXDOMAIN, and the handler is called once per name:
 *
 *	on_miss(arg, "peer.cyph.example")	-> the daemon asks the NMS
 *	  ... later, on the same loop thread ...
 *	dns_names_set(names, "peer.cyph.example", &vip4, &vip6, ttl);
 *	dns_server_resolved(srv, "peer.cyph.example");	-> the VIPs
 *   or	dns_server_resolved(srv, ...) without adding	-> NXDOMAIN
 *   or	dns_server_lookup_failed(srv, ...)		-> SERVFAIL
 *   or	nothing within pending_timeout_ms		-> SERVFAIL
 *
 * A full pending list answers SERVFAIL at once. Without a handler,
 * unknown names get NXDOMAIN straight away.
 *
 * Everything runs on the loop's thread; none of these functions is
 * thread-safe.
 */
#ifndef CYPHONIC_DNS_SERVER_H
#define CYPHONIC_DNS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "responder.h"

struct cyph_loop;

struct dns_server_cfg {
	/* 127.0.0.0/8 or ::1 only; port 0 picks one (UDP and TCP share it) */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint32_t rate;			/* queries/s per source; 0: 200 */
	uint32_t burst;			/* 0: 2 * rate */
	uint32_t max_pending;		/* 0: 256; at most 65536 */
	uint32_t pending_timeout_ms;	/* 0: 3000 */
	uint32_t max_tcp;		/* concurrent TCP connections; 0: 32; <= 1024 */
	uint32_t tcp_idle_ms;		/* 0: 10000 (RFC 7766 6.2.3) */
};

/* What happened to the messages received; read at any time. */
struct dns_server_stats {
	uint64_t queries;		/* messages received (UDP + TCP) */
	uint64_t answers[DNS_RCODE_COUNT];	/* responses sent, by rcode */
	uint64_t truncated;		/* of those, with TC set */
	uint64_t malformed;		/* dropped (no header, QR set) or FORMERR */
	uint64_t ratelimited;		/* dropped: source over its budget */
	uint64_t dropped;		/* dropped otherwise (OOM, send failed) */
	uint64_t misses;		/* lookups asked of the miss handler */
	uint64_t pending_full;		/* SERVFAIL: no room to wait */
	uint64_t pending_timeouts;	/* SERVFAIL: the lookup took too long */
	uint64_t tcp_accepted;
	uint64_t tcp_refused;		/* over max_tcp */
	uint64_t tcp_closed_idle;
};

typedef void (*dns_miss_cb)(void *arg, const char *name);

struct dns_server;

/*
 * Binds UDP and TCP and registers them with loop. r (and its name table)
 * stay the caller's and must outlive the server. NULL with err.
 */
struct dns_server *dns_server_new(struct cyph_loop *loop,
				  const struct dns_server_cfg *cfg,
				  struct dns_responder *r, char *err, size_t errlen);
/* Closes the sockets and connections; waiting queries get no answer. */
void dns_server_free(struct dns_server *s);

/* Sets (or with NULL clears) the miss handler. */
void dns_server_on_miss(struct dns_server *s, dns_miss_cb cb, void *arg);
/* Answers the queries waiting for name from the table as it is now. */
void dns_server_resolved(struct dns_server *s, const char *name);
/* Answers the queries waiting for name with SERVFAIL. */
void dns_server_lookup_failed(struct dns_server *s, const char *name);

const struct dns_server_stats *dns_server_stats(const struct dns_server *s);
uint16_t dns_server_port(const struct dns_server *s);
size_t dns_server_pending(const struct dns_server *s);

#endif
