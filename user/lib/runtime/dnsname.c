// SPDX-License-Identifier: MIT
/* Name checks (dnsname.h): ASCII by hand, whatever the locale. */
#include "dnsname.h"

#include <string.h>

bool cyph_dns_label_valid(const char *s, size_t len)
{
	if (!len || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

bool cyph_dns_name_valid(const char *s)
{
	const char *dot;

	if (!*s || strlen(s) > 253)
		return false;
	for (; (dot = strchr(s, '.')); s = dot + 1)
		if (!cyph_dns_label_valid(s, (size_t)(dot - s)))
			return false;
	return cyph_dns_label_valid(s, strlen(s));
}
