// SPDX-License-Identifier: MIT
/* Logging: format, level filter, journald prefixes, hostile content. */
#include "runtime/log.h"
#include "runtime/sslerr.h"
#include "tap.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char out[8192];

/* Runs fn with stderr redirected to a temp file, returns what it wrote. */
static const char *capture(void (*fn)(void))
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void emit_levels(void)
{
	log_err("e %d", 1);
	log_warn("w");
	log_info("i");
	log_debug("d");
}

static void emit_hostile(void)
{
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("peer said: %s", "line1\nforged: err: line2\r\x1b[31m");
	log_info("%s", big);
}

static void emit_ssl(void)
{
	/* provoke an OpenSSL error: an unknown cipher name */
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "no-such-cipher", NULL);

	EVP_CIPHER_free(c);
	cyph_log_ssl(CYPH_LOG_ERR, "fetch failed");
}

int main(void)
{
	char pid[32];
	const char *s;
	enum cyph_log_level l;

	unsetenv("JOURNAL_STREAM");
	cyph_log_init("/usr/sbin/test-prog", CYPH_LOG_INFO);
	snprintf(pid, sizeof(pid), "[%d]", (int)getpid());
	s = capture(emit_levels);
	TAP_CHECK(strstr(s, "test-prog") && strstr(s, pid) && strstr(s, ": err: e 1\n"),
		  "format prog[pid]: level: msg");
	TAP_CHECK(strstr(s, ": warn: w\n") && strstr(s, ": info: i\n") && !strstr(s, ": debug:"),
		  "info level filters debug");
	cyph_log_set_level(CYPH_LOG_ERR);
	s = capture(emit_levels);
	TAP_CHECK(strstr(s, ": err: e 1") && !strstr(s, "warn"), "err level filters the rest");
	setenv("JOURNAL_STREAM", "8:1234", 1);
	cyph_log_init("test-prog", CYPH_LOG_DEBUG);
	s = capture(emit_levels);
	TAP_CHECK(!strncmp(s, "<3>test-prog", 12) && strstr(s, "\n<4>") && strstr(s, "\n<6>") &&
		  strstr(s, "\n<7>"), "journald priority prefixes");
	unsetenv("JOURNAL_STREAM");
	cyph_log_init("test-prog", CYPH_LOG_INFO);
	s = capture(emit_hostile);
	TAP_CHECK(strstr(s, "line1?forged: err: line2??[31m\n") != NULL,
		  "control characters cannot forge lines");
	{
		const char *second = strchr(s, '\n') + 1;
		const char *end = strchr(second, '\n');

		TAP_CHECK(end && end[1] == '\0' && end - second < 2048,
			  "overlong message truncated to one line");
	}
	s = capture(emit_ssl);
	TAP_CHECK(strstr(s, "fetch failed: ") && !strstr(s, "no OpenSSL error"),
		  "OpenSSL error queue drained into the message");
	TAP_CHECK(ERR_peek_error() == 0, "queue empty afterwards");
	TAP_CHECK(!cyph_log_level_parse("warning", &l) && l == CYPH_LOG_WARN &&
		  cyph_log_level_parse("verbose", &l) == -1, "level names");
	TAP_CHECK(!strcmp(cyph_log_level_name(CYPH_LOG_DEBUG), "debug") &&
		  !strcmp(cyph_log_level_name((enum cyph_log_level)9), "?"), "level name lookup");
	return tap_done();
}
