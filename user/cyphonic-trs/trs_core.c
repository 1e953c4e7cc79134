// SPDX-License-Identifier: MIT
/*
 * TRS session table, BIND/CLOSE handling and the forwarding decision
 * (docs/protocol.md, "Relay"). See trs.h for the locking rules.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "trs.h"
#include "client/trsclient.h"

/* Challenges verify for one to two of these periods. */
#define TRS_RR_ROTATE_MS 120000
#define TRS_RR_BYTES 6		/* the 48-bit proof field of RELAY_CTRL */
#define RR_SUBJ_MAX (3 + 16 + 1 + 8)

static uint64_t mix32(uint32_t x)
{
	uint64_t h = x * 0x9e3779b97f4a7c15ULL;

	return h ^ (h >> 29);
}

static struct trs_shard *shard_of(struct trs *t, uint32_t id)
{
	return &t->shards[mix32(id) % TRS_SHARDS];
}

static struct trs_session **slot(struct trs_shard *s, uint32_t id)
{
	return &s->buckets[(mix32(id) >> 8) & (s->nb - 1)];
}

static struct trs_session *find(struct trs_shard *s, uint32_t id)
{
	struct trs_session *x = *slot(s, id);

	while (x && x->id != id)
		x = x->next;
	return x;
}

int trs_init(struct trs *t, const struct trs_config *cfg)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	t->cfg = *cfg;
	atomic_store(&t->tomb_ms, cfg->skew_ms + 1000);
	pthread_rwlock_init(&t->cfg_lock, NULL);
	if (e2e_cookie_init(&t->rr, TRS_RR_ROTATE_MS, 0))
		return -1;
	for (i = 0; i < TRS_SHARDS; i++) {
		pthread_rwlock_init(&t->shards[i].lock, NULL);
		t->shards[i].nb = 64;
		t->shards[i].buckets = calloc(64, sizeof(void *));
		if (!t->shards[i].buckets)
			return -1;
	}
	return 0;
}

static void free_session(struct trs_session *x)
{
	pthread_spin_destroy(&x->bucket_lock);
	free(x);
}

void trs_destroy(struct trs *t)
{
	size_t i, b;

	for (i = 0; i < TRS_SHARDS; i++) {
		struct trs_shard *s = &t->shards[i];

		for (b = 0; s->buckets && b < s->nb; b++) {
			struct trs_session *x = s->buckets[b], *next;

			for (; x; x = next) {
				next = x->next;
				free_session(x);
			}
		}
		free(s->buckets);
		pthread_rwlock_destroy(&s->lock);
	}
	pthread_rwlock_destroy(&t->cfg_lock);
	free(t->revoked);
	OPENSSL_cleanse(&t->cfg, sizeof(t->cfg));
	OPENSSL_cleanse(t->prev_key, sizeof(t->prev_key));
	OPENSSL_cleanse(&t->rr, sizeof(t->rr));
}

void trs_set_config(struct trs *t, const struct trs_config *cfg, int64_t now_ms)
{
	pthread_rwlock_wrlock(&t->cfg_lock);
	if (memcmp(t->cfg.relay_key, cfg->relay_key, PROTO_KEY_LEN)) {
		memcpy(t->prev_key, t->cfg.relay_key, PROTO_KEY_LEN);
		t->prev_until_ms = now_ms + cfg->key_overlap_ms;
	}
	t->cfg = *cfg;
	atomic_store(&t->tomb_ms, cfg->skew_ms + 1000);
	pthread_rwlock_unlock(&t->cfg_lock);
}

size_t trs_sessions(struct trs *t)
{
	return atomic_load(&t->n_sessions);
}

size_t trs_tombstones(struct trs *t)
{
	return atomic_load(&t->n_tombs);
}

/* Doubles a shard's buckets; on OOM the chains just get longer. */
static void grow(struct trs_shard *s)
{
	struct trs_session **nbk = calloc(s->nb * 2, sizeof(*nbk));
	struct trs_session **old = s->buckets;
	size_t i, onb = s->nb;

	if (!nbk)
		return;
	s->buckets = nbk;
	s->nb *= 2;
	for (i = 0; i < onb; i++) {
		struct trs_session *x = old[i], *next;

		for (; x; x = next) {
			struct trs_session **sl = slot(s, x->id);

			next = x->next;
			x->next = *sl;
			*sl = x;
		}
	}
	free(old);
}

