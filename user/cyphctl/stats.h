/* SPDX-License-Identifier: MIT */
/* Names of the kernel's counters, as cyphctl prints them. */
#ifndef CYPHCTL_STATS_H
#define CYPHCTL_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/cyphonic.h>

struct cy_stats {
	uint64_t v[CYPHONIC_STAT_MAX + 1];
};

/* Lower-case name after "CYPHONIC_STAT_", e.g. "rx_drop_auth". */
const char *stat_name(unsigned int stat);

/* Whether the counter counts dropped packets (shown only when non-zero). */
bool stat_is_drop(unsigned int stat);

#endif
