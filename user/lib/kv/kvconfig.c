// SPDX-License-Identifier: MIT
/* The [store] redis/prefix/timeout keys (kvconfig.h). */
#include "kvconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define PREFIX_MAX 64

int cyph_kv_addr_split(const char *addr, char *host, size_t hostlen,
		       int *port, bool *is_unix)
{
	const char *colon, *h = addr;
	size_t len;
	char *end;
	long p;

	*is_unix = addr[0] == '/';
	if (*is_unix) {
		if (strlen(addr) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return -1;
		snprintf(host, hostlen, "%s", addr);
		*port = 0;
		return 0;
	}
	colon = strrchr(addr, ':');
	if (!colon)
		return -1;
	len = (size_t)(colon - addr);
	if (addr[0] == '[') {	/* [v6]:port */
		if (len < 3 || colon[-1] != ']')
			return -1;
		h = addr + 1;
		len -= 2;
	} else if (memchr(addr, ':', len)) {
		return -1;	/* bare IPv6 without brackets */
	}
	if (!len || len >= hostlen)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || p < 1 || p > 65535)
		return -1;
	memcpy(host, h, len);
	host[len] = '\0';
	*port = (int)p;
	return 0;
}

static int fail(const char *path, const char *key, char *err, size_t errlen,
		const char *what, const char *value)
{
	snprintf(err, errlen, "%s:%u: [store] %s: '%s': %s", path ? path : "(command line)",
		 cyph_cfg_key_line(path, "store", key), key, value, what);
	return -1;
}

int cyph_kv_config_check(const struct cyph_kv_config *c, const char *path,
			 char *err, size_t errlen)
{
	char host[CYPH_CFG_STR_MAX];
	size_t i, n = strlen(c->prefix);
	bool is_unix;
	int port;

	if (c->redis[0] && cyph_kv_addr_split(c->redis, host, sizeof(host), &port, &is_unix))
		return fail(path, "redis", err, errlen,
			    "expected host:port ([IPv6]:port) or an absolute socket path",
			    c->redis);
	if (!n || n > PREFIX_MAX)
		return fail(path, "prefix", err, errlen, "must be 1..64 characters", c->prefix);
	for (i = 0; i < n; i++) {
		char ch = c->prefix[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr(":_.-", ch)))
			return fail(path, "prefix", err, errlen,
				    "only letters, digits and : _ . - are allowed", c->prefix);
	}
	return 0;
}
