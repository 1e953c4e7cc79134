// SPDX-License-Identifier: MIT
/*
 * Registration store shared by NMS replicas, in Redis (nms_store.h,
 * docs/scale-out.md). Keys, all under the configured prefix:
 *
 *	reg:ID		the record (struct blob + certificate DER), PX its
 *			expiry + tomb_ms, so Redis forgets it by itself
 *	fqdn:NAME v4:A v6:A	-> ID, same PX; checked against the record
 *	rp:ID:SEQ	replay claim, SET NX PX 2 x skew: a request counts once
 *			across every replica and across restarts
 *	txseq:ID	INCR: NMS -> node sequence numbers of every replica
 *	pend:ID		sorted set notify id -> next retransmission (ms)
 *	pendpkt:ID	hash notify id -> struct pend_blob + the datagram
 *	pendnodes	set of node ids with pending notifications
 *	pendclaim:ID:N	SET NX: one replica adopts an orphaned notification
 *
 * Records are cached in an in-process store (nms_store_mem.c) whose
 * pointers the engine works on; every lookup re-reads Redis, so a replica
 * always acts on what the last writer saved, except within one receive
 * batch: prefetch() reads the batch's records in one round trip and they
 * serve the batch, so a write by another replica during a batch (a few
 * milliseconds) is seen by the next one. Writes are deferred
 * (cyph_kv_defer) and go out with the next read or at flush(), the end
 * of the batch, which waits for them before the replies are sent: one
 * round trip for a batch's writes instead of one per request. Writes are whole records,
 * last writer wins: two replicas writing one node within the same
 * millisecond is a node talking to both at once, and its next message
 * repairs either outcome.
 *
 * Redis unreachable: lookups miss (NOT_REGISTERED, the node re-registers
 * when the store is back), replay claims pass, writes are lost; the kv
 * layer logs it once and reconnects on the next command.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "kv/kvclient.h"
#include "nms_store.h"
#include "runtime/log.h"

#define BLOB_MAGIC 0x4e4d5303u	/* "NMS" v3 (policy in ident, reg_seq): another layout is ignored */
#define KEY_MAX 320
#define PEND_TTL_MS 120000
#define ADOPT_NODES 64

struct blob {
	uint32_t magic, cert_len;
	struct nms_ident ident;
	struct proto_keys keys;
	struct proto_ep observed;
	struct proto_ep addrs[PROTO_MAX_ADDRS];
	int64_t expires_ms;
	uint64_t reg_seq;
	uint32_t n_addrs;
	uint8_t active, nat, families;
};

struct pend_blob {
	uint32_t magic, rto_ms, tries, len;
	struct proto_ep to;
};

struct redis_store {
	struct nms_store base;
	struct nms_store *cache;
	struct cyph_kv *kv;
	int64_t tomb_ms;
	uint32_t gen;		/* batch: records with this fetch_gen are current */
	uint64_t absent[NMS_PREFETCH_MAX];	/* ids prefetched and not in Redis */
	size_t n_absent;
	struct {			/* prepare(): replay claims made */
		uint64_t id, seq;
		bool first, used;
	} claims[NMS_PREFETCH_MAX];
	size_t n_claims;
	struct {			/* prepare(): fqdn index read (id 0: none) */
		char fqdn[PROTO_MAX_FQDN + 1];
		uint64_t id;
	} names[NMS_PREFETCH_MAX];
	size_t n_names;
};

#define R(s) ((struct redis_store *)(s))

/* ---- records ------------------------------------------------------------------ */