static struct trs_session *create(struct trs *t, struct trs_shard *s,
				  uint32_t id, uint64_t expiry)
{
	struct trs_session *x = calloc(1, sizeof(*x));
	struct trs_session **sl;

	if (!x)
		return NULL;
	x->id = id;
	x->expiry = expiry;
	x->tokens = (double)t->cfg.burst_bytes;
	pthread_spin_init(&x->bucket_lock, PTHREAD_PROCESS_PRIVATE);
	sl = slot(s, id);
	x->next = *sl;
	*sl = x;
	if (++s->n > s->nb)
		grow(s);
	atomic_fetch_add(&t->n_sessions, 1);
	atomic_fetch_add(&t->created, 1);
	return x;
}

static void unlink_session(struct trs *t, struct trs_shard *s,
			   struct trs_session *x)
{
	struct trs_session **pp = slot(s, x->id);

	while (*pp != x)
		pp = &(*pp)->next;
	*pp = x->next;
	s->n--;
	atomic_fetch_sub(x->tomb_until_ms ? &t->n_tombs : &t->n_sessions, 1);
	free_session(x);
}

/*
 * Ends a live session but keeps its sequence windows for max_skew: a BIND
 * is accepted only while its timestamp is within max_skew, so once the
 * tombstone goes no captured BIND of the session is fresh any more.
 */
static void bury(struct trs *t, struct trs_session *x, int64_t now_ms)
{
	if (x->tomb_until_ms)
		return;
	x->end[0].bound = x->end[1].bound = false;
	x->tomb_until_ms = now_ms + atomic_load(&t->tomb_ms);
	atomic_fetch_sub(&t->n_sessions, 1);
	atomic_fetch_add(&t->n_tombs, 1);
}

/* A tombstone whose end was bound again by a newer BIND (or the store). */
static void revive(struct trs *t, struct trs_session *x)
{
	if (!x->tomb_until_ms)
		return;
	x->tomb_until_ms = 0;
	atomic_fetch_sub(&t->n_tombs, 1);
	atomic_fetch_add(&t->n_sessions, 1);
}

/* Is node listed in the CRL? Called with cfg_lock held. */
static bool node_revoked(const struct trs *t, uint64_t node)
{
	size_t lo = 0, hi = t->n_revoked;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->revoked[mid] == node)
			return true;
		if (t->revoked[mid] < node)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* ---- control ------------------------------------------------------------------ */

/*
 * Return routability (issue 12 point 3). A BIND's MAC proves the node
 * holds the grant, not that it receives at the BIND's source address: two
 * colluding nodes could bind one end "from" a victim and have the TRS
 * stream at it. So the TRS forwards to an address only after a BIND from
 * it echoed the challenge the TRS sent there: a 48-bit HMAC of address,
 * session, end and node under a rotating secret (stateless; guessing it
 * takes ~2^47 BINDs). Called with cfg_lock held.
 */
/* What a challenge is bound to: address, port, end and node (the session is the "sender"). */
static size_t rr_subject(const struct proto_rc *rc, const struct proto_ep *from, uint8_t *subj)
{
	size_t n = 0, alen = from->family == 6 ? 16 : 4;
	int i;

	subj[n++] = from->family;
	subj[n++] = (uint8_t)(from->port >> 8);
	subj[n++] = (uint8_t)from->port;
	memcpy(subj + n, from->family == 6 ? (const void *)&from->v6 : (const void *)&from->v4,
	       alen);
	n += alen;
	subj[n++] = rc->end;
	for (i = 0; i < 8; i++)
		subj[n++] = (uint8_t)(rc->node_id >> (56 - 8 * i));
	return n;
}

static uint64_t rr_proof(const struct trs *t, const struct proto_rc *rc,
			 const struct proto_ep *from)
{
	uint8_t subj[RR_SUBJ_MAX], c[E2E_COOKIE_LEN];
	uint64_t v = 0;
	int i;

	e2e_cookie_make(&t->rr, subj, rr_subject(rc, from, subj), rc->session, c);
	for (i = 0; i < TRS_RR_BYTES; i++)
		v = v << 8 | c[i];
	return v;
}

static bool rr_ok(const struct trs *t, const struct proto_rc *rc, const struct proto_ep *from)
{
	uint8_t subj[RR_SUBJ_MAX], echo[TRS_RR_BYTES];
	int i;

	if (!rc->proof)
		return false;
	for (i = 0; i < TRS_RR_BYTES; i++)
		echo[i] = (uint8_t)(rc->proof >> (8 * (TRS_RR_BYTES - 1 - i)));
	return e2e_cookie_check_prefix(&t->rr, subj, rr_subject(rc, from, subj), rc->session,
				       echo, TRS_RR_BYTES);
}

