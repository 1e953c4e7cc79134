/* SPDX-License-Identifier: MIT */
/*
 * Command-line argument parsing for cyphctl: "keyword value" lists checked
 * against a per-command table, and the value types they use. Pure (no
 * netlink), so it is unit-tested on its own. Errors are printed as
 *
 *	cyphctl: tunnel add: invalid value "10.0.0.300" for local4
 */
#ifndef CYPHCTL_PARSE_H
#define CYPHCTL_PARSE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/cyphonic.h>

enum kw_type {
	KW_U32,		/* uint32_t, decimal */
	KW_INDEX,	/* uint32_t, decimal, non-zero */
	KW_PORT,	/* uint16_t, 0..65535 */
	KW_IP4,		/* struct in_addr */
	KW_IP6,		/* struct in6_addr */
	KW_ENDPOINT,	/* struct kw_endpoint */
	KW_RELAY,	/* uint32_t, or "none" = 0 */
	KW_CIPHER,	/* uint8_t, enum cyphonic_cipher */
	KW_SLOT,	/* uint8_t, enum cyphonic_key_slot */
	KW_DETACH,	/* uint8_t, CYPHONIC_DETACH_F_*: "4", "6" or "all" */
	KW_KEY_ID,	/* uint8_t, 0..CYPHONIC_DATA_F_KEY_ID_MASK */
	KW_KEY_HEX,	/* uint8_t[CYPHONIC_KEY_LEN]; argv copy is wiped */
	KW_KEY_FILE,	/* uint8_t[CYPHONIC_KEY_LEN], read from the file */
};

struct kw_endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct kw {
	const char *name;
	enum kw_type type;
	void *dst;
	bool seen;		/* set by kw_parse */
};

/*
 * Parses argv[0..argc) as "name value" pairs from the table (terminated by
 * a NULL name). An unknown name, a missing value, a repeated name or an
 * invalid value prints an error naming it and returns -1.
 */
int kw_parse(const char *cmd, int argc, char **argv, struct kw *tab);

/* Whether name was given (name must be in the table). */
bool kw_seen(const struct kw *tab, const char *name);

/* Prints "cyphctl: CMD: FMT" to stderr; returns -1 for tail calls. */
int cmd_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int parse_u32(const char *s, uint32_t *out);
int parse_cipher(const char *s, uint8_t *out);
int parse_slot(const char *s, uint8_t *out);
int parse_detach(const char *s, uint8_t *out);
int parse_key_id(const char *s, uint8_t *out);
const char *cipher_name(unsigned int cipher);	/* "unknown" if out of range */
const char *slot_name(unsigned int slot);

#endif
