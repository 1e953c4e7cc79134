/* SPDX-License-Identifier: MIT */
/*
 * The NMS protocol engine, independent of sockets and clocks so that unit
 * tests and fuzzers drive it directly: nms_input() takes one datagram and
 * its source, and emits replies through the send callback; nms_tick()
 * expires registrations and retransmits peer notifications.
 */
#ifndef CYPHONIC_NMS_H
#define CYPHONIC_NMS_H

#include <stdbool.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "nms_store.h"
#include "wire/proto.h"

struct nms_config {
	uint32_t lifetime_s;		/* registration lifetime */
	uint32_t keepalive_s;		/* advised keepalive interval */
	int64_t skew_ms;		/* allowed |now - timestamp| */
	uint32_t relay_ttl_s;		/* validity of relay bind secrets */
	uint32_t notify_rto_ms;		/* first PEER_NOTIFY retransmission */
	uint32_t notify_tries;		/* transmissions before giving up */
	uint32_t error_rate;		/* signed errors per second */
	struct proto_ep relay4, relay6;	/* TRS endpoints; family 0 = none */
	uint8_t relay_key[PROTO_KEY_LEN];	/* shared with the TRS */
	int64_t boot_ms;		/* refuse timestamps before (0: none) */
	/* per-node quotas (nms_quota.h); rate 0: unlimited */
	uint32_t route_rate, route_burst;	/* route requests per second */
	uint32_t relay_rate, relay_burst;	/* relay grants per second */
	uint32_t notify_per_node;	/* notification slots one node's requests hold */
	uint32_t register_rate, register_burst;	/* full REGISTERs per source address */
	uint32_t cookie_load;		/* full REGISTERs/s above which a cookie is needed (0: always) */
	uint32_t cookie_rate, cookie_burst;	/* COOKIE answers per source address (rate 0: unlimited) */
};

/*
 * Verifies a certificate at now (Unix seconds). Returns PROTO_E_OK and
 * fills *out, or PROTO_E_BAD_CERT / CERT_EXPIRED / REVOKED, with a reason
 * in err.
 */
typedef int (*nms_verify_fn)(void *arg, const uint8_t *der, size_t len,
			     int64_t now, struct nms_ident *out, char *err,
			     size_t errlen);
typedef void (*nms_send_fn)(void *arg, const struct proto_ep *to,
			    const uint8_t *pkt, size_t len);

/* Counters the daemon exports; indexed by op and result. */
struct nms_stats {
	uint64_t req[PROTO_OP_MAX + 1][PROTO_E_COUNT];
	uint64_t bad_header;		/* not even a parseable header */
	uint64_t registered, refreshed, expired, deregistered, revoked;
	uint64_t cert_cached;		/* full REGISTER, certificate known */
	uint64_t roamed;		/* observed endpoint changed */
	uint64_t routes[PROTO_MODE_RELAY + 1];
	uint64_t notify_sent, notify_retrans, notify_lost;
	uint64_t notify_untracked;	/* sent once: retransmit table full */
	uint64_t notify_adopted;	/* taken over from a gone replica */
	uint64_t errors_sent, errors_suppressed;
	uint64_t before_boot;		/* timestamped before the boot epoch */
	uint64_t addrs_dropped;		/* implausible reported addresses */
	uint64_t quota_route, quota_relay, quota_notify;	/* RATE_LIMITED by quota */
	uint64_t quota_source;		/* full REGISTERs over their source's budget */
	uint64_t cookies_sent;		/* COOKIE answers (full REGISTER under load) */
	uint64_t cookies_suppressed;	/* COOKIE answers over their source's budget */
	uint64_t cookie_refused;	/* full REGISTERs with a wrong or stale cookie */
	uint64_t rr_challenged;		/* messages from an unproven new address */
	uint64_t rr_moved;		/* observed endpoint moved after the echo */
	uint64_t policy_denied;		/* routes the access policy refused */
	uint64_t verify_queued;		/* full REGISTERs handed to worker threads */
	uint64_t verify_dropped;	/* full REGISTERs dropped: worker queue full */
};

struct nms;

/*
 * Full REGISTERs on worker threads (issue 12). The certificate chain, the
 * Ed25519 signature and the X25519 agreement are what a REGISTER from an
 * unauthenticated sender costs. With an offload function set, nms_input()
 * does only the cheap checks (framing, timestamp, cookie, per-source
 * budget) and hands the rest to offload() as a job; a worker runs
 * nms_job_work(); the engine's thread then passes the job back to
 * nms_job_done(), which finishes the registration against the state of
 * that moment (replay window, store, CRL generation). offload() returns
 * false when its bounded queue is full: the REGISTER is dropped and
 * counted (verify_dropped), as the kernel would drop it. Without an
 * offload function the work is done inline (unit tests, fuzzers).
 */
