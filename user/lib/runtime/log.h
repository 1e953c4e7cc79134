/* SPDX-License-Identifier: MIT */
/*
 * Leveled logging to stderr for the daemons and tools.
 *
 * Lines are "prog[pid]: level: message". When stderr is the journal
 * (JOURNAL_STREAM set, as systemd does), each line starts with the
 * syslog priority "<N>" so journald records the level. One write(2) per
 * line keeps lines from different threads whole.
 */
#ifndef CYPHONIC_LOG_H
#define CYPHONIC_LOG_H

#include <stdarg.h>

enum cyph_log_level { CYPH_LOG_ERR, CYPH_LOG_WARN, CYPH_LOG_INFO, CYPH_LOG_DEBUG };

void cyph_log_init(const char *prog, enum cyph_log_level level);
void cyph_log_set_level(enum cyph_log_level level);
enum cyph_log_level cyph_log_get_level(void);

/* "err", "warn"/"warning", "info", "debug" -> 0, else -1. */
int cyph_log_level_parse(const char *s, enum cyph_log_level *out);
const char *cyph_log_level_name(enum cyph_log_level level);

__attribute__((format(printf, 2, 3)))
void cyph_log(enum cyph_log_level lvl, const char *fmt, ...);
void cyph_vlog(enum cyph_log_level lvl, const char *fmt, va_list ap);

/* Like cyph_log, then drains the OpenSSL error queue into the same line. */
__attribute__((format(printf, 2, 3)))
void cyph_log_ssl(enum cyph_log_level lvl, const char *fmt, ...);

#define log_err(...)   cyph_log(CYPH_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  cyph_log(CYPH_LOG_WARN, __VA_ARGS__)
#define log_info(...)  cyph_log(CYPH_LOG_INFO, __VA_ARGS__)
#define log_debug(...) cyph_log(CYPH_LOG_DEBUG, __VA_ARGS__)

#endif