static size_t answer(const struct proto_rc *req, uint8_t op, int code,
		     uint32_t idle_s, const uint8_t secret[32], int64_t now_ms,
		     uint8_t out[PROTO_RC_LEN])
{
	struct proto_rc rc = *req;

	rc.op = op;
	rc.code = (uint16_t)code;
	rc.idle_s = idle_s;
	rc.ts_ms = now_ms;
	trs_rc_seal(&rc, secret, out);
	return PROTO_RC_LEN;
}

/*
 * Binds (or refreshes) one end; called with the shard write-locked.
 * proven: the BIND echoed the challenge of its source address. Without
 * that, only a refresh from the end's current address is taken; anything
 * else changes nothing and gets CHALLENGE.
 */
static int bind_end(struct trs *t, struct trs_shard *s, const struct proto_rc *rc,
		    const struct proto_ep *from, int64_t now_ms, bool proven)
{
	struct trs_session *x = find(s, rc->session);
	struct trs_end *e;

	if (!proven) {
		if (x && x->expiry != rc->expiry)
			return PROTO_E_CONFLICT;
		e = x ? &x->end[rc->end] : NULL;
		if (e && e->node_id == rc->node_id && rc->seq <= e->last_seq)
			return PROTO_E_REPLAY;	/* a captured BIND, from anywhere */
		if (!e || !e->bound || x->tomb_until_ms || e->node_id != rc->node_id ||
		    !proto_ep_equal(&e->ep, from)) {
			atomic_fetch_add(&t->rr_challenged, 1);
			return PROTO_E_CHALLENGE;
		}
	}
	if (!x) {
		if (atomic_load(&t->draining))
			return PROTO_E_DRAINING;
		if (t->cfg.max_sessions &&
		    atomic_load(&t->n_sessions) >= t->cfg.max_sessions)
			return PROTO_E_FULL;
		x = create(t, s, rc->session, rc->expiry);
		if (!x)
			return PROTO_E_INTERNAL;
	}
	/* Both ends of one allocation carry the same expiry. */
	if (x->expiry != rc->expiry)
		return PROTO_E_CONFLICT;
	e = &x->end[rc->end];
	if (e->bound && e->node_id != rc->node_id)
		return PROTO_E_CONFLICT;
	/*
	 * The sequence window outlives a CLOSE, and the session itself (as a
	 * tombstone): a BIND captured before must not re-open the end from
	 * the replayer's address.
	 */
	if (rc->seq <= e->last_seq)
		return PROTO_E_REPLAY;
	if (x->tomb_until_ms) {		/* an ended session starts again */
		if (atomic_load(&t->draining))
			return PROTO_E_DRAINING;
		if (t->cfg.max_sessions &&
		    atomic_load(&t->n_sessions) >= t->cfg.max_sessions)
			return PROTO_E_FULL;
		revive(t, x);
	}
	e->bound = true;
	e->node_id = rc->node_id;
	e->last_seq = rc->seq;
	e->ep = *from;		/* a rebind from a new address moves the end */
	atomic_store(&x->last_ms, now_ms);
	return PROTO_E_OK;
}

static int close_end(struct trs *t, struct trs_shard *s,
		     const struct proto_rc *rc, int64_t now_ms)
{
	struct trs_session *x = find(s, rc->session);
	struct trs_end *e;

	if (!x)
		return PROTO_E_NO_SESSION;
	e = &x->end[rc->end];
	if (!e->bound || e->node_id != rc->node_id || x->expiry != rc->expiry)
		return PROTO_E_NO_SESSION;
	if (rc->seq <= e->last_seq)
		return PROTO_E_REPLAY;
	e->bound = false;
	e->last_seq = rc->seq;
	if (!x->end[0].bound && !x->end[1].bound) {
		bury(t, x, now_ms);
		atomic_fetch_add(&t->closed, 1);
	}
	return PROTO_E_OK;
}

/* The shared state of rc's session after a BIND/CLOSE (shard locked). */
static void snap_locked(struct trs_shard *s, const struct proto_rc *rc,
			struct trs_snap *out)
{
	struct trs_session *x = find(s, rc->session);

