// SPDX-License-Identifier: MIT
/*
 * The NMS protocol engine: authentication, registration, keepalives,
 * route direction and peer notification (docs/protocol.md).
 *
 * Order of checks for every datagram, cheapest first, so that garbage
 * costs little: framing and TLVs, timestamp window, then either the full
 * REGISTER path (under load the address-bound cookie, the per-source
 * budget, then certificate, Ed25519 signature and X25519 on a worker
 * thread when the daemon offloads them (nms_job.c), replay window) or
 * the session path (registration lookup, HMAC, replay window; a new
 * source address is challenged before the node's endpoint moves there). Errors
 * to a node with a verified session are MACed; all others are signed by
 * the NMS and rate-limited, because they answer unauthenticated input.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "nms.h"
#include "nms_cookie.h"
#include "nms_quota.h"
#include "wire/proto_crypto.h"

#define REPLY_CAP NMS_PEND_PKT_MAX
#define MAX_PENDING 4096

struct nms {
	struct nms_config cfg;
	struct nms_store *store;
	nms_verify_fn verify;
	void *verify_arg;
	nms_offload_fn offload;		/* full REGISTERs' expensive half; NULL: inline */
	void *offload_arg;
	nms_send_fn send;
	void *send_arg;
	EVP_PKEY *key;
	uint8_t *cert;
	size_t cert_len;
	bool draining;
	uint64_t sig_seq;		/* seq of signed (sessionless) replies */
	double err_tokens;
	int64_t err_last_ms;
	struct nms_pend *pending;
	size_t n_pending;
	struct nms_quota_slot *quota;	/* NMS_QUOTA_SLOTS */
	struct nms_source_slot *sources;	/* NMS_SOURCE_SLOTS */
	uint64_t source_seed;		/* keys the sources' table hash */
	struct nms_cookies cookies;	/* cookies and return-routability challenges */
	struct nms_stats stats;
	int64_t now_ms;			/* of the datagram being handled */
	size_t req_len;			/* its length */
	int64_t last_scan_ms;		/* last expiry scan */
	uint32_t crl_gen;		/* nms_recheck() calls, from 1 */
	bool challenge;			/* MACed answers to this datagram carry a challenge */
	bool in_batch;			/* nms_batch_begin(): the store's writes wait */
};

/* ---- what a shared store keeps (nms_store.h; NULL ops: in the record) ---- */

static uint64_t next_seq(struct nms *n, struct nms_reg *r)
{
	if (n->store->ops->next_tx_seq)
		r->tx_seq = n->store->ops->next_tx_seq(n->store, r);
	else
		r->tx_seq++;
	return r->tx_seq;
}

/*
 * The replay check of a request from node id with sequence seq. With a
 * shared store every replica (and this one after a restart) refuses a
 * sequence seen within the timestamp window, whose end makes an older
 * message stale anyway. Without one, r's window (commit: record seq).
 */
static bool replay_ok(struct nms *n, struct nms_reg *r, uint64_t id,
		      uint64_t seq, bool commit)
{
	struct nms_store *s = n->store;

	if (s->ops->replay_claim)
		return !commit || s->ops->replay_claim(s, id, seq, 2 * n->cfg.skew_ms + 1000);
	return !r || proto_replay_check(&r->rx, seq, commit);
}

static void save(struct nms *n, struct nms_reg *r)
{
	if (n->store->ops->save)
		n->store->ops->save(n->store, r);
}

static void make_tombstone(struct nms *n, struct nms_reg *r);

/* Sends a shared store's deferred writes and waits for them. */
static void store_flush(struct nms *n)
{
	if (n->store->ops->flush)
		n->store->ops->flush(n->store);
}

/*
 * A record from a shared store may have been registered at another
 * replica, before this one's latest CRL: its certificate is checked here
 * once per CRL generation (nms_recheck() covers only what this replica
 * holds). In-process records are all covered by nms_recheck().
 */
static bool still_valid(struct nms *n, struct nms_reg *r)
{
	struct nms_ident id;
	char err[256];

	if (!n->store->ops->save || !r->active || r->checked_gen == n->crl_gen || !r->cert)
		return r->active;
	if (n->verify(n->verify_arg, r->cert, r->cert_len, n->now_ms / 1000, &id, err,
		      sizeof(err)) != PROTO_E_OK) {
		make_tombstone(n, r);
		n->stats.revoked++;
		return false;
	}
	r->checked_gen = n->crl_gen;
	return true;
}

/* ---- setup ---------------------------------------------------------------- */

struct nms *nms_new(const struct nms_config *cfg, struct nms_store *store,
		    nms_verify_fn verify, void *verify_arg,
		    nms_send_fn send, void *send_arg)
{
	struct nms *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->pending = calloc(MAX_PENDING, sizeof(*n->pending));
	n->quota = calloc(NMS_QUOTA_SLOTS, sizeof(*n->quota));
	n->sources = calloc(NMS_SOURCE_SLOTS, sizeof(*n->sources));
	if (!n->pending || !n->quota || !n->sources || nms_cookies_init(&n->cookies, 0)) {
		free(n->pending);
		free(n->quota);
		free(n->sources);
		free(n);
		return NULL;
	}
	n->cfg = *cfg;
	n->store = store;
	n->verify = verify;
	n->verify_arg = verify_arg;
	n->send = send;
	n->send_arg = send_arg;
	proto_random(&n->sig_seq, sizeof(n->sig_seq));
	n->sig_seq >>= 2;	/* random start, far from wrapping */
	n->err_tokens = cfg->error_rate;
	n->crl_gen = 1;
	n->source_seed = cyph_srckey_seed();
	return n;
}

void nms_free(struct nms *n)
{
	if (!n)
		return;
	free(n->pending);
	free(n->quota);
	free(n->sources);
	free(n->cert);
	EVP_PKEY_free(n->key);
	OPENSSL_cleanse(&n->cfg, sizeof(n->cfg));
	OPENSSL_cleanse(&n->cookies, sizeof(n->cookies));
	free(n);
}

