// SPDX-License-Identifier: MIT
/*
 * Relay sessions shared by TRS replicas (trs_sync.h). Redis holds, per
 * session, the hash PREFIX rs:ID with
 *
 *	x	the allocation's expiry (a session id names one allocation)
 *	sN, eN	end N's BIND sequence and its state (struct end_blob)
 *
 * with a TTL of the idle timeout, refreshed while the session carries
 * traffic here. A BIND or CLOSE is written by a Lua script that keeps an
 * end only when its sequence is newer than the stored one (so a replayed
 * BIND cannot overwrite it) and publishes "TAG:ID" on PREFIX rs.
 *
 * Two threads: the worker writes queued changes and reads sessions the
 * forwarding threads asked for (an id they did not know, a source they
 * did not know for it), merging them into the table; the listener turns
 * other replicas' announcements into reads of sessions known here. The
 * cache is therefore stale for one announcement's delivery after a change
 * elsewhere (sub-millisecond on one host), or, while the channel is down,
 * until the first packet from the moved end triggers a read.
 */
#include "trs_sync.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kv/kvclient.h"
#include "runtime/log.h"
#include "wire/proto_udp.h"

#define QMAX 4096		/* queued changes and lookups each */
#define ASKED 4096		/* recent lookups remembered (direct-mapped) */
#define ASK_AGAIN_MS 500	/* one lookup per id in this time */
#define LOOKUPS_PER_S 2000	/* budget against sprayed session ids */
#define KEY_MAX 128
#define END_MAGIC 0x54525301u	/* "TRS" v1 */

struct end_blob {
	uint32_t magic;
	uint8_t bound;
	uint64_t node_id, last_seq;
	struct proto_ep ep;
};

struct trs_sync {
	struct trs *t;
	struct cyph_kv *kv, *sub;
	int64_t idle_ms;
	uint32_t tag;			/* this replica, in announcements */
	char chan[KEY_MAX];
	pthread_t worker, listener;
	bool have_worker, have_listener;
	_Atomic bool stop;

	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t wake;
	struct trs_snap changes[QMAX];
	size_t n_changes;
	uint32_t lookups[QMAX];
	size_t n_lookups;
	struct { uint32_t id; int64_t ms; } asked[ASKED];
	double tokens;
	int64_t tokens_ms;
	struct trs_sync_stats st;

	/* the worker's and the listener's own buffers */
	struct trs_snap w_changes[QMAX];
	uint32_t w_lookups[QMAX], w_ids[QMAX], l_ids[QMAX];
};

/* Sent with every write: small, and EVALSHA would save bytes, not round trips. */
static const char WRITE_END[] =
	"local f = 's' .. ARGV[1] "
	"local x = redis.call('HGET', KEYS[1], 'x') "
	"if x and x ~= ARGV[3] then return -1 end "
	"local cur = redis.call('HGET', KEYS[1], f) "
	"if cur and tonumber(cur) >= tonumber(ARGV[2]) then return 0 end "
	"redis.call('HSET', KEYS[1], 'x', ARGV[3], f, ARGV[2], 'e' .. ARGV[1], ARGV[4]) "
	"redis.call('PEXPIRE', KEYS[1], ARGV[5]) "
	"redis.call('PUBLISH', ARGV[6], ARGV[7]) "
	"return 1";

/* ---- hooks (forwarding threads) ------------------------------------------------- */

static void hook_changed(void *arg, const struct trs_snap *snap)
{
	struct trs_sync *s = arg;

	pthread_mutex_lock(&s->lock);
	if (s->n_changes < QMAX) {
		s->changes[s->n_changes++] = *snap;
		pthread_cond_signal(&s->wake);
	} else {
		s->st.dropped++;
	}
	pthread_mutex_unlock(&s->lock);
}

/* Queues a lookup of id unless asked recently or over budget (locked). */
static void ask_locked(struct trs_sync *s, uint32_t id, int64_t now)
{
	size_t slot = (id * 2654435761u) % ASKED;

	if (s->asked[slot].id == id && now - s->asked[slot].ms < ASK_AGAIN_MS)
		return;
	if (now > s->tokens_ms) {
		s->tokens += (double)(now - s->tokens_ms) * LOOKUPS_PER_S / 1000.0;
		if (s->tokens > LOOKUPS_PER_S)
			s->tokens = LOOKUPS_PER_S;
		s->tokens_ms = now;
	}
	if (s->tokens < 1 || s->n_lookups == QMAX) {
		s->st.dropped++;
		return;
	}
	s->tokens -= 1;
	s->asked[slot].id = id;
	s->asked[slot].ms = now;
	s->lookups[s->n_lookups++] = id;
	pthread_cond_signal(&s->wake);
}

