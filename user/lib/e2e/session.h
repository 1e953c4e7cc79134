/* SPDX-License-Identifier: MIT */
/*
 * End-to-end key agreement between two nodes (docs/protocol.md section 8):
 * DTLS 1.2 (OpenSSL), ECDHE only, both sides authenticated by their
 * AS-issued node certificates (chain to the AS CA, validity, CRL, and the
 * identity the caller expects; the DTLS signatures are made with an ECDSA
 * handshake key the node key certifies, see hskey.c), extended master
 * secret required, and the tunnel keys exported with RFC 5705:
 *
 *	label   "EXPORTER-cyphonic-tunnel-keys"
 *	context initiator index (u32 BE) | responder index (u32 BE)
 *	length  64: bytes 0..31 the initiator->responder key,
 *		    bytes 32..63 the responder->initiator key
 *
 * Only the two ends hold the ECDHE secrets, so neither the NMS (which
 * directs the route) nor the TRS (which relays the datagrams) can derive
 * the keys. A rekey is a new handshake (new ECDHE: forward secrecy per
 * key) over the same tunnel indices.
 *
 * No sockets and no threads: a context and its sessions belong to one
 * thread (the daemon's event loop). The caller
 *   - starts a handshake with e2e_connect() (initiator), or hands a
 *     datagram nobody claims to e2e_accept() (responder: cheap checks,
 *     per-source budget, stateless cookie when under load, then a session);
 *   - feeds every later datagram of a session to e2e_session_input();
 *   - sends what e2e_session_output() / the accept reply gives it;
 *   - calls e2e_session_timer() when e2e_session_next_timer() says so;
 *   - installs e2e_session_keys() once the state is E2E_ST_DONE, and
 *     keeps the session (it answers a retransmitted last flight) until
 *     the state is E2E_ST_CLOSED. A DONE session that gets a fatal alert
 *     from its peer (the peer did not finish) turns E2E_ST_FAILED with
 *     E2E_FAIL_PEER_ALERT: remove its keys again.
 *
 * Which session a datagram belongs to (the daemon's dispatch):
 *   receiver index != 0 and a session with that local index in
 *   handshake -> that session; receiver index == 0 and a responder
 *   session with that source and peer index in handshake -> that
 *   session; a ClientHello (e2e_is_client_hello) otherwise ->
 *   e2e_accept() (receiver index 0: a new tunnel; the tunnel's own index:
 *   a rekey, which replaces a finished session of that index); else
 *   drop. E2E_ST_DONE sessions get the datagrams of their indices that
 *   are not a ClientHello.
 */
#ifndef CYPHONIC_E2E_SESSION_H
#define CYPHONIC_E2E_SESSION_H

#include "result.h"
#include "pki/cred.h"

#include "linux/cyphonic.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E2E_EXPORTER_LABEL "EXPORTER-cyphonic-tunnel-keys"

struct e2e_config {
	unsigned int rto_initial_ms;	/* first DTLS retransmission (400) */
	unsigned int rto_max_ms;	/* retransmission interval cap (3200) */
	unsigned int handshake_timeout_ms; /* whole handshake (10000) */
	unsigned int linger_ms;		/* a finished session stays to answer (10000) */
	unsigned int max_half_open;	/* responder handshakes in progress (256) */
	unsigned int cookie_threshold;	/* half-open count from which cookies are required;
					   0 = always (16) */
	unsigned int cookie_rotate_ms;	/* cookie secret lifetime (30000) */
	unsigned int budget_slots;	/* sources tracked (4096) */
	unsigned int budget_burst;	/* handshake-start datagrams per source (8) */
	unsigned int budget_per_sec;	/* refill per source (2) */
	/*
	 * Under load, the key a source's budget is counted under, written to
	 * key (at most cap bytes), its length returned; NULL: the source
	 * itself. A caller whose sources are socket addresses counts a host,
	 * not each of its ports (or IPv6 addresses), under one budget this way;
	 * the cookie still binds the whole source. Not under load, every
	 * source has its own budget.
	 */
	size_t (*budget_key)(const void *src, size_t srclen, void *key, size_t cap);
};

void e2e_config_defaults(struct e2e_config *c);

/*
 * The identity the peer must prove (what the NMS directed to). Empty
 * fields are not checked; id 0 is not checked; the FQDN compares without
 * regard to case. An initiator must expect at least an FQDN or a VIP.
 */
struct e2e_expect {
	uint64_t id;
	char fqdn[256];
	struct in_addr vip4;
	struct in6_addr vip6;
	bool has_vip4, has_vip6;
};

struct e2e_keys {
	uint8_t tx[CYPHONIC_KEY_LEN];	/* ours -> peer */
	uint8_t rx[CYPHONIC_KEY_LEN];	/* peer -> ours */
	uint32_t local_index, peer_index;
};

enum e2e_state {
	E2E_ST_HANDSHAKE,
	E2E_ST_DONE,		/* keys available; lingering for retransmissions */
	E2E_ST_FAILED,		/* e2e_session_result() says why */
	E2E_ST_CLOSED,		/* done and lingered: free it */
};

struct e2e_stats {
	uint64_t results[E2E_RESULT_COUNT];	/* handshake outcomes and accept drops */
	uint64_t sessions;		/* sessions created (state kept) */
	uint64_t signatures;		/* private-key signatures made (ServerKeyExchange,
					   CertificateVerify), once per session */
	unsigned int half_open;		/* responder sessions in handshake now */
};

struct e2e_ctx;
struct e2e_session;