int nms_set_identity(struct nms *n, EVP_PKEY *key, const uint8_t *cert,
		     size_t cert_len)
{
	uint8_t *copy = NULL;

	if (cert_len) {
		copy = malloc(cert_len);
		if (!copy)
			return -1;
		memcpy(copy, cert, cert_len);
	}
	if (!EVP_PKEY_up_ref(key)) {
		free(copy);
		return -1;
	}
	EVP_PKEY_free(n->key);
	free(n->cert);
	n->key = key;
	n->cert = copy;
	n->cert_len = cert_len;
	return 0;
}

void nms_set_config(struct nms *n, const struct nms_config *cfg)
{
	n->cfg = *cfg;
}

void nms_set_draining(struct nms *n, bool draining)
{
	n->draining = draining;
}

const struct nms_stats *nms_stats(const struct nms *n)
{
	return &n->stats;
}

size_t nms_active(const struct nms *n)
{
	return n->store->ops->count(n->store);
}

size_t nms_pending_notifies(const struct nms *n)
{
	return n->n_pending;
}

/* ---- replies ---------------------------------------------------------------- */

static void reply_begin(struct nms *n, struct proto_buf *b, uint8_t *mem,
			struct nms_reg *r, uint64_t node_id, uint8_t op,
			uint8_t auth)
{
	struct proto_hdr h = {
		.op = op, .auth = auth, .node_id = node_id,
		.seq = r ? next_seq(n, r) : ++n->sig_seq, .ts_ms = n->now_ms,
	};

	proto_msg_begin(b, mem, REPLY_CAP, &h);
}

/* Finishes, MACs (session) or signs (no session) and sends. */
static size_t reply_send(struct nms *n, struct proto_buf *b, struct nms_reg *r,
			 const struct proto_ep *to)
{
	size_t len;

	if (r && n->challenge && b->p[2] != PROTO_OP_ERROR) {
		uint8_t ch[PROTO_CHALLENGE_LEN];

		nms_proof_make(&n->cookies, NMS_PROOF_CHALLENGE, to, r->ident.id, ch);
		proto_tlv_bytes(b, PROTO_T_CHALLENGE, ch, sizeof(ch));
	}
	len = proto_msg_finish(b);

	if (!len)
		return 0;
	if (r ? proto_mac_append(b->p, len, b->cap, r->keys.s2n) :
		(!n->key || proto_sign_append(b->p, len, b->cap, n->key)))
		return 0;
	len += r ? PROTO_MAC_LEN : PROTO_SIG_LEN;
	n->send(n->send_arg, to, b->p, len);
	return len;
}

/* The budgets of from's source (nms_quota.h), as configured now. */
static struct nms_source_slot *source_of(struct nms *n, const struct proto_ep *from)
{
	const struct nms_source_limits lim = {
		.reg_rate = n->cfg.register_rate, .reg_burst = n->cfg.register_burst,
		.cookie_rate = n->cfg.cookie_rate, .cookie_burst = n->cfg.cookie_burst,
	};

	return nms_source_slot(n->sources, n->source_seed, from, &lim, n->now_ms);
}

static bool error_budget(struct nms *n)
{
	double dt = (double)(n->now_ms - n->err_last_ms) / 1000.0;

	n->err_last_ms = n->now_ms;
	if (dt > 0)
		n->err_tokens += dt * n->cfg.error_rate;
	if (n->err_tokens > n->cfg.error_rate)
		n->err_tokens = n->cfg.error_rate;
	if (n->err_tokens < 1)
		return false;
	n->err_tokens -= 1;
	return true;
}

/*
 * Sends ERROR for request m. r: a registration whose MAC on m verified
 * (the error is MACed), or NULL (signed, within the error budget).
 * A signed error answers unauthenticated input, maybe from a spoofed
 * source: it is never more than twice the request (n->req_len), so the
 * diagnostic text, which no client parses, goes when it would be.
 */
static int reply_error(struct nms *n, const struct proto_msg *m,
		       struct nms_reg *r, const struct proto_ep *to, int code)
{
	uint8_t mem[REPLY_CAP + PROTO_MAX_CERT];
	const char *text = proto_err_text((unsigned)code);
	struct proto_buf b;

	if (!r && !error_budget(n)) {
		n->stats.errors_suppressed++;
		return code;
	}
	reply_begin(n, &b, mem, r, m->hdr.node_id, PROTO_OP_ERROR,
		    r ? PROTO_AUTH_MAC : PROTO_AUTH_SIG);
	b.cap = sizeof(mem);
	proto_tlv_u16(&b, PROTO_T_ERROR_CODE, (uint16_t)code);
	proto_tlv_u64(&b, PROTO_T_ECHO_SEQ, m->hdr.seq);
	if (r || b.len + 4 + strlen(text) + PROTO_SIG_LEN <= 2 * n->req_len)
		proto_tlv_str(&b, PROTO_T_ERROR_TEXT, text);
	/*
	 * A node without a session may not know the NMS key yet: answers to
	 * a full REGISTER carry the NMS certificate too, but only when the
	 * request itself carried one at least as large (a request that fails
	 * to parse may have none), so that an error is never an amplifier.
	 */
	if (!r && n->cert_len && m->hdr.op == PROTO_OP_REGISTER &&
	    m->hdr.auth == PROTO_AUTH_SIG && PROTO_HAS(m, PROTO_T_CERT) &&
	    m->cert_len >= n->cert_len)
		proto_tlv_bytes(&b, PROTO_T_CERT, n->cert, n->cert_len);
	if (reply_send(n, &b, r, to))
		n->stats.errors_sent++;
	return code;
}

/* ---- registration ------------------------------------------------------------- */

