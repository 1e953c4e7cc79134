// SPDX-License-Identifier: MIT
/* Schema-driven INI parser: good files, hostile files, overrides. */
#include "runtime/config.h"
#include "runtime/log.h"
#include "tap.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cfg {
	cyph_cfg_str name;
	long long count;
	bool flag;
	struct cyph_cfg_addr listen;
	cyph_cfg_path file;
	long long timeout;
	struct cyph_prefix4 p4;
	struct cyph_prefix6 p6;
	enum cyph_log_level level;
	cyph_cfg_str req;
};

#define F(s, k, t, m, r, d, lo, hi) \
	{ s, k, CYPH_CFG_##t, offsetof(struct cfg, m), r, d, lo, hi, NULL }

static const struct cyph_cfg_field fields[] = {
	F("main", "name", STR, name, false, "dflt", 0, 0),
	F("main", "count", INT, count, false, "3", 1, 10),
	F("main", "flag", BOOL, flag, false, "no", 0, 0),
	F("main", "listen", ADDR, listen, false, "127.0.0.1:80", 0, 0),
	F("main", "file", PATH, file, false, NULL, 0, 0),
	F("main", "timeout", DURATION_MS, timeout, false, "5s", 10, 60000),
	F("net", "prefix4", PREFIX4, p4, false, NULL, 0, 0),
	F("net", "prefix6", PREFIX6, p6, false, NULL, 0, 0),
	F("log", "level", LEVEL, level, false, "info", 0, 0),
	F("must", "req", STR, req, true, NULL, 0, 0),
};
#define N (sizeof(fields) / sizeof(fields[0]))

static char path[] = "/tmp/test_config.XXXXXX";

static int load_text(const char *text, struct cfg *c, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	memset(c, 0xa5, sizeof(*c));	/* must be fully re-initialised */
	return cyph_cfg_load(path, fields, N, c, err, errlen);
}

static void expect_error(const char *text, const char *want, const char *name)
{
	char err[512] = "", full[600];
	struct cfg c;
	int rc = load_text(text, &c, err, sizeof(err));

	snprintf(full, sizeof(full), "%s:%s", path, want);
	TAP_CHECK(rc == -1 && strstr(err, full), "%s -> \"%s\" (got \"%s\")", name, want, err);
}

static void test_good(void)
{
	char err[512] = "";
	struct cfg c;
	char a[64];
	int rc;

	rc = load_text("# comment\n; another\n\n[main]\nname = hello world  # trailing\n"
		       "count=7\nflag = yes\nlisten = [::1]:8443\nfile = \"/a b/c#d\"\n"
		       "timeout = 250ms\n[net]\nprefix4 = 10.77.1.2/16\nprefix6 = fd00:77::9/64\n"
		       "[log]\nlevel = debug\n[must]\nreq = x\n", &c, err, sizeof(err));
	TAP_CHECK(rc == 0, "good file loads (%s)", err);
	TAP_CHECK(!strcmp(c.name, "hello world"), "string with trailing comment");
	TAP_CHECK(c.count == 7 && c.flag, "int and bool");
	TAP_CHECK(c.listen.ss.ss_family == AF_INET6 && !strcmp(c.listen.text, "[::1]:8443"),
		  "IPv6 address");
	TAP_CHECK(!strcmp(c.file, "/a b/c#d"), "quoted path keeps spaces and '#'");
	TAP_CHECK(c.timeout == 250, "duration in ms");
	inet_ntop(AF_INET, &c.p4.addr, a, sizeof(a));
	TAP_CHECK(!strcmp(a, "10.77.0.0") && c.p4.len == 16, "IPv4 prefix host bits cleared");
	inet_ntop(AF_INET6, &c.p6.addr, a, sizeof(a));
	TAP_CHECK(!strcmp(a, "fd00:77::") && c.p6.len == 64, "IPv6 prefix host bits cleared");
	TAP_CHECK(c.level == CYPH_LOG_DEBUG, "log level");

	rc = load_text("[must]\nreq = y\n", &c, err, sizeof(err));
	TAP_CHECK(rc == 0 && !strcmp(c.name, "dflt") && c.count == 3 && !c.flag &&
		  c.timeout == 5000 && c.file[0] == '\0' && c.p4.len == 0 &&
		  c.level == CYPH_LOG_INFO, "defaults applied, unset fields zeroed");
}

static void test_bad(void)
{
	char longv[400], longline[CYPH_CFG_LINE_MAX + 100];

	expect_error("[must]\nreq=x\n[main]\nbogus = 1\n", "4: [main] bogus: unknown key",
		     "unknown key");
	expect_error("[must]\nreq=x\n[nope]\n", "3: unknown section [nope]", "unknown section");
	expect_error("[main]\ncount = 1\n", "0: [must] req: required but not set",
		     "missing required field");
	expect_error("[must]\nreq=x\n[main]\ncount = 11\n", "4: [main] count: 11 out of range",
		     "int out of range");
	expect_error("[must]\nreq=x\n[main]\ncount = 5x\n", "4: [main] count: '5x' is not an integer",
		     "int garbage");
	expect_error("[must]\nreq=x\n[main]\ncount = 99999999999999999999999\n",
		     "4: [main] count:", "int overflow");
	expect_error("[must]\nreq=x\n[main]\nflag = maybe\n", "4: [main] flag:", "bad bool");
	expect_error("[must]\nreq=x\n[main]\nlisten = 1.2.3.4\n", "4: [main] listen:",
		     "address without port");
	expect_error("[must]\nreq=x\n[main]\nlisten = 1.2.3.4:70000\n", "4: [main] listen:",
		     "port out of range");
	expect_error("[must]\nreq=x\n[main]\nlisten = ::1:80\n", "4: [main] listen:",
		     "unbracketed IPv6");
	expect_error("[must]\nreq=x\n[main]\ntimeout = 5 parsecs\n", "4: [main] timeout:",
		     "bad duration unit");
	expect_error("[must]\nreq=x\n[main]\ntimeout = 1ms\n", "4: [main] timeout: 1 out of range",
		     "duration out of range");
	expect_error("[must]\nreq=x\n[main]\ntimeout = -5s\n", "4: [main] timeout:",
		     "negative duration");
	expect_error("[must]\nreq=x\n[net]\nprefix4 = 10.0.0.0/33\n", "4: [net] prefix4:",
		     "prefix length too long");
	expect_error("[must]\nreq=x\n[net]\nprefix4 = 10.0.0.0\n", "4: [net] prefix4:",
		     "prefix without length");
	expect_error("[must]\nreq=x\n[net]\nprefix6 = fd00::/129\n", "4: [net] prefix6:",
		     "IPv6 prefix too long");
	expect_error("[must]\nreq=x\n[log]\nlevel = loud\n", "4: [log] level:", "bad level");
	expect_error("[must]\nreq=x\n[main]\nname = \"open\n", "4: [main] name: unterminated quote",
		     "unterminated quote");
	expect_error("[must]\nreq=x\n[main]\nname\n", "4: [main] expected 'key = value'",
		     "line without '='");
	expect_error("name = x\n", "1: key outside any [section]", "key before any section");
	expect_error("[main\n", "1: malformed section header", "malformed section header");
	expect_error("[must]\nreq=x\nreq=y\n", "3: [must] req: set twice", "duplicate key");
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	{
		char text[600];

		snprintf(text, sizeof(text), "[must]\nreq=x\n[main]\nname = %s\n", longv);
		expect_error(text, "4: [main] name: value longer than 255", "overlong value");
	}
	memset(longline, 'b', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "[main]\nname=", 12);
	expect_error(longline, "2: line too long", "overlong line");
	{
		char text[] = "[must]\nreq=x\x00y\n";
		FILE *f = fopen(path, "w");
		struct cfg c;
		char err[256] = "";

		fwrite(text, 1, sizeof(text) - 1, f);
		fclose(f);
		TAP_CHECK(cyph_cfg_load(path, fields, N, &c, err, sizeof(err)) == -1 &&
			  strstr(err, ":2: NUL byte"), "NUL byte in a line (%s)", err);
	}
	{
		struct cfg c;
		char err[256] = "";

		TAP_CHECK(cyph_cfg_load("/nonexistent/x.conf", fields, N, &c, err, sizeof(err)) &&
			  strstr(err, "/nonexistent/x.conf:0: cannot open"), "missing file (%s)", err);
	}
}

static void test_override(void)
{
	const char *sets[] = { "must.req=fromflag", "main.count=9" };
	const char *bad[] = { "main.nokey=1" };
	const char *badval[] = { "main.count=100" };
	const char *nodot[] = { "count=1" };
	char err[512] = "";
	struct cfg c;

	TAP_CHECK(!cyph_cfg_load_ex(NULL, fields, N, &c, sets, 2, err, sizeof(err)) &&
		  !strcmp(c.req, "fromflag") && c.count == 9, "--set supplies a required field (%s)",
		  err);
	TAP_CHECK(cyph_cfg_load_ex(NULL, fields, N, &c, bad, 1, err, sizeof(err)) &&
		  strstr(err, "--set main.nokey: unknown key"), "--set unknown key (%s)", err);
	TAP_CHECK(cyph_cfg_load_ex(NULL, fields, N, &c, badval, 1, err, sizeof(err)) &&
		  strstr(err, "--set main.count: 100 out of range"), "--set bad value (%s)", err);
	TAP_CHECK(cyph_cfg_load_ex(NULL, fields, N, &c, nodot, 1, err, sizeof(err)) &&
		  strstr(err, "expected section.key=value"), "--set malformed (%s)", err);
	TAP_CHECK(!cyph_cfg_override(fields, N, &c, "main.flag=on", err, sizeof(err)) && c.flag,
		  "cyph_cfg_override sets one value");
	TAP_CHECK(cyph_cfg_load_ex(NULL, fields, N, &c, NULL, 0, err, sizeof(err)) &&
		  strstr(err, "[must] req: required"), "no file, no --set: required missing (%s)", err);
}

static void test_values(void)
{
	long long ms;
	const char *why;
	struct cyph_cfg_addr a;

	TAP_CHECK(!cyph_parse_duration_ms("2h", &ms, &why) && ms == 7200000, "2h");
	TAP_CHECK(!cyph_parse_duration_ms("1500", &ms, &why) && ms == 1500, "bare number is ms");
	TAP_CHECK(cyph_parse_duration_ms("9999999999999999d", &ms, &why), "duration overflow");
	TAP_CHECK(cyph_parse_duration_ms("", &ms, &why), "empty duration");
	TAP_CHECK(!cyph_parse_addr("localhost:0", &a, &why), "hostname resolves");
	TAP_CHECK(cyph_parse_addr(":80", &a, &why), "empty host rejected");
	TAP_CHECK(cyph_parse_addr("[::1:80", &a, &why), "unterminated bracket rejected");
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	test_good();
	test_bad();
	test_override();
	test_values();
	unlink(path);
	return tap_done();
}
