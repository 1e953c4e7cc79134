/* SPDX-License-Identifier: MIT */
/*
 * TRS relay core: the session table shared by the forwarding threads, the
 * control-message handler (BIND/CLOSE) and the forwarding decision. No
 * sockets here, so unit tests and fuzzers drive it directly.
 *
 * Concurrency: the table is split into shards, each a hash table under its
 * own rwlock. Forwarding takes the read lock, copies the destination out
 * and updates counters with relaxed atomics; the token bucket has its own
 * spinlock per session. Binding, closing and expiry take the write lock.
 * No pointer to a session is used after its shard is unlocked, so a
 * session can be freed under the write lock at any time.
 */
#ifndef CYPHONIC_TRS_H
#define CYPHONIC_TRS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "e2e/cookie.h"
#include "wire/proto.h"
#include "wire/proto_crypto.h"

#define TRS_SHARDS 64

struct trs_config {
	uint8_t relay_key[PROTO_KEY_LEN];	/* shared with the NMS */
	int64_t skew_ms;
	uint32_t idle_s;		/* session idle timeout */
	uint64_t rate_bytes;		/* per session bytes/s, 0 = unlimited */
	uint64_t burst_bytes;
	size_t max_sessions;
	int64_t key_overlap_ms;		/* old relay key accepted after a change */
};

struct trs_end {
	bool bound;
	struct proto_ep ep;
	uint64_t node_id;
	uint64_t last_seq;
};

struct trs_session {
	uint32_t id;
	uint64_t expiry;		/* the grant's, Unix seconds */
	/*
	 * Non-zero: a tombstone until then (both ends closed, idle, expired
	 * or revoked). It keeps the ends' sequence windows so a BIND captured
	 * before cannot re-open the session while its timestamp is fresh.
	 */
	int64_t tomb_until_ms;
	struct trs_end end[2];
	_Atomic int64_t last_ms;
	_Atomic uint64_t pkts[2], bytes[2];	/* forwarded from end i */
	_Atomic uint64_t rate_drops;
	pthread_spinlock_t bucket_lock;
	double tokens;
	int64_t bucket_ms;
	struct trs_session *next;
};

struct trs_shard {
	pthread_rwlock_t lock;
	struct trs_session **buckets;
	size_t nb, n;
};

enum trs_drop {
	TRS_DROP_MALFORMED,
	TRS_DROP_NO_SESSION,
	TRS_DROP_UNKNOWN_PEER,	/* source is neither bound end */
	TRS_DROP_PEER_UNBOUND,	/* the other end has not bound yet */
	TRS_DROP_RATE,
	TRS_DROP_FAMILY,	/* no socket of the destination's family */
	TRS_DROP_SEND,
	TRS_DROP_EXPIRED,	/* past the grant's expiry */
	TRS_DROP_COUNT
};


struct trs_stats {		/* one per thread; summed for metrics */
	_Atomic uint64_t fwd_pkts, fwd_bytes;
	_Atomic uint64_t drops[TRS_DROP_COUNT];
	_Atomic uint64_t ctrl[PROTO_RC_CLOSE + 1][PROTO_E_COUNT];
	_Atomic uint64_t ctrl_malformed;
};

/* A session's shared state, as replicas exchange it (trs_sync.c). */
struct trs_snap {
	uint32_t id;
	uint64_t expiry;
	struct trs_end end[2];
};

/*
 * Hooks of a shared session store (trs_sync.c); all NULL without one.
 * Called from the forwarding threads without a shard lock held, so they
 * only queue work for the store's thread and never wait on the store.
 */
struct trs_hooks {
	/* A BIND or CLOSE changed s: publish it. */
	void (*changed)(void *arg, const struct trs_snap *s);
	/* Session id is not (fully) known here: look it up (rate-limited). */
	void (*missing)(void *arg, uint32_t id);
	void *arg;
};

