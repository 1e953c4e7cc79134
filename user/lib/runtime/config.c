// SPDX-License-Identifier: MIT
/* Schema-driven INI reader (config.h). */
#include "config.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Where a value came from, for error messages. */
struct cfg_ctx {
	const char *path;	/* NULL for --set */
	unsigned int line;
	char *err;
	size_t errlen;
	bool *seen;		/* per field: set by the file or --set */
};

__attribute__((format(printf, 3, 4)))
static int ctx_fail(struct cfg_ctx *c, const struct cyph_cfg_field *f,
		    const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!c->err || !c->errlen)
		return -1;
	if (!c->path)
		snprintf(c->err, c->errlen, "--set %s.%s: %s", f->section, f->key, what);
	else
		snprintf(c->err, c->errlen, "%s:%u: [%s] %s: %s", c->path, c->line,
			 f->section, f->key, what);
	return -1;
}

static int set_string(char *dst, size_t cap, const char *v)
{
	size_t l = strlen(v);

	if (l >= cap)
		return -1;
	memcpy(dst, v, l + 1);
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static int check_range(struct cfg_ctx *c, const struct cyph_cfg_field *f,
		       long long v)
{
	if (f->min < f->max && (v < f->min || v > f->max))
		return ctx_fail(c, f, "%lld out of range [%lld, %lld]", v, f->min, f->max);
	return 0;
}

static int set_value(struct cfg_ctx *c, const struct cyph_cfg_field *f,
		     void *out, const char *v)
{
	void *dst = (char *)out + f->offset;
	const char *why = "invalid value";
	char *end;
	long long ll;

	switch (f->type) {
	case CYPH_CFG_STR:
		if (set_string(dst, CYPH_CFG_STR_MAX, v))
			return ctx_fail(c, f, "value longer than %d bytes", CYPH_CFG_STR_MAX - 1);
		return 0;
	case CYPH_CFG_PATH:
		if (set_string(dst, CYPH_CFG_PATH_MAX, v))
			return ctx_fail(c, f, "path longer than %d bytes", CYPH_CFG_PATH_MAX - 1);
		return 0;
	case CYPH_CFG_INT:
		errno = 0;
		ll = strtoll(v, &end, 0);
		if (!*v || *end || errno)
			return ctx_fail(c, f, "'%s' is not an integer", v);
		if (check_range(c, f, ll))
			return -1;
		*(long long *)dst = ll;
		return 0;
	case CYPH_CFG_BOOL:
		if (parse_bool(v, dst))
			return ctx_fail(c, f, "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", v);
		return 0;
	case CYPH_CFG_DURATION_MS:
		if (cyph_parse_duration_ms(v, &ll, &why))
			return ctx_fail(c, f, "'%s': %s", v, why);
		if (check_range(c, f, ll))
			return -1;
		*(long long *)dst = ll;
		return 0;
	case CYPH_CFG_ADDR:
		if (cyph_parse_addr(v, dst, &why))
			return ctx_fail(c, f, "'%s': %s", v, why);
		return 0;
	case CYPH_CFG_PREFIX4:
		if (cyph_parse_prefix4(v, dst, &why))
			return ctx_fail(c, f, "'%s': %s", v, why);
		return 0;
	case CYPH_CFG_PREFIX6:
		if (cyph_parse_prefix6(v, dst, &why))
			return ctx_fail(c, f, "'%s': %s", v, why);
		return 0;
	case CYPH_CFG_LEVEL:
		if (cyph_log_level_parse(v, dst))
			return ctx_fail(c, f, "'%s' is not a log level (err, warn, info, debug)", v);
		return 0;
	}
	return ctx_fail(c, f, "internal: unknown field type");
}

static const struct cyph_cfg_field *find_field(const struct cyph_cfg_field *fields,
					       size_t n, const char *sec,
					       const char *key, size_t *idx)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(fields[i].section, sec) && !strcmp(fields[i].key, key)) {
			*idx = i;
			return &fields[i];
		}
	}
	return NULL;
}

static bool section_known(const struct cyph_cfg_field *fields, size_t n,
			  const char *sec)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(fields[i].section, sec))
			return true;
	return false;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Strips quotes or a trailing " #comment"; NULL on an unterminated quote. */
static char *unquote(char *v)
{
	if (*v == '"') {
		char *close = strchr(v + 1, '"');

		if (!close || *trim(close + 1) != '\0')
			return NULL;
		*close = '\0';
		return v + 1;
	}
	for (char *p = v; *p; p++) {
		if ((*p == '#' || *p == ';') && p > v && isspace((unsigned char)p[-1])) {
			*p = '\0';
			break;
		}
	}
	return trim(v);
}

static int file_fail(struct cfg_ctx *c, const char *sec, const char *what)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s:%u: %s%s%s%s", c->path, c->line,
			 sec ? "[" : "", sec ? sec : "", sec ? "] " : "", what);
	return -1;
}