static int64_t reg_expiry(const struct nms *n, const struct nms_reg *r)
{
	int64_t e = n->now_ms + (int64_t)n->cfg.lifetime_s * 1000;
	int64_t cert_end = r->ident.not_after * 1000;

	/* A registration never outlives the credential it was made with. */
	return cert_end < e ? cert_end : e;
}

static void set_location(struct nms *n, struct nms_reg *r,
			 const struct proto_msg *m, const struct proto_ep *from)
{
	r->observed = *from;
	r->n_addrs = (unsigned int)nms_addrs_filter(m->addrs, m->n_addrs, from, r->addrs);
	n->stats.addrs_dropped += m->n_addrs - r->n_addrs;
	r->nat = m->nat;
	r->families = nms_reg_families(r);
	r->expires_ms = reg_expiry(n, r);
}

static void make_tombstone(struct nms *n, struct nms_reg *r)
{
	r->active = false;
	r->expires_ms = n->now_ms + 2 * n->cfg.skew_ms;
	OPENSSL_cleanse(&r->keys, sizeof(r->keys));
	free(r->cert);
	r->cert = NULL;
	r->cert_len = 0;
	n->store->ops->update(n->store, r);
}

static int send_register_ack(struct nms *n, struct nms_reg *r,
			     const struct proto_msg *m,
			     const struct proto_ep *from, const uint8_t *eph,
			     const uint8_t *req_hash)
{
	uint8_t mem[REPLY_CAP + PROTO_MAX_CERT];
	struct proto_buf b;
	struct proto_hdr h = {
		.op = PROTO_OP_REGISTER_ACK, .node_id = r->ident.id,
		.ts_ms = n->now_ms,
		.auth = eph ? PROTO_AUTH_SIG : PROTO_AUTH_MAC,
		.seq = eph ? ++n->sig_seq : next_seq(n, r),
	};

	proto_msg_begin(&b, mem, sizeof(mem), &h);
	if (eph) {
		proto_tlv_bytes(&b, PROTO_T_EPHEMERAL, eph, 32);
		proto_tlv_bytes(&b, PROTO_T_REQ_HASH, req_hash, 32);
		if (n->cert_len)
			proto_tlv_bytes(&b, PROTO_T_CERT, n->cert, n->cert_len);
	}
	proto_tlv_u64(&b, PROTO_T_ECHO_SEQ, m->hdr.seq);
	proto_tlv_ep(&b, PROTO_T_OBSERVED, from);
	proto_tlv_u32(&b, PROTO_T_LIFETIME,
		      (uint32_t)((r->expires_ms - n->now_ms + 999) / 1000));
	proto_tlv_u32(&b, PROTO_T_KEEPALIVE, n->cfg.keepalive_s);
	return reply_send(n, &b, eph ? NULL : r, from) ? PROTO_E_OK
						       : PROTO_E_INTERNAL;
}

/*
 * An active registration made with exactly this certificate, still valid:
 * the chain was verified then, and a CRL change since has re-checked it
 * (nms_recheck; checked_gen says so for records from a shared store, which
 * may come from another replica), so the certificate need not be verified
 * again. This is
 * what makes a node's re-registration after losing its session (restart,
 * NMS answer lost) cost one signature check instead of two.
 */
static bool cert_cached(const struct nms *n, const struct nms_reg *r,
			const struct proto_msg *m)
{
	return r && r->active && r->cert && r->cert_len == m->cert_len &&
	       r->checked_gen == n->crl_gen &&
	       r->ident.not_after > n->now_ms / 1000 &&
	       !memcmp(r->cert, m->cert, m->cert_len);
}

/*
 * The registration itself, on the engine's thread, once the job's
 * expensive checks are done (inline or on a worker): everything that
 * reads or writes state, against the state of now.
 */
static int register_finish(struct nms *n, struct nms_job *j, const struct proto_msg *m)
{
	const struct proto_ep *from = &j->from;
	struct nms_reg *r;
	char err[256];
	int rc;

	if (j->rc)
		return reply_error(n, m, NULL, from, j->rc);
	if (n->draining)
		return reply_error(n, m, NULL, from, PROTO_E_DRAINING);
	/* A CRL (or CA) changed while the job was out: its check may predate it. */
	if (j->crl_gen != n->crl_gen) {
		struct nms_ident again;

		rc = n->verify(n->verify_arg, m->cert, m->cert_len, n->now_ms / 1000, &again, err,
			       sizeof(err));
		if (rc)
			return reply_error(n, m, NULL, from, rc);
	}
	r = n->store->ops->get(n->store, m->hdr.node_id);
	if (!replay_ok(n, r, m->hdr.node_id, m->hdr.seq, false))
		return reply_error(n, m, NULL, from, PROTO_E_REPLAY);
	/*
	 * An older try of a registration the node has since redone (a
	 * client retry, delayed in a queue or at a replica that answered
	 * late): installing its keys would replace the node's current ones.
	 */
	if (r && r->active && m->hdr.seq <= r->reg_seq)
		return reply_error(n, m, NULL, from, PROTO_E_REPLAY);
	if (!replay_ok(n, NULL, j->id.id, m->hdr.seq, true))
		return reply_error(n, m, NULL, from, PROTO_E_REPLAY);
	if (!r)
		r = n->store->ops->create(n->store, j->id.id);
	if (!r)
		return reply_error(n, m, NULL, from, PROTO_E_FULL);
	proto_replay_check(&r->rx, m->hdr.seq, true);
	proto_session_keys(j->shared, j->req_hash, j->id.id, &r->keys);
	r->ident = j->id;
	r->active = true;
	r->checked_gen = n->crl_gen;
	r->tx_seq = 0;
	r->reg_seq = m->hdr.seq;
	set_location(n, r, m, from);
	if (!r->cert || r->cert_len != m->cert_len ||
	    memcmp(r->cert, m->cert, m->cert_len)) {
		free(r->cert);
		r->cert = malloc(m->cert_len);
		r->cert_len = r->cert ? m->cert_len : 0;
		if (r->cert)
			memcpy(r->cert, m->cert, m->cert_len);
	}
	n->store->ops->update(n->store, r);
	n->stats.registered++;
	return send_register_ack(n, r, m, from, j->eph_pub, j->req_hash);
}

