/* SPDX-License-Identifier: MIT */
/*
 * AS request protocol codec (specified in docs/as.md).
 *
 * Over TLS 1.3, each message is a frame:
 *
 *	u32 length	bytes that follow (big endian), 8 .. max frame
 *	u8  version	CYPH_AS_VERSION
 *	u8  type	enum cyph_as_type
 *	u16 reserved	0 (ignored by receivers)
 *	u32 request id	echoed in the response
 *	TLV attributes	u16 type, u16 length, value (big endian numbers)
 *
 * Unknown attribute types are ignored (forward compatibility); a known
 * attribute with the wrong length, a duplicate, or a TLV running past the
 * frame makes the whole message malformed.
 */
#ifndef CYPHONIC_ASPROTO_H
#define CYPHONIC_ASPROTO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pki/pwhash.h"
#include "stores/store.h"

#define CYPH_AS_VERSION 1
#define CYPH_AS_HDR_LEN 12		/* with the length field */
#define CYPH_AS_MAX_REQUEST 16384	/* client -> server frame (whole) */
#define CYPH_AS_MAX_RESPONSE (1u << 20)	/* server -> client frame (whole) */
#define CYPH_AS_DEFAULT_PORT 7443

enum cyph_as_type {
	CYPH_AS_AUTH_REQ = 0x10,	/* node/adapter: name + password + key */
	CYPH_AS_AUTH_RESP = 0x11,	/* credential */
	CYPH_AS_GN_LIST_REQ = 0x20,	/* adapter: its general nodes */
	CYPH_AS_GN_LIST_RESP = 0x21,
	CYPH_AS_GN_AUTH_REQ = 0x30,	/* adapter: authenticate a general node */
	CYPH_AS_GN_AUTH_RESP = 0x31,	/* credential for the general node */
	CYPH_AS_ERROR = 0x7f,
};

enum cyph_as_attr {
	CYPH_AS_A_NAME = 1,		/* string, 1..63 */
	CYPH_AS_A_PASSWORD = 2,		/* string, 0..1024 */
	CYPH_AS_A_PUBKEY = 3,		/* 32 bytes, Ed25519 */
	CYPH_AS_A_NODE_ID = 4,		/* u64 */
	CYPH_AS_A_ROLE = 5,		/* u8, enum cyph_role */
	CYPH_AS_A_FQDN = 6,		/* string, 1..255 */
	CYPH_AS_A_VIP4 = 7,		/* 4 bytes */
	CYPH_AS_A_VIP6 = 8,		/* 16 bytes */
	CYPH_AS_A_CERT = 9,		/* DER X.509 */
	CYPH_AS_A_NOT_AFTER = 10,	/* u64, Unix seconds */
	CYPH_AS_A_MAC = 11,		/* 6 bytes */
	CYPH_AS_A_METHOD = 12,		/* u8, enum cyph_gn_method */
	CYPH_AS_A_IP_MODE = 13,		/* u8, enum cyph_ip_mode */
	CYPH_AS_A_USERNAME = 14,	/* string, 1..63 (basic) */
	CYPH_AS_A_EAP_RESULT = 15,	/* u8, 1 = EAP success (802.1X) */
	CYPH_AS_A_GNODE = 16,		/* nested: one general node */
	CYPH_AS_A_ERR_CODE = 17,	/* u16, enum cyph_as_err */
	CYPH_AS_A_ERR_MSG = 18,		/* string */
	CYPH_AS_A_CA_CERT = 19,		/* DER X.509 of the AS CA */
	CYPH_AS_A_VERSION = 20,		/* u8, highest version the server speaks */
	CYPH_AS_A_EAP_SECRET = 21,	/* 16 bytes: NT hash, 802.1X GNODE (pki/nthash.h) */
};

enum cyph_as_err {
	CYPH_AS_E_MALFORMED = 1,
	CYPH_AS_E_VERSION = 2,		/* carries CYPH_AS_A_VERSION */
	CYPH_AS_E_UNKNOWN_TYPE = 3,
	CYPH_AS_E_AUTH_FAILED = 4,	/* unknown name or wrong password: same code */
	CYPH_AS_E_REVOKED = 5,
	CYPH_AS_E_NOT_AUTHENTICATED = 6,
	CYPH_AS_E_FORBIDDEN = 7,	/* wrong role for the request */
	CYPH_AS_E_NOT_FOUND = 8,	/* general node unknown to this adapter */
	CYPH_AS_E_METHOD = 9,		/* admission method mismatch */
	CYPH_AS_E_INTERNAL = 10,
	CYPH_AS_E_DRAINING = 11,	/* server shutting down: retry elsewhere */
	CYPH_AS_E_TOO_LARGE = 12,
	CYPH_AS_E_RATE_LIMITED = 13,	/* too many failures or checks: retry later */
};