static int parse_section(struct cfg_ctx *c, const struct cyph_cfg_field *fields,
			 size_t n, char *s, char *sec, size_t seclen)
{
	char *close = strchr(s, ']');

	if (!close || *trim(close + 1))
		return file_fail(c, NULL, "malformed section header");
	*close = '\0';
	s = trim(s + 1);
	if (strlen(s) >= seclen)
		return file_fail(c, NULL, "section name too long");
	if (!section_known(fields, n, s)) {
		char what[300];

		snprintf(what, sizeof(what), "unknown section [%.*s]", 200, s);
		return file_fail(c, NULL, what);
	}
	strcpy(sec, s);
	return 0;
}

static int parse_kv(struct cfg_ctx *c, const struct cyph_cfg_field *fields,
		    size_t n, void *out, const char *sec, char *s)
{
	const struct cyph_cfg_field *f;
	char *eq = strchr(s, '='), *key, *val;
	char what[300];
	size_t idx;

	if (!eq)
		return file_fail(c, *sec ? sec : NULL, "expected 'key = value'");
	*eq = '\0';
	key = trim(s);
	if (!*sec)
		return file_fail(c, NULL, "key outside any [section]");
	if (!*key)
		return file_fail(c, sec, "empty key");
	f = find_field(fields, n, sec, key, &idx);
	if (!f) {
		snprintf(what, sizeof(what), "%.*s: unknown key", 200, key);
		return file_fail(c, sec, what);
	}
	if (c->seen[idx])
		return ctx_fail(c, f, "set twice");
	val = unquote(trim(eq + 1));
	if (!val)
		return ctx_fail(c, f, "unterminated quote");
	if (set_value(c, f, out, val))
		return -1;
	c->seen[idx] = true;
	return 0;
}

static int parse_file(struct cfg_ctx *c, const struct cyph_cfg_field *fields,
		      size_t n, void *out)
{
	char sec[128] = "";
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int rc = 0;

	f = fopen(c->path, "re");
	if (!f) {
		snprintf(c->err, c->errlen, "%s:0: cannot open: %s", c->path, strerror(errno));
		return -1;
	}
	while (!rc && (len = getline(&line, &cap, f)) >= 0) {
		char *s;

		c->line++;
		if (len > CYPH_CFG_LINE_MAX) {
			rc = file_fail(c, NULL, "line too long");
			break;
		}
		if (memchr(line, '\0', (size_t)len)) {
			rc = file_fail(c, NULL, "NUL byte in line");
			break;
		}
		s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
			rc = parse_section(c, fields, n, s, sec, sizeof(sec));
		else
			rc = parse_kv(c, fields, n, out, sec, s);
	}
	if (!rc && ferror(f))
		rc = file_fail(c, NULL, "read error");
	free(line);
	fclose(f);
	return rc;
}

static int apply_defaults(struct cfg_ctx *c, const struct cyph_cfg_field *fields,
			  size_t n, void *out)
{
	for (size_t i = 0; i < n; i++) {
		if (fields[i].dflt && set_value(c, &fields[i], out, fields[i].dflt))
			return -1;
	}
	return 0;
}

static int check_required(struct cfg_ctx *c, const struct cyph_cfg_field *fields,
			  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (fields[i].required && !c->seen[i]) {
			c->line = 0;
			if (!c->path)
				c->path = "(no config file)";
			return ctx_fail(c, &fields[i], "required but not set");
		}
	}
	return 0;
}

static int apply_override(struct cfg_ctx *c, const struct cyph_cfg_field *fields,
			  size_t n, void *out, const char *arg)
{
	const struct cyph_cfg_field *f;
	char buf[CYPH_CFG_LINE_MAX], *dot, *eq;
	size_t idx;

	if (strlen(arg) >= sizeof(buf)) {
		snprintf(c->err, c->errlen, "--set: argument too long");
		return -1;
	}
	strcpy(buf, arg);
	eq = strchr(buf, '=');
	dot = strchr(buf, '.');
	if (!eq || !dot || dot > eq) {
		snprintf(c->err, c->errlen, "--set %.*s: expected section.key=value", 200, arg);
		return -1;
	}
	*dot = '\0';
	*eq = '\0';
	f = find_field(fields, n, buf, dot + 1, &idx);
	if (!f) {
		snprintf(c->err, c->errlen, "--set %.*s.%.*s: unknown key", 100, buf, 100, dot + 1);
		return -1;
	}
	if (set_value(c, f, out, eq + 1))
		return -1;
	c->seen[idx] = true;
	return 0;
}

static size_t type_size(enum cyph_cfg_type t)
{
	switch (t) {
	case CYPH_CFG_STR: return sizeof(cyph_cfg_str);
	case CYPH_CFG_PATH: return sizeof(cyph_cfg_path);
	case CYPH_CFG_INT: case CYPH_CFG_DURATION_MS: return sizeof(long long);
	case CYPH_CFG_BOOL: return sizeof(bool);
	case CYPH_CFG_ADDR: return sizeof(struct cyph_cfg_addr);
	case CYPH_CFG_PREFIX4: return sizeof(struct cyph_prefix4);
	case CYPH_CFG_PREFIX6: return sizeof(struct cyph_prefix6);
	case CYPH_CFG_LEVEL: return sizeof(enum cyph_log_level);
	}
	return 0;
}

