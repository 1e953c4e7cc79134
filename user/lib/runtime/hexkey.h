/* SPDX-License-Identifier: MIT */
/*
 * Symmetric keys as hex text: exactly two hex digits per byte, on the
 * command line or in a file (optionally followed by one newline), which is
 * how `cyphctl genkey` prints them. Callers wipe their buffers with
 * hexkey_wipe() once the key has been handed on.
 */
#ifndef CYPHONIC_HEXKEY_H
#define CYPHONIC_HEXKEY_H

#include <stddef.h>
#include <stdint.h>

/* 0, or -1 unless s is exactly 2 * n hex digits. */
int hexkey_decode(const char *s, uint8_t *out, size_t n);

/* Writes 2 * n lower-case hex digits and a NUL to out. */
void hexkey_encode(const uint8_t *in, size_t n, char *out);

/*
 * Reads a key file. Returns 0, -errno when the file cannot be read, or
 * -EINVAL when its content is not 2 * n hex digits and an optional "\n".
 */
int hexkey_read_file(const char *path, uint8_t *out, size_t n);

/* Zeroes a buffer in a way the compiler may not drop. */
void hexkey_wipe(void *p, size_t n);

#endif