/* The cheap half of a full REGISTER; the rest on a worker (or inline). */
static int register_full(struct nms *n, const struct proto_msg *m,
			 const uint8_t *pkt, size_t len,
			 const struct proto_ep *from)
{
	struct nms_reg *r;
	struct nms_job *j;
	int rc;

	if (n->draining)
		return reply_error(n, m, NULL, from, PROTO_E_DRAINING);
	j = calloc(1, sizeof(*j) + len);
	if (!j)
		return PROTO_E_INTERNAL;
	j->verify = n->verify;
	j->verify_arg = n->verify_arg;
	j->from = *from;
	j->now_ms = n->now_ms;
	j->crl_gen = n->crl_gen;
	j->len = len;
	memcpy(j->pkt, pkt, len);
	r = n->store->ops->get(n->store, m->hdr.node_id);
	if (cert_cached(n, r, m)) {
		j->cached = true;
		j->id = r->ident;
		n->stats.cert_cached++;
	}
	if (n->offload) {
		if (!n->offload(n->offload_arg, j)) {
			/* No reply: an answer is work, and the sender may be spoofed. */
			n->stats.verify_dropped++;
			nms_job_free(j);
			return PROTO_E_RATE_LIMITED;
		}
		n->stats.verify_queued++;
		return NMS_QUEUED;
	}
	nms_job_work(j);
	rc = register_finish(n, j, m);
	nms_job_free(j);
	return rc;
}

void nms_set_offload(struct nms *n, nms_offload_fn fn, void *arg)
{
	n->offload = fn;
	n->offload_arg = arg;
}

int nms_job_done(struct nms *n, struct nms_job *j, int64_t now_ms)
{
	struct proto_msg m;
	int rc;

	n->now_ms = now_ms;
	n->store->now_ms = now_ms;
	n->req_len = j->len;
	n->challenge = false;
	/* The pointers of the first parse stayed on the other side. */
	rc = proto_msg_parse(j->pkt, j->len, &m);
	if (!rc)
		rc = register_finish(n, j, &m);
	if (rc >= 0 && rc < PROTO_E_COUNT)
		n->stats.req[PROTO_OP_REGISTER][rc]++;
	nms_job_free(j);
	store_flush(n);
	return rc;
}

/* ---- route direction ------------------------------------------------------------ */

static struct nms_reg *find_target(struct nms *n, const struct proto_msg *m)
{
	struct nms_store *s = n->store;

	if (PROTO_HAS(m, PROTO_T_TARGET_FQDN))
		return s->ops->by_fqdn(s, m->target_fqdn);
	if (PROTO_HAS(m, PROTO_T_TARGET_VIP4))
		return s->ops->by_vip4(s, m->target_vip4);
	return s->ops->by_vip6(s, &m->target_vip6);
}

/* The TRS endpoint for a node: its observed family first. */
static const struct proto_ep *relay_for(const struct nms *n,
					const struct nms_reg *r)
{
	const struct proto_ep *same = r->observed.family == 6 ? &n->cfg.relay6
							       : &n->cfg.relay4;
	const struct proto_ep *other = r->observed.family == 6 ? &n->cfg.relay4
								: &n->cfg.relay6;

	if (same->family)
		return same;
	if (other->family && (r->families & (other->family == 6 ? NMS_FAM6
								: NMS_FAM4)))
		return other;
	return NULL;
}

struct grant {			/* what both ends get besides the peer */
	uint8_t mode;
	uint32_t session;
	uint64_t expiry;
	uint64_t punch_id;
	uint8_t punch_secret[32];
};

/* Peer description + mode-specific grant for `me` about `peer`. */
static void put_route(struct nms *n, struct proto_buf *b, uint64_t seq,
		      struct nms_reg *me, const struct nms_reg *peer,
		      const struct grant *g, uint8_t end,
		      const struct proto_ep *eps, unsigned int n_eps)
{
	uint8_t secret[32], sealed[32];
	unsigned int i;

	proto_tlv_u8(b, PROTO_T_MODE, g->mode);
	proto_tlv_u64(b, PROTO_T_PEER_ID, peer->ident.id);
	if (peer->ident.fqdn[0])
		proto_tlv_str(b, PROTO_T_PEER_FQDN, peer->ident.fqdn);
	if (peer->ident.has_vip4)
		proto_tlv_bytes(b, PROTO_T_PEER_VIP4, &peer->ident.vip4, 4);
	if (peer->ident.has_vip6)
		proto_tlv_bytes(b, PROTO_T_PEER_VIP6, &peer->ident.vip6, 16);
	proto_tlv_bytes(b, PROTO_T_PEER_PUBKEY, peer->ident.pubkey, 32);
	for (i = 0; i < n_eps; i++)
		proto_tlv_ep(b, PROTO_T_PEER_ENDPOINT, &eps[i]);
	if (g->mode == PROTO_MODE_PUNCH) {
		proto_tlv_u64(b, PROTO_T_PUNCH_ID, g->punch_id);
		proto_seal(me->keys.seal, seq, PROTO_T_PUNCH_SECRET,
			   g->punch_secret, sealed);
		proto_tlv_bytes(b, PROTO_T_PUNCH_SECRET, sealed, 32);
	} else if (g->mode == PROTO_MODE_RELAY) {
		proto_tlv_ep(b, PROTO_T_RELAY_ENDPOINT, relay_for(n, me));
		proto_tlv_u32(b, PROTO_T_RELAY_SESSION, g->session);
		proto_tlv_u8(b, PROTO_T_RELAY_END, end);
		proto_tlv_u64(b, PROTO_T_RELAY_EXPIRY, g->expiry);
		proto_bind_secret(n->cfg.relay_key, g->session, end,
				  me->ident.id, g->expiry, secret);
		proto_seal(me->keys.seal, seq, PROTO_T_RELAY_SECRET, secret,
			   sealed);
		proto_tlv_bytes(b, PROTO_T_RELAY_SECRET, sealed, 32);
		OPENSSL_cleanse(secret, sizeof(secret));
	}
}