struct nms_job {
	/*
	 * Set by the engine. offload() may replace verify_arg (with a counted
	 * reference to a CA that a reload may replace meanwhile, say).
	 */
	nms_verify_fn verify;
	void *verify_arg;
	struct proto_ep from;
	int64_t now_ms;			/* arrival */
	uint32_t crl_gen;		/* the engine's at hand-off */
	bool cached;			/* certificate known: id set, chain not re-checked */
	struct nms_ident id;
	/* Set by nms_job_work(). */
	int rc;				/* PROTO_E_OK or why the REGISTER is refused */
	uint8_t eph_pub[32], shared[32], req_hash[32];
	size_t len;
	uint8_t pkt[];			/* the datagram */
};
typedef bool (*nms_offload_fn)(void *arg, struct nms_job *job);

/* nms_input()'s result for a REGISTER handed to offload(): not known yet. */
#define NMS_QUEUED (-2)

struct nms *nms_new(const struct nms_config *cfg, struct nms_store *store,
		    nms_verify_fn verify, void *verify_arg,
		    nms_send_fn send, void *send_arg);
void nms_free(struct nms *n);
/* NMS identity: signing key and (optional) certificate sent in ACKs. */
int nms_set_identity(struct nms *n, EVP_PKEY *key, const uint8_t *cert,
		     size_t cert_len);
void nms_set_config(struct nms *n, const struct nms_config *cfg);
void nms_set_offload(struct nms *n, nms_offload_fn fn, void *arg);
/* Any thread: reads the job and the verifier, nothing of the engine. */
void nms_job_work(struct nms_job *job);
/*
 * The engine's thread: finishes the job's registration (answers, counts
 * its result as nms_input() would) and frees the job. Returns the result.
 */
int nms_job_done(struct nms *n, struct nms_job *job, int64_t now_ms);
/* Frees a job that will never be done (its secrets wiped). */
void nms_job_free(struct nms_job *job);
/* Refuse new registrations (DRAINING); existing ones keep working. */
void nms_set_draining(struct nms *n, bool draining);

/*
 * Handles one datagram from `from`. now_ms is Unix epoch milliseconds.
 * Returns the result (PROTO_E_OK or the reason it was rejected), or
 * NMS_QUEUED for a full REGISTER handed to offload().
 */
int nms_input(struct nms *n, const uint8_t *pkt, size_t len,
	      const struct proto_ep *from, int64_t now_ms);
/*
 * Retransmissions (every call) and expiry (a table scan at most once a
 * second); call every few hundred milliseconds.
 */
void nms_tick(struct nms *n, int64_t now_ms);
/*
 * A receive batch (issue 11), for a shared store: nms_batch_begin()
 * reads the records of the nodes whose session messages pass the cheap
 * checks in one round trip, and defers the writes of the nms_input()
 * calls that follow until nms_batch_end(), which sends them in one go
 * and waits for them, so the batch's replies go out after the state
 * they report is in the store. Outside a batch every call writes
 * through. Without a shared store both do nothing.
 */
void nms_batch_begin(struct nms *n, const uint8_t *const *pkts, const size_t *lens,
		     size_t count, int64_t now_ms);
void nms_batch_end(struct nms *n);
/* Re-verifies every registration's certificate (after a CRL reload). */
void nms_recheck(struct nms *n, int64_t now_ms);

const struct nms_stats *nms_stats(const struct nms *n);
size_t nms_active(const struct nms *n);
size_t nms_pending_notifies(const struct nms *n);

/* ---- route direction (pure, nms_route.c) ---------------------------- */

struct nms_route {
	uint8_t mode;				/* enum proto_mode */
	uint8_t family;				/* 4 or 6: the path's family */
	struct proto_ep to_dst[PROTO_MAX_ADDRS];	/* where src sends */
	unsigned int n_to_dst;
	struct proto_ep to_src[PROTO_MAX_ADDRS];	/* where dst sends */
	unsigned int n_to_src;
};

/*
 * Decides how src reaches dst (both active). Returns PROTO_E_OK, or
 * PROTO_E_NO_RELAY when only a relay would do and none is configured.
 */
int nms_route_decide(const struct nms_reg *src, const struct nms_reg *dst,
		     uint32_t flags, bool have_relay, struct nms_route *out);
/* Families a registration can use (NMS_FAM*). */
uint8_t nms_reg_families(const struct nms_reg *r);

/* Reported addresses worth passing to peers (nms_addr.c). */
bool nms_addr_plausible(const struct proto_ep *e, const struct proto_ep *observed);
/* Copies the plausible, distinct ones of in[0..n) to out; returns how many. */
size_t nms_addrs_filter(const struct proto_ep *in, size_t n, const struct proto_ep *observed,
			struct proto_ep *out);

#endif
