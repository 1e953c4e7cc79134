// SPDX-License-Identifier: MIT
/* Seeds for the keyed table hashes (keyhash.h). */
#include "keyhash.h"

#include <stdint.h>
#include <sys/random.h>
#include <time.h>

uint64_t asguard_seed(void)
{
	uint64_t s = 0;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), 0) == (ssize_t)sizeof(s))
		return s;
	/* no entropy yet: still distinct per process and start time */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return cyph_mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
			  (uint64_t)(uintptr_t)&s);
}