static void v4_text(struct in_addr a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void v6_text(const struct in6_addr *a, char *buf)
{
	inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* Copies the shared fields of b into the cached record r. */
static bool decode(struct nms_reg *r, const char *data, size_t len)
{
	struct blob b;

	if (len < sizeof(b))
		return false;
	memcpy(&b, data, sizeof(b));
	if (b.magic != BLOB_MAGIC || len != sizeof(b) + b.cert_len ||
	    b.n_addrs > PROTO_MAX_ADDRS)
		return false;
	if (!r->cert || r->cert_len != b.cert_len ||
	    memcmp(r->cert, data + sizeof(b), b.cert_len)) {
		uint8_t *c = b.cert_len ? malloc(b.cert_len) : NULL;

		if (b.cert_len && !c)
			return false;
		if (c)
			memcpy(c, data + sizeof(b), b.cert_len);
		free(r->cert);
		r->cert = c;
		r->cert_len = b.cert_len;
		r->checked_gen = 0;	/* another certificate: check it here too */
	}
	r->ident = b.ident;
	r->keys = b.keys;
	r->observed = b.observed;
	memcpy(r->addrs, b.addrs, sizeof(r->addrs));
	r->n_addrs = b.n_addrs;
	r->expires_ms = b.expires_ms;
	r->reg_seq = b.reg_seq;
	r->active = b.active;
	r->nat = b.nat;
	r->families = b.families;
	memset(&b.keys, 0, sizeof(b.keys));
	return true;
}

/*
 * The record of id as Redis has it, into the cache; NULL (and the cached
 * copy dropped) when Redis has none.
 */
static struct nms_reg *load_reply(struct redis_store *s, uint64_t id, redisReply *rep,
				  const char *key)
{
	struct nms_store *c = s->cache;
	struct nms_reg *r = c->ops->get(c, id);
	bool fresh = false;

	if (!rep || rep->type != REDIS_REPLY_STRING) {
		/*
		 * Gone from Redis (expired, removed): the cached copy becomes
		 * an expired tombstone, freed by the next walk (the engine
		 * may hold a pointer to it now). Unreachable: the cached copy.
		 */
		if (r && rep) {
			r->active = false;
			r->expires_ms = 0;
			c->ops->update(c, r);
		}
		freeReplyObject(rep);
		return rep ? NULL : r;
	}
	if (!r) {
		r = c->ops->create(c, id);
		fresh = true;
	}
	if (r && !decode(r, rep->str, rep->len)) {
		log_warn("redis: record %s has another layout (another version?): ignored", key);
		if (fresh)
			c->ops->remove(c, r);
		r = NULL;
	}
	freeReplyObject(rep);
	if (r)
		c->ops->update(c, r);	/* re-index the cache */
	return r;
}

static struct nms_reg *load(struct redis_store *s, uint64_t id)
{
	char key[KEY_MAX];

	cyph_kv_key(s->kv, key, sizeof(key), "reg:%llu", (unsigned long long)id);
	return load_reply(s, id, cyph_kv_cmd(s->kv, "GET %s", key), key);
}

/* The record of id: as read in this batch, else from Redis. */
static struct nms_reg *current(struct redis_store *s, uint64_t id)
{
	struct nms_reg *r = s->cache->ops->get(s->cache, id);
	size_t i;

	if (r && r->fetch_gen == s->gen)
		return r;
	for (i = 0; !r && i < s->n_absent; i++)
		if (s->absent[i] == id)
			return NULL;
	return load(s, id);
}

static int64_t ttl_ms(const struct redis_store *s, const struct nms_reg *r)
{
	int64_t t = r->expires_ms - s->base.now_ms;

	return (t > 0 ? t : 0) + s->tomb_ms + 1;
}

/* Writes r and (active) its index keys, pipelined. */
static void store(struct redis_store *s, struct nms_reg *r)
{
	char key[KEY_MAX], a[INET6_ADDRSTRLEN];
	unsigned long long id = (unsigned long long)r->ident.id;
	long long px = ttl_ms(s, r);
	size_t len = sizeof(struct blob) + r->cert_len;
	char *data = malloc(len);
	struct blob b;

	if (!data)
		return;
	memset(&b, 0, sizeof(b));	/* no padding bytes leave the process */
	b.magic = BLOB_MAGIC;
	b.cert_len = (uint32_t)r->cert_len;
	b.ident = r->ident;
	b.keys = r->keys;
	b.observed = r->observed;
	memcpy(b.addrs, r->addrs, sizeof(b.addrs));
	b.expires_ms = r->expires_ms;
	b.reg_seq = r->reg_seq;
	b.n_addrs = r->n_addrs;
	b.active = r->active;
	b.nat = r->nat;
	b.families = r->families;
	memcpy(data, &b, sizeof(b));
	if (r->cert_len)
		memcpy(data + sizeof(b), r->cert, r->cert_len);
	memset(&b, 0, sizeof(b));
	cyph_kv_key(s->kv, key, sizeof(key), "reg:%llu", id);
	cyph_kv_defer(s->kv, "SET %s %b PX %lld", key, data, len, px);
	if (r->active && r->ident.fqdn[0]) {
		cyph_kv_key(s->kv, key, sizeof(key), "fqdn:%s", r->ident.fqdn);
		cyph_kv_defer(s->kv, "SET %s %llu PX %lld", key, id, px);
	}
	if (r->active && r->ident.has_vip4) {
		v4_text(r->ident.vip4, a);
		cyph_kv_key(s->kv, key, sizeof(key), "v4:%s", a);
		cyph_kv_defer(s->kv, "SET %s %llu PX %lld", key, id, px);
	}
	if (r->active && r->ident.has_vip6) {
		v6_text(&r->ident.vip6, a);
		cyph_kv_key(s->kv, key, sizeof(key), "v6:%s", a);
		cyph_kv_defer(s->kv, "SET %s %llu PX %lld", key, id, px);
	}
	/* hiredis copied the command: the session keys can go */
	memset(data, 0, len);
	free(data);
}

/* ---- the store interface ---------------------------------------------------------- */

static struct nms_reg *redis_get(struct nms_store *s, uint64_t id)
{
	return current(R(s), id);
}

/* Index key -> id -> the record, when it is still active under that key. */
static struct nms_reg *by_index(struct nms_store *s, const char *fmt, const char *v)
{
	char key[KEY_MAX];
	redisReply *rep;
	struct nms_reg *r = NULL;
	char *end;
	unsigned long long id;

	cyph_kv_key(R(s)->kv, key, sizeof(key), fmt, v);
	rep = cyph_kv_cmd(R(s)->kv, "GET %s", key);
	if (rep && rep->type == REDIS_REPLY_STRING) {
		id = strtoull(rep->str, &end, 10);
		if (!*end)
			r = current(R(s), id);
	}
	freeReplyObject(rep);
	return r && r->active ? r : NULL;
}

static struct nms_reg *redis_by_fqdn(struct nms_store *s, const char *fqdn)
{
	struct redis_store *rs = R(s);
	struct nms_reg *r = NULL;
	size_t i;

	for (i = 0; i < rs->n_names && strcmp(rs->names[i].fqdn, fqdn); i++)
		;
	if (i < rs->n_names) {		/* read in this batch */
		if (rs->names[i].id)
			r = current(rs, rs->names[i].id);
		r = r && r->active ? r : NULL;
	} else {
		r = by_index(s, "fqdn:%s", fqdn);
	}

	return r && !strcmp(r->ident.fqdn, fqdn) ? r : NULL;
}

static struct nms_reg *redis_by_vip4(struct nms_store *s, struct in_addr a)
{
	char t[INET_ADDRSTRLEN];
	struct nms_reg *r;

	v4_text(a, t);
	r = by_index(s, "v4:%s", t);
	return r && r->ident.has_vip4 && r->ident.vip4.s_addr == a.s_addr ? r : NULL;
}

static struct nms_reg *redis_by_vip6(struct nms_store *s, const struct in6_addr *a)
{
	char t[INET6_ADDRSTRLEN];
	struct nms_reg *r;

	v6_text(a, t);
	r = by_index(s, "v6:%s", t);
	return r && r->ident.has_vip6 && !memcmp(&r->ident.vip6, a, 16) ? r : NULL;
}

static struct nms_reg *redis_create(struct nms_store *s, uint64_t id)
{
	struct nms_store *c = R(s)->cache;

	return c->ops->create(c, id);	/* in Redis on the first update() */
}

static void redis_update(struct nms_store *s, struct nms_reg *r)
{
	struct nms_store *c = R(s)->cache;

	c->ops->update(c, r);
	store(R(s), r);
}

static void redis_remove(struct nms_store *s, struct nms_reg *r)
{
	struct nms_store *c = R(s)->cache;
	char key[KEY_MAX];

	cyph_kv_key(R(s)->kv, key, sizeof(key), "reg:%llu", (unsigned long long)r->ident.id);
	cyph_kv_defer(R(s)->kv, "DEL %s", key);	/* index keys: checked on use, expire */
	c->ops->remove(c, r);
}

struct walk {
	struct redis_store *s;
	void (*fn)(struct nms_reg *r, void *arg);
	void *arg;
	int64_t now;
};

/*
 * A cached record that looks expired is re-read first: another replica
 * may have refreshed it, and acting on the stale copy would write a
 * tombstone over a live registration.
 */
static void walk_one(struct nms_reg *r, void *arg)
{
	struct walk *w = arg;

	if (r->expires_ms <= w->now && !load(w->s, r->ident.id)) {
		w->s->cache->ops->remove(w->s->cache, r);
		return;
	}
	w->fn(r, w->arg);
}

/* Walks the records this replica has cached (Redis expires the rest). */
static void redis_foreach(struct nms_store *s,
			  void (*fn)(struct nms_reg *r, void *arg), void *arg)
{
	struct walk w = { R(s), fn, arg, s->now_ms };
	struct nms_store *c = R(s)->cache;

	c->ops->foreach(c, walk_one, &w);
}

static size_t redis_count(struct nms_store *s)
{
	struct nms_store *c = R(s)->cache;

	return c->ops->count(c);
}

static void redis_destroy(struct nms_store *s)
{
	if (!s)
		return;
	R(s)->cache->ops->destroy(R(s)->cache);
	cyph_kv_close(R(s)->kv);
	free(s);
}

/* ---- replay claims and sequence numbers ---------------------------------------- */

static bool redis_replay_claim(struct nms_store *s, uint64_t id, uint64_t seq,
			       int64_t ttl)
{
	struct redis_store *rs = R(s);
	char key[KEY_MAX];
	redisReply *rep;
	bool first;
	size_t i;

	for (i = 0; i < rs->n_claims; i++)
		if (rs->claims[i].id == id && rs->claims[i].seq == seq && !rs->claims[i].used) {
			rs->claims[i].used = true;	/* claimed in this batch's prepare() */
			return rs->claims[i].first;
		}
	cyph_kv_key(R(s)->kv, key, sizeof(key), "rp:%llu:%llu", (unsigned long long)id,
		    (unsigned long long)seq);
	rep = cyph_kv_cmd(R(s)->kv, "SET %s 1 NX PX %lld", key, (long long)ttl);
	/* nil: the key exists, a replay. No reply at all: cannot tell. */
	first = !rep || rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	return first;
}

static uint64_t redis_next_tx_seq(struct nms_store *s, struct nms_reg *r)
{
	char key[KEY_MAX];
	long long v = 0;
	int ok;

	if (r->ready_gen == R(s)->gen && r->tx_seq_ready) {	/* reserved by prepare() */
		v = (long long)r->tx_seq_ready;
		r->tx_seq_ready = 0;
		return (uint64_t)v;
	}
	cyph_kv_key(R(s)->kv, key, sizeof(key), "txseq:%llu", (unsigned long long)r->ident.id);
	ok = !cyph_kv_append(R(s)->kv, "INCR %s", key) &&
	     !cyph_kv_append(R(s)->kv, "PEXPIRE %s %lld", key, (long long)ttl_ms(R(s), r));
	if (ok) {
		redisReply *a = cyph_kv_reply(R(s)->kv), *b = cyph_kv_reply(R(s)->kv);

		if (a && a->type == REDIS_REPLY_INTEGER)
			v = a->integer;
		freeReplyObject(a);
		freeReplyObject(b);
	}
	/*
	 * Unreachable: continue from the cached counter, which the node's
	 * window accepts unless another replica sent more since.
	 */
	return v > 0 ? (uint64_t)v : r->tx_seq + 1;
}

/* ---- pending notifications ----------------------------------------------------- */

static void pend_keys(struct redis_store *s, uint64_t node, char *z, char *h)
{
	cyph_kv_key(s->kv, z, KEY_MAX, "pend:%llu", (unsigned long long)node);
	cyph_kv_key(s->kv, h, KEY_MAX, "pendpkt:%llu", (unsigned long long)node);
}

static void redis_pend_add(struct nms_store *s, const struct nms_pend *p)
{
	char z[KEY_MAX], h[KEY_MAX], set[KEY_MAX];
	uint8_t data[sizeof(struct pend_blob) + NMS_PEND_PKT_MAX];
	struct pend_blob b;

	memset(&b, 0, sizeof(b));
	b.magic = BLOB_MAGIC;
	b.rto_ms = p->rto_ms;
	b.tries = p->tries;
	b.len = (uint32_t)p->len;
	b.to = p->to;
	memcpy(data, &b, sizeof(b));
	memcpy(data + sizeof(b), p->pkt, p->len);
	pend_keys(R(s), p->node_id, z, h);
	cyph_kv_key(R(s)->kv, set, sizeof(set), "pendnodes");
	cyph_kv_defer(R(s)->kv, "HSET %s %llu %b", h, (unsigned long long)p->notify_id,
		      data, sizeof(b) + p->len);
	cyph_kv_defer(R(s)->kv, "ZADD %s %lld %llu", z, (long long)p->next_ms,
		      (unsigned long long)p->notify_id);
	cyph_kv_defer(R(s)->kv, "PEXPIRE %s %d", h, PEND_TTL_MS);
	cyph_kv_defer(R(s)->kv, "PEXPIRE %s %d", z, PEND_TTL_MS);
	cyph_kv_defer(R(s)->kv, "SADD %s %llu", set, (unsigned long long)p->node_id);
}

static void redis_pend_done(struct nms_store *s, uint64_t node, uint64_t nid)
{
	char z[KEY_MAX], h[KEY_MAX];

	pend_keys(R(s), node, z, h);
	cyph_kv_defer(R(s)->kv, "ZREM %s %llu", z, (unsigned long long)nid);
	cyph_kv_defer(R(s)->kv, "HDEL %s %llu", h, (unsigned long long)nid);
}

static bool redis_pend_live(struct nms_store *s, const struct nms_pend *p)
{
	char z[KEY_MAX], h[KEY_MAX];
	redisReply *score, *set;
	bool live = true;	/* cannot tell: keep resending */

	pend_keys(R(s), p->node_id, z, h);
	/* XX: moves the entry's deadline only while it is there (unacked). */
	if (cyph_kv_append(R(s)->kv, "ZSCORE %s %llu", z, (unsigned long long)p->notify_id) ||
	    cyph_kv_append(R(s)->kv, "ZADD %s XX %lld %llu", z, (long long)p->next_ms,
			   (unsigned long long)p->notify_id))
		return true;
	score = cyph_kv_reply(R(s)->kv);
	set = cyph_kv_reply(R(s)->kv);
	if (score && score->type == REDIS_REPLY_NIL)
		live = false;
	freeReplyObject(score);
	freeReplyObject(set);
	return live;
}

/* Claims and hands over the overdue notifications of one node. */
static void adopt_node(struct redis_store *s, uint64_t node, int64_t before,
		       void (*fn)(void *arg, const struct nms_pend *p), void *arg)
{
	char z[KEY_MAX], h[KEY_MAX], claim[KEY_MAX];
	redisReply *ids, *pkt;
	struct nms_pend p;
	struct pend_blob b;
	size_t i;

	pend_keys(s, node, z, h);
	ids = cyph_kv_cmd(s->kv, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 16", z, (long long)before);
	for (i = 0; ids && ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
		const char *nid = ids->element[i]->str;

		cyph_kv_key(s->kv, claim, sizeof(claim), "pendclaim:%llu:%s",
			    (unsigned long long)node, nid);
		if (cyph_kv_ok(s->kv, "SET %s 1 NX PX 2000", claim))
			continue;
		pkt = cyph_kv_cmd(s->kv, "HGET %s %s", h, nid);
		if (pkt && pkt->type == REDIS_REPLY_STRING && pkt->len >= sizeof(b)) {
			memcpy(&b, pkt->str, sizeof(b));
			if (b.magic == BLOB_MAGIC && b.len <= NMS_PEND_PKT_MAX &&
			    pkt->len == sizeof(b) + b.len && ids->element[i]->type == REDIS_REPLY_STRING) {
				memset(&p, 0, sizeof(p));
				p.node_id = node;
				p.notify_id = strtoull(nid, NULL, 10);
				p.to = b.to;
				p.rto_ms = b.rto_ms;
				p.tries = b.tries;
				p.len = b.len;
				p.next_ms = 0;	/* due now */
				memcpy(p.pkt, pkt->str + sizeof(b), b.len);
				fn(arg, &p);
			}
		}
		freeReplyObject(pkt);
	}
	freeReplyObject(ids);
}

static void redis_pend_adopt(struct nms_store *s, int64_t now, int64_t overdue,
			     void (*fn)(void *arg, const struct nms_pend *p), void *arg)
{
	char set[KEY_MAX], z[KEY_MAX], h[KEY_MAX];
	redisReply *nodes;
	long long left;
	size_t i;

	cyph_kv_key(R(s)->kv, set, sizeof(set), "pendnodes");
	nodes = cyph_kv_cmd(R(s)->kv, "SRANDMEMBER %s %d", set, ADOPT_NODES);
	for (i = 0; nodes && nodes->type == REDIS_REPLY_ARRAY && i < nodes->elements; i++) {
		uint64_t node;

		if (nodes->element[i]->type != REDIS_REPLY_STRING)
			continue;
		node = strtoull(nodes->element[i]->str, NULL, 10);
		pend_keys(R(s), node, z, h);
		if (!cyph_kv_int(R(s)->kv, &left, "ZCARD %s", z) && !left) {
			cyph_kv_ok(R(s)->kv, "SREM %s %s", set, nodes->element[i]->str);
			continue;
		}
		adopt_node(R(s), node, now - overdue, fn, arg);
	}
	freeReplyObject(nodes);
}

/* ---- batches ------------------------------------------------------------------------ */

static void redis_prefetch(struct nms_store *s, const uint64_t *ids, size_t n)
{
	struct redis_store *rs = R(s);
	uint64_t uniq[NMS_PREFETCH_MAX];
	char key[KEY_MAX];
	size_t i, j, k = 0;
	struct nms_reg *r;

	for (i = 0; i < n && k < NMS_PREFETCH_MAX; i++) {
		for (j = 0; j < k && uniq[j] != ids[i]; j++)
			;
		if (j == k)
			uniq[k++] = ids[i];
	}
	for (i = 0; i < k; i++) {
		cyph_kv_key(rs->kv, key, sizeof(key), "reg:%llu", (unsigned long long)uniq[i]);
		if (cyph_kv_append(rs->kv, "GET %s", key))
			break;
	}
	k = i;
	for (i = 0; i < k; i++) {
		redisReply *rep = cyph_kv_reply(rs->kv);
		bool absent = rep && rep->type != REDIS_REPLY_STRING, read = rep && !absent;

		cyph_kv_key(rs->kv, key, sizeof(key), "reg:%llu", (unsigned long long)uniq[i]);
		r = load_reply(rs, uniq[i], rep, key);
		/* no reply (unreachable): the cached copy, but each use asks again */
		if (r && read)
			r->fetch_gen = rs->gen;
		else if (absent && rs->n_absent < NMS_PREFETCH_MAX)
			rs->absent[rs->n_absent++] = uniq[i];
	}
}

/* Queues prepare()'s commands for q; how many replies they owe. */
static int prepare_append(struct redis_store *rs, const struct nms_batch_req *q)
{
	unsigned long long id = (unsigned long long)q->r->ident.id;
	char key[KEY_MAX];
	int n = 0;

	cyph_kv_key(rs->kv, key, sizeof(key), "rp:%llu:%llu", id, (unsigned long long)q->seq);
	n += !cyph_kv_append(rs->kv, "SET %s 1 NX PX %lld", key, (long long)q->claim_ttl_ms);
	cyph_kv_key(rs->kv, key, sizeof(key), "txseq:%llu", id);
	n += !cyph_kv_append(rs->kv, "INCR %s", key);
	n += !cyph_kv_append(rs->kv, "PEXPIRE %s %lld", key, (long long)ttl_ms(rs, q->r));
	if (q->target_fqdn) {
		cyph_kv_key(rs->kv, key, sizeof(key), "fqdn:%s", q->target_fqdn);
		n += !cyph_kv_append(rs->kv, "GET %s", key);
	}
	return n;
}

/* Reads what prepare_append() queued for q, in order. */
static void prepare_read(struct redis_store *rs, const struct nms_batch_req *q)
{
	redisReply *claim = cyph_kv_reply(rs->kv), *seq = cyph_kv_reply(rs->kv);
	size_t c = rs->n_claims++;
	char *end;

	rs->claims[c].id = q->r->ident.id;
	rs->claims[c].seq = q->seq;
	/* as replay_claim(): nil is a replay; no reply at all cannot tell */
	rs->claims[c].first = !claim || claim->type == REDIS_REPLY_STATUS;
	rs->claims[c].used = false;
	if (seq && seq->type == REDIS_REPLY_INTEGER && seq->integer > 0) {
		q->r->tx_seq_ready = (uint64_t)seq->integer;
		q->r->ready_gen = rs->gen;
	}
	freeReplyObject(claim);
	freeReplyObject(seq);
	freeReplyObject(cyph_kv_reply(rs->kv));	/* PEXPIRE */
	if (q->target_fqdn) {
		redisReply *id = cyph_kv_reply(rs->kv);
		size_t k = rs->n_names++;

		snprintf(rs->names[k].fqdn, sizeof(rs->names[k].fqdn), "%s", q->target_fqdn);
		rs->names[k].id = 0;
		if (id && id->type == REDIS_REPLY_STRING)
			rs->names[k].id = strtoull(id->str, &end, 10);
		if (id && id->type == REDIS_REPLY_STRING && *end)
			rs->names[k].id = 0;
		freeReplyObject(id);
	}
}

static void redis_prepare(struct nms_store *s, const struct nms_batch_req *reqs, size_t n)
{
	struct redis_store *rs = R(s);
	uint64_t targets[NMS_PREFETCH_MAX];
	size_t i, k, t = 0;
	int owed = 0, want = 0;

	k = n < NMS_PREFETCH_MAX - rs->n_claims ? n : NMS_PREFETCH_MAX - rs->n_claims;
	for (i = 0; i < k; i++) {
		owed += prepare_append(rs, &reqs[i]);
		want += 3 + (reqs[i].target_fqdn != NULL);
	}
	if (owed != want) {
		/* a command could not be queued: use none of it (each request asks alone) */
		while (owed--)
			freeReplyObject(cyph_kv_reply(rs->kv));
		return;
	}
	for (i = 0; i < k; i++)
		prepare_read(rs, &reqs[i]);
	/* the named targets' records: a second round trip */
	for (i = 0; i < rs->n_names; i++)
		if (rs->names[i].id)
			targets[t++] = rs->names[i].id;
	if (t)
		redis_prefetch(s, targets, t);
}

static void redis_flush(struct nms_store *s)
{
	struct redis_store *rs = R(s);

	cyph_kv_settle(rs->kv);
	rs->gen++;	/* the batch's reads are old from now on */
	rs->n_absent = 0;
	rs->n_claims = 0;
	rs->n_names = 0;
}

static const struct nms_store_ops redis_ops = {
	.get = redis_get,
	.by_fqdn = redis_by_fqdn,
	.by_vip4 = redis_by_vip4,
	.by_vip6 = redis_by_vip6,
	.create = redis_create,
	.update = redis_update,
	.remove = redis_remove,
	.foreach = redis_foreach,
	.count = redis_count,
	.destroy = redis_destroy,
	.save = redis_update,
	.replay_claim = redis_replay_claim,
	.next_tx_seq = redis_next_tx_seq,
	.pend_add = redis_pend_add,
	.pend_done = redis_pend_done,
	.pend_live = redis_pend_live,
	.pend_adopt = redis_pend_adopt,
	.prefetch = redis_prefetch,
	.prepare = redis_prepare,
	.flush = redis_flush,
};

struct nms_store *nms_store_redis_new(struct cyph_kv *kv, size_t max, int64_t tomb_ms)
{
	struct redis_store *s = calloc(1, sizeof(*s));

	if (!s || !(s->cache = nms_store_mem_new(max))) {
		free(s);
		cyph_kv_close(kv);
		return NULL;
	}
	s->base.ops = &redis_ops;
	s->kv = kv;
	s->tomb_ms = tomb_ms;
	s->gen = 1;	/* a new cache record (0) is not current */
	return &s->base;
}