static void notify_peer(struct nms *n, struct nms_reg *dst,
			const struct nms_reg *src, const struct grant *g,
			const struct nms_route *rt)
{
	struct nms_pend spare, *p;
	struct proto_buf b;
	struct proto_hdr h = {
		.op = PROTO_OP_PEER_NOTIFY, .auth = PROTO_AUTH_MAC,
		.node_id = dst->ident.id, .ts_ms = n->now_ms,
	};

	/* Table full (overload): send once, without retransmissions. */
	p = n->n_pending < MAX_PENDING ? &n->pending[n->n_pending] : &spare;
	h.seq = next_seq(n, dst);
	proto_random(&p->notify_id, sizeof(p->notify_id));
	proto_msg_begin(&b, p->pkt, sizeof(p->pkt), &h);
	proto_tlv_u64(&b, PROTO_T_NOTIFY_ID, p->notify_id);
	put_route(n, &b, h.seq, dst, src, g, 1, rt->to_src, rt->n_to_src);
	p->len = proto_msg_finish(&b);
	if (!p->len || proto_mac_append(p->pkt, p->len, sizeof(p->pkt),
					dst->keys.s2n))
		return;
	p->len += PROTO_MAC_LEN;
	p->node_id = dst->ident.id;
	p->src_id = src->ident.id;
	p->to = dst->observed;
	p->rto_ms = n->cfg.notify_rto_ms;
	p->next_ms = n->now_ms + p->rto_ms;
	p->tries = 1;
	if (p == &spare) {
		n->stats.notify_untracked++;
	} else {
		n->n_pending++;
		nms_quota_slot(n->quota, src->ident.id)->pending++;
	}
	if (p != &spare && n->store->ops->pend_add)
		n->store->ops->pend_add(n->store, p);
	n->stats.notify_sent++;
	n->send(n->send_arg, &p->to, p->pkt, p->len);
}

/*
 * r's quotas for a route in mode (nms_quota.h): RATE_LIMITED when its
 * relay grants are spent, or when the notification this route sends would
 * take more than notify_per_node slots of the table.
 */
static int quota_ok(struct nms *n, const struct nms_reg *r, uint8_t mode)
{
	struct nms_quota_slot *q = nms_quota_slot(n->quota, r->ident.id);

	if (mode != PROTO_MODE_DIRECT && n->cfg.notify_per_node &&
	    q->pending >= n->cfg.notify_per_node) {
		n->stats.quota_notify++;
		return PROTO_E_RATE_LIMITED;
	}
	if (mode == PROTO_MODE_RELAY &&
	    !nms_bucket_take(&q->relay, n->cfg.relay_rate, n->cfg.relay_burst, n->now_ms)) {
		n->stats.quota_relay++;
		return PROTO_E_RATE_LIMITED;
	}
	return PROTO_E_OK;
}

/* A tracked notification left the table: its source's slot is free again. */
static void pend_released(struct nms *n, const struct nms_pend *p)
{
	struct nms_quota_slot *q = p->src_id ? nms_quota_find(n->quota, p->src_id) : NULL;

	if (q && q->pending)
		q->pending--;
}

static int route(struct nms *n, struct nms_reg *r, const struct proto_msg *m,
		 const struct proto_ep *from)
{
	uint8_t mem[REPLY_CAP];
	struct nms_reg *dst;
	struct nms_route rt;
	struct grant g = { 0 };
	struct proto_buf b;
	bool have_relay = n->cfg.relay4.family || n->cfg.relay6.family;
	int rc;

	/* Before the lookup: a flood of route requests costs a token each. */
	if (!nms_bucket_take(&nms_quota_slot(n->quota, r->ident.id)->route, n->cfg.route_rate,
			     n->cfg.route_burst, n->now_ms)) {
		n->stats.quota_route++;
		return reply_error(n, m, r, from, PROTO_E_RATE_LIMITED);
	}
	dst = find_target(n, m);
	if (!dst || dst == r || !still_valid(n, dst))
		return reply_error(n, m, r, from, PROTO_E_NOT_FOUND);
	/*
	 * The access policy (the groups in both certificates): a pair it
	 * does not allow gets exactly the answer of an unknown target, so
	 * nothing tells a node who is online beyond what it may reach.
	 */
	if (!cyph_policy_allows(&r->ident.policy, &dst->ident.policy)) {
		n->stats.policy_denied++;
		return reply_error(n, m, r, from, PROTO_E_NOT_FOUND);
	}
	rc = nms_route_decide(r, dst, m->route_flags, have_relay, &rt);
	if (rc == PROTO_E_OK && rt.mode == PROTO_MODE_RELAY &&
	    (!relay_for(n, r) || !relay_for(n, dst)))
		rc = PROTO_E_NO_RELAY;
	if (rc == PROTO_E_OK)
		rc = quota_ok(n, r, rt.mode);
	if (rc)
		return reply_error(n, m, r, from, rc);
	g.mode = rt.mode;
	if (g.mode == PROTO_MODE_RELAY) {
		do
			proto_random(&g.session, sizeof(g.session));
		while (!g.session);
		g.expiry = (uint64_t)(n->now_ms / 1000) + n->cfg.relay_ttl_s;
	} else if (g.mode == PROTO_MODE_PUNCH) {
		proto_random(&g.punch_id, sizeof(g.punch_id));
		proto_random(g.punch_secret, sizeof(g.punch_secret));
	}
	reply_begin(n, &b, mem, r, r->ident.id, PROTO_OP_ROUTE_RESP,
		    PROTO_AUTH_MAC);
	proto_tlv_u64(&b, PROTO_T_ECHO_SEQ, m->hdr.seq);
	put_route(n, &b, r->tx_seq, r, dst, &g, 0, rt.to_dst, rt.n_to_dst);
	if (!reply_send(n, &b, r, from))
		return PROTO_E_INTERNAL;
	n->stats.routes[g.mode]++;
	if (g.mode != PROTO_MODE_DIRECT)
		notify_peer(n, dst, r, &g, &rt);
	OPENSSL_cleanse(&g, sizeof(g));
	return PROTO_E_OK;
}

