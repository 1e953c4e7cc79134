/* SPDX-License-Identifier: MIT */
/*
 * The CYPHONIC signaling protocol: wire constants, the error-code table and
 * the TLV codec shared by the NMS, the TRS and their clients.
 *
 * docs/protocol.md is the specification; this header is its C mirror. All
 * integers on the wire are big-endian. Two packet kinds are defined here:
 *
 *   SIGNAL (node <-> NMS): a 32-byte header, a TLV body, an auth trailer
 *   (Ed25519 signature or HMAC-SHA256 under the registration's session key).
 *
 *   RELAY_CTRL (node <-> TRS): one fixed 80-byte layout, MACed with the
 *   per-end bind secret derived from the NMS-TRS relay key.
 */
#ifndef CYPHONIC_PROTO_H
#define CYPHONIC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define PROTO_VERSION 1

/* ---- SIGNAL header ------------------------------------------------------ */

#define PROTO_SIG_HDR_LEN 32
#define PROTO_SIG_LEN 64		/* Ed25519 signature */
#define PROTO_MAC_LEN 32		/* HMAC-SHA256 */
#define PROTO_MAX_BODY 2048
#define PROTO_MAX_PACKET (PROTO_SIG_HDR_LEN + PROTO_MAX_BODY + PROTO_SIG_LEN)

enum proto_op {
	PROTO_OP_REGISTER = 1,		/* node -> NMS */
	PROTO_OP_REGISTER_ACK = 2,	/* NMS -> node */
	PROTO_OP_KEEPALIVE = 3,		/* node -> NMS */
	PROTO_OP_KEEPALIVE_ACK = 4,	/* NMS -> node */
	PROTO_OP_ROUTE_REQ = 5,		/* node -> NMS */
	PROTO_OP_ROUTE_RESP = 6,	/* NMS -> node */
	PROTO_OP_PEER_NOTIFY = 7,	/* NMS -> node (the route's target) */
	PROTO_OP_NOTIFY_ACK = 8,	/* node -> NMS */
	PROTO_OP_DEREGISTER = 9,	/* node -> NMS */
	PROTO_OP_ERROR = 10,		/* NMS -> node */
	PROTO_OP_COOKIE = 11,		/* NMS -> node: echo this cookie (under load) */
	PROTO_OP_MAPPING = 12,		/* node -> NMS mapping port: which endpoint do you see? */
	PROTO_OP_MAPPING_ACK = 13,	/* NMS -> node: this one (OBSERVED) */
	PROTO_OP_MAX = PROTO_OP_MAPPING_ACK
};

enum proto_auth {
	PROTO_AUTH_SIG = 1,	/* Ed25519 over header+body, 64 bytes */
	PROTO_AUTH_MAC = 2,	/* HMAC-SHA256 session key, 32 bytes */
	PROTO_AUTH_NONE = 3,	/* no tag: only COOKIE and MAPPING(_ACK), which grant nothing */
};

/* Decoded SIGNAL header (host order). */
struct proto_hdr {
	uint8_t op;
	uint8_t auth;
	uint16_t body_len;
	uint64_t node_id;	/* sender (node->NMS) or recipient (NMS->node) */
	uint64_t seq;		/* per-sender, strictly increasing */
	int64_t ts_ms;		/* sender's clock, Unix epoch milliseconds */
};

/* ---- TLVs ---------------------------------------------------------------- */

/* A TLV type with this bit set must be understood by the receiver. */
#define PROTO_TLV_CRITICAL 0x8000

