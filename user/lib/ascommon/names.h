/* SPDX-License-Identifier: MIT */
/*
 * What cyphonic-admin accepts as principal names, selectors and MACs.
 *
 * Names are DNS labels (stores/store.h) that are not all digits: "3"
 * would read as node id 3 wherever a command takes "NAME or ID".
 * Commands that take a principal take a selector: "id:N", "name:X", or a
 * plain X that is not all digits (a name). A plain all-digit selector is
 * refused as ambiguous, so a registry that still holds an all-digit name
 * from before this rule reaches it with "name:3" and never by accident.
 */
#ifndef CYPHONIC_ASCOMMON_NAMES_H
#define CYPHONIC_ASCOMMON_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#define CYPH_SEL_NAME_MAX 64

struct cyph_selector {
	bool by_id;
	uint64_t id;
	char name[CYPH_SEL_NAME_MAX];
};

/* A name the admin tool may enrol (a DNS label, not all digits). */
bool cyph_admin_name_ok(const char *name);

/* 0, or -1 with *why saying what is wrong. */
int cyph_selector_parse(const char *s, struct cyph_selector *out, const char **why);

/*
 * NULL when mac is a unicast address a general node can have, else why
 * not: "all-zero", "broadcast" or "multicast" (group bit set).
 */
const char *cyph_mac_refusal(const uint8_t mac[6]);

#endif