/* ---- session messages ------------------------------------------------------------- */

static void notify_acked(struct nms *n, uint64_t node_id, uint64_t id)
{
	size_t i;

	/* The replica that sent it may be another one: tell them all. */
	if (n->store->ops->pend_done)
		n->store->ops->pend_done(n->store, node_id, id);
	for (i = 0; i < n->n_pending; i++) {
		if (n->pending[i].notify_id == id &&
		    n->pending[i].node_id == node_id) {
			pend_released(n, &n->pending[i]);
			n->pending[i] = n->pending[--n->n_pending];
			return;
		}
	}
}

static int keepalive(struct nms *n, struct nms_reg *r,
		     const struct proto_msg *m, const struct proto_ep *from)
{
	uint8_t mem[REPLY_CAP];
	struct proto_buf b;

	r->expires_ms = reg_expiry(n, r);
	save(n, r);
	reply_begin(n, &b, mem, r, r->ident.id, PROTO_OP_KEEPALIVE_ACK,
		    PROTO_AUTH_MAC);
	proto_tlv_u64(&b, PROTO_T_ECHO_SEQ, m->hdr.seq);
	proto_tlv_ep(&b, PROTO_T_OBSERVED, from);
	return reply_send(n, &b, r, from) ? PROTO_E_OK : PROTO_E_INTERNAL;
}

/*
 * An authenticated message from a new source address. The MAC proves the
 * node sent it, not that it lives there: a captured message re-sent with
 * a spoofed source would otherwise point the node's peers (and the NMS's
 * notifications) at a victim. So the endpoint moves only when the message
 * echoes the challenge the NMS sent to that address (return routability);
 * otherwise the answer goes there with a challenge. True when moved.
 */
static bool roam(struct nms *n, struct nms_reg *r, const struct proto_msg *m,
		 const struct proto_ep *from)
{
	if (!PROTO_HAS(m, PROTO_T_CHALLENGE) ||
	    !nms_proof_check(&n->cookies, NMS_PROOF_CHALLENGE, from, r->ident.id,
			     m->challenge)) {
		n->stats.rr_challenged++;
		return false;
	}
	r->observed = *from;
	r->families = nms_reg_families(r);
	n->stats.roamed++;
	n->stats.rr_moved++;
	if (m->hdr.op != PROTO_OP_REGISTER && m->hdr.op != PROTO_OP_KEEPALIVE)
		save(n, r);	/* those two save in their handlers */
	return true;
}

static int session_msg(struct nms *n, const struct proto_msg *m,
		       const uint8_t *pkt, const struct proto_ep *from)
{
	struct nms_reg *r = n->store->ops->get(n->store, m->hdr.node_id);

	if (!r || !r->active)
		return reply_error(n, m, NULL, from, PROTO_E_NOT_REGISTERED);
	if (!proto_mac_check(pkt, m->signed_len, m->auth_tag, r->keys.n2s))
		return reply_error(n, m, NULL, from, PROTO_E_BAD_SIGNATURE);
	if (!still_valid(n, r))		/* after the MAC: no work for forgeries */
		return reply_error(n, m, NULL, from, PROTO_E_REVOKED);
	if (!replay_ok(n, r, r->ident.id, m->hdr.seq, true))
		return reply_error(n, m, r, from, PROTO_E_REPLAY);
	if (!proto_ep_equal(&r->observed, from) && !roam(n, r, m, from))
		n->challenge = true;	/* the answer carries one; the endpoint stays */
	switch (m->hdr.op) {
	case PROTO_OP_REGISTER:
		set_location(n, r, m, &r->observed);
		save(n, r);
		n->stats.refreshed++;
		return send_register_ack(n, r, m, from, NULL, NULL);
	case PROTO_OP_KEEPALIVE:
		return keepalive(n, r, m, from);
	case PROTO_OP_ROUTE_REQ:
		return route(n, r, m, from);
	case PROTO_OP_NOTIFY_ACK:
		notify_acked(n, r->ident.id, m->notify_id);
		return PROTO_E_OK;
	case PROTO_OP_DEREGISTER:
		make_tombstone(n, r);
		n->stats.deregistered++;
		return PROTO_E_OK;
	}
	return reply_error(n, m, r, from, PROTO_E_BAD_OP);
}

/*
 * The cookie of a full REGISTER under load. Without a valid one the
 * sender gets a COOKIE (unauthenticated, smaller than the request: no
 * amplification) and must send the REGISTER again with it.
 */
static bool cookie_ok(struct nms *n, const struct proto_msg *m, const struct proto_ep *from)
{
	uint8_t mem[128];
	struct proto_buf b;
	struct proto_hdr h = {
		.op = PROTO_OP_COOKIE, .auth = PROTO_AUTH_NONE, .node_id = m->hdr.node_id,
		.seq = ++n->sig_seq, .ts_ms = n->now_ms,
	};
	uint8_t cookie[PROTO_COOKIE_LEN];
	size_t len;

	if (PROTO_HAS(m, PROTO_T_COOKIE)) {
		if (nms_proof_check(&n->cookies, NMS_PROOF_COOKIE, from, m->hdr.node_id,
				    m->cookie))
			return true;
		n->stats.cookie_refused++;
	}
	/*
	 * A node needs one cookie per address for minutes (the secret's
	 * rotation); beyond a few a second, its source is flooding, and the
	 * answer would cost a send and hit whoever owns the address.
	 */
	if (!nms_bucket_take(&source_of(n, from)->cookie, n->cfg.cookie_rate,
			     n->cfg.cookie_burst, n->now_ms)) {
		n->stats.cookies_suppressed++;
		return false;
	}
	nms_proof_make(&n->cookies, NMS_PROOF_COOKIE, from, m->hdr.node_id, cookie);
	proto_msg_begin(&b, mem, sizeof(mem), &h);
	proto_tlv_bytes(&b, PROTO_T_COOKIE, cookie, sizeof(cookie));
	proto_tlv_u64(&b, PROTO_T_ECHO_SEQ, m->hdr.seq);
	len = proto_msg_finish(&b);
	if (len) {
		n->send(n->send_arg, from, mem, len);
		n->stats.cookies_sent++;
	}
	return false;
}