enum proto_tlv {
	PROTO_T_CERT = 1,		/* DER X.509 (node or NMS) */
	PROTO_T_EPHEMERAL = 2,		/* X25519 public key, 32 */
	PROTO_T_ADDR = 3,		/* endpoint the node reports, repeated */
	PROTO_T_NAT = 4,		/* u8 enum proto_nat */
	PROTO_T_OBSERVED = 5,		/* endpoint the NMS saw */
	PROTO_T_LIFETIME = 6,		/* u32 seconds */
	PROTO_T_KEEPALIVE = 7,		/* u32 seconds */
	PROTO_T_ECHO_SEQ = 8,		/* u64: seq of the request answered */
	PROTO_T_REQ_HASH = 9,		/* SHA-256 of the REGISTER answered */
	PROTO_T_TARGET_FQDN = 10,	/* string */
	PROTO_T_TARGET_VIP4 = 11,	/* 4 bytes */
	PROTO_T_TARGET_VIP6 = 12,	/* 16 bytes */
	PROTO_T_ROUTE_FLAGS = 13,	/* u32 PROTO_RF_* */
	PROTO_T_MODE = 14,		/* u8 enum proto_mode */
	PROTO_T_PEER_ID = 15,		/* u64 */
	PROTO_T_PEER_FQDN = 16,		/* string */
	PROTO_T_PEER_VIP4 = 17,		/* 4 */
	PROTO_T_PEER_VIP6 = 18,		/* 16 */
	PROTO_T_PEER_ENDPOINT = 19,	/* endpoint, repeated, best first */
	PROTO_T_PEER_PUBKEY = 20,	/* Ed25519 key of the peer, 32 */
	PROTO_T_RELAY_ENDPOINT = 21,	/* endpoint of the TRS */
	PROTO_T_RELAY_SESSION = 22,	/* u32 */
	PROTO_T_RELAY_END = 23,		/* u8 0 or 1 */
	PROTO_T_RELAY_EXPIRY = 24,	/* u64 Unix seconds */
	PROTO_T_RELAY_SECRET = 25,	/* 32, encrypted bind secret */
	PROTO_T_PUNCH_ID = 26,		/* u64 */
	PROTO_T_PUNCH_SECRET = 27,	/* 32, encrypted probe key */
	PROTO_T_ERROR_CODE = 28,	/* u16 enum proto_err */
	PROTO_T_ERROR_TEXT = 29,	/* string, diagnostic only */
	PROTO_T_NOTIFY_ID = 30,		/* u64, PEER_NOTIFY id to acknowledge */
	PROTO_T_ROLE = 31,		/* u8, role from the certificate */
	PROTO_T_COOKIE = 32,		/* 16: address-bound cookie (COOKIE, REGISTER) */
	PROTO_T_CHALLENGE = 33,		/* 16: return-routability challenge / echo */
	PROTO_T_MAX = PROTO_T_CHALLENGE
};

#define PROTO_MAX_ADDRS 8	/* ADDR / PEER_ENDPOINT repetitions */
#define PROTO_MAX_CERT 4096
#define PROTO_MAX_FQDN 253
#define PROTO_MAX_TEXT 200
#define PROTO_COOKIE_LEN 16
#define PROTO_CHALLENGE_LEN 16

enum proto_nat {
	PROTO_NAT_UNKNOWN = 0,
	PROTO_NAT_NONE = 1,		/* public address, no translation */
	PROTO_NAT_CONE = 2,		/* endpoint-independent mapping */
	PROTO_NAT_SYMMETRIC = 3,	/* endpoint-dependent: no punching */
};

enum proto_mode {
	PROTO_MODE_DIRECT = 1,
	PROTO_MODE_PUNCH = 2,
	PROTO_MODE_RELAY = 3,
};

#define PROTO_RF_PUNCH_FAILED 0x1	/* a punch for this pair failed */
#define PROTO_RF_FORCE_RELAY 0x2	/* the source wants a relay */
#define PROTO_RF_ALL (PROTO_RF_PUNCH_FAILED | PROTO_RF_FORCE_RELAY)

/* ---- error codes (one table for NMS and TRS) --------------------------- */

#define PROTO_ERRORS(X)							\
	X(OK,			0,  "ok")					\
	X(MALFORMED,		1,  "malformed message")			\
	X(VERSION,		2,  "unsupported protocol version")		\
	X(BAD_OP,		3,  "unknown or misdirected operation")	\
	X(BAD_CERT,		4,  "certificate invalid or untrusted")	\
	X(CERT_EXPIRED,		5,  "certificate expired")			\
	X(REVOKED,		6,  "certificate revoked")			\
	X(BAD_SIGNATURE,	7,  "signature or MAC invalid")		\
	X(STALE,		8,  "timestamp outside the allowed window")	\
	X(REPLAY,		9,  "sequence number replayed")		\
	X(NOT_REGISTERED,	10, "no registration for this node")		\
	X(NOT_FOUND,		11, "target not registered")			\
	X(NO_RELAY,		12, "no relay available")			\
	X(DRAINING,		13, "service draining, retry elsewhere")	\
	X(RATE_LIMITED,		14, "rate limited")				\
	X(TOKEN_EXPIRED,	15, "relay bind token expired")		\
	X(NO_SESSION,		16, "relay session unknown")			\
	X(CONFLICT,		17, "relay session id in use")		\
	X(ID_MISMATCH,		18, "node id does not match certificate")	\
	X(INTERNAL,		19, "internal error")				\
	X(FULL,			20, "table full")					\
	X(CHALLENGE,		21, "address not proven yet: echo the challenge")