static void hook_missing(void *arg, uint32_t id)
{
	struct trs_sync *s = arg;

	pthread_mutex_lock(&s->lock);
	ask_locked(s, id, proto_now_ms());
	pthread_mutex_unlock(&s->lock);
}

/* ---- Redis side (worker thread) -------------------------------------------------- */

static void write_end(struct trs_sync *s, const struct trs_snap *snap, int e)
{
	const struct trs_end *end = &snap->end[e];
	char key[KEY_MAX], msg[32];
	struct end_blob b;
	redisReply *r;

	memset(&b, 0, sizeof(b));	/* no padding bytes leave the process */
	b.magic = END_MAGIC;
	b.bound = end->bound;
	b.node_id = end->node_id;
	b.last_seq = end->last_seq;
	b.ep = end->ep;
	cyph_kv_key(s->kv, key, sizeof(key), "rs:%u", snap->id);
	snprintf(msg, sizeof(msg), "%u:%u", s->tag, snap->id);
	r = cyph_kv_cmd(s->kv, "EVAL %s 1 %s %d %llu %llu %b %lld %s %s", WRITE_END, key, e,
			(unsigned long long)end->last_seq, (unsigned long long)snap->expiry,
			(const char *)&b, sizeof(b), (long long)s->idle_ms, s->chan, msg);
	if (r && r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
		pthread_mutex_lock(&s->lock);
		s->st.published++;
		pthread_mutex_unlock(&s->lock);
	}
	freeReplyObject(r);
}

static bool parse_end(const redisReply *v, struct trs_end *out)
{
	struct end_blob b;

	if (v->type != REDIS_REPLY_STRING || v->len != sizeof(b))
		return false;
	memcpy(&b, v->str, sizeof(b));
	if (b.magic != END_MAGIC)
		return false;
	out->bound = b.bound;
	out->node_id = b.node_id;
	out->last_seq = b.last_seq;
	out->ep = b.ep;
	return true;
}

/* Reads session id and merges it into the table; false if Redis has none. */
static bool lookup(struct trs_sync *s, uint32_t id)
{
	struct trs_snap snap = { .id = id };
	char key[KEY_MAX];
	redisReply *r;
	bool found = false;
	size_t i;

	cyph_kv_key(s->kv, key, sizeof(key), "rs:%u", id);
	r = cyph_kv_cmd(s->kv, "HGETALL %s", key);
	for (i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *v = r->element[i + 1];

		if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
			continue;
		if (!strcmp(f->str, "x")) {
			snap.expiry = strtoull(v->str, NULL, 10);
			found = true;
		} else if (!strcmp(f->str, "e0") || !strcmp(f->str, "e1")) {
			parse_end(v, &snap.end[f->str[1] - '0']);
		}
	}
	freeReplyObject(r);
	if (found && !trs_install(s->t, &snap, proto_now_ms())) {
		pthread_mutex_lock(&s->lock);
		s->st.installed++;
		pthread_mutex_unlock(&s->lock);
	}
	return found;
}

/* Keeps the Redis copy of sessions with traffic here from expiring. */
static void refresh_ttls(struct trs_sync *s, int64_t since)
{
	uint32_t *ids = s->w_ids;
	size_t n = trs_active_ids(s->t, since, ids, QMAX), i, sent = 0;
	char key[KEY_MAX];

	for (i = 0; i < n; i++) {
		cyph_kv_key(s->kv, key, sizeof(key), "rs:%u", ids[i]);
		sent += !cyph_kv_append(s->kv, "PEXPIRE %s %lld", key, (long long)s->idle_ms);
	}
	while (sent--)
		freeReplyObject(cyph_kv_reply(s->kv));
}

static void *worker(void *arg)
{
	struct trs_sync *s = arg;
	struct trs_snap *changes = s->w_changes;
	uint32_t *lookups = s->w_lookups;
	int64_t last_refresh = proto_now_ms(), period = s->idle_ms / 3;
	size_t nc, nl, i;

	while (!atomic_load(&s->stop)) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&s->lock);
		while (!s->n_changes && !s->n_lookups && !atomic_load(&s->stop) &&
		       pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT)
			;
		nc = s->n_changes;
		nl = s->n_lookups;
		memcpy(changes, s->changes, nc * sizeof(changes[0]));
		memcpy(lookups, s->lookups, nl * sizeof(lookups[0]));
		s->n_changes = s->n_lookups = 0;
		s->st.lookups += nl;
		pthread_mutex_unlock(&s->lock);
		for (i = 0; i < nc; i++) {
			write_end(s, &changes[i], 0);
			write_end(s, &changes[i], 1);
			lookup(s, changes[i].id);	/* the other end, if bound elsewhere */
		}
		for (i = 0; i < nl; i++)
			lookup(s, lookups[i]);
		if (proto_now_ms() - last_refresh >= (period > 1000 ? period : 1000)) {
			int64_t now = proto_now_ms();

			refresh_ttls(s, last_refresh);
			last_refresh = now;
		}
	}
	return NULL;
}