struct trs {
	struct trs_config cfg;
	struct trs_hooks hooks;
	pthread_rwlock_t cfg_lock;	/* relay key may change on SIGHUP */
	/* under cfg_lock: the key before the last change, until prev_until_ms */
	uint8_t prev_key[PROTO_KEY_LEN];
	int64_t prev_until_ms;
	/*
	 * under cfg_lock: the secret of the return-routability challenges
	 * (trs_ctrl), rotated by trs_expire
	 */
	struct e2e_cookie_jar rr;
	uint64_t *revoked;		/* sorted node ids from the CRL */
	size_t n_revoked;
	struct trs_shard shards[TRS_SHARDS];
	_Atomic size_t n_sessions;	/* live ones, tombstones apart */
	_Atomic size_t n_tombs;
	_Atomic int64_t tomb_ms;	/* a tombstone's life: max_skew + 1 s */
	_Atomic bool draining;
	_Atomic uint64_t created, expired, closed;
	_Atomic uint64_t revoked_ends, prev_key_binds;
	_Atomic uint64_t rr_challenged;	/* BINDs from an address not yet proven */
};

int trs_init(struct trs *t, const struct trs_config *cfg);
void trs_destroy(struct trs *t);
/*
 * Takes a new configuration. When the relay key changes, the old one
 * stays accepted for cfg->key_overlap_ms from now_ms (grants the NMS
 * issued under it before the change stay usable).
 */
void trs_set_config(struct trs *t, const struct trs_config *cfg, int64_t now_ms);
/*
 * Takes the revoked node ids (sorted, malloc'd; owned by t from now on)
 * of a new CRL: BINDs naming them are refused (REVOKED), and their bound
 * ends are unbound at once, so their sessions stop forwarding. Returns
 * the number of ends unbound.
 */
size_t trs_set_revoked(struct trs *t, uint64_t *ids, size_t n, int64_t now_ms);

/*
 * Handles a RELAY_CTRL datagram from `from`. Returns the result code and,
 * when a reply is due, writes it to reply (PROTO_RC_LEN bytes) and sets
 * *reply_len; replies to bad MACs are left to the caller's error budget
 * via *unauth (true: the reply answers unauthenticated input).
 */
int trs_ctrl(struct trs *t, const uint8_t *pkt, size_t len,
	     const struct proto_ep *from, int64_t now_ms,
	     uint8_t reply[PROTO_RC_LEN], size_t *reply_len, bool *unauth);

/*
 * Forwarding decision for a RELAY datagram: returns -1 (forward *inner,
 * *inner_len bytes to *to) or a TRS_DROP_* reason. Updates counters.
 */
int trs_forward(struct trs *t, const uint8_t *pkt, size_t len,
		const struct proto_ep *from, int64_t now_ms,
		struct proto_ep *to, const uint8_t **inner, size_t *inner_len);

/*
 * Turns sessions idle for longer than idle_s or past their grant's expiry
 * into tombstones, and removes tombstones older than max_skew; returns
 * how many sessions ended.
 */
size_t trs_expire(struct trs *t, int64_t now_ms);
size_t trs_sessions(struct trs *t);	/* live ones */
size_t trs_tombstones(struct trs *t);

/*
 * Merges a session from the shared store into the table (creating it):
 * an end is taken unless the local one has a newer sequence (a BIND made
 * here and not yet published); on equal sequences the store, which kept
 * the first writer's, wins, so a BIND replayed to another replica from
 * another address is undone as soon as that replica reads the store. Returns 0, or
 * PROTO_E_FULL / PROTO_E_CONFLICT (another allocation under that id).
 */
int trs_install(struct trs *t, const struct trs_snap *s, int64_t now_ms);
/* Ids of up to max sessions with traffic or binds since since_ms. */
size_t trs_active_ids(struct trs *t, int64_t since_ms, uint32_t *ids, size_t max);
/* Snapshot of session id; false if there is none. */
bool trs_snapshot(struct trs *t, uint32_t id, struct trs_snap *out);

/* Copies the counters of session id; false if there is none. */
bool trs_session_stats(struct trs *t, uint32_t id, uint64_t pkts[2],
		       uint64_t bytes[2], uint64_t *rate_drops);

#endif