int cyph_cfg_load_ex(const char *path, const struct cyph_cfg_field *fields,
		     size_t n, void *out, const char *const *overrides,
		     size_t noverrides, char *err, size_t errlen)
{
	char dummy[1];
	struct cfg_ctx c = { .path = NULL, .err = err ? err : dummy,
			     .errlen = err ? errlen : sizeof(dummy) };
	int rc = -1;

	c.seen = calloc(n ? n : 1, sizeof(bool));
	if (!c.seen) {
		snprintf(c.err, c.errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		memset((char *)out + fields[i].offset, 0, type_size(fields[i].type));
	c.path = "(default)";
	if (apply_defaults(&c, fields, n, out))
		goto out;
	c.path = path;
	if (path && parse_file(&c, fields, n, out))
		goto out;
	c.path = NULL;
	for (size_t i = 0; i < noverrides; i++)
		if (apply_override(&c, fields, n, out, overrides[i]))
			goto out;
	c.path = path;
	rc = check_required(&c, fields, n);
out:
	free(c.seen);
	return rc;
}

int cyph_cfg_load(const char *path, const struct cyph_cfg_field *fields,
		  size_t n, void *out, char *err, size_t errlen)
{
	return cyph_cfg_load_ex(path, fields, n, out, NULL, 0, err, errlen);
}

int cyph_cfg_override(const struct cyph_cfg_field *fields, size_t n, void *out,
		      const char *arg, char *err, size_t errlen)
{
	char dummy[1];
	bool *seen = calloc(n ? n : 1, sizeof(bool));
	struct cfg_ctx c = { .err = err ? err : dummy,
			     .errlen = err ? errlen : sizeof(dummy), .seen = seen };
	int rc;

	if (!seen)
		return -1;
	rc = apply_override(&c, fields, n, out, arg);
	free(seen);
	return rc;
}

static const char *const type_names[] = {
	[CYPH_CFG_STR] = "string", [CYPH_CFG_INT] = "integer",
	[CYPH_CFG_BOOL] = "bool", [CYPH_CFG_ADDR] = "host:port",
	[CYPH_CFG_PATH] = "path", [CYPH_CFG_DURATION_MS] = "duration",
	[CYPH_CFG_PREFIX4] = "IPv4 prefix", [CYPH_CFG_PREFIX6] = "IPv6 prefix",
	[CYPH_CFG_LEVEL] = "log level",
};

/* ms in the largest unit the parser takes that divides it: "30s", "7d". */
static void format_duration(long long ms, char *buf, size_t len)
{
	static const struct { long long ms; const char *unit; } units[] = {
		{ 86400000LL, "d" }, { 3600000LL, "h" }, { 60000LL, "m" }, { 1000LL, "s" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms && ms % units[i].ms == 0) {
			snprintf(buf, len, "%lld%s", ms / units[i].ms, units[i].unit);
			return;
		}
	}
	snprintf(buf, len, ms ? "%lldms" : "%lld", ms);
}

/* ", MIN..MAX" for a range-checked field, else "". */
static void format_range(const struct cyph_cfg_field *x, char *buf, size_t len)
{
	char lo[32], hi[32];

	buf[0] = '\0';
	if (x->min >= x->max)
		return;
	if (x->type == CYPH_CFG_INT) {
		snprintf(buf, len, ", %lld..%lld", x->min, x->max);
	} else if (x->type == CYPH_CFG_DURATION_MS) {
		format_duration(x->min, lo, sizeof(lo));
		format_duration(x->max, hi, sizeof(hi));
		snprintf(buf, len, ", %s..%s", lo, hi);
	}
}

void cyph_cfg_describe(const struct cyph_cfg_field *fields, size_t n, FILE *f)
{
	for (size_t i = 0; i < n; i++) {
		const struct cyph_cfg_field *x = &fields[i];
		char range[80];

		format_range(x, range, sizeof(range));
		fprintf(f, "[%s] %s (%s%s%s%s%s): %s\n", x->section, x->key,
			type_names[x->type], range, x->required ? ", required" : "",
			x->dflt ? ", default " : "", x->dflt ? x->dflt : "",
			x->help ? x->help : "");
	}
}

unsigned int cyph_cfg_key_line(const char *path, const char *section,
			       const char *key)
{
	char sec[128] = "", *line = NULL, *s, *eq, *close;
	unsigned int n = 0, found = 0;
	size_t cap = 0;
	FILE *f;

	if (!path || !(f = fopen(path, "re")))
		return 0;
	while (!found && getline(&line, &cap, f) >= 0) {
		n++;
		s = trim(line);
		if (*s == '[' && (close = strchr(s, ']'))) {
			*close = '\0';
			snprintf(sec, sizeof(sec), "%s", trim(s + 1));
		} else if (*s != '#' && *s != ';' && (eq = strchr(s, '='))) {
			*eq = '\0';
			if (!strcmp(sec, section) && !strcmp(trim(s), key))
				found = n;
		}
	}
	free(line);
	fclose(f);
	return found;
}
