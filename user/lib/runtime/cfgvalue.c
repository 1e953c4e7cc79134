// SPDX-License-Identifier: MIT
/* Value parsers behind the config types (config.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cyph_parse_addr(const char *s, struct cyph_cfg_addr *out, const char **why)
{
	char host[CYPH_CFG_STR_MAX];
	const char *port, *colon;
	struct addrinfo hints = { .ai_flags = AI_NUMERICSERV | AI_PASSIVE,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	size_t hlen;
	char *end;
	long p;

	if (strlen(s) >= sizeof(out->text)) {
		*why = "address too long";
		return -1;
	}
	if (s[0] == '[') {
		colon = strchr(s, ']');
		if (!colon || colon[1] != ':') {
			*why = "expected [IPv6]:port";
			return -1;
		}
		hlen = (size_t)(colon - s - 1);
		memcpy(host, s + 1, hlen);
		port = colon + 2;
		hints.ai_family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon) {
			*why = "expected host:port (IPv6 in brackets)";
			return -1;
		}
		hlen = (size_t)(colon - s);
		memcpy(host, s, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';
	errno = 0;
	p = strtol(port, &end, 10);
	if (!*port || *end || errno || p < 0 || p > 65535) {
		*why = "port must be 0..65535";
		return -1;
	}
	if (!hlen) {
		*why = "empty host";
		return -1;
	}
	if (getaddrinfo(host, port, &hints, &res) || !res) {
		*why = "cannot resolve host";
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	snprintf(out->text, sizeof(out->text), "%s", s);
	freeaddrinfo(res);
	return 0;
}

static int parse_plen(const char *s, int max, const char **why)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > max) {
		*why = "bad prefix length";
		return -1;
	}
	return (int)v;
}

static int split_prefix(const char *s, char *addr, size_t alen, const char **len)
{
	const char *slash = strchr(s, '/');

	if (!slash || (size_t)(slash - s) >= alen)
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	*len = slash + 1;
	return 0;
}

int cyph_parse_prefix4(const char *s, struct cyph_prefix4 *out, const char **why)
{
	char a[INET_ADDRSTRLEN];
	const char *l;
	int plen;
	uint32_t mask;

	if (split_prefix(s, a, sizeof(a), &l) || inet_pton(AF_INET, a, &out->addr) != 1) {
		*why = "expected IPv4 prefix a.b.c.d/len";
		return -1;
	}
	plen = parse_plen(l, 32, why);
	if (plen < 0)
		return -1;
	mask = plen ? htonl(~0u << (32 - plen)) : 0;
	out->addr.s_addr &= mask;
	out->len = (uint8_t)plen;
	return 0;
}

int cyph_parse_prefix6(const char *s, struct cyph_prefix6 *out, const char **why)
{
	char a[INET6_ADDRSTRLEN];
	const char *l;
	int plen;

	if (split_prefix(s, a, sizeof(a), &l) || inet_pton(AF_INET6, a, &out->addr) != 1) {
		*why = "expected IPv6 prefix x:y::/len";
		return -1;
	}
	plen = parse_plen(l, 128, why);
	if (plen < 0)
		return -1;
	for (int i = 0; i < 16; i++) {
		int bits = plen - i * 8;

		if (bits <= 0)
			out->addr.s6_addr[i] = 0;
		else if (bits < 8)
			out->addr.s6_addr[i] &= (uint8_t)(0xff << (8 - bits));
	}
	out->len = (uint8_t)plen;
	return 0;
}

int cyph_parse_duration_ms(const char *s, long long *out, const char **why)
{
	static const struct { const char *unit; long long ms; } units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno || v < 0) {
		*why = "expected a duration such as 500ms, 30s, 5m, 1h";
		return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (v > LLONG_MAX / units[i].ms) {
			*why = "duration too large";
			return -1;
		}
		*out = v * units[i].ms;
		return 0;
	}
	*why = "unknown duration unit (ms, s, m, h, d)";
	return -1;
}
