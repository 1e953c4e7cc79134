// SPDX-License-Identifier: MIT
/* Names, selectors and MACs the admin tool accepts (names.h). */
#include "names.h"
#include "stores/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

bool cyph_admin_name_ok(const char *name)
{
	return cyph_name_valid(name) && !all_digits(name);
}

int cyph_selector_parse(const char *s, struct cyph_selector *out, const char **why)
{
	unsigned long long id;
	char *end;

	memset(out, 0, sizeof(*out));
	if (!strncmp(s, "id:", 3)) {
		s += 3;
		errno = 0;
		id = strtoull(s, &end, 10);
		if (!all_digits(s) || *end || errno || id == 0) {
			*why = "id: must be followed by a node id (1, 2, ...)";
			return -1;
		}
		out->by_id = true;
		out->id = id;
		return 0;
	}
	if (!strncmp(s, "name:", 5)) {
		s += 5;
	} else if (all_digits(s)) {
		*why = "ambiguous: write id:N for a node id (or name:N for an all-digit name)";
		return -1;
	}
	if (!*s || strlen(s) >= sizeof(out->name)) {
		*why = "not a name";
		return -1;
	}
	snprintf(out->name, sizeof(out->name), "%s", s);
	return 0;
}

const char *cyph_mac_refusal(const uint8_t mac[6])
{
	static const uint8_t zero[6], bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (!memcmp(mac, zero, 6))
		return "all-zero";
	if (!memcmp(mac, bcast, 6))
		return "broadcast";
	if (mac[0] & 1)
		return "multicast";
	return NULL;
}
