/* SPDX-License-Identifier: MIT */
/* Shared bits of the fuzz targets: silence logs, fixed clock. */
#ifndef CYPHONIC_FUZZ_COMMON_H
#define CYPHONIC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "wire/proto.h"

#define FUZZ_NOW_MS 1700000000000LL

static inline struct proto_ep fuzz_from(int v6)
{
	struct proto_ep e = { .family = (uint8_t)(v6 ? 6 : 4), .port = 4000 };

	if (v6)
		e.v6.s6_addr[15] = 1;
	else
		e.v4.s_addr = 0x0100007f;
	return e;
}

#endif
