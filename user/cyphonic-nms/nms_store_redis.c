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
 * always acts on what the last writer saved. Writes are whole records,
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
static struct nms_reg *load(struct redis_store *s, uint64_t id)
{
	struct nms_store *c = s->cache;
	struct nms_reg *r = c->ops->get(c, id);
	char key[KEY_MAX];
	redisReply *rep;
	bool fresh = false;

	cyph_kv_key(s->kv, key, sizeof(key), "reg:%llu", (unsigned long long)id);
	rep = cyph_kv_cmd(s->kv, "GET %s", key);
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
	int n = 0;

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
	n += !cyph_kv_append(s->kv, "SET %s %b PX %lld", key, data, len, px);
	if (r->active && r->ident.fqdn[0]) {
		cyph_kv_key(s->kv, key, sizeof(key), "fqdn:%s", r->ident.fqdn);
		n += !cyph_kv_append(s->kv, "SET %s %llu PX %lld", key, id, px);
	}
	if (r->active && r->ident.has_vip4) {
		v4_text(r->ident.vip4, a);
		cyph_kv_key(s->kv, key, sizeof(key), "v4:%s", a);
		n += !cyph_kv_append(s->kv, "SET %s %llu PX %lld", key, id, px);
	}
	if (r->active && r->ident.has_vip6) {
		v6_text(&r->ident.vip6, a);
		cyph_kv_key(s->kv, key, sizeof(key), "v6:%s", a);
		n += !cyph_kv_append(s->kv, "SET %s %llu PX %lld", key, id, px);
	}
	while (n--)
		freeReplyObject(cyph_kv_reply(s->kv));
	memset(data, 0, len);	/* session keys */
	free(data);
}

/* ---- the store interface ---------------------------------------------------------- */

static struct nms_reg *redis_get(struct nms_store *s, uint64_t id)
{
	return load(R(s), id);
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
			r = load(R(s), id);
	}
	freeReplyObject(rep);
	return r && r->active ? r : NULL;
}

static struct nms_reg *redis_by_fqdn(struct nms_store *s, const char *fqdn)
{
	struct nms_reg *r = by_index(s, "fqdn:%s", fqdn);

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
	cyph_kv_ok(R(s)->kv, "DEL %s", key);	/* index keys: checked on use, expire */
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
	char key[KEY_MAX];
	redisReply *rep;
	bool first;

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
	int i, n = 0;

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
	n += !cyph_kv_append(R(s)->kv, "HSET %s %llu %b", h, (unsigned long long)p->notify_id,
			     data, sizeof(b) + p->len);
	n += !cyph_kv_append(R(s)->kv, "ZADD %s %lld %llu", z, (long long)p->next_ms,
			     (unsigned long long)p->notify_id);
	n += !cyph_kv_append(R(s)->kv, "PEXPIRE %s %d", h, PEND_TTL_MS);
	n += !cyph_kv_append(R(s)->kv, "PEXPIRE %s %d", z, PEND_TTL_MS);
	n += !cyph_kv_append(R(s)->kv, "SADD %s %llu", set, (unsigned long long)p->node_id);
	for (i = 0; i < n; i++)
		freeReplyObject(cyph_kv_reply(R(s)->kv));
}

static void redis_pend_done(struct nms_store *s, uint64_t node, uint64_t nid)
{
	char z[KEY_MAX], h[KEY_MAX];
	int i, n = 0;

	pend_keys(R(s), node, z, h);
	n += !cyph_kv_append(R(s)->kv, "ZREM %s %llu", z, (unsigned long long)nid);
	n += !cyph_kv_append(R(s)->kv, "HDEL %s %llu", h, (unsigned long long)nid);
	for (i = 0; i < n; i++)
		freeReplyObject(cyph_kv_reply(R(s)->kv));
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
	return &s->base;
}
