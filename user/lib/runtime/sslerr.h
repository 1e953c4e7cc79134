/* SPDX-License-Identifier: MIT */
/*
 * OpenSSL's error queue, drained into a human-readable string, so every
 * failure message says what OpenSSL said instead of leaving stale entries
 * behind for the next caller.
 */
#ifndef CYPHONIC_SSLERR_H
#define CYPHONIC_SSLERR_H

#include <stddef.h>

/*
 * Empties the calling thread's OpenSSL error queue into buf as
 * "reason1; reason2" (or "no OpenSSL error" when empty). Returns buf.
 */
const char *cyph_ssl_drain(char *buf, size_t len);

/*
 * snprintf(err, errlen, "<what>: <drained OpenSSL errors>"). For the
 * many "char *err, size_t errlen" APIs. Always returns -1.
 */
__attribute__((format(printf, 3, 4)))
int cyph_ssl_fail(char *err, size_t errlen, const char *fmt, ...);

/* Plain snprintf into err; always returns -1. */
__attribute__((format(printf, 3, 4)))
int cyph_fail(char *err, size_t errlen, const char *fmt, ...);

#endif