/*
 * MAPPING (docs/protocol.md 5.9): the endpoint this datagram came from,
 * for a node comparing what two NMS ports see of one socket (its NAT's
 * mapping type). Unauthenticated and stateless, so the answer is never
 * larger than the request and each source gets the COOKIE budget.
 */
static int mapping(struct nms *n, const struct proto_msg *m, const struct proto_ep *from)
{
	uint8_t mem[128];
	struct proto_buf b;
	struct proto_hdr h = {
		.op = PROTO_OP_MAPPING_ACK, .auth = PROTO_AUTH_NONE, .node_id = m->hdr.node_id,
		.seq = m->hdr.seq, .ts_ms = n->now_ms,
	};
	size_t len;

	if (!nms_bucket_take(&source_of(n, from)->cookie, n->cfg.cookie_rate,
			     n->cfg.cookie_burst, n->now_ms))
		return PROTO_E_RATE_LIMITED;
	proto_msg_begin(&b, mem, sizeof(mem), &h);
	proto_tlv_ep(&b, PROTO_T_OBSERVED, from);
	len = proto_msg_finish(&b);
	if (!len || len > m->signed_len)
		return PROTO_E_MALFORMED;
	n->send(n->send_arg, from, mem, len);
	return PROTO_E_OK;
}

static bool from_node(uint8_t op)
{
	return op == PROTO_OP_REGISTER || op == PROTO_OP_KEEPALIVE ||
	       op == PROTO_OP_ROUTE_REQ || op == PROTO_OP_NOTIFY_ACK ||
	       op == PROTO_OP_DEREGISTER;
}

static int input(struct nms *n, const uint8_t *pkt, size_t len,
		 const struct proto_ep *from, struct proto_msg *m)
{
	int rc;

	rc = proto_msg_parse(pkt, len, m);
	if (rc) {
		/*
		 * Answer only what at least names a node and a request, and is
		 * framed as one (signed_len: the header parsed, its length the
		 * datagram's): a bare 32-byte header would otherwise buy a
		 * signed error four times its size.
		 */
		if (m->hdr.op && from_node(m->hdr.op) && m->signed_len)
			reply_error(n, m, NULL, from, rc);
		return rc;
	}
	if (m->hdr.op == PROTO_OP_MAPPING)
		return mapping(n, m, from);
	if (!from_node(m->hdr.op))
		return reply_error(n, m, NULL, from, PROTO_E_BAD_OP);
	if (!proto_ts_fresh(m->hdr.ts_ms, n->now_ms, n->cfg.skew_ms))
		return reply_error(n, m, NULL, from, PROTO_E_STALE);
	if (m->hdr.ts_ms < n->cfg.boot_ms) {
		/* Captured before a restart: the replay window that saw it is gone. */
		n->stats.before_boot++;
		return reply_error(n, m, NULL, from, PROTO_E_STALE);
	}
	if (m->hdr.op == PROTO_OP_REGISTER && m->hdr.auth == PROTO_AUTH_SIG) {
		/*
		 * Under load, the cookie comes first: a spoofed source never
		 * sees one, so it costs an HMAC and never uses up the budget
		 * of the address it pretends to be.
		 */
		if (nms_cookies_loaded(&n->cookies, n->cfg.cookie_load, n->now_ms) &&
		    !cookie_ok(n, m, from))
			return PROTO_E_RATE_LIMITED;
		/* Before any certificate or signature work; no reply: none is cheap. */
		if (!nms_bucket_take(&source_of(n, from)->reg, n->cfg.register_rate,
				     n->cfg.register_burst, n->now_ms)) {
			n->stats.quota_source++;
			return PROTO_E_RATE_LIMITED;
		}
		return register_full(n, m, pkt, len, from);
	}
	return session_msg(n, m, pkt, from);
}

int nms_input(struct nms *n, const uint8_t *pkt, size_t len,
	      const struct proto_ep *from, int64_t now_ms)
{
	struct proto_msg m;
	int rc;

	n->now_ms = now_ms;
	n->store->now_ms = now_ms;
	n->req_len = len;
	n->challenge = false;
	rc = input(n, pkt, len, from, &m);
	if (rc == NMS_QUEUED)
		return rc;	/* counted by nms_job_done() */
	if (m.hdr.op >= 1 && m.hdr.op <= PROTO_OP_MAX && rc >= 0 &&
	    rc < PROTO_E_COUNT)
		n->stats.req[m.hdr.op][rc]++;
	else
		n->stats.bad_header++;
	if (!n->in_batch)
		store_flush(n);
	return rc;
}

/* The node id of a session message worth reading its record for, or 0. */
static uint64_t prefetch_id(const struct nms *n, const uint8_t *pkt, size_t len,
			    int64_t now_ms)
{
	struct proto_msg m;

	/* What input() checks before session_msg()'s lookup, no more. */
	if (proto_msg_parse(pkt, len, &m) || !from_node(m.hdr.op) ||
	    m.hdr.auth == PROTO_AUTH_SIG || !proto_ts_fresh(m.hdr.ts_ms, now_ms, n->cfg.skew_ms) ||
	    m.hdr.ts_ms < n->cfg.boot_ms)
		return 0;
	return m.hdr.node_id;
}

