/* SPDX-License-Identifier: MIT */
/*
 * The release version, one string for every program. It comes from the
 * top-level VERSION file (user/Makefile compiles it into version.c only),
 * the same file that feeds the module's MODULE_VERSION, dkms.conf and the
 * Debian packages.
 */
#ifndef CYPHONIC_VERSION_H
#define CYPHONIC_VERSION_H

extern const char cyph_version[];

/* Prints "PROG VERSION\n" to stdout: what every program's --version says. */
void cyph_version_print(const char *prog);

#endif