enum proto_err {
#define PROTO_ERR_ENUM(name, val, text) PROTO_E_##name = val,
	PROTO_ERRORS(PROTO_ERR_ENUM)
#undef PROTO_ERR_ENUM
	PROTO_E_COUNT
};

/* "malformed message"; "unknown error" for codes outside the table. */
const char *proto_err_text(unsigned int code);
/* "malformed" (lower case, for metric labels and logs). */
const char *proto_err_name(unsigned int code);
const char *proto_op_name(unsigned int op);

/* ---- endpoints on the wire ----------------------------------------------- */

/* family(1: 4 or 6) reserved(1) port(2) addr(4|16) = 8 or 20 bytes. */
#define PROTO_EP4_LEN 8
#define PROTO_EP6_LEN 20

struct proto_ep {
	uint8_t family;		/* 4 or 6; 0 = unset */
	uint16_t port;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

int proto_ep_from_sa(struct proto_ep *ep, const struct sockaddr *sa);
socklen_t proto_ep_to_sa(const struct proto_ep *ep,
			 struct sockaddr_storage *ss);
bool proto_ep_equal(const struct proto_ep *a, const struct proto_ep *b);
/* "1.2.3.4:5" or "[::1]:5" */
void proto_ep_format(const struct proto_ep *ep, char *buf, size_t len);

/* ---- low-level codec ------------------------------------------------------ */

struct proto_buf {
	uint8_t *p;
	size_t len;	/* bytes written */
	size_t cap;
	bool overflow;	/* a write did not fit; the buffer is invalid */
};

void proto_put_u8(struct proto_buf *b, uint8_t v);
void proto_put_u16(struct proto_buf *b, uint16_t v);
void proto_put_u32(struct proto_buf *b, uint32_t v);
void proto_put_u64(struct proto_buf *b, uint64_t v);
void proto_put_bytes(struct proto_buf *b, const void *p, size_t n);

void proto_tlv_bytes(struct proto_buf *b, uint16_t t, const void *p, size_t n);
void proto_tlv_u8(struct proto_buf *b, uint16_t t, uint8_t v);
void proto_tlv_u16(struct proto_buf *b, uint16_t t, uint16_t v);
void proto_tlv_u32(struct proto_buf *b, uint16_t t, uint32_t v);
void proto_tlv_u64(struct proto_buf *b, uint16_t t, uint64_t v);
void proto_tlv_str(struct proto_buf *b, uint16_t t, const char *s);
void proto_tlv_ep(struct proto_buf *b, uint16_t t, const struct proto_ep *ep);

uint16_t proto_get_u16(const uint8_t *p);
uint32_t proto_get_u32(const uint8_t *p);
uint64_t proto_get_u64(const uint8_t *p);

/* Header encode/decode; decode checks type, version, lengths, auth kind. */
void proto_hdr_put(struct proto_buf *b, const struct proto_hdr *h);
/*
 * Validates the framing of one SIGNAL datagram: returns 0 and fills *h, or
 * a PROTO_E_* code (MALFORMED, VERSION, BAD_OP). *body points into pkt;
 * *signed_len is the number of bytes the signature or MAC covers.
 */
int proto_hdr_parse(const uint8_t *pkt, size_t len, struct proto_hdr *h,
		    const uint8_t **body, size_t *signed_len);

/* ---- decoded SIGNAL message ---------------------------------------------- */

struct proto_msg {
	struct proto_hdr hdr;
	uint64_t present;	/* bit (1 << tlv type) per TLV seen */

	const uint8_t *cert;	/* points into the packet */
	size_t cert_len;
	uint8_t ephemeral[32];
	struct proto_ep addrs[PROTO_MAX_ADDRS];
	unsigned int n_addrs;
	uint8_t nat;
	struct proto_ep observed;
	uint32_t lifetime_s, keepalive_s;
	uint64_t echo_seq;
	uint8_t req_hash[32];
	char target_fqdn[PROTO_MAX_FQDN + 1];
	struct in_addr target_vip4;
	struct in6_addr target_vip6;
	uint32_t route_flags;
	uint8_t mode;
	uint64_t peer_id;
	char peer_fqdn[PROTO_MAX_FQDN + 1];
	struct in_addr peer_vip4;
	struct in6_addr peer_vip6;
	struct proto_ep peer_eps[PROTO_MAX_ADDRS];
	unsigned int n_peer_eps;
	uint8_t peer_pubkey[32];
	struct proto_ep relay_ep;
	uint32_t relay_session;
	uint8_t relay_end;
	uint64_t relay_expiry;
	uint8_t relay_secret[32];
	uint64_t punch_id;
	uint8_t punch_secret[32];
	uint16_t error_code;
	char error_text[PROTO_MAX_TEXT + 1];
	uint64_t notify_id;
	uint8_t role;
	uint8_t cookie[PROTO_COOKIE_LEN];
	uint8_t challenge[PROTO_CHALLENGE_LEN];