	memset(out, 0, sizeof(*out));
	out->id = rc->session;
	out->expiry = rc->expiry;
	if (x)
		memcpy(out->end, x->end, sizeof(out->end));
}

int trs_ctrl(struct trs *t, const uint8_t *pkt, size_t len,
	     const struct proto_ep *from, int64_t now_ms,
	     uint8_t reply[PROTO_RC_LEN], size_t *reply_len, bool *unauth)
{
	struct proto_rc rc;
	struct trs_shard *s;
	struct trs_snap snap;
	uint8_t secret[32], mac[32];
	int64_t skew;
	uint32_t idle_s;
	bool mac_ok, revoked, proven, prev_key = false;
	uint64_t proof;
	int code;

	*reply_len = 0;
	*unauth = false;
	code = proto_rc_parse(pkt, len, &rc);
	if (code)
		return code;
	if (rc.op != PROTO_RC_BIND && rc.op != PROTO_RC_CLOSE)
		return PROTO_E_BAD_OP;	/* never answer an answer */
	pthread_rwlock_rdlock(&t->cfg_lock);
	proto_bind_secret(t->cfg.relay_key, rc.session, rc.end, rc.node_id,
			  rc.expiry, secret);
	proto_hmac(secret, 32, pkt, PROTO_RC_SIGNED_LEN, mac);
	if (!proto_ct_equal(mac, rc.mac, 32) && now_ms < t->prev_until_ms) {
		/* Rotation overlap: a grant issued under the old key. */
		proto_bind_secret(t->prev_key, rc.session, rc.end, rc.node_id,
				  rc.expiry, secret);
		proto_hmac(secret, 32, pkt, PROTO_RC_SIGNED_LEN, mac);
		prev_key = true;
	}
	skew = t->cfg.skew_ms;
	idle_s = t->cfg.idle_s;
	mac_ok = proto_ct_equal(mac, rc.mac, 32);
	/* a forged request costs its MACs only: no lookup, no proof */
	revoked = mac_ok && node_revoked(t, rc.node_id);
	proven = mac_ok && rc.op == PROTO_RC_BIND && rr_ok(t, &rc, from);
	proof = mac_ok && rc.op == PROTO_RC_BIND && !proven ? rr_proof(t, &rc, from) : 0;
	pthread_rwlock_unlock(&t->cfg_lock);
	if (!mac_ok) {
		code = PROTO_E_BAD_SIGNATURE;
		*unauth = true;
	} else if (!proto_ts_fresh(rc.ts_ms, now_ms, skew)) {
		code = PROTO_E_STALE;
	} else if (rc.op == PROTO_RC_BIND &&
		   rc.expiry < (uint64_t)(now_ms / 1000)) {
		code = PROTO_E_TOKEN_EXPIRED;
	} else if (rc.op == PROTO_RC_BIND && revoked) {
		code = PROTO_E_REVOKED;
	} else {
		s = shard_of(t, rc.session);
		pthread_rwlock_wrlock(&s->lock);
		code = rc.op == PROTO_RC_BIND ? bind_end(t, s, &rc, from, now_ms, proven)
					      : close_end(t, s, &rc, now_ms);
		if (code == PROTO_E_OK && t->hooks.changed)
			snap_locked(s, &rc, &snap);
		pthread_rwlock_unlock(&s->lock);
		if (code == PROTO_E_OK && t->hooks.changed)
			t->hooks.changed(t->hooks.arg, &snap);
		if (code == PROTO_E_OK && prev_key)
			atomic_fetch_add(&t->prev_key_binds, 1);
	}
	if (code == PROTO_E_OK && rc.op == PROTO_RC_CLOSE) {
		OPENSSL_cleanse(secret, sizeof(secret));
		return code;	/* CLOSE is not acknowledged */
	}
	rc.proof = code == PROTO_E_CHALLENGE ? proof : 0;
	*reply_len = answer(&rc, code ? PROTO_RC_ERROR : PROTO_RC_BIND_ACK,
			    code, code ? 0 : idle_s, secret, now_ms, reply);
	OPENSSL_cleanse(secret, sizeof(secret));
	return code;
}

/* ---- forwarding ------------------------------------------------------------------ */