/* ---- announcements (listener thread) --------------------------------------------- */

static int subscribe(struct trs_sync *s)
{
	redisReply *r = cyph_kv_cmd(s->sub, "SUBSCRIBE %s", s->chan);
	int rc = r && r->type == REDIS_REPLY_ARRAY ? 0 : -1;

	freeReplyObject(r);
	return rc;
}

/* "TAG:ID" of another replica about a session known here: read it again. */
static void on_message(struct trs_sync *s, const redisReply *r)
{
	struct trs_snap snap;
	unsigned int tag, id;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[2]->type != REDIS_REPLY_STRING ||
	    sscanf(r->element[2]->str, "%u:%u", &tag, &id) != 2 || tag == s->tag)
		return;
	if (!trs_snapshot(s->t, id, &snap))
		return;		/* not cached here: nothing can be stale */
	pthread_mutex_lock(&s->lock);
	s->st.invalidations++;
	if (s->n_lookups < QMAX) {
		s->lookups[s->n_lookups++] = id;	/* no budget: announced */
		pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
}

/* After the channel was down, every cached session may be stale. */
static void reread_all(struct trs_sync *s)
{
	uint32_t *ids = s->l_ids;
	size_t n = trs_active_ids(s->t, 0, ids, QMAX), i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < n && s->n_lookups < QMAX; i++)
		s->lookups[s->n_lookups++] = ids[i];
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

static void *listener(void *arg)
{
	struct trs_sync *s = arg;
	bool broken = false;

	while (!atomic_load(&s->stop)) {
		redisReply *r;

		if (broken) {
			if (cyph_kv_reconnect(s->sub) || subscribe(s)) {
				struct timespec ts = { 0, 200 * 1000000L };

				nanosleep(&ts, NULL);	/* server away: retry */
				continue;
			}
			log_info("trs sync: invalidation channel back; re-reading sessions");
			reread_all(s);
		}
		r = cyph_kv_next(s->sub, 200, &broken);
		if (r)
			on_message(s, r);
		freeReplyObject(r);
	}
	return NULL;
}

/* ---- life cycle ------------------------------------------------------------------ */

struct trs_sync *trs_sync_start(struct trs *t, const struct cyph_kv_config *c,
				int64_t idle_ms, char *err, size_t errlen)
{
	struct trs_sync *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->t = t;
	s->idle_ms = idle_ms;
	s->tokens = LOOKUPS_PER_S;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	proto_random(&s->tag, sizeof(s->tag));
	s->kv = cyph_kv_open(c, "trs sync", err, errlen);
	s->sub = s->kv ? cyph_kv_open(c, "trs invalidations", err, errlen) : NULL;
	if (!s->sub)
		goto fail;
	cyph_kv_key(s->kv, s->chan, sizeof(s->chan), "rs");
	if (subscribe(s)) {
		snprintf(err, errlen, "redis %s: SUBSCRIBE failed", c->redis);
		goto fail;
	}
	t->hooks.changed = hook_changed;
	t->hooks.missing = hook_missing;
	t->hooks.arg = s;
	if (pthread_create(&s->worker, NULL, worker, s))
		goto fail;
	s->have_worker = true;
	if (pthread_create(&s->listener, NULL, listener, s))
		goto fail;
	s->have_listener = true;
	return s;
fail:
	if (!err[0])
		snprintf(err, errlen, "cannot start threads");
	trs_sync_stop(s);
	return NULL;
}

void trs_sync_stop(struct trs_sync *s)
{
	if (!s)
		return;
	memset(&s->t->hooks, 0, sizeof(s->t->hooks));
	atomic_store(&s->stop, true);
	pthread_mutex_lock(&s->lock);
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if (s->have_worker)
		pthread_join(s->worker, NULL);
	if (s->have_listener)
		pthread_join(s->listener, NULL);
	cyph_kv_close(s->kv);
	cyph_kv_close(s->sub);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s);
}

void trs_sync_get_stats(struct trs_sync *s, struct trs_sync_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	pthread_mutex_unlock(&s->lock);
}
