/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP producer for the user-space unit tests. Each test binary
 * prints "TAP version 13", one "ok"/"not ok" line per check and a plan, and
 * exits non-zero when any check failed.
 *
 *	TAP_CHECK(cond, "name %d", i);
 *	return tap_done();
 */
#ifndef CYPHONIC_TEST_TAP_H
#define CYPHONIC_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;
/* Printed before every check's name (e.g. the backend a suite runs on). */
static const char *tap_prefix = "";

static inline void tap_start(void)
{
	if (!tap_n)
		printf("TAP version 13\n");
}

__attribute__((format(printf, 4, 5)))
static inline int tap_check(int ok, const char *file, int line,
			    const char *fmt, ...)
{
	va_list ap;

	tap_start();
	printf("%s %d - %s", ok ? "ok" : "not ok", ++tap_n, tap_prefix);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok) {
		printf("#   failed at %s:%d\n", file, line);
		tap_failed++;
	}
	fflush(stdout);
	return ok;
}

#define TAP_CHECK(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

static inline void tap_skip(const char *why, const char *name)
{
	tap_start();
	printf("ok %d - %s%s # SKIP %s\n", ++tap_n, tap_prefix, name, why);
}

static inline int tap_done(void)
{
	tap_start();
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