static bool rate_ok(struct trs *t, struct trs_session *x, size_t bytes,
		    int64_t now_ms)
{
	uint64_t rate = t->cfg.rate_bytes;
	bool ok;

	if (!rate)
		return true;
	pthread_spin_lock(&x->bucket_lock);
	if (now_ms > x->bucket_ms) {
		x->tokens += (double)(now_ms - x->bucket_ms) * (double)rate / 1000.0;
		if (x->tokens > (double)t->cfg.burst_bytes)
			x->tokens = (double)t->cfg.burst_bytes;
		x->bucket_ms = now_ms;
	}
	ok = x->tokens >= (double)bytes;
	if (ok)
		x->tokens -= (double)bytes;
	pthread_spin_unlock(&x->bucket_lock);
	return ok;
}

int trs_forward(struct trs *t, const uint8_t *pkt, size_t len,
		const struct proto_ep *from, int64_t now_ms,
		struct proto_ep *to, const uint8_t **inner, size_t *inner_len)
{
	struct trs_shard *s;
	struct trs_session *x;
	uint32_t id;
	int e, rc = -1;

	if (proto_relay_parse(pkt, len, &id, inner, inner_len))
		return TRS_DROP_MALFORMED;
	s = shard_of(t, id);
	pthread_rwlock_rdlock(&s->lock);
	x = find(s, id);
	if (!x) {
		rc = TRS_DROP_NO_SESSION;
		goto out;
	}
	if (x->end[0].bound && proto_ep_equal(&x->end[0].ep, from))
		e = 0;
	else if (x->end[1].bound && proto_ep_equal(&x->end[1].ep, from))
		e = 1;
	else {
		rc = TRS_DROP_UNKNOWN_PEER;
		goto out;
	}
	if (!x->end[!e].bound) {
		rc = TRS_DROP_PEER_UNBOUND;
		goto out;
	}
	if (x->expiry < (uint64_t)(now_ms / 1000)) {	/* the grant ran out */
		rc = TRS_DROP_EXPIRED;
		goto out;
	}
	if (!rate_ok(t, x, *inner_len, now_ms)) {
		atomic_fetch_add_explicit(&x->rate_drops, 1, memory_order_relaxed);
		rc = TRS_DROP_RATE;
		goto out;
	}
	*to = x->end[!e].ep;
	atomic_fetch_add_explicit(&x->pkts[e], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&x->bytes[e], *inner_len, memory_order_relaxed);
	atomic_store_explicit(&x->last_ms, now_ms, memory_order_relaxed);
out:
	pthread_rwlock_unlock(&s->lock);
	/*
	 * Not known (fully) here: bound at another replica, or an end moved
	 * there. The store is asked once (the hook rate-limits per id); the
	 * packets meanwhile are dropped, never held waiting.
	 */
	if ((rc == TRS_DROP_NO_SESSION || rc == TRS_DROP_UNKNOWN_PEER ||
	     rc == TRS_DROP_PEER_UNBOUND) && t->hooks.missing)
		t->hooks.missing(t->hooks.arg, id);
	return rc;
}

size_t trs_expire(struct trs *t, int64_t now_ms)
{
	int64_t idle_ms;
	size_t i, b, n = 0;

	pthread_rwlock_wrlock(&t->cfg_lock);
	idle_ms = (int64_t)t->cfg.idle_s * 1000;
	(void)e2e_cookie_tick(&t->rr, now_ms);	/* an RNG failure keeps the old secret */
	pthread_rwlock_unlock(&t->cfg_lock);
	for (i = 0; i < TRS_SHARDS; i++) {
		struct trs_shard *s = &t->shards[i];

		pthread_rwlock_wrlock(&s->lock);
		for (b = 0; b < s->nb; b++) {
			struct trs_session *x = s->buckets[b], *next;

			for (; x; x = next) {
				next = x->next;
				if (x->tomb_until_ms) {
					if (now_ms >= x->tomb_until_ms)
						unlink_session(t, s, x);
				} else if (now_ms - atomic_load(&x->last_ms) > idle_ms ||
					   x->expiry < (uint64_t)(now_ms / 1000)) {
					bury(t, x, now_ms);
					n++;
				}
			}
		}
		pthread_rwlock_unlock(&s->lock);
	}
	atomic_fetch_add(&t->expired, n);
	return n;
}

