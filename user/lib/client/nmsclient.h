/* SPDX-License-Identifier: MIT */
/*
 * Node side of the NMS protocol (docs/protocol.md): builds, signs and
 * MACs requests and authenticates and decodes replies. No I/O: the caller
 * owns the socket (in cyphonicd it is the node's one UDP port), sends what
 * nmsc_*() builds and feeds every SIGNAL datagram to nmsc_input().
 */
#ifndef CYPHONIC_NMSCLIENT_H
#define CYPHONIC_NMSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "wire/proto.h"
#include "wire/proto_crypto.h"

struct cyph_ca;

struct nmsc {
	uint64_t node_id;
	EVP_PKEY *key;			/* node Ed25519 key (not owned) */
	const uint8_t *cert;		/* node certificate, DER (not owned) */
	size_t cert_len;
	uint64_t seq;			/* last sequence number used */

	/* how the NMS is authenticated: a pinned key, or CA + name */
	uint8_t nms_pub[32];
	bool nms_pinned;		/* nms_pub configured */
	bool nms_known;			/* nms_pub learnt from a verified cert */
	struct cyph_ca *ca;
	char nms_name[256];

	/* reported location */
	struct proto_ep addrs[PROTO_MAX_ADDRS];
	unsigned int n_addrs;
	uint8_t nat;

	/* session */
	bool registered;
	struct proto_keys keys;
	struct proto_replay rx;
	uint8_t eph_priv[32];
	uint8_t reg_hash[32];		/* SHA-256 of the pending REGISTER */
	uint64_t reg_seq;		/* seq of the pending full REGISTER */
	struct proto_ep observed;
	uint32_t lifetime_s, keepalive_s;

	/* proofs of address the NMS asked for (docs/protocol.md 5.8) */
	/* echoed in full REGISTERs; kept (valid for minutes, this address only) */
	uint8_t cookie[PROTO_COOKIE_LEN];
	bool has_cookie;
	uint8_t challenge[PROTO_CHALLENGE_LEN];	/* echoed once in the next MACed request */
	bool has_challenge;
};

enum nmsc_event_type {
	NMSC_EV_REGISTERED = 1,		/* session established/refreshed */
	NMSC_EV_KEEPALIVE,
	NMSC_EV_ROUTE,			/* answer to our ROUTE_REQ */
	NMSC_EV_NOTIFY,			/* a peer routes to us: ack it */
	NMSC_EV_ERROR,
	NMSC_EV_COOKIE,			/* NMS under load: send the REGISTER again now */
};

struct nmsc_event {
	enum nmsc_event_type type;
	uint64_t echo_seq;		/* request answered (not NOTIFY) */
	uint16_t error;			/* PROTO_E_* for NMSC_EV_ERROR */
	/*
	 * The NMS saw us at a new address and will move our endpoint there
	 * only when a request from it echoes the challenge: send one (a
	 * KEEPALIVE) now, the builders add the echo.
	 */
	bool challenged;
	/* ROUTE / NOTIFY: the decoded message, secrets already unsealed */
	struct proto_msg msg;
};

void nmsc_init(struct nmsc *c, uint64_t node_id, EVP_PKEY *key,
	       const uint8_t *cert, size_t cert_len, int64_t now_ms);
void nmsc_trust_key(struct nmsc *c, const uint8_t pub[32]);
void nmsc_trust_ca(struct nmsc *c, struct cyph_ca *ca, const char *nms_fqdn);
/* Addresses reported in REGISTER (at most PROTO_MAX_ADDRS). */
void nmsc_set_location(struct nmsc *c, const struct proto_ep *addrs,
		       unsigned int n, uint8_t nat);
/* Forgets the session (next REGISTER is a full one). */
void nmsc_reset(struct nmsc *c);

/*
 * Each builder writes one datagram into out and returns its length (0 if
 * it does not fit or a session is needed and missing). *seq, when not
 * NULL, receives the request's sequence number to match the answer.
 */
size_t nmsc_register(struct nmsc *c, uint8_t *out, size_t cap,
		     int64_t now_ms, uint64_t *seq);
size_t nmsc_keepalive(struct nmsc *c, uint8_t *out, size_t cap,
		      int64_t now_ms, uint64_t *seq);
/* Exactly one of fqdn, vip4, vip6 non-NULL. */
size_t nmsc_route(struct nmsc *c, uint8_t *out, size_t cap, int64_t now_ms,
		  const char *fqdn, const struct in_addr *vip4,
		  const struct in6_addr *vip6, uint32_t flags, uint64_t *seq);
size_t nmsc_notify_ack(struct nmsc *c, uint8_t *out, size_t cap,
		       int64_t now_ms, uint64_t notify_id);
size_t nmsc_deregister(struct nmsc *c, uint8_t *out, size_t cap,
		       int64_t now_ms);

/*
 * Authenticates and decodes one SIGNAL datagram. Returns 0 and fills *ev,
 * or a PROTO_E_* code (the datagram must then be ignored).
 */
int nmsc_input(struct nmsc *c, const uint8_t *pkt, size_t len,
	       int64_t now_ms, int64_t skew_ms, struct nmsc_event *ev);

#endif
