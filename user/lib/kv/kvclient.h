/* SPDX-License-Identifier: MIT */
/*
 * One Redis connection (hiredis, blocking, used from one thread): connect
 * with a timeout, every command bounded by the same timeout, and one
 * reconnect when a command finds the connection broken (a restarted or
 * failed-over server), so a caller sees either a reply or NULL. While the
 * server stays away, reconnects are tried at most every 250 ms doubling
 * to 4 s, and commands in between fail at once: a caller's loop never
 * waits more than one timeout per attempt. Failures are logged with the
 * connection's name, the server and the command; a broken server is
 * logged once until it works again, not per command.
 *
 * hiredis writes with write(2): a process using this ignores SIGPIPE (the
 * daemons do), so a server that died mid-connection is an error, not a
 * signal.
 *
 * Keys: callers build them with cyph_kv_key() from the configured prefix,
 * so one server can hold several deployments.
 */
#ifndef CYPHONIC_KV_CLIENT_H
#define CYPHONIC_KV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
#include "kvconfig.h"

struct cyph_kv;

/*
 * Connects to c->redis. name says who uses the connection (logs). Returns
 * NULL with the reason in err when the first connection fails.
 */
struct cyph_kv *cyph_kv_open(const struct cyph_kv_config *c, const char *name,
			     char *err, size_t errlen);
void cyph_kv_close(struct cyph_kv *kv);

/*
 * A command (hiredis format: %s, %b with pointer and size_t length,
 * %lld; not printf's, so the compiler cannot check the arguments).
 * Returns the reply (free with freeReplyObject), or NULL when the server
 * could not be reached even after a reconnect or answered with an error
 * (logged). A NULL reply never leaves a half-read answer behind.
 */
redisReply *cyph_kv_cmd(struct cyph_kv *kv, const char *fmt, ...);

/* Typed shortcuts; -1 when the command failed or the type is unexpected. */
int cyph_kv_int(struct cyph_kv *kv, long long *out, const char *fmt, ...);
int cyph_kv_ok(struct cyph_kv *kv, const char *fmt, ...);	/* status/int reply */

/*
 * Pipelining: queue n commands with cyph_kv_append(), then read each reply
 * with cyph_kv_reply() in the same order. On a broken connection the
 * replies are NULL (no reconnect: the caller retries the whole batch).
 */
int cyph_kv_append(struct cyph_kv *kv, const char *fmt, ...);
redisReply *cyph_kv_reply(struct cyph_kv *kv);
/*
 * Deferred writes: a command whose reply nobody needs now (a SET, a DEL)
 * is queued and sent with the next command, pipeline or settle; the
 * next reply read (cyph_kv_cmd, cyph_kv_reply) first reads and frees
 * the deferred replies, logging errors, so many writes and one read cost
 * one round trip. cyph_kv_settle() sends what is queued and reads the
 * owed replies: a caller settles before it acts on the writes being
 * in Redis (e.g. before answering a request that made them). Do not
 * defer between a pipeline's cyph_kv_append() and its cyph_kv_reply().
 */
int cyph_kv_defer(struct cyph_kv *kv, const char *fmt, ...);
void cyph_kv_settle(struct cyph_kv *kv);

/*
 * Subscriber side: after a SUBSCRIBE command, waits at most timeout_ms
 * for the next pushed message. Returns it, or NULL on timeout (*broken
 * false) or on a lost connection (*broken true: subscribe again after
 * cyph_kv_reconnect()).
 */
redisReply *cyph_kv_next(struct cyph_kv *kv, int timeout_ms, bool *broken);
int cyph_kv_reconnect(struct cyph_kv *kv);

/* prefix + printf(fmt, ...) into buf; the key's length. */
size_t cyph_kv_key(const struct cyph_kv *kv, char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *cyph_kv_prefix(const struct cyph_kv *kv);

/* Commands that failed since the start (metrics). */
uint64_t cyph_kv_errors(const struct cyph_kv *kv);

#endif