size_t trs_set_revoked(struct trs *t, uint64_t *ids, size_t n, int64_t now_ms)
{
	size_t i, b, gone = 0;
	uint64_t *old;

	pthread_rwlock_wrlock(&t->cfg_lock);
	old = t->revoked;
	t->revoked = ids;
	t->n_revoked = n;
	pthread_rwlock_unlock(&t->cfg_lock);
	free(old);
	if (!n)
		return 0;
	for (i = 0; i < TRS_SHARDS; i++) {
		struct trs_shard *s = &t->shards[i];

		pthread_rwlock_wrlock(&s->lock);
		pthread_rwlock_rdlock(&t->cfg_lock);
		for (b = 0; b < s->nb; b++) {
			struct trs_session *x;

			for (x = s->buckets[b]; x; x = x->next) {
				for (int e = 0; e < 2; e++) {
					if (x->end[e].bound && node_revoked(t, x->end[e].node_id)) {
						x->end[e].bound = false;
						gone++;
					}
				}
				if (!x->end[0].bound && !x->end[1].bound)
					bury(t, x, now_ms);
			}
		}
		pthread_rwlock_unlock(&t->cfg_lock);
		pthread_rwlock_unlock(&s->lock);
	}
	atomic_fetch_add(&t->revoked_ends, gone);
	return gone;
}

/* ---- the shared store's side (trs_sync.c) ----------------------------------------- */

static void merge_end(struct trs_end *local, const struct trs_end *remote)
{
	if (remote->last_seq && remote->last_seq >= local->last_seq)
		*local = *remote;
}

int trs_install(struct trs *t, const struct trs_snap *in, int64_t now_ms)
{
	struct trs_shard *s = shard_of(t, in->id);
	struct trs_session *x;
	int rc = PROTO_E_OK;

	pthread_rwlock_wrlock(&s->lock);
	x = find(s, in->id);
	if (!x) {
		if (t->cfg.max_sessions &&
		    atomic_load(&t->n_sessions) >= t->cfg.max_sessions) {
			rc = PROTO_E_FULL;
			goto out;
		}
		x = create(t, s, in->id, in->expiry);
		if (!x) {
			rc = PROTO_E_INTERNAL;
			goto out;
		}
		atomic_store(&x->last_ms, now_ms);
	}
	if (x->expiry != in->expiry) {
		rc = PROTO_E_CONFLICT;
		goto out;
	}
	merge_end(&x->end[0], &in->end[0]);
	merge_end(&x->end[1], &in->end[1]);
	pthread_rwlock_rdlock(&t->cfg_lock);
	for (int e = 0; e < 2; e++)	/* revoked since the other replica bound it */
		if (x->end[e].bound && node_revoked(t, x->end[e].node_id))
			x->end[e].bound = false;
	pthread_rwlock_unlock(&t->cfg_lock);
	if (x->end[0].bound || x->end[1].bound)
		revive(t, x);
	else
		bury(t, x, now_ms);
out:
	pthread_rwlock_unlock(&s->lock);
	return rc;
}

size_t trs_active_ids(struct trs *t, int64_t since_ms, uint32_t *ids, size_t max)
{
	size_t i, b, n = 0;

	for (i = 0; i < TRS_SHARDS && n < max; i++) {
		struct trs_shard *s = &t->shards[i];

		pthread_rwlock_rdlock(&s->lock);
		for (b = 0; b < s->nb && n < max; b++) {
			struct trs_session *x;

			for (x = s->buckets[b]; x && n < max; x = x->next)
				if (atomic_load(&x->last_ms) >= since_ms)
					ids[n++] = x->id;
		}
		pthread_rwlock_unlock(&s->lock);
	}
	return n;
}

bool trs_snapshot(struct trs *t, uint32_t id, struct trs_snap *out)
{
	struct trs_shard *s = shard_of(t, id);
	struct trs_session *x;

	pthread_rwlock_rdlock(&s->lock);
	x = find(s, id);
	if (x) {
		out->id = id;
		out->expiry = x->expiry;
		memcpy(out->end, x->end, sizeof(out->end));
	}
	pthread_rwlock_unlock(&s->lock);
	return x != NULL;
}

bool trs_session_stats(struct trs *t, uint32_t id, uint64_t pkts[2],
		       uint64_t bytes[2], uint64_t *rate_drops)
{
	struct trs_shard *s = shard_of(t, id);
	struct trs_session *x;

	pthread_rwlock_rdlock(&s->lock);
	x = find(s, id);
	if (x) {
		pkts[0] = atomic_load(&x->pkts[0]);
		pkts[1] = atomic_load(&x->pkts[1]);
		bytes[0] = atomic_load(&x->bytes[0]);
		bytes[1] = atomic_load(&x->bytes[1]);
		*rate_drops = atomic_load(&x->rate_drops);
	}
	pthread_rwlock_unlock(&s->lock);
	return x != NULL;
}