	const uint8_t *auth_tag;	/* signature or MAC, in the packet */
	size_t signed_len;		/* bytes covered by auth_tag */
};

#define PROTO_HAS(m, t) (((m)->present >> (t)) & 1)

/*
 * Parses a whole SIGNAL datagram (framing, every TLV, per-op required
 * TLVs). Does not check the signature/MAC. Returns 0 or a PROTO_E_* code.
 * *m points into pkt (cert, auth_tag): keep pkt alive while using it.
 */
int proto_msg_parse(const uint8_t *pkt, size_t len, struct proto_msg *m);

/* Starts a message: writes the header with body_len 0 (fixed by _finish). */
void proto_msg_begin(struct proto_buf *b, uint8_t *mem, size_t cap,
		     const struct proto_hdr *h);
/* Patches body_len; returns the signed length, or 0 on overflow. */
size_t proto_msg_finish(struct proto_buf *b);

/* ---- RELAY_CTRL (node <-> TRS) ------------------------------------------ */

#define PROTO_RC_LEN 80
#define PROTO_RC_SIGNED_LEN 48

enum proto_rc_op {
	PROTO_RC_BIND = 1,	/* node -> TRS: bind or refresh one end */
	PROTO_RC_BIND_ACK = 2,	/* TRS -> node */
	PROTO_RC_ERROR = 3,	/* TRS -> node */
	PROTO_RC_CLOSE = 4,	/* node -> TRS: unbind this end */
};

struct proto_rc {
	uint8_t op;
	uint8_t end;		/* 0 = the route's source, 1 = its target */
	uint32_t session;
	uint64_t node_id;
	uint64_t expiry;	/* Unix seconds, from the NMS */
	uint64_t seq;		/* per end, strictly increasing */
	int64_t ts_ms;
	uint16_t code;		/* PROTO_E_* in ERROR */
	uint32_t idle_s;	/* in BIND_ACK: idle timeout */
	/*
	 * 48 bits at offset 42 in BIND and ERROR: the return-routability
	 * challenge the TRS sends (ERROR CHALLENGE) and the BIND echoes.
	 */
	uint64_t proof;
	uint8_t mac[PROTO_MAC_LEN];
};

#define PROTO_RC_PROOF_MASK 0xffffffffffffULL

void proto_rc_encode(const struct proto_rc *rc, uint8_t out[PROTO_RC_LEN]);
/* 0 or PROTO_E_MALFORMED / PROTO_E_VERSION / PROTO_E_BAD_OP. */
int proto_rc_parse(const uint8_t *pkt, size_t len, struct proto_rc *rc);

/* RELAY data: returns the session id and the inner packet, or -1. */
int proto_relay_parse(const uint8_t *pkt, size_t len, uint32_t *session,
		      const uint8_t **inner, size_t *inner_len);

/* ---- replay window ------------------------------------------------------- */

/*
 * Accepts a sequence number greater than any seen, or one of the 64 below
 * the highest that has not been seen (UDP may reorder a node's messages).
 * Returns false for a replay or a number too old; updates the window only
 * when commit is true (call with false before authentication succeeds).
 */
struct proto_replay {
	uint64_t max;
	uint64_t bitmap;	/* bit i = max - i seen */
};
bool proto_replay_check(struct proto_replay *w, uint64_t seq, bool commit);

/*
 * True when the timestamp ts_ms is within skew_ms of now_ms. Written so
 * that a hostile 64-bit timestamp cannot overflow the arithmetic.
 */
static inline bool proto_ts_fresh(int64_t ts_ms, int64_t now_ms, int64_t skew_ms)
{
	return ts_ms >= now_ms - skew_ms && ts_ms <= now_ms + skew_ms;
}

/* ---- HANDSHAKE framing (end to end) ------------------------------------- */

#define PROTO_HS_HDR_LEN 12
enum proto_hs_kind {
	PROTO_HS_DTLS = 1,	/* DTLS 1.2/1.3 records follow */
	PROTO_HS_PROBE = 2,	/* hole-punch probe */
	PROTO_HS_PROBE_REPLY = 3,
};
#define PROTO_PROBE_LEN (PROTO_HS_HDR_LEN + 8 + 8 + 32)	/* 60 */

#endif
