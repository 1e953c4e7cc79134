// SPDX-License-Identifier: MIT
/* The release version (version.h). */
#include "version.h"

#include <stdio.h>

#ifndef CYPHONIC_VERSION
#error "CYPHONIC_VERSION is not defined: user/Makefile passes it from the VERSION file"
#endif

const char cyph_version[] = CYPHONIC_VERSION;

void cyph_version_print(const char *prog)
{
	printf("%s %s\n", prog, cyph_version);
}
