// SPDX-License-Identifier: MIT
#include "log.h"
#include "sslerr.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char log_prog[64] = "cyphonic";
static _Atomic int log_level = CYPH_LOG_INFO;
static _Atomic int log_journal = -1;

static const char *const level_names[] = { "err", "warn", "info", "debug" };
/* syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int level_prio[] = { 3, 4, 6, 7 };

void cyph_log_init(const char *prog, enum cyph_log_level level)
{
	const char *slash = prog ? strrchr(prog, '/') : NULL;

	if (prog)
		snprintf(log_prog, sizeof(log_prog), "%s", slash ? slash + 1 : prog);
	cyph_log_set_level(level);
	atomic_store(&log_journal, getenv("JOURNAL_STREAM") != NULL);
}

void cyph_log_set_level(enum cyph_log_level level)
{
	if ((int)level < CYPH_LOG_ERR || level > CYPH_LOG_DEBUG)
		level = CYPH_LOG_INFO;
	atomic_store(&log_level, level);
}

enum cyph_log_level cyph_log_get_level(void)
{
	return (enum cyph_log_level)atomic_load(&log_level);
}

int cyph_log_level_parse(const char *s, enum cyph_log_level *out)
{
	if (!strcasecmp(s, "err") || !strcasecmp(s, "error"))
		*out = CYPH_LOG_ERR;
	else if (!strcasecmp(s, "warn") || !strcasecmp(s, "warning"))
		*out = CYPH_LOG_WARN;
	else if (!strcasecmp(s, "info"))
		*out = CYPH_LOG_INFO;
	else if (!strcasecmp(s, "debug"))
		*out = CYPH_LOG_DEBUG;
	else
		return -1;
	return 0;
}

const char *cyph_log_level_name(enum cyph_log_level level)
{
	if ((int)level < CYPH_LOG_ERR || level > CYPH_LOG_DEBUG)
		return "?";
	return level_names[level];
}

static void log_emit(enum cyph_log_level lvl, const char *fmt, va_list ap,
		     const char *suffix)
{
	char line[2048];
	size_t off = 0;
	int n;

	if (atomic_load(&log_journal) < 0)
		atomic_store(&log_journal, getenv("JOURNAL_STREAM") != NULL);
	if (atomic_load(&log_journal))
		off += (size_t)snprintf(line, sizeof(line), "<%d>", level_prio[lvl]);
	n = snprintf(line + off, sizeof(line) - off, "%s[%d]: %s: ",
		     log_prog, (int)getpid(), level_names[lvl]);
	if (n > 0)
		off += (size_t)n;
	if (off < sizeof(line)) {
		n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
		if (n > 0)
			off += (size_t)n;
	}
	if (suffix && off < sizeof(line)) {
		n = snprintf(line + off, sizeof(line) - off, ": %s", suffix);
		if (n > 0)
			off += (size_t)n;
	}
	if (off > sizeof(line) - 2)
		off = sizeof(line) - 2;	/* truncated: keep the newline */
	/* No control characters from peers may split or forge log lines. */
	for (size_t i = 0; i < off; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
			line[i] = '?';
	line[off++] = '\n';
	if (write(STDERR_FILENO, line, off) < 0) {
		/* nowhere left to report it */
	}
}

void cyph_vlog(enum cyph_log_level lvl, const char *fmt, va_list ap)
{
	if ((int)lvl < CYPH_LOG_ERR || lvl > CYPH_LOG_DEBUG)
		lvl = CYPH_LOG_ERR;
	if ((int)lvl > atomic_load(&log_level))
		return;
	log_emit(lvl, fmt, ap, NULL);
}

void cyph_log(enum cyph_log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cyph_vlog(lvl, fmt, ap);
	va_end(ap);
}

void cyph_log_ssl(enum cyph_log_level lvl, const char *fmt, ...)
{
	char ssl[512];
	va_list ap;

	cyph_ssl_drain(ssl, sizeof(ssl));	/* always drain, even if filtered */
	if ((int)lvl < CYPH_LOG_ERR || lvl > CYPH_LOG_DEBUG)
		lvl = CYPH_LOG_ERR;
	if ((int)lvl > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	log_emit(lvl, fmt, ap, ssl);
	va_end(ap);
}