/*
 * The second round trip of a batch: for each session message whose MAC
 * checks out against its prefetched record (so no forger spends a
 * node's sequence numbers), its replay claim, a sequence number for the
 * answer and, for a route request by name, its target.
 */
static void batch_prepare(struct nms *n, const uint8_t *const *pkts, const size_t *lens,
			  const size_t *idx, size_t count)
{
	struct nms_batch_req reqs[NMS_PREFETCH_MAX];
	char fqdns[NMS_PREFETCH_MAX][PROTO_MAX_FQDN + 1];
	struct proto_msg m;
	struct nms_reg *r;
	size_t i, k = 0;

	for (i = 0; i < count; i++) {
		const uint8_t *pkt = pkts[idx[i]];

		if (proto_msg_parse(pkt, lens[idx[i]], &m))
			continue;
		r = n->store->ops->get(n->store, m.hdr.node_id);
		if (!r || !r->active ||
		    !proto_mac_check(pkt, m.signed_len, m.auth_tag, r->keys.n2s))
			continue;
		reqs[k] = (struct nms_batch_req){ .r = r, .seq = m.hdr.seq,
						  .claim_ttl_ms = 2 * n->cfg.skew_ms + 1000 };
		if (m.hdr.op == PROTO_OP_ROUTE_REQ && PROTO_HAS(&m, PROTO_T_TARGET_FQDN)) {
			memcpy(fqdns[k], m.target_fqdn, sizeof(fqdns[k]));
			reqs[k].target_fqdn = fqdns[k];
		}
		k++;
	}
	if (k)
		n->store->ops->prepare(n->store, reqs, k);
}

void nms_batch_begin(struct nms *n, const uint8_t *const *pkts, const size_t *lens,
		     size_t count, int64_t now_ms)
{
	uint64_t ids[NMS_PREFETCH_MAX];
	size_t idx[NMS_PREFETCH_MAX];
	size_t i, k = 0;

	if (!n->store->ops->prefetch)
		return;
	n->in_batch = true;
	n->now_ms = now_ms;
	n->store->now_ms = now_ms;
	for (i = 0; i < count && k < NMS_PREFETCH_MAX; i++) {
		ids[k] = prefetch_id(n, pkts[i], lens[i], now_ms);
		idx[k] = i;
		k += ids[k] != 0;
	}
	if (!k)
		return;
	n->store->ops->prefetch(n->store, ids, k);
	if (n->store->ops->prepare)
		batch_prepare(n, pkts, lens, idx, k);
}

void nms_batch_end(struct nms *n)
{
	n->in_batch = false;
	store_flush(n);
}

/* ---- timers ---------------------------------------------------------------------- */

static void expire_one(struct nms_reg *r, void *arg)
{
	struct nms *n = arg;

	if (r->expires_ms > n->now_ms)
		return;
	if (r->active) {
		make_tombstone(n, r);
		n->stats.expired++;
	} else {
		n->store->ops->remove(n->store, r);
	}
}

static void retransmit(struct nms *n)
{
	struct nms_store *s = n->store;
	size_t i = 0;

	while (i < n->n_pending) {
		struct nms_pend *p = &n->pending[i];

		if (p->next_ms > n->now_ms) {
			i++;
			continue;
		}
		if (p->tries >= n->cfg.notify_tries) {
			n->stats.notify_lost++;
			if (s->ops->pend_done)
				s->ops->pend_done(s, p->node_id, p->notify_id);
			pend_released(n, p);
			*p = n->pending[--n->n_pending];
			continue;
		}
		p->tries++;
		p->rto_ms *= 2;
		p->next_ms = n->now_ms + p->rto_ms;
		/* Acknowledged at another replica: nothing to resend. */
		if (s->ops->pend_live && !s->ops->pend_live(s, p)) {
			pend_released(n, p);
			*p = n->pending[--n->n_pending];
			continue;
		}
		n->stats.notify_retrans++;
		n->send(n->send_arg, &p->to, p->pkt, p->len);
		i++;
	}
}

/* A notification whose replica died: retransmitted from here on. */
static void adopt(void *arg, const struct nms_pend *p)
{
	struct nms *n = arg;

	if (n->n_pending == MAX_PENDING)
		return;
	n->pending[n->n_pending] = *p;
	n->pending[n->n_pending++].src_id = 0;	/* counted at its first replica */
	n->stats.notify_adopted++;
}

void nms_tick(struct nms *n, int64_t now_ms)
{
	struct nms_store *s = n->store;

	n->now_ms = now_ms;
	s->now_ms = now_ms;
	nms_cookies_tick(&n->cookies, now_ms);
	/* A full scan of the table at most once a second. */
	if (now_ms - n->last_scan_ms >= 1000 || now_ms < n->last_scan_ms) {
		n->last_scan_ms = now_ms;
		s->ops->foreach(s, expire_one, n);
		/* Overdue by a second: its replica would have resent it. */
		if (s->ops->pend_adopt && !n->draining)
			s->ops->pend_adopt(s, now_ms, 1000, adopt, n);
	}
	retransmit(n);
	store_flush(n);
}

static void recheck_one(struct nms_reg *r, void *arg)
{
	struct nms *n = arg;
	struct nms_ident id;
	char err[256];

	if (!r->active || !r->cert)
		return;
	if (n->verify(n->verify_arg, r->cert, r->cert_len, n->now_ms / 1000,
		      &id, err, sizeof(err)) == PROTO_E_OK) {
		r->checked_gen = n->crl_gen;
		return;
	}
	make_tombstone(n, r);
	n->stats.revoked++;
}

void nms_recheck(struct nms *n, int64_t now_ms)
{
	n->now_ms = now_ms;
	n->store->now_ms = now_ms;
	n->crl_gen++;
	n->store->ops->foreach(n->store, recheck_one, n);
	store_flush(n);
}
