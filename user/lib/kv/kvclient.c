// SPDX-License-Identifier: MIT
/*
 * A blocking hiredis connection with timeouts and one reconnect per
 * command (kvclient.h). hiredis marks a context unusable after any I/O
 * error, timeouts included, so every failure ends in redisReconnect().
 */
#include "kvclient.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "runtime/log.h"

/*
 * After a failed reconnect, commands fail at once for a while instead of
 * each waiting out a connect timeout: a daemon's loop must not stall on
 * every request while the server is away. The pause doubles up to MAX.
 */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 4000

struct cyph_kv {
	redisContext *c;
	struct cyph_kv_config cfg;
	char name[64];
	bool down;		/* logged as unreachable, not logged again */
	int64_t retry_at_ms;	/* down: no connection attempt before */
	int64_t backoff_ms;
	uint64_t errors;
	unsigned int owed;	/* replies of deferred commands not read yet */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval tv_of(long long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	return tv;
}

static redisContext *dial(const struct cyph_kv_config *cfg)
{
	char host[CYPH_CFG_STR_MAX];
	struct timeval tv = tv_of(cfg->timeout_ms);
	redisContext *c;
	bool is_unix;
	int port;

	if (cyph_kv_addr_split(cfg->redis, host, sizeof(host), &port, &is_unix))
		return NULL;
	c = is_unix ? redisConnectUnixWithTimeout(host, tv)
		    : redisConnectWithTimeout(host, port, tv);
	if (c && !c->err)
		redisSetTimeout(c, tv);
	return c;
}

struct cyph_kv *cyph_kv_open(const struct cyph_kv_config *c, const char *name,
			     char *err, size_t errlen)
{
	struct cyph_kv *kv = calloc(1, sizeof(*kv));

	if (!kv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	kv->cfg = *c;
	snprintf(kv->name, sizeof(kv->name), "%s", name);
	kv->c = dial(c);
	if (!kv->c || kv->c->err) {
		snprintf(err, errlen, "redis %s: %s", c->redis,
			 kv->c ? kv->c->errstr : "bad address or out of memory");
		cyph_kv_close(kv);
		return NULL;
	}
	return kv;
}

void cyph_kv_close(struct cyph_kv *kv)
{
	if (!kv)
		return;
	if (kv->c)
		redisFree(kv->c);
	free(kv);
}

static int reconnect(struct cyph_kv *kv)
{
	if (kv->c && redisReconnect(kv->c) == REDIS_OK) {
		redisSetTimeout(kv->c, tv_of(kv->cfg.timeout_ms));
		return 0;
	}
	/* A context that failed to allocate cannot reconnect: dial afresh. */
	if (kv->c)
		redisFree(kv->c);
	kv->c = dial(&kv->cfg);
	return kv->c && !kv->c->err ? 0 : -1;
}

int cyph_kv_reconnect(struct cyph_kv *kv)
{
	int64_t now = mono_ms();

	if (kv->down && now < kv->retry_at_ms)
		return -1;
	if (!reconnect(kv)) {
		kv->backoff_ms = 0;
		return 0;
	}
	kv->backoff_ms = kv->backoff_ms ? kv->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (kv->backoff_ms > BACKOFF_MAX_MS)
		kv->backoff_ms = BACKOFF_MAX_MS;
	kv->retry_at_ms = now + kv->backoff_ms;
	return -1;
}

/* Logs a failure of cmd (its first word only: values may be secrets). */
static void failed(struct cyph_kv *kv, const char *fmt, const char *why)
{
	int n = (int)strcspn(fmt, " ");

	kv->errors++;
	if (kv->down)
		return;
	log_err("redis %s (%s): %.*s: %s", kv->cfg.redis, kv->name, n, fmt, why);
}

static redisReply *checked(struct cyph_kv *kv, const char *fmt, redisReply *r)
{
	if (r && r->type == REDIS_REPLY_ERROR) {
		failed(kv, fmt, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* Reads the replies owed to deferred commands (sending what is queued). */
static void settle(struct cyph_kv *kv)
{
	while (kv->owed) {
		void *r = NULL;

		kv->owed--;
		if (!kv->c || kv->c->err || redisGetReply(kv->c, &r) != REDIS_OK) {
			failed(kv, "deferred", kv->c ? kv->c->errstr : "not connected");
			kv->owed = 0;
			return;
		}
		freeReplyObject(checked(kv, "deferred", r));
	}
}

void cyph_kv_settle(struct cyph_kv *kv)
{
	settle(kv);
}

/*
 * The command goes out behind the deferred ones, in the same write, and
 * their replies are read before its own: still one round trip.
 */
static redisReply *vcmd_after_deferred(struct cyph_kv *kv, const char *fmt, va_list ap)
{
	void *r = NULL;

	if (redisvAppendCommand(kv->c, fmt, ap) != REDIS_OK) {
		kv->owed = 0;
		return NULL;
	}
	settle(kv);
	if (!kv->c->err && redisGetReply(kv->c, &r) == REDIS_OK)
		return r;
	return NULL;
}

static redisReply *vcmd(struct cyph_kv *kv, const char *fmt, va_list ap)
{
	redisReply *r = NULL;
	va_list again;

	va_copy(again, ap);
	if (kv->c && !kv->c->err)
		r = kv->owed ? vcmd_after_deferred(kv, fmt, ap) : redisvCommand(kv->c, fmt, ap);
	kv->owed = 0;	/* a broken connection lost them */
	if (!r) {
		/* Broken (server restarted, timeout): one fresh connection. */
		if (!cyph_kv_reconnect(kv))
			r = redisvCommand(kv->c, fmt, again);
		if (!r) {
			failed(kv, fmt, kv->c && kv->c->err ? kv->c->errstr : "cannot connect");
			kv->down = true;
			va_end(again);
			return NULL;
		}
	}
	va_end(again);
	if (kv->down) {
		log_info("redis %s (%s): reachable again", kv->cfg.redis, kv->name);
		kv->down = false;
	}
	return checked(kv, fmt, r);
}

redisReply *cyph_kv_cmd(struct cyph_kv *kv, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = vcmd(kv, fmt, ap);
	va_end(ap);
	return r;
}

int cyph_kv_int(struct cyph_kv *kv, long long *out, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;
	int rc = -1;

	va_start(ap, fmt);
	r = vcmd(kv, fmt, ap);
	va_end(ap);
	if (r && r->type == REDIS_REPLY_INTEGER) {
		*out = r->integer;
		rc = 0;
	}
	freeReplyObject(r);
	return rc;
}

int cyph_kv_ok(struct cyph_kv *kv, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	r = vcmd(kv, fmt, ap);
	va_end(ap);
	rc = r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_INTEGER) ? 0 : -1;
	freeReplyObject(r);
	return rc;
}

static int vappend(struct cyph_kv *kv, const char *fmt, va_list ap)
{
	if ((!kv->c || kv->c->err) && cyph_kv_reconnect(kv))
		return -1;
	return redisvAppendCommand(kv->c, fmt, ap) == REDIS_OK ? 0 : -1;
}

int cyph_kv_append(struct cyph_kv *kv, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vappend(kv, fmt, ap);
	va_end(ap);
	return rc;
}

int cyph_kv_defer(struct cyph_kv *kv, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vappend(kv, fmt, ap);
	va_end(ap);
	kv->owed += !rc;
	return rc;
}

redisReply *cyph_kv_reply(struct cyph_kv *kv)
{
	void *r = NULL;

	settle(kv);
	if (!kv->c || kv->c->err || redisGetReply(kv->c, &r) != REDIS_OK) {
		failed(kv, "pipeline", kv->c ? kv->c->errstr : "not connected");
		return NULL;
	}
	return checked(kv, "pipeline", r);
}

redisReply *cyph_kv_next(struct cyph_kv *kv, int timeout_ms, bool *broken)
{
	struct pollfd p;
	void *r = NULL;

	*broken = false;
	if (!kv->c || kv->c->err)
		goto lost;
	/* A message already read with an earlier one is in the reader. */
	if (redisGetReplyFromReader(kv->c, &r) != REDIS_OK)
		goto lost;
	if (r)
		return r;
	p.fd = kv->c->fd;
	p.events = POLLIN;
	if (poll(&p, 1, timeout_ms) <= 0)
		return NULL;
	if (redisBufferRead(kv->c) != REDIS_OK ||
	    redisGetReplyFromReader(kv->c, &r) != REDIS_OK)
		goto lost;
	return r;
lost:
	failed(kv, "SUBSCRIBE", kv->c ? kv->c->errstr : "not connected");
	*broken = true;
	return NULL;
}

size_t cyph_kv_key(const struct cyph_kv *kv, char *buf, size_t cap, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(buf, cap, "%s", kv->cfg.prefix);
	va_list ap;
	int m;

	if (n >= cap)
		return cap - 1;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
	return m < 0 ? n : (n + (size_t)m >= cap ? cap - 1 : n + (size_t)m);
}

const char *cyph_kv_prefix(const struct cyph_kv *kv)
{
	return kv->cfg.prefix;
}

uint64_t cyph_kv_errors(const struct cyph_kv *kv)
{
	return kv->errors;
}
