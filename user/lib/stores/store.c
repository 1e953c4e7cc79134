// SPDX-License-Identifier: MIT
/* Store helpers independent of the backend (store.h). */
#include "store.h"
#include "runtime/sslerr.h"

#include <stdio.h>
#include <string.h>

struct cyph_store *cyph_store_open(const char *spec, char *err, size_t errlen)
{
	if (!strncmp(spec, "sqlite:", 7))
		return cyph_store_open_sqlite(spec + 7, err, errlen);
	if (strstr(spec, "://")) {
		cyph_fail(err, errlen, "%s: unsupported store (only sqlite: in this build)", spec);
		return NULL;
	}
	return cyph_store_open_sqlite(spec, err, errlen);
}

bool cyph_name_valid(const char *n)
{
	size_t len = strlen(n);

	if (!len || len >= CYPH_NAME_MAX || n[0] == '-' || n[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-'))
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cyph_mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void cyph_mac_format(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static const char *const methods[] = { [CYPH_GN_BASIC] = "basic", [CYPH_GN_MAC] = "mac",
				       [CYPH_GN_8021X] = "8021x" };

const char *cyph_gn_method_name(uint8_t m)
{
	return m >= CYPH_GN_BASIC && m <= CYPH_GN_8021X ? methods[m] : "?";
}

uint8_t cyph_gn_method_parse(const char *s)
{
	for (uint8_t m = CYPH_GN_BASIC; m <= CYPH_GN_8021X; m++)
		if (!strcmp(s, methods[m]))
			return m;
	return 0;
}

const char *cyph_ip_mode_name(uint8_t m)
{
	return m == CYPH_IP_V4 ? "ipv4" : m == CYPH_IP_V6 ? "ipv6" : m == CYPH_IP_DUAL ? "dual" : "?";
}

uint8_t cyph_ip_mode_parse(const char *s)
{
	if (!strcmp(s, "ipv4"))
		return CYPH_IP_V4;
	if (!strcmp(s, "ipv6"))
		return CYPH_IP_V6;
	if (!strcmp(s, "dual"))
		return CYPH_IP_DUAL;
	return 0;
}
