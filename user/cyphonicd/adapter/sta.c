// SPDX-License-Identifier: MIT
/*
 * hostapd's answer to "STA MAC" (internal.h): the station's MAC on the
 * first line, then KEY=VALUE lines, among them flags=[...] and, for an
 * 802.1X session, dot1xAuthSessionUserName: the identity the EAP server
 * authenticated, which for PEAP is the inner (phase 2) one, the name
 * whose password was proven (checked against hostapd 2.10: an outer
 * identity of another name does not show). Only the first line of each
 * key counts, so a name cannot bring a line of its own.
 */
#include <stdio.h>
#include <string.h>
#include "internal.h"

/* The value of the first "\nKEY=" line of text, or NULL. */
static const char *value_of(const char *text, const char *key, size_t *len)
{
	char pat[48];
	const char *p, *end;

	snprintf(pat, sizeof(pat), "\n%s=", key);
	p = strstr(text, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	end = strchr(p, '\n');
	*len = end ? (size_t)(end - p) : strlen(p);
	return p;
}

int cyd_hostapd_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int cyd_hostapd_sta_parse(const char *reply, uint8_t mac[6], bool *authorized, char *identity,
			  size_t idlen)
{
	const char *v;
	size_t len;

	/* "xx:xx:xx:xx:xx:xx\n...": not "FAIL", "OK" or another command's answer */
	if (strlen(reply) < 18 || reply[17] != '\n' || cyd_hostapd_mac_parse(reply, mac))
		return -1;
	v = value_of(reply, "flags", &len);
	*authorized = v && memmem(v, len, "[AUTHORIZED]", 12);
	identity[0] = '\0';
	v = value_of(reply, "dot1xAuthSessionUserName", &len);
	if (v && len < idlen) {
		memcpy(identity, v, len);
		identity[len] = '\0';
	}
	return 0;
}