const char *cyph_as_err_name(uint16_t code);

/* ---- writer ---- */

struct cyph_as_buf {
	uint8_t *data;
	size_t len, cap, max;
	bool failed;		/* OOM or over max: the message is unusable */
};

void cyph_as_buf_init(struct cyph_as_buf *b, size_t max);
void cyph_as_buf_free(struct cyph_as_buf *b);
void cyph_as_begin(struct cyph_as_buf *b, uint8_t type, uint32_t req_id);
void cyph_as_put(struct cyph_as_buf *b, uint16_t attr, const void *v, size_t len);
void cyph_as_put_u8(struct cyph_as_buf *b, uint16_t attr, uint8_t v);
void cyph_as_put_u16(struct cyph_as_buf *b, uint16_t attr, uint16_t v);
void cyph_as_put_u64(struct cyph_as_buf *b, uint16_t attr, uint64_t v);
void cyph_as_put_str(struct cyph_as_buf *b, uint16_t attr, const char *s);
size_t cyph_as_nest_begin(struct cyph_as_buf *b, uint16_t attr);
void cyph_as_nest_end(struct cyph_as_buf *b, size_t off);
/* Fills in the length; 0, or -1 when the message failed. */
int cyph_as_finish(struct cyph_as_buf *b);

/* ---- reader ---- */

struct cyph_as_msg {
	uint8_t version, type;
	uint32_t req_id;
	const uint8_t *attrs;
	size_t attrs_len;
};

struct cyph_as_attr_v {
	uint16_t type, len;
	const uint8_t *v;
};

/*
 * frame is a whole frame (length field included), len its size. Returns
 * 0, or -1 when the header is malformed. The version is not checked here.
 */
int cyph_as_parse(const uint8_t *frame, size_t len, struct cyph_as_msg *m);
/* Returns 1 with the next attribute, 0 at the end, -1 when malformed. */
int cyph_as_next(const uint8_t **p, size_t *left, struct cyph_as_attr_v *a);

/* Length of the frame starting at buf if its header is there, else 0. */
size_t cyph_as_frame_len(const uint8_t *buf, size_t have);

/* ---- typed messages ---- */

struct cyph_as_auth_req {
	char name[CYPH_NAME_MAX];
	char password[CYPH_PW_MAX_LEN + 1];
	uint8_t pubkey[32];
};

struct cyph_as_gn_auth_req {
	uint8_t mac[6];
	uint8_t method;			/* what the adapter observed */
	char username[CYPH_NAME_MAX];	/* basic */
	char password[CYPH_PW_MAX_LEN + 1];
	bool has_username;
	uint8_t eap_result;		/* 802.1X: 1 = success */
	uint8_t pubkey[32];
};

/* A credential, as carried by AUTH_RESP and GN_AUTH_RESP. */
struct cyph_as_cred {
	uint64_t node_id;
	uint8_t role;
	char fqdn[256];
	struct in_addr vip4;
	struct in6_addr vip6;
	bool has_vip4, has_vip6;
	int64_t not_after;
	const uint8_t *cert;		/* points into the frame */
	size_t cert_len;
	const uint8_t *ca_cert;		/* may be NULL */
	size_t ca_cert_len;
};

struct cyph_as_error {
	uint16_t code;
	char msg[256];
	uint8_t version;		/* with CYPH_AS_E_VERSION */
};

/* Each returns 0, or -1 with a reason in why. */
int cyph_as_parse_auth_req(const struct cyph_as_msg *m, struct cyph_as_auth_req *r,
			   const char **why);
int cyph_as_parse_gn_auth_req(const struct cyph_as_msg *m, struct cyph_as_gn_auth_req *r,
			      const char **why);
int cyph_as_parse_cred(const struct cyph_as_msg *m, struct cyph_as_cred *c, const char **why);
int cyph_as_parse_error(const struct cyph_as_msg *m, struct cyph_as_error *e, const char **why);
/* Calls cb for every general node of a GN_LIST_RESP. */
int cyph_as_parse_gn_list(const struct cyph_as_msg *m,
			  int (*cb)(const struct cyph_principal *g, void *arg), void *arg,
			  const char **why);

void cyph_as_put_cred(struct cyph_as_buf *b, const struct cyph_as_cred *c);
void cyph_as_put_gnode(struct cyph_as_buf *b, const struct cyph_principal *g);

#endif