/*
 * A context for this node: its Ed25519 key and certificate (DER), and the
 * CA (with the CRL the AS publishes, kept fresh by the caller with
 * cyph_ca_crl_refresh()). key and ca must outlive the context; the
 * context takes its own reference to key. cfg NULL = defaults.
 */
struct e2e_ctx *e2e_ctx_new(const struct e2e_config *cfg, struct cyph_ca *ca, EVP_PKEY *key,
			    const uint8_t *cert_der, size_t cert_len, int64_t now_ms,
			    char *err, size_t errlen);
void e2e_ctx_free(struct e2e_ctx *ctx);
/* A renewed credential, for handshakes started from now on. 0 or -1. */
/*
 * The round trip the caller measured towards its peers (the node: to its
 * NMS), 0: unknown. New handshake flights wait at least three of them
 * before their first retransmission.
 */
void e2e_ctx_set_rtt(struct e2e_ctx *ctx, unsigned int rtt_ms);
int e2e_ctx_set_credential(struct e2e_ctx *ctx, EVP_PKEY *key, const uint8_t *cert_der,
			   size_t cert_len, char *err, size_t errlen);
/* Require cookies from every new initiator (e.g. when the daemon is busy). */
void e2e_ctx_set_under_load(struct e2e_ctx *ctx, bool on);
const struct e2e_stats *e2e_ctx_stats(const struct e2e_ctx *ctx);

/*
 * Initiator: starts a handshake from tunnel index local_index (non-zero)
 * to the node expected; peer_index is the peer's index when rekeying a
 * tunnel, else 0 (learnt from its first answer). The ClientHello is
 * ready in e2e_session_output(). NULL with *why on failure.
 */
struct e2e_session *e2e_connect(struct e2e_ctx *ctx, uint32_t local_index, uint32_t peer_index,
				const struct e2e_expect *expect, int64_t now_ms,
				enum e2e_result *why);

/*
 * Responder: a datagram no session claims, from src (an opaque source
 * identifier, at most E2E_SRC_MAX bytes: the sockaddr, or the relay and
 * its session). In order: header and ClientHello checks, the source's
 * budget, the half-open limit; when under load (half-open sessions >=
 * cookie_threshold, or e2e_ctx_set_under_load) the ClientHello must carry
 * a valid cookie, else a HelloVerifyRequest goes into reply (at least
 * E2E_DGRAM_MAX bytes; *reply_len set) and nothing is kept. Only then a
 * session with tunnel index local_index is made (*out) and the
 * ClientHello processed. expect may be NULL (any valid node credential:
 * a DIRECT route tells the target nothing in advance); check
 * e2e_session_peer() before installing keys then.
 * Returns E2E_PENDING (session made), E2E_COOKIE_SENT, an E2E_DROP_*
 * (nothing kept), or an E2E_FAIL_* when OpenSSL refused the ClientHello
 * at once (*out is set: send its output, the alert, and free it).
 */
enum e2e_result e2e_accept(struct e2e_ctx *ctx, const uint8_t *dgram, size_t len,
			   const void *src, size_t srclen, uint32_t local_index,
			   const struct e2e_expect *expect, int64_t now_ms,
			   struct e2e_session **out, uint8_t *reply, size_t *reply_len);

/*
 * A datagram for this session. Returns E2E_DROP_MALFORMED when it was
 * dropped (wrong header or indices), else the session's result after it
 * (E2E_PENDING, E2E_OK or an E2E_FAIL_*).
 */
enum e2e_result e2e_session_input(struct e2e_session *s, const uint8_t *dgram, size_t len,
				  int64_t now_ms);
/* Milliseconds until e2e_session_timer() is due (0 = now), -1 = no timer. */
int64_t e2e_session_next_timer(const struct e2e_session *s, int64_t now_ms);
/* Retransmits, times out, or ends the linger. Returns the session's result. */
enum e2e_result e2e_session_timer(struct e2e_session *s, int64_t now_ms);
/* Pops one datagram to send (to the peer, directly or via the relay). 0 = none. */
size_t e2e_session_output(struct e2e_session *s, uint8_t *buf, size_t cap);

enum e2e_state e2e_session_state(const struct e2e_session *s);
enum e2e_result e2e_session_result(const struct e2e_session *s);
/*
 * 0 with the keys once E2E_ST_DONE (or early, below), else -1. The keys of
 * an early session and of the same session once DONE are the same.
 */
int e2e_session_keys(const struct e2e_session *s, struct e2e_keys *out);
/*
 * An initiator still in E2E_ST_HANDSHAKE whose keys are available (False
 * Start, RFC 7918): its last flight is written, the responder's Finished
 * not yet checked. Sending under them right behind that flight saves a
 * round trip; a later E2E_ST_FAILED means they must be taken back.
 */
bool e2e_session_early(const struct e2e_session *s);
/*
 * An initiator that started without the responder's index (0) learnt it
 * elsewhere (an authentic relay probe): from now on only datagrams from
 * that index are taken, and its own carry it as receiver. No-op once the
 * index is known.
 */
void e2e_session_set_peer_index(struct e2e_session *s, uint32_t peer_index);
/* The peer's verified identity, or NULL before its certificate verified. */
const struct cyph_node_id *e2e_session_peer(const struct e2e_session *s);
bool e2e_session_is_initiator(const struct e2e_session *s);
uint32_t e2e_session_local_index(const struct e2e_session *s);
uint32_t e2e_session_peer_index(const struct e2e_session *s);
/* Frees the session (keys wiped). NULL is fine. */
void e2e_session_free(struct e2e_session *s);

#endif
