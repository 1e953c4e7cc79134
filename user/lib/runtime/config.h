/* SPDX-License-Identifier: MIT */
/*
 * Schema-driven INI parser shared by the cloud daemons.
 *
 * A daemon describes its configuration once, as an array of fields with
 * an offset into its config struct; the parser fills the struct, applies
 * defaults, checks ranges and required fields, and reports the first error
 * as "PATH:LINE: [section] key: what is wrong" (LINE 0 for a missing
 * required field). Unknown sections and keys are errors, so typos do not
 * silently fall back to defaults.
 *
 * File syntax: "[section]" headers, "key = value" lines, '#' or ';'
 * comment lines, blank lines. Values may be double-quoted (to keep
 * leading/trailing spaces or a '#'); otherwise an unquoted " #" starts a
 * trailing comment. A key may appear once per file.
 *
 * Storage per type (the member at .offset must have this type):
 *	STR		cyph_cfg_str  (char[256], NUL-terminated)
 *	PATH		cyph_cfg_path (char[4096]); "" when unset
 *	INT		long long, checked against [min, max] when min < max
 *	BOOL		bool: true/false, yes/no, on/off, 1/0
 *	ADDR		struct cyph_cfg_addr: "host:port", "[v6]:port"
 *	DURATION_MS	long long milliseconds: "250ms", "30s", "5m", "1h" or a
 *			bare number of milliseconds; [min, max] in ms
 *	PREFIX4/6	struct cyph_prefix4/6: "10.77.0.0/16", "fd00:77::/64"
 *	LEVEL		enum cyph_log_level: err, warn, info, debug
 */
#ifndef CYPHONIC_CONFIG_H
#define CYPHONIC_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

enum cyph_cfg_type {
	CYPH_CFG_STR,
	CYPH_CFG_INT,
	CYPH_CFG_BOOL,
	CYPH_CFG_ADDR,
	CYPH_CFG_PATH,
	CYPH_CFG_DURATION_MS,
	CYPH_CFG_PREFIX4,
	CYPH_CFG_PREFIX6,
	CYPH_CFG_LEVEL,
};

#define CYPH_CFG_STR_MAX  256
#define CYPH_CFG_PATH_MAX 4096
#define CYPH_CFG_LINE_MAX 8192	/* longer lines are an error */

typedef char cyph_cfg_str[CYPH_CFG_STR_MAX];
typedef char cyph_cfg_path[CYPH_CFG_PATH_MAX];

struct cyph_cfg_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[CYPH_CFG_STR_MAX];	/* as written, for logs and listen() */
};

struct cyph_prefix4 {
	struct in_addr addr;	/* host bits cleared */
	uint8_t len;
};

struct cyph_prefix6 {
	struct in6_addr addr;	/* host bits cleared */
	uint8_t len;
};

struct cyph_cfg_field {
	const char *section;
	const char *key;
	enum cyph_cfg_type type;
	size_t offset;
	bool required;
	const char *dflt;	/* parsed like a file value; NULL: zero/empty */
	long long min, max;	/* INT and DURATION_MS; ignored when min >= max */
	const char *help;	/* one line for --help-config and docs */
};

/* One schema entry for a field of struct ST (the same order as above). */
#define CYPH_CFG_FIELD(st, sec, key, type, member, req, dflt, lo, hi, help) \
	{ sec, key, CYPH_CFG_##type, offsetof(st, member), req, dflt, lo, hi, help }

/*
 * The [log] and [http] settings every daemon has: ST must have members
 * log_level, http_enabled and http_listen. HTTP_LISTEN is the default
 * health/metrics address, which differs per daemon.
 */
#define CYPH_CFG_OPS_FIELDS(st, http_listen_default) \
	CYPH_CFG_FIELD(st, "log", "level", LEVEL, log_level, false, "info", 0, 0, \
		       "err, warn, info, debug"), \
	CYPH_CFG_FIELD(st, "http", "enabled", BOOL, http_enabled, false, "true", 0, 0, \
		       "serve /healthz, /readyz, /metrics"), \
	CYPH_CFG_FIELD(st, "http", "listen", ADDR, http_listen, false, \
		       http_listen_default, 0, 0, "health and metrics listen address")

/*
 * Applies defaults, parses PATH and checks required fields. Returns 0, or
 * -1 with the first error in err. Every field of out is first reset to
 * its default (zero or empty when it has none).
 */
int cyph_cfg_load(const char *path, const struct cyph_cfg_field *fields,
		  size_t n, void *out, char *err, size_t errlen);

/*
 * Like cyph_cfg_load, then applies "section.key=value" overrides (from
 * --set) before the required-field check, so an override can supply a
 * required field. path may be NULL (defaults + overrides only).
 */
int cyph_cfg_load_ex(const char *path, const struct cyph_cfg_field *fields,
		     size_t n, void *out, const char *const *overrides,
		     size_t noverrides, char *err, size_t errlen);

/*
 * Applies one "section.key=value" to out. Errors read
 * "--set section.key: what is wrong".
 */
int cyph_cfg_override(const struct cyph_cfg_field *fields, size_t n, void *out,
		      const char *section_dot_key_eq_value, char *err,
		      size_t errlen);

/*
 * The line of path that sets [section] key, or 0 when the file does not
 * set it (a default or --set value). For errors a daemon finds after
 * loading (a file that cannot be read, a cross-field rule), so they still
 * read "PATH:LINE: [section] key: why".
 */
unsigned int cyph_cfg_key_line(const char *path, const char *section,
			       const char *key);

/* Parsers behind the types, exposed for command-line flags and tests. */
int cyph_parse_addr(const char *s, struct cyph_cfg_addr *out, const char **why);
int cyph_parse_prefix4(const char *s, struct cyph_prefix4 *out, const char **why);
int cyph_parse_prefix6(const char *s, struct cyph_prefix6 *out, const char **why);
int cyph_parse_duration_ms(const char *s, long long *out, const char **why);

/*
 * Prints "[section] key (type[, MIN..MAX][, required][, default X]): help"
 * lines, one per field (--help-config; scripts/gen-man-config.sh turns
 * them into the daemons' .conf(5) man pages).
 */
void cyph_cfg_describe(const struct cyph_cfg_field *fields, size_t n, FILE *f);

#endif
